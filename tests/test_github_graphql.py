"""The live GitHub source's GraphQL reads against the fake GitHub (httpx.MockTransport): the
issues a pull request closes (closingIssuesReferences, how='graphql', replaced on a re-read),
Projects v2 status changes of issues, and what happens when GitHub answers with errors (a token
without read:project, an older GitHub Enterprise Server), rate limits and refusals."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import httpx
import pytest

from fakes.clock import NOW, FakeClock, NoSleep
from fakes.github import API, REPO, FakeGitHub
from leadlens.sources.github.client import Clock, GitHubAPI, make_client
from leadlens.sources.github.graphql import graphql_url
from leadlens.sources.github.source import sync_repo
from leadlens.store import Store

ISSUES = 26  # the recorded issues that are not pull requests
PULLS = 49


def _sync(store: Store, fake: FakeGitHub, clock: Clock | None = None) -> Any:
    api = GitHubAPI(make_client("t", API, httpx.MockTransport(fake)), clock=clock or NoSleep())
    return sync_repo(store, api, REPO, overlap=timedelta(0))


def _rows(store: Store, sql: str) -> list[tuple[Any, ...]]:
    return store.con.execute(sql).fetchall()


def _closing(store: Store) -> list[tuple[Any, ...]]:
    return _rows(store, "SELECT number, issue_repo, issue_number FROM closing_references"
                 " WHERE how = 'graphql' ORDER BY ALL")


def _status(ident: str, at: str, status: str, previous: str, bot: bool = False) -> dict[str, Any]:
    return {"__typename": "ProjectV2ItemStatusChangedEvent", "id": ident, "createdAt": at,
            "actor": {"__typename": "Bot" if bot else "User",
                      "login": "project-bot" if bot else "ann"},
            "previousStatus": previous, "status": status, "project": {"title": "Roadmap"}}


@pytest.mark.parametrize(("api", "url"), [
    ("https://api.github.com", "https://api.github.com/graphql"),
    ("https://api.github.com/", "https://api.github.com/graphql"),
    ("https://ghe.example.com/api/v3", "https://ghe.example.com/api/graphql"),
    ("https://ghe.example.com/api/v3/", "https://ghe.example.com/api/graphql"),
    ("http://127.0.0.1:8080", "http://127.0.0.1:8080/graphql"),
])
def test_the_graphql_endpoint_beside_the_rest_api(api: str, url: str) -> None:
    assert graphql_url(api) == url


def test_closing_references_are_stored_and_replaced_on_a_reread(store: Store) -> None:
    fake = FakeGitHub()
    # #41 closes an issue of its own repository and one elsewhere (a link made in the sidebar).
    fake.closing[41] = [(REPO, 24), ("other/place", 9)]
    fake.closing[210] = [(REPO, 42)]
    summary = _sync(store, fake)
    assert summary.complete and summary.warnings == [] and summary.skipped == []
    assert _closing(store) == [(41, "other/place", 9), (41, REPO, 24), (210, REPO, 42)]
    queries = [b["query"] for b in fake.graphql_log]
    closing = [q for q in queries if "closingIssuesReferences" in q]
    timelines = [q for q in queries if "timelineItems" in q]
    # One query per chunk of five the REST sweep stores together: 49 pull requests in 10 chunks;
    # 26 issues among the 42 the issues list gives (pull requests too) in chunks of 5: 9 with one.
    assert (len(closing), len(timelines)) == (10, 9)
    assert sum(q.count(": pullRequest(number:") for q in closing) == PULLS
    assert sum(q.count(": issue(number:") for q in timelines) == ISSUES
    assert summary.requests == len(fake.log)
    body_rows = _rows(store, "SELECT count(*) FROM closing_references WHERE how = 'body_keyword'")

    # #41 is edited: the sidebar link to other/place#9 is removed, one to #43 made.
    fake.pulls[41] = {**fake.pulls[41], "updated_at": "2030-01-01T00:00:00Z"}
    fake.closing[41] = [(REPO, 43)]
    fake.graphql_log.clear()
    _sync(store, fake)
    assert _closing(store) == [(41, REPO, 43), (210, REPO, 42)]
    asked = [b["query"] for b in fake.graphql_log if "closingIssuesReferences" in b["query"]]
    assert len(asked) == 1 and "p41: pullRequest(number: 41)" in asked[0]
    # The body keywords are rows of their own, untouched by GraphQL's.
    assert _rows(store, "SELECT count(*) FROM closing_references WHERE how = 'body_keyword'"
                 ) == body_rows


def test_projects_v2_status_changes_become_issue_events(store: Store) -> None:
    fake = FakeGitHub()
    fake.project_events[24] = [
        {"__typename": "AddedToProjectV2Event", "id": "ATPVTE_1",
         "createdAt": "2019-08-19T09:00:00Z", "actor": {"__typename": "User", "login": "ann"},
         "project": {"title": "Roadmap"}},
        _status("PVTISC_1", "2019-08-19T09:00:01Z", "Todo", ""),
        _status("PVTISC_2", "2019-08-20T10:00:00Z", "In Progress", "Todo", bot=True),
        {},  # a timeline item of a type not asked for: GraphQL gives an empty object
    ]
    # More than one page (the fake serves 10 at a time): the rest is asked for that issue alone.
    fake.project_events[12] = [_status(f"PVTISC_1{i:02}", f"2019-04-0{1 + i // 4}T0{i % 4}:00:00Z",
                                       f"S{i}", f"S{i - 1}" if i else "") for i in range(12)]
    summary = _sync(store, fake)
    assert summary.complete and summary.warnings == []
    rows = _rows(store, "SELECT id, event, actor, actor_is_bot, \"at\"::VARCHAR, detail,"
                 " json_extract_string(raw, '$.previousStatus'),"
                 " json_extract_string(raw, '$.project.title') FROM issue_events"
                 " WHERE number = 24 ORDER BY \"at\"")
    assert rows == [
        ("ATPVTE_1", "added_to_project_v2", "ann", False, "2019-08-19 09:00:00+00", "Roadmap",
         None, "Roadmap"),
        ("PVTISC_1", "project_v2_status_changed", "ann", False, "2019-08-19 09:00:01+00", "Todo",
         "", "Roadmap"),
        ("PVTISC_2", "project_v2_status_changed", "project-bot", True, "2019-08-20 10:00:00+00",
         "In Progress", "Todo", "Roadmap")]
    assert _rows(store, "SELECT count(*), count(DISTINCT detail) FROM issue_events"
                 " WHERE number = 12 AND event = 'project_v2_status_changed'") == [(12, 12)]
    after = [b["query"] for b in fake.graphql_log if 'after: "c10"' in b["query"]]
    assert len(after) == 1 and "i12: issue(number: 12)" in after[0]
    # A second run reads no timeline again: the issues are stored as they are.
    fake.graphql_log.clear()
    _sync(store, fake)
    assert [b for b in fake.graphql_log if "timelineItems" in b["query"]] == []


def _answer(status: int, body: dict[str, Any], headers: dict[str, str] | None = None
            ) -> httpx.Response:
    return httpx.Response(status, text=json.dumps(body), headers={
        "content-type": "application/json", **(headers or {})})


NO_SCOPE = {"errors": [{"type": "INSUFFICIENT_SCOPES", "locations": [{"line": 1, "column": 9}],
                        "message": "Your token has not been granted the required scopes to execute"
                        " this query. The 'title' field requires one of the following scopes:"
                        " ['read:project'], but your token has only been granted the: ['repo']"
                        " scopes. Please modify your token's scopes at:"
                        " https://github.com/settings/tokens."}]}
OLD_SCHEMA = {"errors": [{"message": "Argument 'itemTypes' on Field 'timelineItems' has an invalid"
                          " value ([PROJECT_V2_ITEM_STATUS_CHANGED_EVENT, ADDED_TO_PROJECT_V2_EVENT"
                          "]). Expected type '[IssueTimelineItemsItemType!]'.",
                          "extensions": {"code": "argumentLiteralsIncompatible"}}]}


@pytest.mark.parametrize("answer", [NO_SCOPE, OLD_SCHEMA])
def test_projects_v2_not_readable_is_a_warning_not_a_failure(store: Store,
                                                            answer: dict[str, Any]) -> None:
    fake = FakeGitHub()
    fake.closing[41] = [(REPO, 24)]
    fake.project_events[24] = [_status("PVTISC_1", "2019-08-19T09:00:01Z", "Todo", "")]
    fake.graphql_answer = lambda q: _answer(200, answer) if "timelineItems" in q else None
    summary = _sync(store, fake)
    assert summary.complete and not summary.failed
    assert len(summary.warnings) == 1
    assert "Projects v2 status history not read" in summary.warnings[0]
    assert "read:project" in summary.warnings[0]
    # Asked once, then not again in this run; everything else is stored.
    assert sum("timelineItems" in b["query"] for b in fake.graphql_log) == 1
    assert _rows(store, "SELECT count(*) FROM issue_events WHERE event LIKE '%project_v2%'"
                 ) == [(0,)]
    assert _rows(store, "SELECT count(*) FROM issues") == [(ISSUES,)]
    assert _closing(store) == [(41, REPO, 24)]


def test_a_partial_answer_keeps_what_came(store: Store) -> None:
    fake = FakeGitHub()
    fake.closing[41] = [(REPO, 24)]
    fake.closing[210] = [(REPO, 42)]

    def partial(query: str) -> httpx.Response | None:
        if "p41: pullRequest" not in query:
            return None
        fake.graphql_answer = None
        response = fake._graphql(httpx.Request("POST", API + "/graphql", json={
            "query": query, "variables": {"owner": "panjf2000", "name": "ants"}}))
        body = response.json()
        body["data"]["repository"]["p41"] = None
        body["errors"] = [{"type": "FORBIDDEN", "path": ["repository", "p41"],
                           "message": "Resource not accessible\x1b[2J by integration"}]
        fake.graphql_answer = partial
        return _answer(200, body)

    fake.graphql_answer = partial
    summary = _sync(store, fake)
    assert summary.complete
    # GitHub's message, its terminal escape made harmless
    assert summary.warnings == [f"{REPO}: some closing references not read through GraphQL:"
                                " Resource not accessible [2J by integration"]
    assert _closing(store) == [(210, REPO, 42)]


def test_graphql_rate_limits_wait_then_ask_again(store: Store) -> None:
    fake = FakeGitHub()
    fake.closing[41] = [(REPO, 24)]
    answers = [
        # GraphQL's primary limit: 200 with RATE_LIMITED, until x-ratelimit-reset.
        _answer(200, {"errors": [{"type": "RATE_LIMITED", "message": "API rate limit exceeded"}]},
                {"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(int(NOW) + 120),
                 "x-ratelimit-resource": "graphql"}),
        # A secondary limit: 403 with retry-after.
        _answer(403, {"message": "You have exceeded a secondary rate limit."},
                {"retry-after": "30"}),
    ]
    fake.graphql_answer = lambda q: answers.pop(0) if answers else None
    clock = FakeClock()
    summary = _sync(store, fake, clock)
    assert summary.complete and summary.warnings == []
    # 121 s: until the reset and one more; then 30 s as retry-after says.
    assert clock.slept[:2] == [121.0, 30.0]
    assert [w.reason for w in summary.waits[:2]] == ["GitHub's rate limit (graphql)",
                                                     "GitHub's secondary rate limit"]
    assert _closing(store) == [(41, REPO, 24)]


def test_graphql_refused_is_a_warning_and_rest_goes_on(store: Store) -> None:
    fake = FakeGitHub()
    fake.closing[41] = [(REPO, 24)]
    fake.graphql_answer = lambda q: _answer(403, {"message": "Resource not accessible by"
                                                  " integration"})
    summary = _sync(store, fake)
    assert summary.complete and not summary.failed
    assert len(summary.warnings) == 2  # closing references, Projects v2: each once
    assert "closing references not read through GraphQL" in summary.warnings[0]
    assert "(403 Resource not accessible by integration)" in summary.warnings[0]
    assert sum(1 for p in fake.log if p == "graphql") == 2
    assert _closing(store) == []
    assert _rows(store, "SELECT count(*) FROM pull_requests") == [(PULLS,)]

"""GitHub issues as work items: issue timelines in `issue_events`, the issues a pull request's body
closes in `closing_references`, sub-issues and blocked_by dependencies in `issue_relations` —
replayed from the recording of panjf2000/ants and read live from the fake GitHub."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from fakes.clock import NoSleep
from fakes.github import API, REPO, FakeGitHub
from leadlens.pipeline import replay_github
from leadlens.sources.github.client import GitHubAPI, make_client
from leadlens.sources.github.source import sync_repo
from leadlens.store import Store

RECORDED = Path(__file__).resolve().parents[2] / "shared" / "fixtures" / "recorded-api" / "github"
BASE = f"{API}/repos/{REPO}"


def _rows(store: Store, sql: str) -> list[tuple[Any, ...]]:
    return store.con.execute(sql).fetchall()


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def _user(login: str, kind: str = "User") -> dict[str, Any]:
    return {"login": login, "id": 1, "type": kind}


def _write(directory: Path, name: str, records: list[tuple[str, Any]]) -> Path:
    directory.mkdir(exist_ok=True)
    with (directory / f"{name}.jsonl").open("w", encoding="utf-8") as out:
        for url, data in records:
            out.write(json.dumps({"url": url, "input": None, "data": data}) + "\n")
    return directory


# ---------------------------------------------------------------- replay of the recording


def test_replay_stores_the_recorded_issue_events(store: Store) -> None:
    summary = replay_github(store, RECORDED)
    # How counted, from events.jsonl alone: 50 lines (wc -l), 10 of them embed an issue that is a
    # pull request (grep -c '"pull_request": {'), so 40 lines are events of plain issues; their
    # `"event":` values (grep -v '"pull_request": {' | grep -o '"event": "[a-z_-]*"' | uniq -c):
    # 10 assigned, 11 closed, 18 labeled, 1 renamed. One line repeats another (lines 1 and 2,
    # event 6774117135, `closed` #228): 39 distinct events, 10 of them `closed`.
    assert _rows(store, "SELECT event, count(*) FROM issue_events GROUP BY event ORDER BY event"
                 ) == [("assigned", 10), ("closed", 10), ("labeled", 18), ("renamed", 1)]
    assert summary.stored["issue_events"] == 39
    assert _rows(store, "SELECT count(*) FROM pr_events") == [(10,)]  # as before: PRs' events
    # Two `closed` events name the commit that closed the issue (grep '"commit_id": "').
    assert _rows(store, "SELECT id, number, actor, \"at\", commit_id FROM issue_events WHERE"
                 " commit_id IS NOT NULL ORDER BY id") == [
        ("6024185240", 202, "panjf2000", _at("2022-02-08T05:53:49"),
         "8d03fcf77f75c5c2a5b4cfc98e2ec9978af07593"),
        ("6567570821", 157, "panjf2000", _at("2022-05-07T14:45:12"),
         "9310acdff2ced5a835ac3ea94206c43b6708c3d3")]
    # The label in detail for labeled, the assignee for assigned, the new title for renamed.
    assert _rows(store, "SELECT event, number, actor, detail FROM issue_events WHERE id IN"
                 " ('6766051996', '6766052007', '6726348886') ORDER BY id") == [
        ("renamed", 228, "ZhMaio", "golang 1.17.x  chinese \uff1f"),
        ("labeled", 230, "iGen1us", "question"),
        ("assigned", 230, "panjf2000", "panjf2000")]  # actor panjf2000; assigner iGen1us
    assert _rows(store, "SELECT detail, count(*) FROM issue_events WHERE event = 'labeled'"
                 " GROUP BY detail ORDER BY detail") == [
        ("bug", 1), ("help wanted", 7), ("pending development", 1), ("proposal", 1),
        ("question", 7), ("waiting for response", 1)]
    assert _rows(store, "SELECT count(*) FROM issue_events WHERE source = 'github' AND raw IS NOT"
                 " NULL AND actor_is_bot = FALSE AND source_repo IS NULL") == [(39,)]


def test_replay_stores_the_closing_keywords_of_the_recorded_bodies(store: Store) -> None:
    replay_github(store, RECORDED)
    # How counted: grep -oiE '(close[sd]?|fix(e[sd])?|resolve[sd]?):? +(#[0-9]+|https://...)'
    # over pull_requests.jsonl finds `fix #3` twice (PR #4 is recorded twice), `Fix #22` (#23),
    # `Fixes #113` (#114), the URL of issue 188 (#189), `Fixes #191` (#192) and `close #205`
    # (#210), each after an HTML comment of the template, not inside one. All 48 pull requests
    # with a keyword-free or keyword body are into master, the default branch; #11 and #19, into
    # develop, have no keyword.
    assert _rows(store, "SELECT number, issue_repo, issue_number, how, keyword FROM"
                 " closing_references ORDER BY number") == [
        (4, REPO, 3, "body_keyword", "fix"), (23, REPO, 22, "body_keyword", "fix"),
        (114, REPO, 113, "body_keyword", "fixes"), (189, REPO, 188, "body_keyword", "fixes"),
        (192, REPO, 191, "body_keyword", "fixes"), (210, REPO, 205, "body_keyword", "close")]
    replay_github(store, RECORDED)
    assert _rows(store, "SELECT count(*) FROM closing_references") == [(6,)]


# ---------------------------------------------------------------- timelines, hand-made


def _timeline() -> list[dict[str, Any]]:
    """Entries of an issue's timeline shaped as GitHub documents them."""
    return [
        {"event": "cross-referenced", "actor": _user("alice"),
         "created_at": "2024-03-01T10:00:00Z", "updated_at": "2024-03-01T10:00:00Z",
         "source": {"type": "issue", "issue": {
             "number": 88, "repository_url": "https://api.github.com/repos/other/lib",
             "html_url": "https://github.com/other/lib/pull/88", "pull_request": {"url": "x"}}}},
        {"event": "cross-referenced", "actor": _user("bob"), "created_at": "2024-03-01T11:00:00Z",
         "source": {"type": "issue", "issue": {
             "number": 9, "html_url": "https://github.com/o/r/issues/9"}}},
        {"id": 11, "node_id": "CE_11", "event": "connected", "actor": _user("alice"),
         "created_at": "2024-03-02T09:00:00Z"},
        {"id": 12, "node_id": "DE_12", "event": "disconnected", "actor": _user("alice"),
         "created_at": "2024-03-02T09:30:00Z"},
        {"id": 13, "node_id": "UNLE_13", "event": "unlabeled", "actor": _user("bob"),
         "created_at": "2024-03-03T08:00:00Z", "label": {"name": "triage", "color": "fff"}},
        {"id": 14, "node_id": "UAE_14", "event": "unassigned", "actor": _user("bob"),
         "created_at": "2024-03-03T08:01:00Z", "assignee": _user("carol")},
        {"id": 15, "node_id": "REFE_15", "event": "referenced", "actor": _user("dependabot[bot]",
                                                                              "Bot"),
         "created_at": "2024-03-04T08:00:00Z", "commit_id": "abc123"},
        {"id": 16, "node_id": "CE_16", "event": "closed", "actor": _user("alice"),
         "created_at": "2024-03-05T08:00:00Z", "commit_id": "def456", "state_reason": "completed"},
        {"id": 17, "node_id": "RE_17", "event": "reopened", "actor": _user("alice"),
         "created_at": "2024-03-06T08:00:00Z"},
        {"id": 18, "node_id": "IC_18", "event": "commented", "actor": _user("bob"),
         "created_at": "2024-03-06T09:00:00Z", "body": "comments are in `comments`"},
        {"id": 19, "node_id": "MIE_19", "event": "milestoned", "actor": _user("bob"),
         "created_at": "2024-03-06T10:00:00Z", "milestone": {"title": "v2"}},
        {"event": "locked", "actor": _user("bob"), "created_at": "2024-03-06T11:00:00Z"},
    ]


def test_an_issue_timeline_maps_every_event_kind(store: Store, tmp_path: Path) -> None:
    base = "https://api.github.com/repos/o/r"
    directory = _write(tmp_path / "rec", "issues", [(f"{base}/issues?page=1", {
        "number": 7, "title": "a plain issue", "state": "open", "user": _user("alice"),
        "created_at": "2024-02-01T00:00:00Z", "updated_at": "2024-03-06T11:00:00Z"})])
    _write(directory, "timelines", [(f"{base}/issues/7/timeline?page=1", e) for e in _timeline()])
    summary = replay_github(store, directory)
    assert _rows(store, "SELECT number, id, event, actor, actor_is_bot, \"at\", commit_id, detail,"
                 " source_repo, source_number, source_is_pr FROM issue_events ORDER BY \"at\"") == [
        (7, "cross-referenced:other/lib#88@2024-03-01T10:00:00Z", "cross-referenced", "alice",
         False, _at("2024-03-01T10:00:00"), None, None, "other/lib", 88, True),
        (7, "cross-referenced:o/r#9@2024-03-01T11:00:00Z", "cross-referenced", "bob", False,
         _at("2024-03-01T11:00:00"), None, None, "o/r", 9, False),
        (7, "11", "connected", "alice", False, _at("2024-03-02T09:00:00"), None, None, None, None,
         None),
        (7, "12", "disconnected", "alice", False, _at("2024-03-02T09:30:00"), None, None, None,
         None, None),
        (7, "13", "unlabeled", "bob", False, _at("2024-03-03T08:00:00"), None, "triage", None,
         None, None),
        (7, "14", "unassigned", "bob", False, _at("2024-03-03T08:01:00"), None, "carol", None,
         None, None),
        (7, "15", "referenced", "dependabot[bot]", True, _at("2024-03-04T08:00:00"), "abc123",
         None, None, None, None),
        (7, "16", "closed", "alice", False, _at("2024-03-05T08:00:00"), "def456", None, None,
         None, None),
        (7, "17", "reopened", "alice", False, _at("2024-03-06T08:00:00"), None, None, None, None,
         None),
        (7, "19", "milestoned", "bob", False, _at("2024-03-06T10:00:00"), None, "v2", None, None,
         None)]
    # The comment is in `comments` already; an event with no id (other than a cross-reference)
    # is skipped with its reason, never stored under a made-up key.
    assert summary.not_stored["issue_events"] == 1
    assert [(s.resource, s.reason) for s in summary.skipped] == [
        ("issue_events", "missing field 'id'")]
    assert _rows(store, "SELECT count(*) FROM pr_events") == [(0,)]
    replay_github(store, directory)  # the made ids are stable: nothing doubles
    assert _rows(store, "SELECT count(*) FROM issue_events") == [(10,)]


def test_a_timeline_of_a_pull_request_stays_in_pr_events(store: Store, tmp_path: Path) -> None:
    base = "https://api.github.com/repos/o/r"
    event = {"id": 21, "node_id": "RFR_21", "event": "ready_for_review", "actor": _user("alice"),
             "created_at": "2024-03-01T10:00:00Z"}
    # #5: a pull request the store holds from an earlier replay; #6: one this recording lists
    # among the issues, after its timeline; #8: nobody says, so an issue.
    earlier = _write(tmp_path / "earlier", "pull_requests", [(f"{base}/pulls?page=1", {
        "number": 5, "state": "open", "created_at": "2024-02-01T00:00:00Z",
        "updated_at": "2024-02-01T00:00:00Z", "base": {"ref": "main"}, "head": {"ref": "x"}})])
    replay_github(store, earlier)
    later = _write(tmp_path / "later", "a_timelines", [
        (f"{base}/issues/{n}/timeline", {**event, "id": 20 + n}) for n in (5, 6, 8)])
    _write(later, "issues", [(f"{base}/issues?page=1", {
        "number": 6, "state": "open", "pull_request": {"url": "x"},
        "created_at": "2024-02-01T00:00:00Z", "updated_at": "2024-02-01T00:00:00Z"})])
    replay_github(store, later)
    assert _rows(store, "SELECT number FROM pr_events ORDER BY number") == [(5,), (6,)]
    assert _rows(store, "SELECT number FROM issue_events") == [(8,)]


# ---------------------------------------------------------------- closing references


def _pr(body: str | None, *, base: str = "main", default: str | None = "main",
        number: int = 5, title: str = "a change") -> dict[str, Any]:
    repo: dict[str, Any] = {"full_name": "o/r"}
    if default is not None:
        repo["default_branch"] = default
    return {"number": number, "state": "open", "title": title, "body": body,
            "created_at": "2024-02-01T00:00:00Z", "updated_at": "2024-02-01T00:00:00Z",
            "base": {"ref": base, "repo": repo}, "head": {"ref": "topic"}}


def _replay_prs(store: Store, tmp_path: Path, name: str, *prs: dict[str, Any]) -> None:
    url = "https://api.github.com/repos/o/r/pulls?page=1"
    replay_github(store, _write(tmp_path / name, "pull_requests", [(url, pr) for pr in prs]))


def _closing(store: Store) -> list[tuple[Any, ...]]:
    return _rows(store, "SELECT number, issue_repo, issue_number, how, keyword FROM"
                 " closing_references ORDER BY number, issue_repo, issue_number, how")


def test_an_edited_body_replaces_its_closing_references(store: Store, tmp_path: Path) -> None:
    _replay_prs(store, tmp_path, "v1", _pr("Fixes #1, fixes #2"))
    assert _closing(store) == [(5, "o/r", 1, "body_keyword", "fixes"),
                               (5, "o/r", 2, "body_keyword", "fixes")]
    # A reference GraphQL found (a later issue collects them) is not the body's to replace.
    store.con.execute("INSERT INTO closing_references VALUES ('o/r', 5, 'o/r', 1, 'graphql',"
                      " NULL, now())")
    _replay_prs(store, tmp_path, "v2", _pr("Closes #2 and resolves other/x#3"))
    assert _closing(store) == [(5, "o/r", 1, "graphql", None),
                               (5, "o/r", 2, "body_keyword", "closes"),
                               (5, "other/x", 3, "body_keyword", "resolves")]
    _replay_prs(store, tmp_path, "v3", _pr("No keyword left (`fixes #2` is code)."))
    assert _closing(store) == [(5, "o/r", 1, "graphql", None)]


def test_the_last_copy_of_a_pull_request_in_a_batch_wins(store: Store, tmp_path: Path) -> None:
    # A list row and then the detail of the same pull request, read in one batch.
    _replay_prs(store, tmp_path, "both", _pr("Fixes #1"), _pr("Fixes #4"), _pr("Fixes #9", number=6))
    assert _closing(store) == [(5, "o/r", 4, "body_keyword", "fixes"),
                               (6, "o/r", 9, "body_keyword", "fixes")]


def test_only_pull_requests_into_the_default_branch_close_issues(store: Store,
                                                                  tmp_path: Path) -> None:
    _replay_prs(store, tmp_path, "into", _pr("Fixes #1", base="main", default="main", number=1),
                _pr("Fixes #2", base="release", default="main", number=2),
                # The payload does not say which branch is the default: kept, for the derive
                # step to check the base against the mainline.
                _pr("Fixes #3", base="release", default=None, number=3))
    assert _closing(store) == [(1, "o/r", 1, "body_keyword", "fixes"),
                               (3, "o/r", 3, "body_keyword", "fixes")]
    # Retargeted to the default branch, #2 closes its issue; retargeted away, #1 no longer does.
    _replay_prs(store, tmp_path, "retargeted", _pr("Fixes #1", base="release", number=1),
                _pr("Fixes #2", base="main", number=2))
    assert _closing(store) == [(2, "o/r", 2, "body_keyword", "fixes"),
                               (3, "o/r", 3, "body_keyword", "fixes")]


# ---------------------------------------------------------------- live: the fake GitHub


def _sync(store: Store, fake: FakeGitHub) -> Any:
    api = GitHubAPI(make_client("t", API, httpx.MockTransport(fake)), clock=NoSleep())
    return sync_repo(store, api, REPO, overlap=timedelta(0))


PLAIN = 26  # issues of the recording that are not pull requests


def _issue(fake: FakeGitHub, number: int) -> dict[str, Any]:
    return next(i for i in fake.lists["issues"][0] if i["number"] == number)


def _relation(number: int, repo: str = REPO) -> dict[str, Any]:
    return {"number": number, "id": 1000 + number, "state": "open",
            "repository_url": f"https://api.github.com/repos/{repo}",
            "html_url": f"https://github.com/{repo}/issues/{number}"}


def test_live_reads_timelines_of_issues_not_of_pull_requests_twice(store: Store) -> None:
    fake = FakeGitHub()
    fake.children["issues/7/timeline"] = _timeline()[2:5]
    summary = _sync(store, fake)
    assert summary.complete and not summary.failed
    timelines = [p for p in fake.log if p.startswith("issues/") and "/timeline" in p]
    # One timeline per plain issue; the pull requests' timelines are read with them (49).
    assert len([p for p in timelines if int(p.split("/")[1]) in fake.pulls]) == 49
    assert len(timelines) - 49 == PLAIN
    assert _rows(store, "SELECT number, id, event, detail FROM issue_events ORDER BY id") == [
        (7, "11", "connected", None), (7, "12", "disconnected", None), (7, "13", "unlabeled", "triage")]
    # The closing keywords of the bodies, as replay finds them (each PR read twice: list, detail).
    assert _rows(store, "SELECT number, issue_number, keyword FROM closing_references"
                 " ORDER BY number") == [(4, 3, "fix"), (23, 22, "fix"), (114, 113, "fixes"),
                                         (189, 188, "fixes"), (192, 191, "fixes"), (210, 205, "close")]
    # Nothing changed: no issue is read again, its timeline neither.
    fake.log.clear()
    _sync(store, fake)
    assert [p for p in fake.log if "/timeline" in p or "/sub_issues" in p
            or "/dependencies" in p] == []


def test_sub_issues_and_dependencies_replace_what_was_stored(store: Store) -> None:
    fake = FakeGitHub()
    fake.children["issues/7/sub_issues"] = [_relation(10), _relation(12, "other/lib")]
    fake.children["issues/7/dependencies/blocked_by"] = [_relation(5)]
    _sync(store, fake)
    # No issue object of the recording carries a count, so each endpoint is asked for each issue.
    assert sum(p.endswith("/sub_issues?per_page=100") for p in fake.log) == PLAIN
    assert sum(p.endswith("/dependencies/blocked_by?per_page=100") for p in fake.log) == PLAIN
    assert _rows(store, "SELECT number, relation, other_repo, other_number FROM issue_relations"
                 " ORDER BY relation, other_repo, other_number") == [
        (7, "blocked_by", REPO, 5), (7, "sub_issue", "other/lib", 12), (7, "sub_issue", REPO, 10)]
    # #7 changes: one sub-issue removed, its counts now given by the issue itself.
    fake.children["issues/7/sub_issues"] = [_relation(10)]
    issue = _issue(fake, 7)
    issue.update(updated_at="2031-01-01T00:00:00Z", sub_issues_summary={"total": 1},
                 issue_dependencies_summary={"blocked_by": 0, "total_blocked_by": 0})
    fake.log.clear()
    _sync(store, fake)
    # Only #7 is read again; its count of blockers (0) spares the request and clears them.
    assert [p for p in fake.log if p.startswith("issues/7/")] == [
        "issues/7/timeline?per_page=100", "issues/7/sub_issues?per_page=100"]
    assert _rows(store, "SELECT number, relation, other_number FROM issue_relations") == [
        (7, "sub_issue", 10)]


def test_an_endpoint_github_does_not_serve_is_probed_once_per_run(store: Store) -> None:
    fake = FakeGitHub()
    fake.not_served = lambda path: path.endswith(("/sub_issues", "/dependencies/blocked_by"))
    summary = _sync(store, fake)
    assert summary.complete and not summary.failed and summary.skipped == []
    assert sum("/sub_issues" in p for p in fake.log) == 1
    assert sum("/dependencies/blocked_by" in p for p in fake.log) == 1
    assert _rows(store, "SELECT count(*) FROM issue_relations") == [(0,)]
    # The run that follows probes again (GitHub may have turned the feature on), once.
    for number in (5, 6):
        _issue(fake, number)["updated_at"] = "2031-01-01T00:00:00Z"
    fake.log.clear()
    _sync(store, fake)
    assert sum("/sub_issues" in p for p in fake.log) == 1
    assert sum("/timeline" in p for p in fake.log) == 2


def test_a_run_stopped_among_the_issues_resumes_without_reading_them_again(store: Store) -> None:
    fake = FakeGitHub()
    _sync(store, fake)
    store.con.execute("DELETE FROM issues; DELETE FROM issue_events; DELETE FROM sync_state"
                      " WHERE resource = 'issues'")
    # The machine loses power as it asks for the seventh plain issue's timeline: inside the
    # second chunk of five issues (the list holds pull requests too).
    plain = sorted((i for i in fake.lists["issues"][0] if "pull_request" not in i),
                   key=lambda i: i["updated_at"])
    seventh = f"issues/{plain[6]['number']}/timeline"
    fake.fail_on = lambda path: path.startswith(seventh)
    with pytest.raises(RuntimeError):
        _sync(store, fake)
    kept = {n for (n,) in _rows(store, "SELECT number FROM issues")}
    assert 0 < len(kept) < 7
    fake.fail_on = None
    fake.log.clear()
    assert _sync(store, fake).complete
    again = {int(p.split("/")[1]) for p in fake.log if p.endswith("/timeline?per_page=100")}
    assert again and not again & kept  # the issues stored are not read again
    assert len(again) == PLAIN - len(kept)
    assert _rows(store, "SELECT count(*) FROM issues") == [(PLAIN,)]

"""Pull requests through GraphQL give the REST path's rows, for the same objects.

The fake serves each recorded pull request of panjf2000/ants (49, with their recorded reviews and
commits, and #41's hand-made approval, timeline events and check run) both ways: by REST, and as
the GraphQL nodes GitHub gives for them (fakes/github_gql.py). Every table the pull requests
fill is compared row for row, without the provenance columns (``url``: the GraphQL endpoint;
``fetched_at``; ``raw``: the REST object as fetched vs the REST-shaped GraphQL node). One
documented difference: a pull request without a description, whose body REST may give as null,
has body "" through GraphQL (a ``String!``)."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import httpx
import pytest

from fakes.clock import NoSleep
from fakes.github import API, HEAD_41, REPO, FakeGitHub
from leadlens.sources.base import RunSummary
from leadlens.sources.github.client import GitHubAPI, make_client
from leadlens.sources.github.gql_query import Sizes
from leadlens.sources.github.source import sync_repo
from leadlens.store import Store, open_store

PULLS = 49
PROVENANCE = ("url", "fetched_at", "raw")
# The tables a pull request's objects fill; builds only from check runs (the rest is REST's).
TABLES = {
    "pull_requests": "", "reviews": "", "pr_commits": "", "pr_events": "",
    "builds": " WHERE kind = 'check_run'", "closing_references": "",
}
# Follow-ups on every connection: pages of one or two.
TINY = {"max_page": 7, "sizes": Sizes(labels=1, requests=1, reviews=1, commits=2, timeline=1,
                                       closing=1, checks=1)}


def run(store: Store, fake: FakeGitHub, mode: str, *, max_requests: int | None = None,
        **kw: Any) -> RunSummary:
    api = GitHubAPI(make_client("t", API, httpx.MockTransport(fake)), clock=NoSleep(),
                    max_requests=max_requests)
    return sync_repo(store, api, REPO, overlap=timedelta(0), api_mode=mode, **kw)


def rows(store: Store, *, empty_body: bool = False) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of the pull requests' tables, without provenance; ``empty_body``: REST's null
    body of a pull request as GraphQL has it, ""."""
    out = {}
    for table, where in TABLES.items():
        cols = [r[0] for r in store.con.execute(f"DESCRIBE {table}").fetchall()
                if r[0] not in PROVENANCE]
        if empty_body and table == "pull_requests":
            cols = [c if c != "body" else "coalesce(body, '')" for c in cols]
        out[table] = store.con.execute(
            f"SELECT {', '.join(c if '(' in c else f'{chr(34)}{c}{chr(34)}' for c in cols)}"
            f" FROM {table}{where}"
            " ORDER BY ALL").fetchall()
    return out


def fake_with_more() -> FakeGitHub:
    fake = FakeGitHub()
    fake.closing[41] = [(REPO, 40), (REPO, 39), ("other/repo", 7)]
    fake.children[f"commits/{HEAD_41}/check-runs"].append({
        "id": 5, "head_sha": HEAD_41, "status": "in_progress", "conclusion": None,
        "name": "lint", "started_at": "2019-08-19T08:03:00Z", "completed_at": None,
        "check_suite": {"id": 6, "head_branch": "nb"}})
    fake.children["issues/41/timeline"] += [
        {"id": 2003, "node_id": "LE_1", "event": "labeled", "actor": {"login": "a", "type": "User"},
         "label": {"name": "bug"}, "created_at": "2019-08-19T09:00:00Z", "commit_id": None},
        {"id": 2004, "node_id": "RTE_1", "event": "renamed", "actor": {"login": "a", "type": "Bot"},
         "rename": {"from": "x", "to": "y"}, "created_at": "2019-08-19T09:01:00Z"},
        {"id": 2005, "node_id": "ME_1", "event": "merged", "actor": None,
         "commit_id": "abc123", "created_at": "2019-08-19T09:02:00Z"}]
    return fake


@pytest.mark.parametrize("sweep", [{}, TINY], ids=["pages", "follow-ups"])
def test_graphql_gives_the_rest_rows(tmp_path: Any, sweep: dict[str, Any]) -> None:
    fake = fake_with_more()
    with open_store(tmp_path / "rest.duckdb") as rest, open_store(tmp_path / "gql.duckdb") as gql:
        by_rest = run(rest, fake, "rest")
        fake.gql.queries.clear()
        fake.log.clear()
        by_gql = run(gql, fake, "graphql", sweep=sweep)
        rest_reads = [p for p in fake.log if re.match(r"pulls(\?|/\d)|commits/|issues/41/", p)]
        assert rest_reads == []  # no pull request, review, commit, timeline or check run by REST
        expected, got = rows(rest, empty_body=True), rows(gql)
        for table in TABLES:
            assert got[table] == expected[table], table
    assert len(expected["pull_requests"]) == PULLS
    assert len(expected["builds"]) == 2 and len(expected["closing_references"]) >= 3
    assert {r[3] for r in expected["pr_events"]} >= {"labeled", "renamed", "merged",
                                                       "review_requested", "ready_for_review"}
    assert by_gql.stored["pull_requests"] == by_rest.stored["pull_requests"] == PULLS
    ops = [op for op, _ in fake.gql.queries]
    if sweep:
        assert {op for op in ops if op != "pulls"} >= {
            "more_reviews", "more_commits", "more_timelineItems", "more_closingIssuesReferences",
            "more_contexts", "more_labels"}
    else:
        assert ops == ["pulls"] * 3  # 49 pull requests: pages of 18; nothing overflows

"""GitHub pull request collection, REST vs GraphQL: requests and rate-limit points per 1,000 pull
requests, and how long one token's budget takes over a 30,000-PR repository.

Both paths read N synthetic pull requests through ``httpx.MockTransport`` from the test fake
(tests/fakes/github.py serves REST; tests/fakes/github_gql.py serves the same objects as GraphQL
nodes and answers each query's ``rateLimit.cost`` by GitHub's published formula). Each pull
request has realistic nested sizes: 3 reviews, 4 commits, 10 timeline items (8 of the stored
kinds, 2 that other tables hold), 1 check suite with 5 check runs; every 50th has 30 reviews, 60
commits and 80 timeline items, and every 100th 2 suites of 30 runs (past the page's ``first``:
follow-up queries).

REST: 1 point a request, 5,000 an hour (the pull requests list, then per pull request its detail,
reviews, commits, timeline and check runs; the REST path's own GraphQL closing-reference queries
are counted apart, on GraphQL's budget). GraphQL: the points GitHub's formula gives, 5,000 an
hour. Only the pull request sweep runs (issues, comments, workflow runs etc. stay REST either way).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from ingest import bench_main, machine

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

import fakes.github as fake_github
from fakes.clock import NoSleep
from fakes.github_gql import GqlPulls, new_node_id

HOURLY = 5000
REPO = fake_github.REPO
BIG_PR = 50  # every 50th pull request overflows its reviews, commits and timeline
MANY_RUNS = 100  # every 100th has 2 suites of 30 runs
_EVENTS = ("labeled", "review_requested", "ready_for_review", "assigned", "head_ref_force_pushed",
           "renamed", "subscribed", "mentioned", "committed", "reviewed")


def _user(login: str, kind: str = "User") -> dict[str, Any]:
    return {"login": login, "type": kind}


def synthetic(n: int) -> tuple[dict[int, dict[str, Any]], dict[str, list[dict[str, Any]]]]:
    """N pull requests (REST objects) and their children by REST path."""
    start = datetime(2024, 6, 1, tzinfo=UTC)
    pulls: dict[int, dict[str, Any]] = {}
    children: dict[str, list[dict[str, Any]]] = {}
    for i in range(1, n + 1):
        at = (start - timedelta(minutes=i)).strftime("%Y-%m-%dT%H:%M:%SZ")
        sha = f"{i:040x}"
        merged = i % 5 != 0
        pulls[i] = {
            "number": i, "node_id": new_node_id("PR", 0, 1, i), "title": f"change {i}",
            "body": f"Fixes #{i + n}\n\nsome text", "user": _user(f"dev{i % 40}"),
            "state": "closed" if merged else "open", "draft": False, "created_at": at,
            "updated_at": at, "closed_at": at if merged else None,
            "merged_at": at if merged else None, "merge_commit_sha": f"{i + 10**6:040x}",
            "base": {"ref": "main", "repo": {"full_name": REPO, "default_branch": "main"}},
            "head": {"ref": f"topic-{i}", "sha": sha},
            "labels": [{"name": "area/core"}, {"name": "kind/bug"}]}
        big = i % BIG_PR == 0
        reviews, commits, events = (30, 60, 80) if big else (3, 4, 10)
        children[f"pulls/{i}/reviews"] = [{
            "id": i * 1000 + r, "node_id": new_node_id("PRR", 0, 1, i * 1000 + r),
            "user": _user(f"rev{r % 7}"), "state": "APPROVED" if r == 0 else "COMMENTED",
            "submitted_at": at, "commit_id": sha, "body": "ok"} for r in range(reviews)]
        children[f"pulls/{i}/commits"] = [{
            "sha": f"{i * 1000 + c:040x}", "author": {"login": f"dev{i % 40}"},
            "commit": {"author": {"name": f"Dev {i % 40}", "date": at},
                       "committer": {"date": at}, "message": f"commit {c}\n\nSigned-off-by: x"}}
            for c in range(commits)]
        children[f"issues/{i}/timeline"] = [_event(i, e, at) for e in range(events)]
        suites = 2 if i % MANY_RUNS == 0 else 1
        runs = 30 if suites == 2 else 5
        children[f"commits/{sha}/check-runs"] = [{
            "id": i * 1000 + s * 100 + r, "name": f"job {r}", "head_sha": sha,
            "status": "completed", "conclusion": "success", "started_at": at, "completed_at": at,
            "check_suite": {"id": i * 10 + s, "head_branch": f"topic-{i}"}}
            for s in range(suites) for r in range(runs)]
    return pulls, children


def _event(i: int, e: int, at: str) -> dict[str, Any]:
    kind = _EVENTS[e % len(_EVENTS)]
    obj: dict[str, Any] = {"id": i * 1000 + e, "node_id": f"E_{i}_{e}", "event": kind,
                           "actor": _user(f"dev{i % 40}"), "created_at": at, "commit_id": None}
    if kind == "labeled":
        obj["label"] = {"name": "kind/bug"}
    elif kind == "review_requested":
        obj["requested_reviewer"] = _user("rev1")
    elif kind == "assigned":
        obj["assignee"] = _user("dev1")
    elif kind == "renamed":
        obj["rename"] = {"from": "a", "to": "b"}
    return obj


def _fake(n: int) -> fake_github.FakeGitHub:
    fake = fake_github.FakeGitHub()
    fake.pulls, fake.children = synthetic(n)
    fake.lists = {}
    nodes = fake.gql_nodes()
    fake.gql = GqlPulls(lambda: nodes)
    return fake


def _collect(fake: fake_github.FakeGitHub, mode: str, tmp: Path) -> dict[str, Any]:
    import httpx

    from leadlens.sources.github.client import GitHubAPI, make_client
    from leadlens.sources.github.source import RESOURCES, sync_repo
    from leadlens.store import open_store

    api = GitHubAPI(make_client("t", fake_github.API, httpx.MockTransport(fake)), clock=NoSleep())
    with open_store(tmp / f"{mode}.duckdb") as store:
        start = time.perf_counter()
        summary = sync_repo(store, api, REPO, api_mode=mode, resources=RESOURCES[:1])
        wall = time.perf_counter() - start
        pulls = store.con.execute("SELECT count(*) FROM pull_requests").fetchone()
    graphql = len([b for b in fake.graphql_log])
    return {"pull_requests": pulls[0] if pulls else 0, "requests": summary.requests,
            "graphql_queries": graphql, "graphql_points": summary.points or 0,
            "wall_s": round(wall, 2)}


def measure(args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    fake_github.PAGE = 100  # GitHub's largest REST page (the fake serves 10 by default)
    n = args.pulls
    load = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    rest = _collect(_fake(n), "rest", tmp)
    gql = _collect(_fake(n), "graphql", tmp)
    per = 1000 / n
    rest_points = rest["requests"] * per  # REST: a point a request
    gql_points = gql["graphql_points"] * per
    return {
        "machine": machine(), "load": load, "pulls": n,
        "rest": {**rest, "requests_per_1000": round(rest["requests"] * per),
                 "points_per_1000": round(rest_points),
                 "closing_graphql_points_per_1000": round(rest["graphql_points"] * per),
                 "hours_for_30000": round(30 * rest_points / HOURLY, 1)},
        "graphql": {**gql, "requests_per_1000": round(gql["requests"] * per),
                    "points_per_1000": round(gql_points),
                    "rest_requests_per_1000": round((gql["requests"] - gql["graphql_queries"])
                                                    * per),
                    "hours_for_30000": round(30 * gql_points / HOURLY, 2)},
        "ratio": round(rest_points / gql_points, 1) if gql_points else None,
    }


def show(res: dict[str, Any]) -> None:
    print(f"{res['pulls']:,} synthetic pull requests; {res['load']}")
    print(f"{'path':<8} {'requests/1k':>12} {'points/1k':>10} {'30k PRs (h of budget)':>22}"
          f" {'wall s':>7}")
    for path in ("rest", "graphql"):
        r = res[path]
        print(f"{path:<8} {r['requests_per_1000']:>12,} {r['points_per_1000']:>10,}"
              f" {r['hours_for_30000']:>22} {r['wall_s']:>7}")
    print(f"REST spends {res['ratio']}x the points per pull request that GraphQL does"
          f" (REST also spent {res['rest']['closing_graphql_points_per_1000']} GraphQL points"
          " per 1,000 on closing references)")


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pulls", type=int, default=1000, help="synthetic pull requests (1000)")
    bench_main(ap, measure, show)

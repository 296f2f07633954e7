"""A fake GitHub for httpx.MockTransport: the real recorded objects of panjf2000/ants served with
Link-header pages and ETags, plus hand-made deployments, releases, an approval and timeline events
shaped as GitHub documents them."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx

from fakes.github_gql import GqlPulls, gql_pull

__all__ = ["API", "HEAD_41", "PAGE", "RECORDED", "REPO", "FakeGitHub"]

RECORDED = Path(__file__).resolve().parents[3] / "shared" / "fixtures" / "recorded-api" / "github"
REPO = "panjf2000/ants"
API = "https://api.github.com"
PAGE = 10  # the fake's page size, whatever per_page asks: more pages to walk
HEAD_41 = "head-sha-of-41"


def _recorded(name: str) -> list[dict[str, Any]]:
    lines = (RECORDED / f"{name}.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines]


def _user(login: str, kind: str = "User") -> dict[str, Any]:
    return {"login": login, "id": abs(hash(login)) % 10**6, "type": kind}


class FakeGitHub:
    """Serves GET requests the way GitHub does: lists in pages with Link headers, ETags, 304."""

    def __init__(self) -> None:
        pulls: dict[int, dict[str, Any]] = {}
        for rec in _recorded("pull_requests"):
            pulls[rec["data"]["number"]] = rec["data"]  # the recording repeats #4
        self.pulls = pulls
        self.pulls[41]["head"]["sha"] = HEAD_41
        self.children: dict[str, list[dict[str, Any]]] = {}
        for name, kind in (("pull_request_reviews", "reviews"), ("pull_request_commits", "commits")):
            for rec in _recorded(name):
                key = f"pulls/{rec['input']['Number']}/{kind}"
                items = self.children.setdefault(key, [])
                if rec["data"] not in items:
                    items.append(rec["data"])
        self.children["pulls/41/reviews"].append({
            "id": 80, "node_id": "PRR_1", "user": _user("panjf2000"), "body": "LGTM",
            "state": "APPROVED", "submitted_at": "2019-08-20T10:50:00Z", "commit_id": HEAD_41,
            "pull_request_url": f"{API}/repos/{REPO}/pulls/41", "author_association": "OWNER"})
        self.children["issues/41/timeline"] = [
            {"id": 2001, "node_id": "RFR_1", "url": f"{API}/repos/{REPO}/issues/events/2001",
             "actor": _user("choleraehyq"), "event": "ready_for_review", "commit_id": None,
             "created_at": "2019-08-19T08:00:00Z"},
            {"id": 2002, "node_id": "RRE_1", "url": f"{API}/repos/{REPO}/issues/events/2002",
             "actor": _user("choleraehyq"), "event": "review_requested",
             "review_requester": _user("choleraehyq"), "requested_reviewer": _user("panjf2000"),
             "created_at": "2019-08-19T08:01:00Z"},
            {"sha": "5bbc9e1", "node_id": "C_1", "event": "committed", "message": "x"},
        ]
        self.children[f"commits/{HEAD_41}/check-runs"] = [{
            "id": 4, "head_sha": HEAD_41, "node_id": "CR_1", "status": "completed",
            "conclusion": "success", "name": "test (1.13)", "started_at": "2019-08-19T08:02:00Z",
            "completed_at": "2019-08-19T08:05:00Z", "check_suite": {"id": 5, "head_branch": "nb"},
            "url": f"{API}/repos/{REPO}/check-runs/4"}]
        self.children["deployments/7/statuses"] = [
            {"id": 71, "state": "in_progress", "environment": "production",
             "created_at": "2019-10-10T09:00:00Z", "creator": _user("github-actions[bot]", "Bot"),
             "deployment_url": f"{API}/repos/{REPO}/deployments/7",
             "url": f"{API}/repos/{REPO}/deployments/7/statuses/71"},
            {"id": 72, "state": "success", "environment": "production",
             "created_at": "2019-10-10T09:04:00Z", "creator": _user("github-actions[bot]", "Bot"),
             "deployment_url": f"{API}/repos/{REPO}/deployments/7",
             "url": f"{API}/repos/{REPO}/deployments/7/statuses/72"}]
        self.lists: dict[str, tuple[list[dict[str, Any]], str]] = {
            "pulls/comments": ([r["data"] for r in _recorded("pull_request_review_comments")],
                               "updated_at"),
            "issues/comments": ([r["data"] for r in _recorded("comments")], "updated_at"),
            "issues": ([r["data"] for r in _recorded("issues")], "updated_at"),
            "actions/runs": ([r["data"] for r in _recorded("runs")], "created_at"),
            "deployments": ([{
                "id": 7, "sha": "06e6934c35c336b1a2bd3005fb21dc3914a45747", "ref": "master",
                "task": "deploy", "environment": "production", "creator": _user("panjf2000"),
                "created_at": "2019-10-10T08:59:00Z", "updated_at": "2019-10-10T09:04:00Z",
                "url": f"{API}/repos/{REPO}/deployments/7", "production_environment": True}],
                "created_at"),
            "releases": ([{
                "id": 9001, "tag_name": "v2.0.0", "target_commitish": "master", "name": "v2.0.0",
                "draft": False, "prerelease": False, "created_at": "2019-10-10T08:00:00Z",
                "published_at": "2019-10-10T08:30:00Z", "author": _user("panjf2000"),
                "url": f"{API}/repos/{REPO}/releases/9001"}], "created_at"),
        }
        self.log: list[str] = []
        self.fail_on: Callable[[str], bool] | None = None
        # Paths (after /repos/OWNER/REPO/) this GitHub does not serve: 404, as GitHub Enterprise
        # Server answers an endpoint it lacks (sub-issues, dependencies).
        self.not_served: Callable[[str], bool] | None = None

        # GraphQL (POST /graphql): per pull request, the issues it closes (OWNER/REPO, number);
        # per issue, its Projects v2 timeline events as GraphQL nodes (served PAGE at a time).
        self.closing: dict[int, list[tuple[str, int]]] = {}
        self.project_events: dict[int, list[dict[str, Any]]] = {}
        # A query's whole answer instead of the data (errors, say), or None for the data.
        self.graphql_answer: Callable[[str], httpx.Response | None] | None = None
        self.graphql_log: list[dict[str, Any]] = []  # the bodies posted (`log` says graphql)
        # The pull request queries (github_gql.py), from the same objects REST serves.
        self.gql = GqlPulls(self.gql_nodes)

    def detail(self, number: int) -> dict[str, Any]:
        """What /pulls/N serves: the list's object with the detail's sizes."""
        detail = dict(self.pulls[number])
        detail.update(additions=10 * number, deletions=3, changed_files=2, commits=1)
        return detail

    def gql_nodes(self) -> list[dict[str, Any]]:
        """The pull requests as GraphQL nodes, each from the REST objects this fake serves."""
        nodes = []
        for n in self.pulls:
            pr = self.detail(n)
            child = self.children.get
            nodes.append(gql_pull(pr, child(f"pulls/{n}/reviews", []),
                                  child(f"pulls/{n}/commits", []),
                                  child(f"issues/{n}/timeline", []),
                                  child(f"commits/{pr['head']['sha']}/check-runs", []),
                                  self.closing.get(n, [])))
        return nodes

    def _graphql(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        self.graphql_log.append(body)
        self.log.append("graphql")
        query = body["query"]
        if self.graphql_answer and (answer := self.graphql_answer(query)) is not None:
            return answer
        if (answer := self.gql(body)) is not None:
            return answer
        assert body["variables"] == {"owner": REPO.split("/")[0], "name": REPO.split("/")[1]}
        repository: dict[str, Any] = {}
        for n in re.findall(r"\bp(\d+): pullRequest\(number: (?:\d+)\)", query):
            refs = self.closing.get(int(n), [])
            repository[f"p{n}"] = {"closingIssuesReferences": {"totalCount": len(refs), "nodes": [
                {"number": num, "repository": {"nameWithOwner": repo}} for repo, num in refs]}}
        for n, after in re.findall(r"\bi(\d+): issue\(number: \d+\) \{ timelineItems\(first: \d+,"
                                   r" after: (null|\"c\d+\")", query):
            events = self.project_events.get(int(n), [])
            start = 0 if after == "null" else int(after.strip('"')[1:])
            chunk = events[start:start + PAGE]
            more = start + PAGE < len(events)
            repository[f"i{n}"] = {"timelineItems": {
                "pageInfo": {"hasNextPage": more, "endCursor": f"c{start + PAGE}" if more else None},
                "nodes": chunk}}
        data = {"rateLimit": {"cost": 1, "remaining": 4999, "resetAt": "2030-01-01T00:00:00Z"},
                "repository": repository}
        return httpx.Response(200, json={"data": data}, headers={"x-ratelimit-remaining": "4999",
                                                                  "x-ratelimit-resource": "graphql"})

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.method == "POST" and request.url.path == "/graphql":
            return self._graphql(request)
        path = request.url.path.removeprefix(f"/repos/{REPO}").strip("/")
        query = dict(request.url.params)
        self.log.append(f"{path}?{urlencode(sorted(query.items()))}" if query else path)
        if self.fail_on and self.fail_on(self.log[-1]):
            raise RuntimeError("the machine lost power")
        if request.url.path == f"/repos/{REPO}":
            return self._json(request, {"full_name": REPO})
        if request.url.path.startswith("/repos/") and not request.url.path.startswith(f"/repos/{REPO}"):
            return httpx.Response(404, json={"message": "Not Found"})
        if self.not_served and self.not_served(path):
            return httpx.Response(404, json={"message": "Not Found"})
        parts = path.split("/")
        if parts[0] == "pulls" and len(parts) == 2 and parts[1].isdigit():
            return self._json(request, self.detail(int(parts[1])))
        if path in self.children:
            items = self.children[path]
            return self._json(request, {"total_count": len(items), "check_runs": items}
                              if path.endswith("check-runs") else items)
        if path not in self.lists and path.startswith(("pulls/", "issues/", "commits/", "deployments/")):
            return self._json(request, {"total_count": 0, "check_runs": []}
                              if path.endswith("check-runs") else [])
        if path == "pulls":
            items = sorted(self.pulls.values(), key=lambda p: p["updated_at"], reverse=True)
        else:
            items, key = self.lists[path]
            since = query.get("since")
            items = [i for i in items if since is None or i[key] >= since]
            items = sorted(items, key=lambda i: i[key], reverse="since" not in query and key == "created_at")
        return self._page(request, path, query, items)

    def _page(self, request: httpx.Request, path: str, query: dict[str, str],
              items: list[dict[str, Any]]) -> httpx.Response:
        page = int(query.get("page", "1"))
        chunk = items[(page - 1) * PAGE: page * PAGE]
        headers = {}
        if page * PAGE < len(items):
            nxt = urlencode({**query, "page": str(page + 1)})
            headers["link"] = f'<{API}/repos/{REPO}/{path}?{nxt}>; rel="next"'
        body = {"total_count": len(items), "workflow_runs": chunk} if path == "actions/runs" else chunk
        return self._json(request, body, headers)

    def _json(self, request: httpx.Request, body: Any, headers: dict[str, str] | None = None
              ) -> httpx.Response:
        text = json.dumps(body, sort_keys=True)
        etag = '"' + hashlib.sha256(text.encode()).hexdigest()[:20] + '"'
        if request.headers.get("if-none-match") == etag:
            return httpx.Response(304, headers={"etag": etag})
        return httpx.Response(200, text=text, headers={
            "content-type": "application/json", "etag": etag, "x-ratelimit-remaining": "4000",
            **(headers or {})})

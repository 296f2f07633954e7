"""The pull request queries of GitHub's GraphQL API (``query pulls``, ``query more_*``), served
from the same REST objects the REST fake serves: each REST object turned into the GraphQL node
GitHub gives for it (``gql_pull``), so that a GraphQL run and a REST run read the same objects.

Connections are served ``first`` at a time with offset cursors (``o<N>``); every answer carries
``rateLimit { cost remaining resetAt }`` with the cost GitHub's published formula gives for the
query's variables (each connection: as many requests as its parents; the sum / 100, rounded, at
least 1), ``remaining`` going down from 5,000 by it.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable, Mapping
from typing import Any

import httpx

__all__ = ["GqlPulls", "event_type", "gql_pull", "new_node_id"]

RESET_AT = "2030-01-01T00:00:00Z"
_TIMELINE_ELSEWHERE = {"committed", "reviewed", "commented", "line-commented", "commit-commented",
                       "cross-referenced"}


def _uint(value: int) -> bytes:
    if value <= 0x7f:
        return bytes([value])
    for tag, width in ((0xcc, 1), (0xcd, 2), (0xce, 4), (0xcf, 8)):
        if value < 2 ** (8 * width):
            return bytes([tag]) + value.to_bytes(width, "big")
    raise ValueError(value)


def new_node_id(prefix: str, *ids: int) -> str:
    """A node id as GitHub writes them now: ``PREFIX_`` and base64url of a MessagePack array."""
    raw = bytes([0x90 + len(ids)]) + b"".join(_uint(i) for i in ids)
    return f"{prefix}_" + base64.urlsafe_b64encode(raw).decode().rstrip("=")


def event_type(event: str) -> str:
    """GraphQL's type of a REST timeline event: ``review_requested`` -> ``ReviewRequestedEvent``."""
    if event == "renamed":
        return "RenamedTitleEvent"
    return "".join(part.capitalize() for part in event.split("_")) + "Event"


def _who(user: object) -> dict[str, Any] | None:
    if not isinstance(user, Mapping) or not isinstance(user.get("login"), str):
        return None
    return {"__typename": user.get("type") or "User", "login": user["login"]}


def _event(obj: Mapping[str, Any]) -> dict[str, Any] | None:
    event = obj.get("event")
    if not isinstance(event, str) or event in _TIMELINE_ELSEWHERE:
        return None
    kind = event_type(event)
    ident = obj.get("id")
    node: dict[str, Any] = {
        "__typename": kind, "createdAt": obj.get("created_at"), "actor": _who(obj.get("actor")),
        "id": new_node_id("E", 0, ident) if isinstance(ident, int) else obj.get("node_id")}
    if isinstance(obj.get("requested_reviewer"), Mapping):
        node["requestedReviewer"] = _who(obj["requested_reviewer"])
    elif isinstance(obj.get("requested_team"), Mapping):
        node["requestedReviewer"] = {"__typename": "Team", "name": obj["requested_team"]["name"]}
    if isinstance(obj.get("label"), Mapping):
        node["label"] = {"name": obj["label"].get("name")}
    if isinstance(obj.get("assignee"), Mapping):
        node["assignee"] = _who(obj["assignee"])
    if isinstance(obj.get("rename"), Mapping):
        node["currentTitle"] = obj["rename"].get("to")
        node["previousTitle"] = obj["rename"].get("from")
    if obj.get("commit_id"):
        if kind in ("MergedEvent", "ReferencedEvent"):
            node["commit"] = {"oid": obj["commit_id"]}
        elif kind == "ClosedEvent":
            node["closer"] = {"__typename": "Commit", "oid": obj["commit_id"]}
    return node


def _review(obj: Mapping[str, Any]) -> dict[str, Any]:
    ident = obj.get("id")  # a BigInt: GitHub sends it as a string
    return {"fullDatabaseId": str(ident) if isinstance(ident, int) else ident,
            "id": obj.get("node_id"), "state": obj.get("state"),
            "submittedAt": obj.get("submitted_at"), "body": obj.get("body"),
            "commit": {"oid": obj["commit_id"]} if obj.get("commit_id") else None,
            "author": _who(obj.get("user"))}


def _commit(obj: Mapping[str, Any]) -> dict[str, Any]:
    commit = obj.get("commit") or {}
    author = obj.get("author")
    return {"commit": {
        "oid": obj.get("sha"), "message": commit.get("message"),
        "authoredDate": (commit.get("author") or {}).get("date"),
        "committedDate": (commit.get("committer") or {}).get("date"),
        "author": {"name": (commit.get("author") or {}).get("name"),
                   "user": {"login": author["login"]} if isinstance(author, Mapping) else None}}}


def _check(run: Mapping[str, Any]) -> dict[str, Any]:
    suite = run.get("check_suite") or {}
    return {"__typename": "CheckRun", "databaseId": run.get("id"), "name": run.get("name"),
            "status": str(run.get("status")).upper() if run.get("status") else None,
            "conclusion": str(run.get("conclusion")).upper() if run.get("conclusion") else None,
            "startedAt": run.get("started_at"), "completedAt": run.get("completed_at"),
            "checkSuite": {"branch": {"name": suite["head_branch"]}
                           if suite.get("head_branch") else None}}


# A commit status in the rollup: REST reads statuses apart, so GraphQL's rows leave it out.
STATUS = {"__typename": "StatusContext", "context": "ci/legacy", "state": "SUCCESS"}


def gql_pull(pr: Mapping[str, Any], reviews: list[Mapping[str, Any]],
             commits: list[Mapping[str, Any]], timeline: list[Mapping[str, Any]],
             runs: list[Mapping[str, Any]], closing: list[tuple[str, int]]) -> dict[str, Any]:
    """The GraphQL node of a REST pull request (its detail) and its REST children, with every
    connection whole (``GqlPulls`` serves them a page at a time)."""
    base, head = pr.get("base") or {}, pr.get("head") or {}
    repo = base.get("repo") or {}
    merged = pr.get("merged_at") is not None
    state = "MERGED" if merged else str(pr.get("state")).upper()
    sha = head.get("sha")
    return {
        "id": pr.get("node_id"), "number": pr.get("number"), "title": pr.get("title"),
        "body": pr.get("body") or "",  # a String!: "" for REST's null
        "state": state, "isDraft": pr.get("draft"),
        "createdAt": pr.get("created_at"), "updatedAt": pr.get("updated_at"),
        "closedAt": pr.get("closed_at"), "mergedAt": pr.get("merged_at"),
        "mergeCommit": {"oid": pr["merge_commit_sha"]} if merged and pr.get("merge_commit_sha")
        else None,
        "potentialMergeCommit": None if merged or not pr.get("merge_commit_sha")
        else {"oid": pr["merge_commit_sha"]},
        "baseRefName": base.get("ref"), "headRefName": head.get("ref"), "headRefOid": sha,
        "additions": pr.get("additions"), "deletions": pr.get("deletions"),
        "changedFiles": pr.get("changed_files"), "author": _who(pr.get("user")),
        "baseRepository": {"nameWithOwner": repo.get("full_name"),
                           "defaultBranchRef": {"name": repo["default_branch"]}
                           if repo.get("default_branch") else None},
        "labels": [{"name": lb.get("name")} for lb in pr.get("labels") or []],
        "reviewRequests": [{"requestedReviewer": _who(u)} for u in pr.get("requested_reviewers")
                           or []],
        "reviews": [_review(r) for r in reviews],
        "commits": [_commit(c) for c in commits], "commitCount": pr.get("commits"),
        "timelineItems": [e for e in (_event(o) for o in timeline) if e],
        "closingIssuesReferences": [{"number": n, "repository": {"nameWithOwner": r}}
                                    for r, n in closing],
        "head": {"commit": {"oid": sha, "statusCheckRollup": {
            "id": f"SCR_{sha}", "contexts": [STATUS] + [_check(r) for r in runs]}}}
        if sha else None,
    }


def _slice(items: list[Any], first: int, after: str | None, *, total: int | None = None,
           edges: bool = False) -> dict[str, Any]:
    start = int(after[1:]) if after else 0
    chunk = items[start:start + first]
    more = start + first < len(items)
    end = f"o{start + len(chunk)}" if chunk else after
    page: dict[str, Any] = {"totalCount": len(items) if total is None else total,
                            "pageInfo": {"hasNextPage": more, "endCursor": end}}
    if edges:
        page["edges"] = [{"cursor": f"o{start + i + 1}", "node": node}
                         for i, node in enumerate(chunk)]
    else:
        page["nodes"] = chunk
    return page


def cost(requests: int) -> int:
    """GitHub's formula: requests / 100, rounded, at least 1."""
    return max(1, round(requests / 100))


class GqlPulls:
    """Answers ``query pulls`` and ``query more_*``; None for other queries."""

    def __init__(self, pulls: Callable[[], list[dict[str, Any]]]) -> None:
        self.pulls = pulls  # GraphQL nodes (whole connections), any order
        self.remaining = 5000
        self.points = 0  # the costs answered, summed
        self.queries: list[tuple[str, dict[str, Any]]] = []  # (operation, variables)

    def __call__(self, body: Mapping[str, Any]) -> httpx.Response | None:
        m = re.match(r"query (pulls|more_\w+)\(", body["query"])
        if m is None:
            return None
        op, variables = m.group(1), dict(body["variables"])
        self.queries.append((op, variables))
        if op == "pulls":
            data, requests = self._pulls(variables)
        else:
            data, requests = self._more(op.removeprefix("more_"), variables)
        points = cost(requests)
        self.points += points
        self.remaining -= points
        data["rateLimit"] = {"cost": points, "remaining": self.remaining, "resetAt": RESET_AT}
        return httpx.Response(200, json={"data": data}, headers={
            "x-ratelimit-remaining": str(self.remaining), "x-ratelimit-resource": "graphql"})

    def _nodes(self) -> list[dict[str, Any]]:
        return sorted(self.pulls(), key=lambda p: (p["updatedAt"], p["number"]), reverse=True)

    def _pr(self, node: dict[str, Any], v: Mapping[str, Any]) -> dict[str, Any]:
        out = {k: val for k, val in node.items() if k != "commitCount"}
        out["labels"] = _slice(node["labels"], v["labels"], None)
        out["reviewRequests"] = _slice(node["reviewRequests"], v["requests"], None)
        for key, first in (("reviews", "reviews"), ("timelineItems", "timeline"),
                           ("closingIssuesReferences", "closing")):
            out[key] = _slice(node[key], v[first], None)
        out["commits"] = _slice(node["commits"], v["commits"], None, total=node["commitCount"])
        head = node["head"]
        if head is None:
            out["head"] = {"nodes": []}
        else:
            rollup = head["commit"]["statusCheckRollup"]
            out["head"] = {"nodes": [{"commit": {"oid": head["commit"]["oid"], "statusCheckRollup": {
                "id": rollup["id"], "contexts": _slice(rollup["contexts"], v["checks"], None)}}}]}
        return out

    def _pulls(self, v: Mapping[str, Any]) -> tuple[dict[str, Any], int]:
        page = _slice(self._nodes(), v["first"], v.get("after"), edges=True)
        page["edges"] = [{**e, "node": self._pr(e["node"], v)} for e in page["edges"]]
        # The page, and per pull request 8 connections: labels, review requests, reviews,
        # commits, timeline items, closing references, the head commit, its checks.
        requests = 1 + v["first"] * 8
        return {"repository": {"pullRequests": page}}, requests

    def _more(self, connection: str, v: Mapping[str, Any]) -> tuple[dict[str, Any], int]:
        for pr in self.pulls():
            head = pr["head"]["commit"] if pr["head"] else None
            if pr["id"] == v["id"]:
                items = pr[connection]
                total = pr["commitCount"] if connection == "commits" else None
                node = {"__typename": "PullRequest", "number": pr["number"],
                        connection: _slice(items, v["first"], v["after"], total=total)}
                return {"node": node}, 1
            if head is not None and head["statusCheckRollup"]["id"] == v["id"]:
                contexts = head["statusCheckRollup"]["contexts"]
                return {"node": {"__typename": "StatusCheckRollup", "commit": {"oid": head["oid"]},
                                 "contexts": _slice(contexts, v["first"], v["after"])}}, 1
        return {"node": None}, 1

"""GraphQL pull request nodes as the REST objects they stand for, through the REST mapping.

A pull request node of ``gql_query.PULLS`` becomes the objects REST gives for it (its detail, its
reviews, commits, timeline events and the check runs of its head commit), shaped as REST shapes
them, and goes through the same ``Batch.add`` and mappers: the rows are REST's by construction.
What GraphQL does not say is left out of the object, so the row holds NULL (unknown), as REST's
row does for an object without it. The ``raw`` column holds the REST-shaped object.

Shapes, GraphQL -> REST: ``author { __typename login }`` -> ``user { login, type }`` (``Bot``
is what ``is_bot`` reads); ``state`` ``OPEN``/``CLOSED``/``MERGED`` -> ``open``/``closed``
(an empty description stays ``""``: GraphQL's ``body`` is never null, where REST's is null for
some pull requests without one and ``""`` for others);
``mergeCommit`` (merged), else ``potentialMergeCommit`` (GitHub's test merge, which REST's
``merge_commit_sha`` of an unmerged pull request names) -> ``merge_commit_sha``; review
``fullDatabaseId`` and check run ``databaseId`` -> ``id``; a timeline item's REST id is read from its node id
(``gql_query.database_id``), else the node id is its id; check run ``status``/``conclusion`` in
lower case, its suite's ``branch`` -> ``check_suite.head_branch``; the check runs are the head
commit's ``statusCheckRollup.contexts`` that are check runs (commit statuses left out).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from leadlens.sources.base import Skipped
from leadlens.sources.github.gql_query import database_id, event_name
from leadlens.sources.github.load import Batch
from leadlens.sources.github.mapping import Context, raw_json, utf8

__all__ = ["add_check_runs", "add_closing", "add_pull", "add_pull_part", "dig", "nodes_of",
           "pull_object"]

Obj = dict[str, Any]


def dig(obj: object, *keys: str) -> Any:
    """``obj[k1][k2]...``, None where a level is missing or not an object (GitHub's JSON)."""
    for key in keys:
        obj = obj.get(key) if isinstance(obj, Mapping) else None
    return obj


def nodes_of(conn: object) -> list[Mapping[str, Any]]:
    """A connection's nodes that are objects (none when it has no ``nodes`` list)."""
    nodes = dig(conn, "nodes")
    return [n for n in nodes if isinstance(n, Mapping)] if isinstance(nodes, list) else []


def _account(node: object) -> Obj | None:
    """GraphQL's actor or author as REST's user object (``type`` from ``__typename``)."""
    login = dig(node, "login")
    if not isinstance(login, str):
        return None
    return {"login": login, "type": dig(node, "__typename")}


def _lower(value: object) -> object:
    return value.lower() if isinstance(value, str) else value


def pull_object(node: Mapping[str, Any]) -> Obj:
    """The REST object (as ``/pulls/N`` gives it) of a pull request node."""
    state = node.get("state")
    merged = dig(node, "mergeCommit", "oid")
    labels = nodes_of(node.get("labels"))
    requested = [r.get("requestedReviewer") for r in nodes_of(node.get("reviewRequests"))]
    obj: Obj = {
        "number": node.get("number"), "node_id": node.get("id"), "title": node.get("title"),
        "body": node.get("body"), "user": _account(node.get("author")),
        "state": "closed" if state in ("CLOSED", "MERGED") else _lower(state),
        "draft": node.get("isDraft"), "created_at": node.get("createdAt"),
        "updated_at": node.get("updatedAt"), "closed_at": node.get("closedAt"),
        "merged_at": node.get("mergedAt"), "merged": node.get("mergedAt") is not None,
        "merge_commit_sha": merged if merged is not None
        else dig(node, "potentialMergeCommit", "oid"),
        "base": {"ref": node.get("baseRefName"), "repo": {
            "full_name": dig(node, "baseRepository", "nameWithOwner"),
            "default_branch": dig(node, "baseRepository", "defaultBranchRef", "name")}},
        "head": {"ref": node.get("headRefName"), "sha": node.get("headRefOid")},
        "labels": [{"name": lb.get("name")} for lb in labels],
        "additions": node.get("additions"), "deletions": node.get("deletions"),
        "changed_files": node.get("changedFiles"),
        "commits": dig(node, "commits", "totalCount"),
        "requested_reviewers": [_account(r) for r in requested
                                if dig(r, "__typename") != "Team" and _account(r)],
        "requested_teams": [{"name": dig(r, "name")} for r in requested
                            if dig(r, "__typename") == "Team"],
    }
    return obj


def _big(value: object) -> object:
    """A BigInt (GraphQL sends it as a string of digits) as an integer; anything else as it is,
    for the mapping to refuse."""
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) < 20:
        return int(value)
    return value


def review_object(node: Mapping[str, Any]) -> Obj:
    return {"id": _big(node.get("fullDatabaseId")), "node_id": node.get("id"),
            "user": _account(node.get("author")), "state": node.get("state"),
            "submitted_at": node.get("submittedAt"), "commit_id": dig(node, "commit", "oid"),
            "body": node.get("body")}


def commit_object(node: Mapping[str, Any]) -> Obj:
    commit = node.get("commit") if isinstance(node.get("commit"), Mapping) else {}
    assert isinstance(commit, Mapping)
    login = dig(commit, "author", "user", "login")
    return {"sha": commit.get("oid"),
            "commit": {"author": {"name": dig(commit, "author", "name"),
                                  "date": commit.get("authoredDate")},
                       "committer": {"date": commit.get("committedDate")},
                       "message": commit.get("message")},
            "author": {"login": login} if isinstance(login, str) else None}


def _who(node: object) -> tuple[str, Obj] | None:
    kind = dig(node, "__typename")
    if kind == "Team":
        return "requested_team", {"name": dig(node, "name")}
    account = _account(node)
    return ("user", account) if account else None


def event_object(node: Mapping[str, Any]) -> Obj | None:
    """The REST timeline event of a timeline item; None for an item of a type not asked for."""
    kind = node.get("__typename")
    if not isinstance(kind, str) or "createdAt" not in node:
        return None
    node_id = node.get("id")
    obj: Obj = {"id": database_id(node_id) if isinstance(node_id, str) else None,
                "node_id": node_id, "event": event_name(kind), "actor": _account(node.get("actor")),
                "created_at": node.get("createdAt"), "commit_id": None}
    if "requestedReviewer" in node and (who := _who(node["requestedReviewer"])):
        obj["requested_team" if who[0] == "requested_team" else "requested_reviewer"] = who[1]
    if "assignee" in node and (who := _who(node["assignee"])) and who[0] == "user":
        obj["assignee"] = who[1]
    if isinstance(dig(node, "label", "name"), str):
        obj["label"] = {"name": node["label"]["name"]}
    if "currentTitle" in node:
        obj["rename"] = {"from": node.get("previousTitle"), "to": node.get("currentTitle")}
    oid = dig(node, "commit", "oid") or dig(node, "closer", "oid")
    if isinstance(oid, str):
        obj["commit_id"] = oid
    return obj


def check_run_object(run: Mapping[str, Any], head_sha: object) -> Obj:
    branch = dig(run, "checkSuite", "branch", "name")
    return {"id": run.get("databaseId"), "name": run.get("name"), "head_sha": head_sha,
            "status": _lower(run.get("status")), "conclusion": _lower(run.get("conclusion")),
            "started_at": run.get("startedAt"), "completed_at": run.get("completedAt"),
            "check_suite": {"head_branch": branch}}


def _with_number(ctx: Context, number: int) -> Context:
    return Context(ctx.repo, ctx.url, ctx.fetched_at, number)


def add_pull_part(batch: Batch, connection: str, number: int, nodes: list[Any],
                  ctx: Context) -> None:
    """The nodes of one page of a pull request's ``connection`` into ``batch``."""
    sub = _with_number(ctx, number)
    for node in nodes:
        if not isinstance(node, Mapping):
            continue
        if connection == "reviews":
            batch.add("reviews", review_object(node), sub)
        elif connection == "commits":
            batch.add("pr_commits", commit_object(node), sub)
        elif connection == "timelineItems":
            event = event_object(node)
            if event is not None:
                batch.add("pr_events", event, sub)
    if connection == "closingIssuesReferences":
        add_closing(batch, number, nodes, ctx, replace=False)


def add_check_runs(batch: Batch, contexts: list[Any], head_sha: object, ctx: Context) -> None:
    """The check runs among a head commit's checks (``statusCheckRollup.contexts``)."""
    for run in contexts:
        if isinstance(run, Mapping) and run.get("__typename") == "CheckRun":
            batch.add("check_runs", check_run_object(run, head_sha), ctx)


def add_closing(batch: Batch, number: int, nodes: list[Any], ctx: Context, *,
                replace: bool) -> None:
    """The issues pull request ``number`` closes as GitHub links them, ``how = 'graphql'``;
    ``replace``: this is the first page, so the stored ones give way."""
    if replace:
        batch.replace("closing_references", repo=batch.repo, number=number, how="graphql")
    for node in nodes:
        issue = dig(node, "number")
        repo = dig(node, "repository", "nameWithOwner")
        if not isinstance(issue, int) or isinstance(issue, bool) \
                or not isinstance(repo, str) or "/" not in repo:
            batch.skipped.append((Skipped("closing_references", ctx.url,
                                          "no issue number or repository"), raw_json(node)))
            continue
        batch.put("closing_references", {
            "repo": batch.repo, "number": number, "issue_repo": utf8(repo), "issue_number": issue,
            "how": "graphql", "keyword": None, "fetched_at": ctx.fetched_at})


def add_pull(batch: Batch, node: Mapping[str, Any], ctx: Context) -> int | None:
    """A pull request node of a pulls page with what it holds of each connection; its number
    (None when it has none: the object is kept as skipped by the mapping)."""
    row = batch.add("pull_requests", pull_object(node), ctx)
    number = row["number"] if row else None
    if not isinstance(number, int):
        return None
    for connection in ("reviews", "commits", "timelineItems"):
        add_pull_part(batch, connection, number, nodes_of(node.get(connection)), ctx)
    add_closing(batch, number, nodes_of(node.get("closingIssuesReferences")), ctx, replace=True)
    for head in nodes_of(node.get("head")):
        commit = head.get("commit")
        add_check_runs(batch, nodes_of(dig(commit, "statusCheckRollup", "contexts")),
                       dig(commit, "oid"), ctx)
    return number

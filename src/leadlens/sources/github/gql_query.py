"""The GraphQL queries of pull request collection, their point cost, and GitHub's node ids.

One query reads a page of pull requests newest-updated first, each with the connections the REST
path reads in five requests (reviews, commits, timeline, the head commit's check runs) and a few
more (labels, review requests, closing issue references). A connection longer than its ``first``
is continued by a follow-up query per connection page (``more_<connection>``), on the node that
owns it (a pull request, the head commit, a check suite), all through ``node(id:)``.

The head commit's check runs come from its ``statusCheckRollup.contexts`` (the latest check run
of each check, across its check suites, as REST's ``check-runs`` lists them by default; commit
statuses, which REST reads apart, are left out): one connection a pull request, where
``checkSuites { checkRuns }`` would cost one per suite.

Cost, as GitHub publishes it: each connection needs as many requests as its parents are asked
for (the pull requests page: 1; a connection of each pull request: ``first`` of the page); the
sum over the query's connections, divided by 100 and rounded, at least 1 point. A page of 18 pull
requests, 8 connections each, costs (1 + 18 x 8) / 100 = 1.45 -> 1 point; one of 50, 4.01 -> 4.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass

__all__ = [
    "CONNECTIONS", "EVENT_TYPES", "Sizes", "database_id", "event_name", "more_query", "page_cost",
    "pulls_query",
]

# The timeline item types the REST timeline mapping stores for a pull request (events.pr_event:
# everything but what reviews, commits and comments hold, and cross-references).
EVENT_TYPES = (
    "AssignedEvent", "UnassignedEvent", "LabeledEvent", "UnlabeledEvent", "ReviewRequestedEvent",
    "ReviewRequestRemovedEvent", "ReadyForReviewEvent", "ConvertToDraftEvent", "ClosedEvent",
    "ReopenedEvent", "MergedEvent", "HeadRefForcePushedEvent", "HeadRefDeletedEvent",
    "HeadRefRestoredEvent", "BaseRefChangedEvent", "BaseRefForcePushedEvent", "RenamedTitleEvent",
    "MilestonedEvent", "DemilestonedEvent", "ReviewDismissedEvent", "AutoMergeEnabledEvent",
    "AutoMergeDisabledEvent", "LockedEvent", "UnlockedEvent", "MentionedEvent", "SubscribedEvent",
    "UnsubscribedEvent", "ReferencedEvent", "ConnectedEvent", "DisconnectedEvent",
    "MarkedAsDuplicateEvent", "UnmarkedAsDuplicateEvent", "CommentDeletedEvent", "DeployedEvent",
    "DeploymentEnvironmentChangedEvent", "AutomaticBaseChangeSucceededEvent",
    "AutomaticBaseChangeFailedEvent", "AddedToMergeQueueEvent", "RemovedFromMergeQueueEvent",
)
# REST's name of an event whose GraphQL type is not its name in CamelCase.
_EVENT_NAMES = {"RenamedTitleEvent": "renamed"}
_CAMEL = re.compile(r"(?<!^)(?=[A-Z])")


def event_name(typename: str) -> str:
    """REST's ``event`` for a GraphQL timeline item type: ``ReviewRequestedEvent`` ->
    ``review_requested``."""
    return _EVENT_NAMES.get(typename) or _CAMEL.sub("_", typename.removesuffix("Event")).lower()


def _item_type(typename: str) -> str:
    return _CAMEL.sub("_", typename).upper()


_ACCOUNT = "{ __typename login }"
_LOGINS = "__typename ... on User { login } ... on Bot { login } ... on Mannequin { login }"
# The unions GitHub's schema has: RequestedReviewer (Bot, Mannequin, Team, User), Assignee (Bot,
# Mannequin, Organization, User).
_REVIEWER = "{ " + _LOGINS + " ... on Team { name } }"
_ASSIGNEE = "{ " + _LOGINS + " ... on Organization { login } }"
_EXTRA = {
    "ReviewRequestedEvent": f"requestedReviewer {_REVIEWER}",
    "ReviewRequestRemovedEvent": f"requestedReviewer {_REVIEWER}",
    "LabeledEvent": "label { name }", "UnlabeledEvent": "label { name }",
    "AssignedEvent": f"assignee {_ASSIGNEE}", "UnassignedEvent": f"assignee {_ASSIGNEE}",
    "RenamedTitleEvent": "currentTitle previousTitle",
    "MergedEvent": "commit { oid }", "ReferencedEvent": "commit { oid }",
    "ClosedEvent": "closer { __typename ... on Commit { oid } }",
}
_EVENT_FIELDS = " ".join(
    f"... on {t} {{ id createdAt actor {_ACCOUNT} {_EXTRA.get(t, '')} }}" for t in EVENT_TYPES)
_ITEM_TYPES = ", ".join(_item_type(t) for t in EVENT_TYPES)
_PAGE = "pageInfo { hasNextPage endCursor }"

# The nodes of each continued connection, and the arguments besides first/after.
_RUN = "databaseId name status conclusion startedAt completedAt"
_NODES = {
    "labels": "name",
    # fullDatabaseId (BigInt, a string): databaseId is deprecated on reviews.
    "reviews": f"fullDatabaseId id state submittedAt body commit {{ oid }} author {_ACCOUNT}",
    "commits": ("commit { oid message authoredDate committedDate author { name user { login } } }"),
    "timelineItems": f"__typename {_EVENT_FIELDS}",
    "closingIssuesReferences": "number repository { nameWithOwner }",
    "contexts": f"__typename ... on CheckRun {{ {_RUN} checkSuite {{ branch {{ name }} }} }}",
}
_ARGS = {"timelineItems": f", itemTypes: [{_ITEM_TYPES}]"}
# Connection -> the GraphQL type that owns it (a follow-up asks the owner by its id).
CONNECTIONS = {"labels": "PullRequest", "reviews": "PullRequest", "commits": "PullRequest",
               "timelineItems": "PullRequest", "closingIssuesReferences": "PullRequest",
               "contexts": "StatusCheckRollup"}
_RATE = "rateLimit { cost remaining resetAt }"


@dataclass(frozen=True)
class Sizes:
    """``first`` of each connection of a page. The cost depends on the page alone (a nested
    connection costs one request per parent, whatever its ``first``); these bound how often a
    follow-up is needed, and the answer's size."""

    labels: int = 20
    requests: int = 10
    reviews: int = 30
    commits: int = 50
    timeline: int = 50
    closing: int = 10
    checks: int = 50


CONNECTIONS_PER_PULL = 8  # labels, review requests, reviews, commits, timeline, closing
#                           references, the head commit (commits(last: 1)), its checks


def page_cost(page: int) -> int:
    """GitHub's point cost of a pulls query of ``page`` pull requests: the page (1 request) and
    per pull request its 8 connections."""
    requests = 1 + page * CONNECTIONS_PER_PULL
    return max(1, (requests + 50) // 100)


def _conn(name: str, first: str) -> str:
    return f"{name}(first: {first}{_ARGS.get(name, '')}) {{ totalCount {_PAGE} nodes {{ {_NODES[name]} }} }}"


_PR = " ".join((
    "id number title body state isDraft createdAt updatedAt closedAt mergedAt",
    "mergeCommit { oid } potentialMergeCommit { oid } baseRefName headRefName headRefOid",
    f"additions deletions changedFiles author {_ACCOUNT}",
    "baseRepository { nameWithOwner defaultBranchRef { name } }",
    _conn("labels", "$labels"),
    f"reviewRequests(first: $requests) {{ totalCount nodes {{ requestedReviewer {_REVIEWER} }} }}",
    _conn("reviews", "$reviews"), _conn("commits", "$commits"),
    _conn("timelineItems", "$timeline"), _conn("closingIssuesReferences", "$closing"),
    "head: commits(last: 1) { nodes { commit { oid statusCheckRollup { id",
    _conn("contexts", "$checks"), "} } } }",
))

PULLS = (
    "query pulls($owner: String!, $name: String!, $first: Int!, $after: String, $labels: Int!,"
    " $requests: Int!, $reviews: Int!, $commits: Int!, $timeline: Int!, $closing: Int!,"
    " $checks: Int!) { " + _RATE + " repository(owner: $owner, name: $name) {"
    " pullRequests(first: $first, after: $after, orderBy: { field: UPDATED_AT, direction: DESC })"
    " { totalCount pageInfo { hasNextPage endCursor } edges { cursor node { " + _PR + " } } } } }")


def pulls_query() -> str:
    return PULLS


def more_query(connection: str) -> str:
    """The follow-up query of one page of ``connection`` on the node ``$id`` owns it; the owner's
    identity comes with it, so that a recorded answer maps by itself."""
    owner = CONNECTIONS[connection]
    who = {"PullRequest": "number", "StatusCheckRollup": "commit { oid }"}[owner]
    body = (f"{who} {connection}(first: $first, after: $after{_ARGS.get(connection, '')})"
            f" {{ {_PAGE} nodes {{ {_NODES[connection]} }} }}")
    return (f"query more_{connection}($id: ID!, $first: Int!, $after: String) {{ {_RATE}"
            f" node(id: $id) {{ __typename ... on {owner} {{ {body} }} }} }}")


def database_id(node_id: str) -> int | None:
    """The REST id inside a GraphQL global node id, where GitHub wrote one: the legacy form is
    base64 of ``0NN:TypeNameDIGITS``; the current ``PREFIX_`` form is base64url of a MessagePack
    array of integers whose last one is the object's id. None for anything else (the ids are
    GitHub's to change: then the node id is the row's id, as REST's rows without a number)."""
    if "_" in node_id:
        payload = node_id.split("_", 1)[1]
        try:
            raw = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
        except (binascii.Error, ValueError):
            return None
        return _msgpack_last_int(raw)
    try:
        text = base64.b64decode(node_id + "=" * (-len(node_id) % 4), validate=True).decode("ascii")
    except (binascii.Error, ValueError, UnicodeDecodeError):
        return None
    m = re.fullmatch(r"0\d+:[A-Za-z]+?(\d+)", text)
    return int(m.group(1)) if m else None


def _msgpack_last_int(raw: bytes) -> int | None:
    """The last element of a MessagePack array of non-negative integers; None otherwise."""
    if not raw or not 0x91 <= raw[0] <= 0x9f:
        return None
    count, at, value = raw[0] - 0x90, 1, None
    for _ in range(count):
        if at >= len(raw):
            return None
        tag = raw[at]
        if tag <= 0x7f:
            value, at = tag, at + 1
            continue
        width = {0xcc: 1, 0xcd: 2, 0xce: 4, 0xcf: 8}.get(tag)
        if width is None or at + 1 + width > len(raw):
            return None
        value, at = int.from_bytes(raw[at + 1:at + 1 + width], "big"), at + 1 + width
    return value if at == len(raw) else None

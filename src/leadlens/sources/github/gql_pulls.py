"""Pull requests through GraphQL: pages newest-updated first, follow-ups for long connections, a
page size within a point budget, and the same cursor as the REST sweep.

The cursor (``sync_state``, resource ``pull_requests``, shared with the REST path) holds
``since``: the newest ``updatedAt`` of the last finished sweep. A sweep reads from the newest down
to ``since`` minus the overlap window (or ``--since DATE`` on a first collection) and stores each
page in one transaction with ``{"gql": {"after", "high"}}``: the cursor of the last pull request
stored, so an interrupted run goes on after it (mid-page, when a request budget ran out during a
page's follow-ups: the pull requests whose connections were all read are stored). When the sweep
reaches older pull requests, ``since`` becomes the newest ``updatedAt`` it saw.

Page size: the page (at most ``max_page``) that reads the most pull requests a point while its
cost (``gql_query.page_cost``) stays within ``max_cost`` points; an answer GitHub could not
compute in time (a 502/504, ``something went wrong``, a node or cost limit) halves it, and it
grows back after a few good pages.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from leadlens.errors import FatalSourceError, TransientSourceError
from leadlens.sources.github.client import ServerTimeout
from leadlens.sources.github.gql_mapping import (
    add_check_runs,
    add_pull,
    add_pull_part,
    dig,
    nodes_of,
    pull_object,
)
from leadlens.sources.github.gql_query import Sizes, more_query, page_cost, pulls_query
from leadlens.sources.github.graphql import GraphQL, messages
from leadlens.sources.github.load import Batch
from leadlens.sources.github.mapping import Context
from leadlens.store.writer import load_cursor

if TYPE_CHECKING:
    from leadlens.sources.github.source import _Sync

__all__ = ["DEFAULT_MAX_COST", "DEFAULT_MAX_PAGE", "PullSweep", "parse_time"]

DEFAULT_MAX_PAGE = 50
DEFAULT_MAX_COST = 10
MORE_FIRST = 100  # a follow-up's page: GraphQL's largest
GROW_AFTER = 5  # good pages before a shrunk page grows again
HOURLY_POINTS = 5000
_SHRINK = ("something went wrong", "timeout", "timed out", "max_node_limit", "exceeds", "too many")


def parse_time(text: object) -> datetime | None:
    if not isinstance(text, str):
        return None
    try:
        at = datetime.fromisoformat(text)
    except (ValueError, OverflowError):
        return None
    return at.astimezone(UTC) if at.tzinfo else at.replace(tzinfo=UTC)


def _iso(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class _TooBig(Exception):
    """GitHub could not answer a query this size."""


@dataclass
class _More:
    """One connection still to read: its owner's node id, what to read after, and where it goes."""

    connection: str
    owner: str
    after: str
    number: int | None = None  # the pull request (PullRequest connections)


@dataclass
class PullSweep:
    sync: _Sync
    gql: GraphQL
    since: datetime | None = None  # --since: where a first collection starts
    max_page: int = DEFAULT_MAX_PAGE
    max_cost: int = DEFAULT_MAX_COST
    sizes: Sizes = field(default_factory=Sizes)
    page: int = 0
    total: int | None = None  # pull requests in the repository (GraphQL's totalCount)
    done: int = 0  # pull requests stored this run
    reset_at: datetime | None = None
    started: float = field(default_factory=time.monotonic)
    _good: int = 0

    def __post_init__(self) -> None:
        self.page = self.fitting()

    def fitting(self) -> int:
        """The page within ``max_page`` that costs at most ``max_cost`` points and reads the
        most pull requests a point. GitHub rounds a query's cost, so within the defaults that is
        18 (1 + 18 x 8 = 145 requests: 1 point), not 50 (401 requests: 4 points)."""
        fits = [p for p in range(1, self.max_page + 1) if page_cost(p) <= self.max_cost] or [1]
        # The most pull requests a point (GitHub rounds each query's cost), the larger on a tie.
        return max(fits, key=lambda p: (p / page_cost(p), p))

    def run(self) -> None:
        sync = self.sync
        stored = load_cursor(sync.store.con, sync.repo, "github", "pull_requests")
        cursor: dict[str, Any] = dict(stored) if isinstance(stored, dict) else {}
        since = parse_time(cursor.get("since"))
        floor = since - sync.overlap if since else None
        if self.since is not None and floor is None:  # a first collection starts at --since
            floor = self.since
        found = cursor.get("gql")
        state: dict[str, Any] = found if isinstance(found, dict) else {}
        after: str | None = state.get("after") if isinstance(state.get("after"), str) else None
        high: str | None = state.get("high") if isinstance(state.get("high"), str) else None
        while True:
            conn = self._page(after)
            total = conn.get("totalCount")
            self.total = total if isinstance(total, int) else self.total
            edges = [e for e in conn.get("edges") or [] if isinstance(e, Mapping)]
            nodes: list[Mapping[str, Any]] = [
                n if isinstance(n := e.get("node"), Mapping) else {} for e in edges]
            times = [parse_time(n.get("updatedAt")) for n in nodes]
            keep = [i for i, at in enumerate(times) if floor is None or (at or floor) >= floor]
            newest = max((t for t in times if t), default=None)
            if newest is not None and (high is None or (parse_time(high) or newest) < newest):
                high = _iso(newest)
            info = conn.get("pageInfo")
            more = isinstance(info, Mapping) and info.get("hasNextPage") is True
            end = info.get("endCursor") if isinstance(info, Mapping) else None
            finished = not more or len(keep) < len(edges) or not isinstance(end, str)
            # A batch a pull request, stored together: those read in full before a stop are kept.
            batches: list[Batch] = []
            ctx = sync.ctx_for(self.gql.url)
            for n, i in enumerate(keep):
                batch = Batch(sync.repo)
                try:
                    self._pull(batch, nodes[i], ctx)
                except TransientSourceError:
                    if n:
                        last = edges[keep[n - 1]].get("cursor")
                        self._commit(batches, cursor, {"gql": {"after": last, "high": high}})
                    raise
                batches.append(batch)
                self.done += 1
            if finished:
                new: dict[str, Any] = {"since": high or cursor.get("since")}
            else:
                new = {"gql": {"after": end, "high": high}}
            self._commit(batches, cursor, new)
            cursor = new
            if finished:
                return
            after = end

    def _commit(self, batches: list[Batch], cursor: Mapping[str, Any],
                new: dict[str, Any]) -> None:
        keep = {k: v for k, v in cursor.items() if k not in ("gql", "sweep", "since")}
        whole = Batch(self.sync.repo)
        for batch in batches:
            whole.absorb(batch)
        self.sync.commit_cursor("pull_requests", whole, {**keep, **new}, self.eta())

    def _pull(self, batch: Batch, node: Mapping[str, Any], ctx: Context) -> None:
        """One pull request of a page and the rest of its long connections."""
        number = add_pull(batch, node, ctx)
        if number is None:
            return
        todo: list[_More] = []
        owner = node.get("id")
        for name in ("labels", "reviews", "commits", "timelineItems", "closingIssuesReferences"):
            self._queue(todo, name, owner, node.get(name), number)
        for head in nodes_of(node.get("head")):
            rollup = dig(head, "commit", "statusCheckRollup")
            self._queue(todo, "contexts", dig(rollup, "id"), dig(rollup, "contexts"))
        labels: list[str] = []
        while todo:
            item = todo.pop(0)
            found = self._more(item)
            conn = found.get(item.connection) if isinstance(found, Mapping) else None
            if not isinstance(conn, Mapping):
                self.gql.warn(f"more-{item.connection}", f"some {item.connection} of pull requests"
                              " not read in full: GitHub answered a follow-up without them")
                continue
            nodes = nodes_of(conn)
            if item.connection == "labels":
                labels += [str(n.get("name")) for n in nodes if isinstance(n.get("name"), str)]
            elif item.connection == "contexts":
                add_check_runs(batch, nodes, dig(found, "commit", "oid"), ctx)
            elif item.number is not None:
                add_pull_part(batch, item.connection, item.number, nodes, ctx)
            self._queue(todo, item.connection, item.owner, conn, item.number)
        if labels:  # the pull request's row again, with every label
            whole = dict(node)
            whole["labels"] = {"nodes": nodes_of(node.get("labels")) + [{"name": n} for n in labels]}
            batch.add("pull_requests", pull_object(whole), ctx)

    @staticmethod
    def _queue(todo: list[_More], connection: str, owner: object, conn: object,
               number: int | None = None) -> None:
        info = dig(conn, "pageInfo")
        after = dig(info, "endCursor")
        if dig(info, "hasNextPage") is True and isinstance(after, str) and isinstance(owner, str):
            todo.append(_More(connection, owner, after, number))

    def _more(self, item: _More) -> Mapping[str, Any]:
        variables = {"id": item.owner, "first": MORE_FIRST, "after": item.after}
        data, errors = self.gql.query(more_query(item.connection), variables)
        self._note(data)
        node = data.get("node") if isinstance(data, Mapping) else None
        if not isinstance(node, Mapping):
            raise FatalSourceError("GitHub answered a follow-up query without its node: "
                                   f"{messages(errors) or 'no data'}")
        return node

    def _page(self, after: str | None) -> Mapping[str, Any]:
        """One pulls page, shrinking it while GitHub cannot answer that many."""
        owner, name = self.sync.repo.split("/", 1)
        while True:
            variables = {"owner": owner, "name": name, "first": self.page, "after": after,
                         **{k: v for k, v in asdict(self.sizes).items()}}
            try:
                conn = self._ask(variables)
            except _TooBig as exc:
                if self.page <= 1:
                    raise FatalSourceError(f"GitHub could not answer a page of one pull request:"
                                           f" {exc}") from None
                self.page, self._good = max(1, self.page // 2), 0
                continue
            self._good += 1
            if self._good >= GROW_AFTER and self.page < self.fitting():
                self.page, self._good = min(self.fitting(), self.page * 3 // 2 + 1), 0
            return conn

    def _ask(self, variables: Mapping[str, Any]) -> Mapping[str, Any]:
        try:
            data, errors = self.gql.query(pulls_query(), variables, shrinkable=self.page > 1)
        except ServerTimeout as exc:
            raise _TooBig(str(exc)) from None
        self._note(data)
        conn = dig(data, "repository", "pullRequests")
        if isinstance(conn, Mapping):
            if errors:
                self.gql.warn("pulls-partial", f"GitHub answered with errors: {messages(errors)}")
            return conn
        text = messages(errors).lower()
        if any(word in text for word in _SHRINK) or any(
                str(e.get("type", "")).upper() == "MAX_NODE_LIMIT_EXCEEDED" for e in errors):
            raise _TooBig(messages(errors))
        raise FatalSourceError(f"GitHub answered the pull requests query without them:"
                               f" {messages(errors) or 'no data'}; --api rest reads them by REST")

    def _note(self, data: object) -> None:
        reset = parse_time(dig(data, "rateLimit", "resetAt"))
        self.reset_at = reset or self.reset_at

    def eta(self) -> str:
        """Pull requests done of the repository's, the points left and when they reset, and an
        estimate of the time left: the pace so far, or the budget's resets when it runs short."""
        total = f" of {self.total:,}" if self.total is not None else ""
        parts = [f"{self.done:,}{total} pull requests (GraphQL, {self.page} a page)"]
        remaining = self.gql.remaining
        if remaining is not None:
            reset = f", resets {self.reset_at:%H:%M} UTC" if self.reset_at else ""
            parts.append(f"{remaining:,} points left{reset}")
        if self.total is not None and self.done and self.total > self.done:
            left = self.total - self.done
            seconds = (time.monotonic() - self.started) / self.done * left
            need = self.gql.points / self.done * left
            if remaining is not None and need > remaining:
                # What is left now, then a whole hour's points at each reset.
                wait = (self.reset_at - datetime.now(UTC)).total_seconds() if self.reset_at else 3600
                resets = int((need - remaining - 1) // HOURLY_POINTS)
                seconds = max(seconds, max(wait, 0) + resets * 3600)
            parts.append(f"about {timedelta(seconds=round(seconds))} left")
        return "; ".join(parts)

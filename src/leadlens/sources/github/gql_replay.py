"""Recorded GraphQL answers (``--record``: a query a line, ``input`` naming the repository) back
into rows, through ``gql_mapping`` as a live run maps them. Each answer maps by itself: a pulls
page, or a follow-up whose node names its owner (a pull request's number, the commit of a head
commit's checks); the closing references the REST path asks (``pN`` aliases).
Labels continued by a follow-up join the pull request's node seen earlier in the recording."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from leadlens.sources.github.gql_mapping import (
    add_check_runs,
    add_closing,
    add_pull,
    add_pull_part,
    dig,
    nodes_of,
    pull_object,
)
from leadlens.sources.github.load import Batch
from leadlens.sources.github.mapping import Context, utf8

__all__ = ["GqlReplay", "is_graphql"]

_ALIAS = re.compile(r"^p(\d+)$")


def is_graphql(url: str) -> bool:
    return url.split("?", 1)[0].rstrip("/").endswith("/graphql")


@dataclass
class GqlReplay:
    """The GraphQL answers of one replay; ``pulls`` the pull request nodes seen, for labels."""

    fetched_at: datetime
    rename: Callable[[str], str] | None = None
    pulls: dict[tuple[str, int], dict[str, Any]] = field(default_factory=dict)

    def load(self, record: Mapping[str, Any], batches: dict[str, Batch]
             ) -> tuple[str, list[int]] | str:
        """(repository, the pull requests it stored) for one recorded answer, or why it holds
        nothing to store."""
        given, data = record.get("input"), record.get("data")
        repo = given.get("repo") if isinstance(given, Mapping) else None
        if not isinstance(repo, str) or "/" not in repo:
            return "a GraphQL answer without its repository (input.repo)"
        if not isinstance(data, Mapping):
            return "a GraphQL answer without data"
        repo = self.rename(utf8(repo)) if self.rename else utf8(repo)
        batch = batches.setdefault(repo, Batch(repo))
        ctx = Context(repo, utf8(str(record["url"])), self.fetched_at)
        numbers: list[int] = []
        repository = data.get("repository")
        pulls = dig(repository, "pullRequests", "edges")
        if isinstance(pulls, list):
            for edge in pulls:
                node = dig(edge, "node")
                if isinstance(node, Mapping) and (n := add_pull(batch, node, ctx)) is not None:
                    numbers.append(n)
                    self.pulls[(repo, n)] = dict(node)
            return repo, numbers
        if isinstance(repository, Mapping):  # the REST path's closing references, pN aliases
            for alias, pr in repository.items():
                m = _ALIAS.match(alias)
                refs = dig(pr, "closingIssuesReferences")
                if m and isinstance(refs, Mapping):
                    add_closing(batch, int(m.group(1)), nodes_of(refs), ctx, replace=True)
                    numbers.append(int(m.group(1)))
            return (repo, numbers) if numbers else "a GraphQL answer leadlens does not replay"
        return self._follow_up(data.get("node"), batch, ctx, repo)

    def _follow_up(self, node: object, batch: Batch, ctx: Context, repo: str
                   ) -> tuple[str, list[int]] | str:
        kind = dig(node, "__typename")
        if not isinstance(node, Mapping):
            return "a GraphQL answer leadlens does not replay"
        if kind == "PullRequest" and isinstance(number := node.get("number"), int):
            for connection in ("reviews", "commits", "timelineItems", "closingIssuesReferences"):
                if connection in node:
                    add_pull_part(batch, connection, number, nodes_of(node[connection]), ctx)
            if "labels" in node and (seen := self.pulls.get((repo, number))):
                labels = dig(seen, "labels")
                seen["labels"] = {"nodes": nodes_of(labels) + nodes_of(node["labels"])}
                batch.add("pull_requests", pull_object(seen), ctx)
            return repo, [number]
        if kind == "StatusCheckRollup":
            add_check_runs(batch, nodes_of(node.get("contexts")), dig(node, "commit", "oid"), ctx)
            return repo, []
        return "a GraphQL answer leadlens does not replay"

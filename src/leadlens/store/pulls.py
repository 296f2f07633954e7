"""What the store knows of the pull request of a head commit: for ``leadlens gate --base --head``,
which takes the reviews an earlier ``leadlens ingest github`` stored when there are any."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from leadlens.store.db import Store

__all__ = ["StoredPull", "StoredReview", "pull_for_head"]


@dataclass(frozen=True)
class StoredReview:
    reviewer: str
    state: str
    at: datetime | None
    commit_id: str | None
    is_bot: bool


@dataclass(frozen=True)
class StoredPull:
    repo: str
    number: int
    author: str | None
    labels: tuple[str, ...] | None
    reviews: tuple[StoredReview, ...]


def pull_for_head(store: Store, head_sha: str) -> StoredPull | None:
    """The newest stored pull request whose head is ``head_sha``, with its reviews; None if none."""
    row = store.con.execute(
        "SELECT repo, number, author, labels FROM pull_requests WHERE head_sha = ?"
        " ORDER BY updated_at DESC, repo, number LIMIT 1", [head_sha]).fetchone()
    if row is None:
        return None
    repo, number, author, labels = row
    reviews = store.con.execute(
        "SELECT reviewer, state, submitted_at, commit_id, coalesce(reviewer_is_bot, false)"
        " FROM reviews WHERE repo = ? AND number = ? AND reviewer IS NOT NULL"
        " ORDER BY submitted_at NULLS LAST, id", [repo, number]).fetchall()
    return StoredPull(str(repo), int(number), author, tuple(labels) if labels is not None else None,
                      tuple(StoredReview(str(r[0]), str(r[1]), r[2], r[3], bool(r[4]))
                            for r in reviews))

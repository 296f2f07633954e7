"""Reads a source needs to plan its run: what the store holds already."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import pyarrow as pa

from leadlens.store.db import Store, scalar

__all__ = ["lacking_line_history", "missing_line_history", "not_stored", "parentless",
           "pull_request_numbers", "stored_issue_updated", "stored_mainline", "stored_shallow"]


def not_stored(store: Store, repo: str, shas: Sequence[str]) -> list[str]:
    """``shas`` minus those already stored, in their original order."""
    if not shas:
        return []
    con = store.con
    con.register("candidate_shas", pa.table({"sha": pa.array(list(shas), pa.string())}))
    try:
        # Usually few are stored (none on a first run); a semi join keeps the result small.
        stored = {r[0] for r in con.execute(
            "SELECT sha FROM commits WHERE repo = ? AND sha IN (SELECT sha FROM candidate_shas)",
            [repo],
        ).fetchall()}
    finally:
        con.unregister("candidate_shas")
    return [s for s in shas if s not in stored] if stored else list(shas)


def lacking_line_history(store: Store, repo: str) -> list[str]:
    """Stored commits without line history, newest first."""
    rows = store.con.execute(
        "SELECT sha FROM commits WHERE repo = ? AND NOT line_history ORDER BY committer_time DESC",
        [repo],
    ).fetchall()
    return [r[0] for r in rows]


def missing_line_history(store: Store, repo: str) -> bool:
    """Some stored commit of ``repo`` lacks line history."""
    return bool(scalar(store.con, "SELECT count(*) FROM commits WHERE repo = ? AND NOT line_history",
                       [repo]))


def stored_mainline(store: Store, repo: str) -> str | None:
    """The mainline ref the store holds for ``repo`` (``repos.default_branch``)."""
    branch = scalar(store.con, "SELECT default_branch FROM repos WHERE repo = ?", [repo])
    return None if branch is None else str(branch)


def pull_request_numbers(store: Store, repo: str) -> set[int]:
    """The numbers of ``repo``'s stored pull requests."""
    return {int(r[0]) for r in store.con.execute(
        "SELECT number FROM pull_requests WHERE repo = ?", [repo]).fetchall()}


def stored_issue_updated(store: Store, repo: str, number: int) -> datetime | None:
    """When the stored copy of issue ``number`` was last updated; None when none is stored."""
    at = scalar(store.con, "SELECT updated_at FROM issues WHERE repo = ? AND number = ?",
                [repo, number])
    return None if at is None else at.astimezone(UTC)


def parentless(store: Store, repo: str) -> list[str]:
    """Stored commits without parents: roots, or a shallow clone's boundary as it was read."""
    return [r[0] for r in store.con.execute(
        "SELECT sha FROM commits WHERE repo = ? AND len(parents) = 0", [repo]).fetchall()]


def stored_shallow(store: Store, repo: str) -> bool:
    """``repo`` was last ingested from a shallow clone."""
    return bool(scalar(store.con, "SELECT is_shallow FROM repos WHERE repo = ?", [repo]))

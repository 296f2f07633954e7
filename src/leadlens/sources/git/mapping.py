"""Pure mapping: parsed git records -> derived fields and Arrow batches shaped like the store."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import pyarrow as pa

from leadlens.config import EARLIEST_PLAUSIBLE
from leadlens.conventions import GITHUB_MERGE, GITLAB_MERGE_REQUEST, PR_SUFFIX, REVERT
from leadlens.model import Commit, ReviewEvidence

__all__ = [
    "COMMIT_SCHEMA",
    "FILE_SCHEMA",
    "REVIEW_TRAILERS",
    "commits_table",
    "date_flags",
    "files_table",
    "pr_number",
    "revert_target",
    "review_evidence",
]

REVIEW_TRAILERS = ("reviewed-by", "acked-by", "approved-by")

_PR_PATTERNS = (GITHUB_MERGE, PR_SUFFIX)

_TS = pa.timestamp("us", tz="UTC")
_TRAILER = pa.struct([("key", pa.string()), ("value", pa.string())])
_REVIEW = pa.struct([("kind", pa.string()), ("person", pa.string())])

COMMIT_SCHEMA = pa.schema(
    [
        ("repo", pa.string()),
        ("sha", pa.string()),
        ("parents", pa.list_(pa.string())),
        ("author_name", pa.string()),
        ("author_email", pa.string()),
        ("author_time", _TS),
        ("author_tz_offset_min", pa.int16()),
        ("committer_name", pa.string()),
        ("committer_email", pa.string()),
        ("committer_time", _TS),
        ("committer_tz_offset_min", pa.int16()),
        ("subject", pa.string()),
        ("body", pa.string()),
        ("trailers", pa.list_(_TRAILER)),
        ("is_merge", pa.bool_()),
        ("pr_number", pa.int64()),
        ("revert_of", pa.string()),
        ("review_evidence", pa.list_(_REVIEW)),
        ("date_flags", pa.list_(pa.string())),
        ("files_changed", pa.int32()),
        ("lines_added", pa.int64()),
        ("lines_deleted", pa.int64()),
        ("run_id", pa.int64()),
    ]
)
FILE_SCHEMA = pa.schema(
    [
        ("repo", pa.string()),
        ("sha", pa.string()),
        ("path", pa.string()),
        ("old_path", pa.string()),
        ("added", pa.int32()),
        ("deleted", pa.int32()),
        ("is_binary", pa.bool_()),
    ]
)


def pr_number(subject: str, body: str) -> int | None:
    """The PR/MR number a landing commit names (DESIGN.md, Change), or None."""
    for pattern in _PR_PATTERNS:
        m = pattern.search(subject)
        if m:
            return int(m.group(1))
    m = GITLAB_MERGE_REQUEST.search(body)
    return int(m.group(1)) if m else None


def revert_target(body: str) -> str | None:
    """The commit a ``git revert`` message says it reverts."""
    m = REVERT.search(body)
    return m.group(1) if m else None


def review_evidence(commit: Commit) -> tuple[ReviewEvidence, ...]:
    """Review trailers: who reviewed (no time: evidence, never a milestone). ``Tested-by`` is not."""
    return tuple(
        ReviewEvidence(t.key.lower(), t.value)
        for t in commit.trailers
        if t.key.lower() in REVIEW_TRAILERS
    )


def date_flags(commit: Commit, now: datetime) -> list[str]:
    """Flags for implausible dates: kept as recorded, but marked; a date git could not give as a
    time (stored as null) is ``*_malformed``."""
    flags = []
    for who, when in (("author", commit.author_time), ("committer", commit.committer_time)):
        if when is None:
            flags.append(f"{who}_malformed")
        elif when < EARLIEST_PLAUSIBLE:
            flags.append(f"{who}_before_1990")
        elif when > now:
            flags.append(f"{who}_in_future")
    return flags


def commits_table(repo: str, commits: Sequence[Commit], run_id: int, now: datetime) -> pa.Table:
    rows = []
    for c in commits:
        added = deleted = 0
        for f in c.files:
            added += f.added or 0
            deleted += f.deleted or 0
        rows.append((
            repo, c.sha, list(c.parents), c.author_name, c.author_email, c.author_time,
            c.author_tz_offset_min, c.committer_name, c.committer_email, c.committer_time,
            c.committer_tz_offset_min, c.subject, c.body,
            [{"key": t.key, "value": t.value} for t in c.trailers],
            len(c.parents) > 1, pr_number(c.subject, c.body), revert_target(c.body),
            [{"kind": r.kind, "person": r.person} for r in review_evidence(c)] if c.trailers
            else [], date_flags(c, now), len(c.files), added, deleted, run_id,
        ))
    cols = list(zip(*rows, strict=True)) if rows else [() for _ in COMMIT_SCHEMA.names]
    return pa.table({name: list(col) for name, col in zip(COMMIT_SCHEMA.names, cols,
                                                          strict=True)}, schema=COMMIT_SCHEMA)


def files_table(repo: str, commits: Sequence[Commit]) -> pa.Table:
    cols: dict[str, list[object]] = {name: [] for name in FILE_SCHEMA.names}
    for c in commits:
        for f in c.files:
            cols["repo"].append(repo)
            cols["sha"].append(c.sha)
            cols["path"].append(f.path)
            cols["old_path"].append(f.old_path)
            cols["added"].append(f.added)
            cols["deleted"].append(f.deleted)
            cols["is_binary"].append(f.is_binary)
    return pa.table(cols, schema=FILE_SCHEMA)

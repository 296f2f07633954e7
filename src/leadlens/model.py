"""The domain's records: frozen dataclasses shared by sources, store and analyses."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

__all__ = [
    "Commit", "FileChange", "FileHunks", "RangeBlame", "ReviewEvidence", "Revision", "Tag", "Trailer",
]


@dataclass(frozen=True, slots=True)
class Trailer:
    """A git trailer (``Key: value``) as git parses it; match ``key`` case-insensitively."""

    key: str
    value: str


@dataclass(frozen=True, slots=True)
class ReviewEvidence:
    """A ``Reviewed-by`` / ``Acked-by`` / ``Approved-by`` trailer: who reviewed, never when."""

    kind: str  # "reviewed-by" | "acked-by" | "approved-by"
    person: str


@dataclass(frozen=True, slots=True)
class FileChange:
    """One path a commit changed, as ``git log --numstat`` counts it (against the first parent)."""

    path: str
    old_path: str | None  # set when git detected a rename
    added: int | None  # None for binary files
    deleted: int | None
    is_binary: bool


@dataclass(frozen=True, slots=True)
class Commit:
    """A commit as stored: identity, people, times in UTC with their original offset, message."""

    sha: str
    parents: tuple[str, ...]
    author_name: str
    author_email: str
    author_time: datetime | None  # None: git could not give it as a time (flagged *_malformed)
    author_tz_offset_min: int | None
    committer_name: str
    committer_email: str
    committer_time: datetime | None
    committer_tz_offset_min: int | None
    subject: str
    body: str
    trailers: tuple[Trailer, ...]
    files: tuple[FileChange, ...] = field(default=())

    @property
    def is_merge(self) -> bool:
        return len(self.parents) > 1


@dataclass(frozen=True, slots=True)
class FileHunks:
    """The changed line ranges of one file in one commit, from ``git log -p -U0``."""

    sha: str
    path: str
    old_start: tuple[int, ...]
    old_count: tuple[int, ...]
    new_start: tuple[int, ...]
    new_count: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class Tag:
    """A tag resolved to its commit; ``time`` is the tagger date, or the commit's when lightweight."""

    name: str
    target_sha: str | None  # None when the tag does not point at a commit
    tag_object_sha: str | None  # None for lightweight tags
    is_annotated: bool
    tagger_name: str | None
    tagger_email: str | None
    time: datetime | None
    tz_offset_min: int | None
    message: str | None


@dataclass(frozen=True, slots=True)
class Revision:
    """A revision as the user named it, and the commit it resolves to."""

    name: str
    sha: str


@dataclass(frozen=True)
class RangeBlame:
    """What ``git blame A..B`` says about the files at ``B``: per path, lines per range commit
    (boundary commits left out), and the range's commits for attribution."""

    start: Revision
    end: Revision
    files: dict[str, dict[str, int]]
    commits: dict[str, Commit]

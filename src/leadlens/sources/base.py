"""The source contract: what every source offers the pipeline, and what a run reports back.

A source reads one system (git, GitHub, ...) into the store through ``store/writer.py`` and
nothing else: it computes no metric and never runs the derive step (``pipeline.py`` does, after
the run, on every repository whose derived data no longer matches what is stored).

What the API sources share, since no source may import another: the typed field readers of their
mappings (``MappingError``, ``need``, ...) and the reading of a ``--from-dir`` recording.
"""

from __future__ import annotations

import json
import os
import stat
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO, Literal, Protocol

from leadlens.config import Settings
from leadlens.errors import UserError
from leadlens.store.db import Store

__all__ = [
    "QUIET", "DeriveStart", "MappingError", "Progress", "RunSummary", "Skipped",
    "Source", "Wait", "need", "nested", "raw_json", "recorded_files", "recorded_objects", "shown",
    "time_offset", "utf8", "wrong",
]

# The derive step (derive.STEPS) a source's data feeds first: git data feeds every step, forge
# data the forge join and the items (the pipeline reports forge joins after a forge source's run),
# work item data (Jira) only the items.
DeriveStart = Literal["changes", "forge", "items"]


class Progress(Protocol):
    """What a source says while it runs. Counting sources (git) call ``start`` and ``advance``;
    sources without a known total (an API sweep) call ``update`` with a line of text."""

    def start(self, total: int, description: str) -> None: ...
    def advance(self, n: int) -> None: ...
    def update(self, text: str) -> None: ...


class _Quiet:
    def start(self, total: int, description: str) -> None:
        pass

    def advance(self, n: int) -> None:
        pass

    def update(self, text: str) -> None:
        pass


QUIET: Progress = _Quiet()


@dataclass(frozen=True)
class Skipped:
    """An object a source read but could not map: kept in ``skipped_objects`` with its reason."""

    resource: str
    url: str | None
    reason: str


@dataclass(frozen=True)
class Wait:
    """A wait a source sat out (a rate limit, a retry back-off)."""

    seconds: float
    reason: str


@dataclass
class RunSummary:
    """What one run of a source did: what it stored and skipped, the repositories it touched (the
    derive step runs on them), and whether it stopped early or failed."""

    repos: list[str] = field(default_factory=list)
    mode: str = "live"  # live | replay
    stored: Counter[str] = field(default_factory=Counter)  # objects written, by resource
    not_stored: Counter[str] = field(default_factory=Counter)  # read but not ours to store
    skipped: list[Skipped] = field(default_factory=list)
    malformed: list[str] = field(default_factory=list)  # file:line: reason (replay)
    requests: int = 0
    not_modified: int = 0
    points: int | None = None  # GraphQL rate-limit points spent (GitHub live runs)
    waits: list[Wait] = field(default_factory=list)
    complete: bool = True
    failed: bool = False  # stopped by an error (not by a request budget)
    stopped: str | None = None  # why a run stopped early (a request budget, ...)
    warnings: list[str] = field(default_factory=list)
    changes_joined: dict[str, int] = field(default_factory=dict)  # repo -> PRs joined to changes
    # Repositories this run did not touch that were derived again, and why (a changed setting,
    # a derive that had not finished).
    rederived: dict[str, str] = field(default_factory=dict)
    # What the items step made after the run (work items, links, changes linked), when it ran.
    items: dict[str, int] | None = None

    def derived(self, repo: str, *, changes: int | None, warning: str | None,
                error: str | None, reason: str | None = None, how: str | None = None) -> None:
        """Take what the derive step did for ``repo`` (the pipeline calls this after the run);
        ``how``: incremental, or why it was derived whole (git runs show it)."""
        touched = repo in self.repos
        if reason and not touched:
            self.rederived[repo] = reason
        if warning:
            self.warnings.append(warning)
        if error:
            self.warnings.append(f"{repo}: {error}")
            # A repository the run did not touch does not fail it: its derive is retried next run.
            self.failed = self.failed or touched

    def skipped_by_reason(self) -> dict[str, int]:
        return dict(Counter(f"{s.resource}: {s.reason}" for s in self.skipped).most_common())

    def to_json(self) -> dict[str, Any]:
        return {
            "repos": self.repos, "mode": self.mode, "complete": self.complete, "failed": self.failed,
            "stopped": self.stopped, "stored": dict(sorted(self.stored.items())),
            "not_stored": dict(sorted(self.not_stored.items())),
            "skipped": [{"resource": s.resource, "url": s.url, "reason": s.reason}
                        for s in self.skipped],
            "malformed": self.malformed, "requests": self.requests,
            "not_modified": self.not_modified, "points": self.points,
            "waits": [{"seconds": round(w.seconds, 1), "reason": w.reason} for w in self.waits],
            "warnings": self.warnings, "changes_joined": self.changes_joined,
            "rederived": self.rederived, "items": self.items,
        }


class Source(Protocol):
    """One system leadlens reads. ``ingest`` brings the store up to date with it (incrementally,
    idempotently, a cursor moving only with the data it covers) and says what it did."""

    @property
    def kind(self) -> str:
        """The source's name: ``leadlens ingest KIND``."""

    @property
    def derives_from(self) -> DeriveStart:
        """Where the derive step starts after this source's run."""

    def ingest(self, store: Store, settings: Settings, progress: Progress = QUIET) -> RunSummary: ...


# Typed field reads every source's mapping shares: a value of the wrong type is a MappingError that
# says which field and what it held, so one odd object is skipped, never a crash or a row the store
# cannot hold (JSON gives any type). Each source adds its own readers in its ``fields.py``.


class MappingError(ValueError):
    """An object lacks a field the mapping needs, or has one of the wrong type."""


def shown(value: object) -> str:
    """A wrong value as a reason shows it: short, whatever it holds."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def wrong(key: str, what: str, value: object) -> MappingError:
    return MappingError(f"field {key!r} is not {what}: {shown(value)}")


def need(obj: Mapping[str, Any], key: str) -> Any:
    value = obj.get(key)
    if value is None:
        raise MappingError(f"missing field {key!r}")
    return value


def nested(obj: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    """A nested object (GitHub's ``head``, Jira's ``fields``); empty when absent or null."""
    value = obj.get(key)
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise wrong(key, "an object", value)
    return value


def time_offset(value: object, key: str) -> tuple[datetime, int] | None:
    """An ISO time (GitHub's ``2021-01-25T03:09:27Z``, Jira's ``2021-01-25T11:09:27.985+0800``) as a
    UTC time and the offset it was written with (minutes east of UTC); None for null. A time
    without an offset is read as UTC."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise wrong(key, "a time", value)
    try:
        at = datetime.fromisoformat(value)
    except ValueError:
        raise wrong(key, "a time", value) from None
    offset = at.utcoffset()
    if offset is None:
        return at.replace(tzinfo=UTC), 0
    try:
        return at.astimezone(UTC), int(offset.total_seconds() // 60)
    except OverflowError:  # year 9999 west of UTC, say
        raise wrong(key, "a time", value) from None



def raw_json(obj: object) -> str | None:
    """``obj`` as the JSON the ``raw`` columns keep (characters as they are, not escaped, so that a
    lone surrogate can be replaced); None if it is nested too deeply to write."""
    try:
        return utf8(json.dumps(obj, separators=(",", ":"), ensure_ascii=False))
    except RecursionError:
        return None


def utf8(text: str) -> str:
    """``text`` with lone surrogates (a ``\\ud800`` escape in JSON: not UTF-8, which the store
    refuses) replaced by U+FFFD, as undecodable bytes are."""
    if text.isascii():
        return text
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        # Through UTF-16, where a lone surrogate is one bad unit: one U+FFFD, not three.
        return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
    return text


# Replay (``--from-dir DIR``): recorded API objects, one ``{"url", "input", "data"}`` object a line
# of ``DIR/*.jsonl``.


def recorded_files(directory: Path) -> list[Path]:
    """The ``*.jsonl`` files of ``directory``, all regular files (a FIFO or a device named
    ``*.jsonl``, or a link to one, is refused before anything is read)."""
    if not directory.is_dir():
        raise UserError(f"--from-dir {directory}: not a directory")
    files = sorted(directory.glob("*.jsonl"))
    if not files:
        raise UserError(f"--from-dir {directory}: no *.jsonl files (recorded API objects) in it")
    for path in files:
        try:
            mode = path.stat().st_mode  # follows links: a link to /dev/zero is a device
        except OSError as exc:
            raise UserError(f"cannot read {path}: {exc.strerror}") from exc
        if not stat.S_ISREG(mode):
            kind = ("a FIFO" if stat.S_ISFIFO(mode) else "a device" if stat.S_ISCHR(mode)
                    or stat.S_ISBLK(mode) else "a socket" if stat.S_ISSOCK(mode) else "not a file")
            raise UserError(f"--from-dir: {path} is {kind}, not a regular file; replay reads"
                            " recorded files only")
    return files


def recorded_objects(path: Path, max_line_bytes: int
                     ) -> Iterator[tuple[str, dict[str, Any], str | None]]:
    """``(file:line, object, None)`` for each recorded object of ``path`` (a dict with a string
    ``url`` and a ``data``), ``(file:line, {}, reason)`` for each line that is not one (a line over
    ``max_line_bytes`` is damage, skipped without being held in memory); blank lines are passed
    over. Read a line at a time, undecodable bytes replaced."""
    for lineno, line in _lines(path, max_line_bytes):
        where = f"{path.name}:{lineno}"
        if line is None:
            yield where, {}, f"longer than {max_line_bytes:,} bytes"
            continue
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            yield where, {}, f"not JSON ({exc.msg} at column {exc.colno})"
            continue
        except RecursionError:
            yield where, {}, "JSON nested too deeply"
            continue
        if not isinstance(record, dict) or not isinstance(record.get("url"), str) \
                or "data" not in record:
            yield where, {}, "not a recorded API object (url, data)"
            continue
        yield where, record, None


def _lines(path: Path, max_bytes: int) -> Iterator[tuple[int, str | None]]:
    """(line number, text) of each line; None for a line over ``max_bytes``."""
    try:
        # O_NONBLOCK: should the file have been swapped for a FIFO since it was checked, opening
        # it does not wait for a writer; the check below then refuses it.
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        raise UserError(f"cannot read {path}: {exc.strerror}") from exc
    with os.fdopen(fd, "rb") as fh:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise UserError(f"--from-dir: {path} is not a regular file; replay reads recorded"
                            " files only")
        try:
            yield from _read_lines(fh, max_bytes)
        except OSError as exc:
            raise UserError(f"cannot read {path}: {exc.strerror}") from exc


def _read_lines(fh: BinaryIO, max_bytes: int) -> Iterator[tuple[int, str | None]]:
    lineno = 0
    while raw := fh.readline(max_bytes + 1):
        lineno += 1
        if len(raw) > max_bytes and not raw.endswith(b"\n"):
            while raw and not raw.endswith(b"\n"):  # the rest of the long line, a chunk at a time
                raw = fh.readline(2**20)
            yield lineno, None
            continue
        yield lineno, raw.decode("utf-8", "replace")

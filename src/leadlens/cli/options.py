"""Options shared by commands, and what they turn into: dates, scope filters, formats, outputs."""

from __future__ import annotations

import os
import re
import secrets
import stat
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Protocol, TextIO

import typer

from leadlens.cli.app import err, out
from leadlens.config import Settings
from leadlens.conventions import BotRule
from leadlens.errors import UserError
from leadlens.report.text import safe_text

if TYPE_CHECKING:
    from leadlens.metrics.flow import Filters
    from leadlens.report.model import AiSection, Report

__all__ = [
    "REPORT_FORMATS",
    "BotsOpt",
    "CollectSinceOpt",
    "FormatOpt",
    "OutOpt",
    "PathsOpt",
    "RepoOpt",
    "ReportFormatOpt",
    "SeedOpt",
    "SinceOpt",
    "Sink",
    "StoreOpt",
    "UntilOpt",
    "check_format",
    "check_out",
    "deliver",
    "emit",
    "filters",
    "names",
    "one_line",
    "open_out",
    "to_terminal",
    "when",
]

StoreOpt = Annotated[
    Path | None,
    typer.Option("--store", help="DuckDB store file (default: .leadlens/leadlens.duckdb)."),
]
FormatOpt = Annotated[str, typer.Option("--format", help="table | json")]
SeedOpt = Annotated[int, typer.Option(
    "--seed", help="Random seed (the same seed, the same figures).")]
SinceOpt = Annotated[str | None, typer.Option(
    "--since", help="Changes merged at or after: 2024-01-31, an ISO time, or 90d / 12w ago.")]
CollectSinceOpt = Annotated[str | None, typer.Option(
    "--since", help="Read only what was updated at or after: 2024-01-31, an ISO time, or 90d ago"
    " (where a first collection starts; an earlier date than before backfills).")]
UntilOpt = Annotated[str | None, typer.Option(
    "--until", help="Changes merged before (a date includes that whole day).")]
RepoOpt = Annotated[list[str] | None, typer.Option(
    "--repo", help="Only this repository (OWNER/REPO); repeat for several.")]
BotsOpt = Annotated[bool, typer.Option(
    "--include-bots", help="Count changes by automation bots in flow metrics.")]
PathsOpt = Annotated[list[Path] | None, typer.Argument(
    metavar="PATH", help="Repositories to ingest (incrementally) first.")]
ReportFormatOpt = Annotated[str, typer.Option("--format", help="table | json | html")]
OutOpt = Annotated[Path | None, typer.Option(
    "--out", help="Write here (JSON default: standard output; HTML default: beside the store).")]
REPORT_FORMATS = ("table", "json", "html")


def check_format(fmt: str, allowed: tuple[str, ...] = ("table", "json")) -> None:
    if fmt not in allowed:
        choices = ", ".join(allowed[:-1]) + f" or {allowed[-1]}"
        raise UserError(f"--format must be {choices}, not {fmt!r}")


def when(text: str | None, *, until: bool = False) -> datetime | None:
    """A date, an ISO-8601 time (UTC unless it has an offset), or ``N[dw]`` ago."""
    if text is None:
        return None
    hint = "use 2024-01-31, 2024-01-31T12:00:00Z or 90d"
    rel = re.fullmatch(r"(\d+)\s*([dw])", text.strip())
    if re.match(r"[+-]?\d{5,}-", text.strip()):  # year 10000 and on: Python's dates stop at 9999
        raise UserError(f"{text!r} is out of range: dates run from year 1 to 9999 ({hint})")
    try:
        if rel:
            n = int(rel.group(1)) * (7 if rel.group(2) == "w" else 1)
            return datetime.now(UTC) - timedelta(days=n)
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text.strip()):
            day = datetime.fromisoformat(text.strip()).replace(tzinfo=UTC)
            return day + timedelta(days=1) if until else day
        at = datetime.fromisoformat(text.strip())
        # In UTC, so that an offset cannot carry the time past year 1 or 9999 later, in a query.
        return (at if at.tzinfo else at.replace(tzinfo=UTC)).astimezone(UTC)
    except ValueError:
        raise UserError(f"not a date: {text!r} ({hint})") from None
    except OverflowError:  # 999999999d ago, the day after 9999-12-31
        raise UserError(f"{text!r} is out of range: dates run from year 1 to 9999 ({hint})"
                        ) from None


def filters(since: str | None, until: str | None, repos: list[str] | None, include_bots: bool,
            settings: Settings) -> Filters:
    # Ibis comes with the flow metrics: imported when a command needs them, so `ingest` stays lean.
    from leadlens.metrics.flow import Filters

    lo, hi = when(since), when(until, until=True)
    if lo is not None and hi is not None and hi <= lo:
        raise UserError("--until must come after --since")
    return Filters(since=lo, until=hi, repos=tuple(repos or ()), include_bots=include_bots,
                   bots=BotRule.of(settings.bots), activity_window=settings.flow.activity_window)


def names(values: list[str] | None) -> tuple[str, ...]:
    """Repeatable, comma-separated names as one tuple."""
    return tuple(n.strip() for v in values or () for n in v.split(",") if n.strip())


class Sink(Protocol):
    """Where a command writes its output: a file, or standard output."""

    def write(self, text: str, /) -> int: ...


class _Stripped:
    """Standard output on a terminal: what is written loses its control characters (a JSON or
    CSV export quotes repository text, and a terminal would obey an escape in it). Stripped
    character by character, so where a write splits the text does not matter."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream

    def write(self, text: str, /) -> int:
        return self.stream.write(safe_text(text, newlines=True))


def to_terminal(path: Path | None) -> bool:
    """Whether output meant for ``path`` goes to a terminal (no ``--out``, stdout a tty)."""
    return path is None and sys.stdout.isatty()


def one_line(value: Any) -> Any:
    """A row's strings, at any depth, stripped for a terminal (line breaks become spaces)."""
    if isinstance(value, str):
        return safe_text(value)
    if isinstance(value, dict):
        return {k: one_line(v) for k, v in value.items()}
    if isinstance(value, list):
        return [one_line(v) for v in value]
    return value


def check_out(path: Path | None, store: Path | None) -> None:
    """Refuse an ``--out`` that is the store (or its write-ahead log), by whatever path it is
    named: a report written over it would destroy everything it was made from."""
    if path is None or store is None:
        return
    for victim in (store, store.with_name(store.name + ".wal")):
        if _same_file(path, victim):
            raise UserError(f"--out {path} is the store {store}; write the output elsewhere")


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)  # hard links and bind mounts too
    except OSError:  # one of them does not exist (yet): where each would be
        return os.path.realpath(a) == os.path.realpath(b)


@contextmanager
def open_out(path: Path | None, *, store: Path | None) -> Iterator[Sink]:
    """Standard output (stripped of control characters when it is a terminal: files and pipes get
    the data as stored), or ``path``, never the ``store``. A regular file (or none yet) is written
    through a temporary file moved over it at the end, so a failed run leaves it as it was; a
    symlink's target is written, the link kept; anything else (a FIFO, ``/dev/null``, a device)
    is written to in place: replacing it would be wrong, and as root would replace the node."""
    if path is None:
        yield _Stripped(sys.stdout) if to_terminal(path) else sys.stdout
        return
    check_out(path, store)
    try:
        if _special(path):
            with path.open("w", encoding="utf-8", newline="") as fh:
                yield fh
            return
        target = Path(os.path.realpath(path))
        target.parent.mkdir(parents=True, exist_ok=True)
        with _replacing(target) as fh:
            yield fh
    except OSError as exc:
        raise UserError(f"cannot write {path}: {exc.strerror}") from exc


def _special(path: Path) -> bool:
    """Whether ``path`` (through symlinks) exists and is not a regular file."""
    try:
        return not stat.S_ISREG(os.stat(path).st_mode)
    except FileNotFoundError:
        return False


@contextmanager
def _replacing(target: Path) -> Iterator[TextIO]:
    # A fresh name beside the target (same file system, so the move is atomic), created
    # exclusively: nothing already there, a planted symlink included, is written through.
    tmp = target.with_name(f".{target.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)  # the umask applies
    try:
        with open(fd, "w", encoding="utf-8", newline="") as fh:
            yield fh
        if target.exists():  # the file keeps its permissions
            os.chmod(tmp, stat.S_IMODE(os.stat(target).st_mode))
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def emit(text: str, path: Path | None, *, store: Path | None = None) -> None:
    with open_out(path, store=store) as fh:
        fh.write(text)


def deliver(fmt: str, document: Report | AiSection, *, store: Path, to_file: Path | None,
            html_name: str, ingest_ok: bool = True) -> None:
    """JSON to ``to_file`` or stdout; HTML to ``to_file`` or ``html_name`` beside the store, its
    path printed; else the terminal view. Exit 2 afterwards when the ingest before the report
    failed."""
    if fmt == "json":
        emit(document.model_dump_json(indent=2) + "\n", to_file, store=store)
    elif fmt == "html":
        from leadlens.report.html import render  # Jinja and plotly only for HTML

        target = to_file or store.parent / html_name
        emit(render(document), target, store=store)
        err.print("HTML report written to:", highlight=False)
        out.print(safe_text(str(target.resolve())), highlight=False, soft_wrap=True)
    else:
        from leadlens.report.terminal import render as render_terminal

        render_terminal(document, out)
    if not ingest_ok:
        raise typer.Exit(2)

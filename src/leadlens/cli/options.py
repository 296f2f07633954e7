"""Options shared by commands, and what they turn into: dates, scope filters, formats, outputs."""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TextIO

import typer

from leadlens.cli.app import err, out
from leadlens.config import Settings
from leadlens.conventions import BotRule
from leadlens.errors import UserError

if TYPE_CHECKING:
    from leadlens.metrics.flow import Filters
    from leadlens.report.model import AiSection, Report

__all__ = [
    "REPORT_FORMATS", "BotsOpt", "FormatOpt", "OutOpt", "PathsOpt", "RepoOpt", "ReportFormatOpt",
    "SinceOpt", "StoreOpt", "UntilOpt", "check_format", "deliver", "emit", "filters", "names",
    "open_out", "when",
]

StoreOpt = Annotated[
    Path | None,
    typer.Option("--store", help="DuckDB store file (default: .leadlens/leadlens.duckdb)."),
]
FormatOpt = Annotated[str, typer.Option("--format", help="table | json")]
SinceOpt = Annotated[str | None, typer.Option(
    "--since", help="Changes merged at or after: 2024-01-31, an ISO time, or 90d / 12w ago.")]
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


@contextmanager
def open_out(path: Path | None) -> Iterator[TextIO]:
    """Standard output, or ``path`` written through a temporary file and moved in place at the end
    (a failed run never leaves half a file)."""
    if path is None:
        yield sys.stdout
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        with tmp.open("w", encoding="utf-8", newline="") as fh:
            yield fh
        tmp.replace(path)
    except OSError as exc:
        raise UserError(f"cannot write {path}: {exc.strerror}") from exc


def emit(text: str, path: Path | None) -> None:
    with open_out(path) as fh:
        fh.write(text)


def deliver(fmt: str, document: Report | AiSection, *, html_target: Path, to_file: Path | None,
            ingest_ok: bool = True) -> None:
    """JSON to ``to_file`` or stdout; HTML to ``to_file`` or ``html_target``, its path printed;
    else the terminal view. Exit 2 afterwards when the ingest before the report failed."""
    if fmt == "json":
        emit(document.model_dump_json(indent=2) + "\n", to_file)
    elif fmt == "html":
        from leadlens.report.html import render  # Jinja and plotly only for HTML

        target = to_file or html_target
        emit(render(document), target)
        err.print("HTML report written to:", highlight=False)
        out.print(str(target.resolve()), highlight=False, soft_wrap=True)
    else:
        from leadlens.report.terminal import render as render_terminal

        render_terminal(document, out)
    if not ingest_ok:
        raise typer.Exit(2)

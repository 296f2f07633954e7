"""The Typer apps every command module registers on, the two consoles (text as written, control
characters stripped: ``report.text.SafeConsole``), and what a run has kept."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Annotated

import typer
from rich.text import Text

from leadlens import __version__
from leadlens.report.text import SafeConsole, safe_text

__all__ = ["Session", "ai_app", "app", "app_for", "err", "ingest_app", "labelled", "out", "session",
           "system_allocator"]

def _root_app() -> typer.Typer:
    return typer.Typer(
        name="leadlens",
        help="Measure a delivery pipeline end to end, from the systems a team already has.",
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
    )


app = _root_app()
ingest_app = typer.Typer(help="Read a source into the store (incremental, idempotent).",
                         no_args_is_help=True)
app.add_typer(ingest_app, name="ingest")
ai_app = typer.Typer(help="AI assistance: attribution with evidence, share of shipped code, impact.",
                     no_args_is_help=True)
app.add_typer(ai_app, name="ai")


def app_for(args: list[str]) -> typer.Typer:
    """``app`` with only the command (or group) ``args`` start with: Typer builds the click tree
    of every command on each run, a fifth of a one-commit ingest's start (docs/benchmarks.md).
    No command name first (``--help``, ``--version``, a typo) gets the whole app, its help and
    its errors."""
    name = args[0] if args else ""
    commands = [c for c in app.registered_commands if c.name == name]
    groups = [g for g in app.registered_groups if g.name == name]
    if not commands and not groups:
        return app
    lean = _root_app()
    lean.registered_callback = app.registered_callback
    lean.registered_commands = commands
    lean.registered_groups = groups
    return lean


out = SafeConsole()
err = SafeConsole(stderr=True)
# Off a terminal (CI logs, `2> file`, a calling program) a message stays on one line: wrapping it
# at the 80 columns Rich assumes there would split what readers grep for.
err.soft_wrap = not err.is_terminal


def labelled(label: str, style: str, message: str) -> Text:
    """``label message`` on one line, the label coloured, the message (which may quote a
    repository's names or titles) stripped of control characters."""
    return Text.assemble((label, style), " ", safe_text(message))


@dataclass
class Session:
    """What this run of a command writes to the store, for the line a Ctrl-C prints: a command
    that writes says what (``session.keeps = "the commits read so far"``) before it starts; one
    that never does leaves it None, and an interruption then changed nothing."""

    keeps: str | None = None


session = Session()


def _version(value: bool) -> None:
    if value:
        out.print(f"leadlens {__version__}")
        raise typer.Exit()


# Commands that read no table through Arrow, and start faster for not loading it (a gate on a
# 5,000-file change: docs/benchmarks.md).
_NO_ARROW = frozenset({"gate"})


def system_allocator() -> None:
    """Arrow's default pool (mimalloc) keeps freed batches mapped; the system allocator returns
    them, which keeps a long ingest's memory flat (docs/benchmarks.md)."""
    import pyarrow as pa

    pa.set_memory_pool(pa.system_memory_pool())


# Commands that need no pandas. pyarrow imports pandas (a quarter of a second, most of a one-commit
# ingest's margin: docs/benchmarks.md) on its first conversion of a Python list, only to learn its
# null markers; leadlens never hands it pandas objects. For these commands pandas cannot be
# imported until the command ends, and pyarrow goes on without it.
_NO_PANDAS = frozenset({"ingest", "derive"})


class _NoPandas:
    """An import finder for which pandas does not exist."""

    @staticmethod
    def find_spec(name: str, *_: object) -> None:
        if name == "pandas" or name.startswith("pandas."):
            raise ModuleNotFoundError(f"{name} is not used by this command", name=name)


def hide_pandas(ctx: typer.Context) -> None:
    """Make pandas unimportable until ``ctx`` closes (when no one has imported it yet)."""
    if "pandas" in sys.modules or _NoPandas in sys.meta_path:
        return
    sys.meta_path.insert(0, _NoPandas)
    ctx.call_on_close(lambda: sys.meta_path.remove(_NoPandas))


@app.callback()
def _root(
    ctx: typer.Context,
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                          help="Print the version and exit.")] = False,
) -> None:
    """leadlens: where does work wait, and what can speeding up any stage buy?"""
    session.keeps = None  # a new command (an in-process caller may run several) has kept nothing
    if ctx.invoked_subcommand not in _NO_ARROW:
        system_allocator()
    if ctx.invoked_subcommand in _NO_PANDAS:
        hide_pandas(ctx)

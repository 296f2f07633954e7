"""The command line: a thin Typer app. Each command parses, makes one library call, renders.

Exit codes: 0 success; 2 bad input (a ``UserError``: one line, never a traceback), a full disk on
standard output included; 1 a bug of ours ("please report"; ``LEADLENS_DEBUG=1`` shows the
traceback); 130 interrupted (Ctrl-C), saying what the store kept. Commands live one group per module:
``ingest`` (ingest git|github, summary), ``derive`` (derive), ``report`` (report, changes), ``ai``
(ai report|share).
"""

from __future__ import annotations

import errno
import os
import sys
from typing import NoReturn

import typer

# Pydantic looks for plugins among every installed distribution's entry points when it builds the
# first model: 30 ms of each command's start (docs/benchmarks.md). leadlens has none; a user who
# wants theirs sets the variable.
os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")

from leadlens.cli import (  # noqa: F401  (they register their commands)
    ai,
    audit,
    derive,
    forecast,
    gate,
    ingest,
    items,
    report,
    whatif,
)
from leadlens.cli.app import app, app_for, err, session
from leadlens.errors import UserError
from leadlens.report.text import safe_text

__all__ = ["app", "main"]


def main() -> None:
    """Console entry point: one-line errors, never a traceback (LEADLENS_DEBUG=1 shows it)."""
    try:
        code = app_for(sys.argv[1:])(standalone_mode=False)  # returns the exit code of a typer.Exit
        if code == 130:  # Typer turns a KeyboardInterrupt inside a command into Exit(130)
            _interrupted()
        sys.stdout.flush()  # a full disk shows here, while there is still someone to tell
        sys.exit(code if isinstance(code, int) else 0)
    except UserError as exc:
        # The message may quote a repository's names, paths or git's own words: one line, no
        # control characters.
        err.print(f"leadlens: error: {safe_text(str(exc))}", highlight=False)
        sys.exit(2)
    except typer.TyperException as exc:  # usage errors: the parser's message, exit 2
        show = getattr(exc, "show", None)
        if callable(show):
            show()
        else:
            err.print(f"leadlens: error: {safe_text(exc.format_message())}", highlight=False)
        sys.exit(exc.exit_code)
    except (typer.Exit, SystemExit) as exc:
        code = getattr(exc, "exit_code", None)
        sys.exit(code if code is not None else getattr(exc, "code", 0))
    except typer.Abort:
        err.print("leadlens: aborted")
        sys.exit(130)
    except KeyboardInterrupt:
        _interrupted()
    except OSError as exc:
        if exc.errno not in _FULL:
            _internal_error(exc)
        _cannot_write(exc)
    except Exception as exc:
        if _interrupted_query(exc):
            _interrupted()
        _internal_error(exc)


def _interrupted_query(exc: BaseException) -> bool:
    """DuckDB's answer to a Ctrl-C; only a command that loaded the store can get one (a command
    that never does, `leadlens gate` on git, does not pay for loading DuckDB here)."""
    if "leadlens.store.db" not in sys.modules:
        return False
    from leadlens.store.db import interrupted_query

    return interrupted_query(exc)


# A device that takes no more output (a full disk or quota, `> /dev/full`): the user's to fix.
_FULL = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG}


def _interrupted() -> NoReturn:
    """Ctrl-C: say what the store keeps, so nobody wonders whether to start again from nothing."""
    if session.keeps:
        what = (f"{session.keeps} stay in the store, and the next run resumes where this one"
                " stopped")
    else:
        what = "nothing was changed"
    err.print(f"leadlens: interrupted; {what}", highlight=False, markup=False)
    sys.exit(130)


def _cannot_write(exc: OSError) -> NoReturn:
    where = exc.filename or "standard output"
    err.print(f"leadlens: error: cannot write {where}: {exc.strerror}", highlight=False,
              markup=False)
    # What is still buffered for stdout would fail again at exit, with a traceback of its own.
    with open(os.devnull, "wb") as devnull:
        os.dup2(devnull.fileno(), sys.stdout.fileno())
    sys.exit(2)


def _internal_error(exc: BaseException) -> NoReturn:
    if os.environ.get("LEADLENS_DEBUG"):
        raise exc
    err.print(f"leadlens: internal error: {type(exc).__name__}: {safe_text(str(exc))} "
              "(set LEADLENS_DEBUG=1 for details and please report it)",
              highlight=False, markup=False)
    sys.exit(1)

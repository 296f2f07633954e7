"""The command line: a thin Typer app. Each command parses, makes one library call, renders.

Exit codes: 0 success; 2 bad input (a ``UserError``: one line, never a traceback); 1 a bug of ours
("please report"; ``LEADLENS_DEBUG=1`` shows the traceback). Commands live one group per module:
``ingest`` (ingest git|github, summary), ``derive`` (derive), ``report`` (report, changes), ``ai``
(ai report|share).
"""

from __future__ import annotations

import os
import sys

import pyarrow as pa
import typer

from leadlens.cli import ai, derive, ingest, report  # noqa: F401  (they register their commands)
from leadlens.cli.app import app, err
from leadlens.errors import UserError
from leadlens.report.text import safe_text

__all__ = ["app", "main"]


def main() -> None:
    """Console entry point: one-line errors, never a traceback (LEADLENS_DEBUG=1 shows it)."""
    # Arrow's default pool (mimalloc) keeps freed batches mapped; the system allocator returns
    # them, which keeps a long ingest's memory flat (docs/benchmarks.md).
    pa.set_memory_pool(pa.system_memory_pool())
    try:
        code = app(standalone_mode=False)  # returns the exit code of a typer.Exit
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
        err.print("leadlens: interrupted; what was stored so far is kept")
        sys.exit(130)
    except Exception as exc:
        if os.environ.get("LEADLENS_DEBUG"):
            raise
        err.print(f"leadlens: internal error: {type(exc).__name__}: {safe_text(str(exc))} "
                  "(set LEADLENS_DEBUG=1 for details and please report it)", highlight=False)
        sys.exit(1)

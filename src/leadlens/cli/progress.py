"""Progress on a terminal: a bar for counted work, a status line for the rest; silent otherwise."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
)
from rich.text import Text

from leadlens.cli.app import err
from leadlens.report.text import safe_text

__all__ = ["Bar", "blame_bar"]


class _Rate(ProgressColumn):
    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text(f"{speed:,.0f} commits/s" if speed else "", style="cyan")


class Bar:
    """The ``sources.base.Progress`` of the CLI: a Rich bar for counted work (``start`` and
    ``advance``), a status line for text (``update``); nothing at all off a terminal (CI logs,
    pipes)."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.progress = Progress(
            TextColumn("{task.description}", markup=False), BarColumn(), MofNCompleteColumn(), _Rate(),
            TimeElapsedColumn(), console=err, transient=False,
        ) if enabled else None
        self.task: Any = None
        self.status: Any = None

    def start(self, total: int, description: str) -> None:
        if self.progress is not None:
            self.progress.start()
            self.task = self.progress.add_task(description, total=total)

    def advance(self, n: int) -> None:
        if self.progress is not None and self.task is not None:
            self.progress.advance(self.task, n)

    def update(self, text: str) -> None:
        if not self.enabled:
            return
        # A status line names repositories: Text, as a str would be read as markup.
        line = Text(safe_text(text))
        if self.status is None:
            self.status = err.status(line)
            self.status.start()
        else:
            self.status.update(line)

    def stop(self) -> None:
        if self.progress is not None:
            self.progress.stop()
        if self.status is not None:
            self.status.stop()


@contextmanager
def blame_bar() -> Iterator[Callable[[int, int], None]]:
    """Files blamed of files to blame (files, not commits: a commits/s column would mislead)."""
    with Progress(TextColumn("git blame"), BarColumn(), MofNCompleteColumn(), TextColumn("files"),
                  TimeElapsedColumn(), console=err, disable=not err.is_terminal) as bar:
        task = bar.add_task("blame", total=None)
        yield lambda done, total: bar.update(task, completed=done, total=total)

"""A Progress (sources.base) that keeps the status lines a source says, for tests to read."""

from __future__ import annotations

__all__ = ["Said"]


class Said:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def start(self, total: int, description: str) -> None:
        pass

    def advance(self, n: int) -> None:
        pass

    def update(self, text: str) -> None:
        self.lines.append(text)

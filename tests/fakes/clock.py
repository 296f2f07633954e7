"""Fake clocks for the GitHub client's Clock protocol (now, sleep), so no test waits."""

from __future__ import annotations

__all__ = ["NOW", "FakeClock", "NoSleep"]

NOW = 1_700_000_000.0


class FakeClock:
    """Records every wait and moves time on by it, for tests that assert on the waits."""

    def __init__(self) -> None:
        self.t = NOW
        self.slept: list[float] = []

    def now(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.t += seconds


class NoSleep:
    """Time stands still at NOW and a wait returns at once."""

    def now(self) -> float:
        return NOW

    def sleep(self, seconds: float) -> None:
        pass

"""Amdahl's law for a delivery pipeline (DESIGN.md, Aggregates): what speeding up one stage buys."""

from __future__ import annotations

import math

__all__ = ["ceiling", "speedup"]


def ceiling(share: float) -> float:
    """End-to-end speed-up if the stage took no time at all: ``1 / (1 - share)``."""
    if not 0.0 <= share <= 1.0:
        raise ValueError(f"a share is a fraction in [0, 1], not {share}")
    return math.inf if share == 1.0 else 1.0 / (1.0 - share)


def speedup(share: float, k: float) -> float:
    """End-to-end speed-up when the stage gets ``k`` times faster: ``1 / ((1 - share) + share / k)``."""
    if not 0.0 <= share <= 1.0:
        raise ValueError(f"a share is a fraction in [0, 1], not {share}")
    if k <= 0:
        raise ValueError(f"a speed-up factor is positive, not {k}")
    return 1.0 / ((1.0 - share) + share / k)

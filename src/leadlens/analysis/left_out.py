"""What the flow figures leave out, counted, and the sentences that say so (DESIGN.md: nothing is
reordered or dropped silently).

Bot changes (unless ``--include-bots``), changes with no plausible merge date, changes whose
history a shallow clone cuts, and milestones with an implausible date are each left out of the
figures for a reason the reader is told, with how many.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import ibis

from leadlens.engines import one, rows
from leadlens.metrics import flow as fm
from leadlens.timeline import MILESTONES

__all__ = ["LeftOut", "left_out"]


@dataclass(frozen=True)
class LeftOut:
    bots: int = 0  # bot changes in the window (0 when they are included)
    shallow_cut: int = 0  # changes in the window whose commits reach a shallow clone's boundary
    undated: int = 0  # changes with no plausible merge date (any window: theirs is unknown)
    implausible: dict[str, int] = field(default_factory=dict)  # milestones of changes in scope

    @property
    def implausible_dates(self) -> dict[str, int]:
        """Milestones left out for their date, by name, canonical order; ``merged`` counts the
        changes left out entirely."""
        counts = {**self.implausible, **({"merged": self.undated} if self.undated else {})}
        return {m: counts[m] for m in MILESTONES if counts.get(m)}

    def messages(self, *, bots: bool = True) -> list[str]:
        out = []
        if self.undated:
            out.append(f"{self.undated} change(s) have no plausible merge date (before 1990, in"
                       " the future, or unreadable) and are left out of every figure"
                       " (evidence.implausible_dates.merged)")
        dated = sum(self.implausible.values())
        if dated:
            out.append(f"{dated} milestone(s) of changes in scope have an implausible date (before"
                       " 1990 or in the future) and are left out of flow and time-series figures,"
                       " as if missing (evidence.implausible_dates)")
        if self.shallow_cut:
            out.append(f"{self.shallow_cut} change(s) reach the boundary of a shallow clone (their"
                       " history is cut) and are left out (shallow_cut_changes): fetch the full"
                       " history (`git fetch --unshallow`) and ingest again to count them")
        if bots and self.bots:
            out.append(f"{self.bots} change(s) by automation bots are left out"
                       " (--include-bots counts them)")
        return out

    def listing_notes(self) -> list[str]:
        """What a listing of the changes (`leadlens changes`) leaves out: it lists bot changes."""
        out = []
        if self.undated:
            out.append(f"{self.undated} change(s) with no plausible merge date (before 1990, in"
                       " the future, or unreadable) are not listed")
        if self.shallow_cut:
            out.append(f"{self.shallow_cut} change(s) reaching the boundary of a shallow clone"
                       " (their history is cut) are not listed: fetch the full history"
                       " (`git fetch --unshallow`) and ingest again")
        dated = sum(self.implausible.values())
        if dated:
            out.append(f"{dated} milestone(s) with an implausible date (before 1990 or in the"
                       " future) are null and count in no stage or lead time")
        return out


def left_out(backend: ibis.BaseBackend, fl: fm.Flow) -> LeftOut:
    """What ``fl``'s figures leave out, counted."""
    lo = fl.left_out
    by = {(r["why"], r["name"]): int(r["n"]) for r in rows(
        backend, lo.group_by(["why", "name"]).aggregate(n=lo.count()))}
    bots = int(one(backend, fl.bots.aggregate(n=fl.bots.count())).get("n") or 0)
    return LeftOut(
        bots=bots,
        shallow_cut=sum(n for (why, _), n in by.items() if why == "shallow_cut"),
        undated=sum(n for (why, _), n in by.items() if why == "undated"),
        implausible={name: n for (why, name), n in by.items() if why == "implausible" and name})

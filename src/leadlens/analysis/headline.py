"""The answers in a sentence or two, said before any table: the trend, the flow and the AI headline.

The trend says whether the median lead time changed in twelve months; the flow headline says where
work waits and what speeding up coding buys; the AI headline sets Amdahl's prediction beside the
measured change in lead time.
"""

from __future__ import annotations

from leadlens.analysis.figures import FlowFigures, Scope
from leadlens.analysis.impact import Impact
from leadlens.analysis.items_summary import ItemFigures
from leadlens.analysis.trend import MIN_N, WINDOW_MONTHS, Trend
from leadlens.analysis.waiting import WaitingCause, largest
from leadlens.timeline import duration

__all__ = ["SPEC_STAGE_HINT", "ai_headline", "flow_headline", "items_headline", "trend_headline",
           "waiting_headline"]

SPEC_STAGE_HINT = ("To start the clock at the specification (spec → production), add work items:"
                   " `leadlens ingest jira PROJECT --url URL`, or GitHub issues linked to the"
                   " changes (`leadlens ingest github OWNER/REPO`).")
# What the change lead time spans, by where it ends (DESIGN.md, Lead time).
_CHANGE_SPAN = {
    "released": "first commit → production",
    "merged": "first commit → merge: no release signal",
    "mixed": "first commit → production, or merge where a repository has no release signal",
}


def trend_headline(t: Trend, end: str = "released") -> list[str]:
    """The trend in one sentence (DESIGN.md, `trend`); on the change basis, a second saying how to
    measure from the specification. ``end``: where the change lead times end (released | merged |
    mixed)."""
    what = ("Median spec → production" if t.basis == "item" else
            f"Median change lead time ({_CHANGE_SPAN.get(end, _CHANGE_SPAN['released'])})")
    when = (t.as_of.strftime("%Y-%m-%d") if t.as_of.time() == t.as_of.min.time() else
            t.as_of.strftime("%Y-%m-%d %H:%M UTC"))
    head = f"{what} over the {WINDOW_MONTHS} months to {when}:"
    cur, prev = t.current, t.previous
    if t.difference_s is None:
        line = (f"{head} not enough evidence (n={cur.n:,}; the {WINDOW_MONTHS} months before:"
                f" n={prev.n:,}; at least {MIN_N} per window).")
    else:
        values = [t.difference_s, *(t.ci95 or ())]
        unit = _unit(max(abs(v) for v in values))
        ci = (f" [95% CI {_signed(t.ci95[0], unit)}, {_signed(t.ci95[1], unit)}]"
              if t.ci95 is not None else " (no interval: the bootstrap is undefined on these data)")
        line = (f"{head} {duration(cur.median_s)} (n={cur.n:,}); the {WINDOW_MONTHS} months"
                f" before: {duration(prev.median_s)} (n={prev.n:,}); difference"
                f" {_signed(t.difference_s, unit)}{ci}.")
    return [line] if t.basis == "item" else [line, SPEC_STAGE_HINT]


_UNITS = (("d", 86400.0), ("h", 3600.0), ("m", 60.0), ("s", 1.0))


def _unit(largest: float) -> tuple[str, float]:
    """One unit for a difference and its interval, as :func:`duration` would pick for the largest."""
    if largest >= 48 * 3600:
        return _UNITS[0]
    if largest >= 3600:
        return _UNITS[1]
    return _UNITS[2] if largest >= 60 else _UNITS[3]


def _signed(seconds: float, unit: tuple[str, float]) -> str:
    name, size = unit
    digits = 1 if size >= 3600 else 0
    text = f"{abs(seconds) / size:.{digits}f}"
    sign = "" if float(text) == 0 else ("-" if seconds < 0 else "+")
    return f"{sign}{text}{name}"


def _share(x: float) -> str:
    # A stage that holds a sliver of lead time reads "<1%", not a misleading "0%".
    return f"{x:.0%}" if x >= 0.01 or x == 0 else "<1%"


def flow_headline(figures: FlowFigures, scope: Scope) -> list[str]:
    """Where work waits, coding's Amdahl ceiling, what 2x faster coding buys: sentences that stay
    true on any history (no waiting at all, a single change, direct pushes only, no releases)."""
    n = figures.changes
    if not n:
        lines = ["No change in this scope has a lead time yet."]
        if figures.in_flight.count:
            lines.append(f"{figures.in_flight.count} change(s) are in flight (merged, not released).")
        return lines
    total = sum(s.active_s + s.waiting_s for s in figures.stages)
    lines = []
    if n == 1:
        lines.append(f"Only one change has a lead time in this scope ({duration(total)}): what"
                     " follows describes that change, not a pattern.")
    if total == 0:
        if figures.lead_time_basis == "merged":
            lines.append("Every lead time in this scope is zero: each change counts as merged the"
                         " moment its work started (in git alone, a direct push is merged when it"
                         " is committed) and there is no release to end lead time later. Tag"
                         " releases (setting release_tag_pattern) or add pull request data"
                         " (`leadlens ingest github`) to see where time goes.")
        else:
            lines.append("Every lead time in this scope is zero: each change was released the moment"
                         " its work started, so there is no time to split into stages.")
        return lines
    lines.append(_waiting(figures, total, scope.activity_window_s))
    lines.append(_coding(figures))
    if figures.lead_time_basis == "merged":
        lines.append("With no release signal (release tags or releases), lead time here ends at"
                     " merge.")
    elif figures.lead_time_basis == "mixed":
        lines.append("Lead time ends at release where a repository has releases, and at merge"
                     " where it has none.")
    return lines


def _waiting(figures: FlowFigures, total: float, window_s: float) -> str:
    """Where most of the waiting is; or that there is none, or next to none, to speak of."""
    waiting = sum(s.waiting_s for s in figures.stages)
    if waiting == 0:
        return (f"No time waits: all of the lead time ({duration(total)} over {figures.changes:,}"
                f" change{'s' if figures.changes != 1 else ''}) is active, within"
                f" {duration(window_s)} after someone acted.")
    waits = max(figures.stages, key=lambda s: s.waiting_s)
    if waiting / total < 0.01:
        return (f"Almost no time waits: {_share(waiting / total)} of all lead time is waiting,"
                f" most of it in {waits.name}.")
    return (f"Most time waits in {waits.name}: {_share(waits.waiting_s / total)} of all lead time"
            f" is waiting there ({_share(waits.share)} of lead time is {waits.name}).")


def _coding(figures: FlowFigures) -> str:
    """Coding's share, its Amdahl ceiling and what 2x faster coding buys, when coding is measured."""
    coding = next((s for s in figures.stages if s.name == "coding"), None) or next(
        (s for s in figures.stages if "coding" in s.name.split("+")), None)
    if coding is None:
        return "No coding stage is measured in this scope (no work_started milestone)."
    if coding.active_s + coding.waiting_s == 0:
        return (f"No coding time is measured: every change's {coding.name} stage is zero-length"
                " (in git alone a change of a single commit, such as a direct push, shows no"
                " coding time), so this history cannot say what faster coding would buy.")
    ceiling = "unbounded" if coding.amdahl_ceiling is None else f"{coding.amdahl_ceiling:.2f}x"
    return (f"{coding.name.capitalize()} is {_share(coding.share)} of lead time: infinitely fast"
            f" {coding.name} would speed delivery up by at most {ceiling} (Amdahl's ceiling); 2x"
            f" faster {coding.name} buys {coding.speedup_if_2x:.2f}x end to end.")


def items_headline(items: ItemFigures) -> list[str]:
    """Spec → production in two sentences: how much of it passes before work starts, and what
    faster coding can buy once the specification and the queue are in the denominator."""
    total = sum(s.active_s + s.waiting_s for s in items.stages)
    if not items.delivered or total == 0:
        return []
    before = [s for s in items.stages if s.name.split("+")[0] in ("spec", "queue")
              and "coding" not in s.name.split("+")]
    share_before = sum(s.share for s in before)
    waits = max(items.stages, key=lambda s: s.waiting_s)
    lines = []
    if items.delivered == 1:
        lines.append("Only one work item was delivered: what follows describes that item, not a"
                     " pattern.")
    if items.ends != "released":
        lines.append("Spec → production ends at merge where a linked repository has no release"
                     " signal (release tags or releases)." if items.ends == "mixed" else
                     "With no release signal, spec → production here ends at merge.")
    lines += [f"Before work starts (specification and queue) is {_share(share_before)} of spec →"
             f" production over {items.delivered:,} delivered work item(s); most time waits in"
             f" {waits.name} ({_share(waits.waiting_s / total)} of spec → production)."]
    coding = [s for s in items.stages if "coding" in s.name.split("+") or s.name == "delivery"]
    if coding:
        share = min(1.0, sum(s.share for s in coding))
        names = ", ".join(s.name for s in coding)
        ceiling = "unbounded" if share >= 1 else f"{1 / (1 - share):.2f}x"
        lines.append(f"Coding ({names}) is at most {_share(share)} of spec → production:"
                     f" infinitely fast coding would speed it up by at most {ceiling}"
                     " (Amdahl's ceiling, the stages before the code included).")
    return lines


def _pct_change(value: float | None) -> str:
    return "n/a" if value is None else f"{value:+.0f}%"


def _pct_change_interval(low: float | None, high: float | None) -> str:
    if low is None or high is None:
        return ""
    return f" [{low:+.0f}%, {high:+.0f}%]"


def ai_headline(impact: Impact, changes: int, ai_changes: int) -> str:
    """How many changes are AI-assisted; then what Amdahl's law predicts for mean lead time from
    the measured stage speed-up, beside what was measured."""
    share = ai_changes / changes if changes else 0.0
    lead = (f"{ai_changes:,} of {changes:,} changes are AI-assisted"
            f" ({share:.0%})." if share == 0 or share >= 0.01 else
            f"{ai_changes:,} of {changes:,} changes are AI-assisted ({share:.2%}).")
    if not changes:
        lead = "No changes in scope."
    a = impact.amdahl
    if a is None:
        if not ai_changes and changes:
            return (f"No AI-assisted changes among {changes:,} changes: no attribution rule matched"
                    " (see `leadlens ai report --format json` for the rules in force).")
        return lead
    if not a.enough:
        return f"{lead} {impact.amdahl_basis}: {a.reason}."
    k = "n/a" if a.stage_speedup is None else f"{a.stage_speedup:.2f}x"
    text = (f"{lead} {impact.amdahl_basis}: {a.stage} is {k} as fast; with {a.stage} at "
            f"{(a.share or 0):.0%} of lead time, Amdahl's law predicts mean lead time "
            f"{_pct_change(a.predicted_change_pct)}"
            f"{_pct_change_interval(a.predicted_change_low, a.predicted_change_high)}"
            f", measured {_pct_change(a.measured_change_pct)}"
            f"{_pct_change_interval(a.measured_change_low, a.measured_change_high)}.")
    if a.median_lead_baseline is not None and a.median_lead_treatment is not None:
        text += (f" Median lead time {duration(a.median_lead_baseline)} →"
                 f" {duration(a.median_lead_treatment)}.")
    return text


def waiting_headline(causes: list[WaitingCause]) -> list[str]:
    """The largest waiting cause in one sentence (docs/metrics-coordination.md): named first when
    a coordination signal (clarification, time zones, blocked work ...) outweighs every stage's
    waiting; else the largest of them after the stage that waits most. Empty when nothing was
    measured around the code."""
    around = largest([c for c in causes if c.signal != "stages" and c.signal != "items.stages"])
    if around is None:
        return []
    top = largest(causes)
    what = (f"{around.cause}: {_hours(around.hours_per_unit)} per {around.unit} over"
            f" {around.units:,} {around.unit}{'s' if around.units != 1 else ''}")
    detail = f" ({around.detail})" if around.detail else ""
    if top is None or top is around:
        return [f"The largest waiting cause is {what}{detail}."]
    return [f"Around the code, the largest waiting cause is {what}{detail}; the most waiting"
            f" of all is {top.cause}: {_hours(top.hours_per_unit)} per {top.unit}."]


def _hours(h: float) -> str:
    return f"{h:.1f} h" if h < 48 else f"{h / 24:.1f} days"

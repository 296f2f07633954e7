"""The coordination and specification-quality sections on a terminal: one line per signal, the
figure a lead would quote first, and why a signal is null when it is."""

from __future__ import annotations

from rich.console import Console
from rich.text import Text

from leadlens.analysis.spec_quality import SpecQuality
from leadlens.report.format import duration, pct
from leadlens.report.model import Coordination
from leadlens.report.text import safe_text

__all__ = ["render_coordination"]


def _hours(h: float | None) -> str:
    return "-" if h is None else duration(h * 3600)


def _ci(low: float | None, high: float | None, scale: float = 1.0) -> str:
    if low is None or high is None:
        return ""
    return f" [95% CI {duration(low * scale)}, {duration(high * scale)}]"


def _line(console: Console, label: str, text: str) -> None:
    console.print(Text.assemble((f"{label}: ", "bold"), safe_text(text)), highlight=False)


def _spec(s: SpecQuality) -> str:
    if s.reason:
        return f"unknown: {s.reason}"
    parts = [f"{s.underspecified:,} of {s.criteria_known:,} started items"
             f" ({pct(s.underspecified_share)}) had no acceptance criteria when work started"]
    if s.scope_churn is not None:
        parts.append(f"scope changed after start in {pct(s.scope_churn.churned_share)}")
    if s.reopens is not None:
        parts.append(f"reopened {pct(s.reopens.rate)}")
    if s.bounce_backs is not None:
        parts.append(f"bounced back from review/QA {pct(s.bounce_backs.rate)}")
    lt = s.lead_time
    if lt is not None and lt.difference is not None:
        parts.append(f"underspecified items take {duration(lt.difference)} longer (median"
                     f" spec → production){_ci(lt.ci_low, lt.ci_high)}")
    return "; ".join(parts) + "."


def render_coordination(c: Coordination, spec: SpecQuality | None, console: Console) -> None:
    """After the flow and forge lines: what waits around the code, one signal per line."""
    console.print("\nAround the code (team-level" + ("; people named" if c.per_person else "")
                  + "; docs/metrics-coordination.md):", highlight=False, markup=False)
    if spec is not None:
        _line(console, "Specification", _spec(spec))
    q = c.questions
    if q.reason:
        _line(console, "Decision latency", f"unknown: {q.reason}")
    elif q.decision_latency is not None:
        d = q.decision_latency
        _line(console, "Decision latency", f"{d.questions:,} question(s), {d.answered:,} answered"
              f" after {duration(d.median_s)} (median; p85 {duration(d.p85_s)}), {d.open:,}"
              " still open.")
    tz = c.time_zones
    if tz.reason:
        _line(console, "Time zones", f"unknown: {tz.reason}")
    else:
        known = [b for b in tz.pickup or [] if b.n and b.bucket != "unknown"]
        buckets = ", ".join(f"{b.bucket} apart {_hours(b.median_h)} (n={b.n:,})" for b in known)
        extra = tz.round_trip_cross_tz_extra
        trip = (f"; 6 h or more apart, a review round trip takes {_hours(extra.hours)} more"
                f"{_ci(extra.ci_low, extra.ci_high, 3600)}" if extra and extra.hours is not None
                else "")
        outside = ("" if tz.outside_hours_share is None else
                   f"; {pct(tz.outside_hours_share)} of pickup time fell outside the reviewer's"
                   " working hours")
        _line(console, "Time zones", f"review pickup by author-reviewer distance: {buckets}"
              f"{trip}{outside}." if buckets else "unknown: " + tz.null_reasons.get(
                  "outside_hours_share", "no review with both time zones known"))
    h = c.handoffs
    if h.reason:
        _line(console, "Handoffs", f"unknown: {h.reason}")
    else:
        parts = []
        if h.assignee_changes is not None:
            parts.append(f"{pct(h.assignee_changes.share_with_handoff)} of items changed hands")
        if h.blocked is not None:
            parts.append(f"{pct(h.blocked.share_blocked)} were blocked"
                         f" ({_hours(h.blocked.hours_per_item)} per item)")
        if h.cross_team is not None:
            parts.append(f"{pct(h.cross_team.share)} depend on another team's items")
        if h.context_switching is not None:
            parts.append(f"{pct(h.context_switching.share)} of person-days juggle two or more"
                         " streams")
        _line(console, "Handoffs", "; ".join(parts) + "." if parts else "nothing measured.")
    co = c.collisions
    if co.reason:
        _line(console, "Collisions", f"unknown: {co.reason}")
    else:
        zone = (f"; hottest: {co.zones[0].repo} {co.zones[0].zone} ({co.zones[0].pairs:,}"
                " pair(s))" if co.zones else "")
        _line(console, "Collisions", f"{co.collided or 0:,} of {co.changes or 0:,} changes"
              f" ({pct(co.share)}) were in flight with another touching the same file{zone}.")
    e = c.defect_escapes
    if e.reason:
        _line(console, "Defect escapes", f"unknown: {e.reason}")
    else:
        rate, det = e.escape_rate, e.detection
        if rate is None or rate.rate is None:
            _line(console, "Defect escapes", f"{e.bugs or 0:,} bug report(s); escape rate unknown:"
                  f" {e.null_reasons.get('escape_rate', 'nothing links back')}.")
        else:
            _line(console, "Defect escapes", f"{e.escaped_bugs or 0:,} of {e.bugs or 0:,} bug(s)"
                  f" escaped to users: {pct(rate.rate)} of shipped changes; found"
                  f" {duration(det.median_s if det else None)} after release (median).")

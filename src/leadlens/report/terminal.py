"""The terminal summary: the answer first, then the stage table."""

from __future__ import annotations

from rich import box
from rich.console import Console
from rich.table import Table

from leadlens.report.model import Report

__all__ = ["duration", "render_terminal"]


def duration(seconds: float | None) -> str:
    """A duration as people say it: 45s, 12m, 3.5h, 4.2d."""
    if seconds is None:
        return "-"
    s = abs(seconds)
    if s < 60:
        text = f"{s:.0f}s"
    elif s < 3600:
        text = f"{s / 60:.0f}m"
    elif s < 48 * 3600:
        text = f"{s / 3600:.1f}h"
    else:
        text = f"{s / 86400:.1f}d"
    return ("-" if seconds < 0 else "") + text


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{x:.1%}"


def render_terminal(report: Report, console: Console) -> None:
    for line in report.headline:
        console.print(f"[bold]{line}[/]", highlight=False)
    lt = report.lead_time
    basis = report.lead_time_basis
    console.print(
        f"\n{report.changes:,} changes with a lead time (to {basis}); median {duration(lt.median_s)},"
        f" p85 {duration(lt.p85_s)}, p95 {duration(lt.p95_s)}, mean {duration(lt.mean_s)}."
        f" {report.in_flight.count:,} in flight.", highlight=False)
    if report.stages:
        table = Table(box=box.SIMPLE_HEAD, title="Where lead time goes", title_justify="left")
        for col, justify in (("stage", "left"), ("share", "right"), ("median", "right"),
                             ("waiting", "right"), ("changes", "right"), ("ceiling", "right"),
                             ("2x buys", "right")):
            table.add_column(col, justify=justify, no_wrap=col != "stage",  # type: ignore[arg-type]
                             overflow="fold")
        for s in report.stages:
            total = s.active_s + s.waiting_s
            table.add_row(
                s.name, _pct(s.share), duration(s.median_s),
                _pct(s.waiting_s / total) if total > 0 else "-", f"{s.changes_with_stage:,}",
                "inf" if s.amdahl_ceiling is None else f"{s.amdahl_ceiling:.2f}x",
                f"{s.speedup_if_2x:.2f}x")
        console.print(table)
    facts = []
    if report.throughput_per_week is not None:
        facts.append(f"throughput {report.throughput_per_week:.1f} changes/week")
    if report.release_frequency_per_week is not None:
        noun = "release" if report.releases == 1 else "releases"
        facts.append(f"{report.releases:,} {noun} ({report.release_frequency_per_week:.2f}/week)")
    if report.revert_rate is not None:
        facts.append(f"revert rate {_pct(report.revert_rate)}")
    if report.rework_rate is not None and report.rework is not None:
        facts.append(f"rework rate {_pct(report.rework_rate)} (<{report.rework.days:g} days)")
    if facts:
        console.print("; ".join(facts) + ".", highlight=False)
    if report.ai is not None:
        console.print(f"AI: {report.ai.headline} (`leadlens ai report` for the comparisons.)",
                      highlight=False)
    _forge_lines(report, console)
    for msg in report.messages:
        console.print(f"[yellow]note:[/] {msg}", highlight=False)


def _forge_lines(report: Report, console: Console) -> None:
    """One line each for DORA and review, when there is something to say."""
    d = report.dora
    if d is not None and d.basis is not None:
        lv = d.levels
        freq = "-" if d.deployment_frequency_per_day is None else \
            f"{d.deployment_frequency_per_day:.2f}/day"
        console.print(
            f"DORA ({d.basis}): deployment frequency {freq} ({lv.get('deployment_frequency') or '-'}),"
            f" change lead time {duration(d.change_lead_time_median_s)}"
            f" ({lv.get('change_lead_time') or '-'}), change fail rate {_pct(d.change_fail_rate)}"
            f" ({lv.get('change_fail_rate') or '-'}), recovery {duration(d.recovery_time_median_s)}"
            f" ({lv.get('failed_deployment_recovery_time') or '-'}), rework"
            f" {_pct(d.deployment_rework_rate)}; levels: {d.edition}.", highlight=False)
    v = report.review
    if v is not None and v.pull_requests:
        console.print(
            f"Review: pickup {duration(v.pickup_median_s)} (with bots"
            f" {duration(v.pickup_with_bots_median_s)}), review {duration(v.review_median_s)};"
            f" merged without review {_pct(v.merged_without_review_rate)}; top 10% of reviewers do"
            f" {_pct(v.top_reviewers_share)} of reviews; {v.rubber_stamp_approvals} rubber stamp(s).",
            highlight=False)

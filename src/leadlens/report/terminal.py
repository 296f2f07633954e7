"""The report and the AI section on a terminal: the answer first, then the tables.

The report's table is where lead time goes; the AI section's are its comparisons with intervals.
Text is printed as written (``markup=False``, styles as arguments) and what may quote a repository
or a setting goes through ``safe_text``: a name holding ``[/]`` or an escape sequence is just text.
"""

from __future__ import annotations

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from leadlens.analysis.figures import Stage
from leadlens.analysis.items_summary import ItemFigures
from leadlens.analysis.signal_split import SignalSplit
from leadlens.analysis.stats import Comparison, DiD
from leadlens.report.format import count, duration, interval, metric_label, pct, value
from leadlens.report.model import AiSection, Report, ReviewSignals, ToolPullRequests
from leadlens.report.terminal_coordination import render_coordination
from leadlens.report.terminal_whatif import render_whatif
from leadlens.report.text import safe_text

__all__ = ["render", "render_ai", "render_terminal"]


def _stage_table(title: str, stages: list[Stage], unit: str) -> Table:
    table = Table(box=box.SIMPLE_HEAD, title=title, title_justify="left")
    for col, justify in (("stage", "left"), ("share", "right"), ("median", "right"),
                         ("waiting", "right"), (unit, "right"), ("ceiling", "right"),
                         ("2x buys", "right")):
        table.add_column(col, justify=justify, no_wrap=col != "stage",  # type: ignore[arg-type]
                         overflow="fold")
    for s in stages:
        total = s.active_s + s.waiting_s
        table.add_row(
            Text(safe_text(s.name)), pct(s.share), duration(s.median_s),
            pct(s.waiting_s / total) if total > 0 else "-", f"{s.changes_with_stage:,}",
            "inf" if s.amdahl_ceiling is None else f"{s.amdahl_ceiling:.2f}x",
            f"{s.speedup_if_2x:.2f}x")
    return table


def _items(items: ItemFigures, console: Console) -> None:
    """Spec → production first: the stages before the code are where the answer often is."""
    d = items.spec_to_production
    console.print(
        f"\n{items.delivered:,} work items delivered (spec → production); median"
        f" {duration(d.median_s)}, p85 {duration(d.p85_s)}, mean {duration(d.mean_s)}."
        f" {items.in_flight:,} in flight, {items.without_changes:,} with no linked change.",
        highlight=False, markup=False)
    if items.stages:
        console.print(_stage_table("Where spec → production goes", items.stages, "items"))
    ln = items.linking
    if ln.coverage is not None:
        console.print(f"Linking: {ln.linked:,} of {ln.changes:,} changes ({pct(ln.coverage)}) serve"
                      " a work item.", highlight=False, markup=False)
    for u in items.unmapped_statuses[:5]:
        console.print(_note(f"status {u.status!r} of {u.project or 'an item'} has no category"
                            f" ({u.items:,} item(s)): {u.hint}"))


def render_terminal(report: Report, console: Console) -> None:
    for line in report.headline:
        console.print(safe_text(line), style="bold", highlight=False, markup=False)
    if report.items is not None:
        _items(report.items, console)
    lt = report.lead_time
    basis = report.lead_time_basis
    console.print(
        f"\n{report.changes:,} changes with a lead time (to {basis}); median {duration(lt.median_s)},"
        f" p85 {duration(lt.p85_s)}, p95 {duration(lt.p95_s)}, mean {duration(lt.mean_s)}."
        f" {report.in_flight.count:,} in flight.", highlight=False, markup=False)
    if report.stages:
        console.print(_stage_table("Where lead time goes", report.stages, "changes"))
    facts = []
    if report.throughput_per_week is not None:
        facts.append(f"throughput {report.throughput_per_week:.1f} changes/week")
    if report.release_frequency_per_week is not None:
        noun = "release" if report.releases == 1 else "releases"
        facts.append(f"{report.releases:,} {noun} ({report.release_frequency_per_week:.2f}/week)")
    if report.revert_rate is not None:
        facts.append(f"revert rate {pct(report.revert_rate)}")
    if report.rework_rate is not None and report.rework is not None:
        facts.append(f"rework rate {pct(report.rework_rate)} (<{report.rework.days:g} days)")
    if report.abandoned is not None:
        facts.append(f"{report.abandoned:,} pull request(s) closed without merging")
    if facts:
        console.print("; ".join(facts) + ".", highlight=False, markup=False)
    if report.ai is not None:
        console.print(f"AI: {safe_text(report.ai.headline)} (`leadlens ai report` for the"
                      " comparisons.)", highlight=False, markup=False)
    _forge_lines(report, console)
    if report.coordination is not None:
        render_coordination(report.coordination, report.spec_quality, console)
    if report.whatif is not None:
        render_whatif(report.whatif, console)
    for msg in report.messages:
        console.print(_note(msg))


def _note(message: str) -> Text:
    """A note may name repositories (and `--repo` values): stripped, never read as markup."""
    return Text.assemble(("note:", "yellow"), " ", safe_text(message))


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
            f" ({lv.get('change_lead_time') or '-'}), change fail rate {pct(d.change_fail_rate)}"
            f" ({lv.get('change_fail_rate') or '-'}), recovery {duration(d.recovery_time_median_s)}"
            f" ({lv.get('failed_deployment_recovery_time') or '-'}), rework"
            f" {pct(d.deployment_rework_rate)}{_caught(d.caught_before_release)};"
            f" levels: {d.edition}.", highlight=False, markup=False)
    if report.review is not None:
        console.print(_review_line(report.review), highlight=False, markup=False)


def _review_line(v: ReviewSignals) -> str:
    if v.reason:
        # The reason itself is among the notes: the line says what git alone does know.
        return (f"Review: unknown without pull request data; {v.changes_with_review_trailers:,}"
                " change(s) carry a review trailer (Reviewed-by, Acked-by, Approved-by).")
    stamps = ("rubber stamps unknown (no PR sizes)" if v.rubber_stamp_approvals is None
              else f"{v.rubber_stamp_approvals:,} rubber stamp(s)")
    ai = (f"; AI reviewed {pct(v.ai_reviewed_share)} of PRs (first AI review after"
          f" {duration(v.ai_first_review_median_s)})" if v.ai_reviewed_prs else "")
    return (f"Review: pickup {duration(v.pickup_median_s)} (with bots"
            f" {duration(v.pickup_with_bots_median_s)}), review {duration(v.review_median_s)};"
            f" merged without review {count(v.merged_without_review)}"
            f" ({pct(v.merged_without_review_rate)}){ai}; top 10% of reviewers do"
            f" {pct(v.top_reviewers_share)} of reviews; {stamps}.")


def _caught(n: int | None) -> str:
    return f"; {n:,} revert(s) caught before release (not incidents)" if n else ""


def _table(title: str, rows: list[Comparison]) -> Table:
    base, treat = rows[0].labels
    t = Table(box=box.SIMPLE_HEAD, title=f"{title}: {base} → {treat}", title_justify="left")
    t.add_column("metric", overflow="fold")
    for col in ("n", "median", "Δ [95% CI]", "p", "size-adj. Δ"):
        t.add_column(col, justify="right", overflow="fold")
    for c in rows:
        mean = c.statistic == "mean"
        b = c.mean_baseline if mean else c.median_baseline
        tr = c.mean_treatment if mean else c.median_treatment
        cells = [metric_label(c.metric) + (" (mean)" if mean else ""),
                 f"{c.n_baseline:,}/{c.n_treatment:,}", f"{value(c.metric, b)} → {value(c.metric, tr)}"]
        if not c.enough:
            t.add_row(*cells, "not enough evidence", "", "")
            continue
        t.add_row(
            *cells,
            f"{value(c.metric, c.difference, signed=True)} {interval(c.metric, c.ci_low, c.ci_high)}",
            "-" if c.p_value is None else f"{c.p_value:.3f}",
            value(c.metric, c.stratified_difference, signed=True))
    return t


def _did_table(rows: list[DiD]) -> Table:
    t = Table(box=box.SIMPLE_HEAD, title="Difference in differences (pilot team vs control team)",
              title_justify="left")
    for col in ("metric", "pilot change", "control change", "DiD", "95% CI"):
        t.add_column(col, justify="left" if col == "metric" else "right")
    for d in rows:
        if not d.enough:
            t.add_row(metric_label(d.metric), "", "", "not enough evidence", "")
            continue
        t.add_row(metric_label(d.metric), value(d.metric, d.pilot_change, signed=True),
                  value(d.metric, d.control_change, signed=True),
                  value(d.metric, d.estimate, signed=True), interval(d.metric, d.ci_low, d.ci_high))
    return t


def _by_tool_table(rows: list[ToolPullRequests]) -> Table:
    t = Table(box=box.SIMPLE_HEAD, title="Pull requests by tool (created in scope; shares of all,"
              " open included)", title_justify="left")
    for col in ("tool", "PRs", "merged", "closed\nunmerged", "open", "open →\nmerge",
                "open →\nclose"):
        t.add_column(col, justify="left" if col == "tool" else "right", no_wrap=True)
    for r in rows:
        # Text, not markup: a tool named in the settings is the user's text.
        t.add_row(Text(r.tool), f"{r.prs:,}", f"{r.merged:,} ({pct(r.merged_share)})",
                  f"{r.closed_unmerged:,} ({pct(r.closed_unmerged_share)})", f"{r.open:,}",
                  duration(r.median_open_to_merge_s), duration(r.median_open_to_close_s))
    return t


def _by_signal(b: SignalSplit, console: Console) -> None:
    """`ai report --by`: the signal as a cohort, then as the AI comparison's stratum."""
    console.print(f"\nBy {b.signal}: {b.flagged:,} change(s) with it, {b.unflagged:,} without,"
                  f" {b.unknown:,} unknown (left out).", highlight=False, markup=False)
    console.print(_table(f"Changes by {b.signal}", [b.lead_time, b.revert_rate]))
    a = b.ai_within
    if not a.enough:
        line = a.reason or "not enough evidence"
    else:
        per = "; ".join(f"{s.stratum}: {value(a.metric, s.difference, signed=True)}"
                        for s in a.strata if s.enough)
        line = (f"{value(a.metric, a.stratified_difference, signed=True)}"
                f" {interval(a.metric, a.stratified_ci_low, a.stratified_ci_high)}"
                + (f" ({per})" if per else "") if a.stratified_difference is not None else
                f"{value(a.metric, a.difference, signed=True)}"
                f" {interval(a.metric, a.ci_low, a.ci_high)} (not within {b.signal}:"
                f" {a.stratified_reason})")
    console.print(f"AI-assisted vs other, median lead time within {b.signal} and not: {line}.",
                  highlight=False, markup=False)


def render_ai(section: AiSection, console: Console) -> None:
    console.print(safe_text(section.headline), style="bold", highlight=False, markup=False)
    if section.ai_line_share is not None:
        console.print(f"AI-assisted commits changed {section.ai_line_share:.1%} of the lines the"
                      f" scope's changes changed.", highlight=False, markup=False)
    if section.rules:  # rule names come from settings, which a repository's own files can hold
        console.print("Evidence: " + "; ".join(
            f"{safe_text(r.rule)} ({r.changes:,} changes)" for r in section.rules),
            highlight=False, markup=False)
    if section.comparisons:
        console.print(_table("AI-assisted vs other changes", section.comparisons))
    if section.pilot:
        console.print(_table(f"Pilot from {section.pilot_start:%Y-%m-%d}", section.pilot))
    if section.item_pilot:
        console.print(_table(f"Work items created from {section.pilot_start:%Y-%m-%d}",
                             section.item_pilot))
    if section.did:
        console.print(_did_table(section.did))
    for s in section.survival:
        if s.ai_rewritten_share is not None or s.human_rewritten_share is not None:
            ai = "-" if s.ai_rewritten_share is None else f"{s.ai_rewritten_share:.1%}"
            hu = "-" if s.human_rewritten_share is None else f"{s.human_rewritten_share:.1%}"
            console.print(f"Lines rewritten or deleted within {s.days} days: AI {ai} of"
                          f" {s.ai_lines:,}, others {hu} of {s.human_lines:,}.", highlight=False,
                          markup=False)
    if section.by_tool:
        console.print(_by_tool_table(section.by_tool))
    if section.by_signal is not None:
        _by_signal(section.by_signal, console)
    console.print("p = Mann-Whitney U; size-adj. Δ = the difference within size buckets, weighted"
                  " by their shares (effect sizes in --format json|html).", style="dim",
                  highlight=False, markup=False)
    console.print(f"Intervals: 95% BCa bootstrap, {section.resamples:,} resamples, seed"
                  f" {section.seed}; fewer than 20 changes in a cohort (10 in a size bucket) is"
                  " not enough evidence.", style="dim", highlight=False, markup=False)
    for msg in section.messages:
        console.print(_note(msg))


def render(document: Report | AiSection, console: Console) -> None:
    """The terminal view of a report, or of the AI section on its own (`leadlens ai report`)."""
    if isinstance(document, Report):
        render_terminal(document, console)
    else:
        render_ai(document, console)

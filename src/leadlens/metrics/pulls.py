"""Pull requests in scope, merged or not: each one's outcome and turnaround, and the figures per tool.

Flow figures follow changes (merged work); abandoned work never becomes a change, so these read the
pull requests themselves. The scope's dates filter on ``created_at`` here: a pull request that was
never merged has no merge date, and one opened in scope is judged by what became of it.
"""

from __future__ import annotations

from collections.abc import Sequence

import ibis
import ibis.expr.types as ir

from leadlens.engines import one
from leadlens.metrics.flow import Filters
from leadlens.timeline import seconds_between

__all__ = ["BOT", "HUMAN", "OUTCOMES", "abandoned", "by_tool", "has_pull_requests", "pull_requests"]

HUMAN = "human"  # the tool of a pull request no attribution rule matched
BOT = "bot"  # ... and of an automation bot's, when --include-bots keeps them
OUTCOMES = ("merged", "closed_unmerged", "open")


def has_pull_requests(backend: ibis.BaseBackend, repos: Sequence[str] = ()) -> bool:
    """Whether the store holds any pull request of ``repos`` (all when empty), of any date: without
    any, what became of pull requests is unknown, not zero."""
    p = backend.table("pull_requests")
    if repos:
        p = p.filter(p.repo.isin(list(repos)))
    return bool(one(backend, p.aggregate(n=p.count())).get("n"))


def pull_requests(backend: ibis.BaseBackend, f: Filters) -> ir.Table:
    """Every pull request created in ``[since, until)`` of the scope's repositories: ``repo``,
    ``number``, ``bot`` (an automation bot opened it; left out unless ``include_bots``),
    ``outcome`` (``merged``, ``closed_unmerged`` or ``open``), ``open_to_merge_s`` (created →
    merged) and ``open_to_close_s`` (created → closed, for those closed without merging)."""
    p = f.window(backend.table("pull_requests"), "created_at")
    name = p.author.fill_null("")
    bot = f.bots.ibis(name, p.author_is_bot)
    merged = p.merged_at.notnull()
    closed = ~merged & (p.closed_at.notnull() | (p.state == "closed"))
    out = p.select(
        "repo", "number", bot=bot,
        outcome=ibis.cases((merged, "merged"), (closed, "closed_unmerged"), else_="open"),
        open_to_merge_s=ibis.ifelse(merged, seconds_between(p.merged_at, p.created_at),
                                    ibis.null("float64")),
        open_to_close_s=ibis.ifelse(closed, seconds_between(p.closed_at, p.created_at),
                                    ibis.null("float64")))
    return out if f.include_bots else out.filter(~out.bot)


def by_tool(prs: ir.Table, tools: ir.Table) -> ir.Table:
    """Per tool (``tools``: repo, number, tool of the AI-assisted pull requests; the others are
    ``human``, or ``bot`` for an automation bot's): ``prs``, one count per outcome, and the median
    turnarounds (exact, linear interpolation; null where no pull request had that outcome)."""
    t = tools.select(t_repo="repo", t_number="number", t_tool="tool")
    j = prs.left_join(t, [prs.repo == t.t_repo, prs.number == t.t_number])
    j = j.mutate(tool=j.t_tool.fill_null(ibis.ifelse(j.bot, BOT, HUMAN)))
    counts = {name: (j.outcome == name).cast("int64").sum() for name in OUTCOMES}
    return j.group_by("tool").aggregate(
        prs=j.count(), **counts,
        median_open_to_merge_s=j.open_to_merge_s.quantile(0.5),
        median_open_to_close_s=j.open_to_close_s.quantile(0.5))


def abandoned(backend: ibis.BaseBackend, f: Filters) -> int | None:
    """Pull requests created in scope and closed without merging; None without pull request data."""
    if not has_pull_requests(backend, f.repos):
        return None
    p = pull_requests(backend, f)
    p = p.filter(p.outcome == "closed_unmerged")
    return int(one(backend, p.aggregate(n=p.count())).get("n") or 0)

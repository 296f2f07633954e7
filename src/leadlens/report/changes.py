"""One row per change (`leadlens changes`): what users pipe into their own tools."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any, NamedTuple

import ibis
import ibis.expr.types as ir

from leadlens.analysis.left_out import left_out
from leadlens.attribution import Rules
from leadlens.engines import batches
from leadlens.metrics import flow as fm
from leadlens.metrics.ai import ai_commits, change_ai, pr_ai
from leadlens.timeline import MILESTONES, stage_order

__all__ = ["ChangeRows", "CsvRows", "change_rows", "iso", "write_csv", "write_jsonl"]

_BATCH = 50_000


def _query(backend: ibis.BaseBackend, fl: fm.Flow, ai: ir.Table) -> ir.Table:
    s = fl.scope
    cc = backend.table("change_commits")
    cc = cc.join(s.select("cid", "repo", change_id=s.id), ["repo", "change_id"])
    shas = cc.group_by("cid").aggregate(
        commit_shas=cc.sha.collect(order_by=[cc.author_time, cc.sha]))
    ms = fl.milestones
    pivot = ms.group_by("cid").aggregate(**{
        f"m_{m}": ms.at.max(where=ms.name == m) for m in MILESTONES})
    seg = fl.segments
    stages = seg.group_by("cid").aggregate(
        stage_names=seg.stage.collect(order_by=seg.start), stage_seconds=seg.seconds.collect(
            order_by=seg.start))
    sp = fl.spans.select("cid", "lead_time_s")
    base = s.select("cid", "repo", "number", "title", "author", "merge_sha", "lines_added",
                    "lines_deleted", "files", "is_bot", change_id=s.id)
    q = (base.left_join(shas, "cid").drop("cid_right")
         .left_join(pivot, "cid").drop("cid_right")
         .left_join(stages, "cid").drop("cid_right")
         .left_join(sp, "cid").drop("cid_right")
         .left_join(ai, "cid").drop("cid_right"))
    return q.order_by("cid")


def iso(at: datetime | None) -> str | None:
    if at is None:
        return None
    return (at if at.tzinfo else at.replace(tzinfo=UTC)).astimezone(UTC).strftime(
        "%Y-%m-%dT%H:%M:%SZ")


class ChangeRows(NamedTuple):
    stages: list[str]  # the stage names that occur, canonical order
    rows: Iterator[dict[str, Any]]  # streamed in merge order
    notes: list[str]  # what the rows leave out, and how many


def change_rows(backend: ibis.BaseBackend, filters: fm.Filters, rules: Rules | None = None
                ) -> ChangeRows:
    """The rows documented in docs/cli.md (`leadlens changes`). Each row says whether it is a bot
    change; ``filters.include_bots`` decides whether bot changes are listed (an export lists them
    unless asked not to: the caller's default)."""
    fl = fm.flow(backend, filters)
    names = backend.to_pyarrow(fl.segments.select("stage").distinct()).column("stage").to_pylist()
    rules = rules or Rules.configured()
    ai = change_ai(backend, fl, fl.upload(ai_commits(backend, rules, filters.repos)),
                   fl.upload(pr_ai(backend, rules, filters.repos)))
    notes = left_out(backend, fl).listing_notes()
    return ChangeRows(sorted(names, key=stage_order), _stream(backend, fl, ai, rules), notes)


def _stream(backend: ibis.BaseBackend, fl: fm.Flow, ai: ir.Table, rules: Rules
            ) -> Iterator[dict[str, Any]]:
    try:
        yield from _rows(backend, fl, ai, rules)
    finally:
        fl.release()


def _rows(backend: ibis.BaseBackend, fl: fm.Flow, ai: ir.Table, rules: Rules
          ) -> Iterator[dict[str, Any]]:
    # Streamed in batches so a million changes never sit in memory at once.
    for batch in batches(backend, _query(backend, fl, ai), _BATCH):
        for r in batch.to_pylist():
            evidence = r["ai_evidence"] or []
            yield {
                "id": r["change_id"], "repo": r["repo"], "number": r["number"],
                "title": r["title"], "author": r["author"], "merge_sha": r["merge_sha"],
                "commits": r["commit_shas"] or [],
                "milestones": {m: iso(r[f"m_{m}"]) for m in MILESTONES},
                # Canonical order: zero-length segments tie on their start time.
                "stages": dict(sorted(zip(r["stage_names"] or [], r["stage_seconds"] or [],
                                          strict=True), key=lambda kv: stage_order(kv[0]))),
                "lead_time_s": r["lead_time_s"],
                "lines_added": r["lines_added"], "lines_deleted": r["lines_deleted"],
                "files": r["files"], "bot": r["is_bot"],
                "ai_assisted": r["ai_evidence"] is not None,
                "ai_tool": rules.tool_of((e["rule"], e["tool"]) for e in evidence),
                "ai_line_share": r["ai_line_share"],
                "ai_evidence": evidence,
            }


def write_jsonl(rows: Iterator[dict[str, Any]], out: io.TextIOBase | Any) -> int:
    n = 0
    for row in rows:
        out.write(json.dumps(row, ensure_ascii=False) + "\n")
        n += 1
    return n


# OWASP's CSV injection rule: a spreadsheet reads a cell starting with one of these as a formula
# (tab and CR too, as some strip them first); a leading ' makes it text.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: Any) -> Any:
    """A string cell that could start a formula, neutralised; numbers (negative ones too) stay."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


class CsvRows:
    """Rows ending in ``\n`` as before, with a bare CR in a field quoted: the csv module quotes a
    field holding any character of its line terminator, so it writes with ``\r\n`` into a
    buffer and each row's terminator becomes ``\n`` on the way out."""

    def __init__(self, out: io.TextIOBase | Any, fields: list[str]) -> None:
        self.out, self.buf = out, io.StringIO()
        self.writer = csv.DictWriter(self.buf, fieldnames=fields, extrasaction="raise",
                                     lineterminator="\r\n")

    def write(self, row: dict[str, Any]) -> None:
        self.writer.writerow({k: _cell(v) for k, v in row.items()})
        self.out.write(self.buf.getvalue()[:-2] + "\n")
        self.buf.seek(0)
        self.buf.truncate()


def write_csv(rows: Iterator[dict[str, Any]], out: io.TextIOBase | Any, stages: list[str]) -> int:
    """Flattened: commits space-separated, ``milestone_<name>`` and ``stage_<name>_s`` columns;
    string cells that could start a formula get a leading ``'`` (docs/cli.md)."""
    fields = ["id", "repo", "number", "title", "author", "merge_sha", "commits",
              *[f"milestone_{m}" for m in MILESTONES], *[f"stage_{s}_s" for s in stages],
              "lead_time_s", "lines_added", "lines_deleted", "files", "bot", "ai_assisted", "ai_tool",
              "ai_line_share", "ai_evidence"]
    w = CsvRows(out, fields)
    w.write({f: f for f in fields})
    n = 0
    for row in rows:
        flat: dict[str, Any] = {k: row[k] for k in ("id", "repo", "number", "title", "author",
                                                   "merge_sha", "lead_time_s", "lines_added",
                                                   "lines_deleted", "files", "bot")}
        flat["commits"] = " ".join(row["commits"])
        flat["ai_assisted"] = row["ai_assisted"]
        flat["ai_tool"] = row["ai_tool"]
        flat["ai_line_share"] = row["ai_line_share"]
        # Pull-request evidence has no commit: "PR" stands where the sha would be.
        flat["ai_evidence"] = "; ".join(
            f"{(e['sha'] or 'PR')[:12]} {e['rule']}: {e['text']}" for e in row["ai_evidence"])
        flat.update({f"milestone_{m}": at for m, at in row["milestones"].items()})
        flat.update({f"stage_{s}_s": row["stages"].get(s) for s in stages})
        w.write(flat)
        n += 1
    return n

"""The recorded Jira objects as work items: milestones from their status categories (names are
Chinese and per site), the statuses nothing maps named, and the report's item section."""

from __future__ import annotations

from pathlib import Path

from fakes.jira import RECORDED
from leadlens.analysis.items_summary import item_figures
from leadlens.config import Settings
from leadlens.engines import connect
from leadlens.metrics import flow as fm
from leadlens.pipeline import ingest
from leadlens.report.items import ItemScope, item_rows
from leadlens.sources.jira.ingest import JiraReplay
from leadlens.store import open_store


def test_recorded_jira_items(tmp_path: Path) -> None:
    store = open_store(tmp_path / "s.duckdb")
    summary = ingest(store, JiraReplay(RECORDED), Settings())
    assert summary.items == {"items": 55, "links": 0, "linked_changes": 0}
    backend = connect(store)
    _, rows = item_rows(backend, fm.Filters(), ItemScope())
    got = {r["id"]: r["milestones"] for r in rows}
    assert len(got) == 55
    # test_jira_replay.py computes these by hand from the fixture files
    assert got["EE-1"]["item_created"] == "2020-06-12T00:13:13Z"
    assert got["EE-1"]["work_started"] == "2020-06-12T03:38:39Z"
    assert got["EE-17"]["work_started"] == "2020-07-22T06:34:22Z"
    assert got["EE-2"]["work_started"] is None
    # EE-1 moved to "Ready for Dev" (no category anywhere) before In Development: never "ready"
    assert got["EE-1"]["item_ready"] is None
    fl = fm.flow(backend, fm.Filters())
    try:
        figures = item_figures(backend, fl, fm.Filters(), k=2.0)
    finally:
        fl.release()
    assert figures is not None
    assert (figures.items, figures.delivered, figures.without_changes) == (55, 0, 55)
    # Statuses whose ids neither the status list nor any issue's own status gives a category
    unmapped = {u.status for u in figures.unmapped_statuses}
    assert {"Resolved", "Ready for Dev"} <= unmapped
    assert figures.linking.coverage is None  # no changes in the store: coverage unknown

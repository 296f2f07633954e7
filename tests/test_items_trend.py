"""The trend on the item basis: spec → production of work items delivered in the twelve months
before --as-of against the twelve before, on a repository whose every figure is known by
construction (20 items a window; each commit names its item and is released by its own tag)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.gitfixtures import Git
from tests.itemfixtures import jira_issue

from leadlens import derive
from leadlens.config import Settings
from leadlens.engines import connect
from leadlens.metrics.flow import Filters
from leadlens.pipeline import ingest_git
from leadlens.report.build import build_report
from leadlens.store import open_store

DAY = 86400.0
AS_OF = datetime(2026, 12, 1, tzinfo=UTC)


def _iso(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%SZ")


def test_item_trend_known_by_construction(tmp_path: Path) -> None:
    g = Git(tmp_path / "app")
    store = open_store(tmp_path / "s.duckdb")
    # Previous window: specified, started a day later, released 10 days after creation;
    # current window: released 4 days after creation. Items 8 days apart.
    plan = [(datetime(2024, 12, 5, tzinfo=UTC), 10), (datetime(2025, 12, 5, tzinfo=UTC), 4)]
    n = 0
    for start, days in plan:
        for i in range(20):
            n += 1
            created = start + timedelta(days=8 * i)
            g.write("a.txt", f"{n}\n")
            g.commit(f"ABC-{n}: the work", date=_iso(created + timedelta(days=1)))
            g.tag(f"v1.{n}", message=f"release {n}", date=_iso(created + timedelta(days=days)))
            jira_issue(store.con, str(1000 + n), f"ABC-{n}", created=_iso(created)[:-1])
    ingest_git(store, [tmp_path / "app"])
    assert derive.items(store, Settings()) is None  # the ingest derived them already
    report = build_report(connect(store), Filters(), as_of=AS_OF, resamples=199)
    t = report.trend
    assert t.basis == "item"
    assert (t.current.n, t.previous.n) == (20, 20)
    assert (t.current.median_s, t.previous.median_s) == (4 * DAY, 10 * DAY)
    assert t.difference_s == -6 * DAY
    assert t.ci95 == (-6 * DAY, -6 * DAY)  # every item of a window took the same time
    assert t.ratio == 0.4
    assert report.headline[0].startswith(
        "Median spec → production over the 12 months to 2026-12-01: 4.0d (n=20); the 12 months"
        " before: 10.0d (n=20); difference -6.0d")
    assert report.items is not None and report.items.delivered == 40
    assert report.items.linking.coverage == 1.0
    # the change lead time (first commit → release) is 3 and 9 days: not what the trend says
    assert report.lead_time.median_s == 6 * DAY

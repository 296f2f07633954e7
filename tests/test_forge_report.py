"""The report on the recorded GitHub repository (panjf2000/ants, replayed, no clone): golden JSON,
plus the figures a reader can check against the recorded objects."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

from leadlens.engines import connect
from leadlens.metrics.flow import Filters
from leadlens.pipeline import replay_github
from leadlens.report.build import build_report
from leadlens.report.html import render_html
from leadlens.report.model import Report
from leadlens.store import open_store

RECORDED = Path(__file__).resolve().parents[2] / "shared" / "fixtures" / "recorded-api" / "github"
GOLDEN = Path(__file__).parent / "golden" / "github-ants-report.json"
AS_OF = datetime(2024, 1, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Report:
    with open_store(tmp_path_factory.mktemp("ants") / "ants.duckdb") as st:
        replay_github(st, RECORDED)
        return build_report(connect(st), Filters(), as_of=AS_OF)


def test_one_change_per_merged_pull_request(report: Report) -> None:
    merged, abandoned = set(), set()
    for line in (RECORDED / "pull_requests.jsonl").read_text(encoding="utf-8").splitlines():
        pr = json.loads(line)["data"]
        if pr.get("merged_at"):
            merged.add(pr["number"])
        elif pr["state"] == "closed" and pr["user"]["type"] != "Bot":
            abandoned.add(pr["number"])
    assert report.abandoned == len(abandoned) == 19  # closed without merging, no bot among them
    assert report.changes == len(merged) == report.review.pull_requests  # type: ignore[union-attr]
    assert [r.repo for r in report.repos] == ["panjf2000/ants"]
    assert report.lead_time_basis == "merged"
    assert report.evidence.milestones["ready_for_review"] == len(merged)
    assert report.evidence.proxies == {}  # PR data: no git stand-ins


def test_dora_is_null_with_the_reason(report: Report) -> None:
    # The recording has no deployments, releases or tags.
    d = report.dora
    assert d is not None and d.basis is None and d.deployments == 0
    assert d.reason is not None and "no production deployments" in d.reason
    assert d.deployment_frequency_per_day is None and set(d.levels.values()) == {None}
    assert "2024" in d.edition
    assert any(m.startswith("DORA figures are null") for m in report.messages)


def test_review_signals_are_consistent(report: Report) -> None:
    rv = report.review
    assert rv is not None
    # Bots (codecov and the like) comment first: counting them shortens pickup.
    assert rv.pickup_with_bots_median_s is not None and rv.pickup_median_s is not None
    assert rv.pickup_with_bots_median_s < rv.pickup_median_s
    assert rv.reviewed_prs <= rv.pull_requests
    assert rv.merged_without_review + rv.reviewed_prs >= rv.pull_requests
    assert all(day.awaiting >= 0 for day in rv.backlog)
    assert [d.day for d in rv.backlog] == sorted(d.day for d in rv.backlog)
    html = render_html(report)
    assert 'id="dora"' in html and 'id="review"' in html


def test_golden_json(report: Report) -> None:
    data = json.loads(report.model_dump_json())
    data["generated_at"] = data["leadlens_version"] = "-"
    if os.environ.get("UPDATE_GOLDEN"):
        GOLDEN.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    assert data == json.loads(GOLDEN.read_text(encoding="utf-8"))

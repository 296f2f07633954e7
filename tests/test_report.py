"""The report on a fixture repository whose every figure can be checked by hand (gitfixtures.build_flow).

Hand computation (UTC): the direct root commit (merged 03-01 09:00), PR #1 (commits 03-04 09:00 and
13:00, merged 03-05 09:00) and PR #2 (commit 03-05 10:00, merged 03-07 10:00) ship in v1.0
(03-08 10:00). Lead times: root 169 h, #1 4 + 20 + 73 = 97 h, #2 0 + 48 + 24 = 72 h; 338 h in all.
Stages: coding 4 h, pickup+review+merge 20 + 48 = 68 h, release 169 + 73 + 24 = 266 h.
PR #3 (merged 03-12 15:00) and the revert of #2 (03-13 09:00) are in flight; dependabot's PR #4
is a bot change, left out.
"""

from __future__ import annotations

import json
import os
import re
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path

import pytest

from gitfixtures import EVIL_TITLE, Git, build_flow
from leadlens.attribution import Rules
from leadlens.engines import connect
from leadlens.metrics.flow import Filters
from leadlens.pipeline import ingest_git
from leadlens.report.build import build_ai, build_report
from leadlens.report.html import render_html
from leadlens.report.model import Report
from leadlens.store import open_store

H = 3600.0
AS_OF = datetime(2024, 3, 15, 9, tzinfo=UTC)
GOLDEN = Path(__file__).parent / "golden" / "flow-report.json"


@pytest.fixture
def report(flow_store: Path) -> Report:
    with open_store(flow_store, read_only=True) as st:
        return build_report(connect(st), Filters(), as_of=AS_OF)


def test_lead_time_hand_computed(report: Report) -> None:
    assert report.lead_time_basis == "released"
    assert report.changes == 3
    lt = report.lead_time
    assert (lt.n, lt.median_s, lt.mean_s) == (3, 97 * H, 338 * H / 3)
    # p85 of [72, 97, 169] h with linear interpolation: 97 + 0.7 * (169 - 97) = 147.4 h.
    assert lt.p85_s == pytest.approx(147.4 * H)
    assert sum(b.changes for b in report.lead_time_histogram) == 3


def test_stages_shares_and_amdahl_hand_computed(report: Report) -> None:
    by = {s.name: s for s in report.stages}
    assert list(by) == ["coding", "pickup+review+merge", "release"]
    assert by["coding"].share == pytest.approx(4 / 338)
    assert by["pickup+review+merge"].share == pytest.approx(68 / 338)
    assert by["release"].share == pytest.approx(266 / 338)
    assert sum(s.share for s in report.stages) == pytest.approx(1.0)
    assert by["pickup+review+merge"].median_s == 20 * H  # of 0, 20 and 48 h
    assert by["release"].median_s == 73 * H
    assert all(s.changes_with_stage == 3 for s in report.stages)
    # Amdahl: ceiling 1 / (1 - 4/338) = 338/334; 2x faster coding: 338/336.
    assert by["coding"].amdahl_ceiling == pytest.approx(338 / 334)
    assert by["coding"].speedup_if_2x == pytest.approx(338 / 336)
    assert by["release"].speedup_at_k == pytest.approx(1 / (72 / 338 + 266 / 338 / 2))


def test_active_and_waiting_hand_computed(report: Report) -> None:
    # 2 h after each commit is active: coding of #1 has 09:00-11:00 of 09:00-13:00; the
    # pickup+review+merge of #1 13:00-15:00 and of #2 10:00-12:00; release 2 h after each merge.
    by = {s.name: (s.active_s / H, s.waiting_s / H) for s in report.stages}
    assert by == {"coding": (2, 2), "pickup+review+merge": (4, 64), "release": (6, 260)}
    # The trend's two sentences lead (tests/test_trend.py); the flow headline follows.
    assert report.headline[2].startswith("Most time waits in release: 77% of all lead time")
    assert "2x faster coding buys 1.01x end to end" in report.headline[3]


def test_in_flight_throughput_reverts_size(report: Report) -> None:
    f = report.in_flight
    assert f.count == 2
    assert (f.age.median_s, f.age.n) == ((96 + 48) / 2 * H, 2)
    assert [(s.stage, s.changes, s.median_age_s) for s in f.by_stage] == [
        ("release", 2, (66 + 48) / 2 * H)]
    # 5 changes merged over 03-01 09:00 .. 03-13 09:00 (12 days); one release.
    assert report.throughput_per_week == pytest.approx(5 / (12 / 7))
    assert report.releases == 1
    assert [(w.week, w.changes) for w in report.weeks] == [
        ("2024-02-26", 1), ("2024-03-04", 2), ("2024-03-11", 2)]
    assert report.revert_rate == pytest.approx(1 / 5)
    assert report.reverts.reverted_changes == 1 and report.reverts.revert_changes == 1
    assert report.reverts.time_to_revert.median_s == 143 * H
    # Lines: root 1, #1 10, #2 60, #3 3, the revert 60.
    assert report.size.buckets == {"XS": 2, "S": 1, "M": 2, "L": 0, "XL": 0}
    assert report.size.median_lines == 10
    assert report.bot_changes == 1


def test_evidence_and_longest_waits(report: Report) -> None:
    assert report.evidence.milestones["merged"] == 5
    assert report.evidence.milestones["released"] == 3
    assert report.evidence.proxies == {"ready_for_review": 5}
    assert report.evidence.out_of_order == 0
    release = report.waited_longest["release"]
    assert [(w.id, w.seconds / H, w.in_flight) for w in release] == [
        ("acme/flow@50367df8c8666180aacd70538dc07ee5f0572305", 169, False),
        ("acme/flow#1", 73, False), ("acme/flow#3", 66, True),
        ("acme/flow@93007828e7fb2ea80bf607a2b3a008510e647aba", 48, True), ("acme/flow#2", 24, False)]
    assert release[1].url == "https://github.com/acme/flow/pull/1"
    assert release[4].title == EVIL_TITLE


def test_include_bots_and_filters(flow_store: Path) -> None:
    with open_store(flow_store, read_only=True) as st:
        with_bots = build_report(connect(st), Filters(include_bots=True), as_of=AS_OF)
        march_7 = build_report(connect(st), Filters(since=datetime(2024, 3, 7, tzinfo=UTC),
                                           until=datetime(2024, 3, 8, tzinfo=UTC)), as_of=AS_OF)
        nothing = build_report(connect(st), Filters(since=datetime(2030, 1, 1, tzinfo=UTC)), as_of=AS_OF)
        other = build_report(connect(st), Filters(repos=("acme/other",)), as_of=AS_OF)
    # The bot PR: commit 03-06 08:00, merged 12:00, released 03-08 10:00: 50 h.
    assert with_bots.changes == 4 and with_bots.bot_changes == 0
    assert march_7.changes == 1 and march_7.lead_time.median_s == 72 * H
    assert nothing.changes == 0 and nothing.stages == [] and nothing.lead_time.median_s is None
    assert "no change matches the filters" in nothing.messages
    assert nothing.headline[2:] == ["No change in this scope has a lead time yet."]
    # The trend has windows of its own: --since does not empty it (root, #1 and #2, no bot).
    assert nothing.trend == march_7.trend and nothing.trend.current.n == 3
    assert nothing.headline[0].startswith("Median change lead time (first commit → production)")
    assert other.trend.current.n == 0  # but the repository scope holds
    assert other.changes == 0
    assert any("no repository named acme/other" in m for m in other.messages)


def test_ai_report_says_how_many_bot_changes_it_leaves_out(flow_store: Path) -> None:
    with open_store(flow_store, read_only=True) as st:
        section = build_ai(connect(st), Filters(), Rules.configured())
        with_bots = build_ai(connect(st), Filters(include_bots=True), Rules.configured())
    assert section.changes == 5 and with_bots.changes == 6
    assert "1 change(s) by automation bots are left out (--include-bots counts them)" \
        in section.messages
    assert not any("automation bots" in m for m in with_bots.messages)


def _normalised(report: Report) -> dict[str, object]:
    data = json.loads(report.model_dump_json())
    data["generated_at"] = data["leadlens_version"] = "-"
    return data


def test_golden_json(report: Report) -> None:
    data = _normalised(report)
    if os.environ.get("UPDATE_GOLDEN"):
        GOLDEN.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    assert data == json.loads(GOLDEN.read_text(encoding="utf-8"))


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.scripts: list[dict[str, str | None]] = []
        self.links: list[str] = []
        self.cells: list[str] = []
        self.stack: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.stack.append(tag)
        if tag == "script":
            self.scripts.append(dict(attrs))
        if tag == "a":
            self.links.append(dict(attrs).get("href") or "")
        if tag == "link":
            self.links.append(dict(attrs).get("href") or "")

    def handle_endtag(self, tag: str) -> None:
        if self.stack and self.stack[-1] == tag:
            self.stack.pop()

    def handle_data(self, data: str) -> None:
        if self.stack and self.stack[-1] in ("td", "th", "a", "p"):
            self.cells.append(data.strip())


def test_html_is_self_contained_escaped_and_has_the_figures(report: Report) -> None:
    html = render_html(report)
    page = _Page()
    page.feed(html)
    # Offline: no script or stylesheet is loaded from anywhere; plotly.js is inlined.
    assert all("src" not in s for s in page.scripts)
    assert not [u for u in page.links if u.endswith((".js", ".css"))]
    assert "Plotly.newPlot" in html and len(html) > 1_000_000
    # A PR title with markup is text: escaped in the page, never a live tag.
    assert "<script>alert('pwned')</script>" not in html
    assert "Add b &lt;script&gt;alert(&#39;pwned&#39;)&lt;/script&gt; &amp; more" in html
    assert EVIL_TITLE in page.cells  # what a browser shows
    assert "https://github.com/acme/flow/pull/1" in page.links
    for figure in ("4.0d", "78.7%", "4.69\u00d7", "20.1%"):
        assert figure in page.cells, figure


def test_review_figures_are_null_from_git_alone(report: Report) -> None:
    # Git alone holds no review data: not "merged without review 5 (100.0%)" but null, with the
    # reason, in JSON, on the terminal and in HTML (DESIGN.md, Unknown is not zero).
    from rich.console import Console

    from leadlens.report.terminal import render_terminal
    rv = report.review
    assert rv is not None and rv.reason is not None and "no pull request data" in rv.reason
    assert (rv.merged_without_review, rv.merged_without_review_rate) == (None, None)
    assert (rv.pull_requests, rv.reviewers, rv.rubber_stamp_approvals, rv.backlog) == (None,) * 4
    assert rv.no_review_data == ["acme/flow"]
    data = json.loads(report.model_dump_json())["review"]
    assert data["reason"] == rv.reason and data["merged_without_review"] is None
    assert any(m == f"Review figures are null: {rv.reason}" for m in report.messages)
    console = Console(record=True, width=400)
    render_terminal(report, console)
    text = console.export_text()
    assert "merged without review" not in text
    assert "Review: unknown without pull request data" in text and rv.reason in text
    html = render_html(report)
    assert 'id="review-reason"' in html and 'id="review"' not in html
    assert "merged without review" not in html


def test_empty_store_gives_a_short_valid_report(tmp_path: Path) -> None:
    with open_store(tmp_path / "empty.duckdb") as st:
        report = build_report(connect(st), Filters(), as_of=AS_OF)
        html = render_html(report)
    assert report.changes == 0 and report.repos == [] and report.stages == []
    assert any("store is empty" in m for m in report.messages)
    assert "No stage could be measured" in html


@pytest.mark.parametrize(("k", "headers"), [
    (2.0, ["2\u00d7 faster buys"]),
    (3.0, ["2\u00d7 faster buys", "3\u00d7 faster buys"]),
])
def test_html_stage_table_shows_the_k_column_only_when_k_is_not_2(
        flow_store: Path, k: float, headers: list[str]) -> None:
    with open_store(flow_store, read_only=True) as st:
        html = render_html(build_report(connect(st), Filters(), k=k, as_of=AS_OF))
    table = html[html.index('<table id="stages">'):]
    table = table[:table.index("</table>")]
    assert re.findall(r"<th class=\"num\">(\d\u00d7 faster buys)</th>", table) == headers
    first_row = table[table.index("<tbody>"):].split("</tr>")[0]
    assert first_row.count("<td") == 7 + len(headers)


@pytest.mark.parametrize(("remote", "url"), [
    # Self-hosted: "github.com" in the path or in a longer host name is not GitHub.
    ("https://git.example.com/mirrors/github.com/acme/flow.git", None),
    ("https://github.com.example.net/acme/flow.git", None),
    # The forge's own path (a GitLab subgroup), not the name the store gives the repository.
    ("git@gitlab.com:group/sub/flow.git", "https://gitlab.com/group/sub/flow/-/merge_requests/1"),
    ("ssh://git@GitHub.com:22/acme/flow.git", "https://github.com/acme/flow/pull/1"),
])
def test_change_links_follow_the_remotes_parsed_host(tmp_path: Path, remote: str,
                                                     url: str | None) -> None:
    build_flow(tmp_path / "flow")
    Git.open(tmp_path / "flow").run("remote", "set-url", "origin", remote)
    with open_store(tmp_path / "s.duckdb") as st:
        ingest_git(st, [tmp_path / "flow"], name="acme/flow")
        report = build_report(connect(st), Filters(), as_of=AS_OF)
    pr1 = report.waited_longest["release"][1]
    assert (pr1.id, pr1.url) == ("acme/flow#1", url)

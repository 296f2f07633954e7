"""The coordination sections in the report: the waiting causes ranked and named in the headline,
`--per-person`, `--no-coordination`, and hostile text in the HTML section."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from rich.console import Console

from leadlens.analysis.figures import Stage
from leadlens.analysis.headline import waiting_headline
from leadlens.analysis.waiting import WaitingCause, largest, stage_causes
from leadlens.config import Settings
from leadlens.engines import connect
from leadlens.metrics import flow as fm
from leadlens.pipeline import ingest, replay_github
from leadlens.report.build import build_report
from leadlens.report.html import render_html
from leadlens.report.model import Report
from leadlens.report.terminal import render_terminal
from leadlens.sources.jira.ingest import JiraReplay
from leadlens.store import Store, open_store

FIXTURES = Path(__file__).resolve().parents[2] / "shared" / "fixtures" / "recorded-api"


def cause(name: str, hours: float, units: int = 10, *, signal: str = "coordination.questions",
          unit: str = "change") -> WaitingCause:
    return WaitingCause(cause=name, signal=signal, unit=unit, units=units, hours_per_unit=hours)


def stage(name: str, waiting_h: float, share: float) -> Stage:
    return Stage(name=name, share=share, median_s=None, active_s=0.0, waiting_s=waiting_h * 3600,
                 changes_with_stage=4, amdahl_ceiling=None, speedup_if_2x=1.0, speedup_at_k=1.0)


def test_stage_causes_are_hours_per_change() -> None:
    # 40 h of pickup waiting over 4 delivered changes: 10 h per change; a stage without waiting
    # is no cause.
    got = stage_causes([stage("pickup", 40, 0.5), stage("coding", 0, 0.5)], 4, unit="change",
                       signal="stages")
    assert [(c.cause, c.hours_per_unit, c.units) for c in got] == [("waiting in pickup", 10.0, 4)]
    assert stage_causes([stage("pickup", 40, 0.5)], 0, unit="change", signal="stages") == []


def test_the_largest_cause_is_named_first_when_it_is_around_the_code() -> None:
    causes = [cause("waiting in pickup", 6.0, signal="stages"),
              cause("unanswered questions", 9.5, 4, unit="item")]
    assert waiting_headline(causes) == [
        "The largest waiting cause is unanswered questions: 9.5 h per item over 4 items."]


def test_a_stage_outweighing_every_coordination_cause_is_said_after_it() -> None:
    causes = [cause("waiting in review", 72.0, signal="stages"),
              cause("waiting across time zones", 3.0, 1),
              cause("blocked", 0.0, 5, unit="item", signal="coordination.handoffs")]
    assert waiting_headline(causes) == [
        "Around the code, the largest waiting cause is waiting across time zones: 3.0 h per"
        " change over 1 change; the most waiting of all is waiting in review: 3.0 days per"
        " change."]


def test_nothing_measured_around_the_code_says_nothing() -> None:
    assert waiting_headline([cause("waiting in review", 5.0, signal="stages")]) == []
    assert largest([cause("x", 3.0, 0)]) is None  # measured on nothing: no cause


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "leadlens", *args], capture_output=True,
                          text=True, check=False, env={**os.environ, "COLUMNS": "200"})


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    """panjf2000/ants' recorded GitHub objects and the recorded Jira site in one store."""
    path = tmp_path_factory.mktemp("coord") / "s.duckdb"
    with open_store(path) as store:
        replay_github(store, FIXTURES / "github")
        ingest(store, JiraReplay(FIXTURES / "jira", ()), Settings())
        yield store


def build(store: Store, **kw: bool) -> Report:
    return build_report(connect(store), fm.Filters(), as_of=datetime(2024, 1, 1, tzinfo=UTC),
                        resamples=999, **kw)


@pytest.fixture(scope="module")
def doc(recorded: Store) -> Report:
    return build(recorded)


def test_recorded_report_has_every_signal_team_level(doc: Report) -> None:
    c = doc.coordination
    assert c is not None and c.per_person is False
    # Without a git clone there are no files, so no collisions: null with the reason.
    assert "no files changed are stored" in (c.collisions.reason or "")
    # Nobody is named without --per-person.
    assert c.questions.people is None and c.handoffs.people is None
    assert c.time_zones.offsets is None
    hours = [w.hours_per_unit for w in c.waiting_causes]
    assert hours == sorted(hours, reverse=True) and c.largest_waiting_cause == c.waiting_causes[0]
    assert {w.signal for w in c.waiting_causes} >= {"stages", "coordination.questions"}
    # The 9 started Jira items had no description; the started GitHub issue's is unknown.
    spec = doc.spec_quality
    assert spec is not None
    assert (spec.started, spec.criteria_known, spec.underspecified) == (10, 9, 9)
    # The headline names the largest cause around the code: unanswered questions, by the
    # recorded threads.
    assert any(line.startswith("Around the code, the largest waiting cause is unanswered"
                               " questions") for line in doc.headline)
    fields = json.loads(doc.model_dump_json())
    assert set(fields["coordination"]) == {
        "per_person", "questions", "time_zones", "handoffs", "collisions", "defect_escapes",
        "waiting_causes", "largest_waiting_cause"}


def test_per_person_names_people_and_no_coordination_leaves_it_out(recorded: Store) -> None:
    named = build(recorded, per_person=True).coordination
    assert named is not None and named.per_person is True
    people = named.questions.people
    assert people and all(p.person for p in people)
    plain = build(recorded, coordination=False)
    assert plain.coordination is None and plain.spec_quality is None
    assert not any("waiting cause" in line for line in plain.headline)
    proc = run("report", "--store", "nowhere.duckdb", "--per-person", "--no-coordination")
    assert proc.returncode == 2 and "--per-person" in proc.stderr
    assert "Traceback" not in proc.stderr
    proc = run("ai", "report", "--store", "nowhere.duckdb", "--by", "happiness")
    assert proc.returncode == 2 and "not a signal; one of underspecified" in proc.stderr


def test_terminal_and_html_show_the_section(doc: Report) -> None:
    console = Console(width=200, record=True, file=io.StringIO())
    render_terminal(doc, console)
    text = console.export_text()
    assert "Around the code (team-level" in text
    assert "Decision latency: 16 question(s), 11 answered" in text
    page = render_html(doc)
    assert 'id="coordination"' in page and "Decision latency: question" in page
    assert 'id="waiting-causes"' in page


def test_hostile_text_in_the_section_is_escaped() -> None:
    from leadlens.analysis.collisions import CollisionFigures, CollisionZone
    from leadlens.report.html import environment

    zone = CollisionZone(zone="<script>alert(1)</script>", repo="o/<b>r</b>", pairs=2, changes=3,
                         paths=1)
    figures = CollisionFigures(reason=None, null_reasons={}, waiting=[], window_days=21,
                               changes=3, collided=3, share=1.0, pairs=2, outcomes=[],
                               zones=[zone], teams=[])
    template = environment().from_string(
        '{% set co = c %}{% for z in co.zones %}{{ z.repo }} {{ z.zone }}{% endfor %}')
    html = template.render(c=figures)
    assert "<script>" not in html and "&lt;script&gt;" in html and "&lt;b&gt;" in html


def test_a_signal_as_cohort_and_stratum() -> None:
    """40 known changes: 20 flagged taking 30 h, 20 not taking 10 h (so flagged ones take 20 h
    longer); half of each AI-assisted, which take 2 h less in both strata (so AI within the signal
    is -2 h); 3 changes whose signal is unknown are counted and left out."""
    import pyarrow as pa

    from leadlens.analysis.impact import Cohorts
    from leadlens.analysis.signal_split import split_by_signal

    rows = []
    for i in range(40):
        flagged = i < 20
        ai = i % 2 == 0
        rows.append({"repo": "o/r", "id": f"o/r#{i}", "done": True, "size": "S",
                     "lead_time_s": ((30 if flagged else 10) - (2 if ai else 0)) * 3600.0,
                     "ai_assisted": ai, "reverted": 1.0 if flagged and i < 5 else 0.0,
                     "flag": flagged})
    for i in range(40, 43):
        rows.append({"repo": "o/r", "id": f"o/r#{i}", "done": True, "size": "S",
                     "lead_time_s": 999.0, "ai_assisted": False, "reverted": 0.0, "flag": None})
    facts = pa.Table.from_pylist(rows)
    flags = facts.select(["repo", "id", "flag"]).rename_columns(["repo", "id", "blocked"])
    got = split_by_signal(facts, flags, "blocked", Cohorts(resamples=999, seed=1))
    assert (got.changes, got.flagged, got.unflagged, got.unknown) == (43, 20, 20, 3)
    assert got.lead_time.labels == ("not blocked", "blocked")
    assert got.lead_time.difference == pytest.approx(20 * 3600)
    assert got.revert_rate.difference == pytest.approx(5 / 20)
    a = got.ai_within
    assert {s.stratum: s.difference for s in a.strata} == {
        "blocked": pytest.approx(-2 * 3600), "not blocked": pytest.approx(-2 * 3600)}
    assert a.stratified_difference == pytest.approx(-2 * 3600)


GOLDEN = Path(__file__).parent / "golden" / "coordination-recorded.json"


def test_golden_json(doc: Report) -> None:
    """The coordination and specification-quality sections of the recorded GitHub (ants) and
    Jira histories, byte for byte (UPDATE_GOLDEN=1 rewrites it; review the diff)."""
    data = json.loads(doc.model_dump_json(include={"coordination", "spec_quality"}))
    text = json.dumps(data, indent=2, sort_keys=True) + "\n"
    if os.environ.get("UPDATE_GOLDEN"):
        GOLDEN.write_text(text, encoding="utf-8")
    assert json.loads(GOLDEN.read_text(encoding="utf-8")) == data

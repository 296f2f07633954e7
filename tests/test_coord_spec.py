"""Specification quality (docs/metrics-coordination.md): a hand-made scenario whose every figure is
worked out by hand below, and the recorded Jira objects."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import ibis
import pyarrow as pa
import pytest
from tests.forgefixtures import FETCHED, issue
from tests.gitfixtures import Git
from tests.itemfixtures import changelog, jira_issue, jira_status, t

from fakes.jira import RECORDED
from leadlens import derive
from leadlens.analysis.spec_quality import (
    NO_DESCRIPTION_HISTORY,
    NO_ITEMS,
    SpecQuality,
    differences,
    spec_quality_figures,
)
from leadlens.config import Settings
from leadlens.engines import connect, rows
from leadlens.metrics import flow as fm
from leadlens.metrics.items import ItemFlow, item_flow
from leadlens.metrics.spec_quality import spec_change_flags
from leadlens.pipeline import ingest, ingest_git
from leadlens.sources.jira.ingest import JiraReplay
from leadlens.store import Store, open_store

DAY = 86400.0
AS_OF = datetime(2026, 12, 1, tzinfo=UTC)
SETTINGS = Settings(teams={"platform": ["ABC"]})


def _git(path: Path) -> dict[str, str]:
    """One change per commit on main (direct pushes), released by v1.0 on 2024-01-10 10:00."""
    g = Git(path)
    g.write("a.txt", "0\n")
    sha = {"c0": g.commit("initial", date="2024-01-01T10:00:00Z")}
    g.write("search.txt", "a\nb\nc\nd\n")
    sha["c1"] = g.commit("ABC-1 add search", date="2024-01-04T10:00:00Z")
    g.write("cache.txt", "1\n2\n3\n4\n")
    sha["c2"] = g.commit("ABC-2 faster cache", date="2024-01-06T10:00:00Z")
    (path / "cache.txt").unlink()
    sha["c3"] = g.commit(f'Revert "ABC-2 faster cache"\n\nThis reverts commit {sha["c2"]}.\n',
                         date="2024-01-07T10:00:00Z")
    g.write("login.txt", "x\ny\n")
    sha["c4"] = g.commit("ABC-4 login checklist", date="2024-01-08T10:00:00Z")
    g.tag("v1.0", message="release 1.0", date="2024-01-10T10:00:00Z")
    return sha


def _description(con, issue_id: str, at: str, frm: str | None, to: str) -> None:  # type: ignore[no-untyped-def]
    changelog(con, issue_id, at, field="description", frm=frm, to=to)


def _jira(store: Store) -> None:
    con = store.con
    jira_status(con, "1", "Backlog", "new")
    jira_status(con, "3", "In Progress", "indeterminate")
    jira_status(con, "6", "In Review", "indeterminate")
    jira_status(con, "4", "Done", "done")
    con.execute("INSERT INTO jira_users (account_id, display_name, account_type, fetched_at)"
                " VALUES ('bot-1', 'Automation for Jira', 'app', ?)", [FETCHED])

    def issue_with(id: str, key: str, created: str, description: str | None, **kw: object) -> None:
        jira_issue(con, id, key, created=created, status_id=str(kw.pop("status_id", "4")),
                   **kw)  # type: ignore[arg-type]
        con.execute("UPDATE jira_issues SET description = ? WHERE id = ?", [description, id])

    def move(id: str, at: str, frm: str, to: str, to_id: str) -> None:
        changelog(con, id, at, frm=frm, to=to, to_id=to_id)

    # ABC-1: specified — its acceptance criteria were written (01-02) before work started (01-03).
    spec = "Search by name\n\nh2. Acceptance criteria\n* finds by name"
    issue_with("101", "ABC-1", "2024-01-01T10:00", spec)
    _description(con, "101", "2024-01-02T10:00", None, spec)
    move("101", "2024-01-03T10:00", "Backlog", "In Progress", "3")
    move("101", "2024-01-10T10:00", "In Progress", "Done", "4")
    # ABC-2: underspecified — the criteria came only after work started (edit on 01-05).
    issue_with("102", "ABC-2", "2023-12-30T10:00",
               "Make it faster\n\nAcceptance criteria: p95 under 1s")
    move("102", "2024-01-03T10:00", "Backlog", "In Progress", "3")
    _description(con, "102", "2024-01-05T10:00", "Make it faster",
                 "Make it faster\n\nAcceptance criteria: p95 under 1s")
    move("102", "2024-01-10T10:00", "In Progress", "Done", "4")
    # ABC-3: specified (Given/When/Then), done, reopened, done again; no change serves it.
    issue_with("103", "ABC-3", "2024-01-01T10:00",
               "Given a user\nwhen they log out\nthen the session ends")
    move("103", "2024-01-03T10:00", "Backlog", "In Progress", "3")
    move("103", "2024-01-06T10:00", "In Progress", "Done", "4")
    move("103", "2024-01-08T10:00", "Done", "In Progress", "3")
    move("103", "2024-01-10T10:00", "In Progress", "Done", "4")
    # ABC-4: specified (a checklist); bounced from In Review back to In Progress once; story
    # points changed before (not churn) and after work started; a link added and one removed.
    issue_with("104", "ABC-4", "2024-01-01T10:00",
               "Login page\n- [ ] login works\n- [ ] logout works")
    changelog(con, "104", "2024-01-02T10:00", field="Story Points", frm="2", to="3")
    move("104", "2024-01-03T10:00", "Backlog", "In Progress", "3")
    move("104", "2024-01-04T10:00", "In Progress", "In Review", "6")
    changelog(con, "104", "2024-01-04T12:00", field="Story Points", frm="3", to="5")
    move("104", "2024-01-05T10:00", "In Review", "In Progress", "3")
    changelog(con, "104", "2024-01-05T11:00", field="Link", to="This issue blocks ABC-1",
              to_id="ABC-1")
    changelog(con, "104", "2024-01-05T12:00", field="Link", frm="This issue blocks ABC-3")
    move("104", "2024-01-06T10:00", "In Progress", "In Review", "6")
    move("104", "2024-01-09T10:00", "In Review", "Done", "4")
    # ABC-5: never started: not counted. ABC-6: a bot's item, left out unless bots are included.
    issue_with("105", "ABC-5", "2024-01-01T10:00", None, status="Backlog", status_id="1",
               category="new")
    issue_with("106", "ABC-6", "2024-01-01T10:00", None, reporter="bot-1", status="In Progress",
               status_id="3", category="indeterminate")
    move("106", "2024-01-03T10:00", "Backlog", "In Progress", "3")
    # app#7: a GitHub issue (no body history: criteria unknown), started, closed and reopened.
    issue(con, "app", 7, created="2024-01-02T10:00", labels=(), body="- [ ] it works")
    raw = json.dumps({"previousStatus": "Todo", "status": "In Progress"})
    for id, event, at, detail in (("e1", "project_v2_status_changed", "2024-01-04T10:00",
                                   "In Progress"),
                                  ("e2", "closed", "2024-01-06T10:00", None),
                                  ("e3", "reopened", "2024-01-07T10:00", None)):
        con.execute(
            "INSERT INTO issue_events (repo, number, id, event, actor, actor_is_bot, \"at\","
            " detail, source, fetched_at, raw) VALUES ('app', 7, ?, ?, 'ann', FALSE, ?, ?,"
            " 'github', ?, ?)", [id, event, t(at), detail, FETCHED, raw])
    # app#8: opened by an AI agent (its work counts; it is never a person), started 01-04 12:00.
    issue(con, "app", 8, created="2024-01-02T10:00", labels=())
    con.execute("UPDATE issues SET author = 'copilot-swe-agent[bot]' WHERE number = 8")
    con.execute(
        "INSERT INTO issue_events (repo, number, id, event, actor, actor_is_bot, \"at\","
        " detail, source, fetched_at, raw) VALUES ('app', 8, 'e4', 'project_v2_status_changed',"
        " 'ann', FALSE, ?, 'In Progress', 'github', ?, ?)", [t("2024-01-04T12:00"), FETCHED, raw])


def _make(base: Path) -> tuple[Store, dict[str, str]]:
    sha = _git(base / "app")
    store = open_store(base / "s.duckdb")
    ingest_git(store, [base / "app"], line_history=True)
    _jira(store)
    assert derive.items(store, SETTINGS) is not None
    return store, sha


@dataclass
class Built:
    store: Store
    sha: dict[str, str]
    backend: ibis.BaseBackend
    fl: fm.Flow  # the report's flow with no filter
    items: ItemFlow  # the item timeline (it depends on no filter these tests vary)
    default: SpecQuality  # the figures with no filter, per person


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Built]:
    store, sha = _make(tmp_path_factory.mktemp("spec"))
    backend = connect(store)
    fl = fm.flow(backend, fm.Filters())
    items = item_flow(backend, fm.Filters(), fl.cache)
    default = spec_quality_figures(backend, fl, fm.Filters(), SETTINGS, AS_OF, per_person=True,
                                   resamples=999, items=items)
    yield Built(store, sha, backend, fl, items, default)
    fl.release()


def _figures(b: Built, filters: fm.Filters, *, as_of: datetime = AS_OF) -> SpecQuality:
    """The figures over ``filters`` (a flow of their own; the item timeline is shared)."""
    if filters == fm.Filters():
        return spec_quality_figures(b.backend, b.fl, filters, SETTINGS, as_of, resamples=999,
                                    items=b.items)
    fl = fm.flow(b.backend, filters)
    try:
        return spec_quality_figures(b.backend, fl, filters, SETTINGS, as_of, resamples=999,
                                    items=b.items)
    finally:
        fl.release()


def _once(store: Store, settings: Settings) -> SpecQuality:
    backend = connect(store)
    fl = fm.flow(backend, fm.Filters())
    try:
        return spec_quality_figures(backend, fl, fm.Filters(), settings, AS_OF, resamples=999)
    finally:
        fl.release()


def test_acceptance_criteria_at_work_start(scenario: Built) -> None:
    f = scenario.default
    assert f.reason is None
    # Started: ABC-1..4, app#7 and app#8 (ABC-5 never started, ABC-6 is a bot's).
    assert f.started == 6
    # Known: the four Jira items; GitHub issues keep no body history. With criteria when work started:
    # ABC-1 (heading, written before start), ABC-3 (Given/When/Then), ABC-4 (checklist); ABC-2's
    # description at start was "Make it faster": underspecified although today's text has them.
    assert (f.criteria_known, f.with_criteria, f.underspecified) == (4, 3, 1)
    assert f.underspecified_share == 0.25
    assert f.null_reasons == {}


def test_scope_churn_after_work_started(scenario: Built) -> None:
    c = scenario.default.scope_churn
    assert c is not None
    # ABC-2: one description edit after start; ABC-4: one story-point change after start (the
    # one before does not count) and one link added (the removed one does not count).
    assert (c.items, c.churned, c.churned_share) == (4, 2, 0.5)
    assert (c.description_edits, c.story_point_changes, c.links_added) == (1, 1, 1)
    assert c.events_per_item == 0.75


def test_reopens_and_bounce_backs(scenario: Built) -> None:
    f = scenario.default
    assert f.reopens is not None and f.bounce_backs is not None
    # Done: ABC-1..4 and app#7. Reopened: ABC-3 (Done -> In Progress), app#7 (closed -> reopened).
    assert (f.reopens.done, f.reopens.reopened, f.reopens.reopens, f.reopens.rate) == (5, 2, 2, 0.4)
    # ABC-4 went In Review -> In Progress once (In Progress -> In Review is not a bounce).
    b = f.bounce_backs
    assert (b.items, b.bounced, b.bounces, b.rate, b.per_item) == (6, 1, 1, 1 / 6, 1 / 6)


def test_lead_time_revert_and_rework_by_specification(
        scenario: Built) -> None:
    f = scenario.default
    lead, revert, rework = f.lead_time, f.revert_rate, f.rework_rate
    assert lead is not None and revert is not None and rework is not None
    # Delivered (v1.0, 2024-01-10 10:00): ABC-1 and ABC-4 created 01-01 (9 d), ABC-2 created
    # 12-30 (11 d). ABC-3 has no change: no spec -> production.
    assert (lead.n_specified, lead.n_underspecified) == (2, 1)
    assert (lead.specified, lead.underspecified) == (9 * DAY, 11 * DAY)
    assert lead.difference is None and lead.reason is not None
    assert lead.reason.startswith("not enough evidence")
    # Reverted: ABC-2's first change was reverted; ABC-1's and ABC-4's were not.
    assert (revert.n_specified, revert.specified, revert.n_underspecified,
            revert.underspecified) == (2, 0.0, 1, 1.0)
    # Rework (line history): ABC-2's changes touch 4 new lines, then delete those 4 one day old:
    # 4 recent of 8 changed = 0.5; ABC-1 and ABC-4 only add lines: 0.
    assert (rework.specified, rework.underspecified) == (0.0, 0.5)


def test_per_team_and_per_person(scenario: Built) -> None:
    f = scenario.default
    teams = {t.team: t for t in f.teams}
    assert set(teams) == {"platform", "app"}
    p, a = teams["platform"], teams["app"]
    assert (p.started, p.criteria_known, p.underspecified, p.underspecified_share) == (4, 4, 1, 0.25)
    assert (p.churned_share, p.bounce_rate, p.done, p.reopen_rate) == (0.5, 0.25, 4, 0.25)
    # app#7 and app#8: criteria and churn unknown (null), not zero
    assert (a.started, a.criteria_known, a.underspecified_share, a.churned_share) == (2, 0, None, None)
    assert (a.bounce_rate, a.done, a.reopen_rate) == (0.0, 1, 1.0)
    people = f.people
    assert people is not None
    # the agent that opened app#8 is not a person
    assert [(x.person, x.started, x.underspecified_share) for x in people] == [
        ("acc-1", 4, 0.25), ("ops", 1, None)]


def test_bots_window_and_as_of(scenario: Built) -> None:
    with_bots = _figures(scenario, fm.Filters(include_bots=True))
    # ABC-6 (a bot's, no description) counts only when bots are included
    assert (with_bots.started, with_bots.underspecified) == (7, 2)
    # Window on work started: only app#7 and app#8 started on 01-04 or later
    late = _figures(scenario, fm.Filters(since=t("2024-01-04T00:00")))
    assert late.people is None  # people only when asked for
    assert (late.started, late.criteria_known, late.underspecified_share) == (2, 0, None)
    assert late.null_reasons["underspecified_share"] == NO_DESCRIPTION_HISTORY
    assert late.scope_churn is None and "scope_churn" in late.null_reasons
    # As of 01-05 00:00: ABC-2's description edit, ABC-3's reopening, app#7's closing are later
    early = _figures(scenario, fm.Filters(), as_of=t("2024-01-05T00:00"))
    assert early.started == 6
    assert early.scope_churn is not None and early.scope_churn.description_edits == 0
    assert early.scope_churn.story_point_changes == 1
    assert early.reopens is not None and (early.reopens.done, early.reopens.reopened) == (0, 0)
    assert early.reopens.rate is None and "reopens.rate" in early.null_reasons
    # Nothing started in a window: counts are zero, shares null with the reason
    none = _figures(scenario, fm.Filters(since=t("2025-01-01T00:00")))
    assert none.started == 0 and none.underspecified_share is None
    assert none.null_reasons["underspecified_share"] == "no work item started in the window"


def test_change_flags(scenario: Built) -> None:
    b, sha = scenario, scenario.sha
    got = {r["id"]: r["underspecified"]
           for r in rows(b.backend, spec_change_flags(b.backend, b.fl, SETTINGS))}
    # c0 serves no item: unknown. c2 and its revert c3 serve ABC-2 (underspecified).
    assert got == {f"app@{sha['c0']}": None, f"app@{sha['c1']}": False,
                   f"app@{sha['c2']}": True, f"app@{sha['c3']}": True,
                   f"app@{sha['c4']}": False}


def test_no_items_and_git_only(tmp_path: Path) -> None:
    store = open_store(tmp_path / "s.duckdb")
    g = Git(tmp_path / "app")
    g.write("a.txt", "0\n")
    g.commit("ABC-1 a commit with no item", date="2024-01-01T10:00:00Z")
    ingest_git(store, [tmp_path / "app"])
    f = _once(store, SETTINGS)
    assert f.reason == NO_ITEMS
    assert f.started == 0 and f.underspecified_share is None and f.teams == []


def test_recorded_jira(tmp_path: Path) -> None:
    store = open_store(tmp_path / "s.duckdb")
    ingest(store, JiraReplay(RECORDED), Settings())
    f = _once(store, Settings())
    # Work started (a move into an In Progress category): EE-1, 17, 19, 23, 25, 26, 27, 31, 36.
    # No EE issue has a description, and none was edited: no acceptance criteria at start.
    assert (f.started, f.criteria_known, f.with_criteria, f.underspecified_share) == (9, 9, 0, 1.0)
    # No churn: the two description edits are of issues the recording holds no issue for (ids
    # 13383 and 13954), the Link rows of DZFNK0168 issues (never started) and of one not held.
    assert f.scope_churn is not None and f.scope_churn.churned == 0
    # Done: the 30 EE issues (all moved to Closed); reopened: EE-24 (Closed -> To Do, 2020-06-12).
    assert f.reopens is not None
    assert (f.reopens.done, f.reopens.reopened, f.reopens.reopens) == (30, 1, 1)
    # No status of the site is a review or QA status: no bounce-back.
    assert f.bounce_backs is not None and f.bounce_backs.bounces == 0
    assert f.lead_time is not None and f.lead_time.reason is not None  # no changes: not delivered
    assert [t.team for t in f.teams] == ["EE"]


def test_differences_with_intervals() -> None:
    # 20 specified items delivered in 1..20 days, 20 underspecified in 3..22 days: medians 10.5 d
    # and 12.5 d, difference 2 d. Reverted: 2 of 20 against 6 of 20. Rework: 1 against 3 recent
    # lines of 10 changed. Two items of unknown specification (a GitHub issue) are left out.
    n = 20
    facts = pa.table({
        "criteria": [True] * n + [False] * n + [None, None],
        "lead_time_s": [d * DAY for d in range(1, n + 1)] + [d * DAY for d in range(3, n + 3)]
        + [1000 * DAY, 1000 * DAY],
        "changes": [1] * (2 * n + 2),
        "reverted": [i < 2 for i in range(n)] + [i < 6 for i in range(n)] + [True, True],
        "changed_lines": [10] * (2 * n + 2),
        "recent_lines": [1] * n + [3] * n + [10, 10],
    }, schema=pa.schema([("criteria", pa.bool_()), ("lead_time_s", pa.float64()),
                         ("changes", pa.int64()), ("reverted", pa.bool_()),
                         ("changed_lines", pa.int64()), ("recent_lines", pa.int64())]))
    lead, revert, rework = differences(facts, resamples=999, seed=1)
    assert (lead.n_specified, lead.n_underspecified) == (20, 20)
    assert (lead.specified, lead.underspecified, lead.difference) == (10.5 * DAY, 12.5 * DAY,
                                                                      2 * DAY)
    assert revert.difference == pytest.approx(0.2) and rework.difference == pytest.approx(0.2)
    for d in (lead, revert, rework):
        assert d.reason is None and d.method is not None
        assert d.ci_low is not None and d.ci_high is not None
        assert d.ci_low <= d.difference <= d.ci_high  # type: ignore[operator]
    # Every rework rate is exact (0.1 against 0.3): the interval cannot be wider than the values
    assert rework.ci_low == pytest.approx(0.2) and rework.ci_high == pytest.approx(0.2)

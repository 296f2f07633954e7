"""Handoffs and flow (docs/metrics-coordination.md): hand-made scenarios whose every figure is
worked out by hand in the comments, a git-only store, and the recorded Jira objects."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import duckdb
import pytest
from tests.forgefixtures import FETCHED, comment, issue, pr, pr_commit, review
from tests.gitfixtures import Git
from tests.itemfixtures import jira_issue, jira_status, t

from fakes.jira import RECORDED
from leadlens import derive
from leadlens.analysis.handoffs import (
    NO_ITEMS,
    HandoffFigures,
    handoff_change_flags,
    handoff_figures,
)
from leadlens.config import Settings
from leadlens.conventions import BotRule
from leadlens.engines import connect, rows
from leadlens.metrics import flow as fm
from leadlens.metrics.handoffs import (
    assignee_changes,
    blocked_time,
    cross_team_links,
    item_participants,
)
from leadlens.pipeline import ingest_git
from leadlens.sources.jira.ingest import JiraReplay
from leadlens.store import Store, open_store

H = 3600.0
AS_OF = datetime(2024, 3, 20, 5, 0, tzinfo=UTC)
MARCH = fm.Filters(since=datetime(2024, 3, 1, tzinfo=UTC), until=datetime(2024, 3, 11, tzinfo=UTC))

_ids = iter(range(1, 10**9))


def _cl(con: duckdb.DuckDBPyConnection, issue_id: str, at: str, field: str,
        frm: str | None, to: str | None, *, to_id: str | None = None,
        author: str = "acc-1") -> None:
    """A changelog row; for an assignee, the account ids are the values (as Jira Cloud has it)."""
    ids = field == "assignee"
    con.execute(
        "INSERT INTO jira_changelog (issue_id, history_id, item_index, field, field_id,"
        " from_value, from_string, to_value, to_string, author, \"at\", fetched_at)"
        " VALUES (?, ?, 0, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [issue_id, str(next(_ids)), field, field if field in ("status", "assignee") else None,
         frm if ids else None, frm, to if ids else to_id, to, author, t(at), FETCHED])


def _move(con: duckdb.DuckDBPyConnection, issue_id: str, at: str, frm: str, to: str) -> None:
    ids = {"To Do": "1", "In Progress": "3", "Done": "4", "Blocked": "6"}
    _cl(con, issue_id, at, "status", frm, to, to_id=ids[to])


def _link(con: duckdb.DuckDBPyConnection, issue_id: str, type_: str, direction: str,
          phrase: str, other_id: str | None, other_key: str) -> None:
    con.execute("INSERT INTO jira_issue_links VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [issue_id, str(next(_ids)), type_, direction, phrase, other_id, other_key,
                 FETCHED])


def _jira(con: duckdb.DuckDBPyConnection) -> None:
    for sid, name, cat in (("1", "To Do", "new"), ("3", "In Progress", "indeterminate"),
                           ("4", "Done", "done"), ("6", "Blocked", "indeterminate")):
        jira_status(con, sid, name, cat)
    # ABC-1: reassigned twice — alice (the first assignment: no handoff), bob, nobody, carol.
    jira_issue(con, "1", "ABC-1", created="2024-03-01T09:00", status_id="4",
               resolved="2024-03-10T09:00")
    _cl(con, "1", "2024-03-01T10:00", "assignee", None, "alice")
    _move(con, "1", "2024-03-02T09:00", "To Do", "In Progress")
    _cl(con, "1", "2024-03-02T10:00", "assignee", "alice", "bob")
    _cl(con, "1", "2024-03-03T10:00", "assignee", "bob", None)
    _cl(con, "1", "2024-03-04T10:00", "assignee", None, "carol")
    _move(con, "1", "2024-03-10T09:00", "In Progress", "Done")
    con.execute("INSERT INTO jira_comments (issue_id, id, author, body, created_at, fetched_at)"
                " VALUES ('1', 'c1', 'dave', 'ok?', ?, ?), ('1', 'c2', 'app-1', 'auto', ?, ?)",
                [t("2024-03-05T09:00"), FETCHED, t("2024-03-05T09:05"), FETCHED])
    con.execute("INSERT INTO jira_users (account_id, display_name, account_type, fetched_at)"
                " VALUES ('app-1', 'Automation for Jira', 'app', ?)", [FETCHED])
    _link(con, "1", "Relates", "outward", "relates to", None, "OTHER-9")  # not in the store
    # ABC-2: flagged 10 h, then blocked by ABC-3 from ABC-3's creation until it is done 20 h later.
    jira_issue(con, "2", "ABC-2", created="2024-03-01T00:00", status_id="4",
               resolved="2024-03-08T00:00")
    _move(con, "2", "2024-03-01T00:00", "To Do", "In Progress")
    _cl(con, "2", "2024-03-05T00:00", "Flagged", None, "Impediment")
    _cl(con, "2", "2024-03-05T10:00", "Flagged", "Impediment", None)
    _move(con, "2", "2024-03-08T00:00", "In Progress", "Done")
    _link(con, "2", "Blocks", "inward", "is blocked by", "3", "ABC-3")
    _link(con, "2", "Relates", "outward", "relates to", "20", "XYZ-1")
    jira_issue(con, "3", "ABC-3", created="2024-03-05T10:00", status_id="4",
               resolved="2024-03-06T06:00")
    _move(con, "3", "2024-03-06T06:00", "To Do", "Done")
    # ABC-4: the same, but its blocker exists from 05:00: [00:00, 10:00] and [05:00, +20 h] = 25 h.
    jira_issue(con, "4", "ABC-4", created="2024-03-01T00:00", status_id="4",
               resolved="2024-03-09T00:00")
    _move(con, "4", "2024-03-04T00:00", "To Do", "In Progress")
    _cl(con, "4", "2024-03-05T00:00", "Flagged", None, "Impediment")
    _cl(con, "4", "2024-03-05T10:00", "Flagged", "Impediment", None)
    _move(con, "4", "2024-03-09T00:00", "In Progress", "Done")
    jira_issue(con, "5", "ABC-5", created="2024-03-05T05:00", status_id="4",
               resolved="2024-03-06T01:00")
    _move(con, "5", "2024-03-06T01:00", "To Do", "Done")
    # The link is listed on the blocker's side only: "ABC-5 blocks ABC-4".
    _link(con, "5", "Blocks", "outward", "blocks", "4", "ABC-4")
    # ABC-6: 12 h in the Blocked status; carol's second item (in progress 03-02 and 03-03).
    jira_issue(con, "6", "ABC-6", created="2024-03-01T00:00", status_id="4",
               resolved="2024-03-04T00:00")
    _move(con, "6", "2024-03-02T00:00", "To Do", "In Progress")
    _move(con, "6", "2024-03-03T00:00", "In Progress", "Blocked")
    _move(con, "6", "2024-03-03T12:00", "Blocked", "In Progress")
    _move(con, "6", "2024-03-04T00:00", "In Progress", "Done")
    # ABC-7: blocked since 03-20 00:00 and still blocked at as_of (05:00): 5 h.
    jira_issue(con, "7", "ABC-7", created="2024-03-01T00:00", status="Blocked", status_id="6",
               category="indeterminate")
    _move(con, "7", "2024-03-19T00:00", "To Do", "In Progress")
    _move(con, "7", "2024-03-20T00:00", "In Progress", "Blocked")
    # ABC-9: no changelog at all.
    jira_issue(con, "9", "ABC-9", created="2024-03-01T00:00", status="To Do", status_id="1",
               category="new")
    # XYZ-1 (another project: another team): created with erin assigned, handed to frank.
    jira_issue(con, "20", "XYZ-1", created="2024-03-02T00:00", status="In Progress",
               status_id="3", category="indeterminate")
    _move(con, "20", "2024-03-03T00:00", "To Do", "In Progress")
    _cl(con, "20", "2024-03-04T00:00", "assignee", "erin", "frank")
    con.execute("UPDATE jira_issues SET assignee = 'carol' WHERE id IN ('1', '6')")
    con.execute("UPDATE jira_issues SET assignee = 'frank' WHERE id = '20'")


@pytest.fixture(scope="module")
def jira_store(tmp_path_factory: pytest.TempPathFactory) -> Store:
    store = open_store(tmp_path_factory.mktemp("handoffs") / "s.duckdb")
    _jira(store.con)
    assert derive.items(store, Settings()) is not None
    return store


def _figures(store: Store, filters: fm.Filters = MARCH, settings: Settings | None = None,
             **kw: Any) -> HandoffFigures:
    backend = connect(store)
    fl = fm.flow(backend, filters)
    try:
        return handoff_figures(backend, fl, filters, settings or Settings(), AS_OF,
                               resamples=199, **kw)
    finally:
        fl.release()


@pytest.fixture(scope="module")
def jira_figs(jira_store: Store) -> HandoffFigures:
    return _figures(jira_store, per_person=True)


def test_assignee_changes(jira_store: Store, jira_figs: HandoffFigures) -> None:
    got = {r["item_id"]: r["handoffs"] for r in rows(connect(jira_store),
                                                      assignee_changes(connect(jira_store)))}
    # ABC-1: alice → bob → (nobody) → carol = 2; XYZ-1: erin → frank = 1; the rest none (ABC-9
    # has no changelog at all: 0, its history is in the store).
    assert got == {"ABC-1": 2, "ABC-2": 0, "ABC-3": 0, "ABC-4": 0, "ABC-5": 0, "ABC-6": 0,
                   "ABC-7": 0, "ABC-9": 0, "XYZ-1": 1}
    f = jira_figs
    a = f.assignee_changes
    assert a is not None
    # nine items: [0 x7, 1, 2]; p85 at 0.85 * 8 = 6.8: 0 + 0.8 * (1 - 0)
    assert (a.items, a.median, a.p85, a.share_with_handoff) == (9, 0.0, pytest.approx(0.8),
                                                                 pytest.approx(2 / 9))
    by = {x.team: (x.items, x.median, x.share_with_handoff) for x in f.assignee_changes_by_team or []}
    assert by == {"ABC": (8, 0.0, 1 / 8), "XYZ": (1, 1.0, 1.0)}


def test_participants(jira_figs: HandoffFigures) -> None:
    p = jira_figs.item_participants
    # ABC-1: acc-1 (reporter, moves), alice, bob, carol, dave (a comment); the app account's
    # comment is no person's. ABC-6: acc-1, carol. XYZ-1: acc-1, erin, frank. Others: acc-1.
    # [1 x6, 2, 3, 5]: median 1, mean 16/9, p85 at 6.8: 2 + 0.8 * (3 - 2)
    assert p is not None
    assert (p.n, p.median, p.mean, p.p85) == (9, 1.0, pytest.approx(16 / 9), pytest.approx(2.8))


def test_blocked_union_and_clipping(jira_store: Store, jira_figs: HandoffFigures) -> None:
    b = {r["item_id"]: r for r in rows(connect(jira_store), blocked_time(
        connect(jira_store), ("Blocked", "On Hold"), AS_OF))}
    hours = {k: r["blocked_s"] / H for k, r in b.items()}
    # ABC-2: flagged [03-05 00:00, 10:00] and blocked by ABC-3 [10:00, 03-06 06:00]: 10 + 20
    # ABC-4: [00:00, 10:00] and [05:00, 03-06 01:00] = 25 (not 30: the overlap counts once)
    # ABC-6: Blocked 03-03 00:00 → 12:00; ABC-7: Blocked since 03-20 00:00, as_of 05:00
    assert hours == {"ABC-2": 30.0, "ABC-4": 25.0, "ABC-6": 12.0, "ABC-7": 5.0}
    assert (b["ABC-2"]["flagged"], b["ABC-2"]["blocked_by"], b["ABC-2"]["status"]) == (
        True, True, False)
    f = jira_figs
    bl = f.blocked
    assert bl is not None
    # 4 of 9 blocked, 72 h over 9 items; median of [5, 12, 25, 30]
    assert (bl.items, bl.blocked_items, bl.share_blocked, bl.hours_per_item,
            bl.median_hours_blocked) == (9, 4, pytest.approx(4 / 9), 8.0, 18.5)
    assert bl.by_kind == {"flagged": 2, "status": 2, "blocked_by": 2}
    # waiting cause: 72 h over the 6 started items (ABC-1, -2, -4, -6, -7, XYZ-1)
    (w,) = f.waiting
    assert (w.cause, w.unit, w.units, w.hours_per_unit) == ("blocked", "item", 6, 12.0)


def test_cross_team(jira_store: Store, jira_figs: HandoffFigures) -> None:
    c = jira_figs.cross_team
    assert c is not None
    # ABC-1 → OTHER-9 (not stored: its project is its team), ABC-2 ↔ XYZ-1; ABC's blockers are
    # its own team's.
    assert (c.items, c.linked_items, c.links, c.share) == (9, 3, 3, pytest.approx(1 / 3))
    # no item was delivered (no changes): no lead time to compare, and the reason says so
    assert (c.lead_time.n_with, c.lead_time.n_without) == (0, 0)
    assert c.lead_time.difference_s is None and c.lead_time.reason
    one_team = Settings(teams={"core": ["ABC", "XYZ"]}).coordination.teams
    backend = connect(jira_store)
    got = {r["item_id"]: r["cross_links"]
           for r in rows(backend, cross_team_links(backend, one_team)) if r["cross_links"]}
    assert got == {"ABC-1": 1}  # only OTHER-9 (a project no team names) is elsewhere


def test_wip_per_team_per_day(jira_figs: HandoffFigures) -> None:
    f = jira_figs
    assert (f.first_day, f.last_day) == (date(2024, 3, 1), date(2024, 3, 10))
    series: dict[str, list[int]] = {}
    for d in f.wip_daily or []:
        series.setdefault(d.team or "", []).append(d.wip)
    # ABC: 03-01 ABC-2; 03-02..03 +ABC-1, ABC-6 (done 03-04 00:00); 03-04..07 ABC-1, -2, -4;
    # 03-08 ABC-1, -4 (ABC-2 done 03-08 00:00); 03-09..10 ABC-1. XYZ-1 from 03-03, not done:
    # its two days with nothing in progress are not listed (but counted in wip_by_team).
    assert series == {"ABC": [1, 3, 3, 3, 3, 3, 3, 2, 1, 1], "XYZ": [1, 1, 1, 1, 1, 1, 1, 1]}
    assert min(d.day for d in f.wip_daily or [] if d.team == "XYZ") == date(2024, 3, 3)
    assert [(w.team, w.days, w.median, w.max) for w in f.wip_by_team or []] == [
        ("ABC", 10, 3.0, 3), ("XYZ", 10, 1.0, 1)]


def test_context_switching_of_items(jira_figs: HandoffFigures) -> None:
    f = jira_figs
    cs = f.context_switching
    # carol: ABC-1 03-02..03-10 (9 days), ABC-6 beside it on 03-02 and 03-03; frank: XYZ-1
    # 03-03..03-10 (8 days).
    assert cs is not None and (cs.person_days, cs.switching_days) == (17, 2)
    # no changes in scope: the change figures are null with the reason
    assert f.change_participants is None
    assert f.null_reasons == {"change_participants": "no changes in scope"}
    assert [(p.person, p.person_days, p.switching_days) for p in f.people or []] == [
        ("carol", 9, 2), ("frank", 8, 0)]


# ---------------------------------------------------------------- pull requests and GitHub issues


def _change(con: duckdb.DuckDBPyConnection, n: int, author: str, start: str, merged: str, *,
            repo: str = "org/app", bot: bool = False) -> None:
    """A merged pull request and the change it is (no release: lead time ends at merged)."""
    sha = f"{n:040x}"
    pr(con, repo, n, created=start, merged=merged, merge_sha=sha, author=author, author_is_bot=bot)
    pr_commit(con, repo, n, sha, authored=start, message=f"work {n}")
    con.execute("INSERT INTO changes (repo, id, number, merge_sha, title, author, is_merge,"
                " commits, authors) VALUES (?, ?, ?, ?, ?, ?, FALSE, 1, ?)",
                [repo, f"{repo}#{n}", n, sha, f"PR {n}", author, [author]])
    for name, at in (("work_started", start), ("ready_for_review", start), ("merged", merged)):
        con.execute("INSERT INTO milestones (repo, change_id, name, \"at\", source, proxy)"
                    " VALUES (?, ?, ?, ?, 'github', FALSE)", [repo, f"{repo}#{n}", name, t(at)])


def _issue_event(con: duckdb.DuckDBPyConnection, number: int, event: str, at: str,
                 detail: str | None = None) -> None:
    con.execute("INSERT INTO issue_events (repo, number, id, event, actor, actor_is_bot, \"at\","
                " detail, source, fetched_at) VALUES ('org/app', ?, ?, ?, 'lead', FALSE, ?, ?,"
                " 'github', ?)", [number, str(next(_ids)), event, t(at), detail, FETCHED])


@pytest.fixture(scope="module")
def pr_store(tmp_path_factory: pytest.TempPathFactory) -> Store:
    store = open_store(tmp_path_factory.mktemp("prs") / "s.duckdb")
    con = store.con
    # ann: #1 and #2 both in progress on 03-05; ben: #3 on 03-04 alone; a bot's #4 beside them.
    _change(con, 1, "ann", "2024-03-04T09:00", "2024-03-05T17:00")
    _change(con, 2, "ann", "2024-03-05T10:00", "2024-03-06T12:00")
    _change(con, 3, "ben", "2024-03-04T09:00", "2024-03-04T15:00")
    _change(con, 4, "dependabot[bot]", "2024-03-04T08:00", "2024-03-06T08:00", bot=True)
    review(con, "org/app", 1, "ben", "APPROVED", "2024-03-05T12:00")
    review(con, "org/app", 1, "copilot-pull-request-reviewer[bot]", "COMMENTED",
           "2024-03-05T11:00", bot=True)
    comment(con, "org/app", 1, "Copilot", "2024-03-05T11:30")
    # Issue #50, closed by #1: assigned to ben, unassigned, assigned to ann (one handoff); its
    # work started with #1's first commit, and it is done when closed.
    issue(con, "org/app", 50, created="2024-03-01T00:00", closed="2024-03-05T17:00", labels=())
    _issue_event(con, 50, "assigned", "2024-03-01T01:00", "ben")
    _issue_event(con, 50, "unassigned", "2024-03-02T00:00", "ben")
    _issue_event(con, 50, "assigned", "2024-03-02T01:00", "ann")
    _issue_event(con, 50, "closed", "2024-03-05T17:00")
    comment(con, "org/app", 50, "cy", "2024-03-03T00:00")
    comment(con, "org/app", 50, "renovate[bot]", "2024-03-03T01:00", bot=True)
    con.execute("INSERT INTO closing_references VALUES ('org/app', 1, 'org/app', 50,"
                " 'body_keyword', 'fixes', ?)", [FETCHED])
    # Issue #51 of a repository whose issue events were never read: its handoffs are unknown.
    issue(con, "org/other", 51, created="2024-03-01T00:00", labels=())
    assert derive.items(store, Settings()) is not None
    return store


PR_WINDOW = fm.Filters(since=datetime(2024, 3, 4, tzinfo=UTC),
                       until=datetime(2024, 3, 7, tzinfo=UTC))


@pytest.fixture(scope="module")
def pr_figs(pr_store: Store) -> HandoffFigures:
    return _figures(pr_store, PR_WINDOW, per_person=True)


def test_two_prs_the_same_day(pr_figs: HandoffFigures) -> None:
    f = pr_figs
    cs = f.context_switching
    # ann: 03-04 (#50 with #1: one stream), 03-05 (#50/#1 and #2), 03-06 (#2); ben: 03-04 (#3).
    # The bot's pull request is nobody's work.
    assert cs is not None and (cs.person_days, cs.switching_days, cs.share) == (4, 1, 0.25)
    assert [(p.person, p.person_days, p.switching_days) for p in f.people or []] == [
        ("ann", 3, 1), ("ben", 1, 0)]
    # 2 context-switched changes (32 h, 26 h) and 1 focused (6 h): too few for a difference
    lt = cs.lead_time
    assert (lt.n_with, lt.n_without, lt.median_with_s, lt.median_without_s) == (
        2, 1, 29 * H, 6 * H)
    assert lt.difference_s is None and lt.reason and "need 20" in lt.reason


def test_github_issue_handoffs_and_participants(pr_figs: HandoffFigures) -> None:
    f = pr_figs
    a = f.assignee_changes
    # #50: ben → ann = 1; #51's repository has no issue events: unknown, not 0
    assert a is not None and (a.items, a.median) == (1, 1.0)
    p = f.item_participants
    # #50: ops (author), lead (events), ben, ann (assignees), cy (a comment; the bot's is not);
    # #51: ops.
    assert p is not None and (p.n, p.median, p.mean) == (2, 3.0, 3.0)
    c = f.change_participants
    # #1: ann, ben (the AI reviewers are no people); #2, #3: their authors. The bot's change is
    # out of scope.
    assert c is not None and (c.n, c.median, c.mean) == (3, 1.0, pytest.approx(4 / 3))
    wip = [(w.team, w.days, w.median, w.max) for w in f.wip_by_team or []]
    # #50 in progress 03-04 09:00 (#1's first commit) → 03-05 17:00: [1, 1, 0]
    assert wip == [("org/app", 3, 1.0, 1), ("org/other", 3, 0.0, 0)]


def test_change_flags(pr_store: Store) -> None:
    backend = connect(pr_store)
    fl = fm.flow(backend, PR_WINDOW)
    got = {r["id"]: (r["handoffs"], r["blocked"], r["context_switching"])
           for r in rows(backend, handoff_change_flags(backend, fl, Settings(), AS_OF))}
    # #1 serves #50 (one handoff, never blocked); #2 and #3 serve no item: unknown
    assert got == {"org/app#1": (1, False, True), "org/app#2": (None, None, True),
                   "org/app#3": (None, None, False)}


def test_lead_time_differences(tmp_path: Path) -> None:
    store = open_store(tmp_path / "s.duckdb")
    con = store.con
    # 20 focused changes by 20 people, lead times 10..29 h (median 19.5 h); 10 people with two
    # pull requests in progress the same day, lead times 20..39 h (median 29.5 h).
    for k in range(20):
        _change(con, 100 + k, f"f{k}", "2024-03-04T00:00",
                f"2024-03-04T{10 + k:02d}:00" if k < 14 else f"2024-03-05T{k - 14:02d}:00")
    for k in range(10):
        for j in range(2):
            hours = 20 + 2 * k + j
            _change(con, 200 + 2 * k + j, f"s{k}", f"2024-03-04T0{j}:00",
                    f"2024-03-0{4 + (j + hours) // 24}T{(j + hours) % 24:02d}:00")
    # Each change closes its own issue, created 03-04 00:00 (spec → production: to the merge,
    # as the repository has no release); the issues of the context-switched changes are blocked
    # by an issue of another repository (another team).
    for n in [*range(100, 120), *range(200, 220)]:
        issue(con, "org/app", 1000 + n, created="2024-03-04T00:00", closed="2024-03-06T12:00",
              labels=())
        con.execute("INSERT INTO closing_references VALUES ('org/app', ?, 'org/app', ?,"
                    " 'body_keyword', 'fixes', ?)", [n, 1000 + n, FETCHED])
        if n >= 200:
            con.execute("INSERT INTO issue_relations VALUES ('org/app', ?, 'blocked_by',"
                        " 'org/lib', ?, ?)", [1000 + n, n, FETCHED])
    assert derive.items(store, Settings()) is not None
    f = _figures(store, fm.Filters(), per_person=False)
    lt = f.context_switching.lead_time if f.context_switching else None
    assert lt is not None and (lt.n_without, lt.n_with) == (20, 20)
    assert (lt.median_without_s, lt.median_with_s, lt.difference_s) == (
        19.5 * H, 29.5 * H, 10 * H)
    assert lt.ci_low_s is not None and lt.ci_high_s is not None
    assert lt.ci_low_s <= 10 * H <= lt.ci_high_s
    c = f.cross_team
    # the linked issues' spec → production: 20 + 2k h (first PR) and 22 + 2k h (the second,
    # opened an hour later, 21 + 2k h long), k = 0..9: the 10th and 11th of 20 are both 30 h
    assert c is not None and (c.items, c.linked_items, c.links) == (40, 20, 20)
    d = c.lead_time
    assert (d.n_without, d.n_with, d.median_without_s, d.median_with_s, d.difference_s) == (
        20, 20, 19.5 * H, 30 * H, 10.5 * H)
    assert d.ci_low_s is not None and d.ci_high_s is not None
    assert d.ci_low_s <= 10.5 * H <= d.ci_high_s
    store.close()


def test_git_only_store(tmp_path: Path) -> None:
    g = Git(tmp_path / "app")
    g.write("a.txt", "0\n")
    g.commit("initial", date="2024-03-01T10:00:00Z")
    g.write("a.txt", "1\n")
    g.commit("more", date="2024-03-02T10:00:00Z", author="Zoe Zed <zoe@example.com>")
    store = open_store(tmp_path / "s.duckdb")
    ingest_git(store, [tmp_path / "app"])
    f = _figures(store, fm.Filters())
    assert f.reason is None
    for name in ("assignee_changes", "item_participants", "blocked", "cross_team",
                 "wip_by_team", "wip_daily"):
        assert getattr(f, name) is None and f.null_reasons[name] == NO_ITEMS
    # two direct pushes, one author each
    c = f.change_participants
    assert c is not None and (c.n, c.median) == (2, 1.0)
    assert f.waiting == [] and f.people is None  # nobody is named without per_person
    store.close()


def test_empty_store_is_null_with_reason(store: Store) -> None:
    f = _figures(store, fm.Filters())
    assert f.reason == "no work items and no changes in scope"
    assert f.assignee_changes is None and f.context_switching is None


# ---------------------------------------------------------------- the recorded Jira objects


def test_recorded_jira(tmp_path: Path) -> None:
    store = open_store(tmp_path / "s.duckdb")
    JiraReplay(RECORDED, ()).ingest(store, Settings())
    derive.items(store, Settings())
    backend = connect(store)
    handoffs = {r["item_id"]: r["handoffs"] for r in rows(backend, assignee_changes(backend))}
    # By SQL over jira_changelog (field 'assignee'), each history's from then to value in time
    # order, nulls dropped, a value other than the previous one: EE-25 and EE-26 twice; EE-3,
    # EE-35, EE-6 once; every other of the 55 issues none.
    assert {k: v for k, v in handoffs.items() if v} == {
        "EE-25": 2, "EE-26": 2, "EE-3": 1, "EE-35": 1, "EE-6": 1}
    assert len(handoffs) == 55
    # EE-17's people (SQL over its reporter, assignee, changelog authors and values, comment
    # authors): Rankin Zheng, yuxiang and tu; the BigPicture app account is no person.
    people = rows(backend, item_participants(backend, BotRule()).filter(
        lambda r: r.item_id == "EE-17").select("who").order_by("who"))
    assert [r["who"] for r in people] == ["5e9711ba34f7b90c0fbc37d3", "5ecfbd0a47d31e0c2a15fd87",
                                          "5ecfbd0c2490cf0c09e2e598"]
    f = handoff_figures(backend, fm.flow(backend, fm.Filters()), fm.Filters(), Settings(),
                        datetime(2026, 1, 1, tzinfo=UTC), resamples=199)
    a, b, c = f.assignee_changes, f.blocked, f.cross_team
    assert a is not None and b is not None and c is not None
    assert (a.items, a.share_with_handoff) == (55, pytest.approx(5 / 55))
    # DZFNK0168-1 is blocked by DZFNK0168-5 (created 2023-05-29 03:57:14), DZFNK0168-22 by
    # DZFNK0168-2 (its creation, 03:57:08, is earlier than -22's, 03:57:49); none is done, so
    # each waits from the later creation to as_of (2026-01-01): 81,892,966 s and 81,892,931 s.
    # DZFNK0168-20 is blocked by IP8CUD168-35406, which is not in the store: not counted.
    blocked = {r["item_id"]: r["blocked_s"] for r in rows(backend, blocked_time(
        backend, ("Blocked",), datetime(2026, 1, 1, tzinfo=UTC)))}
    assert blocked == {"DZFNK0168-1": 81892966.0, "DZFNK0168-22": 81892931.0}
    assert (b.blocked_items, b.by_kind["blocked_by"], b.share_blocked) == (
        2, 2, pytest.approx(2 / 55))
    # Issue links to another project (SQL: the other key's project is not the issue's):
    # DZFNK0168-11, -14, -16, -17 one each, -20 two (IP8CUD168-35304 and -35406).
    assert (c.items, c.linked_items, c.links) == (55, 5, 6)
    store.close()

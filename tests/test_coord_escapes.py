"""Defect escapes (docs/metrics-coordination.md, Defect escapes) on a real repository ingested with
line history: bugs linked back by SZZ, by a `Fixes: <sha>` trailer and by "Caused by #N"; a bug
reported before its change was released is no escape."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from forgefixtures import FETCHED, issue
from gitfixtures import BOB, DAN, Git
from itemfixtures import jira_issue
from leadlens.analysis.escapes import NO_BUGS, NO_LINE_HISTORY, escape_figures
from leadlens.config import Settings
from leadlens.engines import connect, rows
from leadlens.metrics import flow as fm
from leadlens.metrics.escapes import escape_change_flags, escapes
from leadlens.pipeline import ingest_git
from leadlens.store import Store, open_store

AS_OF = datetime(2024, 6, 1, tzinfo=UTC)
DAY = 86400.0


def day(n: int) -> str:
    return f"2024-03-{n:02d}T12:00:00Z"


def build(path: Path) -> dict[str, str]:
    """src/parse.py's lines: #1 (Bob, reviewed) rewrites b on 2 March, released as v1.0 on the
    4th; #2 (Dan, AI-assisted, for the story OPS-2) rewrites c on the 5th, released as v1.1 on
    the 20th. #3 (11-12
    March) fixes #1's line, #4 (14-15 March) #2's; a direct push on the 17th names OPS-5 and
    carries `Fixes: <#1's commit>`."""
    g = Git(path)
    sha: dict[str, str] = {}
    g.write("src/parse.py", "a\nb\nc\n")
    sha["root"] = g.commit("Initial commit\n", date=day(1))
    g.run("checkout", "-q", "-b", "p1")
    g.write("src/parse.py", "a\nB1\nc\n")
    sha["b1"] = g.commit("Add parser rule\n\nReviewed-by: Carol Danvers <carol@example.com>\n",
                         author=BOB, date=day(2))
    g.run("checkout", "-q", "main")
    g.merge("p1", message="Merge pull request #1 from bob/p1\n\nParser rule", date=day(3))
    g.tag("v1.0", message="v1.0", date=day(4))
    g.run("checkout", "-q", "-b", "p2")
    g.write("src/parse.py", "a\nB1\nC2\n")
    g.commit("OPS-2 tweak c\n\nAssisted-by: Claude Code\n", author=DAN, date=day(5))
    g.run("checkout", "-q", "main")
    g.merge("p2", message="Merge pull request #2 from dan/p2\n\nTweak", date=day(6))
    g.run("checkout", "-q", "-b", "fix3")
    g.write("src/parse.py", "a\nb fixed\nC2\n")
    g.commit("Fix the parser rule\n", author=DAN, date=day(11))
    g.run("checkout", "-q", "main")
    g.merge("fix3", message="Merge pull request #3 from dan/fix3\n\nFix", date=day(12))
    g.run("checkout", "-q", "-b", "fix4")
    g.write("src/parse.py", "a\nb fixed\nc fixed\n")
    g.commit("Fix c\n", author=DAN, date=day(14))
    g.run("checkout", "-q", "main")
    g.merge("fix4", message="Merge pull request #4 from dan/fix4\n\nFix c", date=day(15))
    g.write("src/empty.py", "handle empty\n")
    sha["ops5"] = g.commit(
        f"OPS-5 handle empty input\n\nFixes: {sha['b1'][:12]} (\"Add parser rule\")\n",
        date=day(17))
    g.tag("v1.1", message="v1.1", date=day(20))
    return sha


def make(base: Path, *, line_history: bool = True) -> tuple[Store, dict[str, str]]:
    """Bugs: app#10 (10 March, fixed by #3), app#11 (13 March, fixed by #4: before v1.1 shipped
    #2), app#12 (25 March, "Caused by #2", no fix yet), Jira OPS-5 (a Bug, 16 March), Jira OPS-7
    (a Bug, 22 March, "is caused by" the story OPS-2); app#13 is an enhancement, app#14 a bug a
    bot reported."""
    sha = build(base / "app")
    store = open_store(base / "s.duckdb")
    con = store.con
    issue(con, "app", 10, created="2024-03-10T12:00", labels=("bug",))
    issue(con, "app", 11, created="2024-03-13T12:00", labels=("Bug",))
    issue(con, "app", 12, created="2024-03-25T12:00", labels=("bug", "p1"),
          body="Crash on load.\n\nCaused by #2")
    issue(con, "app", 13, created="2024-03-09T12:00", labels=("enhancement",))
    issue(con, "app", 14, created="2024-03-26T12:00", labels=("bug",), body="Caused by #1")
    con.execute("UPDATE issues SET author = 'sentry[bot]' WHERE number = 14")
    con.execute("INSERT INTO closing_references VALUES"
                " ('app', 3, 'app', 10, 'body_keyword', 'fixes', ?),"
                " ('app', 4, 'app', 11, 'body_keyword', 'fixes', ?)", [FETCHED, FETCHED])
    jira_issue(con, "5005", "OPS-5", created="2024-03-16T12:00")
    jira_issue(con, "5002", "OPS-2", created="2024-03-01T09:00")
    jira_issue(con, "5007", "OPS-7", created="2024-03-22T12:00")
    con.execute("UPDATE jira_issues SET issue_type = 'Bug' WHERE id IN ('5005', '5007')")
    con.execute("INSERT INTO jira_issue_links VALUES ('5007', 'l1', 'Problem/Incident',"
                " 'inward', 'is caused by', '5002', 'OPS-2', ?)", [FETCHED])
    report = ingest_git(store, [base / "app"], line_history=line_history, jobs=1)
    assert not report.failed, report.outcomes
    return store, sha


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Store, dict[str, str]]]:
    store, sha = make(tmp_path_factory.mktemp("escapes"))
    yield store, sha
    store.close()


def test_bugs_link_back_by_every_route(scenario: tuple[Store, dict[str, str]]) -> None:
    store, _ = scenario
    b = connect(store)
    fl = fm.flow(b, fm.Filters())
    got = sorted((r["item_id"], r["change_id"], r["how"], r["escaped"], r["detection_s"])
                 for r in rows(b, escapes(b, fl, Settings())))
    assert got == [
        # the push's Fixes: trailer names #1's commit; #1 shipped (v1.0) 12 days before
        ("OPS-5", "app#1", "fixes_trailer", True, 12 * DAY),
        # Jira: OPS-7 is caused by OPS-2, which #2 serves; v1.1 shipped #2 2 days before
        ("OPS-7", "app#2", "issue_link", True, 2 * DAY),
        # #3 rewrote the line #1's commit wrote (SZZ); v1.0 shipped it 6 days before
        ("app#10", "app#1", "szz", True, 6 * DAY),
        # #4 rewrote #2's line, but the bug came on the 13th and v1.1 on the 20th: no escape
        ("app#11", "app#2", "szz", False, None),
        # the bug names #2 ("Caused by #2"), 5 days after v1.1
        ("app#12", "app#2", "caused_by", True, 5 * DAY),
    ]


def test_escape_figures_by_hand(scenario: tuple[Store, dict[str, str]]) -> None:
    store, sha = scenario
    b = connect(store)
    fl = fm.flow(b, fm.Filters())
    f = escape_figures(b, fl, fm.Filters(), Settings(), AS_OF)
    assert f.reason is None and f.null_reasons == {}
    # 5 bugs (not the enhancement, not the bot's), 3 with a fix, all 5 linked back, 4 escaped
    assert (f.bugs, f.bugs_with_fix, f.linked_back, f.escaped_bugs,
            f.caught_before_release) == (5, 3, 5, 4, 1)
    assert f.links_by_how == {"caused_by": 1, "fixes_trailer": 1, "issue_link": 1, "szz": 2}
    # Every change shipped (v1.0 or v1.1); #1 and #2 escaped: 2 of 6.
    assert (f.shipped_changes, f.escaped_changes) == (6, 2)
    assert f.escape_rate is not None and f.escape_rate.rate == pytest.approx(1 / 3)
    # Detection over the 4 escaped bugs: 2, 5, 6 and 12 days; the median halfway between 5 and
    # 6; p85 at rank 0.85 * 3 = 2.55: 6 + 0.55 * (12 - 6) days.
    assert f.detection is not None
    assert (f.detection.n, f.detection.median_s, f.detection.p85_s) == (
        4, 5.5 * DAY, pytest.approx(9.3 * DAY))
    cohorts = {(c.dimension, c.cohort): (c.rate.hits, c.rate.n) for c in f.cohorts or []}
    # #2 is AI-assisted (Assisted-by); #1 reviewed (Reviewed-by); without pull request data
    # nothing else is known to be reviewed or not. Two changes serve a work item, both without
    # acceptance criteria when work started (the Jira issues have no description): #2 (the story
    # OPS-2; escaped) and the direct push naming OPS-5: 1 of 2 underspecified changes escaped.
    assert cohorts == {("ai_assisted", "other"): (1, 5), ("ai_assisted", "AI-assisted"): (1, 1),
                       ("size", "XS"): (2, 6), ("reviewed", "reviewed"): (1, 1),
                       ("underspecified", "underspecified"): (1, 2)}
    assert [(c.dimension, c.difference.reason) for c in f.comparisons or []] == [
        ("ai_assisted", "not enough evidence: 5 other changes and 1 AI-assisted changes, need 20"),
        ("reviewed", "not enough evidence: 1 reviewed changes and 0 not reviewed changes,"
                     " need 20"),
        ("underspecified", "not enough evidence: 0 specified changes and 2 underspecified"
                           " changes, need 20")]
    assert [(t.team, t.shipped, t.escaped) for t in f.teams or []] == [("app", 6, 2)]
    flags = {r["id"]: r["escaped"] for r in rows(b, escape_change_flags(b, fl, Settings()))}
    assert flags == {"app#1": True, "app#2": True, "app#3": False, "app#4": False,
                     f"app@{sha['root']}": False, f"app@{sha['ops5']}": False}


def test_bot_bugs_only_when_asked(scenario: tuple[Store, dict[str, str]]) -> None:
    store, _ = scenario
    b = connect(store)
    f = fm.Filters(include_bots=True)
    fl = fm.flow(b, f)
    got = escape_figures(b, fl, f, Settings(), AS_OF)
    # sentry[bot]'s app#14 names #1 ("Caused by #1"), 22 days after v1.0
    assert (got.bugs, got.linked_back, got.escaped_bugs) == (6, 6, 5)


def test_window_is_on_the_introducing_change(scenario: tuple[Store, dict[str, str]]) -> None:
    """From 5 March (on merged): #1 and the root are out of scope, so OPS-5 and app#10, which link
    back to #1 only, are not counted; app#11, app#12 and OPS-7 (all to #2) are."""
    store, _ = scenario
    b = connect(store)
    f = fm.Filters(since=datetime(2024, 3, 5, tzinfo=UTC))
    fl = fm.flow(b, f)
    got = escape_figures(b, fl, f, Settings(), AS_OF)
    assert (got.bugs, got.linked_back, got.escaped_bugs, got.caught_before_release) == (
        5, 3, 2, 1)
    assert (got.shipped_changes, got.escaped_changes) == (4, 1)
    assert got.detection is not None and got.detection.median_s == 3.5 * DAY  # 2 and 5 days


def test_bug_labels_are_settings(scenario: tuple[Store, dict[str, str]]) -> None:
    store, _ = scenario
    b = connect(store)
    fl = fm.flow(b, fm.Filters())
    s = Settings(bug_labels=("p1",), bug_issue_types=())
    got = escape_figures(b, fl, fm.Filters(), s, AS_OF)
    assert (got.bugs, got.escaped_bugs, got.links_by_how) == (1, 1, {"caused_by": 1})


def test_without_line_history_szz_is_null(tmp_path: Path) -> None:
    store, _ = make(tmp_path, line_history=False)
    b = connect(store)
    fl = fm.flow(b, fm.Filters())
    f = escape_figures(b, fl, fm.Filters(), Settings(), AS_OF)
    assert f.null_reasons == {"links_by_how.szz": NO_LINE_HISTORY}
    assert (f.bugs, f.linked_back, f.escaped_bugs, f.links_by_how) == (
        5, 3, 3, {"caused_by": 1, "fixes_trailer": 1, "issue_link": 1})


def test_git_only_store_is_null_with_the_reason(tmp_path: Path) -> None:
    build(tmp_path / "app")
    store = open_store(tmp_path / "s.duckdb")
    assert not ingest_git(store, [tmp_path / "app"], jobs=1).failed
    b = connect(store)
    fl = fm.flow(b, fm.Filters())
    f = escape_figures(b, fl, fm.Filters(), Settings(), AS_OF)
    assert f.reason == NO_BUGS
    assert f.bugs is None and f.escape_rate is None and f.cohorts is None
    flags = rows(b, escape_change_flags(b, fl, Settings()))
    assert len(flags) == 6 and all(r["escaped"] is None for r in flags)


RECORDED = Path(__file__).resolve().parents[2] / "shared" / "fixtures" / "recorded-api"


def test_recorded_jira_and_github(tmp_path: Path) -> None:
    """The recordings hold bugs (23 Jira issues of type Bug; panjf2000/ants#6 and #7 labelled
    `bug`) but nothing links one back to a change: no fix, no `Caused by`, no clone for SZZ. So
    the counts are there and the rates are unknown, never 0."""
    from leadlens import derive
    from leadlens.analysis.collisions import collision_figures
    from leadlens.pipeline import replay_github
    from leadlens.sources.jira.ingest import JiraReplay

    store = open_store(tmp_path / "s.duckdb")
    replay_github(store, RECORDED / "github")
    JiraReplay(RECORDED / "jira", ()).ingest(store, Settings())
    derive.items(store, Settings())
    b = connect(store)
    fl = fm.flow(b, fm.Filters())
    f = escape_figures(b, fl, fm.Filters(), Settings(), AS_OF)
    assert f.reason is None
    assert (f.bugs, f.bugs_with_fix, f.linked_back, f.escaped_bugs) == (25, 0, 0, 0)
    assert f.escape_rate is None and f.cohorts is None and f.teams is None
    assert set(f.null_reasons) == {"links_by_how.szz", "detection", "escape_rate", "cohorts",
                                   "comparisons", "teams"}
    flags = rows(b, escape_change_flags(b, fl, Settings()))
    assert len(flags) == 26 and all(r["escaped"] is None for r in flags)
    # Pull requests without a clone: no files changed, so no collision can be seen.
    c = collision_figures(b, fl, fm.Filters(), Settings(), AS_OF)
    assert c.reason == "no files changed are stored: ingest the repositories with git"

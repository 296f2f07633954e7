"""Collisions (docs/metrics-coordination.md, Collisions) on tiny real repositories whose every
number can be checked by hand: two pull requests colliding on a file, then a conflict
resolution; a change in flight for six weeks found by one that started weeks later."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import ibis
import pytest

from gitfixtures import BOB, DAN, Git
from leadlens.analysis.collisions import collision_figures, wilson
from leadlens.config import Settings
from leadlens.engines import connect, rows
from leadlens.metrics import flow as fm
from leadlens.metrics.collisions import change_outcomes, collision_change_flags, zone
from leadlens.pipeline import ingest_git
from leadlens.store import Store, open_store

AS_OF = datetime(2024, 6, 1, tzinfo=UTC)
DEPENDABOT = "dependabot[bot] <49699333+dependabot[bot]@users.noreply.github.com>"


def day(n: int, month: int = 3) -> str:
    return f"2024-{month:02d}-{n:02d}T12:00:00Z"


def _conflicting_merge(g: Git, branch: str) -> None:
    """``git merge branch`` that stops on a conflict (the caller resolves and commits)."""
    who = {"GIT_AUTHOR_NAME": "Dan Dare", "GIT_AUTHOR_EMAIL": "dan@example.com",
           "GIT_COMMITTER_NAME": "Dan Dare", "GIT_COMMITTER_EMAIL": "dan@example.com"}
    with pytest.raises(RuntimeError, match="merge"):
        g.run("merge", branch, env=who)


def build_pair(path: Path) -> dict[str, str]:
    """#1 (Bob, 2-4 March) and #2 (Dan, 3-6 March) both edit line 2 of src/api/user.py; #2 merges
    main into its branch on 5 March and resolves the conflict (git's "Conflicts:" list kept);
    #3 edits docs only; a direct push adds src/api/other.py; a revert of Bob's commit lands on
    10 March."""
    g = Git(path)
    sha: dict[str, str] = {}
    g.write("src/api/user.py", "one\ntwo\nthree\n")
    g.write("docs/guide.md", "guide\n")
    sha["root"] = g.commit("Initial commit\n", date=day(1))
    g.run("checkout", "-q", "-b", "pr1")
    g.write("src/api/user.py", "one\nTWO by bob\nthree\n")
    sha["b1"] = g.commit("Bob edits two\n", author=BOB, date=day(2))
    g.run("checkout", "-q", "main")
    g.run("checkout", "-q", "-b", "pr2")
    g.write("src/api/user.py", "one\ntwo by dan\nthree\n")
    sha["d1"] = g.commit("Dan edits two\n", author=DAN, date=day(3))
    g.run("checkout", "-q", "main")
    sha["m1"] = g.merge("pr1", message="Merge pull request #1 from bob/pr1\n\nBob", date=day(4))
    g.run("checkout", "-q", "pr2")
    _conflicting_merge(g, "main")
    g.write("src/api/user.py", "one\ntwo by dan and bob\nthree\n")
    sha["resolve"] = g.commit("Merge branch 'main' into pr2\n\nConflicts:\n\tsrc/api/user.py\n",
                              author=DAN, date=day(5))
    g.run("checkout", "-q", "main")
    sha["m2"] = g.merge("pr2", message="Merge pull request #2 from dan/pr2\n\nDan", date=day(6))
    g.run("checkout", "-q", "-b", "pr3")
    g.write("docs/guide.md", "guide\nmore\n")
    sha["c3"] = g.commit("More guide\n", date=day(7))
    g.run("checkout", "-q", "main")
    sha["m3"] = g.merge("pr3", message="Merge pull request #3 from alice/pr3\n\nGuide",
                        date=day(8))
    g.write("src/api/other.py", "x\n")
    sha["push"] = g.commit("Add other\n", date=day(9))
    g.write("src/api/user.py", "one\ntwo\nthree\n")
    sha["revert"] = g.commit(f'Revert "Bob edits two"\n\nThis reverts commit {sha["b1"]}.\n',
                             date=day(10))
    return sha


def _ingest(store: Store, path: Path, *, line_history: bool = True) -> None:
    report = ingest_git(store, [path], line_history=line_history, jobs=1)
    assert not report.failed, report.outcomes


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Store, dict[str, str]]]:
    base = tmp_path_factory.mktemp("collide")
    sha = build_pair(base / "app")
    store = open_store(base / "s.duckdb")
    _ingest(store, base / "app")
    yield store, sha
    store.close()


def _outcomes(store: Store, fl: fm.Flow | None = None
              ) -> dict[str, tuple[bool, bool, bool, bool | None]]:
    b = connect(store)
    fl = fl or fm.flow(b, fm.Filters())
    o = change_outcomes(b, fl, 21)
    return {r["id"]: (r["collided"], r["conflict"], r["reverted"], r["reworked"])
            for r in rows(b, o)}


def test_two_prs_collide_then_a_conflict_resolution(pair: tuple[Store, dict[str, str]]) -> None:
    store, sha = pair
    b = connect(store)
    fl = fm.flow(b, fm.Filters())
    got = _outcomes(store, fl)
    # (collided, conflict, reverted, reworked). #1 and #2 were in flight together (2-4 and 3-6
    # March) on src/api/user.py. #2 holds the conflict resolution; the revert of Bob's commit
    # (10 March) lands within 21 days of #2's merge; its line 2 rewrote the line Dan's commit
    # wrote (line history attributes it to d1), so #2 was reworked; #1's line was rewritten by
    # Dan's commit before #1 merged (not after it: not rework); the root's line by Bob's commit,
    # a day after the root landed.
    assert got == {
        f"app@{sha['root']}": (False, False, False, True),
        "app#1": (True, False, True, False),
        "app#2": (True, True, False, True),
        "app#3": (False, False, False, False),
        f"app@{sha['push']}": (False, False, False, False),
        f"app@{sha['revert']}": (False, False, False, False),
    }
    f = collision_figures(b, fl, fm.Filters(), Settings(), AS_OF, per_person=True)
    assert f.reason is None and f.null_reasons == {}
    assert (f.changes, f.collided, f.share, f.pairs, f.window_days) == (6, 2, 2 / 6, 1, 21.0)
    by = {o.outcome: o for o in f.outcomes or []}
    assert [(by[k].collided.hits, by[k].collided.n, by[k].other.hits, by[k].other.n)
            for k in ("conflict", "revert", "rework")] == [(1, 2, 0, 4), (1, 2, 0, 4),
                                                          (1, 2, 1, 4)]
    # 1 of 2: Wilson's 95% interval, (p + z²/2n ± z·sqrt(p(1-p)/n + z²/4n²)) / (1 + z²/n).
    assert by["conflict"].collided.rate == 0.5
    assert by["conflict"].collided.ci_low == pytest.approx(0.094531, abs=1e-6)
    assert by["conflict"].collided.ci_high == pytest.approx(0.905469, abs=1e-6)
    assert by["conflict"].other.ci_low == 0.0  # 0 of 4: the interval starts at 0
    assert by["conflict"].difference.difference is None  # 2 and 4 changes: fewer than 20
    assert by["conflict"].difference.reason == (
        "not enough evidence: 4 not collided changes and 2 collided changes, need 20")
    assert [(z.repo, z.zone, z.pairs, z.changes, z.paths) for z in f.zones or []] == [
        ("app", "src/api", 1, 2, 1)]
    assert [(t.team, t.changes, t.collided) for t in f.teams or []] == [("app", 6, 2)]
    # The author of a change: the merge subject's "from <user>/", else its first commit's.
    assert [(p.person, p.changes, p.collided) for p in f.per_person or []] == [
        ("Alice Liddell", 3, 0), ("alice", 1, 0), ("bob", 1, 1), ("dan", 1, 1)]
    flags = {r["id"]: r["collided"] for r in rows(b, collision_change_flags(b, fl, Settings()))}
    assert flags["app#1"] is True and flags["app#3"] is False and len(flags) == 6


def test_window_keeps_the_other_collided_change(pair: tuple[Store, dict[str, str]]) -> None:
    """Only the changes merged from 5 March are in scope: #1 (merged the 4th) is not, so #2 collided
    with nothing in scope."""
    store, _ = pair
    b = connect(store)
    f = fm.Filters(since=datetime(2024, 3, 5, tzinfo=UTC))
    fl = fm.flow(b, f)
    got = collision_figures(b, fl, f, Settings(), AS_OF)
    assert (got.changes, got.collided, got.pairs) == (4, 0, 0)
    assert got.zones == []
    assert got.per_person is None  # people only when asked for


def test_rework_needs_line_history(tmp_path: Path) -> None:
    build_pair(tmp_path / "app")
    store = open_store(tmp_path / "s.duckdb")
    _ingest(store, tmp_path / "app", line_history=False)
    b = connect(store)
    fl = fm.flow(b, fm.Filters())
    f = collision_figures(b, fl, fm.Filters(), Settings(), AS_OF)
    assert [o.outcome for o in f.outcomes or []] == ["conflict", "revert"]
    assert f.null_reasons == {
        "outcomes.rework": "no line history: ingest git with --line-history to see rework"}
    assert all(v[3] is None for v in _outcomes(store, fl).values())


def test_long_flight_found_weeks_later_and_bots_left_out(tmp_path: Path) -> None:
    """#5 is in flight from 1 March to 10 April; #6 from 25 to 27 March, on the same file: found
    through the weeks #5 covers. A dependabot push on that file in between is a bot change (out
    of scope, so it collides with nothing). A push on 20 April says "conflict" and touches the
    file: it follows both within 21 days of the later merge (10 April)."""
    g = Git(tmp_path / "lib")
    g.write("lib/core/x.py", "a\nb\nc\nd\ne\n")
    g.write("README", "hi\n")
    root = g.commit("Initial commit\n", date=day(1, 2))
    g.run("checkout", "-q", "-b", "long")
    g.write("lib/core/x.py", "A\nb\nc\nd\ne\n")
    g.commit("Long work\n", author=BOB, date=day(1))
    g.run("checkout", "-q", "main")
    g.run("checkout", "-q", "-b", "short")
    g.write("lib/core/x.py", "a\nb\nc\nd\nE\n")
    g.commit("Short work\n", author=DAN, date=day(25))
    g.run("checkout", "-q", "main")
    g.write("lib/core/x.py", "a\nb\nC\nd\ne\n")
    bot = g.commit("Bump c\n", author=DEPENDABOT, date=day(26))
    g.merge("short", message="Merge pull request #6 from dan/short\n\nShort", date=day(27))
    g.merge("long", message="Merge pull request #5 from bob/long\n\nLong", date=day(10, 4))
    g.write("README", "hi\nthere\n")
    docs = g.commit("Docs\n", date=day(15, 4))
    g.write("lib/core/x.py", "A\nb\nC\nd\nE!\n")
    fix = g.commit("Fix conflict markers\n", date=day(20, 4))
    store = open_store(tmp_path / "s.duckdb")
    _ingest(store, g.path, line_history=False)
    b = connect(store)
    fl = fm.flow(b, fm.Filters())
    got = {k: v[:2] for k, v in _outcomes(store, fl).items()}
    assert got == {f"lib@{root}": (False, False), "lib#6": (True, True), "lib#5": (True, True),
                   f"lib@{docs}": (False, False), f"lib@{fix}": (False, True)}
    assert f"lib@{bot}" not in got
    f = collision_figures(b, fl, fm.Filters(), Settings(), AS_OF)
    assert (f.changes, f.collided, f.pairs) == (5, 2, 1)
    assert [(z.zone, z.pairs) for z in f.zones or []] == [("lib/core", 1)]


def test_zone_is_the_first_two_directories() -> None:
    t = ibis.memtable({"path": ["src/api/v1/x.py", "docs/x.md", "README", "a/b/c"]})
    got = t.select(z=zone(t.path)).to_pyarrow().column("z").to_pylist()
    assert got == ["src/api", "docs", ".", "a/b"]


def test_wilson_interval_by_hand() -> None:
    assert wilson(0, 0) == (None, None)
    low, high = wilson(0, 4)
    assert low == 0.0 and high == pytest.approx(0.489891, abs=1e-6)
    low, high = wilson(4, 4)
    assert high == 1.0 and low == pytest.approx(0.510109, abs=1e-6)


def test_no_changes_is_null_with_the_reason(tmp_path: Path) -> None:
    store = open_store(tmp_path / "s.duckdb")
    b = connect(store)
    fl = fm.flow(b, fm.Filters())
    f = collision_figures(b, fl, fm.Filters(), Settings(), AS_OF)
    assert f.reason == "no changes in scope with a first commit time: nothing was in flight"
    assert f.changes is None and f.outcomes is None and f.zones is None

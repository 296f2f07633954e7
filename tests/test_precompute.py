"""derive's precompute step: each commit's AI attribution stored once (commit_ai), equal to what
the report classified itself before, brought up to date incrementally, again in full when the
rules change, and never read when stale."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest

from aifixtures import build_pilot
from gitfixtures import Git
from leadlens.attribution import Rules
from leadlens.config import AiRule, Settings
from leadlens.derive.precompute import (
    classify_commits,
    derive_precompute,
    fresh_repos,
    rules_fingerprint,
    stored_ai,
)
from leadlens.engines import connect
from leadlens.metrics.ai import ai_commits
from leadlens.pipeline import ingest_git
from leadlens.store import open_store
from leadlens.store.db import Store

CLAUDE = "Co-authored-by: Claude <noreply@anthropic.com>"


def _live(st: Store, rules: Rules) -> list[tuple[str, str, list[dict[str, str | None]]]]:
    """What the report classified before the step existed: every reachable commit, here."""
    return [(r, s, [{"rule": e.rule, "text": e.text, "tool": e.tool} for e in ev])
            for r, s, ev in classify_commits(st.con, rules, "reachable")]


def _stored(st: Store) -> list[tuple[str, str, list[dict[str, str | None]]]]:
    repos = [r[0] for r in st.con.execute("SELECT repo FROM repos").fetchall()]
    t = stored_ai(st.con, repos).to_pylist()
    return [(r["repo"], r["sha"], r["evidence"]) for r in t]


def _forget(st: Store) -> None:
    st.con.execute("DELETE FROM commit_ai_state")


def test_stored_attribution_equals_the_reports_own_on_the_ai_fixture(tmp_path: Path) -> None:
    build_pilot(tmp_path / "pilot")
    rules = Rules.configured()
    with open_store(tmp_path / "s.duckdb") as st:
        ingest_git(st, [tmp_path / "pilot"])
        stored = _stored(st)
        assert len(stored) == 24  # one AI-assisted commit per AI change (aifixtures)
        assert stored == _live(st, rules)
        backend = connect(st)
        fresh = ai_commits(backend, rules)
        assert fresh_repos(st.con, rules) == {"acme/pilot"}
        _forget(st)  # stale: the report classifies the commits itself, to the same rows
        assert fresh_repos(st.con, rules) == set()
        assert ai_commits(backend, rules).equals(fresh)
        assert fresh.num_rows == 24


def _repo(path: Path) -> tuple[Git, dict[str, str]]:
    g = Git(path)
    g.write("a.py", "1\n")
    shas = {"human": g.commit("Start", date="2024-01-01T10:00:00Z")}
    g.write("a.py", "2\n")
    shas["claude"] = g.commit(f"Faster\n\n{CLAUDE}\n", date="2024-01-02T10:00:00Z")
    return g, shas


def test_new_commits_alone_are_classified_and_a_rule_change_classifies_all_again(
        tmp_path: Path) -> None:
    g, shas = _repo(tmp_path / "r")
    with open_store(tmp_path / "s.duckdb") as st:
        ingest_git(st, [tmp_path / "r"])
        assert [s for _, s, _ in _stored(st)] == [shas["claude"]]
        # A row the step did not write, on a commit it already classified: an incremental run
        # leaves it alone, a full one (new rules) drops it.
        st.con.execute("INSERT INTO commit_ai VALUES ('r', ?, [{'rule': 'planted', 'text': 'x',"
                       " 'tool': NULL}])", [shas["human"]])
        g.write("a.py", "3\n")
        shas["marker"] = g.commit("Tidy\n\nGenerated with [Claude Code](https://claude.ai)\n",
                                  date="2024-01-03T10:00:00Z")
        g.write("a.py", "4\n")
        shas["later"] = g.commit("Plain", date="2024-01-04T10:00:00Z")
        ingest_git(st, [tmp_path / "r"])
        rows = {s: [e["rule"] for e in ev] for _, s, ev in _stored(st)}
        assert rows == {shas["claude"]: ["co-authored-by-assistant"],
                        shas["marker"]: ["claude-code-marker"], shas["human"]: ["planted"]}
        again = derive_precompute(st, "r", Rules.configured())
        assert (again.classified, again.ai_commits, again.full) == (0, 0, False)
        # Disabling a rule changes the inputs the derive step recorded: it runs again, in full.
        settings = Settings(ai_disabled_rules=("claude-code-marker",))
        ingest_git(st, [tmp_path / "r"], settings=settings)
        assert {s: [e["rule"] for e in ev] for _, s, ev in _stored(st)} == {
            shas["claude"]: ["co-authored-by-assistant"]}
        rules = Rules.of(settings.ai)
        assert st.con.execute("SELECT rules FROM commit_ai_state").fetchall() == [
            (rules_fingerprint(rules),)]
        assert fresh_repos(st.con, rules) == {"r"}
        assert fresh_repos(st.con, Rules.configured()) == set()
        # A rule of the user's own: new rows, with its name, for every commit it matches.
        mine = Settings(ai_rules=(AiRule(name="tidy", field="subject", pattern="^Tidy$"),))
        ingest_git(st, [tmp_path / "r"], settings=mine)
        assert {s: [e["rule"] for e in ev] for _, s, ev in _stored(st)} == {
            shas["claude"]: ["co-authored-by-assistant"],
            shas["marker"]: ["claude-code-marker", "tidy"]}


def test_commits_gone_lose_their_rows_and_unreachable_ones_are_not_read(tmp_path: Path) -> None:
    g, shas = _repo(tmp_path / "r")
    rules = Rules.configured()
    with open_store(tmp_path / "s.duckdb") as st:
        ingest_git(st, [tmp_path / "r"])
        g.run("reset", "-q", "--hard", shas["human"])  # a force-push drops the AI commit
        ingest_git(st, [tmp_path / "r"])
        assert st.con.execute("SELECT count(*) FROM commit_ai").fetchall() == [(1,)]
        assert _stored(st) == [] == _live(st, rules)
        assert ai_commits(connect(st), rules).num_rows == 0
        st.con.execute("DELETE FROM commits WHERE sha = ?", [shas["claude"]])
        done = derive_precompute(st, "r", rules)
        assert (done.dropped, done.full) == (1, False)
        assert st.con.execute("SELECT count(*) FROM commit_ai").fetchall() == [(0,)]


def test_a_stale_repository_is_classified_by_the_report_beside_a_fresh_one(tmp_path: Path) -> None:
    _repo(tmp_path / "a")
    _repo(tmp_path / "b")
    rules = Rules.configured()
    with open_store(tmp_path / "s.duckdb") as st:
        ingest_git(st, [tmp_path / "a", tmp_path / "b"])
        both = ai_commits(connect(st), rules)
        st.con.execute("DELETE FROM commit_ai_state WHERE repo = 'b'")
        st.con.execute("DELETE FROM commit_ai WHERE repo = 'b'")
        assert fresh_repos(st.con, rules) == {"a"}
        mixed = ai_commits(connect(st), rules)
        assert mixed.equals(both) and mixed.column("repo").to_pylist() == ["a", "b"]
        assert mixed.schema.field("evidence").type == both.schema.field("evidence").type
        assert isinstance(mixed, pa.Table)


@pytest.mark.parametrize("disabled", [(), ("co-authored-by-assistant",)])
def test_the_fingerprint_follows_the_commit_rules(disabled: tuple[str, ...]) -> None:
    base = rules_fingerprint(Rules.configured())
    assert (rules_fingerprint(Rules.configured(disabled=disabled)) == base) is (not disabled)
    # A pull-request rule does not change how commits are classified.
    assert rules_fingerprint(Rules.configured(disabled=("ai-label", *disabled))) == \
        rules_fingerprint(Rules.configured(disabled=disabled))

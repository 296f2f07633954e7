"""Incremental derive equals a full derive: randomised histories built as real git repositories,
ingested step by step (with line history); after each step the incremental result (changes and
line ages) is compared row for row (EXCEPT ALL both ways) with a full rebuild of the same store,
the oracle."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from forgefixtures import deployment, pr, pr_commit, review
from gitfixtures import Git
from leadlens import derive
from leadlens.config import Settings
from leadlens.pipeline import ingest_git
from leadlens.store import Store, open_store

REPO = "acme/app"
# What the changes step writes, and what it derives the next time from.
TABLES = ("mainline", "changes", "change_commits", "milestones", "derive_base", "derive_tags",
          "line_changes", "rewritten_lines", "derive_line_base")
# Ingest steps that only add to history: the derive after them must be incremental.
APPENDS = {"append", "merge", "ff", "branch", "tag"}


@dataclass
class History:
    """A bare repository built commit by commit with ``git commit-tree``: pinned dates, a few
    trees to pick from (so commits change files), branches, tags."""

    git: Git
    trees: list[str]
    clock: int = 0
    main: list[str] = field(default_factory=list)  # every commit main was at, oldest first
    branches: dict[str, str] = field(default_factory=dict)
    tags: list[str] = field(default_factory=list)
    made: int = 0
    prs: set[int] = field(default_factory=set)  # pull request numbers the store holds
    landings: set[str] = field(default_factory=set)  # and their merge commits

    @classmethod
    def create(cls, path: Path) -> History:
        g = Git(path, bare=True)
        blobs = [g.run("hash-object", "-w", "--stdin", input=("line\n" * (k + 1)).encode())
                 for k in range(5)]
        trees = [g.run("mktree", input="".join(
            f"100644 blob {blobs[(i * 2 + j) % 5]}\tf{j}.txt\n" for j in range(i % 3 + 1)
        ).encode()) for i in range(6)]
        h = cls(g, trees)
        h.set_main(h.commit([], "root", 0))
        return h

    def date(self, back: int = 0) -> str:
        return f"@{1_700_000_000 + (self.clock - back) * 3600} +0000"

    def commit(self, parents: list[str], subject: str, tree: int, author_back: int = 0) -> str:
        self.clock += 1
        self.made += 1
        env = {"GIT_AUTHOR_NAME": f"Dev {self.made % 3}", "GIT_AUTHOR_EMAIL": "dev@example.com",
               "GIT_AUTHOR_DATE": self.date(author_back), "GIT_COMMITTER_NAME": "Dev",
               "GIT_COMMITTER_EMAIL": "dev@example.com", "GIT_COMMITTER_DATE": self.date()}
        args = [a for p in parents for a in ("-p", p)]
        return self.git.run("commit-tree", self.trees[tree % len(self.trees)], *args,
                            "-m", subject, env=env)

    def set_main(self, sha: str) -> None:
        self.git.run("update-ref", "refs/heads/main", sha)
        self.main.append(sha)

    def tip(self) -> str:
        return self.git.run("rev-parse", "refs/heads/main")


def _apply(h: History, data: st.DataObject, op: str) -> None:
    """One random change to the repository (``op`` names its kind)."""
    draw = data.draw
    if op == "append":
        for _ in range(draw(st.integers(1, 3))):
            number = draw(st.one_of(st.none(), st.integers(1, 6)))
            subject = "work" + (f" (#{number})" if number else "")
            h.set_main(h.commit([h.tip()], subject, draw(st.integers(0, 5)),
                                draw(st.integers(0, 3))))
    elif op == "branch":  # an unmerged branch off some commit of main's past
        base = draw(st.sampled_from([*h.main[-4:], h.tip()]))
        for _ in range(draw(st.integers(1, 3))):
            base = h.commit([base], "topic", draw(st.integers(0, 5)), draw(st.integers(0, 5)))
        name = f"b{len(h.branches)}"
        h.branches[name] = base
        h.git.run("update-ref", f"refs/heads/{name}", base)
    elif op == "merge" and h.branches:
        names = draw(st.lists(st.sampled_from(sorted(h.branches)), min_size=1, max_size=2,
                              unique=True))
        number = draw(st.integers(1, 6))
        h.set_main(h.commit([h.tip(), *(h.branches[n] for n in names)],
                            f"Merge pull request #{number} from acme/topic",
                            draw(st.integers(0, 5))))
    elif op == "ff":  # main moves to a branch made on its tip
        sha = h.tip()
        for _ in range(draw(st.integers(1, 2))):
            sha = h.commit([sha], "fast forward", draw(st.integers(0, 5)))
        h.set_main(sha)
    elif op == "tag":
        pool = [h.tip(), *h.main[-6:], *h.branches.values()]
        target = draw(st.sampled_from(pool))
        release = draw(st.booleans())
        h.made += 1
        name = f"v1.{h.made}" if release else f"note-{h.made}"
        back = draw(st.sampled_from([0, 2, 5, 40, 340_000]))  # 340k hours back: 1985
        env = {"GIT_COMMITTER_NAME": "Rel", "GIT_COMMITTER_EMAIL": "rel@example.com",
               "GIT_COMMITTER_DATE": h.date(back)}
        annotated = draw(st.booleans())
        h.git.run("tag", *(["-a", "-m", name] if annotated else []), name, target, env=env)
        h.tags.append(name)
    elif op == "delete_tag" and h.tags:
        h.git.run("tag", "-d", h.tags.pop(draw(st.integers(0, len(h.tags) - 1))))
    elif op == "move_tag" and h.tags:
        h.git.run("tag", "-f", draw(st.sampled_from(h.tags)), h.tip())
    elif op == "reset":  # a force push: main goes back, maybe onto new commits
        back = draw(st.sampled_from(h.main[-5:]))
        if draw(st.booleans()):
            back = h.commit([back], "rewritten", draw(st.integers(0, 5)))
        h.set_main(back)


def _when(h: History, back: int = 0) -> str:
    return datetime.fromtimestamp(1_700_000_000 + (h.clock - back) * 3600, UTC).strftime(
        "%Y-%m-%dT%H:%M:%S")


def _forge(store: Store, h: History, data: st.DataObject, op: str) -> bool:
    """What a GitHub ingest adds: a merged pull request (its landing commit on main now or once,
    or on a branch; with the commits before it as rebase copies), a review, a deployment."""
    draw = data.draw
    h.clock += 1
    if op == "pr":
        free = [n for n in range(1, 9) if n not in h.prs]
        if not free:
            return False
        number = draw(st.sampled_from(free))
        j = draw(st.integers(max(0, len(h.main) - 6), len(h.main) - 1))
        landing = draw(st.sampled_from([h.main[j], *h.branches.values()]))
        if landing in h.landings:  # GitHub gives each merged pull request its own merge commit
            return False
        h.landings.add(landing)
        h.prs.add(number)
        pr(store.con, REPO, number, created=_when(h, 30), merged=_when(h), merge_sha=landing)
        copies = h.main[max(0, j - draw(st.integers(0, 2))):j + 1] if landing == h.main[j] else []
        for k, sha in enumerate(dict.fromkeys(copies or [landing])):
            pr_commit(store.con, REPO, number, sha, authored=_when(h, 40 - k), message=f"c{k}")
        if draw(st.booleans()):
            review(store.con, REPO, number, "carol", "APPROVED", _when(h, 5))
    else:
        h.made += 1
        deployment(store.con, REPO, h.made, draw(st.sampled_from(h.main[-4:])), at=_when(h),
                   state=draw(st.sampled_from(["success", "failure"])))
    return True


def _snapshot(store: Store) -> None:
    for t in TABLES:
        store.con.execute(f"CREATE OR REPLACE TEMP TABLE _was_{t} AS"
                          f" SELECT * FROM {t} WHERE repo = ?", [REPO])


def _differences(store: Store) -> dict[str, tuple[int, int]]:
    out = {}
    for t in TABLES:
        now = f"(SELECT * FROM {t} WHERE repo = '{REPO}')"
        (only_was, only_now), = store.con.execute(
            f"SELECT (SELECT count(*) FROM (SELECT * FROM _was_{t} EXCEPT ALL SELECT * FROM {now})),"
            f" (SELECT count(*) FROM (SELECT * FROM {now} EXCEPT ALL SELECT * FROM _was_{t}))"
        ).fetchall()
        if only_was or only_now:
            out[t] = (only_was, only_now)
    return out


def _step(store: Store, path: Path, s: Settings) -> str | None:
    """Ingest, derive as an ingest does, and compare with a full rebuild; how it derived."""
    ingest_git(store, [path], name=REPO, settings=s, derive_after=False, line_history=True)
    done = derive.refresh(store, s)
    how = done[0].changes.how if done and done[0].changes else None
    _snapshot(store)
    derive.run(store, [REPO], s)
    assert _differences(store) == {}, how
    return how


OPS = st.sampled_from(["append", "append", "merge", "branch", "ff", "tag", "tag", "delete_tag",
                       "move_tag", "reset"])
FORGE_OPS = st.sampled_from(["append", "append", "merge", "branch", "ff", "tag", "reset", "pr",
                             "pr", "deploy"])


def _run(tmp_path: Path, data: st.DataObject, steps: int, forge: bool = False) -> None:
    path = tmp_path / "repo.git"
    h = History.create(path)
    s = Settings()
    with open_store(tmp_path / "s.duckdb") as store:
        assert _step(store, path, s) == "not derived before: full rebuild"
        for _ in range(steps):
            ops = data.draw(st.lists(FORGE_OPS if forge else OPS, min_size=1, max_size=3))
            before = (h.tip(), dict(h.branches), list(h.tags))
            forged = False
            for op in ops:
                if op in ("pr", "deploy"):
                    forged = _forge(store, h, data, op) or forged
                else:
                    _apply(h, data, op)
            how = _step(store, path, s)
            unchanged = before == (h.tip(), h.branches, h.tags)
            if set(ops) <= APPENDS | {"pr"} and not unchanged and not forged:
                assert (how is not None and how.startswith("incremental")) or how == (
                    "a pull request's commits reach older changes: full rebuild"), (ops, how)
            elif forged:  # joined to the changes as git alone gives them
                assert how == "new forge data: full rebuild", (ops, how)


@settings(max_examples=8, deadline=None, derandomize=True, phases=[Phase.generate],
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_incremental_equals_full_on_random_histories(tmp_path_factory: pytest.TempPathFactory,
                                                     data: st.DataObject) -> None:
    _run(tmp_path_factory.mktemp("h"), data, steps=6)


@settings(max_examples=8, deadline=None, derandomize=True, phases=[Phase.generate],
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_incremental_equals_full_with_pull_requests(tmp_path_factory: pytest.TempPathFactory,
                                                    data: st.DataObject) -> None:
    # A repository with forge data: the changes step appends, the forge step joins pull requests
    # (folding rebase copies, renaming changes) over what it wrote before.
    _run(tmp_path_factory.mktemp("h"), data, steps=6, forge=True)


@pytest.mark.slow
@settings(max_examples=60, deadline=None, phases=[Phase.generate],
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_incremental_equals_full_on_many_random_histories(
        tmp_path_factory: pytest.TempPathFactory, data: st.DataObject) -> None:
    _run(tmp_path_factory.mktemp("h"), data, steps=10)


def _derive(store: Store, path: Path, s: Settings | None = None) -> derive.Derived:
    s = s or Settings()
    ingest_git(store, [path], name=REPO, settings=s, derive_after=False)
    (done,) = derive.refresh(store, s)
    return done


@pytest.fixture
def built(tmp_path: Path) -> tuple[History, Store]:
    """A mainline of root, two commits and a merge of a branch; v1.0 on the tip."""
    h = History.create(tmp_path / "repo.git")
    _apply_all(h, ["work (#1)", "work (#2)"])
    h.branches["b0"] = h.commit([h.main[-1]], "topic", 3)
    h.set_main(h.commit([h.tip(), h.branches["b0"]], "Merge pull request #3 from acme/t", 4))
    h.git.run("tag", "v1.0", h.tip(), env={"GIT_COMMITTER_DATE": h.date()})
    store = open_store(tmp_path / "s.duckdb")
    assert _derive(store, h.git.path).changes.how == "not derived before: full rebuild"  # type: ignore[union-attr]
    return h, store


def _apply_all(h: History, subjects: list[str]) -> None:
    for i, subject in enumerate(subjects):
        h.set_main(h.commit([h.tip()], subject, i + 1))


def _rows(store: Store, sql: str) -> list[tuple[object, ...]]:
    return store.con.execute(sql, [REPO]).fetchall()


def test_one_commit_appended_derives_one_change(built: tuple[History, Store]) -> None:
    h, store = built
    _apply_all(h, ["fix (#7)"])
    done = _derive(store, h.git.path)
    assert done.changes is not None
    assert (done.changes.how, done.changes.new, done.changes.changes, done.changes.mainline,
            done.changes.released) == ("incremental (1 new change)", 1, 5, 5, 4)
    assert done.reason == "new git data"
    assert _rows(store, "SELECT id, commits, release FROM changes WHERE repo = ?"
                        " AND merge_sha = (SELECT sha FROM mainline WHERE repo = ?"
                        " ORDER BY position DESC LIMIT 1)".replace("?", "$1")) \
        == [(f"{REPO}#7", 1, None)]
    assert _rows(store, "SELECT name, \"at\" = (SELECT committer_time FROM commits WHERE repo = $1"
                        " AND sha = (SELECT merge_sha FROM changes WHERE id = 'acme/app#7'))"
                        " FROM milestones WHERE repo = $1 AND change_id = 'acme/app#7' ORDER BY 1"
                 ) == [("merged", True), ("ready_for_review", True), ("work_started", True)]
    # Nothing new: nothing derived.
    assert derive.refresh(store, Settings()) == []
    store.close()


def test_new_release_tag_dated_earlier_releases_older_changes(
        built: tuple[History, Store]) -> None:
    h, store = built
    # v0.9 on the second commit, dated before v1.0: the root and the two first changes take it.
    h.git.run("tag", "v0.9", h.main[2], env={"GIT_COMMITTER_DATE": h.date(10)})
    _apply_all(h, ["more"])
    done = _derive(store, h.git.path)
    assert done.changes is not None and done.changes.how == "incremental (1 new change)"
    assert _rows(store, "SELECT m.position, c.release FROM changes c JOIN mainline m"
                        " ON m.repo = c.repo AND m.sha = c.merge_sha WHERE c.repo = ?"
                        " ORDER BY 1") == [(0, "v0.9"), (1, "v0.9"), (2, "v0.9"), (3, "v1.0"),
                                           (4, None)]
    assert _rows(store, "SELECT count(*) FROM milestones WHERE repo = ? AND name = 'released'"
                        " AND source = 'git'") == [(4,)]
    store.close()


@pytest.mark.parametrize(("change", "how"), [
    ("force push", "history rewritten: full rebuild"),
    ("delete tag", "a tag moved or was deleted: full rebuild"),
    ("pattern", "release_tag_pattern changed: full rebuild"),
])
def test_what_cannot_be_appended_is_derived_whole(built: tuple[History, Store], change: str,
                                                  how: str) -> None:
    h, store = built
    s = Settings()
    if change == "force push":
        h.set_main(h.commit([h.main[-3]], "rewritten", 5))
    elif change == "delete tag":
        h.git.run("tag", "-d", "v1.0")
    else:
        s = Settings(release_tag_pattern="^release-.*$")
    done = _derive(store, h.git.path, s)
    assert done.changes is not None and done.changes.how == how
    assert done.changes.new is None
    _snapshot(store)
    derive.run(store, [REPO], s)
    assert _differences(store) == {}
    store.close()


def test_line_ages_of_appended_commits_replay_only_their_files(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from leadlens.derive import line_ages

    h = History.create(tmp_path / "repo.git")
    _apply_all(h, ["one", "two", "three"])
    s = Settings()
    calls: list[bool] = []
    real = line_ages._rows

    def spy(store: Store, repo: str, only: bool = False):  # type: ignore[no-untyped-def]
        calls.append(only)
        return real(store, repo, only)

    monkeypatch.setattr(line_ages, "_rows", spy)
    with open_store(tmp_path / "s.duckdb") as store:
        ingest_git(store, [h.git.path], name=REPO, settings=s, line_history=True)
        _apply_all(h, ["four"])
        ingest_git(store, [h.git.path], name=REPO, settings=s, line_history=True)
        assert calls == [False, True]
        assert _rows(store, "SELECT replayed FROM derive_line_base WHERE repo = ?") == [(5,)]
        _snapshot(store)
        derive.run(store, [REPO], s)
        assert _differences(store) == {}
        assert _rows(store, "SELECT count(*) FROM line_changes WHERE repo = ?") == [(5,)]


def test_a_shallow_clone_appended_to_derives_the_new_changes_only(tmp_path: Path) -> None:
    """The boundary stays where it was: the new changes are derived alone, and a cut change (one
    whose commits reach the boundary) stays cut."""
    import subprocess

    from gitfixtures import git_env

    h = History.create(tmp_path / "origin.git")
    _apply_all(h, ["a (#1)", "b (#2)", "c (#3)", "d (#4)"])
    clone = tmp_path / "clone.git"
    subprocess.run(["git", "clone", "-q", "--bare", "--depth", "2", f"file://{h.git.path}",
                    str(clone)], check=True, env=git_env(tmp_path), capture_output=True)
    side = h.commit([h.main[-2]], "side", 2)  # off the commit before the tip: inside the clone
    h.set_main(h.commit([h.tip(), side], "Merge pull request #5 from acme/side", 3))
    _apply_all(h, ["e (#6)"])
    with open_store(tmp_path / "s.duckdb") as store:
        assert _derive(store, clone).changes.how == "not derived before: full rebuild"  # type: ignore[union-attr]
        subprocess.run(["git", "fetch", "-q", "origin", "main:main"], cwd=clone, check=True,
                       env=git_env(tmp_path), capture_output=True)
        done = _derive(store, clone)
        assert done.changes is not None and done.changes.how == "incremental (2 new changes)"
        assert _rows(store, "SELECT id, commits, shallow_cut FROM changes WHERE repo = ?"
                            " ORDER BY id") == [
            (f"{REPO}#3", 1, True), (f"{REPO}#4", 1, False), (f"{REPO}#5", 2, False),
            (f"{REPO}#6", 1, False)]
        _snapshot(store)
        derive.run(store, [REPO], s := Settings())
        assert _differences(store) == {}, s

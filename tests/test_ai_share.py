"""`ai share`: blame counts checked by hand on a tiny history, the same counts as the baseline loop
(`git blame --line-porcelain A..B -- f` over every file) on a generated history, globs, releases,
an all-human repository, and bad input."""

from __future__ import annotations

import json
import os
import random
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from gitfixtures import Git
from leadlens.analysis.share import share_of
from leadlens.attribution import Rules
from leadlens.errors import UserError
from leadlens.sources.git.blame import (
    Revision,
    blame_ranges,
    parse_blame,
    resolve,
    share_ranges,
)
from leadlens.sources.git.client import open_repo

ALICE = "Alice Liddell <alice@example.com>"
BOB = "Bob Builder <bob@example.com>"
CAROL = "Carol Danvers <carol@example.com>"
DAN = "Dan Dare <dan@example.com>"
AGENT = "copilot-swe-agent[bot] <198982749+Copilot@users.noreply.github.com>"
CLAUDE = "\n\nCo-authored-by: Claude <noreply@anthropic.com>\n"


def lines(*items: str) -> str:
    return "".join(f"{x}\n" for x in items)


def build_tiny(path: Path) -> dict[str, str]:
    """A history whose every line's author is known by construction (see the test below)."""
    g = Git(path)
    s = {}
    g.write("a.txt", lines("a1", "a2", "a3", "a4", "a5"))
    g.write("b.txt", lines("keep"))
    g.write("src/deep/x.py", lines("x1", "x2", "x3"))
    s["c0"] = g.commit("Start\n", author=ALICE, date="2024-01-01T10:00:00Z")
    g.tag("v1.0", message="1.0\n", date="2024-01-01T12:00:00Z")
    # Bob: rewrites a2, appends two lines.
    g.write("a.txt", lines("a1", "B2", "a3", "a4", "a5", "B6", "B7"))
    s["c1"] = g.commit("Bob's edit\n", author=BOB, date="2024-01-02T10:00:00Z")
    # Carol with Claude: rewrites Bob's B6, adds a file in src/deep and one in docs.
    g.write("a.txt", lines("a1", "B2", "a3", "a4", "a5", "C6", "B7"))
    g.write("src/deep/y.py", lines("y1", "y2", "y3", "y4"))
    g.write("docs/readme.md", lines("r1", "r2"))
    s["c2"] = g.commit("Carol's edit" + CLAUDE, author=CAROL, date="2024-01-03T10:00:00Z")
    # Dan: one line of x.py.
    g.write("src/deep/x.py", lines("D1", "x2", "x3"))
    s["c3"] = g.commit("Dan's edit\n", author=DAN, date="2024-01-04T10:00:00Z")
    g.tag("v1.1", date="2024-01-04T12:00:00Z")  # lightweight
    # Alice with aider: one more line.
    g.write("a.txt", lines("a1", "B2", "a3", "a4", "a5", "C6", "B7", "A8"))
    s["c4"] = g.commit("Add a8\n", author="Alice Liddell (aider) <alice@example.com>",
                       date="2024-01-05T10:00:00Z")
    g.tag("v1.2", message="1.2\n", date="2024-01-05T12:00:00Z")
    g.tag("v1.3rc1", message="pre-release, not a release\n", date="2024-01-05T13:00:00Z")
    return s


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    path = tmp_path_factory.mktemp("share") / "tiny"
    return path, build_tiny(path)


def share(path: Path, start: str, end: str, include: list[str] | None = None,
          exclude: list[str] | None = None) -> dict[str, Any]:
    repo = open_repo(path)
    [blame] = blame_ranges(repo, [(resolve(repo, start), resolve(repo, end))], include=include or (),
                           exclude=exclude or ())
    return share_of(blame, Rules()).to_json()


def test_hand_checked_counts(tiny: tuple[Path, dict[str, str]]) -> None:
    path, s = tiny
    got = share(path, "v1.0", "v1.1")
    # a.txt: B2 and B7 by Bob, C6 by Carol (it replaced Bob's B6); a1, a3-a5 predate v1.0.
    # y.py 4 and readme.md 2 by Carol; x.py: D1 by Dan; b.txt was never touched after v1.0.
    assert got == {
        "from": "v1.0", "to": "v1.1", "from_sha": s["c0"], "to_sha": s["c3"],
        "total_lines": 10, "ai_lines": 7, "ai_percentage": 70.0,
        "by_author": {"Carol Danvers (AI)": 7, "Bob Builder": 2, "Dan Dare": 1},
        "by_file": {"a.txt": {"total": 3, "ai": 1}, "docs/readme.md": {"total": 2, "ai": 2},
                    "src/deep/x.py": {"total": 1, "ai": 0}, "src/deep/y.py": {"total": 4, "ai": 4}},
        "ai_commits": {s["c2"]: [{"rule": "co-authored-by-assistant",
                                  "text": "Co-authored-by: Claude <noreply@anthropic.com>",
                                  "tool": "Claude Code"}]},
    }


def test_blame_attributes_lines_per_commit(tiny: tuple[Path, dict[str, str]]) -> None:
    path, s = tiny
    repo = open_repo(path)
    [b] = blame_ranges(repo, [(resolve(repo, "v1.0"), resolve(repo, "v1.2"))], jobs=2)
    assert b.files == {
        "a.txt": {s["c1"]: 2, s["c2"]: 1, s["c4"]: 1},
        "docs/readme.md": {s["c2"]: 2}, "src/deep/x.py": {s["c3"]: 1}, "src/deep/y.py": {s["c2"]: 4},
    }
    assert set(b.commits) == {s["c1"], s["c2"], s["c3"], s["c4"]}


@pytest.mark.parametrize(("include", "exclude", "total", "ai"), [
    (["**/*.py"], [], 5, 4),  # ** crosses directories
    (["*.py"], [], 0, 0),  # * does not cross /: only top-level .py files (there are none)
    (["src/*.py"], [], 0, 0),
    (["src/**"], [], 5, 4),
    (["*.txt"], [], 3, 1),
    ([], ["docs/**"], 8, 5),  # no include: every file but the excluded
    (["**"], ["**/y.py", "a.?xt"], 3, 2),  # ? matches one character
    (["[ad]*/**", "a.txt"], [], 5, 3),  # a bracket set
])
def test_globs_use_git_wildmatch(tiny: tuple[Path, dict[str, str]], include: list[str],
                                 exclude: list[str], total: int, ai: int) -> None:
    got = share(tiny[0], "v1.0", "v1.1", include=include, exclude=exclude)
    assert (got["total_lines"], got["ai_lines"]) == (total, ai)


def test_releases_are_consecutive_release_tags(tiny: tuple[Path, dict[str, str]]) -> None:
    path, s = tiny
    repo = open_repo(path)
    ranges = share_ranges(repo, None, None, releases=True,
                          release_pattern=r"^(?:[\w.-]+/)?v?\d+(?:\.\d+)+$")
    assert ranges == [(Revision("v1.0", s["c0"]), Revision("v1.1", s["c3"])),
                      (Revision("v1.1", s["c3"]), Revision("v1.2", s["c4"]))]
    second = share_of(blame_ranges(repo, ranges)[1], Rules()).to_json()
    assert second["by_author"] == {"Alice Liddell (aider) (AI)": 1}
    assert second["ai_percentage"] == 100.0
    assert [e["rule"] for e in second["ai_commits"][s["c4"]]] == ["aider-author"]


PAUL = "Paul Gauthier <paul@example.com>"
PAUL_AIDER = "Paul Gauthier (aider) <paul@example.com>"


def test_aider_marks_only_its_own_edits(tmp_path: Path) -> None:
    """aider's documented attribution (aider docs, Git integration): its own edits get "(aider)" on
    the author (and the committer), or since v0.85 a Co-authored-by trailer, or an "aider:" subject;
    a commit of the user's own edits (/commit, dirty files) gets "(aider)" on the committer only,
    and those lines are the user's."""
    g = Git(tmp_path / "aider")
    g.write("README.md", "# x\n")
    g.commit("Start\n", author=PAUL, date="2024-05-01T10:00:00Z")
    g.tag("v0.1.0")
    g.write("a.py", lines(*[f"a{i}" for i in range(5)]))
    edit = g.commit("feat: Add a\n", author=PAUL_AIDER, committer=PAUL_AIDER,
                    date="2024-05-02T10:00:00Z")
    g.write("b.py", lines(*[f"b{i}" for i in range(7)]))
    user = g.commit("fix: The user's own b\n", author=PAUL, committer=PAUL_AIDER,
                    date="2024-05-03T10:00:00Z")
    g.write("c.py", lines(*[f"c{i}" for i in range(3)]))
    trailer = g.commit("feat: Add c\n\nCo-authored-by: aider (openai/gpt-4o) <noreply@aider.chat>\n",
                       author=PAUL, date="2024-05-04T10:00:00Z")
    g.write("d.py", lines("d0", "d1"))
    subject = g.commit("aider: Add d\n", author=PAUL, committer=PAUL_AIDER,
                       date="2024-05-05T10:00:00Z")
    g.tag("v0.2.0")
    got = share(g.path, "v0.1.0", "v0.2.0")
    # 5 + 3 + 2 lines by aider's edits; the user's 7 are the user's.
    assert (got["total_lines"], got["ai_lines"], got["ai_percentage"]) == (17, 10, 58.82)
    assert got["by_author"] == {"Paul Gauthier": 7, "Paul Gauthier (AI)": 5,
                                "Paul Gauthier (aider) (AI)": 5}
    assert sorted(got["ai_commits"]) == sorted([edit, trailer, subject]) and user not in got["ai_commits"]
    assert {e["tool"] for ev in got["ai_commits"].values() for e in ev} == {"Aider"}


def test_cli_json_releases_and_table(tiny: tuple[Path, dict[str, str]], tmp_path: Path) -> None:
    path, _ = tiny
    proc = run_cli("ai", "share", str(path), "--releases", "--format", "json", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert [(d["from"], d["to"], d["total_lines"], d["ai_lines"]) for d in data] == [
        ("v1.0", "v1.1", 10, 7), ("v1.1", "v1.2", 1, 1)]
    one = json.loads(run_cli("ai", "share", str(path), "--from", "v1.0", "--to", "v1.1",
                             "--format", "json", "--jobs", "1", cwd=tmp_path).stdout)
    assert one == data[0]
    table = run_cli("ai", "share", str(path), "--from", "v1.0", "--to", "v1.1", cwd=tmp_path)
    assert table.returncode == 0, table.stderr
    assert "70.00" in table.stdout and "Carol Danvers (AI) 7" in table.stdout
    assert table.stderr == ""  # no progress bar off a terminal


def test_cli_reads_user_rules(tiny: tuple[Path, dict[str, str]], tmp_path: Path) -> None:
    (tmp_path / "leadlens.toml").write_text(
        'ai_disabled_rules = ["co-authored-by-assistant"]\n\n[[ai_rules]]\nname = "dan"\n'
        'field = "author_name"\npattern = "^Dan "\n', encoding="utf-8")
    proc = run_cli("ai", "share", str(tiny[0]), "--from", "v1.0", "--to", "v1.1", "--format", "json",
                   cwd=tmp_path)
    got = json.loads(proc.stdout)
    assert got["by_author"] == {"Carol Danvers": 7, "Bob Builder": 2, "Dan Dare (AI)": 1}
    assert got["ai_commits"] == {tiny[1]["c3"]: [{"rule": "dan", "text": "Dan Dare", "tool": None}]}


def test_all_human_repository_is_zero(tmp_path: Path) -> None:
    g = Git(tmp_path / "human")
    g.write("f.txt", "one\n")
    g.commit("One\n", date="2024-01-01T10:00:00Z")
    g.tag("v1.0.0")
    g.write("f.txt", "one\ntwo\n")
    g.commit("Two\n", author=BOB, date="2024-01-02T10:00:00Z")
    g.tag("v1.1.0")
    proc = run_cli("ai", "share", str(g.path), "--releases", "--format", "json", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    [got] = json.loads(proc.stdout)
    assert (got["total_lines"], got["ai_lines"], got["ai_percentage"]) == (1, 0, 0.0)
    assert got["by_author"] == {"Bob Builder": 1} and got["ai_commits"] == {}
    # An empty range: nothing shipped, 0 %, not a division by zero.
    same = share(g.path, "v1.1.0", "v1.1.0")
    assert (same["total_lines"], same["ai_percentage"], same["by_file"]) == (0, 0.0, {})


@pytest.mark.parametrize(("args", "message"), [
    (["--from", "v9"], "unknown revision 'v9'"),
    (["--from", "v1.0", "--to", "nope"], "unknown revision 'nope'"),
    ([], "--from REV is required"),
    (["--from", "v1.0", "--include", "src/[ab"], "'[' at 5 is never closed"),
    (["--from", "v1.0", "--exclude", ""], "empty --include/--exclude pattern"),
    (["--from", "v1.0", "--include", "/etc/**"], "outside repository"),
    (["--releases", "--from", "v1.1", "--to", "v1.1"], "from v1.1 to v1.1 (in version order); there is 1"),
    (["--releases", "--from", "v1.2", "--to", "v1.0"], "from v1.2 to v1.0 (in version order); there are 0"),
    (["--releases", "--from", "v1.3rc1"], "must be a release tag"),
    (["--from", "v1.0", "--format", "yaml"], "--format must be table or json"),
    # Not a range that leads to --to: exit 2, not a share of 0.00%.
    (["--from", "v1.2", "--to", "v1.0"], "--from 'v1.2' is not an ancestor of --to 'v1.0': the"
     " share counts lines at --to written by commits since --from, so --from must be an earlier"
     " commit of --to's history (these two look swapped)"),
    (["--from", "v1.1", "--to", "v1.1"], "are the same commit: no commit lies between them"),
])
def test_bad_input_is_one_line(tiny: tuple[Path, dict[str, str]], tmp_path: Path, args: list[str],
                               message: str) -> None:
    proc = run_cli("ai", "share", str(tiny[0]), *args, cwd=tmp_path)
    assert proc.returncode == 2
    assert message in proc.stderr and proc.stderr.startswith("leadlens: error:")
    assert len(proc.stderr.strip().splitlines()) == 1 and "Traceback" not in proc.stderr


def test_not_a_repository_and_too_few_releases(tmp_path: Path) -> None:
    proc = run_cli("ai", "share", str(tmp_path), "--from", "HEAD~1", cwd=tmp_path)
    assert proc.returncode == 2 and "is not a git repository" in proc.stderr
    g = Git(tmp_path / "one-release")
    g.write("f.txt", "x\n")
    g.commit("One\n")
    g.tag("v1.0")
    g.tag("v2")  # a single number: not a release
    proc = run_cli("ai", "share", str(g.path), "--releases", cwd=tmp_path)
    assert proc.returncode == 2
    assert "--releases needs at least two release tags; the repository has 1 matching" in proc.stderr


def test_from_not_an_ancestor_is_what_git_says(tiny: tuple[Path, dict[str, str]]) -> None:
    # v1.2..v1.0 is empty to git: every line at v1.0 is a boundary line (which is why `ai share`
    # refuses such a range before blaming: see test_bad_input_is_one_line).
    got = share(tiny[0], "v1.2", "v1.0")
    assert (got["total_lines"], got["by_author"]) == (0, {})


def test_from_on_another_branch_is_refused(tmp_path: Path) -> None:
    # --from on a branch that never merged into --to: the range is --to's history since the fork,
    # not "after --from"; the share would be a figure about something else.
    g = Git(tmp_path / "fork")
    g.write("f.txt", "base\n")
    g.commit("Base\n", author=ALICE, date="2024-01-01T10:00:00Z")
    g.run("checkout", "-q", "-b", "side")
    g.write("side.txt", "side\n")
    g.commit("Side work" + CLAUDE, author=BOB, date="2024-01-02T10:00:00Z")
    g.run("checkout", "-q", "main")
    g.write("f.txt", "base\nmain\n")
    g.commit("Main work\n", author=CAROL, date="2024-01-03T10:00:00Z")
    proc = run_cli("ai", "share", str(g.path), "--from", "side", "--to", "main", cwd=tmp_path)
    assert proc.returncode == 2, proc.stdout
    assert proc.stderr == ("leadlens: error: --from 'side' is not an ancestor of --to 'main': the"
                           " share counts lines at --to written by commits since --from, so --from"
                           " must be an earlier commit of --to's history\n")


def test_parse_blame_on_captured_text() -> None:
    a, b = "a" * 40, "b" * 40
    incremental = (f"{a} 1 1 2\nauthor X\nsummary boundary\nprevious {b} f\nfilename f\n"
                   f"{b} 1 3 1\nauthor Y\nsummary s\nboundary\nfilename f\n"
                   f"{a} 5 4 3\nfilename f\n{b} 9 7 1\nfilename f\n").encode()
    assert parse_blame(incremental) == {a: 5}
    porcelain = (f"{a} 1 1 2\nauthor X\nfilename f\n\tboundary\n{a} 2 2\n\tline\n").encode()
    assert parse_blame(porcelain) == {a: 2}
    assert parse_blame(b"") == {}


# ---- the same counts as the baseline loop, on a generated history ---------------------------------

def baseline(path: Path, start: str, end: str, *extra: str) -> dict[str, dict[str, int]]:
    """The loop the benchmark times: `git blame --line-porcelain A..B -- f` for every file at B,
    counting each line's commit unless git flags it boundary."""
    files = git(path, "ls-tree", "-r", "-z", "--name-only", end).split("\0")
    out: dict[str, dict[str, int]] = {}
    for f in filter(None, files):
        counts: dict[str, int] = {}
        sha, is_boundary = "", False
        for line in git(path, "blame", "--line-porcelain", *extra, f"{start}..{end}", "--", f
                        ).split("\n"):
            if line.startswith("\t"):
                if not is_boundary:
                    counts[sha] = counts.get(sha, 0) + 1
            elif line == "boundary":
                is_boundary = True
            elif HEADER.match(line):
                sha, is_boundary = line[:40], False
        if counts:
            out[f] = counts
    return out


HEADER = re.compile(r"^[0-9a-f]{40} \d+ \d+")


def git(path: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=path, capture_output=True, check=True, text=True,
                          encoding="utf-8", errors="surrogateescape").stdout


def build_generated(path: Path, seed: int = 7) -> None:
    """Branches, clean merges, a merge that edits a file itself, renames, deletions, copies across
    files, and an unrelated history (its own root commit) merged in after v1.0."""
    rnd = random.Random(seed)
    g = Git(path)
    g.run("config", "user.name", "Merge Tool")  # merges that stop before committing need one
    g.run("config", "user.email", "merge@example.com")
    # Long lines, so that blame -M -C recognises a moved block (it needs 20+ alphanumerics).
    files = {f"m{i}.txt": [f"m{i} line {j} written long enough to be followed" for j in range(8)]
             for i in range(6)}

    def put(name: str, body: list[str]) -> None:
        g.write(name, lines(*body))

    for name, body in files.items():
        put(name, body)
    g.commit("Root\n", date="2024-01-01T00:00:00Z")
    day = 1
    people = [ALICE, BOB, CAROL, DAN]

    def edit(prefix: str, n: int, message: str) -> None:
        nonlocal day
        for _ in range(n):
            day += 1
            name = rnd.choice(sorted(f for f in files if f.startswith(prefix)))
            body = files[name]
            op = rnd.random()
            if op < 0.4 and body:
                body[rnd.randrange(len(body))] = f"{name}-edit{day}"
            elif op < 0.7:
                body.insert(rnd.randrange(len(body) + 1), f"{name}-ins{day}")
            elif op < 0.8 and len(body) > 2:
                del body[rnd.randrange(len(body))]
            else:  # a block copied from another file
                other = files[rnd.choice(sorted(files))]
                body.extend(other[:3])
            put(name, body)
            g.commit(f"{message} {day}" + (CLAUDE if day % 3 == 0 else "\n"),
                     author=people[day % 4], date=f"2024-01-01T{day:02d}:00:00Z")

    edit("m", 4, "Main")
    g.tag("v1.0")
    for branch in ("one", "two"):
        g.run("checkout", "-q", "-b", branch)
        files[f"{branch}.txt"] = [f"{branch}-{j}" for j in range(5)]
        put(f"{branch}.txt", files[f"{branch}.txt"])
        edit(branch, 3, branch)
        g.run("checkout", "-q", "main")
    g.merge("one", message="Merge one\n", date="2024-02-20T00:00:00Z")
    # A merge that changes a file itself (an "evil merge"): its lines belong to the merge commit.
    g.run("merge", "-q", "--no-ff", "--no-commit", "two")
    files["m0.txt"].append("written in the merge")
    put("m0.txt", files["m0.txt"])
    g.commit("Merge two\n", author=CAROL, date="2024-02-21T00:00:00Z")
    g.run("mv", "m1.txt", "renamed.txt")
    files["renamed.txt"] = files.pop("m1.txt")
    g.commit("Rename m1\n", author=BOB, date="2024-02-22T00:00:00Z")
    g.run("rm", "-q", "m2.txt")
    del files["m2.txt"]
    g.commit("Remove m2\n", author=DAN, date="2024-02-23T00:00:00Z")
    # An unrelated history merged in: its root commit is in the range.
    g.run("checkout", "-q", "--orphan", "vendor")
    g.run("rm", "-rq", "--cached", ".")
    for f in list(files):
        (path / f).unlink()
    g.write("vendor/lib.txt", lines("v1", "v2", "v3"))
    g.commit("Vendor root\n", author=DAN, date="2024-02-24T00:00:00Z")
    g.run("checkout", "-q", "-f", "main")
    g.run("merge", "-q", "--no-ff", "--no-commit", "--allow-unrelated-histories", "vendor")
    g.commit("Merge vendor\n", author=ALICE, date="2024-02-25T00:00:00Z")
    files["vendor/lib.txt"] = ["v1", "v2", "v3"]
    edit("", 5, "After")
    # A block moved from one file to another: -M -C follows it back to the root commit.
    files["m5.txt"] += files["m3.txt"][:4]
    del files["m3.txt"][:4]
    put("m5.txt", files["m5.txt"])
    put("m3.txt", files["m3.txt"])
    g.commit("Move a block\n", author=BOB, date="2024-02-27T00:00:00Z")
    g.tag("v2.0")


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("share") / "generated"
    build_generated(path)
    return path


@pytest.mark.parametrize("detect_moves", [False, True])
def test_counts_equal_the_baseline_loop(generated: Path, detect_moves: bool) -> None:
    repo = open_repo(generated)
    extra = ("-M", "-C") if detect_moves else ()
    [b] = blame_ranges(repo, [(resolve(repo, "v1.0"), resolve(repo, "v2.0"))],
                       detect_moves=detect_moves, jobs=3)
    expected = baseline(generated, "v1.0", "v2.0", *extra)
    assert b.files == expected
    assert "m0.txt" in b.files
    mover = next(c.sha for c in b.commits.values() if c.subject == "Move a block")
    assert b.files.get("m5.txt", {}).get(mover, 0) == (0 if detect_moves else 4)
    merges = [c for c in b.commits.values() if c.is_merge and c.subject == "Merge two"]
    assert merges and merges[0].sha in b.files["m0.txt"]
    # Like plain `git blame A..B`: git flags the merged-in history's root commit boundary even
    # inside the range, so its lines are not counted.
    assert "vendor/lib.txt" not in b.files


def run_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "leadlens", *args], capture_output=True, text=True,
                          check=False, cwd=cwd, env={**os.environ, "COLUMNS": "200"})


def test_resolve_rejects_options(tiny: tuple[Path, dict[str, str]]) -> None:
    with pytest.raises(UserError, match="not a revision"):
        resolve(open_repo(tiny[0]), "--all")


def test_odd_file_names(tmp_path: Path) -> None:
    """Spaces, tabs, quotes, newlines, a non-UTF-8 byte and a leading dash: blamed, and printable."""
    g = Git(tmp_path / "odd")
    g.write("base.txt", "x\n")
    g.commit("Base\n", date="2024-01-01T10:00:00Z")
    g.tag("v1.0")
    names = ["with space.txt", "tab\there.txt", 'quote"d.txt', "new\nline.txt", "-dash.txt",
             "caf\udce9.txt", "na\u00efve/\u00fcber.txt"]
    for i, name in enumerate(names):
        g.write(name, lines(*(f"{i}-{j}" for j in range(i + 1))))
    g.commit("Odd names\n", author=AGENT, date="2024-01-02T10:00:00Z")
    g.tag("v1.1")
    proc = run_cli("ai", "share", str(g.path), "--from", "v1.0", "--to", "v1.1", "--format", "json",
                   cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    got = json.loads(proc.stdout)
    assert got["by_file"] == {
        n.encode("utf-8", "surrogateescape").decode("utf-8", "replace"): {"total": i + 1, "ai": i + 1}
        for i, n in enumerate(names)}
    assert got["total_lines"] == got["ai_lines"] == 28
    table = run_cli("ai", "share", str(g.path), "--from", "v1.0", "--to", "v1.1", "--include", "**/*.txt",
                    cwd=tmp_path)
    assert table.returncode == 0, table.stderr
    assert "copilot-swe-agent[bot] (AI) 28" in table.stdout  # **/ matches no directory too


def test_unknown_disabled_rule_fails_before_the_blame(tiny: tuple[Path, dict[str, str]],
                                                      tmp_path: Path) -> None:
    (tmp_path / "leadlens.toml").write_text('ai_disabled_rules = ["no-such-rule"]\n')
    proc = run_cli("ai", "share", str(tiny[0]), "--from", "v1.0", cwd=tmp_path)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert proc.stderr.startswith("leadlens: error: ai_disabled_rules names no AI rule: no-such-rule"
                                  " (the rules: co-authored-by-assistant, ")
    assert proc.stdout == ""

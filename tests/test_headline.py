"""The flow headline says true and useful things on any history: no waiting at all, next to no
waiting, a single change, direct pushes only (with and without releases), no releases, and a mix.
(The trend's two sentences lead the report's headline: they are checked here as far as these
histories reach, a few changes each, and in tests/test_trend.py.)

Each repository is built with round UTC times so that every number in the sentences can be checked
by hand; the activity window is the default 2 h (time within 2 h after one of the change's commits
is active, the rest waiting).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from gitfixtures import Git, build_linear
from leadlens.analysis.headline import SPEC_STAGE_HINT
from leadlens.engines import connect
from leadlens.metrics.flow import Filters
from leadlens.pipeline import ingest_git
from leadlens.report.build import build_report
from leadlens.store import open_store

AS_OF = datetime(2024, 4, 1, tzinfo=UTC)
BOB = "Bob Builder <bob@example.com>"
NO_CODING = ("No coding time is measured: every change's coding stage is zero-length (in git alone a"
             " change of a single commit, such as a direct push, shows no coding time), so this"
             " history cannot say what faster coding would buy.")
NO_RELEASE = "With no release signal (release tags or releases), lead time here ends at merge."


def headline(tmp_path: Path, *builders: Callable[[Path], object]) -> list[str]:
    """The flow headline: what follows the trend's two sentences."""
    return report_headline(tmp_path, *builders)[2:]


def report_headline(tmp_path: Path, *builders: Callable[[Path], object]) -> list[str]:
    paths = []
    for i, build in enumerate(builders):
        paths.append(tmp_path / f"repo{i}")
        build(paths[-1])
    with open_store(tmp_path / "s.duckdb") as st:
        ingest_git(st, paths)
        lines = build_report(connect(st), Filters(), as_of=AS_OF).headline
    assert lines[0].startswith("Median change lead time (first commit → ")
    assert "not enough evidence" in lines[0] and lines[1] == SPEC_STAGE_HINT
    return lines


def merge_branch(g: Git, name: str, commits: list[str], merged: str) -> None:
    g.run("checkout", "-q", "-b", name)
    for i, at in enumerate(commits):
        g.write(f"{name}.txt", f"{name} {i}\n")
        g.commit(f"{name} {i}\n", author=BOB, date=at)
    g.run("checkout", "-q", "main")
    g.merge(name, message=f"Merge branch '{name}'\n", date=merged)


def demo_shaped(path: Path) -> None:
    # What `make demo` met on leadlens' own history: direct pushes and merges made minutes after
    # their commits, no release. Changes: two direct pushes (lead time 0) and one merge (commits
    # 10:00 and 10:20, merged 10:30): coding 20 min, pickup+review+merge 10 min, all of it within
    # 2 h after a commit: nothing waits.
    g = Git(path)
    g.write("a.txt", "a\n")
    g.commit("Start\n", date="2024-03-01T09:00:00Z")
    g.write("a.txt", "a\nb\n")
    g.commit("Push\n", date="2024-03-01T09:30:00Z")
    merge_branch(g, "feat", ["2024-03-01T10:00:00Z", "2024-03-01T10:20:00Z"],
                 "2024-03-01T10:30:00Z")


def test_no_waiting_at_all(tmp_path: Path) -> None:
    # Coding 20 of 30 min: ceiling 1 / (1 - 2/3) = 3; 2x faster: 1 / (1/3 + 1/3) = 1.5.
    assert headline(tmp_path, demo_shaped) == [
        "No time waits: all of the lead time (30m over 3 changes) is active, within 2.0h after"
        " someone acted.",
        "Coding is 67% of lead time: infinitely fast coding would speed delivery up by at most"
        " 3.00x (Amdahl's ceiling); 2x faster coding buys 1.50x end to end.",
        NO_RELEASE,
    ]


def almost_no_waiting(path: Path) -> None:
    # A direct push (lead time 0), then a branch committed every 2 h and once 2 h 01 min after the
    # last commit, merged 59 min after its last commit: 1 min of 540 waits, in coding.
    g = Git(path)
    g.write("a.txt", "a\n")
    g.commit("Start\n", date="2024-03-01T08:00:00Z")
    merge_branch(g, "long", ["2024-03-01T09:00:00Z", "2024-03-01T11:00:00Z",
                             "2024-03-01T13:00:00Z", "2024-03-01T15:00:00Z",
                             "2024-03-01T17:01:00Z"], "2024-03-01T18:00:00Z")


def test_next_to_no_waiting_is_not_where_most_time_waits(tmp_path: Path) -> None:
    # Coding 481 of 540 min: ceiling 540/59 = 9.15; 2x faster: 1080/599 = 1.80.
    assert headline(tmp_path, almost_no_waiting) == [
        "Almost no time waits: <1% of all lead time is waiting, most of it in coding.",
        "Coding is 89% of lead time: infinitely fast coding would speed delivery up by at most"
        " 9.15x (Amdahl's ceiling); 2x faster coding buys 1.80x end to end.",
        NO_RELEASE,
    ]


def single_change(path: Path) -> None:
    # One commit, released a day later: 2 h active after the commit, 22 h waiting for the release.
    g = Git(path)
    g.write("a.txt", "a\n")
    g.commit("Only\n", date="2024-03-01T09:00:00Z")
    g.tag("v1.0", message="1.0\n", date="2024-03-02T09:00:00Z")


def test_a_single_change(tmp_path: Path) -> None:
    assert headline(tmp_path, single_change) == [
        "Only one change has a lead time in this scope (24.0h): what follows describes that"
        " change, not a pattern.",
        "Most time waits in release: 92% of all lead time is waiting there (100% of lead time is"
        " release).",
        NO_CODING,
    ]


def test_direct_pushes_only_without_releases(tmp_path: Path) -> None:
    assert headline(tmp_path, lambda p: build_linear(p, 3)) == [
        "Every lead time in this scope is zero: each change counts as merged the moment its work"
        " started (in git alone, a direct push is merged when it is committed) and there is no"
        " release to end lead time later. Tag releases (setting release_tag_pattern) or add pull"
        " request data (`leadlens ingest github`) to see where time goes."]


def pushes_then_release(path: Path) -> None:
    # Pushes at 09:00 and 10:00, released at 09:00 the next day: lead times 24 h and 23 h, each
    # active 2 h; 43 of 47 h wait for the release.
    g = Git(path)
    for i, at in enumerate(("2024-03-01T09:00:00Z", "2024-03-01T10:00:00Z")):
        g.write("a.txt", f"{i}\n")
        g.commit(f"Push {i}\n", date=at)
    g.tag("v1.0", message="1.0\n", date="2024-03-02T09:00:00Z")


def test_direct_pushes_only_with_a_release(tmp_path: Path) -> None:
    assert headline(tmp_path, pushes_then_release) == [
        "Most time waits in release: 91% of all lead time is waiting there (100% of lead time is"
        " release).",
        NO_CODING,
    ]


def reviewed_without_release(path: Path) -> None:
    # A direct push (lead time 0); a branch committed at 09:00 and 13:00, merged at 09:00 the next
    # day. Coding 4 h (2 active, 2 waiting), pickup+review+merge 20 h (2 active, 18 waiting).
    g = Git(path)
    g.write("a.txt", "a\n")
    g.commit("Start\n", date="2024-03-01T09:00:00Z")
    merge_branch(g, "feat", ["2024-03-04T09:00:00Z", "2024-03-04T13:00:00Z"],
                 "2024-03-05T09:00:00Z")


def test_no_releases(tmp_path: Path) -> None:
    # Coding 4 of 24 h: ceiling 1 / (5/6) = 1.20; 2x faster: 1 / (5/6 + 1/12) = 1.09.
    lines = report_headline(tmp_path, reviewed_without_release)
    assert lines[0] == (
        "Median change lead time (first commit → merge: no release signal) over the 12 months to"
        " 2024-04-01: not enough evidence (n=2; the 12 months before: n=0; at least 20 per"
        " window).")
    assert lines[2:] == [
        "Most time waits in pickup+review+merge: 75% of all lead time is waiting there (83% of"
        " lead time is pickup+review+merge).",
        "Coding is 17% of lead time: infinitely fast coding would speed delivery up by at most"
        " 1.20x (Amdahl's ceiling); 2x faster coding buys 1.09x end to end.",
        NO_RELEASE,
    ]


@pytest.mark.parametrize("order", ["released first", "unreleased first"])
def test_some_repositories_release_and_some_do_not(tmp_path: Path, order: str) -> None:
    builders = [single_change, lambda p: build_linear(p, 3)]
    if order == "unreleased first":
        builders.reverse()
    lines = report_headline(tmp_path, *builders)
    assert lines[0].startswith("Median change lead time (first commit → production, or merge where"
                               " a repository has no release signal) over the 12 months")
    assert lines[2:] == [
        "Most time waits in release: 92% of all lead time is waiting there (100% of lead time is"
        " release).",
        NO_CODING,
        "Lead time ends at release where a repository has releases, and at merge where it has"
        " none.",
    ]

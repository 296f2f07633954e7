"""Implausible and malformed commit dates (DESIGN.md, Unknown is not zero; Out of order).

A date git cannot give as a time (empty, 2^63 and beyond, year 10000) is stored as null with a
flag and a warning, never failing the repository's ingest; a readable but implausible one (before
1990, after the ingest) is kept and flagged, and a milestone that comes from it is left out of flow
and time-series figures, and counted.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from gitfixtures import Git
from leadlens.engines import connect
from leadlens.metrics.flow import Filters
from leadlens.pipeline import ingest_git
from leadlens.report.build import build_report
from leadlens.report.changes import change_rows
from leadlens.store import Store

H = 3600.0
AS_OF = datetime(2024, 3, 15, tzinfo=UTC)
OK = b"Ann Example <ann@example.com> 1709283600 +0000"  # 2024-03-01 09:00 UTC


def person(date: bytes) -> bytes:
    return b"Ann Example <ann@example.com>" + (b" " + date if date else b"")


@pytest.mark.parametrize("date", [
    b"",  # no date at all: git prints an empty %at
    b"-5 +0000",  # negative: git cannot parse it either
    b"9223372036854775808 +0000",  # 2^63
    b"18446744073709551617 +0000",  # beyond 2^64
    b"253402300800 +0000",  # year 10000
])
def test_an_unreadable_date_is_null_flagged_and_warned_not_fatal(store: Store, tmp_path: Path,
                                                                  date: bytes) -> None:
    g = Git(tmp_path / "r")
    g.write("a.txt", "a\n")
    g.commit("root\n", date="2024-03-01T09:00:00Z")
    g.write("b.txt", "b\n")
    bad_author = g.commit_object("bad author date\n", author=person(date), committer=OK)
    g.write("c.txt", "c\n")
    # The branch tip itself, and a lightweight tag on it: refs carry its committer date too.
    bad_committer = g.commit_object("bad committer date\n", author=OK, committer=person(date))
    g.run("update-ref", "refs/tags/v1.0", bad_committer)  # `git tag` itself refuses some dates
    report = ingest_git(store, [tmp_path / "r"])
    (outcome,) = report.outcomes
    assert outcome.error is None and not report.failed
    assert outcome.commits_added == 3
    assert any("2 commit(s) have a date git cannot give as a time" in w for w in outcome.warnings)
    rows = dict(((sha, (a, c, flags)) for sha, a, c, flags in store.con.execute(
        "SELECT sha, author_time, committer_time, date_flags FROM commits").fetchall()))
    assert rows[bad_author] == (None, datetime(2024, 3, 1, 9, tzinfo=UTC), ["author_malformed"])
    assert rows[bad_committer] == (datetime(2024, 3, 1, 9, tzinfo=UTC), None,
                                   ["committer_malformed"])
    # Derived: the change landing on an unknown committer time has no merge date; the report
    # leaves it out and says so, and the other two are there.
    assert store.con.execute("SELECT count(*) FROM changes").fetchone() == (3,)
    r = build_report(connect(store), Filters(), as_of=AS_OF)
    assert r.evidence.implausible_dates == {"merged": 1}
    assert sum(w.changes for w in r.weeks) == 2
    assert any("no plausible merge date" in m for m in r.messages)


def _implausible(path: Path) -> None:
    """Direct pushes, released by v1.0 (03-05 09:00): the root (03-01 09:00); c1 authored at the
    epoch (committed 03-02 09:00); c2 committed in the year 5138; c3 (03-04 09:00)."""
    g = Git(path)
    g.write("a.txt", "a\n")
    g.commit("root\n", date="2024-03-01T09:00:00Z")
    g.write("b.txt", "b\n")
    g.commit_object("epoch author\n", author=person(b"0 +0000"),
                    committer=person(b"1709370000 +0000"))
    g.write("c.txt", "c\n")
    g.commit_object("far future\n", author=person(b"1709456400 +0000"),
                    committer=person(b"99999999999 +0000"))
    g.write("d.txt", "d\n")
    g.commit("c3\n", date="2024-03-04T09:00:00Z")
    g.tag("v1.0", message="1.0\n", date="2024-03-05T09:00:00Z")


def test_implausible_milestones_are_left_out_of_flow_figures_and_counted(
        store: Store, tmp_path: Path) -> None:
    """Lead times: the root 96 h; c1 without its epoch work_started and ready_for_review: merged
    (03-02 09:00) → released, 72 h; c3 24 h. c2 has no plausible merge date: left out of every
    figure (weeks, months, lead time), counted. Today's figures without this: a 54-year lead time
    and weekly buckets to the year 5138."""
    _implausible(tmp_path / "r")
    ingest_git(store, [tmp_path / "r"])
    r = build_report(connect(store), Filters(), as_of=AS_OF)
    assert r.changes == 3
    assert (r.lead_time.median_s, r.lead_time.mean_s) == (72 * H, (96 + 72 + 24) * H / 3)
    assert [(w.week, w.changes) for w in r.weeks] == [("2024-02-26", 2), ("2024-03-04", 1)]
    assert [m.month for m in r.months] == ["2024-03"]
    assert r.evidence.implausible_dates == {"work_started": 1, "ready_for_review": 1, "merged": 1}
    assert r.evidence.milestones["work_started"] == 2 and r.in_flight.count == 0
    assert any("2 milestone(s) of changes in scope have an implausible date" in m
               for m in r.messages)
    assert any("1 change(s) have no plausible merge date" in m for m in r.messages)
    assert r.dora is not None and r.dora.change_lead_time_median_s == 60 * H  # of 96 h and 24 h
    assert r.dora.change_lead_time_changes == 2
    # The listing: c2 is not listed, and a note says so; c1's epoch milestones are null.
    _, rows, notes = change_rows(connect(store), Filters())
    listed = list(rows)
    assert [row["title"] for row in listed] == ["root", "epoch author", "c3"]
    assert listed[1]["milestones"]["work_started"] is None and listed[1]["lead_time_s"] == 72 * H
    assert notes == [
        "1 change(s) with no plausible merge date (before 1990, in the future, or unreadable) are"
        " not listed", "2 milestone(s) with an implausible date (before 1990 or in the future)"
        " are null and count in no stage or lead time"]

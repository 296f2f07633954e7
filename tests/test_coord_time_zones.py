"""Time zones around reviews on a hand-made scenario whose figures can be checked by hand.

Repository o/r (no clone; commit rows carry the offsets), 2024, UTC. Author ann (UTC+0).
- kai (UTC+9): 2 commits at each local hour 09..17 and one at 20, 21, 22 (May); his reviews add
  local 09:30 (#1), 17:30 and 09:15 (#6): 24 activities, 09 holds 4, 17 holds 3, the rest 2; the
  80% rule (19.2) keeps 09, 17, 10..16: working hours 09:00-18:00 local.
- sam (UTC+0): the same commits in UTC; reviews at 11 (#2), 10 and 12 (#7): working 09-18.
- max moved: 3 commits in January at UTC+1 (local 11, 12, 13), 4 in May at UTC-5 (local 10..13);
  reviews #4 (March, +1: local 13) and #5 (June, -5: local 12). Histogram 10:1 11:2 12:3 13:3,
  80% of 9 = 7.2: working hours 11, 12, 13.
- uma reviews but has no commit: unknown offset. ci-bot (a bot) and coderabbitai[bot] (an AI reviewer)
  review too and are never people.

#1 ready Jun 3 17:00 (02:00 at kai's), kai approves Jun 4 00:30 (09:30 his): pickup 7.5 h, 9 h
   apart, 7 h of it outside his working hours (only 09:00-09:30 inside).
#2 ready Jun 5 10:00, sam 11:00: 1 h, same zone, inside.
#3 ready Jun 7 09:00, ci-bot 09:05, coderabbitai[bot] 09:10, uma 13:00: 4 h, unknown distance.
#4 ready Mar 12 10:00, max 12:00 (UTC+1 then): 2 h, 1 h apart (ann's offset in Q1: her first
   quarter's, Q2); local 11:00-13:00, inside.
#5 ready Jun 6 14:00, max 17:00 (UTC-5 now): 3 h, 5 h apart; local 09:00-12:00, 2 h outside.
#6 ready Jun 10 08:00, kai requests changes 08:30 (17:30 his: inside), ann commits 12:00, kai
   approves Jun 11 00:15: pickup 0.5 h; a round trip of 15.75 h, 9 h apart.
#7 ready Jun 12 09:00, sam comments 10:00, ann answers 11:00, sam approves 12:00: pickup 1 h, a
   round trip of 2 h, same zone.

Pickup by bucket: 0-2 h [1, 2, 1] median 1; 3-5 h [3]; 6-8 h none; 9+ h [7.5, 0.5] median 4;
unknown [4]. Outside working hours: 7 + 2 = 9 of 15 known pickup hours: 0.6. Per change (first
review, known distance): 7, 0, 0, 2, 0, 0 -> 1.5 h waiting across time zones per change.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from forgefixtures import comment, event, pr, review, t
from leadlens.analysis.time_zones import (
    NO_OFFSETS,
    NO_PULL_REQUESTS,
    NO_REVIEWS,
    TimeZoneFigures,
    time_zone_figures,
)
from leadlens.config import Settings
from leadlens.derive.forge import derive_forge
from leadlens.engines import connect, rows
from leadlens.metrics import flow as fm
from leadlens.metrics.time_zones import time_zone_change_flags
from leadlens.pipeline import replay_github
from leadlens.store import Store

R = "o/r"
AS_OF = datetime(2024, 7, 1, tzinfo=UTC)
RECORDED = Path(__file__).resolve().parents[2] / "shared" / "fixtures" / "recorded-api" / "github"
_shas = iter(range(1, 10**6))


def commit(store: Store, at: datetime, offset_min: int, email: str, *, login: str | None = None,
           number: int = 99) -> str:
    """A commit row (UTC ``at``, authored at ``offset_min``) and, with ``login``, the pull request
    commit that links its e-mail to that login."""
    sha = f"{next(_shas):040x}"
    store.con.execute(
        "INSERT INTO commits (repo, sha, parents, author_email, author_time, author_tz_offset_min,"
        " committer_time, is_merge, run_id) VALUES (?, ?, [], ?, ?, ?, ?, FALSE, 1)",
        [R, sha, email, at, offset_min, at])
    if login is not None:
        store.con.execute(
            "INSERT INTO pr_commits (repo, number, sha, author_login, author_time, committer_time,"
            " source, fetched_at) VALUES (?, ?, ?, ?, ?, ?, 'github', ?)",
            [R, number, sha, login, at, at, at])
    return sha


def local_day(store: Store, email: str, login: str, offset_h: int, day: str) -> None:
    """Two commits at each local hour 09..17 and one at 20, 21 and 22, on ``day`` (local)."""
    base = datetime.fromisoformat(day).replace(tzinfo=UTC) - timedelta(hours=offset_h)
    for h in [*range(9, 18), *range(9, 18), 20, 21, 22]:
        commit(store, base + timedelta(hours=h), offset_h * 60, email, login=login)


def scenario(store: Store) -> None:
    con = store.con
    merged = {1: "2024-06-04T02:00", 2: "2024-06-05T12:00", 3: "2024-06-07T14:00",
              4: "2024-03-12T13:00", 5: "2024-06-06T18:00", 6: "2024-06-11T01:00",
              7: "2024-06-12T13:00"}
    ready = {1: "2024-06-03T17:00", 2: "2024-06-05T10:00", 3: "2024-06-07T09:00",
             4: "2024-03-12T10:00", 5: "2024-06-06T14:00", 6: "2024-06-10T08:00",
             7: "2024-06-12T09:00"}
    for n in merged:
        pr(con, R, n, created=ready[n], merged=merged[n], merge_sha=f"{n}" * 40, author="ann")
    pr(con, R, 99, created="2024-05-01T00:00", author="ann")  # open: only links e-mails to logins
    review(con, R, 1, "kai", "APPROVED", "2024-06-04T00:30")
    review(con, R, 2, "sam", "APPROVED", "2024-06-05T11:00")
    review(con, R, 3, "ci-bot", "COMMENTED", "2024-06-07T09:05", bot=True)
    review(con, R, 3, "coderabbitai[bot]", "COMMENTED", "2024-06-07T09:10")
    review(con, R, 3, "uma", "APPROVED", "2024-06-07T13:00")
    review(con, R, 4, "max", "APPROVED", "2024-03-12T12:00")
    review(con, R, 5, "max", "APPROVED", "2024-06-06T17:00")
    review(con, R, 6, "kai", "CHANGES_REQUESTED", "2024-06-10T08:30")
    review(con, R, 6, "kai", "APPROVED", "2024-06-11T00:15")
    review(con, R, 7, "sam", "COMMENTED", "2024-06-12T10:00")
    comment(con, R, 7, "ann", "2024-06-12T11:00")
    review(con, R, 7, "sam", "APPROVED", "2024-06-12T12:00")
    derive_forge(store, R)
    commit(store, t("2024-06-03T17:00"), 0, "ann@x", login="ann", number=1)
    commit(store, t("2024-06-10T07:30"), 0, "ann@x", login="ann", number=6)
    commit(store, t("2024-06-10T12:00"), 0, "ann@x", login="ann", number=6)
    local_day(store, "kai@x", "kai", 9, "2024-05-06")
    local_day(store, "sam@x", "sam", 0, "2024-05-07")
    for h in (10, 11, 12):  # UTC+1 in January: local 11, 12, 13
        commit(store, t(f"2024-01-15T{h}:00"), 60, "max@x", login="max")
    for h in (15, 16, 17, 18):  # UTC-5 in May: local 10..13
        commit(store, t(f"2024-05-10T{h}:00"), -300, "max@x")


def figures(store: Store, *, per_person: bool = False, resamples: int = 999,
            settings: Settings | None = None
            ) -> tuple[TimeZoneFigures, dict[str, tuple[float | None, bool | None]]]:
    settings = settings or Settings()
    backend = connect(store)
    filters = fm.Filters()
    fl = fm.flow(backend, filters)
    try:
        got = time_zone_figures(backend, fl, filters, settings, AS_OF, per_person=per_person,
                                resamples=resamples)
        flags = {r["id"]: (r["tz_distance_h"], r["cross_tz"]) for r in rows(
            backend, time_zone_change_flags(backend, fl, settings))}
    finally:
        fl.release()
    return got, flags


def test_time_zones_hand_computed(store: Store) -> None:
    scenario(store)
    got, flags = figures(store, per_person=True)
    assert got.reason is None
    assert (got.reviews, got.reviews_known_distance) == (7, 6)
    assert (got.people, got.people_unknown_offset) == (5, 1)  # ann kai sam max uma; uma unknown
    assert got.pickup is not None
    pickup = {b.bucket: (b.n, b.median_h) for b in got.pickup}
    assert pickup == {"0-2 h": (3, 1.0), "3-5 h": (1, 3.0), "6-8 h": (0, None),
                      "9+ h": (2, 4.0), "unknown": (1, 4.0)}
    assert all(b.ci_low_h is None for b in got.pickup)  # fewer than 10 values: no interval
    nine = next(b for b in got.pickup if b.bucket == "9+ h")
    assert nine.vs_same_zone is not None and nine.vs_same_zone.hours is None
    assert "not enough evidence" in (nine.vs_same_zone.reason or "")
    assert got.round_trips == 2 and got.round_trip is not None
    trips = {b.bucket: (b.n, b.median_h) for b in got.round_trip if b.n}
    assert trips == {"0-2 h": (1, 2.0), "9+ h": (1, 15.75)}
    assert got.outside_hours_share == pytest.approx(0.6)
    assert got.waiting_across_time_zones_h == pytest.approx(1.5)
    assert got.changes_known_distance == 6
    assert [(w.cause, w.units, round(w.hours_per_unit, 9)) for w in got.waiting] == [
        ("waiting across time zones", 6, 1.5)]
    assert got.teams is not None
    assert [(x.team, x.reviews, x.known_distance, x.cross_tz, x.pickup_median_h)
            for x in got.teams] == [(R, 7, 6, 2, 2.0)]
    assert got.teams[0].outside_hours_share == pytest.approx(0.6)
    assert got.offsets is not None and got.working_hours is not None
    assert [(o.login, o.quarter, o.offset_h) for o in got.offsets] == [
        ("ann", "2024Q2", 0.0), ("kai", "2024Q2", 9.0), ("max", "2024Q1", 1.0),
        ("max", "2024Q2", -5.0), ("sam", "2024Q2", 0.0)]
    hours = {h.login: h.working_hours for h in got.working_hours}
    assert hours["kai"] == hours["sam"] == list(range(9, 18))
    assert hours["max"] == [11, 12, 13]
    assert "uma" not in hours and "ci-bot" not in hours and "coderabbitai" not in hours
    assert flags == {f"{R}#1": (9.0, True), f"{R}#2": (0.0, False), f"{R}#3": (None, None),
                     f"{R}#4": (1.0, False), f"{R}#5": (5.0, False), f"{R}#6": (9.0, True),
                     f"{R}#7": (0.0, False)}


def test_git_only_store_is_null_with_reason(store: Store) -> None:
    commit(store, t("2024-06-03T17:00"), 0, "ann@x")
    got, flags = figures(store)
    assert got.reason == NO_PULL_REQUESTS
    assert got.pickup is None and got.reviews is None and got.waiting == []
    assert flags == {}


def test_pull_requests_without_reviews(store: Store) -> None:
    pr(store.con, R, 1, created="2024-06-03T09:00", merged="2024-06-03T10:00", merge_sha="1" * 40)
    review(store.con, R, 1, "renovate[bot]", "APPROVED", "2024-06-03T09:30")
    derive_forge(store, R)
    got, flags = figures(store)
    assert got.reason == NO_REVIEWS and got.pickup is None
    assert flags == {f"{R}#1": (None, None)}


def test_without_commits_every_offset_is_unknown(store: Store) -> None:
    """API-only data: nobody's offset is known, so every review is in the unknown bucket, never
    counted as UTC, and the figures that need a distance are null with the reason."""
    pr(store.con, R, 1, created="2024-06-03T09:00", merged="2024-06-03T12:00", merge_sha="1" * 40,
       author="ann")
    review(store.con, R, 1, "kai", "APPROVED", "2024-06-03T11:00")
    derive_forge(store, R)
    got, flags = figures(store, settings=Settings(teams={"platform": [R]}))
    assert got.reason is None and got.pickup is not None
    assert got.offsets is None and got.working_hours is None  # only with per_person
    assert got.teams is not None and [(x.team, x.reviews, x.known_distance, x.pickup_median_h)
                                      for x in got.teams] == [("platform", 1, 0, 2.0)]
    assert {b.bucket: b.n for b in got.pickup if b.n} == {"unknown": 1}
    assert got.people_unknown_offset == 2
    assert got.outside_hours_share is None and got.waiting == []
    assert got.null_reasons["outside_hours_share"] == NO_OFFSETS
    assert got.null_reasons["waiting_across_time_zones_h"] == NO_OFFSETS
    assert flags == {f"{R}#1": (None, None)}


def test_intervals_and_what_a_distance_adds(store: Store) -> None:
    """20 same-zone pickups of 1..20 min past the hour and 20 pickups 9 h away of 8 h plus the
    same minutes: the 9+ h median is 8 h + 10.5 min, the 0-2 h median 10.5 min; it adds 8 h."""
    con = store.con
    for i in range(1, 41):
        far = i > 20
        minute = (i - 1) % 20 + 1
        day = f"2024-06-{(i - 1) % 28 + 1:02d}"
        pr(con, R, i, created=f"{day}T00:00", merged=f"{day}T23:00", merge_sha=f"{i:040d}",
           author="ann")
        wait = timedelta(hours=8 if far else 0, minutes=minute)
        review(con, R, i, "kai" if far else "sam",
               "APPROVED", (t(f"{day}T00:00") + wait).isoformat(timespec="minutes")[:16])
    derive_forge(store, R)
    commit(store, t("2024-06-01T09:00"), 0, "ann@x", login="ann")
    commit(store, t("2024-06-01T09:00"), 540, "kai@x", login="kai")
    commit(store, t("2024-06-01T09:00"), 60, "sam@x", login="sam")
    got, _ = figures(store)
    assert got.pickup is not None
    by = {b.bucket: b for b in got.pickup}
    assert (by["0-2 h"].n, by["9+ h"].n) == (20, 20)
    assert by["0-2 h"].median_h == pytest.approx(10.5 / 60)
    assert by["9+ h"].median_h == pytest.approx(8 + 10.5 / 60)
    lo, hi = by["9+ h"].ci_low_h, by["9+ h"].ci_high_h
    assert lo is not None and hi is not None and lo <= 8 + 10.5 / 60 <= hi
    extra = by["9+ h"].vs_same_zone
    assert extra is not None and extra.hours == pytest.approx(8.0)
    assert extra.ci_low is not None and extra.ci_high is not None
    assert extra.ci_low <= 8.0 <= extra.ci_high
    assert got.pickup_cross_tz_extra is not None
    assert got.pickup_cross_tz_extra.hours == pytest.approx(8.0)


def test_recorded_github_fixture_has_no_offsets(store: Store) -> None:
    """The recorded ants history has pull requests, reviews and PR commits but no git clone: no
    commit carries a time zone, so every review's distance is unknown, never UTC. First reviews by
    someone other than the author (panjf2000): #41 03:24:27 -> 09:19:55, #51 08:46:23 -> 12:07:36,
    #53 08:17:20 -> 16:56:26: pickups of 5.92, 3.35 and 8.65 h. Round trips (checked by SQL): on #41
    21m45s and 40m19s; on #53 9h26m12s, 6m27s and 30h44m59s: the median is 40m19s."""
    replay_github(store, RECORDED)
    derive_forge(store, "panjf2000/ants")
    got, flags = figures(store)
    assert got.reason is None and (got.reviews, got.reviews_known_distance) == (3, 0)
    assert (got.people, got.people_unknown_offset) == (3, 3)
    assert got.pickup is not None and got.round_trip is not None
    assert {b.bucket: b.n for b in got.pickup if b.n} == {"unknown": 3}
    unknown = got.pickup[-1]
    assert unknown.bucket == "unknown" and unknown.median_h == pytest.approx(21328 / 3600)
    assert got.round_trips == 5
    assert got.round_trip[-1].median_h == pytest.approx(2419 / 3600)
    assert got.waiting == [] and got.outside_hours_share is None
    assert got.null_reasons["waiting_across_time_zones_h"] == NO_OFFSETS
    assert len(flags) == 26 and set(flags.values()) == {(None, None)}


def test_a_reviewers_own_commit_is_no_answer(store: Store) -> None:
    """#1: kai comments 10:00, pushes a commit himself 11:00 and reviews again 12:00: nobody
    answered, no round trip. #2: the same, but the commit is by someone GitHub could not name
    (an answer): a round trip of 2 h. Nobody's offset is known: the unknown bucket."""
    con = store.con
    for n in (1, 2):
        pr(con, R, n, created=f"2024-06-0{n}T09:00", merged=f"2024-06-0{n}T13:00",
           merge_sha=f"{n}" * 40, author="ann")
        review(con, R, n, "kai", "COMMENTED", f"2024-06-0{n}T10:00")
        review(con, R, n, "kai", "APPROVED", f"2024-06-0{n}T12:00")
        con.execute("INSERT INTO pr_commits (repo, number, sha, author_login, committer_time,"
                    " source, fetched_at) VALUES (?, ?, ?, ?, ?, 'github', ?)",
                    [R, n, f"{n}" * 39 + "f", "kai" if n == 1 else None,
                     t(f"2024-06-0{n}T11:00"), AS_OF])
    derive_forge(store, R)
    got, _ = figures(store)
    assert got.round_trips == 1 and got.round_trip is not None
    assert {b.bucket: (b.n, b.median_h) for b in got.round_trip if b.n} == {"unknown": (1, 2.0)}


def test_pickup_starts_when_a_draft_is_ready(store: Store) -> None:
    """Opened as a draft 08:00, ready for review 10:00, sam reviews 11:00: a pickup of 1 h, not
    3 h. Before that, sam commented on the draft at 09:00 (a comment, not a review: no pickup)."""
    pr(store.con, R, 1, created="2024-06-03T08:00", merged="2024-06-03T12:00", merge_sha="1" * 40,
       author="ann")
    event(store.con, R, 1, "ready_for_review", "2024-06-03T10:00", actor="ann")
    comment(store.con, R, 1, "sam", "2024-06-03T09:00")
    review(store.con, R, 1, "sam", "APPROVED", "2024-06-03T11:00")
    derive_forge(store, R)
    got, _ = figures(store)
    assert got.pickup is not None
    assert {b.bucket: (b.n, b.median_h) for b in got.pickup if b.n} == {"unknown": (1, 1.0)}

"""Clarification and decision latency on a hand-made scenario whose every figure is computed by
hand below, plus the recorded GitHub history (panjf2000/ants) and a git-only store.

Repository o/r (pull requests only, no clone; no release signal: work ends at the merge), Jira
project ABC (team "platform" by the `teams` setting; o/r is its own team). June 2024, UTC.

PR #1 "ABC-1 add cache" by bob: first commit 3rd 08:00 (its work started), merged 5th 10:00.
  carol 3rd 10:00 "Why do we need a new cache here?"          question Q1, asked 10:00
  ci-helper[bot] 3rd 11:00 "Coverage 80%?"                       a bot: not there at all
  carol 3rd 12:00 "Also, what about eviction?"                   carol again: still Q1
  erin approves 4th 09:00 with an empty body                     not a post, not an answer
  bob 4th 16:00 "Because reads dominate." (edited 6th 09:00)     answers Q1: 30 h, from creation
PR #2 "ABC-2 async" by bob: first commit 10th 08:00, merged 11th 09:00.
  dan (review comment) 10th 10:00 "Should this be async?"        question Q2
  dan (review comment) 10th 11:00 "Never mind, it should."       the asker himself: no answer
  erin's review body 10th 14:00 "Looks good."                    answers Q2: 4 h
PR #3 by bob, open: bob 12th 10:00 "Can someone check the migration?", bob 11:00 "I checked it
  myself." — one open question, 72 h old at as_of (15th 10:00), its thread still open.
PR #4 by bob: first commit 13th 08:00, merged 13th 12:00; only an AI reviewer (coderabbitai[bot])
  asks "Did you consider a test?": no post, no question (a zero: the forge was read).
ABC-1: created 1st 09:00, In Progress 2nd 09:00 (its work started). Jira comments:
  Ann 1st 10:00 "Which regions are in scope?"   (before work started) -> Bob J 12:00: 2 h
  Ann 2nd 10:00 "Do we need a feature flag?"    (after)  -> Automation (a Jira app) 11:00 "?"
  ignored -> Bob J 16:00 "Yes.": 6 h. Its threads hold Q1 too (PR #1 serves it): after, 30 h.
ABC-2: In Progress 10th 09:00; no comments (an item without comments); PR #2 serves it: its
  work started at the first commit, 10th 08:00; Q2 is after it, 4 h.
ABC-3: In Progress 12th 09:00, no comments, nothing linked: started, no question.
ABC-4: created May 20th, Ann 20th 09:00 "Is this still needed?", never answered; resolved May
  25th: its thread is closed, so it is not among the longest open questions. Never started.

Decision latency: 6 questions, answered after 2, 4, 6, 30 h; 2 open. Median 5 h; p85 at rank
0.85 * 3 = 2.55: 6 + 0.55 * 24 = 19.2 h. platform (ABC): 3 questions, 2 h and 6 h: median 4 h,
p85 2 + 0.85 * 4 = 5.4 h. o/r: 3 questions, 4 h and 30 h: median 17 h, p85 4 + 0.85 * 26 = 26.1 h.
By month: 2024-05 one open; 2024-06 five, four answered.
Clarification (ABC-1..3 started): before 1 question (2 h); after 3 (6, 30, 4 h: median 6 h, p85
6 + 0.7 * 24 = 22.8 h); rounds 4 (ABC-1 3, ABC-2 1): 4/3 per item; 2 of 3 items asked after work
started.
Waiting, "unanswered questions" (during the work): ABC-1 from 2nd 09:00 to 5th 10:00 waits 6 h
(feature flag) + 30 h (Q1) = 36 h; ABC-2 from 10th 08:00 to 11th 09:00 waits 4 h: 20 h per item.
Changes: #1 from 3rd 08:00 to 5th 10:00 waits 30 h (ABC-1's questions were before it started);
#2 4 h; #4 none: 34/3 h per change.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from forgefixtures import FETCHED, pr, pr_commit, t
from itemfixtures import changelog, jira_issue, jira_status
from leadlens import derive
from leadlens.analysis.questions import (
    NO_THREADS,
    QuestionFigures,
    question_change_flags,
    questions_figures,
)
from leadlens.config import Settings
from leadlens.conventions import BotRule
from leadlens.derive.forge import derive_forge
from leadlens.engines import connect, rows
from leadlens.metrics import flow as fm
from leadlens.metrics.questions import posts, questions, waited
from leadlens.pipeline import ingest_git
from leadlens.store import Store, open_store

R = "o/r"
H = 3600.0
AS_OF = t("2024-06-15T10:00")
SETTINGS = Settings(teams={"platform": ["ABC"]})
_ids = iter(range(5000, 10**9))


def _comment(con, number: int, author: str, at: str, body: str, *, kind: str = "issue",
             bot: bool = False, edited: str | None = None) -> None:  # type: ignore[no-untyped-def]
    con.execute(
        "INSERT INTO comments (repo, kind, id, number, author, author_is_bot, created_at,"
        " updated_at, body, source, fetched_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'github', ?)",
        [R, kind, next(_ids), number, author, bot, t(at), t(edited or at), body, FETCHED])


def _review(con, number: int, reviewer: str, state: str, at: str, body: str
            ) -> None:  # type: ignore[no-untyped-def]
    con.execute(
        "INSERT INTO reviews (repo, number, id, reviewer, reviewer_is_bot, state, submitted_at,"
        " body, source, fetched_at) VALUES (?, ?, ?, ?, FALSE, ?, ?, ?, 'github', ?)",
        [R, number, next(_ids), reviewer, state, t(at), body, FETCHED])


def _jira_comment(con, issue: str, author: str, at: str, body: str
                  ) -> None:  # type: ignore[no-untyped-def]
    con.execute("INSERT INTO jira_comments (issue_id, id, author, body, created_at, updated_at,"
                " fetched_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                [issue, str(next(_ids)), author, body, t(at), t(at), FETCHED])


def scenario(store: Store) -> None:
    con = store.con
    pr(con, R, 1, created="2024-06-03T09:00", merged="2024-06-05T10:00", merge_sha="1" * 40,
       title="ABC-1 add cache")
    pr_commit(con, R, 1, "a" * 40, authored="2024-06-03T08:00", message="cache")
    _comment(con, 1, "carol", "2024-06-03T10:00", "Why do we need a new cache here?")
    _comment(con, 1, "ci-helper[bot]", "2024-06-03T11:00", "Coverage 80%?", bot=True)
    _comment(con, 1, "carol", "2024-06-03T12:00", "Also, what about eviction?")
    _review(con, 1, "erin", "APPROVED", "2024-06-04T09:00", "")
    _comment(con, 1, "bob", "2024-06-04T16:00", "Because reads dominate.",
             edited="2024-06-06T09:00")
    pr(con, R, 2, created="2024-06-10T09:00", merged="2024-06-11T09:00", merge_sha="2" * 40,
       title="ABC-2 async")
    pr_commit(con, R, 2, "b" * 40, authored="2024-06-10T08:00", message="async")
    _comment(con, 2, "dan", "2024-06-10T10:00", "Should this be async?", kind="review")
    _comment(con, 2, "dan", "2024-06-10T11:00", "Never mind, it should.", kind="review")
    _review(con, 2, "erin", "APPROVED", "2024-06-10T14:00", "Looks good.")
    pr(con, R, 3, created="2024-06-12T09:00")
    _comment(con, 3, "bob", "2024-06-12T10:00", "Can someone check the migration?")
    _comment(con, 3, "bob", "2024-06-12T11:00", "I checked it myself.")
    pr(con, R, 4, created="2024-06-13T09:00", merged="2024-06-13T12:00", merge_sha="4" * 40)
    pr_commit(con, R, 4, "c" * 40, authored="2024-06-13T08:00", message="small")
    _comment(con, 4, "coderabbitai[bot]", "2024-06-13T10:00", "Did you consider a test?",
             kind="review")  # an AI reviewer (not flagged a bot by the source): never a person
    derive_forge(store, R)
    jira_status(con, "1", "To Do", "new")
    jira_status(con, "3", "In Progress", "indeterminate")
    jira_status(con, "4", "Done", "done")
    for account, name, kind in (("acc-ann", "Ann", "atlassian"), ("acc-bob", "Bob J", "atlassian"),
                                ("acc-auto", "Automation for Jira", "app")):
        con.execute("INSERT INTO jira_users (account_id, display_name, account_type, fetched_at)"
                    " VALUES (?, ?, ?, ?)", [account, name, kind, FETCHED])
    jira_issue(con, "101", "ABC-1", created="2024-06-01T09:00", status_id="3",
               category="indeterminate")
    changelog(con, "101", "2024-06-02T09:00", frm="To Do", to="In Progress", to_id="3")
    _jira_comment(con, "101", "acc-ann", "2024-06-01T10:00", "Which regions are in scope?")
    _jira_comment(con, "101", "acc-bob", "2024-06-01T12:00", "EU only.")
    _jira_comment(con, "101", "acc-ann", "2024-06-02T10:00", "Do we need a feature flag?")
    _jira_comment(con, "101", "acc-auto", "2024-06-02T11:00", "Status changed?")
    _jira_comment(con, "101", "acc-bob", "2024-06-02T16:00", "Yes.")
    jira_issue(con, "102", "ABC-2", created="2024-06-01T09:00", status_id="3",
               category="indeterminate")
    changelog(con, "102", "2024-06-10T09:00", frm="To Do", to="In Progress", to_id="3")
    jira_issue(con, "103", "ABC-3", created="2024-06-01T09:00", status_id="3",
               category="indeterminate")
    changelog(con, "103", "2024-06-12T09:00", frm="To Do", to="In Progress", to_id="3")
    jira_issue(con, "104", "ABC-4", created="2024-05-20T08:00", status_id="4",
               resolved="2024-05-25T10:00")
    _jira_comment(con, "104", "acc-ann", "2024-05-20T09:00", "Is this still needed?")
    assert derive.items(store, SETTINGS) is not None


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    st = open_store(tmp_path_factory.mktemp("questions") / "store.duckdb")
    scenario(st)
    yield st
    st.close()


@pytest.fixture(scope="module")
def figures(made: Store) -> QuestionFigures:
    """Every figure of the scenario, with the per-person view."""
    return _figures(made, per_person=True)


def _figures(store: Store, f: fm.Filters | None = None, per_person: bool = False
             ) -> QuestionFigures:
    db = connect(store)
    f = f or fm.Filters()
    return questions_figures(db, fm.flow(db, f), f, SETTINGS, AS_OF, per_person=per_person)


def test_scenario_is_what_the_docstring_says(made: Store) -> None:
    con = made.con
    assert sorted(con.execute("SELECT item_id, change_id FROM item_links").fetchall()) == [
        ("ABC-1", "o/r#1"), ("ABC-2", "o/r#2")]
    ws = dict(con.execute("SELECT change_id, \"at\" FROM milestones"
                          " WHERE name = 'work_started'").fetchall())
    assert ws == {"o/r#1": t("2024-06-03T08:00"), "o/r#2": t("2024-06-10T08:00"),
                  "o/r#4": t("2024-06-13T08:00")}


def test_questions_turns_and_answers(made: Store) -> None:
    """Two posts by carol with a bot between are one question; an empty approval is no answer;
    bob's edited reply counts from its creation: 30 h. dan's and bob's own follow-ups are not
    answers; the Jira app's comment is not there."""
    db = connect(made)
    qs = questions(posts(db, BotRule(), AS_OF), SETTINGS.coordination.question_patterns, AS_OF)
    got = [(r["thread"], r["asker"], r["asked_at"], r["answerer"], r["answer_s"], r["age_s"])
           for r in rows(db, qs.order_by(["thread", "asked_at"]))]
    assert got == [
        ("ABC-1", "acc-ann", t("2024-06-01T10:00"), "acc-bob", 2 * H, None),
        ("ABC-1", "acc-ann", t("2024-06-02T10:00"), "acc-bob", 6 * H, None),
        ("ABC-4", "acc-ann", t("2024-05-20T09:00"), None, None, (26 * 24 + 1) * H),
        ("o/r#1", "carol", t("2024-06-03T10:00"), "bob", 30 * H, None),
        ("o/r#2", "dan", t("2024-06-10T10:00"), "erin", 4 * H, None),
        ("o/r#3", "bob", t("2024-06-12T10:00"), None, None, 72 * H)]


def test_decision_latency_hand_computed(figures: QuestionFigures) -> None:
    q = figures
    assert q.reason is None and q.null_reasons == {}
    # people's posts: PR #1 3, #2 3, #3 2, ABC-1 4, ABC-4 1 (the bot, the app, the empty review
    # are not posts); threads with one: 5
    assert (q.posts, q.threads) == (13, 5)
    d = q.decision_latency
    assert d is not None
    assert (d.questions, d.answered, d.open) == (6, 4, 2)
    assert d.median_s == pytest.approx(5 * H)
    assert d.p85_s == pytest.approx(19.2 * H)
    teams = {x.team: x for x in q.by_team or []}
    assert sorted(teams) == ["o/r", "platform"]
    p, o = teams["platform"], teams["o/r"]
    assert (p.questions, p.answered, p.open) == (3, 2, 1)
    assert (p.median_s, p.p85_s) == (pytest.approx(4 * H), pytest.approx(5.4 * H))
    assert (o.questions, o.answered, o.open) == (3, 2, 1)
    assert (o.median_s, o.p85_s) == (pytest.approx(17 * H), pytest.approx(26.1 * H))
    months = [(m.month, m.questions, m.answered, m.open, m.median_s) for m in q.by_month or []]
    assert months == [("2024-05", 1, 0, 1, None), ("2024-06", 5, 4, 1, 5 * H)]
    # ABC-4's question waits in a closed thread: not among the open ones now
    assert [(x.thread, x.kind, x.team, x.asked_at, x.age_s, x.asker)
            for x in q.longest_open or []] == [
        ("o/r#3", "pull_request", "o/r", t("2024-06-12T10:00"), 72 * H, "bob")]


def test_a_question_answered_after_30_hours(made: Store) -> None:
    """The window is on the question's time: Q1 alone; no per-person list unless asked for."""
    q = _figures(made, fm.Filters(since=t("2024-06-03T00:00"), until=t("2024-06-04T00:00")))
    d = q.decision_latency
    assert d is not None
    assert (d.questions, d.answered, d.open, d.median_s, d.p85_s) == (1, 1, 0, 30 * H, 30 * H)
    assert q.people is None and q.posts == 2  # carol's two; bob answered on the 4th


def test_a_window_without_questions(made: Store) -> None:
    q = _figures(made, fm.Filters(since=t("2024-07-01T00:00")))
    d = q.decision_latency
    assert d is not None and (d.questions, d.answered, d.open, d.median_s) == (0, 0, 0, None)
    assert q.null_reasons == {
        "decision_latency.median_s": "no question in scope (people's posts matching"
                                     " question_patterns)",
        "decision_latency.p85_s": "no question in scope (people's posts matching"
                                  " question_patterns)",
        "clarification": "no item's work started in scope"}
    assert (q.posts, q.threads, q.by_team, q.by_month, q.longest_open) == (0, 0, [], [], [])
    assert q.clarification is None and q.waiting == []


def test_clarification_hand_computed(figures: QuestionFigures) -> None:
    """ABC-3 (started, no comment, nothing linked) counts as an item without a question."""
    c = figures.clarification
    assert c is not None
    assert c.items == 3
    assert (c.before.questions, c.before.answered, c.before.median_s) == (1, 1, 2 * H)
    assert (c.after.questions, c.after.answered) == (3, 3)
    assert (c.after.median_s, c.after.p85_s) == (pytest.approx(6 * H), pytest.approx(22.8 * H))
    assert (c.rounds, c.items_with_rounds, c.items_with_question_after) == (4, 2, 2)
    assert c.rounds_per_item == pytest.approx(4 / 3)
    assert c.share_with_question_after == pytest.approx(2 / 3)


def test_waiting_for_answers_during_the_work(figures: QuestionFigures) -> None:
    by_unit = {w.unit: w for w in figures.waiting}
    item, change = by_unit["item"], by_unit["change"]
    assert (item.cause, item.signal, item.units) == (
        "unanswered questions", "coordination.questions", 2)
    assert item.hours_per_unit == pytest.approx(20.0)
    assert change.units == 3
    assert change.hours_per_unit == pytest.approx(34 / 3)


def test_change_flags(made: Store) -> None:
    db = connect(made)
    fl = fm.flow(db, fm.Filters())
    got = {r["id"]: (r["clarified"], r["questions"]) for r in rows(
        db, question_change_flags(db, fl, SETTINGS))}
    # #1: Q1 after its first commit, and ABC-1's two; #2: Q2; #4: none (the AI reviewer's is no
    # question), known: the forge was read
    assert got == {"o/r#1": (True, 3), "o/r#2": (True, 1), "o/r#4": (False, 0)}


def test_per_person(figures: QuestionFigures) -> None:
    q = figures
    people = {p.person: (p.asked, p.answered, p.median_answer_s, p.answers_given)
              for p in q.people or []}
    assert people == {"Ann": (3, 2, 4 * H, 0), "Bob J": (0, 0, None, 2),
                      "carol": (1, 1, 30 * H, 0), "bob": (1, 0, None, 1),
                      "dan": (1, 1, 4 * H, 0), "erin": (0, 0, None, 1)}


def test_git_only_store_is_null_with_the_reason(tmp_path: Path, store: Store) -> None:
    from gitfixtures import Git

    g = Git(tmp_path / "app")
    g.write("a.txt", "0\n")
    g.commit("initial", date="2024-01-01T10:00:00Z")
    g.write("a.txt", "1\n")
    g.commit("why not?", date="2024-01-02T10:00:00Z")
    ingest_git(store, [tmp_path / "app"])
    db = connect(store)
    fl = fm.flow(db, fm.Filters())
    q = questions_figures(db, fl, fm.Filters(), SETTINGS, AS_OF)
    assert q.reason == NO_THREADS
    assert (q.posts, q.decision_latency, q.clarification, q.waiting) == (None, None, None, [])
    flags = rows(db, question_change_flags(db, fl, SETTINGS))
    assert len(flags) == 2
    assert {(r["clarified"], r["questions"]) for r in flags} == {(None, None)}


def test_overlapping_waits_count_once() -> None:
    """a: 0-10 h and 5-12 h overlap (12 h), then 20-21 h: 13 h; b: 0-1 h; an empty span none."""
    import ibis
    import pyarrow as pa

    def at(h: float) -> datetime:
        return t("2024-06-01T00:00") + timedelta(hours=h)

    spans = ibis.memtable(pa.table({"k": ["a", "a", "a", "b", "c"],
                                    "start": [at(5), at(0), at(20), at(0), at(3)],
                                    "end": [at(12), at(10), at(21), at(1), at(3)]}))
    got = {r["k"]: r["waited_s"]
           for r in ibis.duckdb.connect().to_pyarrow(waited(spans, "k")).to_pylist()}
    assert got == {"a": 13 * H, "b": 1 * H}


RECORDED = Path(__file__).resolve().parents[2] / "shared" / "fixtures" / "recorded-api" / "github"


def test_recorded_github_history(store: Store) -> None:
    """panjf2000/ants as recorded, counted by SQL apart from leadlens: 102 comments by people on
    its pull requests and issues (the 8 of codecov[bot] left out) and 5 review bodies (the other
    25 reviews have none): 107 posts in 26 threads. One ends in an ASCII question mark: panjf2000's
    review comment on #41, 2019-08-20 03:59:00 — its replies were not recorded, so it is open,
    and #41 closed: not among the open ones now. It waited through the rest of #41's work, to its
    merge at 10:55:19: 24979 s, over the 21 changes with a lead time."""
    from leadlens.pipeline import replay_github

    replay_github(store, RECORDED)
    db = connect(store)
    fl = fm.flow(db, fm.Filters())
    as_of = t("2025-01-01T00:00")
    # The default pattern also takes the full-width question mark (U+FF1F) the recording's
    # Chinese comments end with: 15 questions (a turn of one person's posts is one), 11 of them
    # answered — counted apart from leadlens over the recorded JSON, turn by turn.
    d = questions_figures(db, fl, fm.Filters(), Settings(), as_of).decision_latency
    assert d is not None and (d.questions, d.answered, d.open) == (15, 11, 4)
    ascii_only = Settings(question_patterns=(r"\?[\s)\]*_`\"']*$",))
    q = questions_figures(db, fl, fm.Filters(), ascii_only, as_of)
    assert (q.reason, q.posts, q.threads) == (None, 107, 26)
    d = q.decision_latency
    assert d is not None and (d.questions, d.answered, d.open) == (1, 0, 1)
    assert q.longest_open == []
    change = next(w for w in q.waiting if w.unit == "change")
    assert change.units == 21
    assert change.hours_per_unit == pytest.approx(24979 / 21 / H)
    flags = {r["id"]: (r["clarified"], r["questions"])
             for r in rows(db, question_change_flags(db, fl, ascii_only))}
    assert flags.pop("panjf2000/ants#41") == (True, 1)
    assert set(flags.values()) == {(False, 0)}
    # Any question mark: panjf2000's review comment on #40 (09:38:21) is a question too, answered
    # by Anteoy at 09:50:06 (his own two follow-ups between are not answers): 705 s.
    qs = questions(posts(db, BotRule(), as_of), (r"\?",), as_of)
    got = [(r["thread"], r["asked_at"], r["answerer"], r["answer_s"])
           for r in rows(db, qs.order_by("thread"))]
    assert got == [("panjf2000/ants#40", t("2019-07-26T09:38:21"), "Anteoy", 705.0),
                   ("panjf2000/ants#41", t("2019-08-20T03:59:00"), None, None)]

"""Review signals on a small scenario whose figures can be checked by hand.

Repository o/r (no clone), June 2024, UTC:
#1 (500 lines) ready 3rd 09:00; a CI bot comments 09:30; carol requests changes 11:00; a new
commit 12:00; carol approves 12:03 (a rubber stamp: 3 min after the last commit of a 500-line
diff); merged 13:00. Pickup 2 h (30 min with bots), review 63 min (153 min with bots), one round.
#2 (20 lines) ready 4th 09:00; dan comments in a review 13:00; erin approves the 5th 09:00; merged
10:00. Pickup 4 h, review 20 h.
#3 ready 5th 09:00, only renovate[bot] (a bot by name) comments 09:10, merged 09:30: without review.
#4 open since the 4th 10:00, never reviewed; #5 an open draft; #6 ready 6th 10:00, reviewed 7th 09:00.

Pickup median of 2 h and 4 h: 3 h; with bots of 30 min, 4 h and 10 min: 30 min. Review median of
63 min and 20 h: 631.5 min; with bots of 153 min and 20 h: 676.5 min. Reviews per reviewer:
carol 2, dan 1, erin 1: the top 10% (one reviewer) hold 2/4; Gini of (1, 1, 2) = 1/6.
Backlog at each day's end: 3rd 0; 4th #4; 5th #4; 6th #4 and #6; 7th #4.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import httpx
import pytest
from ibis import _

from forgefixtures import comment, pr, pr_commit, t
from forgefixtures import review as add_review
from leadlens.config import ReviewSettings
from leadlens.derive.forge import derive_forge
from leadlens.engines import connect
from leadlens.metrics.review import concentration, review
from leadlens.pipeline import ingest_git
from leadlens.store import Store

R = "o/r"
M = 60.0


def scenario(store: Store) -> None:
    con = store.con
    pr(con, R, 1, created="2024-06-03T09:00", merged="2024-06-03T13:00", merge_sha="1" * 40,
       additions=400, deletions=100)
    pr_commit(con, R, 1, "a" * 40, authored="2024-06-03T08:00", message="one")
    pr_commit(con, R, 1, "b" * 40, authored="2024-06-03T12:00", message="one, again")
    comment(con, R, 1, "ci-helper", "2024-06-03T09:30", bot=True)
    add_review(con, R, 1, "carol", "CHANGES_REQUESTED", "2024-06-03T11:00")
    add_review(con, R, 1, "carol", "APPROVED", "2024-06-03T12:03")
    pr(con, R, 2, created="2024-06-04T09:00", merged="2024-06-05T10:00", merge_sha="2" * 40,
       additions=15, deletions=5)
    pr_commit(con, R, 2, "c" * 40, authored="2024-06-04T08:00", message="two")
    add_review(con, R, 2, "dan", "COMMENTED", "2024-06-04T13:00")
    add_review(con, R, 2, "erin", "APPROVED", "2024-06-05T09:00")
    pr(con, R, 3, created="2024-06-05T09:00", merged="2024-06-05T09:30", merge_sha="3" * 40)
    comment(con, R, 3, "renovate[bot]", "2024-06-05T09:10")
    pr(con, R, 4, created="2024-06-04T10:00")
    pr(con, R, 5, created="2024-06-04T11:00", draft=True)
    pr(con, R, 6, created="2024-06-06T10:00")
    comment(con, R, 6, "carol", "2024-06-07T09:00", kind="review")
    derive_forge(store, R)


def test_review_signals_hand_computed(store: Store) -> None:
    db = connect(store)
    scenario(store)
    rv = review(db, db.table("changes"), [R], since=None, until=None,
                as_of=t("2024-06-10T00:00"))
    assert rv.pull_requests == 3 and rv.reviewed_prs == 2
    assert (rv.pickup_median_s, rv.pickup_with_bots_median_s) == (3 * 3600, 30 * M)
    assert rv.review_median_s == pytest.approx(631.5 * M)
    assert rv.review_with_bots_median_s == pytest.approx(676.5 * M)
    assert (rv.review_rounds, rv.prs_with_rounds, rv.rounds_per_reviewed_pr) == (1, 1, 0.5)
    assert (rv.reviewers, rv.reviews, rv.reviews_per_reviewer_median) == (3, 4, 1.0)
    assert rv.top_reviewers_share == 0.5
    assert rv.reviewer_gini == pytest.approx(1 / 6)
    assert (rv.changes, rv.merged_without_review) == (3, 1)
    assert rv.merged_without_review_rate == pytest.approx(1 / 3)
    assert (rv.rubber_stamp_approvals, rv.rubber_stamp_prs) == (1, 1)
    assert rv.backlog == [(date(2024, 6, 3), 0), (date(2024, 6, 4), 1), (date(2024, 6, 5), 1),
                          (date(2024, 6, 6), 2), (date(2024, 6, 7), 1)]


def test_rubber_stamp_settings_and_window(store: Store) -> None:
    db = connect(store)
    scenario(store)
    # Two minutes is quicker than carol's 3; 600 lines is more than #1's 500.
    for minutes, lines in ((2.0, 300), (5.0, 600)):
        rv = review(db, db.table("changes"), [R], since=None, until=None,
                    as_of=t("2024-06-10T00:00"),
                    settings=ReviewSettings(rubber_stamp_minutes=minutes, rubber_stamp_lines=lines))
        assert rv.rubber_stamp_approvals == 0
    rv = review(db, db.table("changes").filter(_.number == 2), [R],
                since=t("2024-06-05T00:00"), until=t("2024-06-06T00:00"), as_of=t("2024-06-10T00:00"))
    assert rv.pull_requests == 1 and rv.review_rounds == 0 and rv.merged_without_review == 0
    assert rv.backlog == [(date(2024, 6, 5), 1), (date(2024, 6, 6), 2)]


def _github_without_pull_requests(store: Store, repo: str) -> None:
    """`leadlens ingest github` of a repository whose GitHub holds no pull requests (nor issues,
    runs, deployments, releases): a GitHub answering every list with an empty page."""
    from fakes.clock import NoSleep
    from fakes.github import API
    from leadlens.sources.github.client import GitHubAPI, make_client
    from leadlens.sources.github.source import sync_repo

    def answer(request: httpx.Request) -> httpx.Response:
        path = request.url.path.removeprefix(f"/repos/{repo}")
        if not path:
            return httpx.Response(200, json={"full_name": repo})
        return httpx.Response(200, json={"total_count": 0, "workflow_runs": []}
                              if path == "/actions/runs" else [])

    api = GitHubAPI(make_client("t", API, httpx.MockTransport(answer)), clock=NoSleep())
    assert sync_repo(store, api, repo).complete
    assert store.con.execute("SELECT count(*) FROM pull_requests").fetchall() == [(0,)]


def test_review_trailers_count_as_review(store: Store, history_repo: tuple[Path, dict[str, str]]
                                          ) -> None:
    # GitHub was read for the repository and holds no pull request: its changes are direct pushes
    # with review data (none on GitHub), so a trailer is the only evidence of review there is.
    db = connect(store)
    path, sha = history_repo
    ingest_git(store, [path], name="o/history")
    _github_without_pull_requests(store, "o/history")
    changes = db.table("changes")
    reviewed = review(db, changes.filter(_.merge_sha == sha["squash12"]), ["o/history"], since=None,
                      until=None, as_of=t("2024-06-10T00:00"))
    unreviewed = review(db, changes.filter(_.merge_sha == sha["revert"]), ["o/history"],
                        since=None, until=None, as_of=t("2024-06-10T00:00"))
    assert (reviewed.changes, reviewed.merged_without_review) == (1, 0)
    assert (unreviewed.changes, unreviewed.merged_without_review) == (1, 1)
    assert reviewed.pull_requests == 0 and reviewed.pickup_median_s is None
    assert reviewed.backlog == []
    assert reviewed.reason is None and reviewed.no_review_data == []
    assert (reviewed.changes_with_review_trailers, unreviewed.changes_with_review_trailers) == (1, 0)


def test_git_only_review_figures_are_null_with_the_reason(
        store: Store, history_repo: tuple[Path, dict[str, str]]) -> None:
    # From git alone nobody knows whether a change without a trailer was reviewed (on GitHub, on a
    # mailing list): review figures are unknown, not "merged without review".
    db = connect(store)
    path, _sha = history_repo
    ingest_git(store, [path])
    rv = review(db, db.table("changes"), ["history"], since=None, until=None,
                as_of=t("2024-06-10T00:00"))
    assert rv.reason is not None and "no pull request data" in rv.reason
    assert rv.no_review_data == ["history"]
    assert rv.changes == 0  # changes of repositories with review data
    assert (rv.merged_without_review, rv.merged_without_review_rate) == (None, None)
    assert (rv.pull_requests, rv.reviewed_prs, rv.reviewers, rv.reviews) == (None,) * 4
    assert (rv.review_rounds, rv.prs_with_rounds, rv.rubber_stamp_approvals) == (None,) * 3
    assert (rv.ai_reviewed_prs, rv.ai_reviewed_share, rv.ai_reviewers) == (None, None, None)
    assert rv.backlog is None
    # The trailer is still evidence: the one change that carries one is known to be reviewed.
    assert rv.changes_with_review_trailers == 1


def test_review_figures_leave_out_repositories_without_review_data(
        store: Store, history_repo: tuple[Path, dict[str, str]]) -> None:
    db = connect(store)
    path, _sha = history_repo
    ingest_git(store, [path])
    scenario(store)
    rv = review(db, db.table("changes"), ["history", R], since=None, until=None,
                as_of=t("2024-06-10T00:00"))
    assert rv.reason is None and rv.no_review_data == ["history"]
    # As in test_review_signals_hand_computed: the git-only changes are neither side of the rate.
    assert (rv.changes, rv.merged_without_review) == (3, 1)
    assert rv.merged_without_review_rate == pytest.approx(1 / 3)


def test_rubber_stamps_need_pull_request_sizes(store: Store) -> None:
    db = connect(store)
    scenario(store)
    store.con.execute("UPDATE pull_requests SET additions = NULL, deletions = NULL")
    rv = review(db, db.table("changes"), [R], since=None, until=None, as_of=t("2024-06-10T00:00"))
    assert (rv.rubber_stamp_approvals, rv.rubber_stamp_prs) == (None, None)
    assert "rubber_stamp_approvals" in rv.null_reasons
    assert rv.review_rounds == 1  # the other figures stand


def test_concentration() -> None:
    assert concentration([]) == (None, None)
    assert concentration([5, 5, 5, 5]) == (0.25, 0.0)
    top, gini = concentration([0, 0, 0, 10])
    assert (top, gini) == (1.0, 0.0)  # one reviewer holds everything; zeros are not reviewers
    top, gini = concentration(list(range(1, 21)))  # top 2 of 20: 39 of 210
    assert top == pytest.approx(39 / 210)
    assert gini == pytest.approx(sum(abs(a - b) for a in range(1, 21) for b in range(1, 21))
                                 / (2 * 20 * 210))


def test_reviews_are_activity_in_the_report(store: Store) -> None:
    from leadlens.metrics.flow import Filters
    from leadlens.report.build import build_report
    scenario(store)
    report = build_report(connect(store), Filters(since=t("2024-06-05T00:00"), until=t("2024-06-06T00:00")),
                          as_of=t("2024-06-10T00:00"))
    by = {s.name: s for s in report.stages}
    # #2's review stage (4th 13:00 -> 5th 09:00) is active for 2 h after dan's review, no commit.
    assert (by["review"].active_s, by["review"].waiting_s) == (2 * 3600, 18 * 3600)
    assert by["merge"].active_s == 3600  # erin's approval at 09:00, merged 10:00


# AI reviewers (DESIGN.md, Bots and agents). Repository o/ai (no clone), June 2024, UTC; each PR's
# reviewer flags are what the GitHub mapping stores for that account (`type: Bot` for all three AI
# reviewers: `Copilot` is exempt from the bot list as an agent, the two `[bot]` apps are not).
# #1 by bob, commit 08:00, ready 3rd 09:00; `Copilot` reviews 09:10; carol approves 11:00; merged
#    15:00. First review: carol's 11:00 (pickup 2 h), not Copilot's (10 min).
# #2 by bob, commit 4th 06:00, ready 09:00; coderabbitai[bot] comments 09:15 and
#    copilot-pull-request-reviewer[bot] reviews 09:30; dan approves 13:00; merged 14:00. Pickup 4 h,
#    of which 09:15-11:30 is active (the AI reviews are activity, 2 h window): 2 h 15 min.
# #3 by `Copilot` (an agent as author: an AI-assisted change, a PR like any other), ready 5th
#    09:00; erin approves 10:00; merged 10:30. Pickup 1 h.
# Pickup median of 2 h, 4 h, 1 h: 2 h; with bots (anyone but the author) of 10 min, 15 min, 1 h:
# 15 min. AI reviewed: #1 and #2, 2 of 3; first AI review 10 min and 15 min: median 12.5 min.
A = "o/ai"


def _flag(login: str) -> bool:
    from leadlens.sources.github.mapping import is_bot
    flagged = is_bot({"login": login, "type": "Bot"})
    assert flagged is not None
    return flagged


def ai_scenario(store: Store) -> None:
    con = store.con
    pr(con, A, 1, created="2024-06-03T09:00", merged="2024-06-03T15:00", merge_sha="1" * 40)
    pr_commit(con, A, 1, "a" * 40, authored="2024-06-03T08:00", message="one")
    add_review(con, A, 1, "Copilot", "COMMENTED", "2024-06-03T09:10", bot=_flag("Copilot"))
    add_review(con, A, 1, "carol", "APPROVED", "2024-06-03T11:00")
    pr(con, A, 2, created="2024-06-04T09:00", merged="2024-06-04T14:00", merge_sha="2" * 40)
    pr_commit(con, A, 2, "b" * 40, authored="2024-06-04T06:00", message="two")
    comment(con, A, 2, "coderabbitai[bot]", "2024-06-04T09:15", bot=_flag("coderabbitai[bot]"))
    rv_bot = "copilot-pull-request-reviewer[bot]"
    add_review(con, A, 2, rv_bot, "COMMENTED", "2024-06-04T09:30", bot=_flag(rv_bot))
    add_review(con, A, 2, "dan", "APPROVED", "2024-06-04T13:00")
    pr(con, A, 3, created="2024-06-05T09:00", merged="2024-06-05T10:30", merge_sha="3" * 40,
       author="Copilot")
    pr_commit(con, A, 3, "c" * 40, authored="2024-06-05T08:30", message="three")
    add_review(con, A, 3, "erin", "APPROVED", "2024-06-05T10:00")
    derive_forge(store, A)


def test_ai_reviews_are_not_first_review(store: Store) -> None:
    ai_scenario(store)
    rows = dict(store.con.execute(
        "SELECT change_id || ' ' || name, strftime(\"at\", '%d %H:%M') FROM milestones"
        " WHERE name IN ('first_review', 'approved')").fetchall())
    assert rows == {f"{A}#1 first_review": "03 11:00", f"{A}#1 approved": "03 11:00",
                    f"{A}#2 first_review": "04 13:00", f"{A}#2 approved": "04 13:00",
                    f"{A}#3 first_review": "05 10:00", f"{A}#3 approved": "05 10:00"}


def test_ai_review_signal_hand_computed(store: Store) -> None:
    db = connect(store)
    ai_scenario(store)
    rv = review(db, db.table("changes"), [A], since=None, until=None, as_of=t("2024-06-10T00:00"))
    assert rv.pull_requests == 3 and rv.reviewed_prs == 3
    assert (rv.pickup_median_s, rv.pickup_with_bots_median_s) == (2 * 3600, 15 * M)
    assert (rv.reviewers, rv.reviews) == (3, 3)  # carol, dan, erin: no AI reviewer is a person
    assert rv.ai_reviewed_prs == 2
    assert rv.ai_reviewed_share == pytest.approx(2 / 3)
    assert rv.ai_first_review_median_s == 12.5 * M
    assert rv.ai_reviewers == {"Copilot": 1, "coderabbitai[bot]": 1,
                               "copilot-pull-request-reviewer[bot]": 1}


def test_ai_reviews_are_activity(store: Store) -> None:
    from leadlens.metrics.flow import Filters
    from leadlens.report.build import build_report
    ai_scenario(store)
    report = build_report(connect(store), Filters(since=t("2024-06-04T00:00"),
                                                  until=t("2024-06-05T00:00")),
                          as_of=t("2024-06-10T00:00"))
    by = {s.name: s for s in report.stages}
    assert (by["pickup"].active_s, by["pickup"].waiting_s) == (2.25 * 3600, 1.75 * 3600)
    assert report.review is not None and report.review.ai_reviewed_prs == 1


def test_ai_review_signal_in_terminal_and_html(store: Store) -> None:
    from rich.console import Console

    from leadlens.metrics.flow import Filters
    from leadlens.report.build import build_report
    from leadlens.report.html import render_html
    from leadlens.report.terminal import render_terminal
    ai_scenario(store)
    report = build_report(connect(store), Filters(), as_of=t("2024-06-10T00:00"))
    console = Console(record=True, width=400)
    render_terminal(report, console)
    assert "AI reviewed 66.7% of PRs (first AI review after 12m)" in console.export_text()
    html = render_html(report)
    assert "AI reviews (never a person's review): 2 pull request(s) (66.7%)" in html
    assert "coderabbitai[bot] (1)" in html

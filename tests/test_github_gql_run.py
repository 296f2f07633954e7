"""The GraphQL sweep's run: recording and replay, points, limits on the POST, a page that shrinks,
resuming mid-page, --since, bad input, node ids."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from clirun import leadlens
from fakes.clock import NOW, FakeClock
from fakes.github import API, REPO, FakeGitHub
from fakes.github_gql import new_node_id
from fakes.progress import Said
from leadlens.config import Settings
from leadlens.sources.github.gql_pulls import PullSweep
from leadlens.sources.github.gql_query import database_id, page_cost
from leadlens.sources.github.ingest import GithubSource
from leadlens.sources.github.replay import replay_dir
from leadlens.store import Store, open_store
from leadlens.store.writer import load_cursor
from test_github_gql import PULLS, TINY, fake_with_more, rows, run


@pytest.mark.parametrize("mode", ["rest", "graphql"])
def test_a_recording_replays_to_the_live_rows(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                              mode: str) -> None:
    monkeypatch.setenv("T", "token")
    fake = fake_with_more()
    source = GithubSource(REPO, token_env="T", transport=httpx.MockTransport(fake),
                          api=mode, record=tmp_path / "rec", sweep=TINY)
    with open_store(tmp_path / "live.duckdb") as live, \
            open_store(tmp_path / "replay.duckdb") as again:
        source.ingest(live, Settings())
        (recording,) = (tmp_path / "rec").glob("*.jsonl")
        lines = [json.loads(line) for line in recording.read_text().splitlines()]
        graphql = [r for r in lines if r["url"].endswith("/graphql")]
        if mode == "graphql":
            assert graphql[0]["input"]["repo"] == REPO
            assert graphql[0]["input"]["query"].startswith("query pulls(")
        summary = replay_dir(again, tmp_path / "rec")
        assert summary.malformed == []
        assert rows(again) == rows(live)
        assert rows(live)["pull_requests"] and len(rows(live)["pull_requests"]) == PULLS


def test_points_are_what_github_says_each_query_cost(store: Store) -> None:
    fake = FakeGitHub()
    summary = run(store, fake, "graphql")
    # Pages of 18 (18 + 18 + 13 come): 1 + 18 x 8 connections = 145 requests -> 1 point each
    # (GitHub rounds; 50 a page would be 401 -> 4 points); the issues' Projects v2 queries (REST
    # path, five issues a query) cost 1 each.
    assert [v["first"] for op, v in fake.gql.queries] == [18, 18, 18]
    assert page_cost(18) == 1 and page_cost(19) == 2 and page_cost(50) == 4
    assert fake.gql.points == 3
    projects = len([b for b in fake.graphql_log if not b["query"].startswith("query pulls")])
    assert projects == 9  # the chunks of five of the issues list (42, with pull requests) with an issue
    assert summary.points == 3 + projects


def _limited_once(status: int, headers: dict[str, str], body: dict[str, Any]
                  ) -> Any:
    answered: list[str] = []

    def answer(query: str) -> httpx.Response | None:
        if query.startswith("query pulls") and not answered:
            answered.append(query)
            return httpx.Response(status, json=body, headers=headers)
        return None
    return answer


@pytest.mark.parametrize(("status", "headers", "body", "waited"), [
    (403, {"retry-after": "30"}, {"message": "You have exceeded a secondary rate limit"}, 30.0),
    (429, {"retry-after": "45"}, {"message": "too many requests"}, 45.0),
    (200, {"x-ratelimit-reset": str(int(NOW) + 120), "x-ratelimit-remaining": "0"},
     {"errors": [{"type": "RATE_LIMITED", "message": "API rate limit exceeded"}]}, 121.0),
], ids=["secondary-403", "secondary-429", "rate-limited"])
def test_limits_on_the_post_are_waited_out(store: Store, status: int, headers: dict[str, str],
                                           body: dict[str, Any], waited: float) -> None:
    fake, clock = FakeGitHub(), FakeClock()
    fake.graphql_answer = _limited_once(status, headers, body)
    from leadlens.sources.github.client import GitHubAPI, make_client
    from leadlens.sources.github.source import sync_repo
    api = GitHubAPI(make_client("t", API, httpx.MockTransport(fake)), clock=clock)
    summary = sync_repo(store, api, REPO, api_mode="graphql")
    assert clock.slept[0] == waited
    assert summary.stored["pull_requests"] == PULLS and summary.complete


@pytest.mark.parametrize("answer", [
    httpx.Response(502, json={"message": "Server Error"}),
    httpx.Response(200, json={"data": None, "errors": [
        {"message": "Something went wrong while executing your query. This may be the result"
                    " of a timeout, or it could be a GitHub bug."}]}),
], ids=["502", "something-went-wrong"])
def test_a_page_github_cannot_answer_is_halved(store: Store, answer: httpx.Response) -> None:
    fake = FakeGitHub()
    fake.graphql_answer = _limited_once(answer.status_code, {}, json.loads(answer.content))
    summary = run(store, fake, "graphql")
    firsts = [b["variables"]["first"] for b in fake.graphql_log
              if b["query"].startswith("query pulls")]
    # Refused at 18, then 9 a page; after five good pages it grows again (to 14): 45 + 4.
    assert firsts == [18, 9, 9, 9, 9, 9, 14]
    assert summary.stored["pull_requests"] == PULLS and summary.waits == []


def test_a_budget_stop_mid_page_resumes_after_the_last_stored_pull_request(tmp_path: Path
                                                                           ) -> None:
    fake = fake_with_more()
    with open_store(tmp_path / "a.duckdb") as whole, open_store(tmp_path / "b.duckdb") as parts:
        run(whole, fake, "graphql", sweep=TINY)
        fake.gql.queries.clear()
        first = run(parts, fake, "graphql", sweep=TINY, max_requests=12)
        assert first.complete is False and "--max-requests 12" in (first.stopped or "")
        stored = first.stored["pull_requests"]
        # 1 request for the repository, then pages of seven: the first with 3 follow-ups, the
        # second with 1; the third's follow-ups run out during its sixth pull request.
        assert stored == 19
        cursor = load_cursor(parts.con, REPO, "github", "pull_requests")
        assert cursor == {"gql": {"after": f"o{stored}", "high": "2022-04-14T17:31:43Z"}}
        fake.gql.queries.clear()
        second = run(parts, fake, "graphql", sweep=TINY)
        pulls = [v for op, v in fake.gql.queries if op == "pulls"]
        assert pulls[0]["after"] == f"o{stored}"
        assert second.stored["pull_requests"] == PULLS - stored
        assert rows(parts) == rows(whole)
        assert load_cursor(parts.con, REPO, "github", "pull_requests") == {
            "since": "2022-04-14T17:31:43Z"}


def test_since_starts_a_first_collection_and_later_runs_go_on_from_the_cursor(
        store: Store) -> None:
    fake = FakeGitHub()
    since = datetime(2021, 1, 1, tzinfo=UTC)
    first = run(store, fake, "graphql", since=since)
    newer = sorted(p["updated_at"] for p in fake.pulls.values() if p["updated_at"] >= "2021-01-01")
    assert first.stored["pull_requests"] == len(newer) == 19
    oldest = store.con.execute("SELECT min(updated_at) FROM pull_requests").fetchone()
    assert oldest is not None and oldest[0].year >= 2021
    # Later: one pull request changes; the next run reads it alone, from the cursor.
    fake.pulls[41]["updated_at"] = "2024-01-02T03:04:05Z"
    fake.gql.queries.clear()
    # A later --since than the cursor changes nothing: runs go on from the cursor (no gap).
    later = run(store, fake, "graphql", since=datetime(2024, 1, 3, tzinfo=UTC))
    # #41, and the newest before it, updated at the cursor itself (the floor is inclusive).
    assert later.stored["pull_requests"] == 2
    assert [v["after"] for op, v in fake.gql.queries if op == "pulls"] == [None]
    assert load_cursor(store.con, REPO, "github", "pull_requests") == {
        "since": "2024-01-02T03:04:05Z"}


def test_since_on_the_rest_path_too(store: Store) -> None:
    fake = FakeGitHub()
    summary = run(store, fake, "rest", since=datetime(2021, 1, 1, tzinfo=UTC))
    assert summary.stored["pull_requests"] == 19  # as through GraphQL
    issues = [p for p in fake.log if p.startswith("issues?")]
    assert issues and all("since=2021-01-01T00%3A00%3A00Z" in p for p in issues)
    # Later runs go on from the cursor minus the overlap, whatever --since says: a pull request
    # updated after the cursor but before a later --since is still read (no gap).
    fake.pulls[41]["updated_at"] = "2024-01-02T03:04:05Z"
    later = run(store, fake, "rest", since=datetime(2030, 1, 1, tzinfo=UTC))
    assert later.stored.get("pull_requests", 0) >= 1
    got = store.con.execute("SELECT updated_at FROM pull_requests WHERE number = 41").fetchone()
    assert got is not None and got[0].year == 2024


def test_progress_says_how_far_and_the_points_left(store: Store) -> None:
    fake, said = FakeGitHub(), Said()
    from leadlens.sources.github.client import GitHubAPI, make_client
    from leadlens.sources.github.source import sync_repo
    api = GitHubAPI(make_client("t", API, httpx.MockTransport(fake)), clock=FakeClock())
    sync_repo(store, api, REPO, api_mode="graphql", progress=said)
    pulls = [line for line in said.lines if "pull requests (GraphQL" in line]
    assert pulls[0].startswith(f"{REPO}: 18 of 49 pull requests (GraphQL, 18 a page);"
                               " 4,999 points left, resets 00:00 UTC; about ")
    assert pulls[-1].startswith(f"{REPO}: 49 of 49 pull requests")


def test_the_eta_waits_for_the_reset_when_the_budget_runs_short() -> None:
    class Gql:
        points, remaining = 600, 100
    sweep = PullSweep.__new__(PullSweep)
    sweep.gql = Gql()  # type: ignore[assignment]
    sweep.total, sweep.done, sweep.page = 3000, 300, 50
    sweep.reset_at = datetime.now(UTC).replace(microsecond=0)
    sweep.started = __import__("time").monotonic() - 60
    # 2,700 left at 2 points each: 5,400 points; 100 left now, 5,000 at the reset (now), the last
    # 300 an hour later. The pace alone (60 s for 300) would say 9 minutes.
    text = sweep.eta()
    assert "300 of 3,000 pull requests" in text and "100 points left" in text
    assert "about 1:00:00 left" in text


def test_node_ids_give_the_rest_ids() -> None:
    assert database_id("MDExOlB1bGxSZXF1ZXN0MjAzNzU2NzM2") == 203756736  # PR #4, legacy form
    assert database_id(new_node_id("PRR", 0, 33_000_000, 1_234_567_890_123)) == 1_234_567_890_123
    assert database_id(new_node_id("LE", 0, 5)) == 5
    assert database_id("RFR_1") is None and database_id("not base64!") is None


@pytest.mark.parametrize(("args", "says"), [
    (["--since", "last tuesday"], "not a date: 'last tuesday'"),
    (["--api", "soap"], "--api must be graphql or rest, not 'soap'"),
])
def test_bad_options_are_one_line_and_exit_2(tmp_path: Path, args: list[str], says: str) -> None:
    done = leadlens("ingest", "github", REPO, "--store", str(tmp_path / "s.duckdb"), *args)
    assert done.returncode == 2
    assert says in done.stderr and len(done.stderr.strip().splitlines()) == 1

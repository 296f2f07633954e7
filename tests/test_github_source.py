"""Live sync against a fake GitHub (httpx.MockTransport) that serves the real recorded objects of
panjf2000/ants with Link-header pages and ETags, plus hand-made deployments, releases, an approval
and timeline events shaped as GitHub documents them: cursors, resume after a crash, dedupe."""

from __future__ import annotations

import os
from datetime import timedelta
from typing import Any

import httpx
import pytest

from fakes.clock import NoSleep
from fakes.github import API, PAGE, REPO, FakeGitHub
from leadlens import pipeline
from leadlens.config import Settings
from leadlens.errors import FatalSourceError, UserError
from leadlens.sources.base import RunSummary
from leadlens.sources.github.client import GitHubAPI, make_client
from leadlens.sources.github.ingest import GithubSource
from leadlens.sources.github.source import sync_repo
from leadlens.store import Store
from leadlens.store.writer import load_cursor


def ingest_github(store: Store, repo: str, derive: bool = True, **options: Any) -> RunSummary:
    """The live source through the pipeline, as `leadlens ingest github` runs it."""
    return pipeline.ingest(store, GithubSource(repo, **options), Settings(), derive_after=derive)


def _sync(store: Store, fake: FakeGitHub, **kw: Any) -> Any:
    api = GitHubAPI(make_client("t", API, httpx.MockTransport(fake)), clock=NoSleep(),
                    max_requests=kw.pop("max_requests", None))
    return sync_repo(store, api, REPO, **kw)


def _rows(store: Store, sql: str) -> list[tuple[Any, ...]]:
    return store.con.execute(sql).fetchall()


TABLES = ("pull_requests", "reviews", "pr_commits", "pr_events", "comments", "issues", "builds",
          "deployments", "deployment_statuses", "releases")


def _counts(store: Store) -> dict[str, int]:
    return {t: _rows(store, f"SELECT count(*) FROM {t}")[0][0] for t in TABLES}


FULL = {"pull_requests": 49, "reviews": 31, "pr_commits": 90, "pr_events": 2, "comments": 110,
        "issues": 26, "builds": 36, "deployments": 1, "deployment_statuses": 2, "releases": 1}


def test_full_sync_stores_everything_once(store: Store) -> None:
    fake = FakeGitHub()
    summary = _sync(store, fake)
    assert summary.complete and summary.skipped == []
    assert _counts(store) == FULL
    # Sizes come from the single-PR endpoint; merged_at is the API's.
    assert _rows(store, "SELECT additions, merged_at IS NOT NULL FROM pull_requests WHERE number = 41"
                 ) == [(410, True)]
    assert _rows(store, "SELECT reviewer, state, submitted_at::VARCHAR FROM reviews"
                 " WHERE state = 'APPROVED'") == [("panjf2000", "APPROVED", "2019-08-20 10:50:00+00")]
    assert _rows(store, "SELECT event, actor, detail FROM pr_events ORDER BY id") == [
        ("ready_for_review", "choleraehyq", None), ("review_requested", "choleraehyq", "panjf2000")]
    assert _rows(store, "SELECT kind, name, conclusion, head_branch FROM builds WHERE kind ="
                 " 'check_run'") == [("check_run", "test (1.13)", "success", "nb")]
    assert _rows(store, "SELECT deployment_id, state, environment FROM deployment_statuses"
                 " ORDER BY id") == [(7, "in_progress", "production"), (7, "success", "production")]
    assert _rows(store, "SELECT tag_name, draft, published_at::VARCHAR FROM releases") == [
        ("v2.0.0", False, "2019-10-10 08:30:00+00")]
    # 49 PRs in 5 pages, each with detail, reviews, commits, timeline and check runs.
    assert fake.log.count("pulls/41") == 1 and summary.requests == len(fake.log)
    cursor = load_cursor(store.con, REPO, "github", "pull_requests")
    assert cursor["since"] == max(p["updated_at"] for p in fake.pulls.values())
    assert "sweep" not in cursor and cursor["etag"]


def test_second_run_with_nothing_new_is_cheap_and_changes_nothing(store: Store) -> None:
    fake = FakeGitHub()
    _sync(store, fake, overlap=timedelta(0))
    fake.log.clear()
    summary = _sync(store, fake, overlap=timedelta(0))
    assert _counts(store) == FULL
    # One repository check, then one request per resource. The lists without `since` answer 304
    # to the last run's ETag; the others were asked with a new `since` (the boundary objects
    # come back, `since` is inclusive) and answer 304 from the next run on.
    assert summary.not_modified == 4 and len(fake.log) == 8, fake.log
    fake.log.clear()
    summary = _sync(store, fake, overlap=timedelta(0))
    assert summary.not_modified == 7 and len(fake.log) == 8 and summary.stored == {}
    assert _counts(store) == FULL


def test_an_updated_pull_request_is_fetched_again_alone(store: Store) -> None:
    fake = FakeGitHub()
    _sync(store, fake, overlap=timedelta(0))
    newest = max(fake.pulls.values(), key=lambda p: p["updated_at"])["number"]
    fake.pulls[53] = {**fake.pulls[53], "title": "add loop queue (edited)",
                      "updated_at": "2030-01-01T00:00:00Z"}
    fake.log.clear()
    _sync(store, fake, overlap=timedelta(0))
    assert _counts(store) == FULL
    assert _rows(store, "SELECT title FROM pull_requests WHERE number = 53") == [
        ("add loop queue (edited)",)]
    details = [p for p in fake.log if p.startswith("pulls/") and p.split("/")[1].isdigit()
               and "/" not in p.split("/", 1)[1]]
    # #53 (newer than the cursor) and the one whose time the old cursor holds (it is inclusive).
    assert sorted(details) == sorted([f"pulls/{newest}", "pulls/53"])


def test_resume_after_a_crash_mid_sweep(store: Store) -> None:
    fake = FakeGitHub()
    fake.fail_on = lambda req: req.startswith("pulls?") and "page=3" in req
    with pytest.raises(RuntimeError):
        _sync(store, fake)
    # Two pages of pull requests were stored with their cursor; the cursor has not moved on.
    assert _rows(store, "SELECT count(*) FROM pull_requests")[0][0] == 2 * PAGE
    cursor = load_cursor(store.con, REPO, "github", "pull_requests")
    assert "since" not in cursor or cursor["since"] is None
    assert "page=3" in cursor["sweep"]["next"]
    fake.fail_on = None
    fake.log.clear()
    summary = _sync(store, fake)
    assert summary.complete and _counts(store) == FULL
    first_list = next(p for p in fake.log if p.startswith("pulls?"))
    assert "page=3" in first_list  # resumed where it stopped: pages 1 and 2 were not read again
    assert _rows(store, "SELECT count(*) - count(DISTINCT number) FROM pull_requests") == [(0,)]


def test_request_budget_stops_early_and_the_next_run_completes(store: Store) -> None:
    fake = FakeGitHub()
    # The first page of pull requests takes 52 requests (repository, list, 5 per pull request).
    summary = _sync(store, fake, max_requests=70)
    assert not summary.complete and not summary.failed
    assert "--max-requests 70" in (summary.stopped or "") and summary.requests == 70
    assert _counts(store)["pull_requests"] == PAGE
    summary = _sync(store, fake)
    assert summary.complete and _counts(store) == FULL


def test_object_missing_a_field_is_skipped_with_its_url(store: Store) -> None:
    fake = FakeGitHub()
    broken = fake.pulls[51]
    del broken["state"]
    summary = _sync(store, fake)
    assert [(s.resource, s.reason) for s in summary.skipped] == [
        ("pull_requests", "missing field 'state'")] * 2  # the list object and the detail
    assert _rows(store, "SELECT DISTINCT url, reason FROM skipped_objects") == [
        (f"{API}/repos/{REPO}/pulls/51", "missing field 'state'")]
    assert _counts(store)["pull_requests"] == 48 and _counts(store)["reviews"] == FULL["reviews"]


def test_missing_repository_is_a_clear_error(store: Store) -> None:
    api = GitHubAPI(make_client("t", API, httpx.MockTransport(FakeGitHub())), clock=NoSleep())
    with pytest.raises(FatalSourceError, match="repository nobody/nothing does not exist on GitHub"
                       " or is not visible to the token in GITHUB_TOKEN"):
        sync_repo(store, api, "nobody/nothing")
    with pytest.raises(UserError, match="not a repository name"):
        sync_repo(store, api, "just-a-name")


def test_ingest_reads_the_token_variable_and_joins_changes(store: Store,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LEADLENS_TEST_TOKEN", raising=False)
    with pytest.raises(UserError, match="set LEADLENS_TEST_TOKEN"):
        ingest_github(store, REPO, token_env="LEADLENS_TEST_TOKEN")
    monkeypatch.setenv("LEADLENS_TEST_TOKEN", "t")
    seen: list[str] = []

    def transport(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers["authorization"])
        return FakeGitHub()(request)
    summary = ingest_github(store, REPO, token_env="LEADLENS_TEST_TOKEN",
                            transport=httpx.MockTransport(transport), clock=NoSleep())
    assert set(seen) == {"Bearer t"}
    # No git clone in this store: the forge derive makes one change per merged pull request.
    merged = _rows(store, "SELECT count(*) FROM pull_requests WHERE merged_at IS NOT NULL")[0][0]
    assert summary.changes_joined[REPO] == merged > 0
    assert "no git history of this name" in summary.warnings[0]


@pytest.mark.live
@pytest.mark.skipif(not os.environ.get("GITHUB_TOKEN"), reason="needs GITHUB_TOKEN")
def test_live_small_public_repository(store: Store) -> None:
    # Repository check, first list page, five pull requests of five requests each: 27.
    summary = ingest_github(store, "octocat/Hello-World", max_requests=40, derive=False)
    assert summary.requests <= 40 and not summary.failed
    assert _rows(store, "SELECT count(*) FROM pull_requests")[0][0] >= 5


def test_rate_limit_beyond_max_wait_mid_run_keeps_what_was_stored(store: Store) -> None:
    fake = FakeGitHub()

    def limited(request: httpx.Request) -> httpx.Response:
        if request.url.params.get("page") == "2" and request.url.path.endswith("/pulls"):
            return httpx.Response(403, json={"message": "API rate limit exceeded"}, headers={
                "x-ratelimit-remaining": "0", "x-ratelimit-reset": str(int(NoSleep().now()) + 7200)})
        return fake(request)
    api = GitHubAPI(make_client("t", API, httpx.MockTransport(limited)), clock=NoSleep(),
                    max_wait=900)
    summary = sync_repo(store, api, REPO)
    assert summary.failed and not summary.complete
    assert "beyond --max-wait 900s" in (summary.stopped or "")
    assert _counts(store)["pull_requests"] == PAGE  # the first page is kept


def test_bad_token_names_the_variable(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", "expired")
    transport = httpx.MockTransport(lambda r: httpx.Response(401, json={
        "message": "Bad credentials", "documentation_url": "https://docs.github.com/rest"}))
    with pytest.raises(UserError, match="GitHub rejected the token in GITHUB_TOKEN"):
        ingest_github(store, REPO, transport=transport, clock=NoSleep())


def test_a_small_budget_still_moves_on_within_a_page(store: Store) -> None:
    fake = FakeGitHub()
    # Repository check, first list page, then 5 requests per pull request: 5 are stored with 27.
    summary = _sync(store, fake, max_requests=30)
    assert not summary.complete and _counts(store)["pull_requests"] == 5
    cursor = load_cursor(store.con, REPO, "github", "pull_requests")
    assert cursor["sweep"]["skip"] == 5 and "&page=" not in cursor["sweep"]["next"]  # page 1
    stored = {n for (n,) in _rows(store, "SELECT number FROM pull_requests")}
    fake.log.clear()
    summary = _sync(store, fake)
    assert summary.complete and _counts(store) == FULL
    fetched = {int(p.split("/")[1]) for p in fake.log if p.startswith("pulls/")
               and p.split("/")[1].isdigit() and p.count("/") == 1}
    assert not fetched & stored  # the stored five were not read again

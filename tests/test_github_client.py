"""The GitHub client through httpx.MockTransport: recorded octokit exchanges (Link-header pagination,
a 422) and hand-made responses shaped as GitHub documents them (401, 404, 403/429 rate limits,
304, 5xx, truncated JSON). A fake clock records waits instead of sleeping."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from fakes.clock import NOW, FakeClock
from leadlens.errors import FatalSourceError, TransientSourceError, UserError
from leadlens.sources.github.client import (
    GitHubAPI,
    NotFoundError,
    RateLimitTooLong,
    RequestBudgetSpent,
    make_client,
)

OCTOKIT = Path(__file__).resolve().parents[2] / "shared" / "fixtures" / "octokit"


def _api(handler: Callable[[httpx.Request], httpx.Response], **kw: Any) -> tuple[GitHubAPI, FakeClock]:
    clock = FakeClock()
    client = make_client("t0ken", "https://api.github.com", httpx.MockTransport(handler))
    return GitHubAPI(client, clock=clock, **kw), clock


def _recorded(name: str) -> list[dict[str, Any]]:
    exchanges: list[dict[str, Any]] = json.loads((OCTOKIT / name / "raw-fixture.json").read_text())
    return exchanges


def _response(exchange: dict[str, Any]) -> httpx.Response:
    raw = exchange["rawHeaders"]
    headers = [(raw[i], raw[i + 1]) for i in range(0, len(raw), 2)
               if raw[i].lower() not in ("content-length", "content-encoding")]
    return httpx.Response(exchange["status"], headers=headers, json=exchange["response"])


def _sequence(*responses: httpx.Response) -> tuple[Callable[[httpx.Request], httpx.Response],
                                                   list[httpx.Request]]:
    seen: list[httpx.Request] = []
    queue: Iterator[httpx.Response] = iter(responses)

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return next(queue)
    return handler, seen


OK = httpx.Response(200, json=[{"id": 1}], headers={"x-ratelimit-remaining": "4999"})


def test_link_header_pagination_replays_the_recorded_exchange() -> None:
    gets = {ex["path"]: ex for ex in _recorded("paginate-issues") if ex["method"] == "get"}
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        path = request.url.raw_path.decode()
        seen.append(path)
        return _response(gets[path])

    api, clock = _api(handler)
    repo = "octokit-fixture-org/tmp-scenario-paginate-issues-20220719043836917-izyoe"
    pages = list(api.pages(f"repos/{repo}/issues", {"per_page": 3}))
    assert [len(p.data) for p in pages] == [3, 3, 3, 3, 1]
    assert seen[0] == f"/repos/{repo}/issues?per_page=3"
    assert seen[1:] == [f"/repositories/515435940/issues?per_page=3&page={n}" for n in range(2, 6)]
    titles = [issue["title"] for p in pages for issue in p.data]
    assert len(titles) == 13 and len(set(titles)) == 13
    assert sorted(titles, key=lambda t: int(t.split()[-1])) == [f"Test issue {n}" for n in range(1, 14)]
    assert pages[-1].next_url is None and api.requests == 5 and clock.slept == []
    assert pages[0].etag is not None and pages[0].etag.startswith('"')


def test_recorded_422_is_a_fatal_error_with_githubs_message() -> None:
    failed = next(ex for ex in _recorded("errors") if ex["status"] == 422)
    api, _ = _api(lambda request: _response(failed))
    with pytest.raises(FatalSourceError) as exc:
        api.get("repos/o/r/labels")
    assert "422 Validation Failed (resource=Label, code=invalid, field=color)" in str(exc.value)
    assert api.requests == 1  # a 422 is not retried


def test_401_names_the_token_variable() -> None:
    api, _ = _api(lambda r: httpx.Response(401, json={"message": "Bad credentials"}),
                  token_env="MY_GH_TOKEN")
    with pytest.raises(FatalSourceError) as exc:
        api.get("repos/o/r")
    assert isinstance(exc.value, UserError)
    assert "MY_GH_TOKEN" in str(exc.value) and "Bad credentials" in str(exc.value)


def test_404_is_not_found() -> None:
    api, _ = _api(lambda r: httpx.Response(404, json={"message": "Not Found"}))
    with pytest.raises(NotFoundError):
        api.get("repos/o/missing")


def test_403_without_a_rate_limit_is_a_permission_error() -> None:
    api, clock = _api(lambda r: httpx.Response(
        403, json={"message": "Resource not accessible by integration"},
        headers={"x-ratelimit-remaining": "4000"}))
    with pytest.raises(FatalSourceError, match="Resource not accessible by integration"):
        api.get("repos/o/r/deployments")
    assert clock.slept == []


@pytest.mark.parametrize("status", [403, 429])
def test_secondary_limit_waits_retry_after_then_retries(status: int) -> None:
    limited = httpx.Response(status, headers={"retry-after": "30"}, json={
        "message": "You have exceeded a secondary rate limit. Please wait a few minutes before you"
                   " try again.", "documentation_url": "https://docs.github.com/rest"})
    handler, seen = _sequence(limited, OK)
    waits: list[float] = []
    api, clock = _api(handler, on_wait=lambda w: waits.append(w.seconds))
    assert api.get("repos/o/r/pulls").data == [{"id": 1}]
    assert clock.slept == [30.0] and waits == [30.0] and len(seen) == 2
    assert api.waits[0].reason == "GitHub's secondary rate limit"


def test_secondary_limit_without_retry_after_waits_a_minute_then_longer() -> None:
    limited = httpx.Response(403, json={"message": "You have exceeded a secondary rate limit."})
    handler, _ = _sequence(limited, limited, OK)
    api, clock = _api(handler)
    api.get("repos/o/r/pulls")
    assert clock.slept == [60.0, 120.0]


def test_primary_limit_waits_until_reset() -> None:
    exhausted = httpx.Response(403, json={"message": "API rate limit exceeded for user ID 1."},
                               headers={"x-ratelimit-remaining": "0",
                                        "x-ratelimit-reset": str(int(NOW + 100))})
    handler, _ = _sequence(exhausted, OK)
    api, clock = _api(handler)
    api.get("repos/o/r/pulls")
    assert clock.slept == [101.0]
    assert api.waits[0].reason == "GitHub's rate limit (core)"


def test_primary_limit_beyond_max_wait_stops_with_a_clear_error() -> None:
    exhausted = httpx.Response(403, json={"message": "API rate limit exceeded"},
                               headers={"x-ratelimit-remaining": "0",
                                        "x-ratelimit-reset": str(int(NOW + 3600))})
    api, clock = _api(lambda r: exhausted, max_wait=600)
    with pytest.raises(RateLimitTooLong) as exc:
        api.get("repos/o/r/pulls")
    assert isinstance(exc.value, UserError) and isinstance(exc.value, TransientSourceError)
    assert "in 60 min, beyond --max-wait 600s" in str(exc.value)
    assert clock.slept == []


def test_last_request_of_the_window_makes_the_next_one_wait_for_the_reset() -> None:
    last = httpx.Response(200, json=[], headers={"x-ratelimit-remaining": "0",
                                                  "x-ratelimit-reset": str(int(NOW + 50))})
    handler, seen = _sequence(last, OK)
    api, clock = _api(handler)
    api.get("repos/o/r/pulls")
    assert clock.slept == []
    api.get("repos/o/r/issues")
    assert clock.slept == [51.0] and len(seen) == 2


def test_etag_sends_if_none_match_and_304_is_not_modified() -> None:
    handler, seen = _sequence(httpx.Response(304, headers={"etag": '"abc"'}))
    api, _ = _api(handler)
    page = api.get("repos/o/r/releases", etag='"abc"')
    assert seen[0].headers["if-none-match"] == '"abc"'
    assert page.not_modified and page.data is None and api.not_modified == 1


def test_server_errors_are_retried_with_backoff() -> None:
    handler, seen = _sequence(httpx.Response(502), httpx.Response(503), OK)
    api, clock = _api(handler)
    assert api.get("repos/o/r/pulls").data == [{"id": 1}]
    assert clock.slept == [1.0, 2.0] and len(seen) == 3


def test_server_errors_give_up_after_the_retries() -> None:
    api, clock = _api(lambda r: httpx.Response(500), retries=3)
    with pytest.raises(TransientSourceError, match="GitHub failed 4 times"):
        api.get("repos/o/r/pulls")
    assert clock.slept == [1.0, 2.0, 4.0]


def test_timeouts_are_retried() -> None:
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        if len(calls) == 1:
            raise httpx.ReadTimeout("timed out", request=request)
        return OK
    api, clock = _api(handler)
    api.get("repos/o/r/pulls")
    assert len(calls) == 2 and clock.slept == [1.0]


def test_truncated_json_is_retried_then_a_clear_error() -> None:
    body = b'[{"id": 1, "number": 4, "title": "pre-alloc'
    api, _ = _api(lambda r: httpx.Response(200, content=body,
                                           headers={"content-type": "application/json"}), retries=2)
    with pytest.raises(FatalSourceError, match="malformed JSON"):
        api.get("repos/o/r/pulls")
    assert api.requests == 3


def test_request_budget() -> None:
    api, _ = _api(lambda r: OK, max_requests=2)
    api.get("a")
    api.get("b")
    with pytest.raises(RequestBudgetSpent, match="--max-requests 2"):
        api.get("c")
    assert api.requests == 2


def test_client_sends_token_version_and_accept() -> None:
    handler, seen = _sequence(OK)
    api, _ = _api(handler)
    api.get("repos/o/r")
    headers = seen[0].headers
    assert headers["authorization"] == "Bearer t0ken"
    assert headers["accept"] == "application/vnd.github+json"
    assert headers["x-github-api-version"] == "2022-11-28"
    assert str(seen[0].url) == "https://api.github.com/repos/o/r"

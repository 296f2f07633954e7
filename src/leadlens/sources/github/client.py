"""GitHub REST I/O: one httpx client, Link-header paging, rate limits, retries, ETags, a budget."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx

from leadlens.config import DEFAULT_GITHUB_API_URL, DEFAULT_GITHUB_MAX_WAIT, DEFAULT_GITHUB_TOKEN_ENV
from leadlens.errors import FatalSourceError, TransientSourceError, UserError
from leadlens.sources import http
from leadlens.sources.base import Wait
from leadlens.sources.http import Clock, SystemClock, backoff, header_float

__all__ = [
    "Clock",
    "GitHubAPI",
    "NotFoundError",
    "Page",
    "RateLimitTooLong",
    "RequestBudgetSpent",
    "ServerTimeout",
    "SystemClock",
    "api_url_for",
    "is_default_api",
    "make_client",
]

API_VERSION = "2022-11-28"
# GitHub asks clients hit by a secondary limit without retry-after to wait at least a minute.
SECONDARY_WAIT = 60.0


class NotFoundError(FatalSourceError):
    """404 or 410: the object does not exist (or no longer), or the token cannot see it."""


class RateLimitTooLong(TransientSourceError, UserError):
    """A rate limit resets later than --max-wait allows: stop now, keep what was stored."""


class RequestBudgetSpent(TransientSourceError):
    """--max-requests were made; what was stored is kept and the next run resumes."""


class ServerTimeout(TransientSourceError):
    """A 5xx to a query the caller can make smaller (GitHub answers a GraphQL query it could not
    finish in time with 502 or 504): not retried as it is."""


# Where a run records what GitHub answered (``--record DIR``): (url, input, data) of each answer.
Recorder = Callable[[str, Any, Any], None]


def make_client(token: str | None, api_url: str = DEFAULT_GITHUB_API_URL,
                transport: httpx.BaseTransport | None = None) -> httpx.Client:
    """The one HTTP client of the GitHub source; tests pass an ``httpx.MockTransport``. The token
    goes to ``api_url``'s origin only, over https (http to this machine alone)."""
    headers = {
        "Accept": "application/vnd.github+json",
        "X-GitHub-Api-Version": API_VERSION,
    }
    credentials = {"Authorization": f"Bearer {token}"} if token else None
    return http.make_client(api_url, headers, transport, credentials=credentials,
                            what="the GitHub API URL")


def is_default_api(url: str) -> bool:
    """``url`` is GitHub's own API (``https://api.github.com``, however written)."""
    try:
        parsed, default = httpx.URL(url), httpx.URL(DEFAULT_GITHUB_API_URL)
    except httpx.InvalidURL:
        return False
    return (http.origin(parsed) == http.origin(default) and not parsed.userinfo
            and parsed.path.rstrip("/") == default.path.rstrip("/"))


def api_url_for(explicit: str | None, setting: str, *, trust_setting: bool = False) -> str:
    """The API a run sends its token to: ``explicit`` (``--api-url``) when given, else the
    ``github_api_url`` setting. Settings are read from the working directory, where a cloned
    repository's own ``pyproject.toml`` may name any host: one other than GitHub's is taken from
    there only with ``trust_setting`` (``--trust-settings-api-url``). Either way, https only (http
    to this machine alone)."""
    if explicit is not None:
        url, what = explicit, "--api-url"
    else:
        url, what = setting, "the github_api_url setting"
        if not trust_setting and not is_default_api(url):
            raise UserError(
                f"github_api_url {url!r} is read from the working directory, which a repository"
                " can ship: pass --trust-settings-api-url to send your token there (or --api-url)")
    http.checked_base_url(url, what)
    return url


@dataclass(frozen=True)
class Page:
    url: str
    data: Any
    next_url: str | None
    etag: str | None
    not_modified: bool = False


def _message(resp: httpx.Response) -> str:
    try:
        body = resp.json()
    except ValueError:
        return resp.reason_phrase
    if not isinstance(body, dict):
        return resp.reason_phrase
    text = str(body.get("message") or resp.reason_phrase)
    errors = body.get("errors")
    if isinstance(errors, list) and errors:
        parts = [", ".join(f"{k}={v}" for k, v in e.items()) if isinstance(e, dict) else str(e)
                 for e in errors]
        text += " (" + "; ".join(parts) + ")"
    return text


@dataclass
class GitHubAPI:
    """Requests through one client, honouring GitHub's primary limit (``x-ratelimit-*``) and
    secondary limits (403/429 with ``retry-after``), with bounded retries and a request budget.
    Every wait goes through ``clock`` (tests pass a fake one) and is told to ``on_wait``."""

    client: httpx.Client
    token_env: str = DEFAULT_GITHUB_TOKEN_ENV
    clock: Clock = field(default_factory=SystemClock)
    max_wait: float = DEFAULT_GITHUB_MAX_WAIT
    max_requests: int | None = None
    retries: int = 4
    on_wait: Callable[[Wait], None] | None = None
    recorder: Recorder | None = None
    requests: int = 0
    not_modified: int = 0
    waits: list[Wait] = field(default_factory=list)
    _blocked_until: float | None = None

    def pages(self, url: str, params: dict[str, Any] | None = None,
              etag: str | None = None) -> Iterator[Page]:
        """Every page of a list, following ``Link: rel="next"``; the first may be a 304."""
        page = self.get(url, params, etag)
        yield page
        while page.next_url and not page.not_modified:
            page = self.get(page.next_url)
            yield page

    def get(self, url: str, params: dict[str, Any] | None = None, etag: str | None = None) -> Page:
        resp, data = self._send("GET", url, params=params, etag=etag)
        if resp.status_code == 304:  # costs no rate limit: nothing changed since the ETag
            self.not_modified += 1
            return Page(str(resp.url), None, None, etag, not_modified=True)
        link = resp.links.get("next", {}).get("url")
        if self.recorder is not None:
            self.recorder(str(resp.url), params, data)
        return Page(str(resp.url), data, link, resp.headers.get("etag"))

    def post(self, url: str, body: Mapping[str, Any], *,
             shrinkable: bool = False) -> tuple[httpx.Response, Any]:
        """POST ``body`` as JSON (a GraphQL query): the response and its JSON, with the limits,
        retries and budget of :meth:`get`. ``shrinkable``: a 5xx raises :class:`ServerTimeout` at
        once, for the caller to ask less."""
        return self._send("POST", url, body=body, shrinkable=shrinkable)

    def wait_for_limit(self, resp: httpx.Response, attempt: int, what: str) -> None:
        """Wait out a rate limit a response reported in its body (GraphQL's ``RATE_LIMITED`` comes
        with 200): until ``x-ratelimit-reset``, else a minute doubling on repeats."""
        if attempt > self.retries * 2:
            raise TransientSourceError(f"GitHub kept rate-limiting {what}; try again later")
        reset = header_float(resp, "x-ratelimit-reset")
        seconds = (max(reset - self.clock.now(), 0.0) + 1.0 if reset is not None
                   else SECONDARY_WAIT * 2.0 ** (attempt - 1))
        self._wait(seconds, f"GitHub's rate limit ({resp.headers.get('x-ratelimit-resource', what)})")

    def _send(self, method: str, url: str, *, params: dict[str, Any] | None = None,
              etag: str | None = None, body: Mapping[str, Any] | None = None,
              shrinkable: bool = False) -> tuple[httpx.Response, Any]:
        attempt = 0
        while True:
            self._wait_for_reset()
            if self.max_requests is not None and self.requests >= self.max_requests:
                raise RequestBudgetSpent(f"the request budget (--max-requests {self.max_requests})"
                                         " is spent")
            self.requests += 1
            try:
                if method == "POST":
                    resp = self.client.post(url, json=body)
                else:
                    resp = self.client.get(url, params=params,
                                           headers={"If-None-Match": etag} if etag else None)
            except httpx.TransportError as exc:
                attempt = self._retry(attempt, url, f"{type(exc).__name__}: {exc}")
                continue
            self._note_primary(resp)
            status = resp.status_code
            if status == 304:
                return resp, None
            if status in (403, 429) and self._limited(resp):
                attempt += 1
                if attempt > self.retries * 2:
                    raise TransientSourceError(f"GitHub kept rate-limiting {url}; try again later")
                self._wait(self._limit_wait(resp, attempt), self._limit_reason(resp))
                continue
            if status >= 500 and shrinkable:
                raise ServerTimeout(f"GitHub answered HTTP {status} to a query")
            if status >= 500:
                attempt = self._retry(attempt, url, f"HTTP {status}")
                continue
            if status >= 400:
                raise self._error(resp, url)
            try:
                return resp, resp.json()
            except ValueError:
                # A truncated transfer looks like this too: worth another try, then a clear stop.
                attempt = self._retry(attempt, url, "malformed JSON", fatal=True)

    def _error(self, resp: httpx.Response, url: str) -> FatalSourceError:
        status, text = resp.status_code, _message(resp)
        if status == 401:
            return FatalSourceError(
                f"GitHub rejected the token in {self.token_env} (401 {text}): it is wrong, expired"
                f" or revoked; set {self.token_env} to a valid token")
        if status in (404, 410):  # 410: gone (issues turned off for the repository, ...)
            return NotFoundError(f"not found on GitHub: {url} ({status} {text})")
        if status == 403:
            return FatalSourceError(f"GitHub refused {url} (403 {text}): the token in "
                                    f"{self.token_env} lacks access to it")
        return FatalSourceError(f"GitHub rejected {url} ({status} {text})")

    def _retry(self, attempt: int, url: str, why: str, fatal: bool = False) -> int:
        attempt += 1
        if attempt > self.retries:
            message = f"GitHub failed {attempt} times on {url}: {why}"
            if fatal:
                raise FatalSourceError(message + "; what was stored so far is kept")
            raise TransientSourceError(message + "; run again later (what was stored is kept)")
        self._wait(backoff(attempt), f"retrying after {why}")
        return attempt

    @staticmethod
    def _limited(resp: httpx.Response) -> bool:
        if resp.headers.get("x-ratelimit-remaining") == "0" or "retry-after" in resp.headers:
            return True
        return "rate limit" in _message(resp).lower()

    def _limit_wait(self, resp: httpx.Response, attempt: int) -> float:
        retry_after = header_float(resp, "retry-after")
        if retry_after is not None:
            return max(retry_after, 0.0)
        reset = header_float(resp, "x-ratelimit-reset")
        if resp.headers.get("x-ratelimit-remaining") == "0" and reset is not None:
            return max(reset - self.clock.now(), 0.0) + 1.0
        return SECONDARY_WAIT * 2.0 ** (attempt - 1)

    @staticmethod
    def _limit_reason(resp: httpx.Response) -> str:
        if resp.headers.get("x-ratelimit-remaining") == "0" and "retry-after" not in resp.headers:
            return f"GitHub's rate limit ({resp.headers.get('x-ratelimit-resource', 'core')})"
        return "GitHub's secondary rate limit"

    def _note_primary(self, resp: httpx.Response) -> None:
        reset = header_float(resp, "x-ratelimit-reset")
        if resp.headers.get("x-ratelimit-remaining") == "0" and reset is not None \
                and resp.status_code < 400:
            self._blocked_until = reset + 1.0

    def _wait_for_reset(self) -> None:
        if self._blocked_until is None:
            return
        seconds, self._blocked_until = self._blocked_until - self.clock.now(), None
        if seconds > 0:
            self._wait(seconds, "GitHub's rate limit (none left until the reset)")

    def _wait(self, seconds: float, reason: str) -> None:
        if seconds > self.max_wait:
            until = datetime.fromtimestamp(self.clock.now() + seconds, UTC)
            raise RateLimitTooLong(
                f"{reason} lifts at {until:%Y-%m-%d %H:%M:%S} UTC, in {seconds / 60:.0f} min, beyond"
                f" --max-wait {self.max_wait:.0f}s; what was fetched is stored: run again then, or"
                " raise --max-wait")
        wait = Wait(seconds, reason)
        self.waits.append(wait)
        if self.on_wait:
            self.on_wait(wait)
        self.clock.sleep(seconds)

"""Jira REST I/O: one httpx client (sources/http.make_client), auth, 429 + Retry-After, retries.

Jira Cloud speaks ``/rest/api/3`` and takes an account's e-mail and an API token as Basic auth;
Data Center and Server speak ``/rest/api/2`` and take a personal access token as a bearer token.
Both keep the agile API (boards, sprints) under ``/rest/agile/1.0``. The credentials go to
``--url``'s origin only (``http.make_client`` refuses any other before a request leaves).
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx

from leadlens.errors import FatalSourceError, TransientSourceError, UserError
from leadlens.sources import http
from leadlens.sources.base import Wait

__all__ = ["Auth", "JiraAPI", "NotFoundError", "RateLimitTooLong", "auth_from_env", "make_client"]

# Jira Cloud asks a client limited without a Retry-After to back off; its guide suggests seconds.
LIMIT_WAIT = 10.0
DEFAULT_MAX_WAIT = 900.0


class NotFoundError(FatalSourceError):
    """404: the object does not exist, or the credentials cannot see it."""


class RateLimitTooLong(TransientSourceError, UserError):
    """A rate limit lifts later than the longest wait allowed: stop now, keep what was stored."""


@dataclass(frozen=True)
class Auth:
    """Credentials and the variables they came from (errors name the variables, never values)."""

    token: str
    token_env: str
    email: str | None = None  # Cloud: Basic email:token; None: a bearer personal access token
    email_env: str | None = None

    def header(self) -> dict[str, str]:
        if self.email:
            pair = base64.b64encode(f"{self.email}:{self.token}".encode()).decode("ascii")
            return {"Authorization": f"Basic {pair}"}
        return {"Authorization": f"Bearer {self.token}"}

    def names(self) -> str:
        return f"{self.email_env} and {self.token_env}" if self.email else self.token_env


def auth_from_env(environ: dict[str, str] | Any, token_env: str, email_env: str) -> Auth:
    """The token in ``token_env`` (refused when unset or empty, naming it) and, when ``email_env``
    holds one, the e-mail address that makes it Cloud's Basic auth."""
    token = str(environ.get(token_env, "")).strip()
    if not token:
        raise UserError(f"no Jira token: set {token_env} to an API token (Cloud, with {email_env}"
                        " holding your e-mail) or a personal access token (Data Center), or name"
                        " another variable with --token-env")
    email = str(environ.get(email_env, "")).strip() or None
    return Auth(token, token_env, email, email_env if email else None)


def make_client(url: str, auth: Auth, transport: httpx.BaseTransport | None = None
                ) -> httpx.Client:
    """The one HTTP client of the Jira source; tests pass an ``httpx.MockTransport``."""
    return http.make_client(url, {"Accept": "application/json"}, transport,
                            credentials=auth.header(), what="--url")


def _message(resp: httpx.Response) -> str:
    try:
        body = resp.json()
    except ValueError:
        return resp.reason_phrase
    if isinstance(body, dict):
        messages = body.get("errorMessages")
        if isinstance(messages, list) and messages:
            return "; ".join(str(m) for m in messages)[:300]
        if isinstance(body.get("message"), str):
            return str(body["message"])[:300]
    return resp.reason_phrase


@dataclass
class JiraAPI:
    """GET requests through one client with bounded retries (transport errors and 5xx, backing off
    1, 2, 4 ... s), and Jira's rate limits (429, and 503 with ``Retry-After``) sat out as told.
    Every wait goes through ``clock`` (tests pass one that does not sleep) and ``on_wait``."""

    client: httpx.Client
    auth: Auth
    clock: http.Clock = field(default_factory=http.SystemClock)
    max_wait: float = DEFAULT_MAX_WAIT
    retries: int = 4
    on_wait: Callable[[Wait], None] | None = None
    requests: int = 0
    waits: list[Wait] = field(default_factory=list)

    def get(self, path: str, params: dict[str, Any] | None = None) -> Any:
        return self._send(path, params=params)

    def post(self, path: str, body: Mapping[str, Any]) -> Any:
        """POST ``body`` as JSON (a read that Jira serves only so: the approximate count of a
        search), with the retries and rate limits of :meth:`get`."""
        return self._send(path, body=body)

    def _send(self, path: str, *, params: dict[str, Any] | None = None,
              body: Mapping[str, Any] | None = None) -> Any:
        attempt = limited = 0
        while True:
            self.requests += 1
            try:
                resp = self.client.get(path, params=params) if body is None \
                    else self.client.post(path, json=dict(body))
            except httpx.TooManyRedirects:
                raise FatalSourceError(f"Jira redirected {path} too many times: is --url the"
                                       " site's base URL?") from None
            except httpx.TransportError as exc:
                attempt = self._retry(attempt, path, f"{type(exc).__name__}: {exc}")
                continue
            status = resp.status_code
            retry_after = http.header_float(resp, "retry-after")
            if status == 429 or (status == 503 and retry_after is not None):
                limited += 1
                if limited > self.retries * 2:
                    raise TransientSourceError(f"Jira kept rate-limiting {path}; try again later")
                wait = retry_after if retry_after is not None else LIMIT_WAIT * 2.0 ** (limited - 1)
                self._wait(max(wait, 0.0), f"Jira's rate limit (HTTP {status})")
                continue
            if status >= 500:
                attempt = self._retry(attempt, path, f"HTTP {status}")
                continue
            if status >= 400:
                raise self._error(resp, path)
            try:
                return resp.json()
            except ValueError:
                attempt = self._retry(attempt, path, "malformed JSON")

    def _error(self, resp: httpx.Response, path: str) -> FatalSourceError:
        status, text = resp.status_code, _message(resp)
        names = self.auth.names()
        if status == 401:
            return FatalSourceError(
                f"Jira rejected the credentials in {names} (401): the token is wrong, expired or"
                f" revoked; set {self.auth.token_env} to a valid token")
        if status == 404:
            return NotFoundError(f"not found on Jira: {path} (404 {text})")
        if status == 403:
            return FatalSourceError(f"Jira refused {path} (403 {text}): the credentials in {names}"
                                    " lack access to it")
        return FatalSourceError(f"Jira rejected {path} ({status} {text})")

    def _retry(self, attempt: int, path: str, why: str) -> int:
        attempt += 1
        if attempt > self.retries:
            raise TransientSourceError(f"Jira failed {attempt} times on {path}: {why}; run again"
                                       " later (what was stored is kept)")
        self._wait(http.backoff(attempt), f"retrying after {why}")
        return attempt

    def _wait(self, seconds: float, reason: str) -> None:
        if seconds > self.max_wait:
            until = datetime.fromtimestamp(self.clock.now() + seconds, UTC)
            raise RateLimitTooLong(f"{reason} lifts at {until:%Y-%m-%d %H:%M:%S} UTC, beyond the"
                                   f" longest wait ({self.max_wait:.0f}s); what was fetched is"
                                   " stored: run again then")
        wait = Wait(seconds, reason)
        self.waits.append(wait)
        if self.on_wait:
            self.on_wait(wait)
        self.clock.sleep(seconds)

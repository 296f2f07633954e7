"""The one HTTP client factory: every source that speaks HTTP gets its client here.

Tests pass an ``httpx.MockTransport`` (or a transport replaying recorded pages), so the retry,
pagination and rate-limit code under test is the production code (STYLE.md, one network seam).
A client that carries credentials sends them only where they were meant to go: over https (plain
http to this machine alone) and to the base URL's origin, whatever a page links to or redirects to.
"""

from __future__ import annotations

import ipaddress
import time
from collections.abc import Mapping
from typing import Protocol

import httpx

from leadlens import __version__
from leadlens.errors import FatalSourceError, UserError

__all__ = [
    "MAX_BACKOFF", "USER_AGENT", "Clock", "Eta", "SystemClock", "backoff", "checked_base_url",
    "duration", "header_float", "is_loopback", "make_client", "origin",
]

USER_AGENT = f"leadlens/{__version__}"
_DEFAULT_PORTS = {"http": 80, "https": 443}
MAX_BACKOFF = 60.0  # seconds: the longest back-off between two retries


class Clock(Protocol):
    """Time for the HTTP clients' waits; tests pass one that does not sleep (tests/fakes)."""

    def now(self) -> float: ...
    def sleep(self, seconds: float) -> None: ...


class SystemClock:
    def now(self) -> float:
        return time.time()

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


class Eta:
    """Progress through a sweep of known (or estimated) size: ``done`` of ``total`` and how long
    the rest takes at the rate so far, on ``clock``. Without a total, the count alone."""

    def __init__(self, clock: Clock, total: int | None) -> None:
        self.clock, self.total = clock, total
        self.started = clock.now()
        self.done = 0

    def advance(self, n: int) -> None:
        self.done += n

    def seconds_left(self) -> float | None:
        elapsed = self.clock.now() - self.started
        if self.total is None or self.done <= 0 or elapsed <= 0:
            return None
        return max(self.total - self.done, 0) * elapsed / self.done

    def text(self, noun: str) -> str:
        if self.total is None:
            return f"{self.done:,} {noun}"
        shown = f"{self.done:,} of ~{self.total:,} {noun}"
        left = self.seconds_left()
        return shown if left is None or self.done >= self.total else f"{shown}, {duration(left)} left"


def duration(seconds: float) -> str:
    """A wait or an estimate as people say it: 40 s, 12 min, 3.5 h."""
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def backoff(attempt: int) -> float:
    """Seconds to wait before retry ``attempt`` (1, 2, ...): 1, 2, 4, ... up to MAX_BACKOFF."""
    return min(MAX_BACKOFF, 2.0 ** (attempt - 1))


def header_float(resp: httpx.Response, name: str) -> float | None:
    """A numeric header (``Retry-After`` in seconds, ``x-ratelimit-reset``); None if absent or not
    a number."""
    try:
        return float(resp.headers[name])
    except (KeyError, ValueError):
        return None


def is_loopback(host: str) -> bool:
    """``host`` is this machine (``localhost``, 127.0.0.0/8, ``::1``): plain http cannot leak there."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def origin(url: httpx.URL) -> tuple[str, str, int | None]:
    """Scheme, host and port: what must match for a credential to go along."""
    return url.scheme, url.host, url.port or _DEFAULT_PORTS.get(url.scheme)


def checked_base_url(url: str, what: str) -> httpx.URL:
    """``url`` parsed, if credentials may be sent there (``what`` names it in the error): https, or
    http to a loopback host; no user or password in it."""
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL as exc:
        raise UserError(f"{what} {url!r} is not a URL: {exc}") from exc
    if parsed.scheme not in _DEFAULT_PORTS or not parsed.host:
        raise UserError(f"{what} {url!r} is not an https:// URL")
    if parsed.userinfo:
        raise UserError(f"{what} must not hold a user name or password; the token is sent apart")
    if parsed.scheme == "http" and not is_loopback(parsed.host):
        raise UserError(f"{what} {url!r} is plain http: the token would cross the network"
                        " unencrypted; use https:// (http is allowed only to localhost, 127.0.0.1"
                        " and ::1)")
    return parsed


def make_client(base_url: str, headers: Mapping[str, str],
                transport: httpx.BaseTransport | None = None, *,
                credentials: Mapping[str, str] | None = None, what: str = "the API URL"
                ) -> httpx.Client:
    """A client for ``base_url`` with leadlens' user agent, timeouts and redirects; ``transport``
    replaces the network (tests). ``credentials`` (headers such as ``Authorization``) are sent only
    to ``base_url``'s origin: ``base_url`` must pass :func:`checked_base_url`, and a request that
    would carry them anywhere else is refused before it is sent."""
    hooks = []
    if credentials:
        home = origin(checked_base_url(base_url, what))
        names = [name.lower() for name in credentials]

        def keep_credentials_home(request: httpx.Request) -> None:
            # httpx drops Authorization on a redirect to another origin, but not other headers,
            # and a Link header may name any URL: checked here, before anything leaves.
            if origin(request.url) != home and any(n in request.headers for n in names):
                raise FatalSourceError(
                    f"refusing to send the token to {request.url.scheme}://{request.url.host}:"
                    f" only {home[0]}://{home[1]} ({what}) gets it")
        hooks.append(keep_credentials_home)
    return httpx.Client(base_url=base_url.rstrip("/") + "/",
                        headers={"User-Agent": USER_AGENT, **headers, **(credentials or {})},
                        transport=transport, timeout=httpx.Timeout(30.0, connect=10.0),
                        follow_redirects=True, event_hooks={"request": hooks})

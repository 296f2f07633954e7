"""The one HTTP client factory: every source that speaks HTTP gets its client here.

Tests pass an ``httpx.MockTransport`` (or a transport replaying recorded pages), so the retry,
pagination and rate-limit code under test is the production code (STYLE.md, one network seam).
"""

from __future__ import annotations

from collections.abc import Mapping

import httpx

from leadlens import __version__

__all__ = ["USER_AGENT", "make_client"]

USER_AGENT = f"leadlens/{__version__}"


def make_client(base_url: str, headers: Mapping[str, str],
                transport: httpx.BaseTransport | None = None) -> httpx.Client:
    """A client for ``base_url`` with leadlens' user agent, timeouts and redirects; ``transport``
    replaces the network (tests)."""
    return httpx.Client(base_url=base_url.rstrip("/") + "/",
                        headers={"User-Agent": USER_AGENT, **headers}, transport=transport,
                        timeout=httpx.Timeout(30.0, connect=10.0), follow_redirects=True)

"""Repository identity (DESIGN.md): ``OWNER/REPO`` from a known host's origin URL, else the dir name."""

from __future__ import annotations

import re
from collections.abc import Collection
from pathlib import Path

__all__ = ["name_from_url", "repo_name"]

_SCP_LIKE = re.compile(r"^(?:[^@/]+@)?(?P<host>[^:/]+):(?P<path>[^/].*)$")  # git@host:owner/repo
_URL = re.compile(r"^[a-z][a-z0-9+.-]*://(?:[^@/]*@)?(?P<host>[^/:]+)(?::\d*)?/(?P<path>.*)$", re.I)


def name_from_url(url: str, known_hosts: Collection[str]) -> str | None:
    """``OWNER/REPO`` (GitLab: the full group path) when ``url`` points at a known host."""
    url = url.strip()
    m = _URL.match(url) or _SCP_LIKE.match(url)
    if not m:
        return None
    host = m.group("host").lower()
    if host not in {h.lower() for h in known_hosts}:
        return None
    path = m.group("path").strip("/")
    path = path.removesuffix(".git").strip("/")
    parts = [p for p in path.split("/") if p]
    if len(parts) < 2:
        return None
    return "/".join(parts)


def repo_name(
    remote_url: str | None, path: Path, is_bare: bool, known_hosts: Collection[str]
) -> str:
    """The repository's name in the store (``--name`` overrides it before this is called)."""
    if remote_url:
        named = name_from_url(remote_url, known_hosts)
        if named:
            return named
    name = path.resolve().name
    if is_bare and name.endswith(".git"):
        name = name[: -len(".git")]
    elif name == ".git":
        name = path.resolve().parent.name
    return name or str(path.resolve())

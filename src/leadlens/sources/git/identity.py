"""Repository identity (DESIGN.md): ``OWNER/REPO`` from a known host's origin URL, else the dir name."""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path

from leadlens.conventions import parse_remote

__all__ = ["name_from_url", "repo_name"]


def name_from_url(url: str, known_hosts: Collection[str]) -> str | None:
    """``OWNER/REPO`` (GitLab: the full group path) when ``url`` points at a known host."""
    remote = parse_remote(url)
    if remote is None or remote.host not in {h.lower() for h in known_hosts}:
        return None
    return remote.path if remote.path.count("/") >= 1 else None


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

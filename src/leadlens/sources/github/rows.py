"""What every GitHub row carries: the context its object came in, and its provenance."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from leadlens.sources.github import fields as f
from leadlens.sources.github.fields import MappingError, raw_json

__all__ = ["REPO_IN_URL", "SOURCE", "Context", "Row", "is_bot", "provenance", "repo_in"]

Row = dict[str, Any]
SOURCE = "github"

REPO_IN_URL = re.compile(r"/repos/([^/?#]+)/([^/?#]+)")


@dataclass(frozen=True)
class Context:
    """Where an object came from: its repository, the API URL, when it was fetched."""

    repo: str
    url: str | None
    fetched_at: datetime
    number: int | None = None  # the pull request or issue the URL is about, when it says


def repo_in(url: str) -> str | None:
    """``OWNER/REPO`` from an API URL ``.../repos/OWNER/REPO/...``."""
    m = REPO_IN_URL.search(url)
    return f"{m.group(1)}/{m.group(2)}" if m else None


def is_bot(user: object) -> bool | None:
    """What the API says of an account (``type: Bot``); None without one. The bot and agent
    patterns are applied where the flag is read (``conventions.BotRule``), not stored with it, so
    a changed pattern takes effect on data already stored."""
    if not isinstance(user, dict) or not isinstance(user.get("login"), str):
        return None
    return user.get("type") == "Bot"


def provenance(obj: Mapping[str, Any], ctx: Context, *, url: bool = True, raw: bool = True) -> Row:
    row: Row = {"source": SOURCE, "fetched_at": ctx.fetched_at}
    if url:
        row["url"] = f.url_in(obj, "url") or ctx.url
    if raw:
        row["raw"] = raw_json(obj)
        if row["raw"] is None:
            raise MappingError("nested too deeply")
    return row

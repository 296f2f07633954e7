"""Typed readers of Jira API object fields: a value of the wrong type is a MappingError naming the
field and what it held, never a crash or a row the store cannot hold (JSON gives any type)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

# The readers every source shares, from the source contract (re-exported: the mapping imports them
# from here).
from leadlens.sources.base import MappingError, need, nested, raw_json, time_offset, utf8, wrong

__all__ = [
    "MappingError",
    "account",
    "adf_text",
    "ident",
    "items",
    "need",
    "need_ident",
    "need_time",
    "nested",
    "number",
    "raw_json",
    "text",
    "time",
    "time_offset",
    "utf8",
    "wrong",
]

# Atlassian Document Format nests blocks; a deeper document is refused, not recursed into.
MAX_ADF_DEPTH = 64
_BLOCKS = frozenset({"paragraph", "heading", "blockquote", "codeBlock", "listItem", "tableRow",
                     "panel", "rule", "mediaSingle", "expand", "nestedExpand"})


def text(obj: Mapping[str, Any], key: str, label: str | None = None) -> str | None:
    value = obj.get(key)
    if value is None:
        return None
    if isinstance(value, str):
        return utf8(value)
    raise wrong(label or key, "a string", value)


def ident(obj: Mapping[str, Any], key: str) -> str | None:
    """An id Jira writes as a string or a number (``"10063"``, ``10042``), as text."""
    value = obj.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise wrong(key, "an id", value)
    return utf8(str(value))


def need_ident(obj: Mapping[str, Any], key: str) -> str:
    value = ident(obj, key)
    if not value:
        raise MappingError(f"missing field {key!r}")
    return value


def number(obj: Mapping[str, Any], key: str) -> float | None:
    value = obj.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise wrong(key, "a number", value)
    return float(value)


def items(obj: Mapping[str, Any], key: str) -> list[Any]:
    """A list field; empty when absent or null."""
    value = obj.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise wrong(key, "a list", value)
    return value


def time(obj: Mapping[str, Any], key: str) -> datetime | None:
    found = time_offset(obj.get(key), key)
    return found[0] if found else None


def need_time(obj: Mapping[str, Any], key: str) -> datetime:
    found = time_offset(need(obj, key), key)
    assert found is not None
    return found[0]


def account(obj: Mapping[str, Any], key: str) -> str | None:
    """The account in ``obj[key]``: Cloud's ``accountId``, else Data Center's ``key`` or ``name``.
    None for no account, a deleted user or an anonymised one (an empty id)."""
    user = nested(obj, key)
    for field in ("accountId", "key", "name"):
        found = text(user, field, f"{key}.{field}")
        if found:
            return found
    return None


def adf_text(value: object, key: str) -> str | None:
    """A description or comment body as plain text: a string as it is (API v2), an Atlassian
    Document Format document (API v3) flattened, blocks on their own lines."""
    if value is None or isinstance(value, str):
        return utf8(value) if value else value
    if not isinstance(value, Mapping):
        raise wrong(key, "text or a document", value)
    out: list[str] = []
    _flatten(value, out, 0, key)
    return "".join(out).strip("\n")


def _flatten(node: Mapping[str, Any], out: list[str], depth: int, key: str) -> None:
    if depth > MAX_ADF_DEPTH:
        raise MappingError(f"field {key!r} nests deeper than {MAX_ADF_DEPTH} levels")
    kind = node.get("type")
    attrs = node.get("attrs") if isinstance(node.get("attrs"), Mapping) else {}
    if kind == "text" and isinstance(node.get("text"), str):
        out.append(node["text"])
    elif kind == "hardBreak":
        out.append("\n")
    elif kind in ("mention", "emoji", "date", "status") and isinstance(attrs, Mapping):
        shown = attrs.get("text") or attrs.get("shortName") or attrs.get("timestamp")
        if isinstance(shown, str):
            out.append(shown)
    elif kind in ("inlineCard", "blockCard") and isinstance(attrs, Mapping) \
            and isinstance(attrs.get("url"), str):
        out.append(attrs["url"])
    content = node.get("content")
    if isinstance(content, list):
        for child in content:
            if isinstance(child, Mapping):
                _flatten(child, out, depth + 1, key)
    if kind in _BLOCKS and out and not out[-1].endswith("\n"):
        out.append("\n")

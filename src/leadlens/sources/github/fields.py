"""Typed readers of GitHub API object fields: a value of the wrong type is a MappingError that says
which field and what it held, never a crash or a row the store cannot hold (JSON gives any type)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

# The readers every source shares, from the source contract (re-exported: the mapping imports them
# from here).
from leadlens.sources.base import MappingError, need, nested, raw_json, time_offset, utf8, wrong

__all__ = [
    "INT64", "MappingError", "as_int", "flag", "integer", "labels", "login", "need", "need_flag",
    "need_text", "need_time", "nested", "opt_integer", "raw_json", "text", "time", "url_in", "utf8",
    "wrong",
]


# Every integer column is a BIGINT.
INT64 = range(-(2**63), 2**63)


def as_int(value: object, key: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise wrong(key, "an integer", value)
    if value not in INT64:
        raise wrong(key, "a 64-bit integer", value)
    return value


def integer(obj: Mapping[str, Any], key: str) -> int:
    return as_int(need(obj, key), key)


def opt_integer(obj: Mapping[str, Any], key: str) -> int | None:
    value = obj.get(key)
    return None if value is None else as_int(value, key)


def text(obj: Mapping[str, Any], key: str, label: str | None = None) -> str | None:
    value = obj.get(key)
    if value is None or isinstance(value, str):
        return value
    raise wrong(label or key, "a string", value)


def need_text(obj: Mapping[str, Any], key: str) -> str:
    value = need(obj, key)
    if not isinstance(value, str):
        raise wrong(key, "a string", value)
    return value


def flag(obj: Mapping[str, Any], key: str) -> bool | None:
    value = obj.get(key)
    if value is None or isinstance(value, bool):
        return value
    raise wrong(key, "true or false", value)


def need_flag(obj: Mapping[str, Any], key: str) -> bool:
    value = flag(obj, key)
    if value is None:
        raise MappingError(f"missing field {key!r}")
    return value


def time(value: object, key: str) -> datetime | None:
    found = time_offset(value, key)
    return found[0] if found else None


def need_time(obj: Mapping[str, Any], key: str) -> datetime:
    at = time(need(obj, key), key)
    assert at is not None
    return at


def login(obj: Mapping[str, Any], key: str) -> str | None:
    """The login of the account in ``obj[key]`` (None for a deleted account)."""
    return text(nested(obj, key), "login", f"{key}.login")


def labels(obj: Mapping[str, Any]) -> list[str]:
    labels = obj.get("labels")
    if labels is None:
        return []
    if not isinstance(labels, list):
        raise wrong("labels", "a list", labels)
    return [label["name"] for label in labels if isinstance(label, dict)
            and isinstance(label.get("name"), str)]


def url_in(obj: Mapping[str, Any], key: str) -> str | None:
    return text(obj, key)

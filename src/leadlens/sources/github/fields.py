"""Typed readers of GitHub API object fields: a value of the wrong type is a MappingError that says
which field and what it held, never a crash or a row the store cannot hold (JSON gives any type)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

__all__ = [
    "INT64", "MappingError", "as_int", "flag", "integer", "labels", "login", "need", "need_flag",
    "need_text", "need_time", "nested", "opt_integer", "raw_json", "text", "time", "url_in", "utf8",
    "wrong",
]


class MappingError(ValueError):
    """An object lacks a field the mapping needs, or has one of the wrong type."""


# Every integer column is a BIGINT.
INT64 = range(-(2**63), 2**63)


def shown(value: object) -> str:
    """A wrong value as a reason shows it: short, whatever it holds."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def wrong(key: str, what: str, value: object) -> MappingError:
    return MappingError(f"field {key!r} is not {what}: {shown(value)}")


def need(obj: Mapping[str, Any], key: str) -> Any:
    value = obj.get(key)
    if value is None:
        raise MappingError(f"missing field {key!r}")
    return value


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


def nested(obj: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    """A nested object (``base``, ``head``, ``commit``); empty when absent."""
    value = obj.get(key)
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise wrong(key, "an object", value)
    return value


def time(value: object, key: str) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise wrong(key, "a time", value)
    try:
        at = datetime.fromisoformat(value)
        return at.astimezone(UTC) if at.tzinfo else at.replace(tzinfo=UTC)
    except (ValueError, OverflowError):  # OverflowError: year 9999 west of UTC, say
        raise wrong(key, "a time", value) from None


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


def raw_json(obj: object) -> str | None:
    """``obj`` as the JSON the ``raw`` columns keep (characters as they are, not escaped, so that a
    lone surrogate can be replaced); None if it is nested too deeply to write."""
    try:
        return utf8(json.dumps(obj, separators=(",", ":"), ensure_ascii=False))
    except RecursionError:
        return None


def utf8(text: str) -> str:
    """``text`` with lone surrogates (a ``\\ud800`` escape in JSON: not UTF-8, which the store
    refuses) replaced by U+FFFD, as undecodable bytes are."""
    if text.isascii():
        return text
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        # Through UTF-16, where a lone surrogate is one bad unit: one U+FFFD, not three.
        return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
    return text

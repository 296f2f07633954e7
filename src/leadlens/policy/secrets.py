"""Secrets in added lines, found by Yelp's detect-secrets (its plugins and false-positive filters)."""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from leadlens.policy.model import FileChange

__all__ = ["find_secrets"]


@cache
def _configure() -> None:
    """Every default plugin and the default filters (what ``default_settings()`` sets), once per
    process: setting them up costs more than scanning a small change (1.3 ms)."""
    from detect_secrets.core.plugins.util import get_mapping_from_secret_type_to_class
    from detect_secrets.settings import cache_bust, configure_settings_from_baseline

    cache_bust()
    plugins: list[type] = list(get_mapping_from_secret_type_to_class().values())
    configure_settings_from_baseline({"plugins_used": [{"name": p.__name__} for p in plugins]})


def find_secrets(files: Iterable[FileChange]) -> list[tuple[str, int, str]]:
    """(path, line, kind) of every added line detect-secrets flags, in file and line order.

    The lines go through the function ``detect_secrets.core.scan.scan_diff`` runs on each file of
    a diff (it needs the ``unidiff`` package only to read the diff text, which we already have
    as lines): every default plugin, and the default filters for lines, secrets and context.

    detect-secrets (and the ``requests`` it imports, ~0.05-0.1 s) loads on the first added line:
    a policy without ``no-secrets``, or a change that adds no line, never loads it.
    """
    found: list[tuple[str, int, str]] = []
    for f in files:
        if not f.added_lines:
            continue
        _configure()
        from leadlens.policy.secret_lines import scan

        seen: set[tuple[int, str]] = set()
        for secret in scan(list(f.added_lines), f.path):  # the lines a plugin could flag
            key = (int(secret.line_number), str(secret.type))
            if key not in seen:
                seen.add(key)
                found.append((f.path, *key))
    return sorted(found)

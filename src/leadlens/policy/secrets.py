"""Secrets in added lines, found by Yelp's detect-secrets (its plugins and false-positive filters)."""

from __future__ import annotations

from collections.abc import Iterable

from detect_secrets.core.scan import _process_line_based_plugins
from detect_secrets.settings import default_settings

from leadlens.policy.model import FileChange

__all__ = ["find_secrets"]


def find_secrets(files: Iterable[FileChange]) -> list[tuple[str, int, str]]:
    """(path, line, kind) of every added line detect-secrets flags, in file and line order.

    The lines go through the function ``detect_secrets.core.scan.scan_diff`` runs on each file of
    a diff (it needs the ``unidiff`` package only to read the diff text, which we already have
    as lines): every default plugin, and the default filters for lines, secrets and context.
    """
    found: list[tuple[str, int, str]] = []
    with default_settings():
        for f in files:
            lines = [(number, text) for number, text in f.added_lines or ()]
            seen: set[tuple[int, str]] = set()
            for secret in _process_line_based_plugins(lines, filename=f.path):
                key = (int(secret.line_number), str(secret.type))
                if key not in seen:
                    seen.add(key)
                    found.append((f.path, *key))
    return sorted(found)

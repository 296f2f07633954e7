"""``--record DIR``: what a live run read, in the replay format (``{"url", "input", "data"}`` a
line of ``DIR/*.jsonl``), so that ``--from-dir DIR`` stores the same rows offline.

REST answers are recorded an object a line (the items of a list page each under the page's URL,
as GitHub's own recordings are); GraphQL answers a query a line, its ``data`` whole, with the
query, its variables and the repository as ``input`` (``replay.py`` maps them with
``gql_replay.py``).
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from leadlens.errors import UserError

__all__ = ["Recording"]

_WRAPPED = ("check_runs", "workflow_runs", "jobs")


class Recording:
    """A recording file, opened for the run (``DIR`` is made if it is missing)."""

    def __init__(self, directory: Path, repo: str) -> None:
        try:
            directory.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise UserError(f"--record {directory}: cannot make it ({exc.strerror})") from None
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
        name = re.sub(r"[^A-Za-z0-9_.-]", "_", repo)
        self.path = directory / f"github-{name}-{stamp}.jsonl"
        try:
            self._fh: IO[str] = self.path.open("x", encoding="utf-8")
        except OSError as exc:
            raise UserError(f"--record {directory}: cannot write {self.path.name}"
                            f" ({exc.strerror})") from None
        self.lines = 0

    def __call__(self, url: str, given: Any, data: Any) -> None:
        if isinstance(given, dict) and "query" in given:
            self._line(url, given, data)
            return
        items: Any = data
        if isinstance(data, dict):
            wrapped = [k for k in _WRAPPED if isinstance(data.get(k), list)]
            items = data[wrapped[0]] if wrapped else [data]
        if isinstance(items, list):
            for item in items:
                self._line(url, given, item)

    def _line(self, url: str, given: Any, data: Any) -> None:
        self._fh.write(json.dumps({"url": url, "input": given, "data": data},
                                  ensure_ascii=False, separators=(",", ":")) + "\n")
        self.lines += 1

    def close(self) -> None:
        self._fh.close()

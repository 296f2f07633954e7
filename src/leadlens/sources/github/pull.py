"""One pull request as ``leadlens gate --github OWNER/REPO#N`` reads it: the PR, its files (with
the added lines of each ``patch``), commits, reviews, the check runs of its head commit and the
CODEOWNERS of its base branch. Plain data out (sources never import the policy); what the token
may not read is None with a note, never an empty list that would read as "none"."""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import quote

from leadlens.attribution import read_message
from leadlens.errors import FatalSourceError, UserError
from leadlens.sources.github.client import GitHubAPI, NotFoundError
from leadlens.sources.github.source import check_repo_name

__all__ = ["CODEOWNERS_PATHS", "PullFile", "PullRequestData", "PullReview", "fetch_pull",
           "fetch_text", "parse_target", "patch_added_lines"]

CODEOWNERS_PATHS = (".github/CODEOWNERS", "CODEOWNERS", "docs/CODEOWNERS")  # GitHub's order
PER_PAGE = 100
_TARGET = re.compile(r"^([A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+)#([0-9]{1,9})$")
_HUNK = re.compile(r"^@@ -\d+(?:,\d+)? \+(\d+)(?:,\d+)? @@")


@dataclass(frozen=True, slots=True)
class PullFile:
    path: str
    status: str  # A, M, D, R (GitHub's added/modified/removed/renamed as git's letters)
    old_path: str | None
    added: int | None
    deleted: int | None
    added_lines: tuple[tuple[int, str], ...] | None  # None: GitHub sent no patch (binary, large)


@dataclass(frozen=True, slots=True)
class PullReview:
    reviewer: str
    state: str  # APPROVED, CHANGES_REQUESTED, COMMENTED, DISMISSED
    at: datetime | None
    commit_id: str | None
    is_bot: bool


@dataclass(frozen=True, slots=True)
class PullCommit:
    sha: str
    author: str  # Name <email> from the commit
    committer: str
    committed_at: datetime | None
    message: str
    trailers: tuple[tuple[str, str], ...]


@dataclass
class PullRequestData:
    repo: str
    number: int
    author: str | None
    head_sha: str
    base_ref: str
    head_ref: str
    body: str
    labels: tuple[str, ...]
    merged_at: datetime | None
    files: list[PullFile] = field(default_factory=list)
    commits: list[PullCommit] = field(default_factory=list)
    reviews: list[PullReview] = field(default_factory=list)
    checks: list[tuple[str, str | None]] | None = None  # (name, conclusion); None: unknown
    codeowners_path: str | None = None
    codeowners: str | None = None
    notes: list[str] = field(default_factory=list)  # what could not be read, and why


def parse_target(text: str) -> tuple[str, int]:
    """``OWNER/REPO#N`` -> (repo, N); a one-line error otherwise."""
    m = _TARGET.match(text.strip())
    if not m or any(part in (".", "..") for part in m.group(1).split("/")):
        raise UserError(f"--github {text!r}: use OWNER/REPO#NUMBER (e.g. octo/app#42)")
    return check_repo_name(m.group(1)), int(m.group(2))


def fetch_pull(api: GitHubAPI, repo: str, number: int) -> PullRequestData:
    """Every fact the gate reads about pull request ``number`` of ``repo``."""
    base = f"repos/{repo}"
    try:
        pr = api.get(f"{base}/pulls/{number}").data
    except NotFoundError:
        raise UserError(f"pull request {repo}#{number} does not exist or is not visible to the"
                        f" token in {api.token_env}") from None
    if not isinstance(pr, dict):
        raise FatalSourceError(f"GitHub sent no pull request object for {repo}#{number}")
    head_sha = str(_get(pr, "head", "sha") or "")
    base_ref = str(_get(pr, "base", "ref") or "")
    data = PullRequestData(
        repo=repo, number=number, author=_str(_get(pr, "user", "login")), head_sha=head_sha,
        base_ref=base_ref, head_ref=str(_get(pr, "head", "ref") or ""),
        body=pr["body"] if isinstance(pr.get("body"), str) else "", merged_at=_time(pr.get("merged_at")),
        labels=tuple(str(lb["name"]) for lb in pr.get("labels") or ()
                     if isinstance(lb, dict) and isinstance(lb.get("name"), str)))
    data.files = [f for obj in _all(api, f"{base}/pulls/{number}/files") if (f := _file(obj))]
    data.commits = [c for obj in _all(api, f"{base}/pulls/{number}/commits") if (c := _commit(obj))]
    data.reviews = [r for obj in _all(api, f"{base}/pulls/{number}/reviews") if (r := _review(obj))]
    data.checks = _checks(api, base, head_sha, data.notes)
    data.codeowners_path, data.codeowners = _codeowners(api, base, base_ref, data.notes)
    return data


def _all(api: GitHubAPI, url: str, key: str | None = None) -> Iterator[Any]:
    for page in api.pages(url, {"per_page": PER_PAGE}):
        items = page.data.get(key) if key and isinstance(page.data, dict) else page.data
        if isinstance(items, list):
            yield from items


def _checks(api: GitHubAPI, base: str, sha: str, notes: list[str]
            ) -> list[tuple[str, str | None]] | None:
    if not sha:
        notes.append("the pull request names no head commit: its checks are unknown")
        return None
    try:
        runs = list(_all(api, f"{base}/commits/{sha}/check-runs", "check_runs"))
    except FatalSourceError as exc:  # 403/404: the token may not read checks
        notes.append(f"check runs unknown: {exc}")
        return None
    return [(str(r["name"]), _str(r.get("conclusion")) if r.get("status") == "completed" else None)
            for r in runs if isinstance(r, dict) and isinstance(r.get("name"), str)]


class _Unreadable(Exception):
    """A file the token may not read, or that came malformed (said in the notes)."""


def _codeowners(api: GitHubAPI, base: str, ref: str, notes: list[str]
                ) -> tuple[str, str] | tuple[None, None]:
    for path in CODEOWNERS_PATHS:
        try:
            text = _contents(api, base, path, ref)
        except _Unreadable as exc:
            notes.append(f"CODEOWNERS unknown: {exc}")
            return None, None
        if text is not None:
            return path, text
    return None, None


def fetch_text(api: GitHubAPI, repo: str, path: str, ref: str, notes: list[str]) -> str | None:
    """The text of ``path`` on branch ``ref`` (the contents API); None when there is none or it
    cannot be read (said in ``notes``)."""
    try:
        return _contents(api, f"repos/{repo}", path, ref)
    except _Unreadable as exc:
        notes.append(f"{path} unknown: {exc}")
        return None


def _contents(api: GitHubAPI, base: str, path: str, ref: str) -> str | None:
    try:
        obj = api.get(f"{base}/contents/{quote(path)}", {"ref": ref}).data
    except NotFoundError:
        return None
    except FatalSourceError as exc:
        raise _Unreadable(str(exc)) from None
    content = obj.get("content") if isinstance(obj, dict) else None
    if not isinstance(content, str) or obj.get("encoding") != "base64":
        raise _Unreadable(f"GitHub sent {path} without its content")
    try:
        return base64.b64decode(content).decode("utf-8", "replace")
    except (binascii.Error, ValueError):
        raise _Unreadable(f"{path} came malformed") from None


_STATUS = {"added": "A", "removed": "D", "renamed": "R", "copied": "C"}


def _file(obj: Any) -> PullFile | None:
    if not isinstance(obj, dict) or not isinstance(obj.get("filename"), str):
        return None
    patch = obj.get("patch")
    return PullFile(
        path=obj["filename"], status=_STATUS.get(str(obj.get("status")), "M"),
        old_path=_str(obj.get("previous_filename")),
        added=_int(obj.get("additions")), deleted=_int(obj.get("deletions")),
        added_lines=patch_added_lines(patch) if isinstance(patch, str) else None)


def _commit(obj: Any) -> PullCommit | None:
    if not isinstance(obj, dict) or not isinstance(obj.get("sha"), str):
        return None
    c: dict[str, Any] = obj["commit"] if isinstance(obj.get("commit"), dict) else {}
    message: str = c["message"] if isinstance(c.get("message"), str) else ""
    _, _, trailers = read_message(message)
    return PullCommit(obj["sha"], _person(c.get("author")), _person(c.get("committer")),
                      _time(_get(c, "committer", "date")), message.rstrip("\n"),
                      tuple((t.key, t.value) for t in trailers))


def _review(obj: Any) -> PullReview | None:
    login = _get(obj, "user", "login")
    if not isinstance(obj, dict) or not isinstance(login, str):
        return None
    return PullReview(login, str(obj.get("state") or ""), _time(obj.get("submitted_at")),
                      _str(obj.get("commit_id")), _get(obj, "user", "type") == "Bot")


def patch_added_lines(patch: str) -> tuple[tuple[int, str], ...]:
    """The added lines of GitHub's ``patch`` for one file: (line in the new file, text)."""
    out: list[tuple[int, str]] = []
    line_no, in_hunk = 0, False
    for line in patch.split("\n"):
        if line.startswith("@@"):
            m = _HUNK.match(line)
            in_hunk, line_no = m is not None, int(m.group(1)) if m else 0
        elif in_hunk and line.startswith("+"):
            out.append((line_no, line[1:].rstrip("\r")))
            line_no += 1
        elif in_hunk and line.startswith(" "):
            line_no += 1
    return tuple(out)


def _get(obj: Any, *keys: str) -> Any:
    for key in keys:
        obj = obj.get(key) if isinstance(obj, dict) else None
    return obj


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def _person(obj: Any) -> str:
    name, email = _get(obj, "name"), _get(obj, "email")
    return f"{name or ''} <{email or ''}>"


def _time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None

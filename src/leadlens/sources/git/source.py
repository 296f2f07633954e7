"""The git source's cursor: what a run must read, and the one transaction that completes a repo.

The cursor is the set of ref tips last ingested. A run reads ``rev-list <tips> --not <old tips>``
minus what the store already holds (so a killed run resumes without re-reading), and only after
every batch is stored does it replace the refs, mark commits that no ref reaches any more, and
move the cursor — all in one transaction.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime

import pyarrow as pa

from leadlens.errors import UserError
from leadlens.model import Tag
from leadlens.sources.git.client import GitRepo, RefRecord
from leadlens.sources.git.identity import repo_name
from leadlens.store.db import Store
from leadlens.store.queries import (
    missing_line_history,
    not_stored,
    parentless,
    stored_mainline,
    stored_shallow,
)
from leadlens.store.writer import GitRunEnd, finish_git_run, load_cursor

__all__ = ["RepoPlan", "finish", "plan_repo"]

SOURCE = "git"
RESOURCE = "refs"


@dataclass
class RepoPlan:
    """Everything one run will do for one repository."""

    git: GitRepo
    name: str
    remote_url: str | None
    default_branch: str | None
    head_sha: str | None
    head_detached: bool
    shallow_before: datetime | None  # where the mainline's first-parent history stops
    refs: list[RefRecord]
    tags: list[Tag]
    tips: dict[str, str]  # ref name -> commit it reaches (the new cursor)
    branch: str | None = None  # the mainline the user chose (--branch), kept for later runs
    shallow_commits: list[str] = field(default_factory=list)  # a shallow clone's boundary
    deepened: list[str] = field(default_factory=list)  # stored without parents: read again
    to_read: list[str] = field(default_factory=list)  # commits not stored yet
    reachable_again: list[str] = field(default_factory=list)
    unreachable: list[str] = field(default_factory=list)
    line_history: list[str] = field(default_factory=list)  # filled after the commits are read
    up_to_date: bool = False
    warnings: list[str] = field(default_factory=list)
    malformed_dates: int = 0  # commits this run stored with a null date


def _default_branch(git: GitRepo, branch: str | None, remembered: bool = False
                    ) -> tuple[str | None, str | None, bool]:
    """(mainline ref, HEAD sha, HEAD detached) per DESIGN.md's repository identity."""
    head = git.head_sha()
    head_ref = git.symbolic_ref("HEAD")
    if branch:
        resolved = git.resolve_branch(branch)
        if resolved is None:
            if remembered:
                raise UserError(f"{git.path}: branch {branch!r} (the mainline an earlier --branch"
                                " chose) does not exist; pass --branch NAME for another, or"
                                " --branch '' for the default")
            raise UserError(f"{git.path}: branch {branch!r} does not exist")
        return resolved, head, head_ref is None
    origin_head = git.symbolic_ref("refs/remotes/origin/HEAD")
    if origin_head and git.resolve_branch(origin_head):
        return origin_head, head, head_ref is None
    if head_ref:
        return head_ref, head, False
    return None, head, True


def _tags(git: GitRepo, refs: Sequence[RefRecord]) -> list[Tag]:
    tag_refs = [r for r in refs if r.name.startswith("refs/tags/")]
    nested = [r.name for r in tag_refs if r.object_type == "tag" and r.peeled_type == "tag"]
    peeled = git.peel(nested) if nested else {}
    out = []
    for r in tag_refs:
        annotated = r.object_type == "tag"
        if not annotated:
            target = r.sha if r.object_type == "commit" else None
        elif r.peeled_type == "commit":
            target = r.peeled_sha
        else:
            target = peeled.get(r.name)
        out.append(Tag(
            name=r.name.removeprefix("refs/tags/"),
            target_sha=target,
            tag_object_sha=r.sha if annotated else None,
            is_annotated=annotated,
            tagger_name=r.tagger_name,
            tagger_email=r.tagger_email,
            time=(r.tagger_time or r.commit_time) if annotated else r.commit_time,
            tz_offset_min=(r.tagger_tz if r.tagger_time else r.commit_tz) if annotated
            else r.commit_tz,
            message=r.message,
        ))
    return out


def _shallow(plan: RepoPlan, mainline_tip: str | None) -> None:
    """A shallow clone's boundary, and the date the mainline's history stops at: where its
    first-parent chain reaches the boundary (another branch's boundary says nothing about it)."""
    git = plan.git
    plan.shallow_commits = sorted(git.shallow_boundary())
    root = git.first_parent_root(mainline_tip) if mainline_tip else None
    if root is not None and root in set(plan.shallow_commits):
        plan.shallow_before = next(iter(git.committer_times([root])), None)
    where = (f"the mainline's history before {plan.shallow_before:%Y-%m-%d} is missing"
             if plan.shallow_before else "history is missing")
    plan.warnings.append(
        f"{plan.name}: shallow clone: {where}; changes whose commits reach the clone's boundary are"
        " left out of the figures (run `git fetch --unshallow` for the full history)")


def _boundary_moved(store: Store, repo: str, cursor: object, shallow: list[str]) -> bool:
    """The shallow boundary differs from the one last ingested (a cursor written before the
    boundary was kept in it: unknown, so moved when the repository was shallow)."""
    old = cursor.get("shallow") if isinstance(cursor, dict) else None
    if not isinstance(old, list):
        old = None if isinstance(cursor, dict) and stored_shallow(store, repo) else []
    return old != shallow


def plan_repo(
    store: Store,
    git: GitRepo,
    *,
    name: str | None,
    branch: str | None,
    known_hosts: Collection[str],
    line_history: bool,
) -> RepoPlan:
    remote_url = git.config("remote.origin.url")
    repo = name or repo_name(remote_url, git.path, git.is_bare, known_hosts)
    cursor = load_cursor(store.con, repo, SOURCE, RESOURCE)
    # A --branch holds for later runs (a report over the PATH passes none); --branch "" drops it.
    kept = cursor.get("branch") if isinstance(cursor, dict) else None
    remembered = branch is None and isinstance(kept, str)
    branch = (kept if remembered else branch) or None
    refs = git.refs()
    default_branch, head_sha, detached = _default_branch(git, branch, remembered)
    tags = _tags(git, refs)
    tips: dict[str, str] = {}
    for r in refs:
        if r.object_type == "commit":
            tips[r.name] = r.sha
    for t in tags:
        if t.target_sha:
            tips[f"refs/tags/{t.name}"] = t.target_sha
    if detached and head_sha:
        tips["HEAD"] = head_sha
    plan = RepoPlan(
        git=git, name=repo, remote_url=remote_url, default_branch=default_branch,
        head_sha=head_sha, head_detached=detached, shallow_before=None, refs=refs, tags=tags,
        tips=tips, branch=branch,
    )
    if not refs and not head_sha:
        plan.warnings.append(f"{repo}: empty repository (no commits yet); nothing to ingest")
    if detached:
        where = f" at {head_sha[:12]}" if head_sha else ""
        if branch:
            plan.warnings.append(f"{repo}: HEAD is detached{where}; using --branch {branch}")
        else:
            plan.warnings.append(
                f"{repo}: HEAD is detached{where} and origin/HEAD is not set, so the default "
                "branch is unknown; pass --branch to name the mainline"
            )
    if git.is_shallow:
        _shallow(plan, tips.get(default_branch) if default_branch else head_sha)

    old_tips: dict[str, str] = {}
    if isinstance(cursor, dict) and isinstance(cursor.get("tips"), dict):
        old_tips = {str(k): str(v) for k, v in cursor["tips"].items()}
    # Another mainline (--branch, HEAD moved) with the same tips is a run with nothing to read
    # that stores the new mainline; the derive step follows it. Fetching more history
    # (`git fetch --unshallow`, `--deepen`) moves the boundary, not the tips.
    deepened = _boundary_moved(store, repo, cursor, plan.shallow_commits)
    unchanged = isinstance(cursor, dict) and old_tips == tips and not deepened \
        and cursor.get("branch") == branch and stored_mainline(store, repo) == default_branch
    if not unchanged:
        new_tip_shas = sorted(set(tips.values()))
        old_tip_shas = [] if deepened else sorted(set(old_tips.values()))
        candidates = git.rev_list(new_tip_shas, old_tip_shas)
        if deepened:
            # git showed the old boundary commits without parents, and diffed them against
            # nothing: stored so, they are forgotten (ingest) and read again.
            keep = set(plan.shallow_commits)
            plan.deepened = [sha for sha in parentless(store, repo) if sha not in keep]
        plan.to_read = not_stored(store, repo, candidates) + plan.deepened
        plan.reachable_again = candidates
        gone = sorted(set(old_tips.values()) - set(tips.values()))
        if gone:
            plan.unreachable = git.rev_list(gone, new_tip_shas)
            lost = set(plan.unreachable)
            rewritten = [n for n, sha in old_tips.items()
                         if tips.get(n) not in (None, sha) and sha in lost]
            if rewritten:
                plan.warnings.append(
                    f"{repo}: history was rewritten on {', '.join(sorted(rewritten)[:5])}"
                    f"{' ...' if len(rewritten) > 5 else ''}; "
                    f"{len(plan.unreachable)} commits no longer reachable from any ref are "
                    "kept but marked unreachable"
                )
    # The list itself is read after this run's commits are stored (they need line history too).
    plan.up_to_date = unchanged and not (line_history and missing_line_history(store, repo))
    return plan


def finish(store: Store, plan: RepoPlan, run_id: int, now: datetime) -> int:
    """Replace refs and tags, mark reachability, move the cursor: one transaction."""
    refs = pa.table({
        "repo": [plan.name] * len(plan.refs),
        "name": [r.name for r in plan.refs],
        "sha": [r.sha for r in plan.refs],
        "object_type": [r.object_type for r in plan.refs],
    }, schema=pa.schema([("repo", pa.string()), ("name", pa.string()), ("sha", pa.string()),
                         ("object_type", pa.string())]))
    t = plan.tags
    tags = pa.table({
        "repo": pa.array([plan.name] * len(t), pa.string()),
        "name": pa.array([x.name for x in t], pa.string()),
        "target_sha": pa.array([x.target_sha for x in t], pa.string()),
        "tag_object_sha": pa.array([x.tag_object_sha for x in t], pa.string()),
        "is_annotated": pa.array([x.is_annotated for x in t], pa.bool_()),
        "tagger_name": pa.array([x.tagger_name for x in t], pa.string()),
        "tagger_email": pa.array([x.tagger_email for x in t], pa.string()),
        "tag_time": pa.array([x.time for x in t], pa.timestamp("us", tz="UTC")),
        "tag_tz_offset_min": pa.array([x.tz_offset_min for x in t], pa.int16()),
        "message": pa.array([x.message for x in t], pa.string()),
    })
    row = {"path": str(plan.git.path), "remote_url": plan.remote_url,
           "default_branch": plan.default_branch, "head_sha": plan.head_sha,
           "head_detached": plan.head_detached, "is_bare": plan.git.is_bare,
           "is_shallow": plan.git.is_shallow, "shallow_before": plan.shallow_before,
           "shallow_commits": plan.shallow_commits}
    cursor: dict[str, object] = {"tips": plan.tips}
    if plan.branch:
        cursor["branch"] = plan.branch
    if plan.shallow_commits:
        cursor["shallow"] = plan.shallow_commits
    end = GitRunEnd(repo=plan.name, refs=refs, tags=tags, reachable_again=plan.reachable_again,
                    unreachable=plan.unreachable, repo_row=row, cursor=cursor,
                    source=SOURCE, resource=RESOURCE)
    return finish_git_run(store.con, end, run_id, now)

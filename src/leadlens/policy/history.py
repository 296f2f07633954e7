"""The facts of every change in the store (`leadlens audit`): what the rules read, set-wise.

One query per family of facts over the whole scope (files, commits, reviews, checks, pull
requests), grouped per change in Python: never one query per change. What the store cannot say is
None, and a rule that needs it says "unknown" (docs/audit.md, What the store cannot say):

- added lines' text: the store keeps line counts, not lines (``FileChange.added_lines`` None);
- approvals: None for a change with neither pull-request data nor review trailers;
- checks: None when the repository has no CI data (no builds at all);
- labels: None without the change's pull request;
- CODEOWNERS: not stored; the text of ``--codeowners FILE`` applies to every change when given.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import ibis
import ibis.expr.types as ir
import pyarrow as pa

from leadlens.attribution import Rules
from leadlens.conventions import BotRule
from leadlens.metrics import flow as fm
from leadlens.metrics.ai import ai_commits, change_ai, pr_ai
from leadlens.policy.model import Approval, ChangeFacts, Check, CommitFacts, FileChange

__all__ = ["History", "history"]


@dataclass
class History:
    """The scope's changes, in merge order, and the flow they were read through (for outcomes)."""

    changes: list[ChangeFacts]
    flow: fm.Flow
    repos_with_builds: frozenset[str]
    repos_with_prs: frozenset[str]


def _table(backend: ibis.BaseBackend, expr: ir.Table) -> list[dict[str, Any]]:
    """``expr``'s rows as dicts, built column by column (pyarrow's row-wise ``to_pylist`` is
    several times slower on a million rows)."""
    t = backend.to_pyarrow(expr)
    names = t.column_names
    return [dict(zip(names, values, strict=True))
            for values in zip(*(_values(t.column(n)) for n in names), strict=True)]


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _values(column: pa.ChunkedArray) -> list[Any]:
    """A column as Python values; times in UTC, converted from microseconds here (pyarrow's own
    conversion looks the time zone up per value: 4 s on half a million commits)."""
    if pa.types.is_timestamp(column.type):
        micros = column.cast(pa.timestamp("us", tz="UTC")).cast(pa.int64()).to_pylist()
        return [None if us is None else _EPOCH + timedelta(microseconds=us) for us in micros]
    values: list[Any] = column.to_pylist()
    return values


def _grouped(found: list[dict[str, Any]]) -> dict[int, list[dict[str, Any]]]:
    out: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for r in found:
        out[r["cid"]].append(r)
    return out


def history(backend: ibis.BaseBackend, filters: fm.Filters, rules: Rules,
            codeowners: str | None = None, codeowners_path: str | None = None) -> History:
    """Every change merged in ``filters``' window, with the facts the rules read. The caller
    releases ``History.flow`` when done with the outcomes."""
    fl = fm.flow(backend, filters)
    try:
        return _history(backend, fl, filters, rules, codeowners, codeowners_path)
    except BaseException:
        fl.release()
        raise


def _history(backend: ibis.BaseBackend, fl: fm.Flow, f: fm.Filters, rules: Rules,
             codeowners: str | None, codeowners_path: str | None) -> History:
    s = fl.scope
    scope = _table(backend, s.select("cid", "repo", "id", "number", "author", "merge_sha",
                                     "merged_at", n_commits=s.commits).order_by("cid"))
    keys = s.select("cid", "repo", "merge_sha", n_commits=s.commits, change_id=s.id)
    cc = backend.table("change_commits").select("repo", "change_id", "sha", "committer_time")
    mine = cc.join(keys, ["repo", "change_id"])
    files = _files(backend, mine)
    ai_table = ai_commits(backend, rules, f.repos)
    commits, trailer_reviews = _commits(backend, mine, rules, f, ai_table)
    ai = change_ai(backend, fl, fl.upload(ai_table),
                   fl.upload(pr_ai(backend, rules, f.repos)))
    ai_cids = {r["cid"] for r in _table(backend, ai.select("cid"))}
    prs, pr_repos = _pulls(backend, s)
    # Git's guess at the last push, when the forge lists no commits: the newest work commit (the
    # landing merge is made at merge time). A pull request's single commit is its squash, made on
    # merge: it says nothing (unknown).
    work = mine.filter((mine.sha != mine.merge_sha) | (mine.n_commits == 1))
    pushed = {r["cid"]: r["at"] for r in _table(backend, work.group_by("cid").aggregate(
        at=work.committer_time.max(), single=(work.n_commits.max() == 1)))
        if not (r["single"] and r["cid"] in prs)}
    approvals = _reviews(backend, s)
    build_repos = frozenset(r["repo"] for r in _table(
        backend, backend.table("builds").select("repo").distinct()))
    checks = _checks(backend, fl, build_repos)
    out = []
    who = _Who(f.bots)
    for c in scope:
        cid, pr = c["cid"], prs.get(c["cid"])
        last_push = pr["last_push"] if pr and pr["last_push"] else pushed.get(cid)
        out.append(ChangeFacts(
            id=c["id"], repo=c["repo"], author=c["author"],
            files=files.get(cid, ()), commits=commits.get(cid, ()),
            approvals=_approvals(approvals.get(cid), trailer_reviews.get(cid), pr, last_push,
                                 who),
            checks=checks.get(cid, ()) if c["repo"] in build_repos else None,
            labels=tuple(pr["labels"] or ()) if pr else None,
            ai_assisted=cid in ai_cids, merged_at=c["merged_at"], last_push_at=last_push,
            codeowners=codeowners, codeowners_path=codeowners_path))
    return History(out, fl, build_repos, pr_repos)


def _columns(backend: ibis.BaseBackend, expr: ir.Table) -> list[list[Any]]:
    """``expr``'s columns as Python lists, in its order (for the families with a million rows:
    no dict per row)."""
    t = backend.to_pyarrow(expr)
    return [_values(t.column(n)) for n in t.column_names]


def _files(backend: ibis.BaseBackend, mine: ir.Table) -> dict[int, tuple[FileChange, ...]]:
    """Per change, the paths of its work commits (the landing merge only when it is alone, as
    the AI line share counts them), lines summed over its commits (None for a binary file)."""
    work = mine.filter((mine.sha != mine.merge_sha) | (mine.n_commits == 1))
    cf = backend.table("commit_files")
    j = work.join(cf, ["repo", "sha"])
    per = j.group_by(["cid", "path"]).aggregate(
        added=ibis.ifelse(j.is_binary.any(), ibis.null("int64"), j.added.sum().cast("int64")),
        deleted=ibis.ifelse(j.is_binary.any(), ibis.null("int64"), j.deleted.sum().cast("int64")),
        old_path=j.old_path.max())
    out: dict[int, list[FileChange]] = defaultdict(list)
    for cid, path, added, deleted, old in zip(*_columns(backend, per.order_by(["cid", "path"])),
                                              strict=True):
        out[cid].append(FileChange(path, added, deleted, "R" if old else "M", old))
    return {cid: tuple(fs) for cid, fs in out.items()}


def _commits(backend: ibis.BaseBackend, mine: ir.Table, rules: Rules, f: fm.Filters,
             ai_table: pa.Table) -> tuple[dict[int, tuple[CommitFacts, ...]], dict[int, list[Approval]]]:
    """Per change, its commits (author as ``name <email>``, the message as git wrote it: subject,
    blank line, body), and the approvals its review trailers give."""
    c = backend.table("commits")
    commits = c.select(
        "repo", "sha", "trailers", "review_evidence", "committer_time",
        author=c.author_name.fill_null("") + " <" + c.author_email.fill_null("") + ">",
        message=ibis.ifelse(c.body.fill_null("") == "", c.subject.fill_null(""),
                            c.subject.fill_null("") + "\n\n" + c.body))
    j = mine.select("cid", "repo", "sha").join(commits, ["repo", "sha"])
    j = j.select("cid", "repo", "sha", "author", "message", "trailers", "review_evidence",
                 "committer_time").order_by(["cid", "committer_time", "sha"])
    ai = {(r["repo"], r["sha"]): r["evidence"] for r in ai_table.to_pylist()}
    out: dict[int, list[CommitFacts]] = defaultdict(list)
    reviews: dict[int, list[Approval]] = {}
    for cid, repo, sha, author, message, trailers, evidence_of_review, at in zip(
            *_columns(backend, j), strict=True):
        evidence = ai.get((repo, sha)) if ai else None
        out[cid].append(CommitFacts(
            sha, author, message, tuple((t["key"], t["value"]) for t in trailers) if trailers else (),
            evidence is not None,
            rules.tool_of((e["rule"], e["tool"]) for e in evidence) if evidence else None, at))
        for e in evidence_of_review or ():
            if e["person"]:
                reviews.setdefault(cid, []).append(Approval(
                    reviewer=e["person"], at=None, after_last_push=None,
                    is_bot=f.bots.matches(e["person"]), is_ai=f.bots.is_ai_reviewer(e["person"])))
    return {cid: tuple(cs) for cid, cs in out.items()}, reviews


def _pulls(backend: ibis.BaseBackend, s: ir.Table) -> tuple[dict[int, dict[str, Any]], frozenset[str]]:
    """Per change with a pull request: labels, head sha and the last push (its commits' newest
    committer time as the forge lists them)."""
    pr = backend.table("pull_requests")
    repos = frozenset(r["repo"] for r in _table(backend, pr.select("repo").distinct()))
    j = s.select("cid", "repo", "number").join(pr.select("repo", "number", "labels", "head_sha"),
                                                ["repo", "number"])
    pc = backend.table("pr_commits")
    last = pc.group_by(["repo", "number"]).aggregate(last_push=pc.committer_time.max())
    j = j.left_join(last, ["repo", "number"]).select(
        "cid", "labels", "head_sha", last_push=last.last_push)
    return {r["cid"]: r for r in _table(backend, j)}, repos


def _reviews(backend: ibis.BaseBackend, s: ir.Table) -> dict[int, list[dict[str, Any]]]:
    rv = backend.table("reviews")
    rv = rv.filter((rv.state == "APPROVED") & rv.reviewer.notnull())
    j = s.select("cid", "repo", "number").join(
        rv.select("repo", "number", "reviewer", "reviewer_is_bot", "submitted_at"), ["repo", "number"])
    return _grouped(_table(backend, j.select("cid", "reviewer", "reviewer_is_bot", "submitted_at")
                           .order_by(["cid", "submitted_at", "reviewer"])))


class _Who:
    """Whether a reviewer is a bot or an AI reviewer, matched once per name (RE2 patterns)."""

    def __init__(self, bots: BotRule) -> None:
        self.bots = bots
        self.seen: dict[str, tuple[bool, bool]] = {}

    def __call__(self, name: str) -> tuple[bool, bool]:
        if name not in self.seen:
            self.seen[name] = (self.bots.matches(name), self.bots.is_ai_reviewer(name))
        return self.seen[name]


def _approvals(reviews: list[dict[str, Any]] | None, trailers: list[Approval] | None,
               pr: dict[str, Any] | None, last_push: datetime | None, who: _Who
               ) -> tuple[Approval, ...] | None:
    """The change's approvals: its pull request's approving reviews (after the last push when
    submitted at or after its newest commit) and its commits' review trailers. None when neither
    a pull request nor a trailer says anything."""
    if pr is None and not trailers:
        return None
    found = [Approval(
        reviewer=r["reviewer"], at=r["submitted_at"],
        after_last_push=(None if r["submitted_at"] is None or last_push is None
                         else r["submitted_at"] >= last_push),
        is_bot=bool(r["reviewer_is_bot"]) or who(r["reviewer"])[0],
        is_ai=who(r["reviewer"])[1]) for r in reviews or ()]
    return (*found, *(trailers or ()))



def _checks(backend: ibis.BaseBackend, fl: fm.Flow, repos: frozenset[str]
            ) -> dict[int, tuple[Check, ...]]:
    """Per change of a repository with CI data: the check runs on its head commit (the pull
    request's head, else the landing commit), the latest run per name."""
    if not repos:
        return {}
    s = fl.scope
    pr = backend.table("pull_requests").select("repo", "number", pr_head="head_sha")
    j = s.select("cid", "repo", "number", "merge_sha").left_join(pr, ["repo", "number"])
    # Materialised: Ibis 12 will not join a join's derived column again.
    heads = fl.cache(j.select("cid", "repo", head_commit=j.pr_head.fill_null(j.merge_sha)))
    b = backend.table("builds")
    b = b.filter((b.kind == "check_run") & b.name.notnull()).select(
        "id", "name", "conclusion", run_repo="repo", run_head="head_sha")
    hit = heads.join(b, (heads.repo == b.run_repo) & (heads.head_commit == b.run_head))
    latest = hit.group_by(["cid", "name"]).aggregate(conclusion=hit.conclusion.argmax(hit.id))
    found = _grouped(_table(backend, latest.order_by(["cid", "name"])))
    return {cid: tuple(Check(r["name"], r["conclusion"]) for r in rs) for cid, rs in found.items()}

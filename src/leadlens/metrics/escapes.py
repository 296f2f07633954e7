"""Defect escapes: bug reports that link back to a change released before they were reported
(docs/metrics-coordination.md, Defect escapes).

A bug is a work item of a Jira issue type in ``bug_issue_types`` or a GitHub issue with a label in
``bug_labels`` (both case-insensitive). Its fix is a change linked to it (``item_links``: a
closing reference such as ``Fixes #N``, its key in a commit, a development link). It links back to
the change that introduced it by one of four routes (``how``):

- ``caused_by``: the bug's text names it — ``Caused by #N`` (a GitHub issue: pull request N of
  its repository) or ``Caused by <sha>`` (7 to 40 hex digits: the change that holds the commit),
  the convention DORA's incidents follow (metrics/dora.py);
- ``issue_link``: a Jira bug "is caused by" another issue (or that issue "causes" it): the
  changes linked to that issue;
- ``fixes_trailer``: a commit of its fix carries a ``Fixes: <sha>`` trailer (the Linux kernel's
  convention), naming a commit of the introducing change in the fix's repository;
- ``szz``: the SZZ approach — the old lines the fix's commits rewrote or deleted were written by
  which change (``rewritten_lines``, needs ``--line-history``); the fix itself is left out.

It escaped when that change reached its end milestone (``released``; ``merged`` in a repository
with no release signal at all, as lead time ends) before the bug was reported (``created_at``).
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from leadlens.attribution import Rules
from leadlens.config import Settings
from leadlens.metrics import flow as fm
from leadlens.metrics.ai import ai_commits, change_ai, change_ai_key, pr_ai
from leadlens.timeline import seconds_between

__all__ = ["CAUSED_BY_PR", "CAUSED_BY_SHA", "FIXES_SHA", "bug_links", "bugs",
           "change_cohorts", "escape_change_flags", "escapes", "has_line_history", "scope_ai"]

CAUSED_BY_PR = r"(?i)caused by:?\s+#(\d+)"
CAUSED_BY_SHA = r"(?i)caused by:?\s+([0-9a-f]{7,40})\b"
FIXES_SHA = r"^([0-9a-fA-F]{7,40})\b"


def bugs(backend: ibis.BaseBackend, settings: Settings, include_bots: bool = False) -> ir.Table:
    """``item_id``, ``native_id``, ``source``, ``repo`` (a GitHub issue's; NULL for Jira),
    ``created_at`` and ``text`` (description or body) of every bug report; bots' left out unless
    ``include_bots``."""
    co = settings.coordination
    types = [t.lower() for t in co.bug_issue_types]
    labels = [label.lower() for label in co.bug_labels]
    wi = backend.table("work_items")
    if not include_bots:
        wi = wi.filter(~wi.bot)
    parts = []
    if types:
        jira = wi.filter((wi.source == "jira") & wi.type.lower().isin(types))
        ji = backend.table("jira_issues").select(native_id="id", text="description")
        jira = jira.left_join(ji, "native_id")
        parts.append(jira.select(item_id=jira.id, native_id=jira.native_id, source=jira.source,
                                 repo=ibis.null("string"), created_at=jira.created_at,
                                 text=jira.text))
    if labels:
        gi = backend.table("issues")
        lab = gi.select("repo", "number", label=gi.labels.unnest())
        lab = lab.filter(lab.label.lower().isin(labels)).select("repo", "number").distinct()
        gi = gi.semi_join(lab, ["repo", "number"])
        gi = gi.select("repo", "body", native_id=gi.repo + "#" + gi.number.cast("string"))
        gh = wi.filter(wi.source == "github").join(gi, "native_id")
        parts.append(gh.select(item_id=gh.id, native_id=gh.native_id, source=gh.source,
                               repo=gh.repo, created_at=gh.created_at, text=gh.body))
    if not parts:
        return backend.table("work_items").limit(0).select(
            item_id="id", native_id="native_id", source="source", repo=ibis.null("string"),
            created_at="created_at", text=ibis.null("string"))
    out = parts[0]
    for p in parts[1:]:
        out = out.union(p)
    return out


def _by_sha(named: ir.Table, backend: ibis.BaseBackend, same_repo: bool) -> ir.Table:
    """``item_id``, ``repo``, ``change_id`` of the changes holding the commits ``named`` (``item_id``,
    ``repo`` — NULL: any —, ``sha``: a prefix of 7 to 40 digits) names; a prefix joins on its
    first 7 digits (a hash join), then on all of them."""
    cc = backend.table("change_commits").select("repo", "change_id", "sha")
    cc = cc.mutate(sha7=cc.sha.left(7))
    n = named.mutate(sha7=named.sha.left(7)).rename(named_sha="sha", named_repo="repo")
    cond = [n.sha7 == cc.sha7]
    if same_repo:
        cond.append(n.named_repo == cc.repo)
    j = n.join(cc, cond)
    j = j.filter(j.sha.startswith(j.named_sha) & (j.named_repo.isnull() | (j.named_repo == j.repo)))
    return j.select("item_id", "repo", "change_id")


def bug_links(backend: ibis.BaseBackend, bug: ir.Table) -> ir.Table:
    """``item_id``, ``repo``, ``change_id`` (the introducing change), ``how`` (caused_by,
    issue_link, fixes_trailer, szz) for the bugs of ``bug`` (:func:`bugs`), one row per route
    that found it."""
    changes = backend.table("changes").select("repo", "number", change_id="id")
    # The bug names it.
    pr = bug.filter(bug.repo.notnull()).mutate(
        n=bug.text.fill_null("").re_extract(CAUSED_BY_PR, 1))
    pr = pr.filter(pr.n != "").mutate(number=pr.n.cast("int64"))
    by_pr = pr.join(changes, ["repo", "number"]).select("item_id", "repo", "change_id")
    sha = bug.mutate(sha=bug.text.fill_null("").re_extract(CAUSED_BY_SHA, 1).lower())
    sha = sha.filter(sha.sha != "").select("item_id", "repo", "sha")
    caused = by_pr.union(_by_sha(sha, backend, same_repo=False)).mutate(
        how=ibis.literal("caused_by"))
    # Jira says which issue caused it ("is caused by", or the cause's "causes"): that issue's
    # changes.
    jl = backend.table("jira_issue_links")
    phrase = jl.phrase.lower()
    wi = backend.table("work_items").select(cause_id="id", cause_native="native_id")
    nullable = "string"  # issue_id is NOT NULL, other_id is not: one type for the union
    named_by_bug = jl.filter(phrase == "is caused by").select(
        native_id=jl.issue_id.cast(nullable), cause_native=jl.other_id.cast(nullable))
    named_by_cause = jl.filter(phrase == "causes").select(
        native_id=jl.other_id.cast(nullable), cause_native=jl.issue_id.cast(nullable))
    causes = named_by_bug.union(named_by_cause)
    causes = causes.join(bug.filter(bug.source == "jira").select("item_id", "native_id"),
                         "native_id").join(wi, "cause_native")
    il = backend.table("item_links").select(cause_id="item_id", repo="repo",
                                            change_id="change_id")
    by_link = causes.join(il, "cause_id").select(
        "item_id", "repo", "change_id", how=ibis.literal("issue_link"))
    # Its fix names it: a Fixes: <sha> trailer on a commit of a change linked to the bug.
    links = backend.table("item_links").semi_join(bug.select("item_id"), "item_id")
    fixes = links.select("item_id", "repo", fix_id="change_id").distinct()
    cc = backend.table("change_commits").select("repo", "change_id", "sha")
    fix_commits = fixes.join(cc, [fixes.repo == cc.repo, fixes.fix_id == cc.change_id]).select(
        "item_id", "repo", "fix_id", "sha")
    commits = backend.table("commits").select("repo", "sha", "trailers")
    tr = fix_commits.join(commits, ["repo", "sha"])
    tr = tr.select("item_id", "repo", "fix_id", t=tr.trailers.unnest())
    tr = tr.filter(tr.t.key.lower() == "fixes").mutate(
        sha=tr.t.value.strip().re_extract(FIXES_SHA, 1).lower())
    tr = tr.filter(tr.sha != "")
    trailer = _by_sha(tr.select("item_id", "repo", "sha"), backend, same_repo=True)
    trailer = trailer.mutate(how=ibis.literal("fixes_trailer"))
    # SZZ: the fix's commits rewrote lines that another change's commits wrote.
    rw = backend.table("rewritten_lines").select("repo", "sha", "born_sha")
    rw = rw.filter(rw.born_sha.notnull())
    szz = fix_commits.join(rw, ["repo", "sha"])
    born = cc.select("repo", "change_id", born_sha="sha")
    szz = szz.join(born, ["repo", "born_sha"])
    szz = szz.filter(szz.change_id != szz.fix_id).select(
        "item_id", "repo", "change_id", how=ibis.literal("szz"))
    both = caused.union(by_link).union(trailer).union(szz)
    return both.select("item_id", "repo", "change_id", "how").distinct()


def _shipped(backend: ibis.BaseBackend, fl: fm.Flow) -> ir.Table:
    """``repo``, ``change_id``, ``shipped_at``: each change's end milestone (released; merged where
    the repository has no release signal)."""
    ms = fm.plausible_milestones(backend)
    ms = ms.join(fl.ends, [ms.repo == fl.ends.repo, ms.name == fl.ends.end])
    return ms.select(ms.repo, ms.change_id, shipped_at=ms.at)


def escapes(backend: ibis.BaseBackend, fl: fm.Flow, settings: Settings,
            include_bots: bool = False) -> ir.Table:
    """Per bug and change of the scope it links back to: ``item_id``, ``cid``, ``how`` (the routes,
    comma-joined), ``created_at``, ``shipped_at`` (NULL: not shipped yet), ``escaped`` (shipped
    before the bug was reported) and ``detection_s`` (report time minus ship time, escapes only)."""
    def build() -> ir.Table:
        bug = bugs(backend, settings, include_bots)
        links = bug_links(backend, bug)
        links = links.group_by(["item_id", "repo", "change_id"]).aggregate(
            how=links.how.group_concat(",", order_by=links.how))
        keys = fl.scope.select("cid", "repo", change_id=fl.scope.id)
        j = links.join(keys, ["repo", "change_id"]).join(
            bug.select("item_id", "created_at"), "item_id")
        j = j.left_join(_shipped(backend, fl), ["repo", "change_id"]).drop(
            "repo_right", "change_id_right")
        escaped = j.shipped_at.notnull() & (j.shipped_at < j.created_at)
        return j.select("item_id", "cid", "repo", "change_id", "how", "created_at", "shipped_at",
                        escaped=escaped.fill_null(False),
                        detection_s=ibis.ifelse(escaped, seconds_between(
                            j.created_at, j.shipped_at), ibis.null("float64")))
    co = settings.coordination
    return fl.once(f"escapes:{include_bots}:{co.bug_labels!r}:{co.bug_issue_types!r}", build)


def has_line_history(backend: ibis.BaseBackend) -> bool:
    return bool(backend.table("line_changes").limit(1).to_pyarrow().num_rows)


def scope_ai(backend: ibis.BaseBackend, fl: fm.Flow, settings: Settings) -> ir.Table:
    """metrics/ai.change_ai over the scope, built once per flow and AI rules (``fl.once`` key
    ``change_ai_key``: the report's AI section builds it under that key, and shares it)."""
    def build() -> ir.Table:
        rules = Rules.of(settings.ai)
        repos = tuple(sorted(fl.scope.select("repo").distinct().to_pyarrow()
                             .column("repo").to_pylist()))
        return change_ai(backend, fl, fl.upload(ai_commits(backend, rules, repos)),
                         fl.upload(pr_ai(backend, rules, repos)))
    return fl.once(change_ai_key(Rules.of(settings.ai)), build)


def change_cohorts(backend: ibis.BaseBackend, fl: fm.Flow, settings: Settings) -> ir.Table:
    """Per change in scope: ``cid``, ``repo``, ``id``, ``author``, ``size``, ``shipped`` (its end
    milestone is known), ``ai_assisted`` (metrics/ai.change_ai), ``reviewed`` (a first review by a
    person, or review trailers; False with pull request data and neither; NULL without)."""
    def build() -> ir.Table:
        ai = scope_ai(backend, fl, settings)
        s = fl.scope.select("cid", "repo", "id", "number", "author", "size")
        shipped = _shipped(backend, fl).select("repo", id="change_id", is_shipped=True)
        first = fl.milestones.filter(fl.milestones.name == "first_review").select(
            "cid", has_review=ibis.literal(True)).distinct()
        cc = backend.table("change_commits").select("repo", "change_id", "sha")
        ev = backend.table("commits").select("repo", "sha", "review_evidence")
        tr = cc.join(ev, ["repo", "sha"])
        tr = tr.filter(tr.review_evidence.length() > 0).select(
            "repo", id=tr.change_id, trailer=ibis.literal(True)).distinct()
        prs = backend.table("pull_requests").select("repo", "number", pr=ibis.literal(True))
        o = s.left_join(shipped, ["repo", "id"]).drop("repo_right", "id_right")
        o = o.left_join(ai.select("cid", is_ai=ibis.literal(True)), "cid").drop("cid_right")
        o = o.left_join(first, "cid").drop("cid_right")
        o = o.left_join(tr, ["repo", "id"]).drop("repo_right", "id_right")
        o = o.left_join(prs, ["repo", "number"]).drop("repo_right", "number_right")
        seen = o.has_review.fill_null(False) | o.trailer.fill_null(False)
        return o.select("cid", "repo", "id", "author", "size",
                        shipped=o.is_shipped.fill_null(False), ai_assisted=o.is_ai.fill_null(False),
                        reviewed=ibis.ifelse(seen, True, ibis.ifelse(
                            o.pr.fill_null(False), False, ibis.null("boolean"))))
    return fl.once(f"escape_cohorts:{settings.ai!r}", build)


def escape_change_flags(backend: ibis.BaseBackend, fl: fm.Flow, settings: Settings
                        ) -> ir.Table:
    """``repo``, ``id``, ``escaped`` per change in scope: a bug reported after the change shipped
    links back to it; NULL when the store holds no bug report, or no bug links back to a change
    of the scope (nothing tells an escape from its absence)."""
    s = fl.scope.select("repo", "id")
    if not backend.to_pyarrow(bugs(backend, settings).count()).as_py():
        return s.mutate(escaped=ibis.null("boolean"))
    e = escapes(backend, fl, settings)
    if not backend.to_pyarrow(e.count()).as_py():  # bugs, but none links back: unknown
        return s.mutate(escaped=ibis.null("boolean"))
    hit = e.filter(e.escaped).select("repo", id=e.change_id).distinct().mutate(
        hit=ibis.literal(True))
    out = s.left_join(hit, ["repo", "id"])
    return out.select(s.repo, s.id, escaped=out.hit.fill_null(False))

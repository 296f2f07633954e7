"""AI-assisted commits and changes in the store: the attribution rules applied, with evidence.

Commits' attribution is precomputed by derive (derive/precompute.py, which also says how the
rules are applied); pull requests' is worked out here, in Python, where the rules' semantics live.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import duckdb
import ibis
import ibis.expr.types as ir
import pyarrow as pa

from leadlens.attribution import CommitText, Evidence, PullRequestText, Rules
from leadlens.derive.precompute import (
    EVIDENCE_TYPE,
    classify_commits,
    evidence_rows,
    fresh_repos,
    stored_ai,
)
from leadlens.engines import sql_connection
from leadlens.metrics.flow import Flow
from leadlens.timeline import seconds_between

__all__ = ["EVIDENCE_TYPE", "ai_commits", "change_ai", "change_ai_key", "pr_ai", "pr_tools",
           "survival"]

def ai_commits(backend: ibis.BaseBackend, rules: Rules, repos: Sequence[str] = ()) -> pa.Table:
    """repo, sha, evidence (list of rule, matched text, tool) for every reachable AI-assisted
    commit, and every AI-assisted commit a forge lists that git did not give. Repositories whose
    precomputed attribution (derive's precompute step) is current are read from it; the others'
    commits are classified here."""
    con = sql_connection(backend)
    fresh = fresh_repos(con, rules)
    wanted = set(repos) if repos else {r[0] for r in con.execute(
        "SELECT DISTINCT repo FROM commits").fetchall()}
    parts = []
    if wanted & fresh:
        parts.append(stored_ai(con, sorted(wanted & fresh)))
    stale = sorted(wanted - fresh)
    out: dict[str, list[object]] = {"repo": [], "sha": [], "evidence": []}
    if stale:
        for repo, sha, found in classify_commits(
                con, rules, "reachable AND repo IN (SELECT unnest(?))", [stale]):
            out["repo"].append(repo)
            out["sha"].append(sha)
            out["evidence"].append(evidence_rows(found))
    parts.append(_table(out))
    git = pa.concat_tables([p.cast(_SCHEMA) for p in parts])
    if len(parts) == 2 and parts[0].num_rows and parts[1].num_rows:  # stored and classified
        git = git.sort_by([("repo", "ascending"), ("sha", "ascending")])
    forge: dict[str, list[object]] = {"repo": [], "sha": [], "evidence": []}
    for repo, sha, found in _forge_only_commits(con, rules, repos):
        forge["repo"].append(repo)
        forge["sha"].append(sha)
        forge["evidence"].append(evidence_rows(found))
    return pa.concat_tables([git, _table(forge)]).combine_chunks()


_SCHEMA = pa.schema([("repo", pa.string()), ("sha", pa.string()), ("evidence", EVIDENCE_TYPE)])


def _table(cols: dict[str, list[object]]) -> pa.Table:
    return pa.table({"repo": pa.array(cols["repo"], pa.string()),
                     "sha": pa.array(cols["sha"], pa.string()),
                     "evidence": pa.array(cols["evidence"], EVIDENCE_TYPE)}, schema=_SCHEMA)


def _forge_only_commits(con: duckdb.DuckDBPyConnection, rules: Rules, repos: Sequence[str]
                        ) -> Iterator[tuple[str, str, tuple[Evidence, ...]]]:
    """The AI-assisted commits a forge lists that git did not give (a repository without a clone):
    their raw messages read as git reads them; the forge names the author, not the address."""
    params: list[object] = []
    where = ""
    if repos:
        where, params = "AND q.repo IN (SELECT unnest(?))", [list(repos)]
    cursor = con.execute(
        "SELECT q.repo, q.sha, any_value(q.author_name), any_value(q.message) FROM pr_commits q"
        " WHERE NOT EXISTS (SELECT 1 FROM commits c WHERE c.repo = q.repo AND c.sha = q.sha)"
        f" {where} GROUP BY q.repo, q.sha ORDER BY q.repo, q.sha", params)
    while batch := cursor.fetchmany(10_000):
        for repo, sha, author, message in batch:
            found = rules.classify(_forge_commit(author, message))
            if found:
                yield repo, sha, found


def _forge_commit(author: str | None, message: str | None) -> CommitText:
    return CommitText.of_message(f"{author or ''} <>", "", message or "")


def pr_ai(backend: ibis.BaseBackend, rules: Rules, repos: Sequence[str] = ()) -> pa.Table:
    """repo, number, evidence for every pull request the pull-request rules match (labels, body,
    author, head branch); empty when no rule reads pull requests or there is no forge data."""
    out: dict[str, list[object]] = {"repo": [], "number": [], "evidence": []}
    if any(rules.uses(f) for f in ("pr_label", "pr_body", "pr_author", "pr_head_ref")):
        for repo, number, found in _pull_request_evidence(backend, rules, repos):
            if found:
                out["repo"].append(repo)
                out["number"].append(number)
                out["evidence"].append(evidence_rows(found))
    return pa.table({"repo": pa.array(out["repo"], pa.string()),
                     "number": pa.array(out["number"], pa.int64()),
                     "evidence": pa.array(out["evidence"], EVIDENCE_TYPE)})


def _pull_request_evidence(backend: ibis.BaseBackend, rules: Rules, repos: Sequence[str]
                           ) -> Iterator[tuple[str, int, tuple[Evidence, ...]]]:
    where, params = ("WHERE repo IN (SELECT unnest(?))", [list(repos)]) if repos else ("", [])
    cursor = sql_connection(backend).execute(
        f"SELECT repo, number, author, body, labels, head_ref FROM pull_requests {where}"
        " ORDER BY repo, number", params)
    while batch := cursor.fetchmany(10_000):
        for repo, number, author, body, labels, head_ref in batch:
            yield repo, number, rules.classify_pull_request(PullRequestText(
                author=author or "", body=body or "", labels=tuple(labels or ()),
                head_ref=head_ref or ""))


def pr_tools(backend: ibis.BaseBackend, rules: Rules, repos: Sequence[str] = ()) -> pa.Table:
    """repo, number, tool for every AI-assisted pull request, merged or not: the tool its own
    evidence (author, body, labels, head branch) and its commits' (as the forge lists them, with
    their messages) name, by DESIGN.md's precedence (``Rules.tool_of``). Pull requests not listed
    are not AI-assisted."""
    found: dict[tuple[str, int], list[Evidence]] = {}
    for repo, number, evidence in _pull_request_evidence(backend, rules, repos):
        if evidence:
            found[(repo, number)] = list(evidence)
    where, params = ("WHERE repo IN (SELECT unnest(?))", [list(repos)]) if repos else ("", [])
    # The forge lists a commit's author name, not its address, and not its committer.
    cursor = sql_connection(backend).execute(
        f"SELECT repo, number, author_name, message FROM pr_commits {where}"
        " ORDER BY repo, number, sha", params)
    while batch := cursor.fetchmany(10_000):
        for repo, number, author, message in batch:
            evidence = rules.classify(_forge_commit(author, message))
            if evidence:
                found.setdefault((repo, number), []).extend(evidence)
    keys = sorted(found)
    return pa.table({
        "repo": pa.array([r for r, _ in keys], pa.string()),
        "number": pa.array([n for _, n in keys], pa.int64()),
        "tool": pa.array([rules.tool_of((e.rule, e.tool) for e in found[k]) for k in keys],
                         pa.string())})


def change_ai_key(rules: Rules) -> str:
    """The key a flow keeps :func:`change_ai` under (``Flow.once``), so that the report's AI
    section and the coordination signals that split by AI assistance build it once."""
    return "change_ai:" + "|".join(repr(r) for r in rules.rules)


def change_ai(backend: ibis.BaseBackend, fl: Flow, ai: ir.Table, prs: ir.Table) -> ir.Table:
    """Per change in scope that is AI-assisted — an AI-assisted commit, or a pull request the
    rules match: ``cid``, ``ai_line_share`` (the share of its work commits' changed lines that
    AI-assisted commits wrote — all of them when the pull request itself is marked; None when it
    changed no lines) and ``ai_evidence`` (sha — null for pull-request evidence —, rule, text and
    the tool it names, per match). Changes not listed are not AI-assisted. ``ai`` and ``prs`` are
    :func:`ai_commits` and :func:`pr_ai` uploaded (``fl.upload``)."""
    s = fl.scope
    keys = s.select("cid", "repo", "merge_sha", "number", n_commits=s.commits, change_id=s.id)
    cc = backend.table("change_commits").select("repo", "change_id", "sha")
    hits = cc.join(ai, ["repo", "sha"]).join(keys, ["repo", "change_id"])
    hits = fl.cache(hits.select("cid", "repo", "sha", "evidence", "change_id"))
    ev = hits.select("cid", "sha", e=hits.evidence.unnest())
    pr_hits = keys.join(prs, ["repo", "number"]).select("cid", "evidence")
    pr_ev = pr_hits.select("cid", sha=ibis.null("string"), e=pr_hits.evidence.unnest())
    ev = ev.union(pr_ev)
    evidence = ev.group_by("cid").aggregate(ai_evidence=ibis.struct(
        {"sha": ev.sha, "rule": ev.e.rule, "text": ev.e.text, "tool": ev.e.tool}).collect(
            order_by=[ev.sha, ev.e.rule]))
    # Line share over the change's work commits (the landing merge only when it is alone).
    marked = pr_hits.select("cid").distinct().mutate(pr_marked=ibis.literal(True))
    mine = cc.join(keys.semi_join(evidence.select("cid"), "cid"), ["repo", "change_id"])
    mine = mine.filter((mine.sha != mine.merge_sha) | (mine.n_commits == 1))
    commits = backend.table("commits").select("repo", "sha", "lines_added", "lines_deleted")
    lines = mine.join(commits, ["repo", "sha"])
    h = hits.select(hit_cid="cid", hit_sha="sha")
    lines = lines.left_join(h, [lines.cid == h.hit_cid, lines.sha == h.hit_sha])
    lines = lines.left_join(marked, lines.cid == marked.cid).drop("cid_right")
    n = lines.lines_added.fill_null(0) + lines.lines_deleted.fill_null(0)
    is_ai = lines.hit_sha.notnull() | lines.pr_marked.fill_null(False)
    share = lines.group_by(lines.cid).aggregate(total=n.sum(), ai=ibis.ifelse(is_ai, n, 0).sum())
    share = share.select("cid", ai_line_share=ibis.ifelse(
        share.total > 0, share.ai.cast("float64") / share.total, ibis.null("float64")))
    return evidence.left_join(share, "cid").drop("cid_right")


def survival(backend: ibis.BaseBackend, fl: Flow, ai: ir.Table, days: float) -> ir.Table:
    """Of the lines the scope's commits added, how many were rewritten or deleted within ``days``,
    AI-assisted commits apart from the others: ``ai``, ``commits``, ``added``, ``rewritten``.

    Only commits at least ``days`` older than their repository's newest commit with line history
    count (younger lines have not had the full window to be rewritten). Needs line history."""
    s = fl.scope
    cc = backend.table("change_commits").semi_join(
        s.select("repo", change_id=s.id), ["repo", "change_id"]).select("repo", "sha")
    commits = backend.table("commits")
    lc = backend.table("line_changes")
    born = cc.join(commits.filter(~commits.is_merge & commits.line_history)
                   .select("repo", "sha", born_at=commits.committer_time), ["repo", "sha"])
    newest = commits.filter(commits.line_history).group_by("repo").aggregate(
        newest=commits.committer_time.max())
    born = born.join(newest, "repo")
    born = born.filter(seconds_between(born.newest, born.born_at) >= days * 86400)
    born = born.join(lc.select("repo", "sha", "new_lines"), ["repo", "sha"])
    rw = backend.table("rewritten_lines")
    later = commits.select("repo", rw_sha=commits.sha, rw_at=commits.committer_time)
    gone = rw.join(later, [rw.repo == later.repo, rw.sha == later.rw_sha])
    age = seconds_between(gone.rw_at, gone.born_at)
    gone = gone.filter(gone.born_sha.notnull() & (age >= 0) & (age < days * 86400))
    gone = gone.group_by([gone.repo, gone.born_sha]).aggregate(rewritten=gone.lines.sum())
    b = born.left_join(gone, [born.repo == gone.repo, born.sha == gone.born_sha])
    flagged = ai.select(ai_repo="repo", ai_sha="sha", is_ai=ibis.literal(True))
    b = b.left_join(flagged, [b.repo == flagged.ai_repo, b.sha == flagged.ai_sha])
    b = b.mutate(ai=b.is_ai.fill_null(False))
    return b.group_by("ai").aggregate(
        commits=b.count(), added=b.new_lines.sum().cast("int64"),
        rewritten=b.rewritten.fill_null(0).sum().cast("int64"))

"""The precompute step: what reports would otherwise work out again on every run, stored once.

Each change's git activity islands (derive/activity.py), and the AI attribution of every commit
(``commit_ai``: the evidence the attribution rules find in it; commits without any have no row),
classified by the rules in force and recorded with their fingerprint (``commit_ai_state``). The
step is incremental by itself: it classifies only the commits stored by ingest runs after the last
one it saw, all of a repository's commits again when the rules changed, and drops the rows of
commits the store no longer holds. Reports read the rows of repositories whose state matches their
rules and the store's newest ingest run, and classify the others themselves (:func:`stored_ai`),
so a stale precompute is slower, never wrong.

DuckDB first narrows the commits to the few whose fields could match (each rule's pattern, run by
RE2, the engine ``patterns.py`` runs them with in Python too); the rules themselves are applied in
Python, where their semantics live. Should DuckDB's RE2 refuse a pattern the Python one took, that
rule narrows nothing: correct, slower.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import timedelta

import duckdb
import pyarrow as pa

from leadlens.attribution import AiRule, CommitText, Evidence, Rules
from leadlens.config import DEFAULT_ACTIVITY_WINDOW_HOURS
from leadlens.derive.activity import derive_activity
from leadlens.derive.state import StepInputs
from leadlens.model import Trailer
from leadlens.store.db import Store
from leadlens.store.writer import transaction

__all__ = ["ATTRIBUTION_VERSION", "EVIDENCE_TYPE", "Precomputed", "classify_commits",
           "derive_precompute", "evidence_rows", "fresh_repos", "rules_fingerprint", "stored_ai"]

# Bump when classification changes in code (not in the rules): stored rows are then stale.
ATTRIBUTION_VERSION = 1

EVIDENCE_TYPE = pa.list_(pa.struct([("rule", pa.string()), ("text", pa.string()),
                                    ("tool", pa.string())]))

_FIELDS = {
    "author": "coalesce(author_name, '') || ' <' || coalesce(author_email, '') || '>'",
    "author_name": "coalesce(author_name, '')",
    "committer": "coalesce(committer_name, '') || ' <' || coalesce(committer_email, '') || '>'",
    "subject": "coalesce(subject, '')",
    "message": "coalesce(subject, '') || chr(10) || chr(10) || coalesce(body, '')",
}
_COMMIT_FIELDS = (*_FIELDS, "trailer")
_BATCH = 10_000


@dataclass(frozen=True)
class Precomputed:
    """What the step did for one repository: commits classified, AI-assisted among them, rows
    dropped (commits gone), and whether it classified them all (``full``: first run, new rules)."""

    repo: str
    classified: int
    ai_commits: int
    dropped: int
    full: bool
    activity_changes: int = 0  # changes whose activity islands were computed


def rules_fingerprint(rules: Rules) -> str:
    """What commit attribution depends on: the rules that read commits, and the code's version."""
    used = [[r.name, r.field, r.key, r.pattern, r.tool] for r in rules.rules
            if r.field in _COMMIT_FIELDS]
    text = json.dumps([ATTRIBUTION_VERSION, used])
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def evidence_rows(evidence: tuple[Evidence, ...]) -> list[dict[str, str | None]]:
    return [{"rule": e.rule, "text": e.text, "tool": e.tool} for e in evidence]


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _runs_in_duckdb(con: duckdb.DuckDBPyConnection, pattern: str) -> bool:
    try:
        con.execute(f"SELECT regexp_matches('', {_literal(pattern)})").fetchall()
    except duckdb.Error:
        return False
    return True


def _predicate(con: duckdb.DuckDBPyConnection, rule: AiRule) -> str:
    """A SQL condition true for every commit ``rule`` could match (possibly more)."""
    pattern = f"(?m){rule.pattern}"
    if not _runs_in_duckdb(con, pattern):
        return "TRUE"
    if rule.field == "trailer":
        key = _literal((rule.key or "").lower())
        return (f"len(list_filter(coalesce(trailers, []), lambda t: lower(t.key) = {key}"
                f" AND regexp_matches(t.value, {_literal(pattern)}, 'i'))) > 0")
    return f"regexp_matches({_FIELDS[rule.field]}, {_literal(pattern)}, 'i')"


def classify_commits(con: duckdb.DuckDBPyConnection, rules: Rules, where: str,
                     params: Sequence[object] = ()) -> Iterator[tuple[str, str, tuple[Evidence, ...]]]:
    """(repo, sha, evidence) of every commit ``where`` (SQL over ``commits``) selects that the
    rules find AI-assisted, ordered by repo and sha."""
    conditions = [_predicate(con, r) for r in rules.rules if r.field in _COMMIT_FIELDS]
    if not conditions:
        return
    narrowed = " OR ".join(f"({c})" for c in conditions)
    cursor = con.execute(
        "SELECT repo, sha, author_name, author_email, committer_name, committer_email, subject,"
        f" body, trailers FROM commits WHERE ({where}) AND ({narrowed}) ORDER BY repo, sha",
        list(params))
    while batch := cursor.fetchmany(_BATCH):
        for repo, sha, an, ae, cn, ce, subject, body, trailers in batch:
            found = rules.classify(CommitText(
                author=f"{an or ''} <{ae or ''}>", committer=f"{cn or ''} <{ce or ''}>",
                subject=subject or "", body=body or "",
                trailers=tuple(Trailer(t["key"], t["value"]) for t in trailers or ())))
            if found:
                yield repo, sha, found


def derive_precompute(store: Store, repo: str, rules: Rules, *,
                      window: timedelta = timedelta(hours=DEFAULT_ACTIVITY_WINDOW_HOURS),
                      record: StepInputs | None = None) -> Precomputed:
    """Bring ``repo``'s stored AI attribution up to date with its commits and ``rules``, and its
    changes' activity islands with ``window`` (derive/activity.py), in one transaction (that also
    records ``record``, the step's inputs)."""
    fp = rules_fingerprint(rules)
    with transaction(store.con) as con:
        found = con.execute("SELECT rules, through_run FROM commit_ai_state WHERE repo = ?",
                            [repo]).fetchall()
        newest = con.execute("SELECT max(run_id) FROM commits WHERE repo = ?",
                             [repo]).fetchall()[0][0]
        full = not found or found[0][0] != fp
        since = -1 if full else found[0][1]
        if full:
            dropped = _count(con, "DELETE FROM commit_ai WHERE repo = ?", [repo])
        else:  # rows of commits stored again by a later run are classified again
            dropped = _count(con, "DELETE FROM commit_ai a WHERE a.repo = ? AND NOT EXISTS ("
                             "SELECT 1 FROM commits c WHERE c.repo = a.repo AND c.sha = a.sha"
                             " AND c.run_id <= ?)", [repo, since])
        new = con.execute("SELECT count(*) FROM commits WHERE repo = ? AND run_id > ?",
                          [repo, since]).fetchall()[0][0]
        out: dict[str, list[object]] = {"repo": [], "sha": [], "evidence": []}
        if new:
            for r, sha, evidence in classify_commits(con, rules, "repo = ? AND run_id > ?",
                                                     [repo, since]):
                out["repo"].append(r)
                out["sha"].append(sha)
                out["evidence"].append(evidence_rows(evidence))
        if out["repo"]:
            rows = pa.table({"repo": pa.array(out["repo"], pa.string()),
                             "sha": pa.array(out["sha"], pa.string()),
                             "evidence": pa.array(out["evidence"], EVIDENCE_TYPE)})
            con.register("_leadlens_commit_ai", rows)
            try:
                con.execute("INSERT INTO commit_ai SELECT repo, sha, evidence FROM _leadlens_commit_ai")
            finally:
                con.unregister("_leadlens_commit_ai")
        islands = derive_activity(con, repo, window)
        con.execute("INSERT OR REPLACE INTO commit_ai_state (repo, rules, through_run)"
                    " VALUES (?, ?, ?)", [repo, fp, newest if newest is not None else -1])
        if record is not None:
            record.save(con)
    return Precomputed(repo, int(new), len(out["repo"]), dropped, full, islands)


def _count(con: duckdb.DuckDBPyConnection, sql: str, params: list[object]) -> int:
    found = con.execute(sql, params).fetchall()
    return int(found[0][0]) if found else 0


def fresh_repos(con: duckdb.DuckDBPyConnection, rules: Rules) -> set[str]:
    """The repositories whose stored attribution is current: classified by ``rules`` through the
    newest ingest run of their commits."""
    return {r[0] for r in con.execute(
        "SELECT s.repo FROM commit_ai_state s LEFT JOIN (SELECT repo, max(run_id) AS newest"
        " FROM commits GROUP BY repo) c ON c.repo = s.repo"
        " WHERE s.rules = ? AND s.through_run >= coalesce(c.newest, -1)",
        [rules_fingerprint(rules)]).fetchall()}


def stored_ai(con: duckdb.DuckDBPyConnection, repos: Sequence[str]) -> pa.Table:
    """repo, sha, evidence of the reachable AI-assisted commits ``commit_ai`` holds for ``repos``
    (to be read only for :func:`fresh_repos`), ordered by repo and sha."""
    return con.sql(
        "SELECT a.repo, a.sha, a.evidence FROM commit_ai a WHERE a.repo IN (SELECT unnest(?))"
        " AND NOT EXISTS (SELECT 1 FROM commits c WHERE c.repo = a.repo AND c.sha = a.sha"
        " AND NOT c.reachable) ORDER BY a.repo, a.sha", params=[list(repos)]).to_arrow_table()

"""DORA's five metrics over the store: deployment frequency, change lead time, change fail rate,
failed deployment recovery time and deployment rework rate, with incidents and performance levels
(DESIGN.md, DORA; docs/metrics-dora.md).

Set-wise SQL over the store's tables; each function is pure in the store (reads only, temporary
tables dropped before it returns).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

import duckdb
import ibis
import ibis.expr.types as ir

from leadlens.config import DoraSettings
from leadlens.engines import sql_connection

__all__ = ["EDITION", "Dora", "dora", "incident_linked", "levels"]

EDITION = "DORA Accelerate State of DevOps Report 2024"
_DAY = 86400.0

# Incidents: issues labelled as one, reverts, failed deployment attempts and rollbacks. Each may
# name the change it blames (`names`): a revert's target, an issue's "Caused by #N / <sha>".
_SQL = [
    # Milestones with a plausible date (one from an implausible date counts in no figure).
    """CREATE OR REPLACE TEMP TABLE _dora_ms AS SELECT * FROM milestones
    WHERE NOT flagged AND repo IN (SELECT repo FROM _dora_repos)""",
    # Mainline order: git's first-parent positions, else the order pull requests were merged in.
    """CREATE OR REPLACE TEMP TABLE _dora_pos AS
    SELECT repo, sha, position AS pos FROM mainline WHERE repo IN (SELECT repo FROM _dora_repos)
    UNION ALL
    SELECT ch.repo, ch.merge_sha, row_number() OVER (PARTITION BY ch.repo ORDER BY ms."at", ch.id)
    FROM changes ch JOIN _dora_ms ms ON ms.repo = ch.repo AND ms.change_id = ch.id
      AND ms.name = 'merged'
    WHERE ch.repo IN (SELECT repo FROM _dora_repos)
      AND ch.repo NOT IN (SELECT DISTINCT repo FROM mainline)""",
    # Production deployment attempts: when one first succeeded, when one first failed.
    """CREATE OR REPLACE TEMP TABLE _dora_attempts AS
    SELECT d.repo, d.id::VARCHAR AS key, d.sha, p.pos,
           min(s.created_at) FILTER (WHERE s.state = 'success') AS ok_at,
           min(s.created_at) FILTER (WHERE s.state IN ('failure', 'error')) AS failed_at
    FROM deployments d JOIN deployment_statuses s ON s.repo = d.repo AND s.deployment_id = d.id
    LEFT JOIN _dora_pos p ON p.repo = d.repo AND p.sha = d.sha
    WHERE d.repo IN (SELECT repo FROM _dora_repos)
      AND regexp_matches(coalesce(s.environment, d.environment, ''), $production, 'i')
    GROUP BY d.repo, d.id, d.sha, p.pos""",
    # The basis per repository: production deployments, else releases, else none.
    """CREATE OR REPLACE TEMP TABLE _dora_basis AS
    SELECT r.repo, CASE WHEN EXISTS (SELECT 1 FROM _dora_attempts a WHERE a.repo = r.repo
                                     AND a.ok_at IS NOT NULL) THEN 'deployments'
                        WHEN EXISTS (SELECT 1 FROM _dora_ms m WHERE m.repo = r.repo
                                     AND m.name = 'released') THEN 'releases' END AS basis
    FROM _dora_repos r""",
    # What first shipped each change: the deployment at its released time that contains it, or
    # (releases basis) its release.
    """CREATE OR REPLACE TEMP TABLE _dora_ship AS
    SELECT ch.repo, ch.id AS change_id, a.key, a.ok_at AS "at"
    FROM changes ch JOIN _dora_basis b ON b.repo = ch.repo AND b.basis = 'deployments'
    JOIN _dora_ms ms ON ms.repo = ch.repo AND ms.change_id = ch.id AND ms.name = 'released'
    JOIN _dora_pos p ON p.repo = ch.repo AND p.sha = ch.merge_sha
    JOIN _dora_attempts a ON a.repo = ch.repo AND a.ok_at = ms."at" AND a.pos >= p.pos
    QUALIFY row_number() OVER (PARTITION BY ch.repo, ch.id ORDER BY a.key) = 1
    UNION ALL
    SELECT ch.repo, ch.id, coalesce(ch.release, 'released ' || ms."at"::VARCHAR), ms."at"
    FROM changes ch JOIN _dora_basis b ON b.repo = ch.repo AND b.basis = 'releases'
    JOIN _dora_ms ms ON ms.repo = ch.repo AND ms.change_id = ch.id AND ms.name = 'released'""",
    """CREATE OR REPLACE TEMP TABLE _dora_deploys AS
    SELECT repo, key, ok_at AS "at", pos FROM _dora_attempts
    WHERE ok_at IS NOT NULL AND repo IN (SELECT repo FROM _dora_basis WHERE basis = 'deployments')
    UNION ALL
    SELECT s.repo, s.key, min(s."at"), NULL FROM _dora_ship s
    JOIN _dora_basis b ON b.repo = s.repo AND b.basis = 'releases' GROUP BY s.repo, s.key""",
    # Revert changes: a commit's "This reverts commit <sha>", or GitHub's revert-N-... branch.
    """CREATE OR REPLACE TEMP TABLE _dora_reverts AS
    SELECT rc.repo, rc.change_id AS revert_id, any_value(tc.change_id) AS target_id
    FROM commits c JOIN change_commits rc ON rc.repo = c.repo AND rc.sha = c.sha
    -- "This reverts commit" may abbreviate: hash-join on the first 7 characters, then check all.
    LEFT JOIN change_commits tc ON tc.repo = c.repo AND left(tc.sha, 7) = left(c.revert_of, 7)
      AND starts_with(tc.sha, c.revert_of) AND tc.change_id <> rc.change_id
    WHERE c.repo IN (SELECT repo FROM _dora_repos) AND c.revert_of IS NOT NULL
    GROUP BY rc.repo, rc.change_id
    UNION ALL
    SELECT p.repo, p.repo || '#' || p.number,
           p.repo || '#' || nullif(regexp_extract(coalesce(p.head_ref, ''), '^revert-(\\d+)-', 1), '')
    FROM pull_requests p JOIN changes ch ON ch.repo = p.repo AND ch.number = p.number
    WHERE p.repo IN (SELECT repo FROM _dora_repos) AND p.merged_at IS NOT NULL
      AND (regexp_matches(coalesce(p.head_ref, ''), '^revert-\\d+-')
           OR regexp_matches(coalesce(p.body, ''), 'This reverts commit [0-9a-f]{7,}'))""",
    # When each revert merged and shipped, and whether it was caught before release: the change it
    # names is known and nothing had shipped it when the revert merged (a repository without any
    # shipment cannot tell, so nothing is caught there).
    """CREATE OR REPLACE TEMP TABLE _dora_revert_merges AS
    SELECT r.repo, r.revert_id, any_value(r.target_id) AS target_id, min(m."at") AS merged_at,
           min(coalesce(rel."at", m."at")) AS resolved_at,
           any_value(b.basis) IS NOT NULL AND any_value(t.id) IS NOT NULL AND NOT EXISTS (
               SELECT 1 FROM _dora_ship s WHERE s.repo = r.repo AND s.change_id = any_value(r.target_id)
               AND s."at" <= min(m."at")) AS caught
    FROM _dora_reverts r JOIN _dora_ms m ON m.repo = r.repo AND m.change_id = r.revert_id
      AND m.name = 'merged'
    LEFT JOIN _dora_ms rel ON rel.repo = r.repo AND rel.change_id = r.revert_id
      AND rel.name = 'released'
    JOIN _dora_basis b ON b.repo = r.repo
    LEFT JOIN changes t ON t.repo = r.repo AND t.id = r.target_id
    GROUP BY r.repo, r.revert_id""",
    """CREATE OR REPLACE TEMP TABLE _dora_incidents AS
    WITH issue AS (
        SELECT i.repo, i.number, i.created_at, i.closed_at,
               nullif(regexp_extract(coalesce(i.body, ''), '(?i)caused by:?\\s+#(\\d+)', 1), '') AS pr,
               nullif(regexp_extract(coalesce(i.body, ''), '(?i)caused by:?\\s+([0-9a-f]{7,40})', 1),
                      '') AS sha
        FROM issues i WHERE i.repo IN (SELECT repo FROM _dora_repos)
          AND list_has_any([lower(l) FOR l IN coalesce(i.labels, [])], $labels)),
    -- "Caused by <sha>" may abbreviate: hash-join on the first 7 characters, then check all.
    by_sha AS (
        SELECT i.repo, i.number, any_value(cc.change_id) AS change_id
        FROM issue i JOIN change_commits cc ON cc.repo = i.repo AND left(cc.sha, 7) = left(i.sha, 7)
          AND starts_with(cc.sha, i.sha)
        GROUP BY i.repo, i.number)
    SELECT i.repo, 'issue' AS kind, '#' || i.number AS key, i.created_at AS started_at,
           i.closed_at AS resolved_at,
           CASE WHEN i.pr IS NOT NULL THEN i.repo || '#' || i.pr ELSE b.change_id END AS names
    FROM issue i LEFT JOIN by_sha b ON b.repo = i.repo AND b.number = i.number
    UNION ALL
    SELECT repo, 'revert', revert_id, merged_at, resolved_at, target_id
    FROM _dora_revert_merges WHERE NOT caught
    UNION ALL
    SELECT a.repo, 'failed_deployment', a.key, a.failed_at,
           (SELECT min(d."at") FROM _dora_deploys d WHERE d.repo = a.repo AND d."at" > a.failed_at),
           (SELECT any_value(cc.change_id) FROM changes ch JOIN change_commits cc
              ON cc.repo = ch.repo AND cc.change_id = ch.id WHERE ch.repo = a.repo AND cc.sha = a.sha)
    FROM _dora_attempts a WHERE a.ok_at IS NULL AND a.failed_at IS NOT NULL
    UNION ALL
    SELECT d.repo, 'rollback', d.key, d."at", d."at",
           (SELECT any_value(ch.id) FROM changes ch JOIN _dora_pos p
              ON p.repo = ch.repo AND p.sha = ch.merge_sha WHERE ch.repo = d.repo AND p.pos = d.prev_pos)
    FROM (SELECT *, lag(pos) OVER (PARTITION BY repo ORDER BY "at", key) AS prev_pos
          FROM _dora_deploys WHERE pos IS NOT NULL) d
    WHERE d.pos < d.prev_pos""",
    # Link: the shipment that first shipped the change it names (if before it), else the last
    # shipment of the repository within the window before it, else unlinked.
    """CREATE OR REPLACE TEMP TABLE _dora_linked AS
    SELECT i.*, coalesce(named.key, (
             SELECT arg_max(d.key, d."at") FROM _dora_deploys d WHERE d.repo = i.repo
             AND d."at" <= i.started_at AND d."at" >= i.started_at - $window)) AS deploy_key
    FROM _dora_incidents i LEFT JOIN _dora_ship named
      ON named.repo = i.repo AND named.change_id = i.names AND named."at" <= i.started_at""",
    # Rework: shipments of a revert that is an incident (a revert caught before release ships
    # together with what it reverts: production never saw the change) or of a change that fixes
    # an incident issue.
    """CREATE OR REPLACE TEMP TABLE _dora_rework AS
    SELECT DISTINCT s.repo, s.key FROM _dora_ship s
    WHERE (s.repo, s.change_id) IN (SELECT repo, key FROM _dora_incidents WHERE kind = 'revert')
       OR (s.repo, s.change_id) IN (
           SELECT ch.repo, ch.id FROM changes ch JOIN pull_requests p
             ON p.repo = ch.repo AND p.number = ch.number
           JOIN _dora_incidents i ON i.repo = p.repo AND i.kind = 'issue'
             AND regexp_matches(coalesce(p.body, '') || ' ' || coalesce(p.title, ''),
                 '(?i)\\b(fix(es|ed)?|close[sd]?|resolve[sd]?)\\s+' || i.key || '\\b'))""",
]

_TEMP = ("_dora_repos", "_dora_ms", "_dora_pos", "_dora_attempts", "_dora_basis", "_dora_ship",
         "_dora_deploys", "_dora_reverts", "_dora_revert_merges", "_dora_incidents", "_dora_linked",
         "_dora_rework", "_dora_scope")


@dataclass(frozen=True)
class Dora:
    """The five figures over one scope, their basis and levels (docs/metrics-dora.md)."""

    basis: str | None  # deployments | releases | mixed; None: neither
    bases: dict[str, str | None]  # per repository
    reason: str | None  # why the figures are null
    deployments: int
    span_days: float | None
    deployment_frequency_per_day: float | None
    change_lead_time_median_s: float | None
    change_lead_time_changes: int
    change_fail_rate: float | None
    failed_deployments: int  # shipments with at least one linked incident
    recovery_time_median_s: float | None  # over resolved incidents linked to a shipment
    recovered_incidents: int  # resolved incidents linked to a shipment
    caught_before_release: int | None  # reverts of changes nothing had shipped; None: no basis
    deployment_rework_rate: float | None
    rework_deployments: int
    incidents: int
    incidents_by_kind: dict[str, int]
    unlinked_incidents: int
    levels: dict[str, str | None] = field(default_factory=dict)
    level_notes: dict[str, str] = field(default_factory=dict)
    edition: str = EDITION


def _levels(d: Dora) -> tuple[dict[str, str | None], dict[str, str]]:
    return levels(d.deployment_frequency_per_day, d.change_lead_time_median_s, d.change_fail_rate,
                  d.recovery_time_median_s)


def levels(per_day: float | None, lead_time_s: float | None, fail_rate: float | None,
           recovery_s: float | None) -> tuple[dict[str, str | None], dict[str, str]]:
    """Each figure's 2024 performance cluster: the best cluster whose published figure it meets."""
    out: dict[str, str | None] = {}
    notes = {"deployment_rework_rate": "the 2024 report publishes no cluster for rework rate"}
    out["deployment_frequency"] = None if per_day is None else (
        "elite" if per_day >= 1 else "high" if per_day >= 1 / 7 else
        "medium" if per_day >= 1 / 30 else "low")
    out["change_lead_time"] = None if lead_time_s is None else (
        "elite" if lead_time_s < _DAY else "high" if lead_time_s < 7 * _DAY else
        "medium" if lead_time_s < 30 * _DAY else "low")
    # 2024's clusters: elite 5%, high 20%, medium 10%, low 40%: a rate at most 20% meets high's.
    out["change_fail_rate"] = None if fail_rate is None else (
        "elite" if fail_rate <= 0.05 else "high" if fail_rate <= 0.20 else "low")
    # Elite under an hour; high and medium under a day; low a week to a month.
    out["failed_deployment_recovery_time"] = None if recovery_s is None else (
        "elite" if recovery_s < 3600 else "high" if recovery_s < _DAY else "low")
    out["deployment_rework_rate"] = None
    for name, value in out.items():
        if value is None and name not in notes:
            notes[name] = "no figure to rate"
    return out, notes


def _one(con: duckdb.DuckDBPyConnection, sql: str, params: dict[str, Any] | None = None
         ) -> tuple[Any, ...]:
    row = con.execute(sql, params or {}).fetchone()
    assert row is not None  # aggregates always return a row
    return tuple(row)


def dora(backend: ibis.BaseBackend, scope: ir.Table, repos: Sequence[str], *,
         since: datetime | None, until: datetime | None, settings: DoraSettings | None = None
         ) -> Dora:
    """DORA over ``repos``: shipments and incidents in ``[since, until)``; change lead time over
    the changes of ``scope`` (a table with ``repo``, ``id``)."""
    con = sql_connection(backend)
    try:
        _prepare(con, backend, scope, repos, settings or DoraSettings())
        return _figures(con, since, until)
    finally:
        _drop(con)


# Per change of the scope: 1 when an incident issue names it ("Caused by #N / <sha>") or is
# linked to the shipment that first shipped it; 0 when neither; NULL in a repository with no
# issue stored at all (no incident data: unknown, not 0).
_INCIDENT_LINKED = """
WITH named AS (SELECT DISTINCT repo, names AS change_id FROM _dora_incidents
               WHERE kind = 'issue' AND names IS NOT NULL),
shipped AS (SELECT DISTINCT s.repo, s.change_id FROM _dora_ship s
            SEMI JOIN _dora_linked l ON l.repo = s.repo AND l.deploy_key = s.key
              AND l.kind = 'issue'),
known AS (SELECT DISTINCT repo FROM issues WHERE repo IN (SELECT repo FROM _dora_repos))
SELECT c.id AS change_id,
       CASE WHEN k.repo IS NULL THEN NULL
            WHEN n.change_id IS NOT NULL OR s.change_id IS NOT NULL THEN 1 ELSE 0 END
         AS incident_linked
FROM _dora_scope c LEFT JOIN known k ON k.repo = c.repo
LEFT JOIN named n ON n.repo = c.repo AND n.change_id = c.id
LEFT JOIN shipped s ON s.repo = c.repo AND s.change_id = c.id"""


def incident_linked(backend: ibis.BaseBackend, scope: ir.Table, *,
                    settings: DoraSettings | None = None) -> dict[str, int | None]:
    """Each change of ``scope`` (a table with ``repo``, ``id``) by id: 1 when it is
    incident-linked (an incident issue names it, or is linked to the shipment that first shipped
    it, as DORA links them), 0 when not, None in a repository with no issue in the store
    (docs/audit.md)."""
    con = sql_connection(backend)
    try:
        _prepare(con, backend, scope, None, settings or DoraSettings())
        return dict(con.execute(_INCIDENT_LINKED).fetchall())
    finally:
        _drop(con)


def _prepare(con: duckdb.DuckDBPyConnection, backend: ibis.BaseBackend, scope: ir.Table,
             repos: Sequence[str] | None, settings: DoraSettings) -> None:
    """The temporary tables of _SQL over ``repos`` (None: the scope's repositories)."""
    scope_sql = str(backend.compile(scope.select("repo", "id")))
    con.execute(f"CREATE OR REPLACE TEMP TABLE _dora_scope AS SELECT repo, id FROM ({scope_sql})")
    if repos is None:
        con.execute("CREATE OR REPLACE TEMP TABLE _dora_repos AS SELECT DISTINCT repo FROM _dora_scope")
    else:
        con.execute("CREATE OR REPLACE TEMP TABLE _dora_repos AS SELECT unnest($r::VARCHAR[]) AS repo",
                    {"r": list(repos)})
    params: dict[str, Any] = {"production": settings.production_pattern,
                              "labels": [x.lower() for x in settings.incident_labels],
                              "window": timedelta(hours=settings.incident_window_hours)}
    for sql in _SQL:
        con.execute(sql, {k: v for k, v in params.items() if f"${k}" in sql})


def _drop(con: duckdb.DuckDBPyConnection) -> None:
    for name in _TEMP:
        con.execute(f"DROP TABLE IF EXISTS {name}")


def _median(interval: str) -> str:
    # CASE, not greatest(): DuckDB's greatest skips NULLs, turning "not resolved" into 0.
    return (f"quantile_cont(CASE WHEN epoch({interval}) < 0 THEN 0 ELSE epoch({interval}) END,"
            " 0.5)")


def _window(column: str, since: datetime | None, until: datetime | None) -> tuple[str, dict[str, Any]]:
    where, params = [], {}
    if since is not None:
        where.append(f"{column} >= $since")
        params["since"] = since
    if until is not None:
        where.append(f"{column} < $until")
        params["until"] = until
    return (" AND ".join(where) or "TRUE"), params


def _figures(con: duckdb.DuckDBPyConnection, since: datetime | None, until: datetime | None) -> Dora:
    bases = dict(con.execute("SELECT repo, basis FROM _dora_basis ORDER BY repo").fetchall())
    kinds = {b for b in bases.values() if b}
    basis = None if not kinds else kinds.pop() if len(kinds) == 1 else "mixed"
    in_window, wp = _window('"at"', since, until)
    n, first, last = _one(con, f'SELECT count(*), min("at"), max("at") FROM _dora_deploys'
                          f" WHERE {in_window}", wp)
    lead_s = _median('s."at" - w."at"')
    lead = _one(con, f"SELECT count(*), {lead_s} FROM _dora_scope c"
                " JOIN _dora_ship s ON s.repo = c.repo AND s.change_id = c.id"
                " JOIN _dora_ms w ON w.repo = c.repo AND w.change_id = c.id"
                " AND w.name = 'work_started'")
    inc_window, ip = _window("started_at", since, until)
    by_kind = dict(con.execute(f"SELECT kind, count(*) FROM _dora_linked WHERE {inc_window}"
                               " GROUP BY kind ORDER BY kind", ip).fetchall())
    # Recovery is measured from the shipment an incident is linked to: an unlinked incident broke
    # nothing known to have shipped, so no recovery time comes from it.
    recovery_s = _median('i.resolved_at - d."at"')
    unlinked, recovered, recovery = _one(
        con, "SELECT count(*) FILTER (WHERE i.deploy_key IS NULL),"
        " count(*) FILTER (WHERE i.resolved_at IS NOT NULL AND d.key IS NOT NULL),"
        f" {recovery_s} FROM _dora_linked i"
        " LEFT JOIN _dora_deploys d ON d.repo = i.repo AND d.key = i.deploy_key"
        f" WHERE {inc_window.replace('started_at', 'i.started_at')}", ip)
    merged_window, mp = _window("merged_at", since, until)
    caught, = _one(con, "SELECT count(*) FILTER (WHERE caught) FROM _dora_revert_merges"
                   f" WHERE {merged_window}", mp)
    dw = in_window.replace('"at"', 'd."at"')
    failed, = _one(con, "SELECT count(*) FROM _dora_deploys d WHERE EXISTS (SELECT 1 FROM"
                   f" _dora_linked i WHERE i.repo = d.repo AND i.deploy_key = d.key) AND {dw}", wp)
    rework, = _one(con, "SELECT count(*) FROM _dora_deploys d SEMI JOIN _dora_rework r"
                   f" ON r.repo = d.repo AND r.key = d.key WHERE {dw}", wp)
    merged_first, merged_last = _one(
        con, 'SELECT min(m."at"), max(m."at") FROM _dora_scope c JOIN _dora_ms m'
        " ON m.repo = c.repo AND m.change_id = c.id AND m.name = 'merged'")
    span_days = None
    if since is not None and until is not None:
        span_days = (until - since).total_seconds() / _DAY
    elif first is not None:
        # The period observed (deployments and merges), at least a week: one deployment on its
        # own says little about how often they happen.
        start = since or min(x for x in (first, merged_first) if x is not None)
        end = until or max(x for x in (last, merged_last) if x is not None)
        span_days = max((end - start).total_seconds() / _DAY, 7.0)
    reason = None
    if basis is None:
        reason = ("no production deployments (environments matching production_pattern) and no"
                  " releases (release tags or GitHub releases): DORA figures need one of them")
    elif not n:
        reason = "no deployment or release in this period"
    figures = Dora(
        basis=basis, bases=bases, reason=reason, deployments=int(n), span_days=span_days,
        deployment_frequency_per_day=(n / span_days) if span_days else None,
        change_lead_time_median_s=lead[1], change_lead_time_changes=int(lead[0]),
        change_fail_rate=(failed / n) if n else None, failed_deployments=int(failed),
        recovery_time_median_s=recovery, recovered_incidents=int(recovered),
        caught_before_release=None if basis is None else int(caught),
        deployment_rework_rate=(rework / n) if n else None, rework_deployments=int(rework),
        incidents=sum(by_kind.values()), incidents_by_kind={k: int(v) for k, v in by_kind.items()},
        unlinked_incidents=int(unlinked))
    lv, notes = _levels(figures)
    return replace(figures, levels=lv, level_notes=notes)

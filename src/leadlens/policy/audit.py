"""How history met the policy (`leadlens audit`): every rule over every change in the store.

Per rule: the changes in scope and how many passed, failed, could not be told (unknown) or were
out of the rule's scope (not applicable); compliance per month of merge, pass / (pass + fail); and
whether violating changes really fared worse: the outcome rates of compliant vs violating
changes, each difference with a 95% BCa interval, or "not enough evidence" below the thresholds
(docs/audit.md).
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

import ibis
import numpy as np

from leadlens.analysis.rates import rate_difference
from leadlens.analysis.stats import MIN_N, compare
from leadlens.attribution import Rules
from leadlens.config import DEFAULT_RESAMPLES, DEFAULT_REWORK_DAYS, DEFAULT_SEED, DoraSettings
from leadlens.engines import rows as run_rows
from leadlens.metrics import flow as fm
from leadlens.metrics.dora import incident_linked
from leadlens.metrics.rework import rework_by_change
from leadlens.policy.history import History, history
from leadlens.policy.model import ChangeFacts, Finding

__all__ = ["FAILURE_FIELDS", "OUTCOMES", "Audit", "Evaluate", "MonthCompliance", "OutcomeComparison",
           "RuleAudit", "audit", "audit_history", "document", "failure_rows"]

Evaluate = Callable[[ChangeFacts], list[Finding]]

# The outcomes compared, in order, and why one is null when the store cannot tell.
OUTCOMES = ("revert", "incident", "rework", "defect_escape")
NO_ISSUES_REASON = ("no issue stored for any repository in scope: ingest the forge's issues"
                    " (incidents are issues labelled per incident_labels) for the incident rate")
DEFECT_REASON = "needs issue #10 (defects linked to the changes that caused them)"
NO_LINES_REASON = ("no change in scope has line history: run leadlens ingest git --line-history"
                   " for the rework rate")


@dataclass(frozen=True)
class MonthCompliance:
    month: str  # YYYY-MM of merge
    passed: int
    failed: int
    unknown: int
    compliance: float | None  # passed / (passed + failed); None when neither


@dataclass(frozen=True)
class OutcomeComparison:
    """An outcome's rate among compliant and violating changes; difference = violating - compliant."""

    outcome: str
    n_compliant: int  # changes the outcome is known for
    n_violating: int
    rate_compliant: float | None
    rate_violating: float | None
    difference: float | None
    ci_low: float | None
    ci_high: float | None
    method: str | None
    enough: bool
    reason: str | None  # why the difference is null: not enough evidence, or not measurable here


@dataclass(frozen=True)
class RuleAudit:
    rule: str
    kind: str | None
    changes: int  # changes in scope of the audit
    passed: int
    failed: int
    unknown: int
    not_applicable: int
    compliance: float | None  # over the whole window
    months: tuple[MonthCompliance, ...]
    outcomes: tuple[OutcomeComparison, ...]


@dataclass(frozen=True)
class Audit:
    since: datetime | None
    until: datetime | None
    repos: tuple[str, ...]
    changes: int
    failures: int  # (change, rule) pairs that would have failed
    rules: tuple[RuleAudit, ...]
    notes: tuple[str, ...] = field(default=())


def audit(backend: ibis.BaseBackend, filters: fm.Filters, rules: Rules, evaluate: Evaluate,
          rule_names: Sequence[tuple[str, str]] = (), *, codeowners: str | None = None,
          codeowners_path: str | None = None, rework_days: float = DEFAULT_REWORK_DAYS,
          dora: DoraSettings | None = None, resamples: int = DEFAULT_RESAMPLES,
          seed: int = DEFAULT_SEED) -> tuple[Audit, list[tuple[ChangeFacts, list[Finding]]]]:
    """The audit over the store's changes in ``filters``' scope, and each change's findings (for
    the export of failures). ``rule_names``: (name, kind) of every rule in the policy, so a rule
    no change touched still has its row. ``dora``: the incident labels, production pattern and
    window incidents are linked by (default: DoraSettings's)."""
    h = history(backend, filters, rules, codeowners, codeowners_path)
    try:
        reverted, rework = _outcomes(backend, h, rework_days)
        incidents = _incidents(backend, h, dora)
    finally:
        h.flow.release()
    judged = [(c, evaluate(c)) for c in h.changes]
    result = audit_history(judged, rule_names, reverted, rework, incidents, filters=filters,
                           resamples=resamples, seed=seed)
    return result, judged


def _outcomes(backend: ibis.BaseBackend, h: History, days: float
              ) -> tuple[frozenset[str], dict[str, float] | None]:
    """Reverted change ids, and the rework rate of each change with line history (None: none)."""
    rv = fm.reverts(backend, h.flow)
    reverted = frozenset(r["reverted_id"] for r in run_rows(backend, rv.select("reverted_id")))
    s = h.flow.scope
    per = rework_by_change(backend, s.select("repo", change_id=s.id), days)
    per = per.filter(per.changed_lines > 0)
    found = {r["change_id"]: r["recent_lines"] / r["changed_lines"] for r in run_rows(backend, per)}
    return reverted, (found or None)


def _incidents(backend: ibis.BaseBackend, h: History, settings: DoraSettings | None
               ) -> dict[str, float] | None:
    """Each change's incident-linked flag (1.0 or 0.0) where its repository has incident data
    (None: no repository in scope has)."""
    s = h.flow.scope
    found = incident_linked(backend, s.select("repo", "id"), settings=settings)
    known = {cid: float(v) for cid, v in found.items() if v is not None}
    return known or None


def audit_history(judged: Sequence[tuple[ChangeFacts, list[Finding]]],
                  rule_names: Sequence[tuple[str, str]] = (), reverted: frozenset[str] = frozenset(),
                  rework: dict[str, float] | None = None, incidents: dict[str, float] | None = None,
                  *, filters: fm.Filters | None = None, resamples: int = DEFAULT_RESAMPLES,
                  seed: int = DEFAULT_SEED) -> Audit:
    """The audit of changes already judged: ``judged`` pairs each change with its findings (a
    rule without a finding for a change did not apply to it). ``incidents``: each change's
    incident-linked flag (1.0 or 0.0), for the changes of repositories with incident data."""
    kinds: dict[str, str | None] = {name: kind for name, kind in rule_names}
    verdicts: dict[str, list[tuple[ChangeFacts, str]]] = defaultdict(list)
    for change, findings in judged:
        for name, outcome in _per_rule(findings).items():
            verdicts[name].append((change, outcome))
        for f in findings:
            kinds.setdefault(f.rule, f.kind)
    n = len(judged)
    audits = tuple(_rule(name, kind, n, verdicts.get(name, []), reverted, rework, incidents,
                         resamples, seed) for name, kind in kinds.items())
    failures = sum(r.failed for r in audits)
    scope = filters or fm.Filters()
    notes = () if n else ("no merged change in scope: nothing to audit",)
    return Audit(scope.since, scope.until, scope.repos, n, failures, audits, notes)


_WORST = {"fail": 3, "unknown": 2, "pass": 1, "not_applicable": 0}


def _per_rule(findings: list[Finding]) -> dict[str, str]:
    """A rule may give several findings for one change (one per path, say): the worst counts."""
    out: dict[str, str] = {}
    for f in findings:
        if f.rule not in out or _WORST[f.outcome] > _WORST[out[f.rule]]:
            out[f.rule] = f.outcome
    return out


def _rule(name: str, kind: str | None, n: int, verdicts: list[tuple[ChangeFacts, str]],
          reverted: frozenset[str], rework: dict[str, float] | None,
          incidents: dict[str, float] | None, resamples: int, seed: int) -> RuleAudit:
    counts = Counter(outcome for _, outcome in verdicts)
    months: dict[str, Counter[str]] = defaultdict(Counter)
    for change, outcome in verdicts:
        if change.merged_at is not None and outcome != "not_applicable":
            months[change.merged_at.strftime("%Y-%m")][outcome] += 1
    compliant = [c for c, o in verdicts if o == "pass"]
    violating = [c for c, o in verdicts if o == "fail"]
    outcomes = (
        _compare("revert", [float(c.id in reverted) for c in compliant],
                 [float(c.id in reverted) for c in violating], resamples, seed, binary=True),
        _known("incident", incidents, NO_ISSUES_REASON, compliant, violating, resamples, seed,
               binary=True),
        _known("rework", rework, NO_LINES_REASON, compliant, violating, resamples, seed),
        _null("defect_escape", len(compliant), len(violating), DEFECT_REASON),
    )
    return RuleAudit(
        rule=name, kind=kind, changes=n, passed=counts["pass"], failed=counts["fail"],
        unknown=counts["unknown"], not_applicable=n - counts["pass"] - counts["fail"] - counts["unknown"],
        compliance=_share(counts["pass"], counts["fail"]),
        months=tuple(MonthCompliance(m, c["pass"], c["fail"], c["unknown"], _share(c["pass"], c["fail"]))
                     for m, c in sorted(months.items())),
        outcomes=outcomes)


def _share(passed: int, failed: int) -> float | None:
    return passed / (passed + failed) if passed + failed else None


def _null(outcome: str, n_compliant: int, n_violating: int, reason: str) -> OutcomeComparison:
    return OutcomeComparison(outcome, n_compliant, n_violating, None, None, None, None, None, None,
                             False, reason)


def _known(outcome: str, values: dict[str, float] | None, reason: str,
           compliant: list[ChangeFacts], violating: list[ChangeFacts], resamples: int, seed: int,
           *, binary: bool = False) -> OutcomeComparison:
    """The comparison over the changes ``values`` knows the outcome of; null with ``reason`` when
    it knows none."""
    if values is None:
        return _null(outcome, 0, 0, reason)
    return _compare(outcome, [values[c.id] for c in compliant if c.id in values],
                    [values[c.id] for c in violating if c.id in values], resamples, seed,
                    binary=binary)


def _compare(outcome: str, compliant: list[float], violating: list[float], resamples: int,
             seed: int, *, binary: bool = False) -> OutcomeComparison:
    def rate(xs: list[float]) -> float | None:
        return sum(xs) / len(xs) if xs else None

    if min(len(compliant), len(violating)) < MIN_N:  # compare() would say so too, without work
        short = [f"{len(xs)} {label} changes" for xs, label in
                 ((compliant, "compliant"), (violating, "violating")) if len(xs) < MIN_N]
        return OutcomeComparison(outcome, len(compliant), len(violating), rate(compliant),
                                 rate(violating), None, None, None, None, False,
                                 f"not enough evidence: {' and '.join(short)}, need {MIN_N}")
    if binary:  # a rate: binomial resampling, the same bootstrap at any size (analysis/rates.py)
        found = rate_difference(np.asarray(compliant, dtype=np.float64),
                                np.asarray(violating, dtype=np.float64), resamples=resamples,
                                seed=seed)
        return OutcomeComparison(outcome, len(compliant), len(violating), rate(compliant),
                                 rate(violating), found.estimate, found.low, found.high,
                                 found.method, True, None)
    c = compare(outcome, compliant, violating, statistic="mean", labels=("compliant", "violating"),
                resamples=resamples, seed=seed)
    return OutcomeComparison(outcome, c.n_baseline, c.n_treatment, c.mean_baseline, c.mean_treatment,
                             c.difference, c.ci_low, c.ci_high, c.method, c.enough, c.reason)


def _iso(at: datetime | None) -> str | None:
    if at is None:
        return None
    return (at if at.tzinfo else at.replace(tzinfo=UTC)).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


FAILURE_FIELDS = ("id", "repo", "merged_at", "rule", "kind", "outcome", "files", "message", "fix")


def failure_rows(judged: Sequence[tuple[ChangeFacts, list[Finding]]]) -> Iterator[dict[str, Any]]:
    """One row per change and rule that would have failed, in merge order (docs/audit.md)."""
    for change, findings in judged:
        for f in findings:
            if f.outcome == "fail":
                yield {"id": change.id, "repo": change.repo,
                       "merged_at": _iso(change.merged_at), "rule": f.rule, "kind": f.kind,
                       "outcome": f.outcome, "files": list(f.files), "message": f.message,
                       "fix": f.fix}


def document(result: Audit, policy_path: str | None = None) -> dict[str, Any]:
    """The audit as JSON (docs/audit.md, Output): times as ISO strings, nulls kept."""
    doc = asdict(result)
    doc["since"], doc["until"] = _iso(result.since), _iso(result.until)
    plain: dict[str, Any] = json.loads(json.dumps({"policy": policy_path, **doc}))  # tuples: lists
    return plain

"""Every rule of a policy over one change: one finding per rule, in policy order."""

from __future__ import annotations

from leadlens import attribution
from leadlens.policy.context import Context, identities
from leadlens.policy.model import ChangeFacts, Finding
from leadlens.policy.rules import RULES
from leadlens.policy.spec import Policy, RuleSpec

__all__ = ["evaluate", "scope_finding"]


def _na(spec: RuleSpec, message: str) -> Finding:
    return Finding(rule=spec.name, kind=spec.kind, outcome="not_applicable", message=message)


def _unknown(spec: RuleSpec, message: str) -> Finding:
    return Finding(rule=spec.name, kind=spec.kind, outcome="unknown", message=message,
                   fix="gather the missing fact (run the gate on the pull request)")


def scope_finding(spec: RuleSpec, facts: ChangeFacts, ctx: Context) -> Finding | None:
    """Why the rule does not apply (not_applicable) or cannot tell (unknown); None: in scope."""
    scope = spec.scope
    if scope.labels:
        if facts.labels is None:
            return _unknown(spec, f"the rule covers changes labelled {', '.join(scope.labels)}, and "
                            "the change's labels are unknown")
        if not set(scope.labels) & set(facts.labels):
            return _na(spec, f"no label of {', '.join(scope.labels)}")
    if scope.authors:
        if facts.author is None:
            return _unknown(spec, "the rule covers some authors, and the change's author is unknown")
        mine = identities(facts.author)
        if not any(identities(a) & mine for a in scope.authors):
            return _na(spec, f"the author is not one of {', '.join(scope.authors)}")
    if scope.ai_assisted is not None:
        ai = ctx.ai_assisted()
        if ai is None:
            return _unknown(spec, "whether the change is AI-assisted is unknown")
        if ai is not scope.ai_assisted:
            return _na(spec, "the change is " + ("" if ai else "not ") + "AI-assisted")
    files = ctx.in_scope(spec)
    if (scope.paths or scope.exclude_paths) and not files:
        return _na(spec, "no touched path is in the rule's paths")
    if scope.owners:
        co = ctx.codeowners
        if co is None:
            return _unknown(spec, "the rule covers files by CODEOWNERS owners, and there is no "
                            "CODEOWNERS file")
        wanted = {o.lower() for o in scope.owners}
        if not any(wanted & {o.lower() for o in co.owners_of(f.path)} for f in files):
            return _na(spec, f"no touched path is owned by {', '.join(scope.owners)}")
    return None


def evaluate(policy: Policy, facts: ChangeFacts, *,
             ai_rules: attribution.Rules | None = None) -> list[Finding]:
    """One finding per rule of ``policy`` on the change ``facts``, in the policy's order."""
    ctx = Context(policy, facts, ai_rules or attribution.Rules())
    findings = []
    for spec in policy.rules:
        found = scope_finding(spec, facts, ctx)
        findings.append(found if found is not None else RULES[spec.kind].check(spec, facts, ctx))
    return findings

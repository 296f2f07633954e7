"""The built-in rules: one function each, ``(spec, facts, ctx) -> Finding``, registered in RULES.

A rule sees the whole change (``facts``) and reads the files its scope covers through
``ctx.in_scope(spec)``; the evaluator has already checked the scope's labels, authors, owners
and AI assistance. A fact the rule needs and the source lacks makes it "unknown", never "pass".
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace

from leadlens.attribution import read_message
from leadlens.policy.context import Context
from leadlens.policy.model import Approval, ChangeFacts, Finding, Outcome
from leadlens.policy.secrets import find_secrets
from leadlens.policy.spec import Param, RuleSpec

__all__ = ["RULES", "Rule"]

Check = Callable[[RuleSpec, ChangeFacts, Context], Finding]


@dataclass(frozen=True)
class Rule:
    check: Check
    description: str
    params: dict[str, Param] = field(default_factory=dict)


def _int(spec: RuleSpec, key: str) -> int | None:
    value = spec.params.get(key)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _str(spec: RuleSpec, key: str) -> str | None:
    value = spec.params.get(key)
    return value if isinstance(value, str) else None


def _strs(spec: RuleSpec, key: str) -> tuple[str, ...]:
    value = spec.params.get(key)
    return tuple(str(v) for v in value) if isinstance(value, (tuple, list)) else ()


def _finding(spec: RuleSpec, outcome: Outcome, message: str, fix: str | None = None,
             files: tuple[str, ...] = (), **evidence: object) -> Finding:
    return Finding(rule=spec.name, kind=spec.kind, outcome=outcome, message=message,
                   fix=fix if outcome in ("fail", "unknown") else None, files=files,
                   evidence=evidence)


def _count(ctx: Context, approvals: tuple[Approval, ...], who: Callable[[Approval], bool],
           after_last_push: bool) -> tuple[set[str], set[str]]:
    """Distinct reviewers that count for sure, and those that count if their approval came
    after the last push (unknown timing). The author never counts."""
    sure: set[str] = set()
    maybe: set[str] = set()
    for a in approvals:
        if ctx.by_author(a) or not who(a):
            continue
        if not after_last_push or a.after_last_push is True:
            sure.add(a.reviewer)
        elif a.after_last_push is None:
            maybe.add(a.reviewer)
    return sure, maybe - sure


def _approvals_needed(spec: RuleSpec, facts: ChangeFacts, ctx: Context, need: int,
                      who: Callable[[Approval], bool], whom: str, files: tuple[str, ...]) -> Finding:
    after = spec.params.get("after_last_push") is True
    when = " after the last push" if after else ""
    if facts.approvals is None:
        return _finding(spec, "unknown", "no review data for this change",
                        f"{need} approval(s) from {whom}{when}", files)
    sure, maybe = _count(ctx, facts.approvals, who, after)
    got = sorted(sure)
    if len(sure) >= need:
        return _finding(spec, "pass", f"approved by {', '.join(got)}", files=files, approvers=got)
    if len(sure) + len(maybe) >= need:
        return _finding(spec, "unknown", f"approvals by {', '.join(sorted(maybe))} carry no time: "
                        "whether they came after the last push is unknown",
                        f"{need - len(sure)} more approval(s) from {whom}{when}", files,
                        approvers=got)
    return _finding(spec, "fail", f"{len(sure)} of {need} approval(s) from {whom}{when}",
                    f"{need - len(sure)} more approval(s) from {whom}{when}", files, approvers=got)


def risk_paths(spec: RuleSpec, facts: ChangeFacts, ctx: Context) -> Finding:
    files = tuple(f.path for f in ctx.in_scope(spec))
    group = _str(spec, "group")
    need = _int(spec, "approvals") or 1
    if group is None:
        return _approvals_needed(spec, facts, ctx, need, lambda a: not a.is_bot, "anyone", files)
    members = ctx.members(group)
    return _approvals_needed(spec, facts, ctx, need,
                             lambda a: any(ctx.approves_as(a, m) for m in members),
                             f"{group} ({', '.join(members)})", files)


def _owned_by(ctx: Context, owners: tuple[str, ...]) -> Callable[[Approval], bool]:
    return lambda a: any(ctx.approves_as(a, owner) for owner in owners)


def codeowners(spec: RuleSpec, facts: ChangeFacts, ctx: Context) -> Finding:
    co = ctx.codeowners
    if co is None:
        return _finding(spec, "not_applicable", "the repository has no CODEOWNERS file")
    owned = {f.path: co.owners_of(f.path) for f in ctx.in_scope(spec)}
    owned = {path: owners for path, owners in owned.items() if owners}
    errors = [str(e) for e in co.errors]
    if not owned:
        return _finding(spec, "pass", "no touched file has a code owner", errors=errors)
    after = spec.params.get("after_last_push") is True
    if facts.approvals is None:
        return _finding(spec, "unknown", "no review data for this change",
                        "an approval from a code owner of each file", tuple(owned), errors=errors)
    missing: dict[str, tuple[str, ...]] = {}
    unsure: list[str] = []
    counted: dict[tuple[str, ...], tuple[set[str], set[str]]] = {}
    for path, owners in owned.items():
        if owners not in counted:
            counted[owners] = _count(ctx, facts.approvals, _owned_by(ctx, owners), after)
        sure, maybe = counted[owners]
        if sure:
            continue
        if maybe:
            unsure.append(path)
        else:
            missing[path] = owners
    if missing:
        wants = "; ".join(f"{p}: {' or '.join(o)}" for p, o in sorted(missing.items()))
        return _finding(spec, "fail", f"{len(missing)} file(s) lack a code owner's approval",
                        f"approval from a code owner — {wants}", tuple(sorted(missing)),
                        errors=errors)
    if unsure:
        return _finding(spec, "unknown", "code-owner approvals carry no time",
                        "a code owner's approval after the last push", tuple(sorted(unsure)),
                        errors=errors)
    return _finding(spec, "pass", f"{len(owned)} owned file(s) approved by their owners",
                    files=tuple(sorted(owned)), errors=errors)


def tests_with_code(spec: RuleSpec, facts: ChangeFacts, ctx: Context) -> Finding:
    sources, tests = ctx.policy.globs(_strs(spec, "source")), ctx.policy.globs(_strs(spec, "tests"))
    code = tuple(f.path for f in ctx.in_scope(spec)
                 if f.status != "D" and sources.matches(f.path) and not tests.matches(f.path))
    if not code:
        return _finding(spec, "not_applicable", "no source file changed")
    touched = tuple(f.path for f in facts.files if tests.matches(f.path))
    if touched:
        return _finding(spec, "pass", f"tests changed: {', '.join(touched[:5])}", files=code)
    return _finding(spec, "fail", f"{len(code)} source file(s) changed and no test did",
                    f"add or change a test (a file matching {', '.join(tests.patterns[:4])}, ...)",
                    code)


def checks_green(spec: RuleSpec, facts: ChangeFacts, ctx: Context) -> Finding:
    names = list(_strs(spec, "checks"))
    if facts.checks is None:
        return _finding(spec, "unknown", "no CI data for the head commit (or no permission to "
                        "read checks)", f"checks {', '.join(names)} succeeding on the head commit")
    accept = {a.lower() for a in _strs(spec, "accept")}
    latest = {c.name: c.conclusion for c in facts.checks}  # the last run of a name wins
    missing = [n for n in names if n not in latest]
    failed = [f"{n} ({latest[n]})" for n in names if n in latest and latest[n] is not None
              and str(latest[n]).lower() not in accept]
    pending = [n for n in names if n in latest and latest[n] is None]
    if missing or failed:
        what = "; ".join(([f"did not run: {', '.join(missing)}"] if missing else [])
                         + ([f"did not succeed: {', '.join(failed)}"] if failed else []))
        return _finding(spec, "fail", what, f"checks {', '.join(missing + failed)} succeeding on "
                        "the head commit", missing=missing, failed=failed)
    if pending:
        return _finding(spec, "unknown", f"still running: {', '.join(pending)}",
                        f"wait for {', '.join(pending)} to succeed", pending=pending)
    return _finding(spec, "pass", f"succeeded: {', '.join(names)}")


def contracts(spec: RuleSpec, facts: ChangeFacts, ctx: Context) -> Finding:
    g = {k: ctx.policy.globs(_strs(spec, k)) for k in ("contracts", "contract_tests", "version_files")}
    changed = tuple(f.path for f in ctx.in_scope(spec) if g["contracts"].matches(f.path))
    if not changed:
        return _finding(spec, "not_applicable", "no interface contract changed")
    tested = any(g["contract_tests"].matches(f.path) for f in facts.files)
    bumped = any(g["version_files"].matches(f.path) for f in facts.files)
    require = _str(spec, "require") or "either"
    ok = {"either": tested or bumped, "both": tested and bumped, "tests": tested,
          "version": bumped}[require]
    wants = {"either": "a contract-test change or a version bump",
             "both": "a contract-test change and a version bump", "tests": "a contract-test change",
             "version": "a version bump"}[require]
    if not ok:
        return _finding(spec, "fail", f"contract(s) changed without {wants}", wants, changed)
    ai = ctx.ai_assisted()
    if ai is False:
        return _finding(spec, "pass", f"contract change comes with {wants}", files=changed)
    humans = None if facts.approvals is None else [a for a in facts.approvals if ctx.human(a)]
    if humans:
        return _finding(spec, "pass", f"contract change comes with {wants} and a human approval",
                        files=changed)
    if humans is None or ai is None:
        why = "no review data" if humans is None else "whether the change is AI-assisted is unknown"
        return _finding(spec, "unknown", f"{why}: an AI-assisted contract change needs a human "
                        "approval", "an approval by a person (not the author, a bot or an AI)", changed)
    return _finding(spec, "fail", "an AI-assisted contract change has no human approval",
                    "an approval by a person (not the author, a bot or an AI)", changed)


def _trailer_keys(trailers: tuple[tuple[str, str], ...], message: str) -> set[str]:
    """The commit's trailer keys, lower-cased: the ones given, else read from the message."""
    if trailers:
        return {key.lower() for key, _ in trailers}
    return {t.key.lower() for t in read_message(message)[2]}


def ai_traceable(spec: RuleSpec, facts: ChangeFacts, ctx: Context) -> Finding:
    if not facts.commits:
        return _finding(spec, "unknown", "no commit data for this change",
                        "AI-assisted commits carrying Assisted-by: and a session trailer")
    ai = [c for c in facts.commits if ctx.commit_ai(c)]
    if not ai:
        return _finding(spec, "not_applicable", "no AI-assisted commit")
    named = _strs(spec, "attribution_trailers")
    attribution = {k.lower() for k in named}
    sessions = {k.lower() for k in _strs(spec, "session_trailers")}
    bad: dict[str, list[str]] = {}
    for c in ai:
        keys = _trailer_keys(c.trailers, c.message)
        lacks = ([] if keys & attribution else [" or ".join(named)]) + (
            [] if keys & sessions else ["a session trailer"])
        if lacks:
            bad[c.sha] = lacks
    if bad:
        said = "; ".join(f"{sha[:12]} lacks {', '.join(w)}" for sha, w in bad.items())
        return _finding(spec, "fail", f"{len(bad)} of {len(ai)} AI-assisted commit(s) cannot be "
                        f"traced: {said}", "add trailers, e.g. `Assisted-by: <tool>` and "
                        "`AI-Session: <id>` (or the tool's own, such as Claude-Session:)",
                        commits=list(bad))
    return _finding(spec, "pass", f"{len(ai)} AI-assisted commit(s) carry attribution and session")


def no_secrets(spec: RuleSpec, facts: ChangeFacts, ctx: Context) -> Finding:
    files = ctx.in_scope(spec)
    unread = [f.path for f in files if f.added_lines is None and f.status != "D" and f.added != 0]
    found = find_secrets(f for f in files if f.added_lines)
    if found:
        lines = tuple((path, line) for path, line, _ in found)
        kinds = sorted({kind for _, _, kind in found})
        finding = _finding(spec, "fail", f"{len(found)} added line(s) look like secrets "
                           f"({', '.join(kinds)})", "remove the secret, rotate it, and load it from "
                           "the environment or a secret store", tuple(sorted({p for p, _ in lines})))
        return replace(finding, lines=lines)
    if unread:
        return _finding(spec, "unknown", f"the added lines of {len(unread)} file(s) are not "
                        "available to scan", "run the gate where the diff can be read", tuple(unread))
    return _finding(spec, "pass", "no added line looks like a secret")


def size(spec: RuleSpec, facts: ChangeFacts, ctx: Context) -> Finding:
    files = ctx.in_scope(spec)
    label = _str(spec, "override_label")
    if label and facts.labels is not None and label in facts.labels:
        return _finding(spec, "pass", f"size limits overridden by the label {label!r}")
    max_files, max_lines = _int(spec, "max_files"), _int(spec, "max_lines")
    over = []
    if max_files is not None and len(files) > max_files:
        over.append(f"{len(files)} files > {max_files}")
    counted = [(f.added or 0) + (f.deleted or 0) for f in files]
    lines = sum(counted)
    unknown_lines = any(f.added is None or f.deleted is None for f in files)
    if max_lines is not None and lines > max_lines:
        over.append(f"{lines} changed lines > {max_lines}")
    fix = "split the change" + (f", or add the label {label!r}" if label else "")
    if over:
        return _finding(spec, "fail", "too big: " + "; ".join(over), fix, file_count=len(files),
                        lines=lines)
    if unknown_lines and max_lines is not None:
        return _finding(spec, "unknown", f"{lines} changed lines counted, but some files' line "
                        "counts are unknown (binary files)", fix)
    return _finding(spec, "pass", f"{len(files)} files, {lines} changed lines")


def no_self_approval(spec: RuleSpec, facts: ChangeFacts, ctx: Context) -> Finding:
    if facts.approvals is None or facts.author is None:
        return _finding(spec, "unknown", "no review data" if facts.approvals is None else
                        "the change's author is unknown", "approvals by people other than the author")
    own = [a.reviewer for a in facts.approvals if ctx.by_author(a)]
    if own:
        return _finding(spec, "fail", f"the author approved their own change ({', '.join(own)})",
                        "an approval by someone other than the author (the author's own never counts)")
    return _finding(spec, "pass", "no approval by the author")


def ai_human_review(spec: RuleSpec, facts: ChangeFacts, ctx: Context) -> Finding:
    ai = ctx.ai_assisted()
    if ai is False:
        return _finding(spec, "not_applicable", "the change is not AI-authored")
    need = _int(spec, "approvals") or 1
    found = _approvals_needed(spec, facts, ctx, need, ctx.human,
                              "a person (not a bot or an AI reviewer)", ())
    if ai is None and found.outcome == "fail":
        return _finding(spec, "unknown", "whether the change is AI-authored is unknown, and it "
                        f"has no human approval: {found.message}", found.fix)
    return found


_AFTER = Param("bool", False, help="count only approvals given after the last push")
_DEFAULT_SOURCE = ("**/*.py", "**/*.{js,jsx,ts,tsx,mjs,cjs}", "**/*.go", "**/*.{java,kt,scala}",
                   "**/*.{rb,rs,php,cs,swift,c,cc,cpp,h,hpp}")
_DEFAULT_TESTS = ("test/", "tests/", "spec/", "**/__tests__/", "**/src/test/", "**/test_*.py",
                  "**/*_test.py", "**/*_test.go", "**/*.{test,spec}.{js,jsx,ts,tsx}",
                  "**/*Test.{java,kt}", "**/*_spec.rb")
_DEFAULT_CONTRACTS = ("**/*.proto", "**/openapi*.{yaml,yml,json}", "**/*.graphql",
                      "**/*.schema.json", "**/*.pyi")
_DEFAULT_CONTRACT_TESTS = ("**/contract/", "**/contracts/", "**/*contract*test*", "**/pact/",
                           "**/pacts/")
_DEFAULT_VERSION = ("**/VERSION", "**/version.txt", "**/package.json", "**/pyproject.toml",
                    "**/setup.cfg", "**/Cargo.toml", "**/*.gemspec", "**/CHANGELOG*")
_SESSIONS = ("AI-Session", "Claude-Session", "Amp-Thread-ID", "Amp-Thread", "Codex-Session",
             "Cursor-Session", "Aider-Session")

RULES: dict[str, Rule] = {
    "risk-paths": Rule(risk_paths, "paths in scope need N approvals from a named group", {
        "approvals": Param("int", 1, help="how many distinct approvers"),
        "group": Param("str", None, optional=True, help="the group they come from (any person if unset)"),
        "after_last_push": _AFTER}),
    "codeowners": Rule(codeowners, "every touched path's CODEOWNERS owners approved",
                       {"after_last_push": _AFTER}),
    "tests-with-code": Rule(tests_with_code, "source changes come with test changes", {
        "source": Param("globs", _DEFAULT_SOURCE, help="what counts as source"),
        "tests": Param("globs", _DEFAULT_TESTS, help="what counts as a test")}),
    "checks-green": Rule(checks_green, "named CI checks succeeded on the head commit", {
        "checks": Param("strs", None, help="the check names (required)"),
        "accept": Param("strs", ("success", "neutral", "skipped"), help="conclusions that count as green")}),
    "contracts": Rule(contracts, "interface contract changes come with a contract test and/or a "
                      "version bump, and a human approval when AI-assisted", {
        "contracts": Param("globs", _DEFAULT_CONTRACTS, help="the interface contracts"),
        "contract_tests": Param("globs", _DEFAULT_CONTRACT_TESTS, help="contract tests"),
        "version_files": Param("globs", _DEFAULT_VERSION, help="files whose change is a version bump"),
        "require": Param("str", "either", help="either | both | tests | version")}),
    "ai-traceable": Rule(ai_traceable, "AI-assisted commits carry Assisted-by: and a session trailer", {
        "attribution_trailers": Param("strs", ("Assisted-by",), help="one of these trailers"),
        "session_trailers": Param("strs", _SESSIONS, help="and one of these")}),
    "no-secrets": Rule(no_secrets, "no added line looks like a secret (detect-secrets)"),
    "size": Rule(size, "at most max_lines changed lines and max_files files, unless labelled", {
        "max_lines": Param("int", None, optional=True, help="changed lines (added + deleted)"),
        "max_files": Param("int", None, optional=True, help="files touched"),
        "override_label": Param("str", None, optional=True, help="a label that lifts the limits")}),
    "no-self-approval": Rule(no_self_approval, "the author's own approval is a violation"),
    "ai-human-review": Rule(ai_human_review, "an AI-authored change needs a person's approval", {
        "approvals": Param("int", 1, help="how many people"), "after_last_push": _AFTER}),
}

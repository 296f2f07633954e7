"""The gate's outputs from its findings: terminal lines, JSON, SARIF 2.1.0 and GitHub workflow
annotations (docs/gate.md). Text from a repository (paths, messages quoting it) is escaped for each
format here; the terminal's control characters are stripped by the console that prints the lines.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from leadlens import __version__
from leadlens.policy.model import Finding

__all__ = ["GateResult", "escape_data", "escape_property", "failing", "github_annotations",
           "sarif", "terminal_lines", "to_json"]

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
# GitHub shows 10 error annotations per step; more than that are dropped by it, not by us.
MAX_ANNOTATIONS_PER_FINDING = 10
# GitHub code scanning keeps the first 1,000 locations of a result.
MAX_LOCATIONS = 1000


@dataclass(frozen=True)
class GateResult:
    """One run of the gate: what it judged, the findings, and whether unknown fails."""

    change: str
    findings: Sequence[Finding]
    strict: bool = False
    policy_path: str | None = None  # where the rules are written (the location of change-wide findings)
    notes: Sequence[str] = ()  # facts that could not be read, and why
    rule_lines: Mapping[str, int] = field(default_factory=dict)  # rule name -> its line there

    @property
    def failed(self) -> list[Finding]:
        return failing(self.findings, strict=self.strict)

    @property
    def exit_code(self) -> int:
        return 1 if self.failed else 0


def failing(findings: Iterable[Finding], *, strict: bool) -> list[Finding]:
    """The findings that fail the gate: "fail", and with ``strict`` "unknown" too."""
    bad = ("fail", "unknown") if strict else ("fail",)
    return [f for f in findings if f.outcome in bad]


_LABEL = {"pass": "pass", "fail": "FAIL", "unknown": "unknown", "not_applicable": "n/a"}


def terminal_lines(result: GateResult, *, max_files: int = 3) -> list[str]:
    """One line per rule: outcome, rule, files, what is wrong and what would satisfy it."""
    lines = []
    for f in result.findings:
        files = ", ".join(f.files[:max_files])
        if len(f.files) > max_files:
            files += f" and {len(f.files) - max_files:,} more"
        parts = [f"{_LABEL[f.outcome]:<7} {f.rule}"]
        if files:
            parts.append(f"[{files}]")
        parts.append(f.message)
        text = " ".join(parts)
        if f.fix and f.outcome in ("fail", "unknown"):
            text += f" -> {f.fix}"
        lines.append(text)
    counts = {o: sum(f.outcome == o for f in result.findings) for o in _LABEL}
    verdict = "FAILED" if result.failed else "passed"
    lines.append(f"gate {verdict} on {result.change}: {counts['fail']} failing,"
                 f" {counts['unknown']} unknown{' (failing: --strict)' if result.strict else ''},"
                 f" {counts['pass']} passing, {counts['not_applicable']} not applicable")
    lines.extend(f"note: {n}" for n in result.notes)
    return lines


def _finding_json(f: Finding) -> dict[str, Any]:
    return {
        "rule": f.rule, "kind": f.kind, "outcome": f.outcome, "level": f.level,
        "message": f.message, "fix": f.fix, "files": list(f.files),
        "lines": [{"path": p, "line": n} for p, n in f.lines],
        "evidence": f.evidence,
    }


def to_json(result: GateResult) -> str:
    """The JSON document (docs/gate.md, "JSON")."""
    doc = {
        "change": result.change,
        "outcome": "fail" if result.failed else "pass",
        "exit_code": result.exit_code,
        "strict": result.strict,
        "policy": result.policy_path,
        "counts": {o: sum(f.outcome == o for f in result.findings) for o in _LABEL},
        "findings": [_finding_json(f) for f in result.findings],
        "notes": list(result.notes),
        "leadlens_version": __version__,
    }
    return json.dumps(doc, indent=2, default=str) + "\n"


def _uri(path: str) -> str:
    """A repository path as a relative URI reference: percent-encoded, so a name with spaces,
    ``#``, ``?`` or ``%`` stays one path."""
    return quote(path, safe="/")


def _locations(f: Finding, policy_path: str | None, rule_line: int | None
               ) -> list[dict[str, Any]]:
    locs: list[dict[str, Any]] = []
    for path, line in f.lines:
        locs.append({"physicalLocation": {"artifactLocation": {"uri": _uri(path)},
                                          "region": {"startLine": max(line, 1)}}})
    lined = {p for p, _ in f.lines}
    locs.extend({"physicalLocation": {"artifactLocation": {"uri": _uri(p)}}}
                for p in f.files if p not in lined)
    if not locs and policy_path:  # a change-wide finding (checks, approvals): where the rule is
        where: dict[str, Any] = {"artifactLocation": {"uri": _uri(policy_path)}}
        if rule_line:
            where["region"] = {"startLine": rule_line}
        locs.append({"physicalLocation": where})
    return locs[:MAX_LOCATIONS]


def sarif(result: GateResult, descriptions: Mapping[str, str]) -> str:
    """SARIF 2.1.0 for code scanning: a result per failing or unknown finding. Failing ones are
    ``kind: fail`` at the finding's level; unknown ones ``kind: open`` (the tool could not tell)
    at level ``none``, or with ``strict`` failures like the rest. ``descriptions``: built-in
    rule kind -> one sentence (the rules' registry)."""
    rules: list[dict[str, Any]] = []
    index: dict[str, int] = {}
    for f in result.findings:
        if f.rule not in index:
            index[f.rule] = len(rules)
            rules.append({
                "id": f.rule, "name": f.kind,
                "shortDescription": {"text": descriptions.get(f.kind) or f"{f.kind} rule"},
                "defaultConfiguration": {"level": f.level},
                "properties": {"kind": f.kind},
            })
    results = []
    failed = {id(f) for f in result.failed}
    for f in result.findings:
        if f.outcome not in ("fail", "unknown"):
            continue
        fails = id(f) in failed
        text = f.message if f.outcome == "fail" else f"unknown: {f.message}"
        if f.fix:
            text += f" To satisfy it: {f.fix}"
        extra = len(f.lines) + len(f.files) - MAX_LOCATIONS
        if extra > 0:
            text += f" ({extra:,} more locations not listed)"
        results.append({
            "ruleId": f.rule, "ruleIndex": index[f.rule],
            "kind": "fail" if fails else "open",
            "level": f.level if fails else "none",
            "message": {"text": text},
            "locations": _locations(f, result.policy_path, result.rule_lines.get(f.rule)),
            "properties": {"outcome": f.outcome, "change": result.change},
        })
    doc = {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "leadlens", "version": __version__, "rules": rules}},
            "automationDetails": {"id": "leadlens-gate/"},
            "results": results,
            "invocations": [{"executionSuccessful": True,
                             "toolExecutionNotifications": [
                                 {"message": {"text": n}, "level": "warning"}
                                 for n in result.notes]}],
        }],
    }
    return json.dumps(doc, indent=2) + "\n"


def escape_data(text: str) -> str:
    """A workflow command's message, as GitHub's toolkit escapes it (``escapeData``)."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """A workflow command's property value (``escapeProperty``): also ``:`` and ``,``."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


_COMMAND = {"error": "error", "warning": "warning", "note": "notice"}


def github_annotations(result: GateResult) -> str:
    """``::error file=PATH,line=N,title=RULE::MESSAGE`` lines for failing findings (``warning``
    for unknown ones unless ``strict``), then a summary line GitHub prints as plain log text."""
    out = []
    failed = {id(f) for f in result.failed}
    for f in result.findings:
        if f.outcome not in ("fail", "unknown"):
            continue
        command = _COMMAND[f.level] if id(f) in failed else "warning"
        message = f.message if f.outcome == "fail" else f"unknown: {f.message}"
        if f.fix:
            message += f" To satisfy it: {f.fix}"
        if len(f.files) > 1:
            message += f" ({len(f.files):,} files)"
        spots: list[tuple[str | None, int | None]] = [(p, n) for p, n in f.lines]
        if not spots:
            spots = [(f.files[0], None)] if f.files else [(None, None)]
        for path, line in spots[:MAX_ANNOTATIONS_PER_FINDING]:
            props = []
            if path is not None:
                props.append(f"file={escape_property(path)}")
            if line is not None:
                props.append(f"line={line}")
            props.append(f"title={escape_property(f'leadlens {f.rule}')}")
            out.append(f"::{command} {','.join(props)}::{escape_data(message)}")
    verdict = "failed" if result.failed else "passed"
    out.append(escape_data(f"leadlens gate {verdict} on {result.change}:"
                           f" {len(result.failed)} failing finding(s)"))
    return "\n".join(out) + "\n"

"""`leadlens audit`: how the store's history met the policy, rule by rule."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from leadlens.cli.app import app, err, out
from leadlens.cli.derive import warn_stale
from leadlens.cli.options import (
    BotsOpt,
    RepoOpt,
    SinceOpt,
    StoreOpt,
    UntilOpt,
    check_format,
    check_out,
    emit,
    filters,
    open_out,
    to_terminal,
)
from leadlens.config import Settings, load_settings
from leadlens.errors import UserError
from leadlens.report.text import safe_text

if TYPE_CHECKING:
    from leadlens.metrics.flow import Filters
    from leadlens.policy.spec import Policy
    from leadlens.store import Store

__all__: list[str] = []

AUDIT_FORMATS = ("table", "json", "html", "jsonl", "csv")


def _read(path: Path, what: str) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UserError(f"{what} {path} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"cannot read {what} {path}: {exc}") from None


def load(policy_file: Path | None) -> Policy:
    """The policy of ``--policy FILE``, else the one of the current directory (leadlens.toml's
    [policy], or .leadlens/policy.toml); a missing or empty policy is the user's to fix."""
    from leadlens.policy.config import load_policy, parse_policy

    if policy_file is not None:
        policy = parse_policy(_read(policy_file, "policy file"), str(policy_file))
    else:
        policy = load_policy(Path.cwd())
    if policy is None or not policy.rules:
        where = policy_file or "leadlens.toml's [policy] or .leadlens/policy.toml"
        raise UserError(f"no policy rules in {where}: write one (docs/policy.md) or pass --policy FILE")
    return policy


def audit_of(st: Store, scope: Filters, settings: Settings, policy: Policy,
             policy_file: Path | None, owners: str | None, codeowners: Path | None
             ) -> tuple[Any, Any, dict[str, Any]]:
    """The audit of ``st``'s changes in ``scope``: its result, the judged changes and the
    document (`leadlens audit` and `leadlens report --audit` share it)."""
    from leadlens import engines
    from leadlens.attribution import Rules
    from leadlens.policy.audit import audit, document
    from leadlens.policy.evaluator import evaluate

    rules = Rules.of(settings.ai)
    result, judged = audit(
        engines.connect(st), scope, rules, lambda facts: evaluate(policy, facts, ai_rules=rules),
        [(r.name, r.kind) for r in policy.rules], codeowners=owners,
        codeowners_path=str(codeowners) if codeowners else None,
        rework_days=settings.rework_days, dora=settings.dora)
    return result, judged, document(result, policy.path or (str(policy_file) if policy_file
                                                             else None))


def read_codeowners(codeowners: Path | None) -> str | None:
    """``--codeowners FILE``'s text, its bad lines named on standard error (skipped, as GitHub
    skips them)."""
    owners = _read(codeowners, "CODEOWNERS file") if codeowners is not None else None
    if owners is not None:
        from leadlens.policy.codeowners import parse

        for problem in parse(owners, str(codeowners)).errors:
            err.print(f"warning: {codeowners}: {problem} (line skipped)", highlight=False,
                      markup=False)
    return owners


@app.command("audit")
def audit_cmd(
    store: StoreOpt = None,
    policy_file: Annotated[Path | None, typer.Option(
        "--policy", help="The policy file (default: leadlens.toml's [policy], or"
        " .leadlens/policy.toml, in the current directory).")] = None,
    codeowners: Annotated[Path | None, typer.Option(
        "--codeowners", help="A CODEOWNERS file to apply to every change (the store keeps"
        " none: without it the codeowners rule says unknown).")] = None,
    fmt: Annotated[str, typer.Option(
        "--format", help="table | json | html (the summary); jsonl | csv (the changes that would"
        " have failed)")] = "table",
    out_file: Annotated[Path | None, typer.Option(
        "--out", help="Write here (default: standard output; HTML: audit.html beside the"
        " store).")] = None,
    since: SinceOpt = None,
    until: UntilOpt = None,
    repo: RepoOpt = None,
    include_bots: BotsOpt = False,
) -> None:
    """Every policy rule over the history in the store: compliance per month, the changes that
    would have failed, and whether violating changes were reverted or reworked more."""
    check_format(fmt, AUDIT_FORMATS)
    settings = load_settings()
    scope = filters(since, until, repo, include_bots, settings)
    store_path = Path(store or settings.store)
    check_out(out_file, store_path)
    policy = load(policy_file)
    owners = read_codeowners(codeowners)
    if not store_path.exists():
        raise UserError(f"no store at {store_path}: run leadlens ingest first")
    from leadlens.store import open_store
    from leadlens.store.db import limit_memory

    with open_store(store_path, read_only=True) as st:
        warn_stale(st, settings)
        limit_memory(st, settings.memory_limit)
        result, judged, doc = audit_of(st, scope, settings, policy, policy_file, owners, codeowners)
    for note in result.notes if fmt != "table" else ():  # the table says them itself
        err.print(f"note: {note}", highlight=False, markup=False)
    if fmt in ("jsonl", "csv"):
        _export(fmt, judged, out_file, store_path)
    elif fmt == "json":
        emit(json.dumps(doc, indent=2, ensure_ascii=False) + "\n", out_file, store=store_path)
    elif fmt == "html":
        from datetime import UTC, datetime

        from leadlens.report.audit import render_audit_html

        target = out_file or store_path.parent / "audit.html"
        emit(render_audit_html(doc, datetime.now(UTC)), target, store=store_path)
        err.print("HTML audit written to:", highlight=False)
        out.print(safe_text(str(target.resolve())), highlight=False, soft_wrap=True)
    else:
        from leadlens.report.audit import audit_table

        emit(audit_table(doc), out_file, store=store_path)


def _export(fmt: str, judged: Any, out_file: Path | None, store_path: Path) -> None:
    from leadlens.policy.audit import FAILURE_FIELDS, failure_rows
    from leadlens.report.changes import CsvRows

    rows = failure_rows(judged)
    if to_terminal(out_file):
        rows = ({k: safe_text(v) if isinstance(v, str) else v for k, v in r.items()} for r in rows)
    with open_out(out_file, store=store_path) as fh:
        if fmt == "jsonl":
            for r in rows:
                fh.write(json.dumps(r, ensure_ascii=False) + "\n")
            return
        w = CsvRows(fh, list(FAILURE_FIELDS))
        w.write({f: f for f in FAILURE_FIELDS})
        for r in rows:
            w.write({**r, "files": " ".join(r["files"])})

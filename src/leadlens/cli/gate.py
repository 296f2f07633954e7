"""`leadlens gate`: the policy's rules on one change; exit 0 pass, 1 a rule fails, 2 bad input."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from leadlens.cli.app import app, err, out
from leadlens.cli.options import StoreOpt, check_format, check_out, emit
from leadlens.config import DEFAULT_GITHUB_TOKEN_ENV, load_settings
from leadlens.errors import UserError
from leadlens.report.text import safe_text

if TYPE_CHECKING:
    from leadlens.cli.gate_facts import Gathered
    from leadlens.config import Settings
    from leadlens.policy.formats import GateResult

__all__: list[str] = []

GATE_FORMATS = ("text", "json", "sarif", "github")


@app.command("gate")
def gate_cmd(
    path: Annotated[Path, typer.Argument(
        metavar="PATH", help="The git repository (with --base/--head).")] = Path("."),
    base: Annotated[str | None, typer.Option(
        "--base", help="The revision the change goes into (a branch, tag or SHA).")] = None,
    head: Annotated[str | None, typer.Option(
        "--head", help="The change's last commit (default HEAD).")] = None,
    github: Annotated[str | None, typer.Option(
        "--github", metavar="OWNER/REPO#N", help="Gate this pull request through GitHub's API.")
    ] = None,
    policy: Annotated[Path | None, typer.Option(
        "--policy", help="The policy file (default: the policy of the base revision or branch:"
        " .leadlens/policy.toml, else [policy] in leadlens.toml).")] = None,
    fmt: Annotated[str, typer.Option("--format", help="text | json | sarif | github")] = "text",
    out_file: Annotated[Path | None, typer.Option("--out", help="Write here, not stdout.")] = None,
    strict: Annotated[bool, typer.Option(
        "--strict", help="A rule that cannot tell (unknown) fails the gate too.")] = False,
    store: StoreOpt = None,
    token_env: Annotated[str, typer.Option(
        "--token-env", help="Environment variable holding the GitHub token.")
    ] = DEFAULT_GITHUB_TOKEN_ENV,
    api_url: Annotated[str | None, typer.Option(
        "--api-url", help="REST API URL (GitHub Enterprise: https://HOST/api/v3).")] = None,
    trust_settings_api_url: Annotated[bool, typer.Option(
        "--trust-settings-api-url", help="Send the token to the github_api_url setting's host.")
    ] = False,
) -> None:
    """Judge one change by the policy's rules: exit 0 when none fails, 1 when one does."""
    check_format(fmt, GATE_FORMATS)
    if (github is None) == (base is None):
        raise UserError("name the change: --base REV [--head REV] for git, or --github"
                        " OWNER/REPO#N for a pull request (one of them)")
    if github is not None and head is not None:
        raise UserError("--head goes with --base; --github reads the pull request's head")
    settings = load_settings()
    store_path = Path(store or settings.store)
    check_out(out_file, store_path)
    from leadlens.cli.gate_facts import git_facts, github_facts

    if github is not None:
        gathered = github_facts(github, settings, token_env=token_env, api_url=api_url,
                                trust_settings_api_url=trust_settings_api_url)
    else:
        gathered = git_facts(path, base or "", head or "HEAD", settings,
                             store_path if store is not None or store_path.is_file() else None)
    result = _judge(gathered, policy, strict, settings)
    _render(result, fmt, out_file, store_path)
    if result.exit_code:
        raise typer.Exit(result.exit_code)


def _judge(gathered: Gathered, policy_file: Path | None, strict: bool, settings: Settings
           ) -> GateResult:
    from leadlens.attribution import Rules
    from leadlens.policy.config import parse_policy
    from leadlens.policy.evaluator import evaluate
    from leadlens.policy.formats import GateResult

    if policy_file is not None:
        try:
            text = policy_file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise UserError(f"cannot read the policy {policy_file}: {exc}") from None
        where = str(policy_file)
    elif gathered.policy_text is not None:
        where, text = gathered.policy_text
    else:
        raise UserError(f"no policy for {gathered.facts.id}: the base has neither"
                        " .leadlens/policy.toml nor a [policy] table in leadlens.toml (or pass"
                        " --policy FILE)")
    policy = parse_policy(text, where)
    if not policy.rules:
        raise UserError(f"{where}: the policy has no rules: nothing to gate on")
    findings = evaluate(policy, gathered.facts, ai_rules=Rules.of(settings.ai))
    return GateResult(change=gathered.facts.id, findings=findings, strict=strict,
                      policy_path=where if policy_file is None else None,
                      notes=tuple(gathered.notes),
                      rule_lines={r.name: r.line for r in policy.rules if r.line})


def descriptions() -> dict[str, str]:
    """Built-in rule kind -> its one-sentence description, from the rules' registry."""
    from leadlens.policy.rules import RULES

    out: dict[str, str] = {}
    for kind, rule in RULES.items():
        text = getattr(rule, "description", None) or getattr(rule, "summary", None) \
            or (rule.__doc__ or "").strip().split("\n")[0]
        out[kind] = str(text)
    return out


def _render(result: GateResult, fmt: str, out_file: Path | None, store: Path) -> None:
    from leadlens.policy import formats

    if fmt == "json":
        emit(formats.to_json(result), out_file, store=store)
    elif fmt == "sarif":
        emit(formats.sarif(result, descriptions()), out_file, store=store)
    elif fmt == "github":
        emit(formats.github_annotations(result), out_file, store=store)
    elif out_file is not None:
        emit("".join(safe_text(line) + "\n" for line in formats.terminal_lines(result)),
             out_file, store=store)
    else:
        lines = formats.terminal_lines(result)
        for line in lines[:-1 - len(result.notes)]:
            out.print(safe_text(line), highlight=False, soft_wrap=True)
        for line in lines[len(lines) - 1 - len(result.notes):]:
            err.print(safe_text(line), highlight=False, soft_wrap=True)

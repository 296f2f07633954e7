"""Every built-in rule both ways, and the facts whose absence makes a rule say "unknown"."""

from __future__ import annotations

import time
from dataclasses import replace

import pytest

from leadlens.policy.config import parse_policy
from leadlens.policy.evaluator import evaluate
from leadlens.policy.model import Approval, ChangeFacts, Check, CommitFacts, FileChange, Finding

GROUPS = '[policy.groups]\nseniors = ["alice", "bob"]\nplatform = ["@acme/platform", "dora"]\n'


def run(rule: str, facts: ChangeFacts, groups: str = GROUPS) -> Finding:
    (finding,) = evaluate(parse_policy(f'{groups}[[policy.rules]]\nname = "r"\n{rule}\n',
                                       "leadlens.toml"), facts)
    return finding


def change(*paths: str, **kw: object) -> ChangeFacts:
    files = tuple(FileChange(p, added=10, deleted=2) for p in paths)
    return ChangeFacts(id="o/r#1", repo="o/r", author=str(kw.pop("author", "erin")), files=files,
                       **kw)  # type: ignore[arg-type]


def ok(who: str, after: bool | None = True, **kw: object) -> Approval:
    return Approval(who, None, after, **kw)  # type: ignore[arg-type]


RISK = 'rule = "risk-paths"\npaths = ["auth/**"]\napprovals = 2\ngroup = "seniors"\nafter_last_push = true'


def test_risk_paths_pass_fail_unknown_and_not_applicable() -> None:
    facts = change("auth/login.py", "README.md")
    passed = run(RISK, replace(facts, approvals=(ok("alice"), ok("Bob"))))
    assert passed.outcome == "pass" and passed.files == ("auth/login.py",)
    stale = run(RISK, replace(facts, approvals=(ok("alice"), ok("bob", after=False), ok("zed"))))
    assert stale.outcome == "fail" and stale.message == "1 of 2 approval(s) from seniors (alice, bob) " \
        "after the last push"
    assert stale.fix == "1 more approval(s) from seniors (alice, bob) after the last push"
    untimed = run(RISK, replace(facts, approvals=(ok("alice"), ok("bob", after=None))))
    assert untimed.outcome == "unknown"  # a trailer's approval: its time is unknown
    assert run(RISK, facts).outcome == "unknown"  # no review data at all
    assert run(RISK, replace(facts, files=(FileChange("docs/x.md"),))).outcome == "not_applicable"
    # the author's own approval never counts
    own = run(RISK, replace(facts, author="alice", approvals=(ok("alice"), ok("bob"))))
    assert own.outcome == "fail" and own.evidence["approvers"] == ["bob"]


def test_risk_paths_team_members_count_by_the_review_s_team() -> None:
    rule = 'rule = "risk-paths"\ngroup = "platform"\napprovals = 2'
    facts = change("x.py", approvals=(ok("dora"), ok("sam", teams=("@acme/platform",))))
    assert run(rule, facts).outcome == "pass"
    assert run(rule, replace(facts, approvals=(ok("dora"), ok("sam")))).outcome == "fail"


CODEOWNERS = "* @default\n/api/ @acme/api-team docs@example.com\n/vendor/\n"


def test_codeowners_every_owned_file_needs_one_of_its_owners() -> None:
    facts = change("api/a.py", "lib/b.py", "vendor/c.py", codeowners=CODEOWNERS,
                   approvals=(ok("default"),))
    failed = run('rule = "codeowners"', facts)
    assert failed.outcome == "fail" and failed.files == ("api/a.py",)  # vendor/ is un-owned
    assert failed.fix == "approval from a code owner — api/a.py: @acme/api-team or docs@example.com"
    by_mail = replace(facts, approvals=(ok("default"), ok("Dee <docs@example.com>")))
    assert run('rule = "codeowners"', by_mail).outcome == "pass"
    by_team = replace(facts, approvals=(ok("default"), ok("x", teams=("@acme/api-team",))))
    assert run('rule = "codeowners"', by_team).outcome == "pass"
    group = '[policy.groups]\n"@acme/api-team" = ["yves"]\n'
    assert run('rule = "codeowners"', replace(facts, approvals=(ok("default"), ok("yves"))),
               group).outcome == "pass"
    assert run('rule = "codeowners"', replace(facts, approvals=None)).outcome == "unknown"
    none = run('rule = "codeowners"', replace(facts, codeowners=None))
    assert none.outcome == "not_applicable" and "no CODEOWNERS" in none.message


TESTS = 'rule = "tests-with-code"'


def test_tests_with_code() -> None:
    assert run(TESTS, change("src/a.py", "tests/test_a.py")).outcome == "pass"
    failed = run(TESTS, change("src/a.py", "web/b.ts", "README.md"))
    assert failed.outcome == "fail" and failed.files == ("src/a.py", "web/b.ts")
    assert run(TESTS, change("web/b.ts", "web/b.test.ts")).outcome == "pass"
    assert run(TESTS, change("README.md")).outcome == "not_applicable"
    own = 'rule = "tests-with-code"\nsource = ["lib/**"]\ntests = ["checks/**"]'
    assert run(own, change("lib/x.rb", "checks/x.rb")).outcome == "pass"
    assert run(own, change("lib/x.rb", "tests/test_x.py")).outcome == "fail"


CHECKS = 'rule = "checks-green"\nchecks = ["build", "lint"]'


@pytest.mark.parametrize(("checks", "outcome"), [
    ((Check("build", "success"), Check("lint", "skipped")), "pass"),
    ((Check("build", "failure"), Check("build", "success"), Check("lint", "success")), "pass"),
    ((Check("build", "success"), Check("lint", "failure")), "fail"),
    ((Check("build", "success"),), "fail"),                        # lint did not run
    ((Check("build", "success"), Check("lint", None)), "unknown"),  # still running
    (None, "unknown"),                                             # no CI data: never "pass"
])
def test_checks_green(checks: tuple[Check, ...] | None, outcome: str) -> None:
    assert run(CHECKS, change("a.py", checks=checks)).outcome == outcome


def test_checks_green_says_which_check_is_missing() -> None:
    found = run(CHECKS, change("a.py", checks=(Check("build", "success"),)))
    assert found.message == "did not run: lint" and found.evidence["missing"] == ["lint"]


CONTRACTS = 'rule = "contracts"'


def test_contracts() -> None:
    assert run(CONTRACTS, change("api/openapi.yaml", "tests/contract/test_api.py",
                                 ai_assisted=False)).outcome == "pass"
    assert run(CONTRACTS, change("proto/user.proto", "VERSION", ai_assisted=False)).outcome == "pass"
    failed = run(CONTRACTS, change("proto/user.proto", "src/x.py", ai_assisted=False))
    assert failed.outcome == "fail" and failed.files == ("proto/user.proto",)
    assert failed.fix == "a contract-test change or a version bump"
    assert run(CONTRACTS, change("src/x.py")).outcome == "not_applicable"
    both = 'rule = "contracts"\nrequire = "both"'
    assert run(both, change("s.graphql", "VERSION", ai_assisted=False)).outcome == "fail"
    # AI-assisted: a human approval too (a bot or an AI reviewer does not count)
    ai = change("types/x.pyi", "VERSION", ai_assisted=True, approvals=(ok("ci[bot]", is_bot=True),))
    assert run(CONTRACTS, ai).outcome == "fail"
    assert run(CONTRACTS, replace(ai, approvals=(ok("alice"),))).outcome == "pass"
    assert run(CONTRACTS, replace(ai, approvals=None)).outcome == "unknown"


def commit(sha: str, message: str, ai: bool | None = None) -> CommitFacts:
    return CommitFacts(sha, "Erin <erin@x.io>", message, ai_assisted=ai)


TRACE = 'rule = "ai-traceable"'


def test_ai_traceable() -> None:
    traced = commit("a" * 40, "Fix\n\nAssisted-by: Claude\nClaude-Session: 42", ai=True)
    untraced = commit("b" * 40, "Fix\n\nAssisted-by: Claude", ai=True)
    human = commit("c" * 40, "Fix by hand", ai=False)
    assert run(TRACE, change("a.py", commits=(traced, human))).outcome == "pass"
    failed = run(TRACE, change("a.py", commits=(traced, untraced)))
    assert failed.outcome == "fail" and failed.evidence["commits"] == ["b" * 40]
    assert "bbbbbbbbbbbb lacks a session trailer" in failed.message
    assert run(TRACE, change("a.py", commits=(human,))).outcome == "not_applicable"
    assert run(TRACE, change("a.py")).outcome == "unknown"  # no commits to read
    # ai_assisted unknown on the commit: the attribution rules decide (a Co-authored-by Claude)
    by_rules = commit("d" * 40, "Fix\n\nCo-authored-by: Claude <noreply@anthropic.com>")
    assert run(TRACE, change("a.py", commits=(by_rules,))).outcome == "fail"
    amp = commit("e" * 40, "Fix\n\nAssisted-by: Amp\nAmp-Thread-ID: T-1", ai=True)
    assert run(TRACE, change("a.py", commits=(amp,))).outcome == "pass"


SECRETS = 'rule = "no-secrets"'


def test_no_secrets_reports_path_and_line() -> None:
    leak = FileChange("conf/app.py", 2, 0, added_lines=((3, "x = 1"),
                                                        (4, 'aws = "AKIAIOSFODNN7EXAMPLE"')))
    clean = FileChange("src/a.py", 1, 0, added_lines=((1, "total = price * quantity"),))
    found = run(SECRETS, replace(change(), files=(clean, leak)))
    assert found.outcome == "fail" and found.lines == (("conf/app.py", 4),)
    assert "AWS Access Key" in found.message and found.files == ("conf/app.py",)
    assert run(SECRETS, replace(change(), files=(clean,))).outcome == "pass"
    unread = run(SECRETS, change("src/a.py"))  # added lines not available
    assert unread.outcome == "unknown" and unread.files == ("src/a.py",)


SIZE = 'rule = "size"\nmax_lines = 30\nmax_files = 2\noverride_label = "big"'


def test_size() -> None:
    assert run(SIZE, change("a", "b")).outcome == "pass"  # 24 lines, 2 files
    three = run(SIZE, change("a", "b", "c"))
    assert three.outcome == "fail" and three.message == "too big: 3 files > 2; 36 changed lines > 30"
    assert run(SIZE, change("a", "b", "c", labels=("big",))).outcome == "pass"
    binary = replace(change("a"), files=(FileChange("a.png"), FileChange("b", 5, 5)))
    assert run(SIZE, binary).outcome == "unknown"


SELF = 'rule = "no-self-approval"'


def test_no_self_approval() -> None:
    assert run(SELF, change("a", approvals=(ok("bob"),))).outcome == "pass"
    mail = change("a", author="Erin <123+erin@users.noreply.github.com>", approvals=(ok("erin"),))
    assert run(SELF, mail).outcome == "fail"
    assert run(SELF, change("a")).outcome == "unknown"


HUMAN = 'rule = "ai-human-review"'


def test_ai_human_review() -> None:
    bots = (ok("copilot", is_ai=True), ok("renovate[bot]", is_bot=True), ok("erin"))
    assert run(HUMAN, change("a", ai_assisted=True, approvals=bots)).outcome == "fail"
    assert run(HUMAN, change("a", ai_assisted=True, approvals=(*bots, ok("bob")))).outcome == "pass"
    agent = change("a", author="devin-ai-integration[bot]", approvals=bots[:2])
    assert run(HUMAN, agent).outcome == "fail"  # an agent as the author is AI-authored
    assert run(HUMAN, replace(agent, approvals=(ok("erin"),))).outcome == "pass"
    assert run(HUMAN, change("a", ai_assisted=False)).outcome == "not_applicable"
    assert run(HUMAN, change("a", ai_assisted=True)).outcome == "unknown"
    assert run(HUMAN, change("a", approvals=())).outcome == "unknown"  # no commits, no fact


def test_scope_keys() -> None:
    rule = 'rule = "size"\nmax_files = 1\nlabels = ["risky"]\nauthors = ["erin"]'
    assert run(rule, change("a", "b", labels=("risky",))).outcome == "fail"
    assert run(rule, change("a", "b", labels=("other",))).outcome == "not_applicable"
    assert run(rule, change("a", "b")).outcome == "unknown"  # labels unknown
    assert run(rule, change("a", "b", author="zed", labels=("risky",))).outcome == "not_applicable"
    ai = 'rule = "size"\nmax_files = 1\nai_assisted = true'
    assert run(ai, change("a", "b", ai_assisted=True)).outcome == "fail"
    assert run(ai, change("a", "b", ai_assisted=False)).outcome == "not_applicable"
    owners = 'rule = "size"\nmax_files = 1\nowners = ["@acme/api-team"]'
    assert run(owners, change("api/x", "b", codeowners=CODEOWNERS)).outcome == "fail"
    assert run(owners, change("lib/x", "b", codeowners=CODEOWNERS)).outcome == "not_applicable"
    assert run(owners, change("api/x", "b")).outcome == "unknown"


def test_findings_come_in_policy_order_one_per_rule() -> None:
    text = (f'{GROUPS}[[policy.rules]]\nname = "first"\n{SELF}\n'
            f'[[policy.rules]]\nname = "second"\n{RISK}\n[[policy.rules]]\nname = "third"\n{TESTS}\n')
    found = evaluate(parse_policy(text, "leadlens.toml"), change("auth/a.py", approvals=()))
    assert [(f.rule, f.kind) for f in found] == [
        ("first", "no-self-approval"), ("second", "risk-paths"), ("third", "tests-with-code")]


def test_a_5000_file_change_evaluates_in_well_under_a_second() -> None:
    text = (f'{GROUPS}[[policy.rules]]\nname = "a"\n{RISK}\n[[policy.rules]]\nname = "b"\n{TESTS}\n'
            '[[policy.rules]]\nname = "c"\nrule = "codeowners"\n[[policy.rules]]\nname = "d"\n'
            f'{CONTRACTS}\n[[policy.rules]]\nname = "e"\n{SIZE}\n')
    policy = parse_policy(text, "leadlens.toml")
    owners = "".join(f"/svc{i}/ @team{i}\n" for i in range(200))
    facts = change(*(f"svc{i % 300}/pkg/mod_{i}.py" for i in range(5000)), codeowners=owners,
                   approvals=(ok("alice"), ok("team7")), ai_assisted=False)
    evaluate(policy, facts)  # globs compile once per policy: the first call pays for it
    took = []
    for _ in range(3):  # the best of three: the machine is shared
        started = time.perf_counter()
        found = evaluate(policy, facts)
        took.append(time.perf_counter() - started)
    assert min(took) < 0.5  # about 0.13 s here
    assert [f.outcome for f in found] == ["not_applicable", "fail", "fail", "not_applicable", "fail"]


@pytest.mark.parametrize("kind", ["risk-paths", "codeowners", "checks-green", "contracts", "ai-traceable",
                                  "no-secrets", "size", "no-self-approval", "ai-human-review"])
def test_missing_facts_never_pass(kind: str) -> None:
    """git alone: no reviews, no checks, no labels, no commits, no line counts, AI unknown."""
    extra = {"checks-green": 'checks = ["ci"]', "size": "max_lines = 100"}.get(kind, "")
    facts = ChangeFacts(id="a..b", repo=None, author=None, codeowners="* @owner\n",
                        files=(FileChange("api/openapi.yaml"), FileChange("VERSION")))
    assert run(f'rule = "{kind}"\n{extra}', facts).outcome == "unknown"

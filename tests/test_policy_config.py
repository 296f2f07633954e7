"""The policy file: its format, its defaults, and bad input named by file, line and key."""

from __future__ import annotations

from pathlib import Path

import pytest

from leadlens.config import load_settings
from leadlens.errors import UserError
from leadlens.policy.config import load_policy, parse_policy
from leadlens.policy.rules import RULES

GOOD = """\
[policy.groups]
seniors = ["alice", "@bob", "@acme/platform"]
leads = ["carol", "seniors"]

[[policy.rules]]
name = "auth needs two seniors"
rule = "risk-paths"
paths = ["auth/**", "payments/**"]
approvals = 2
group = "seniors"
after_last_push = true

[[policy.rules]]
name = "small changes"
rule = "size"
max_lines = 400
exclude_paths = ["**/*.lock"]
labels = ["big-ok"]
"""


def test_a_good_policy_reads_with_defaults_filled_and_groups_expanded() -> None:
    policy = parse_policy(GOOD, "leadlens.toml")
    assert policy.path == "leadlens.toml"
    assert policy.groups == {"seniors": ("alice", "bob", "@acme/platform"),
                             "leads": ("carol", "alice", "bob", "@acme/platform")}
    risk, size = policy.rules
    assert (risk.name, risk.kind, risk.line) == ("auth needs two seniors", "risk-paths", 5)
    assert risk.scope.paths == ("auth/**", "payments/**")
    assert risk.params == {"approvals": 2, "group": "seniors", "after_last_push": True}
    assert size.params == {"max_lines": 400, "max_files": None, "override_label": None}
    assert size.scope.exclude_paths == ("**/*.lock",) and size.scope.labels == ("big-ok",)
    assert size.scope.covers_path("src/a.py") and not size.scope.covers_path("web/yarn.lock")


def test_every_kind_reads_with_its_defaults() -> None:
    for kind in RULES:
        extra = {"checks-green": 'checks = ["ci"]', "size": "max_files = 10"}.get(kind, "")
        policy = parse_policy(f'[[rules]]\nname = "r"\nrule = "{kind}"\n{extra}\n', "policy.toml")
        assert policy.rules[0].kind == kind


@pytest.mark.parametrize(("text", "where", "says"), [
    # an unknown rule kind: the line of `rule =`
    ('[[policy.rules]]\nname = "x"\nrule = "risk-path"\n', "leadlens.toml:3: policy.rules[1] ('x').rule",
     "unknown rule 'risk-path'"),
    # an unknown key, in the second rule
    ('[[policy.rules]]\nname = "a"\nrule = "no-secrets"\n\n[[policy.rules]]\nname = "b"\n'
     'rule = "size"\nmax_lines = 5\nmax_line = 4\n', "leadlens.toml:9: policy.rules[2] ('b').max_line",
     "unknown key for a size rule"),
    ('[[policy.rules]]\nname = "x"\nrule = "risk-paths"\npaths = ["auth/[a"]\n',
     "leadlens.toml:4: policy.rules[1] ('x').paths", "bad glob 'auth/[a'"),
    ('[[policy.rules]]\nname = "x"\nrule = "tests-with-code"\ntests = ["!tests/**"]\n',
     "leadlens.toml:4: policy.rules[1] ('x').tests", "negation"),
    ('[[policy.rules]]\nname = "x"\nrule = "contracts"\ncontracts = ["*.{proto}"]\n',
     "leadlens.toml:4: policy.rules[1] ('x').contracts", "braces need two or more choices"),
    ('[policy.groups]\na = ["x"]\nb = ["y", "c"]\nc = ["b"]\n', "leadlens.toml:3: policy.groups.b",
     "the group includes itself (b -> c -> b)"),
    ('[policy.groups]\nsolo = ["solo", "x"]\n', "leadlens.toml:2: policy.groups.solo",
     "the group includes itself (solo -> solo)"),
    ('[[policy.rules]]\nname = "x"\nrule = "size"\nmax_lines = 1\n\n[[policy.rules]]\n'
     'name = "x"\nrule = "no-secrets"\n', "leadlens.toml:7: policy.rules[2].name",
     "two rules are named 'x'"),
    ('[[policy.rules]]\nname = "x"\nrule = "risk-paths"\ngroup = "seniors"\n',
     "leadlens.toml:4: policy.rules[1] ('x').group", "no group 'seniors'"),
    ('[[policy.rules]]\nname = "x"\nrule = "risk-paths"\napprovals = "two"\n',
     "leadlens.toml:4: policy.rules[1] ('x').approvals", "expected a whole number"),
    ('[[policy.rules]]\nname = "x"\nrule = "checks-green"\n',
     "leadlens.toml:1: policy.rules[1] ('x').checks", "needs checks"),
    ('[[policy.rules]]\nname = "x"\nrule = "size"\n', "leadlens.toml:3: policy.rules[1] ('x').rule",
     "needs max_lines, max_files or both"),
    ('[[policy.rules]]\nrule = "size"\n', "leadlens.toml:1: policy.rules[1].name", "needs a name"),
    ('[[policy.rules]]\nname = "x"\nrule = "size"\nmax_files = 3\nai_assisted = "yes"\n',
     "leadlens.toml:5: policy.rules[1] ('x').ai_assisted", "expected true or false"),
    ('[policy]\nrulez = []\n', "leadlens.toml:2: policy.rulez", "unknown key"),
])
def test_bad_input_names_file_line_and_key(text: str, where: str, says: str) -> None:
    with pytest.raises(UserError) as caught:
        parse_policy(text, "leadlens.toml")
    message = str(caught.value)
    assert message.startswith(where + ": "), message
    assert says in message and "\n" not in message


def test_toml_syntax_errors_carry_toml_s_line() -> None:
    with pytest.raises(UserError, match=r"^p/policy.toml: not valid TOML: .*line 2"):
        parse_policy('[[rules]]\nname = "x\n', "p/policy.toml")


def test_load_policy_finds_each_place_and_settings_ignore_the_policy(tmp_path: Path) -> None:
    assert load_policy(tmp_path).rules == ()
    (tmp_path / "pyproject.toml").write_text(
        '[tool.leadlens.policy]\nrules = [{name = "p", rule = "no-secrets"}]\n')
    assert [r.name for r in load_policy(tmp_path).rules] == ["p"]
    (tmp_path / ".leadlens").mkdir()
    (tmp_path / ".leadlens" / "policy.toml").write_text('[[rules]]\nname = "d"\nrule = "no-secrets"\n')
    assert [r.name for r in load_policy(tmp_path).rules] == ["d"]
    (tmp_path / "leadlens.toml").write_text('[policy]\nrules = [{name = "t", rule = "no-secrets"}]\n')
    with pytest.raises(UserError, match="a policy in both"):
        load_policy(tmp_path)
    (tmp_path / ".leadlens" / "policy.toml").unlink()
    policy = load_policy(tmp_path)
    assert [r.name for r in policy.rules] == ["t"] and policy.path == str(tmp_path / "leadlens.toml")
    load_settings(tmp_path)  # [policy] in leadlens.toml is no unknown setting

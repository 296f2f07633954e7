"""`leadlens gate` as users run it: exit 0 when no rule fails, 1 when one does, 2 on bad input
(one line); the policy of the base, never the change's; SARIF valid against the official
schema; the --github path against the fake GitHub, a token that cannot read checks included."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import jsonschema
import pytest

from fakes.github import REPO
from gitfixtures import Git
from leadlens.cli import main
from test_gate_facts import SCHEMA, Served, serve

POLICY = """\
[[rules]]
name = "tests"
rule = "tests-with-code"

[[rules]]
name = "secrets"
rule = "no-secrets"

[[rules]]
name = "ci"
rule = "checks-green"
checks = ["test (1.13)"]

[[rules]]
name = "small"
rule = "size"
max_files = 10
"""
KEY = "-----BEGIN RSA PRIVATE KEY-----"
HOSTILE = "src/evil\x1b]0;owned\x07,:%.py"


def build(path: Path) -> None:
    """main holds the policy; `good` changes code with its test; `bad` changes code alone (under
    a hostile name), adds a private key, and rewrites the policy to have no rules."""
    g = Git(path)
    g.write(".leadlens/policy.toml", POLICY)
    g.write("src/app.py", "def f():\n    return 1\n")
    g.commit("base", date="2024-01-01T10:00:00Z")
    g.run("checkout", "-q", "-b", "good")
    g.write("src/app.py", "def f():\n    return 2\n")
    g.write("tests/test_app.py", "def test_f():\n    assert f() == 2\n")
    g.commit("f returns 2", date="2024-01-02T10:00:00Z")
    g.run("checkout", "-q", "-b", "bad", "main")
    g.write(HOSTILE, "x = 1\n")
    g.write("deploy/id_rsa", f"{KEY}\nMIIEowIBAAKCAQEA\n")
    g.write(".leadlens/policy.toml", "rules = []\n")  # the change cannot loosen its own gate
    g.commit("evil", date="2024-01-02T10:00:00Z")
    g.run("checkout", "-q", "main")


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("gate-cli") / "repo"
    build(path)
    return path


def gate(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], where: Path,
         *args: str) -> tuple[int, str, str]:
    monkeypatch.chdir(where.parent)  # no settings file of this project's
    monkeypatch.setattr(sys, "argv", ["leadlens", "gate", *args])
    with pytest.raises(SystemExit) as exc:
        main()
    captured = capsys.readouterr()
    return int(exc.value.code or 0), captured.out, captured.err


def test_a_change_that_meets_the_policy_passes(monkeypatch: pytest.MonkeyPatch,
                                                capsys: pytest.CaptureFixture[str],
                                                repo: Path) -> None:
    code, out, err = gate(monkeypatch, capsys, repo, str(repo), "--base", "main", "--head", "good")
    assert code == 0
    lines = out.splitlines()
    assert [line.split()[0:2] for line in lines] == [
        ["pass", "tests"], ["pass", "secrets"], ["unknown", "ci"], ["pass", "small"]]
    assert "gate passed on main...good: 0 failing, 1 unknown" in err


def test_unknown_fails_with_strict(monkeypatch: pytest.MonkeyPatch,
                                   capsys: pytest.CaptureFixture[str], repo: Path) -> None:
    code, _, err = gate(monkeypatch, capsys, repo, str(repo), "--base", "main", "--head", "good",
                        "--strict")
    assert code == 1
    assert "gate FAILED" in err


def test_a_change_that_breaks_it_fails(monkeypatch: pytest.MonkeyPatch,
                                       capsys: pytest.CaptureFixture[str], repo: Path) -> None:
    code, out, _ = gate(monkeypatch, capsys, repo, str(repo), "--base", "main", "--head", "bad",
                        "--format", "json")
    assert code == 1
    doc = json.loads(out)
    got = {f["rule"]: f for f in doc["findings"]}
    # The base's policy judged it, not the change's own (which has no rules).
    assert list(got) == ["tests", "secrets", "ci", "small"]
    assert doc["policy"] == ".leadlens/policy.toml"
    assert got["tests"]["outcome"] == "fail" and got["tests"]["files"] == [HOSTILE]
    assert got["secrets"]["outcome"] == "fail"
    assert got["secrets"]["lines"] == [{"path": "deploy/id_rsa", "line": 1}]
    assert (got["ci"]["outcome"], got["small"]["outcome"]) == ("unknown", "pass")
    assert (doc["outcome"], doc["exit_code"]) == ("fail", 1)


def test_terminal_output_strips_control_characters(monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str],
                                                   repo: Path) -> None:
    code, out, _ = gate(monkeypatch, capsys, repo, str(repo), "--base", "main", "--head", "bad")
    assert code == 1
    assert "\x1b" not in out and "\x07" not in out
    assert "src/evil]0;owned,:%.py" in out


def test_sarif_of_a_failing_change_is_valid(monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str], repo: Path,
                                            tmp_path: Path) -> None:
    target = tmp_path / "gate.sarif"
    code, out, _ = gate(monkeypatch, capsys, repo, str(repo), "--base", "main", "--head", "bad",
                        "--format", "sarif", "--out", str(target))
    assert (code, out) == (1, "")
    doc = json.loads(target.read_text())
    jsonschema.Draft4Validator(SCHEMA).validate(doc)
    run = doc["runs"][0]
    assert [r["id"] for r in run["tool"]["driver"]["rules"]] == ["tests", "secrets", "ci", "small"]
    assert run["tool"]["driver"]["rules"][1]["shortDescription"]["text"].startswith(
        "no added line looks like a secret")
    assert [(r["ruleId"], r["kind"], r["level"]) for r in run["results"]] == [
        ("tests", "fail", "error"), ("secrets", "fail", "error"), ("ci", "open", "none")]
    secret = run["results"][1]["locations"][0]["physicalLocation"]
    assert secret == {"artifactLocation": {"uri": "deploy/id_rsa"}, "region": {"startLine": 1}}
    ci = run["results"][2]["locations"][0]["physicalLocation"]
    assert ci == {"artifactLocation": {"uri": ".leadlens/policy.toml"}, "region": {"startLine": 9}}


def test_annotations(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
                     repo: Path) -> None:
    code, out, _ = gate(monkeypatch, capsys, repo, str(repo), "--base", "main", "--head", "bad",
                        "--format", "github")
    assert code == 1
    lines = out.splitlines()
    assert lines[0].startswith("::error file=src/evil\x1b]0;owned\x07%2C%3A%25.py,title=leadlens"
                               " tests::")
    assert lines[1].startswith("::error file=deploy/id_rsa,line=1,title=leadlens secrets::")
    assert lines[2].startswith("::warning title=leadlens ci::unknown: ")


@pytest.mark.parametrize(("args", "says"), [
    (("--base", "nope"), "--base 'nope': no such commit in "),
    (("--base", "main", "--head", "nope"), "--head 'nope': no such commit in "),
    (("--base", "--help-me"), "--base '--help-me' is not a revision"),
    ((), "name the change: --base REV"),
    (("--base", "main", "--github", "a/b#1"), "name the change: --base REV"),
    (("--base", "main", "--format", "xml"), "--format must be text, json, sarif or github"),
])
def test_bad_input_is_one_line_exit_2(monkeypatch: pytest.MonkeyPatch,
                                      capsys: pytest.CaptureFixture[str], repo: Path,
                                      args: tuple[str, ...], says: str) -> None:
    code, out, err = gate(monkeypatch, capsys, repo, str(repo), *args)
    assert (code, out) == (2, "")
    assert err.startswith(f"leadlens: error: {says}") and err.count("\n") == 1


def test_no_policy_and_a_bad_policy_exit_2(monkeypatch: pytest.MonkeyPatch,
                                           capsys: pytest.CaptureFixture[str], tmp_path: Path
                                           ) -> None:
    g = Git(tmp_path / "bare")
    g.write("a.py", "1\n")
    g.commit("one", date="2024-01-01T10:00:00Z")
    g.write("a.py", "2\n")
    g.commit("two", date="2024-01-02T10:00:00Z")
    code, _, err = gate(monkeypatch, capsys, g.path, str(g.path), "--base", "HEAD~1")
    assert code == 2 and "no policy for HEAD~1...HEAD" in err
    bad = tmp_path / "policy.toml"
    bad.write_text('[[rules]]\nname = "x"\nrule = "risk-path"\n')
    code, _, err = gate(monkeypatch, capsys, g.path, str(g.path), "--base", "HEAD~1",
                        "--policy", str(bad))
    assert code == 2 and f"{bad}:3:" in err and "unknown rule 'risk-path'" in err
    assert err.count("\n") == 1


GITHUB_POLICY = POLICY.replace('max_files = 10', 'max_files = 2')


def github_gate(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
                tmp_path: Path, served: Served, *args: str) -> tuple[int, str, str]:
    serve(monkeypatch, served)
    return gate(monkeypatch, capsys, tmp_path / "x", "--github", *args)


def served_with(policy: str, checks_status: int = 200) -> Served:
    served = Served(checks_status)
    served.policy = policy
    return served


def test_github_pull_request(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
                             tmp_path: Path) -> None:
    code, out, _ = github_gate(monkeypatch, capsys, tmp_path, served_with(GITHUB_POLICY),
                               f"{REPO}#41", "--format", "json")
    doc = json.loads(out)
    got = {f["rule"]: f["outcome"] for f in doc["findings"]}
    # src/app.py without a test; the check run "test (1.13)" succeeded; three files > 2.
    assert got == {"tests": "fail", "secrets": "pass", "ci": "pass", "small": "fail"}
    assert code == 1 and doc["change"] == f"{REPO}#41"


@pytest.mark.parametrize("status", [403, 404])
def test_a_token_that_cannot_read_checks_gives_unknown_never_pass(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path,
        status: int) -> None:
    policy = '[[rules]]\nname = "ci"\nrule = "checks-green"\nchecks = ["test (1.13)"]\n'
    code, out, _ = github_gate(monkeypatch, capsys, tmp_path, served_with(policy, status),
                               f"{REPO}#41", "--format", "json")
    doc = json.loads(out)
    assert [f["outcome"] for f in doc["findings"]] == ["unknown"]
    assert code == 0  # unknown does not fail by default...
    assert any(n.startswith("check runs unknown") for n in doc["notes"])
    code, _, _ = github_gate(monkeypatch, capsys, tmp_path, served_with(policy, status),
                             f"{REPO}#41", "--strict")
    assert code == 1  # ...and does with --strict


def test_a_pull_request_that_does_not_exist_exits_2(monkeypatch: pytest.MonkeyPatch,
                                                    capsys: pytest.CaptureFixture[str],
                                                    tmp_path: Path) -> None:
    code, out, err = github_gate(monkeypatch, capsys, tmp_path, served_with(POLICY),
                                 f"{REPO}#9999")
    assert (code, out) == (2, "")
    assert err == (f"leadlens: error: pull request {REPO}#9999 does not exist or is not visible"
                   " to the token in GITHUB_TOKEN\n")


def test_not_a_repository_exits_2(monkeypatch: pytest.MonkeyPatch,
                                  capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out, err = gate(monkeypatch, capsys, tmp_path / "x", str(tmp_path / "nowhere"),
                          "--base", "main")
    assert (code, out) == (2, "")
    assert err.startswith("leadlens: error: ") and "no such file or directory" in err
    assert err.count("\n") == 1


def test_reviews_from_the_store(monkeypatch: pytest.MonkeyPatch,
                                capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """git alone has no reviews; the store's pull request of HEAD brings them (and its labels)."""
    from leadlens.store import open_store

    g = Git(tmp_path / "repo")
    g.write(".leadlens/policy.toml", '[[rules]]\nname = "two"\nrule = "risk-paths"\n'
            'paths = ["auth/**"]\napprovals = 3\nafter_last_push = true\n')
    g.commit("base", date="2024-01-01T10:00:00Z")
    g.write("auth/login.py", "x = 1\n")
    head = g.commit("login", date="2024-01-02T10:00:00Z")
    store = tmp_path / "store.duckdb"
    with open_store(store) as st:
        st.con.execute(
            "INSERT INTO pull_requests (repo, number, author, state, created_at, updated_at, head_sha,"
            " labels, source, fetched_at) VALUES ('o/r', 7, 'alice', 'open', now(), now(), ?,"
            " ['risky'], 'github', now())", [head])
        for rid, who, commit in ((1, "bob", head), (2, "carol", "an-older-push"),
                                 (3, "dave", head)):
            st.con.execute(
                "INSERT INTO reviews (repo, number, id, reviewer, state, submitted_at, commit_id,"
                " source, fetched_at) VALUES ('o/r', 7, ?, ?, 'APPROVED', now(), ?, 'github', now())",
                [rid, who, commit])
    args = (str(g.path), "--base", "HEAD~1", "--format", "json", "--store", str(store))
    code, out, _ = gate(monkeypatch, capsys, g.path, *args)
    doc = json.loads(out)
    # bob and dave approved the head; carol an older push, which does not count: 2 of 3.
    assert (code, [f["outcome"] for f in doc["findings"]]) == (1, ["fail"])
    assert "2" in doc["findings"][0]["message"]
    assert "reviews and labels from the store: o/r#7" in doc["notes"]
    code, out, _ = gate(monkeypatch, capsys, g.path, *args[:-2])  # no store: nothing known
    assert (code, [f["outcome"] for f in json.loads(out)["findings"]]) == (0, ["unknown"])


def test_the_pre_push_hook(tmp_path: Path) -> None:
    """examples/hooks/pre-push gates the branch against origin's default branch: exit 1 on a
    failing rule, 0 once it is fixed (leadlens from this interpreter's environment)."""
    import os
    import shutil
    import subprocess

    from gitfixtures import git_env

    hook = Path(__file__).resolve().parents[1] / "examples" / "hooks" / "pre-push"
    origin = tmp_path / "origin"
    g = Git(origin)
    g.write(".leadlens/policy.toml", POLICY)
    g.write("src/app.py", "x = 1\n")
    g.commit("base", date="2024-01-01T10:00:00Z")
    env = {**git_env(tmp_path), "PATH": f"{Path(sys.executable).parent}{os.pathsep}"
           f"{os.environ['PATH']}", "PYTHONPATH": os.environ.get("PYTHONPATH", "")}
    if shutil.which("leadlens", path=env["PATH"]) is None:
        pytest.skip("no leadlens command in this environment")
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(origin), str(clone)], env=env, check=True)
    work = Git.open(clone)
    work.run("checkout", "-q", "-b", "feature")
    work.write("src/app.py", "x = 2\n")
    work.commit("code without a test", date="2024-01-02T10:00:00Z")

    def push() -> subprocess.CompletedProcess[str]:
        return subprocess.run(["sh", str(hook), "origin", str(origin)], cwd=clone, env=env,
                              capture_output=True, text=True, check=False)

    run = push()
    assert run.returncode == 1, run.stderr
    assert "FAIL    tests" in run.stdout
    work.write("tests/test_app.py", "def test(): pass\n")
    work.commit("and its test", date="2024-01-02T11:00:00Z")
    run = push()
    assert run.returncode == 0, run.stdout + run.stderr

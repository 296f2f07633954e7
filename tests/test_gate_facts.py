"""What `leadlens gate` reads and writes, rules aside: git facts of BASE...HEAD, a pull request's
facts through the GitHub client (against the fake GitHub), and the outputs (SARIF validated
against the official SARIF 2.1.0 schema, annotations escaped as GitHub's toolkit does)."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest

from fakes.github import HEAD_41, REPO, FakeGitHub
from gitfixtures import Git
from leadlens.cli.gate_facts import approvals_of, git_facts, github_facts
from leadlens.config import Settings
from leadlens.conventions import BotRule
from leadlens.errors import UserError
from leadlens.policy.formats import (
    GateResult,
    escape_data,
    escape_property,
    github_annotations,
    sarif,
    terminal_lines,
    to_json,
)
from leadlens.policy.model import Finding
from leadlens.sources.git.client import open_repo
from leadlens.sources.git.diff import files, resolve
from leadlens.sources.github import client as gh_client
from leadlens.sources.github.pull import parse_target, patch_added_lines

SCHEMA = json.loads((Path(__file__).parent / "data" / "sarif-schema-2.1.0.json").read_text())
CAROL = "Carol Danvers <carol@example.com>"
HOSTILE = "evil,name:%0A\x1b[31m.py"


def build_change(path: Path) -> dict[str, str]:
    """main: CODEOWNERS, a policy, src/app.py, docs/old.md, a binary; the branch `change` (two
    commits) edits app.py, renames old.md, adds a test, a hostile name and a binary file."""
    g = Git(path)
    g.write(".github/CODEOWNERS", "* @octo/everyone\nsrc/ @octo/core\n")
    g.write(".leadlens/policy.toml", "rules = []\n")
    g.write("src/app.py", "def f():\n    return 1\n")
    g.write("docs/old.md", "one\ntwo\nthree\n")
    base = g.commit("base", date="2024-01-01T10:00:00Z")
    g.run("checkout", "-q", "-b", "change")
    g.write("src/app.py", "def f():\n    return 2\n\n\ndef g():\n    return 3\n")
    g.run("mv", "docs/old.md", "docs/new.md")
    first = g.commit("Change f\n\nAssisted-by: Claude Code\nReviewed-by: Bob Builder <bob@example.com>\n",
                     date="2024-01-02T10:00:00Z")
    g.write("tests/test_app.py", "def test_f():\n    assert True\n")
    g.write(HOSTILE, "x = 'AKIA'\n")
    g.write("blob.bin", b"\x00\x01\x02")
    head = g.commit("Add tests", author=CAROL, date="2024-01-03T10:00:00Z")
    g.run("checkout", "-q", "main")
    g.write("README.md", "main moved on\n")  # not part of the change: BASE...HEAD leaves it out
    moved = g.commit("main moves", date="2024-01-04T10:00:00Z")
    return {"base": base, "first": first, "head": head, "main": moved}


@pytest.fixture(scope="module")
def change_repo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    path = tmp_path_factory.mktemp("gate") / "repo"
    return path, build_change(path)


def test_git_files_are_base_three_dots_head(change_repo: tuple[Path, dict[str, str]]) -> None:
    path, sha = change_repo
    repo = open_repo(path)
    got = {f.path: f for f in files(repo, sha["main"], sha["head"])}
    assert sorted(got) == sorted(["src/app.py", "docs/new.md", "tests/test_app.py", HOSTILE,
                                  "blob.bin"])  # README.md (main's own commit) is not the change's
    app = got["src/app.py"]
    assert (app.status, app.added, app.deleted) == ("M", 5, 1)
    assert app.added_lines == ((2, "    return 2"), (3, ""), (4, ""), (5, "def g():"),
                               (6, "    return 3"))
    assert (got["docs/new.md"].status, got["docs/new.md"].old_path) == ("R", "docs/old.md")
    assert got["docs/new.md"].added_lines == ()
    assert (got["blob.bin"].added, got["blob.bin"].deleted) == (None, None)
    assert got[HOSTILE].added_lines == ((1, "x = 'AKIA'"),)


def test_git_facts(change_repo: tuple[Path, dict[str, str]]) -> None:
    path, sha = change_repo
    g = git_facts(path, "main", "change", Settings(), None)
    facts = g.facts
    assert facts.id == "main...change"
    assert [c.sha for c in facts.commits] == [sha["first"], sha["head"]]
    assert facts.commits[0].trailers == (("Assisted-by", "Claude Code"),
                                         ("Reviewed-by", "Bob Builder <bob@example.com>"))
    assert (facts.commits[0].ai_assisted, facts.commits[1].ai_assisted) == (True, False)
    assert facts.commits[0].ai_tool == "Claude Code"
    assert facts.ai_assisted is True
    assert facts.author == "Alice Liddell <alice@example.com>"
    assert facts.approvals is not None and [a.reviewer for a in facts.approvals] == [
        "Bob Builder <bob@example.com>"]
    assert (facts.approvals[0].at, facts.approvals[0].after_last_push) == (None, None)
    assert facts.checks is None and facts.labels is None  # git cannot say: unknown
    assert facts.codeowners_path == ".github/CODEOWNERS"
    assert facts.codeowners == "* @octo/everyone\nsrc/ @octo/core\n"
    assert g.policy_text == (".leadlens/policy.toml", "rules = []\n")


def test_no_trailers_means_no_review_data(change_repo: tuple[Path, dict[str, str]]) -> None:
    path, sha = change_repo
    g = git_facts(path, sha["first"], sha["head"], Settings(), None)
    assert g.facts.approvals is None  # unknown, not "no approvals"
    assert any("no review data" in n for n in g.notes)


@pytest.mark.parametrize("rev", ["no-such-branch", "-x", "", "0" * 40])
def test_a_revision_that_does_not_exist_is_a_one_line_error(
        change_repo: tuple[Path, dict[str, str]], rev: str) -> None:
    path, _ = change_repo
    with pytest.raises(UserError, match=r"^--base .*(no such commit|is not a revision)"):
        resolve(open_repo(path), rev, "--base")


def test_reviews_as_github_reads_them() -> None:
    bots = BotRule()
    reviews = [("ann", "APPROVED", None, "old", False), ("ann", "COMMENTED", None, "h", False),
               ("bo", "APPROVED", None, "h", False), ("bo", "CHANGES_REQUESTED", None, "h", False),
               ("cy", "CHANGES_REQUESTED", None, "old", False), ("cy", "APPROVED", None, "h", False),
               ("dependabot[bot]", "APPROVED", None, None, True)]
    got = approvals_of(reviews, "h", bots)
    assert [(a.reviewer, a.after_last_push, a.is_bot) for a in got] == [
        ("ann", False, False), ("cy", True, False), ("dependabot[bot]", None, True)]


def test_patch_added_lines_counts_context() -> None:
    patch = "@@ -1,3 +1,4 @@\n a\n-b\n+B\n+C\n c\n@@ -10,0 +12,1 @@\n+z"
    assert patch_added_lines(patch) == ((2, "B"), (3, "C"), (12, "z"))


@pytest.mark.parametrize("text", ["octo/app", "octo/app#", "octo#1", "a/b#-1", "../x#1"])
def test_bad_pull_request_targets(text: str) -> None:
    with pytest.raises(UserError):
        parse_target(text)


class Served:
    """The fake GitHub, with PR 41's files and the base branch's CODEOWNERS and policy."""

    def __init__(self, checks_status: int = 200) -> None:
        self.fake = FakeGitHub()
        self.fake.children["pulls/41/files"] = [
            {"filename": "src/app.py", "status": "modified", "additions": 2, "deletions": 1,
             "patch": "@@ -1,2 +1,3 @@\n def f():\n-    return 1\n+    return 2\n+# AKIA"},
            {"filename": "img.png", "status": "added", "additions": 0, "deletions": 0},
            {"filename": "b.py", "status": "renamed", "previous_filename": "a.py",
             "additions": 0, "deletions": 0}]
        self.checks_status = checks_status
        self.policy = "rules = []\n"
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        path = request.url.path.removeprefix(f"/repos/{REPO}/")
        if path.startswith("contents/"):
            assert request.url.params.get("ref") == "master"
            files = {"CODEOWNERS": "* @panjf2000\n", ".leadlens/policy.toml": self.policy}
            name = path.removeprefix("contents/")
            if name not in files:
                return httpx.Response(404, json={"message": "Not Found"})
            return httpx.Response(200, json={"encoding": "base64", "content": base64.b64encode(
                files[name].encode()).decode()})
        parts = path.split("/")
        if parts[0] == "pulls" and parts[1].isdigit() and int(parts[1]) not in self.fake.pulls:
            return httpx.Response(404, json={"message": "Not Found"})
        if path.endswith("/check-runs") and self.checks_status != 200:
            return httpx.Response(self.checks_status,
                                  json={"message": "Resource not accessible by integration"})
        return self.fake(request)


def serve(monkeypatch: pytest.MonkeyPatch, served: Served) -> None:
    """Every GitHub client the gate makes talks to ``served``, with a token in GITHUB_TOKEN."""
    real = gh_client.make_client

    def client(token: str | None, api_url: str = "https://api.github.com",
               transport: httpx.BaseTransport | None = None) -> httpx.Client:
        return real(token, api_url, httpx.MockTransport(served))

    monkeypatch.setattr(gh_client, "make_client", client)
    monkeypatch.setenv("GITHUB_TOKEN", "t0ken")


def pull_facts(monkeypatch: pytest.MonkeyPatch, served: Served, target: str = f"{REPO}#41"
               ) -> Any:
    serve(monkeypatch, served)
    return github_facts(target, Settings(), token_env="GITHUB_TOKEN", api_url=None,
                        trust_settings_api_url=False)


def test_pull_request_facts(monkeypatch: pytest.MonkeyPatch) -> None:
    served = Served()
    g = pull_facts(monkeypatch, served)
    f = g.facts
    assert (f.id, f.repo, f.author) == (f"{REPO}#41", REPO, served.fake.pulls[41]["user"]["login"])
    assert [(x.path, x.status, x.old_path, x.added) for x in f.files] == [
        ("src/app.py", "M", None, 2), ("img.png", "A", None, 0), ("b.py", "R", "a.py", 0)]
    assert f.files[0].added_lines == ((2, "    return 2"), (3, "# AKIA"))
    assert f.files[1].added_lines is None  # no patch: unknown, not "nothing added"
    assert f.checks is not None and [(c.name, c.conclusion) for c in f.checks] == [
        ("test (1.13)", "success")]
    assert f.approvals is not None
    assert ("panjf2000", True) in [(a.reviewer, a.after_last_push) for a in f.approvals]
    assert (f.codeowners_path, f.codeowners) == ("CODEOWNERS", "* @panjf2000\n")
    assert g.policy_text == (".leadlens/policy.toml", "rules = []\n")
    assert all(r.url.host == "api.github.com" and r.headers["authorization"] == "Bearer t0ken"
               for r in served.requests)
    assert any(r.url.path.endswith(f"/commits/{HEAD_41}/check-runs") for r in served.requests)


@pytest.mark.parametrize("status", [403, 404])
def test_checks_the_token_cannot_read_are_unknown(monkeypatch: pytest.MonkeyPatch,
                                                  status: int) -> None:
    g = pull_facts(monkeypatch, Served(checks_status=status))
    assert g.facts.checks is None  # unknown: a rule on checks can never pass on this
    assert any(n.startswith("check runs unknown") and str(status) in n for n in g.notes)


def test_a_pull_request_that_does_not_exist(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(UserError, match=r"^pull request panjf2000/ants#9999 does not exist"):
        pull_facts(monkeypatch, Served(), f"{REPO}#9999")


FINDINGS = (
    Finding("secrets", "no-secrets", "fail", f"a secret in {HOSTILE}", fix="remove it",
            files=(HOSTILE,), lines=((HOSTILE, 1),)),
    Finding("risky", "risk-paths", "fail", "needs 2 approvals from seniors; has 0",
            fix="2 approvals from seniors", files=("src/app.py", "docs/a b#?.md")),
    Finding("ci", "checks-green", "unknown", "check runs unknown", fix="let the token read checks"),
    Finding("tests", "tests-with-code", "pass", "tests changed too", files=("src/app.py",)),
    Finding("small", "size", "not_applicable", "no size limit", level="warning"),
)


def test_sarif_is_valid_sarif_2_1_0() -> None:
    for strict in (False, True):
        doc = json.loads(sarif(GateResult("main...change", FINDINGS, strict=strict,
                                          policy_path=".leadlens/policy.toml",
                                          notes=("check runs unknown: 403",)),
                               {"no-secrets": "No secret in an added line."}))
        jsonschema.Draft4Validator(SCHEMA).validate(doc)
        run = doc["runs"][0]
        assert [r["id"] for r in run["tool"]["driver"]["rules"]] == [
            "secrets", "risky", "ci", "tests", "small"]
        assert run["tool"]["driver"]["rules"][0]["shortDescription"]["text"] == \
            "No secret in an added line."
        results = run["results"]
        assert [(r["ruleId"], r["kind"], r["level"]) for r in results] == [
            ("secrets", "fail", "error"), ("risky", "fail", "error"),
            ("ci", "fail", "error") if strict else ("ci", "open", "none")]
        assert results[0]["locations"][0]["physicalLocation"] == {
            "artifactLocation": {"uri": "evil%2Cname%3A%250A%1B%5B31m.py"}, "region": {"startLine": 1}}
        assert [loc["physicalLocation"]["artifactLocation"]["uri"] for loc in results[1]["locations"]
                ] == ["src/app.py", "docs/a%20b%23%3F.md"]
        assert results[2]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == \
            ".leadlens/policy.toml"  # a change-wide finding points at the rule


def test_a_broken_document_fails_the_schema() -> None:
    """The validation can fail: a result without its message is refused."""
    doc = json.loads(sarif(GateResult("x", FINDINGS), {}))
    del doc["runs"][0]["results"][0]["message"]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft4Validator(SCHEMA).validate(doc)


def test_annotations_escape_as_the_toolkit_does() -> None:
    assert escape_data("a%b\r\nc:d,e") == "a%25b%0D%0Ac:d,e"
    assert escape_property("a%b\r\nc:d,e") == "a%25b%0D%0Ac%3Ad%2Ce"
    text = github_annotations(GateResult("main...change", FINDINGS))
    lines = text.splitlines()
    assert lines[0] == ("::error file=evil%2Cname%3A%250A\x1b[31m.py,line=1,title=leadlens secrets::"
                        "a secret in evil,name:%250A\x1b[31m.py To satisfy it: remove it")
    assert lines[1].startswith("::error file=src/app.py,title=leadlens risky::needs 2 approvals")
    assert lines[1].endswith("(2 files)")
    assert lines[2].startswith("::warning title=leadlens ci::unknown: check runs unknown")
    assert lines[3] == "leadlens gate failed on main...change: 2 failing finding(s)"
    assert len(lines) == 4  # pass and not-applicable findings say nothing


def test_a_newline_in_a_path_cannot_start_a_command() -> None:
    f = Finding("r", "size", "fail", "too big", files=("a\n::error::owned.py",))
    text = github_annotations(GateResult("x", (f,)))
    assert all(not line.startswith("::error::") for line in text.splitlines())
    assert "file=a%0A%3A%3Aerror%3A%3Aowned.py" in text


def test_json_and_terminal() -> None:
    result = GateResult("main...change", FINDINGS, notes=("check runs unknown: 403",))
    doc = json.loads(to_json(result))
    assert (doc["outcome"], doc["exit_code"], doc["counts"]) == (
        "fail", 1, {"pass": 1, "fail": 2, "unknown": 1, "not_applicable": 1})
    assert doc["findings"][0]["lines"] == [{"path": HOSTILE, "line": 1}]
    lines = terminal_lines(result)
    assert lines[1] == ("FAIL    risky [src/app.py, docs/a b#?.md] needs 2 approvals from seniors;"
                        " has 0 -> 2 approvals from seniors")
    assert lines[-2] == ("gate FAILED on main...change: 2 failing, 1 unknown, 1 passing,"
                         " 1 not applicable")
    assert GateResult("x", FINDINGS[2:]).exit_code == 0
    assert GateResult("x", FINDINGS[2:], strict=True).exit_code == 1


def test_the_policy_is_found_in_load_policys_order() -> None:
    from leadlens.cli.gate_facts import pick_policy

    files = {"leadlens.toml": "store = 'x'\n", ".leadlens/policy.toml": "rules = []\n",
             "pyproject.toml": "[tool.leadlens.policy]\nrules = []\n"}
    assert pick_policy(files.get) == (".leadlens/policy.toml", "rules = []\n")
    assert pick_policy({"pyproject.toml": files["pyproject.toml"]}.get) == (
        "pyproject.toml", files["pyproject.toml"])
    assert pick_policy({"pyproject.toml": "[tool.black]\n"}.get) is None
    with pytest.raises(UserError, match=r"both leadlens\.toml and \.leadlens/policy\.toml"):
        pick_policy({**files, "leadlens.toml": "[policy]\nrules = []\n"}.get)


def test_blobs_in_one_cat_file(change_repo: tuple[Path, dict[str, str]]) -> None:
    from leadlens.sources.git.diff import blobs

    path, sha = change_repo
    got = blobs(open_repo(path), sha["base"], ["src", "nope", ".github/CODEOWNERS", "docs/old.md"])
    assert got == {"src": None, "nope": None,  # a directory, and nothing: neither is a file
                   ".github/CODEOWNERS": "* @octo/everyone\nsrc/ @octo/core\n",
                   "docs/old.md": "one\ntwo\nthree\n"}

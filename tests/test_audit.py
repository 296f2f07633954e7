"""`leadlens audit`: every rule over the store's history, and the outcome rates of compliant vs
violating changes, on a repository whose rates are known by construction."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
import scipy.stats

from gitfixtures import Git
from leadlens import engines
from leadlens.attribution import Rules
from leadlens.metrics.flow import Filters
from leadlens.pipeline import ingest_git
from leadlens.policy.audit import (
    DEFECT_REASON,
    NO_ISSUES_REASON,
    NO_LINES_REASON,
    audit,
    audit_history,
    failure_rows,
)
from leadlens.policy.model import ChangeFacts, Finding
from leadlens.store import Store, open_store

ALICE = "Alice Liddell <alice@example.com>"
VIOLATING_REVERTED = range(0, 20, 2)  # every violating change (even i) of the first ten
COMPLIANT_REVERTED = (1, 3)


def needs_tests(facts: ChangeFacts) -> list[Finding]:
    """A tiny local rule: a change adding lines under src/ needs a change under tests/."""
    src = [f.path for f in facts.files if f.path.startswith("src/") and (f.added or 0) > 0]
    if not src:
        return [Finding("tests", "tests-with-code", "not_applicable", "no source change")]
    if any(f.path.startswith("tests/") for f in facts.files):
        return [Finding("tests", "tests-with-code", "pass", "tests changed")]
    return [Finding("tests", "tests-with-code", "fail", "source without tests", fix="add a test",
                    files=tuple(src))]


def build(path: Path) -> dict[int, str]:
    """A README, then 40 changes (even i: source only, violating; odd i: source and test,
    compliant), 25 merged in January 2024 and 15 in February; in March, reverts of 10 violating
    and 2 compliant changes (deletions only: the rule does not apply to them)."""
    g = Git(path)
    g.write("README.md", "hello\n")
    g.commit("Initial commit", author=ALICE, date="2023-12-20T10:00:00Z")
    shas: dict[int, str] = {}
    for i in range(40):
        date = (f"2024-01-{i + 1:02d}T10:00:00Z" if i < 25 else f"2024-02-{i - 24:02d}T10:00:00Z")
        g.write(f"src/mod{i}.py", f"x = {i}\n")
        if i % 2:
            g.write(f"tests/test_mod{i}.py", f"assert {i}\n")
        shas[i] = g.commit(f"Change {i}", author=ALICE, date=date)
    for n, i in enumerate([*VIOLATING_REVERTED, *COMPLIANT_REVERTED]):
        (path / f"src/mod{i}.py").unlink()
        g.commit(f'Revert "Change {i}"\n\nThis reverts commit {shas[i]}.\n', author=ALICE,
                 date=f"2024-03-{n + 1:02d}T10:00:00Z")
    return shas


@pytest.fixture(scope="module")
def audit_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("audit")
    build(root / "app")
    path = root / "store.duckdb"
    with open_store(path) as st:
        ingest_git(st, [root / "app"])
    return path


def run_audit(audit_store: Path, filters: Filters | None = None):  # type: ignore[no-untyped-def]
    with open_store(audit_store, read_only=True) as st:
        return audit(engines.connect(st), filters or Filters(), Rules.configured(), needs_tests,
                     [("tests", "tests-with-code")])


def test_counts_compliance_per_month_and_the_revert_rates_known_by_construction(
        audit_store: Path) -> None:
    result, judged = run_audit(audit_store)
    assert result.changes == 53  # README + 40 changes + 12 reverts
    (rule,) = result.rules
    assert (rule.rule, rule.kind) == ("tests", "tests-with-code")
    assert (rule.passed, rule.failed, rule.unknown, rule.not_applicable) == (20, 20, 0, 13)
    assert rule.compliance == 0.5
    # January: i = 0..24, 13 even (violating) and 12 odd; February: i = 25..39, 7 and 8.
    assert [(m.month, m.passed, m.failed, m.compliance) for m in rule.months] == [
        ("2024-01", 12, 13, 12 / 25), ("2024-02", 8, 7, 8 / 15)]
    revert, incident, rework, defects = rule.outcomes
    assert (revert.n_compliant, revert.n_violating) == (20, 20)
    assert revert.rate_compliant == pytest.approx(0.1) and revert.rate_violating == pytest.approx(0.5)
    assert revert.difference == pytest.approx(0.4) and revert.enough
    assert revert.method == "BCa (binomial resampling)"
    # scipy's own BCa bootstrap of the same difference of proportions agrees within resampling noise.
    violating = np.array([1.0] * 10 + [0.0] * 10)
    compliant = np.array([1.0] * 2 + [0.0] * 18)
    ref = scipy.stats.bootstrap(
        (violating, compliant), lambda a, b, axis: a.mean(axis=axis) - b.mean(axis=axis),
        n_resamples=9999, method="BCa", vectorized=True, paired=False, random_state=1)
    assert revert.ci_low == pytest.approx(ref.confidence_interval.low, abs=0.03)
    assert revert.ci_high == pytest.approx(ref.confidence_interval.high, abs=0.03)
    assert revert.ci_low > 0  # here, untested changes really were reverted more
    assert (incident.difference, incident.reason) == (None, NO_ISSUES_REASON)  # git alone
    assert (rework.difference, rework.reason) == (None, NO_LINES_REASON)
    assert (defects.difference, defects.reason) == (None, DEFECT_REASON)
    assert result.failures == 20 and len(judged) == 53


def test_the_facts_read_from_the_store(audit_store: Path) -> None:
    _, judged = run_audit(audit_store)
    by_title = {c.commits[0].message.splitlines()[0]: c for c, _ in judged}
    c1 = by_title["Change 1"]
    assert [(f.path, f.added, f.deleted) for f in c1.files] == [
        ("src/mod1.py", 1, 0), ("tests/test_mod1.py", 1, 0)]
    assert c1.author and c1.approvals is None and c1.checks is None and c1.labels is None
    assert c1.ai_assisted is False and c1.codeowners is None
    assert c1.merged_at == datetime(2024, 1, 2, 10, tzinfo=UTC)
    revert = by_title['Revert "Change 0"']
    assert [(f.path, f.added, f.deleted) for f in revert.files] == [("src/mod0.py", 0, 1)]


def test_failure_rows_name_change_rule_files_and_fix(audit_store: Path) -> None:
    _, judged = run_audit(audit_store)
    rows = list(failure_rows(judged))
    assert len(rows) == 20
    first = rows[0]
    assert first["rule"] == "tests" and first["outcome"] == "fail" and first["fix"] == "add a test"
    assert first["files"] == ["src/mod0.py"] and first["merged_at"] == "2024-01-01T10:00:00Z"
    assert first["id"].endswith(first["id"].split("@")[-1]) and "@" in first["id"]


def test_the_window_scopes_the_audit(audit_store: Path) -> None:
    feb = Filters(since=datetime(2024, 2, 1, tzinfo=UTC), until=datetime(2024, 3, 1, tzinfo=UTC))
    result, _ = run_audit(audit_store, feb)
    (rule,) = result.rules
    assert (result.changes, rule.passed, rule.failed) == (15, 8, 7)
    revert = rule.outcomes[0]
    assert not revert.enough and revert.difference is None
    assert revert.reason == "not enough evidence: 8 compliant changes and 7 violating changes, need 20"


def test_an_empty_scope_says_so() -> None:
    result = audit_history([], [("tests", "tests-with-code")])
    assert result.changes == 0 and result.notes == ("no merged change in scope: nothing to audit",)
    (rule,) = result.rules
    assert rule.compliance is None and rule.months == () and rule.passed == 0


def test_several_findings_of_one_rule_count_once_at_their_worst() -> None:
    change = ChangeFacts(id="a/b@1", repo="a/b", author=None, files=(),
                         merged_at=datetime(2024, 5, 1, tzinfo=UTC))
    findings = [Finding("r", "size", "pass", "ok"), Finding("r", "size", "unknown", "?"),
                Finding("s", "size", "fail", "no")]
    result = audit_history([(change, findings)])
    r, s = result.rules
    assert (r.rule, r.passed, r.unknown, r.compliance) == ("r", 0, 1, None)
    assert (s.rule, s.failed, s.compliance) == ("s", 1, 0.0)
    assert [(m.month, m.unknown) for m in r.months] == [("2024-05", 1)]


def test_the_summary_renders_as_json_table_and_html(audit_store: Path) -> None:
    from leadlens.policy.audit import document
    from leadlens.report.audit import audit_table, render_audit_html

    result, _ = run_audit(audit_store)
    doc = document(result, "policy.toml")
    assert json.loads(json.dumps(doc)) == doc  # plain JSON: no dates or dataclasses left
    (rule,) = doc["rules"]
    assert rule["months"][0] == {"month": "2024-01", "passed": 12, "failed": 13, "unknown": 0,
                                 "compliance": 12 / 25}
    assert [o["outcome"] for o in rule["outcomes"]] == ["revert", "incident", "rework", "defect_escape"]
    text = audit_table(doc)
    assert "tests (tests-with-code): compliance 50.0%; pass 20, fail 20" in text
    assert "revert: 50.0% violating vs 10.0% compliant: +40.0 pp [" in text
    assert "defect_escape: " + DEFECT_REASON in text
    html = render_audit_html(doc, datetime(2024, 6, 1, tzinfo=UTC))
    assert html.startswith("<!DOCTYPE html>") and "<h3>tests</h3>" in html
    assert "+40.0 pp" in html and "2024-02" in html


def test_repository_text_is_escaped_in_the_html() -> None:
    from leadlens.policy.audit import document
    from leadlens.report.audit import render_audit_html

    change = ChangeFacts(id="a/b@1", repo="a/b", author=None, files=(),
                         merged_at=datetime(2024, 5, 1, tzinfo=UTC))
    doc = document(audit_history([(change, [Finding("<script>x</script>", "size", "fail", "m")])]))
    html = render_audit_html(doc, datetime(2024, 6, 1, tzinfo=UTC))
    assert "<script>x" not in html and "&lt;script&gt;x" in html


def test_approvals_checks_and_labels_come_from_the_forge_rows(tmp_path: Path) -> None:
    import forgefixtures as ff

    g = Git(tmp_path / "forge")
    g.write("README.md", "hi\n")
    g.commit("Initial commit", author=ALICE, date="2024-03-01T10:00:00Z")
    g.write("auth/login.py", "x = 1\n")
    c1 = g.commit("Add login (#1)\n\nReviewed-by: Carol Danvers <carol@example.com>\n",
                  author=ALICE, date="2024-03-02T10:00:00Z")
    g.write("docs/x.md", "x\n")
    g.commit("Add docs (#2)", author=ALICE, date="2024-03-03T10:00:00Z")
    path = tmp_path / "store.duckdb"
    with open_store(path) as st:
        ingest_git(st, [tmp_path / "forge"])
        (repo,) = st.con.execute("SELECT DISTINCT repo FROM changes").fetchone() or ("",)
        ff.pr(st.con, repo, 1, created="2024-03-02T08:00", merged="2024-03-02T10:00",
              merge_sha=c1, labels=("risky",))
        ff.pr(st.con, repo, 2, created="2024-03-03T08:00", merged="2024-03-03T10:00")
        st.con.execute("UPDATE pull_requests SET head_sha = ? WHERE number = 1", [c1])
        ff.pr_commit(st.con, repo, 1, c1, authored="2024-03-02T09:00", message="Add login")
        ff.review(st.con, repo, 1, "dan", "APPROVED", "2024-03-02T09:30")
        ff.review(st.con, repo, 1, "erin", "APPROVED", "2024-03-02T08:30")
        ff.review(st.con, repo, 1, "frank", "CHANGES_REQUESTED", "2024-03-02T09:40")
        for id_, name, conclusion in ((1, "test", "success"), (2, "test", "failure"),
                                      (3, "lint", "success")):
            st.con.execute("INSERT INTO builds (repo, kind, id, name, head_sha, conclusion, source,"
                           " fetched_at) VALUES (?, 'check_run', ?, ?, ?, ?, 'github', now())",
                           [repo, id_, name, c1, conclusion])
    with open_store(path, read_only=True) as st:
        _, judged = audit(engines.connect(st), Filters(), Rules.configured(),
                          lambda facts: [], codeowners="* @dan\n", codeowners_path="CODEOWNERS")
    by_number = {c.id.rsplit("#", 1)[-1] if "#" in c.id else "none": c for c, _ in judged}
    one, two, none = by_number["1"], by_number["2"], by_number["none"]
    assert one.labels == ("risky",) and two.labels == () and none.labels is None
    # The last push: the newest of the pull request's commits as the forge lists them.
    assert one.last_push_at == datetime(2024, 3, 2, 9, tzinfo=UTC)
    # A pull request's single commit is its squash, made on merge: its push time is unknown; a
    # direct push's commit was pushed about when it was committed.
    assert two.last_push_at is None and none.last_push_at == datetime(2024, 3, 1, 10, tzinfo=UTC)
    assert [(a.reviewer, a.after_last_push) for a in one.approvals or ()] == [
        ("erin", False), ("dan", True), ("Carol Danvers <carol@example.com>", None)]
    assert two.approvals == () and none.approvals is None  # a PR without reviews; no PR at all
    assert sorted((c.name, c.conclusion) for c in one.checks or ()) == [
        ("lint", "success"), ("test", "failure")]  # the latest run of a name wins
    assert two.checks == () and none.checks == ()  # the repository has CI data: none ran here
    assert one.codeowners == "* @dan\n" and one.codeowners_path == "CODEOWNERS"


# The command, as a user runs it.

POLICY = """\
[[rules]]
name = "tests"
rule = "tests-with-code"
source = ["src/**"]
tests = ["tests/**"]
"""


def cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "200"}
    env.pop("LEADLENS_DEBUG", None)
    return subprocess.run([sys.executable, "-m", "leadlens", "audit", *args], capture_output=True,
                          text=True, cwd=cwd, env=env, check=False)


def failed_cleanly(proc: subprocess.CompletedProcess[str], needle: str) -> bool:
    lines = proc.stderr.strip().splitlines()
    return (proc.returncode == 2 and "Traceback" not in proc.stderr and len(lines) == 1
            and needle in lines[0])


def test_the_command_exports_what_would_have_failed(audit_store: Path, tmp_path: Path) -> None:
    policy = tmp_path / "policy.toml"
    policy.write_text(POLICY)
    base = ("--store", str(audit_store), "--policy", str(policy))
    summary = json.loads(cli(*base, "--format", "json").stdout)
    (rule,) = summary["rules"]
    # The store keeps no file status: a revert deleting src/modN.py reads as a source change
    # without a test, so the built-in rule fails the 12 reverts as well as the 20 untested changes.
    assert (rule["passed"], rule["failed"], rule["not_applicable"]) == (20, 32, 1)
    assert summary["policy"] == str(policy)
    lines = cli(*base, "--format", "jsonl").stdout.splitlines()
    rows = [json.loads(x) for x in lines]
    assert len(rows) == 32 and {r["rule"] for r in rows} == {"tests"}
    assert rows[0]["files"] == ["src/mod0.py"] and rows[0]["fix"]
    out = tmp_path / "fails.csv"
    proc = cli(*base, "--format", "csv", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    table = list(csv.DictReader(out.open()))
    assert len(table) == 32 and table[0]["files"] == "src/mod0.py"
    assert list(table[0]) == ["id", "repo", "merged_at", "rule", "kind", "outcome", "files",
                              "message", "fix"]
    html = tmp_path / "audit.html"
    assert cli(*base, "--format", "html", "--out", str(html)).returncode == 0
    assert "<h3>tests</h3>" in html.read_text()
    assert "tests (tests-with-code): compliance" in cli(*base).stdout


def test_bad_input_fails_in_one_line(audit_store: Path, tmp_path: Path) -> None:
    store = ("--store", str(audit_store))
    assert failed_cleanly(cli(*store, cwd=tmp_path), "no policy rules in")
    bad = tmp_path / "bad.toml"
    bad.write_text('[[rules]]\nname = "x"\nrule = "no-such-rule"\n')
    assert failed_cleanly(cli(*store, "--policy", str(bad)), "unknown rule 'no-such-rule'")
    assert failed_cleanly(cli(*store, "--policy", str(tmp_path / "none.toml")), "does not exist")
    good = tmp_path / "policy.toml"
    good.write_text(POLICY)
    assert failed_cleanly(cli(*store, "--policy", str(good), "--codeowners", str(tmp_path / "CO")),
                          "CODEOWNERS file")
    assert failed_cleanly(cli("--store", str(tmp_path / "no.duckdb"), "--policy", str(good)),
                          "no store at")
    assert failed_cleanly(cli(*store, "--policy", str(good), "--format", "xml"), "--format must be")


def test_an_empty_store_audits_nothing_and_says_so(tmp_path: Path) -> None:
    path = tmp_path / "empty.duckdb"
    with open_store(path):
        pass
    policy = tmp_path / "policy.toml"
    policy.write_text(POLICY)
    proc = cli("--store", str(path), "--policy", str(policy), "--format", "json")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["changes"] == 0 and doc["rules"][0]["compliance"] is None
    assert "no merged change in scope" in proc.stderr


def test_a_codeowners_file_with_bad_lines_is_named_line_by_line(audit_store: Path,
                                                               tmp_path: Path) -> None:
    policy = tmp_path / "policy.toml"
    policy.write_text('[[rules]]\nname = "owners"\nrule = "codeowners"\n')
    owners = tmp_path / "CODEOWNERS"
    owners.write_text("* @alice\nsrc/ not-an-owner!\n")
    proc = cli("--store", str(audit_store), "--policy", str(policy), "--codeowners", str(owners),
               "--format", "json")
    assert proc.returncode == 0, proc.stderr
    assert f"warning: {owners}: line 2: " in proc.stderr and "(line skipped)" in proc.stderr
    (rule,) = json.loads(proc.stdout)["rules"]
    # Git alone: no pull request, no review trailer, so nobody's approval is known.
    assert rule["unknown"] == 53 and rule["compliance"] is None


@pytest.mark.parametrize(("nb", "kb", "nt", "kt"), [(150, 12, 200, 40), (400, 4, 300, 9)])
def test_binomial_resampling_agrees_with_scipys_bca(nb: int, kb: int, nt: int, kt: int) -> None:
    from leadlens.analysis.rates import BINOMIAL, rate_difference

    b = np.array([1.0] * kb + [0.0] * (nb - kb))
    t = np.array([1.0] * kt + [0.0] * (nt - kt))
    found = rate_difference(b, t, resamples=9999, seed=0)
    ref = scipy.stats.bootstrap(
        (t, b), lambda x, y, axis: x.mean(axis=axis) - y.mean(axis=axis), n_resamples=9999,
        method="BCa", vectorized=True, random_state=3).confidence_interval
    assert found.estimate == pytest.approx(kt / nt - kb / nb) and found.method == BINOMIAL
    assert found.low == pytest.approx(ref.low, abs=0.01)
    assert found.high == pytest.approx(ref.high, abs=0.01)


def test_rates_refuse_what_is_not_a_rate() -> None:
    from leadlens.analysis.rates import rate_difference

    with pytest.raises(ValueError, match="0/1 values"):
        rate_difference(np.array([0.0, 0.5]), np.array([0.0, 1.0]), resamples=99, seed=0)


def test_the_report_carries_the_audit_when_asked(audit_store: Path, tmp_path: Path) -> None:
    policy = tmp_path / "policy.toml"
    policy.write_text(POLICY)
    env = {**os.environ, "COLUMNS": "200"}

    def report(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "leadlens", "report", "--store",
                               str(audit_store), *args], capture_output=True, text=True,
                              env=env, check=False)

    doc = json.loads(report("--format", "json", "--audit", "--policy", str(policy)).stdout)
    (rule,) = doc["audit"]["rules"]
    assert (rule["passed"], rule["failed"]) == (20, 32)  # as `leadlens audit` says
    assert json.loads(report("--format", "json").stdout)["audit"] is None
    html = tmp_path / "r.html"
    assert report("--format", "html", "--out", str(html), "--audit", "--policy",
                  str(policy)).returncode == 0
    page = html.read_text()
    assert '<h2 id="audit">Policy audit</h2>' in page and "<h3>tests</h3>" in page
    bad = report("--audit", "--policy", str(tmp_path / "none.toml"))
    assert bad.returncode == 2 and "none.toml" in bad.stderr


# Incident-linked changes, on forge rows whose rates are known by construction.

# Repository o/inc, no clone: PR n (1..40) merged on day n of 2024 at 10:00 and shipped by
# deployment 100+n at 12:00, except 15 and 29, which ship with 16 and 30. Even PRs violate the
# rule, odd ones comply. Incident issues: "Caused by #2/#4/#6/#8", "caused by: #20" and an
# "Outage" naming #18 (named directly); "Caused by <a commit of #10>"; "Caused by #16" (its
# shipment also shipped 15); unnamed ones 1 h after the deployments of 12 and of 29+30 (the
# window links them there). So violating 2 4 6 8 10 12 16 18 20 30 (10 of 20) and compliant 15
# 29 (2 of 20) are incident-linked. Decoys: a "bug" issue naming #22 (not an incident), an
# incident naming a PR that does not exist and an unnamed one weeks after the last deployment
# (both unlinked: they mark nothing).
INC_VIOLATING = (2, 4, 6, 8, 10, 12, 16, 18, 20, 30)
INC_COMPLIANT = (15, 29)


def _day(n: int, hour: int) -> str:
    return (datetime(2024, 1, 1, hour, tzinfo=UTC) + timedelta(days=n - 1)).strftime("%Y-%m-%dT%H:%M")


def _commit(n: int) -> str:
    return f"{n:04x}" + "e" * 36


def incident_store(st: Store, repo: str, *, issues: bool = True) -> None:
    import forgefixtures as ff
    from leadlens.derive.forge import derive_forge

    con = st.con
    for n in range(1, 41):
        ff.pr(con, repo, n, created=_day(n, 8), merged=_day(n, 10), merge_sha=f"{n:04x}" + "d" * 36)
        ff.pr_commit(con, repo, n, _commit(n), authored=_day(n, 9), message=f"work {n}")
        if n not in (15, 29):
            ff.deployment(con, repo, 100 + n, f"{n:04x}" + "d" * 36, at=_day(n, 12))
    if issues:
        for k, n in enumerate((2, 4, 6, 8, 16)):
            ff.issue(con, repo, 500 + k, created=f"2024-04-0{k + 1}T09:00", body=f"Caused by #{n}")
        ff.issue(con, repo, 510, created="2024-04-10T09:00", body="caused by: #20")
        ff.issue(con, repo, 511, created="2024-04-11T09:00", labels=("Outage",), body="Caused by #18")
        ff.issue(con, repo, 512, created="2024-04-12T09:00", body=f"Caused by {_commit(10)[:12]}")
        ff.issue(con, repo, 513, created=_day(12, 13))  # window: deployment 112
        ff.issue(con, repo, 514, created=_day(30, 13))  # window: deployment 130 (29 and 30)
        ff.issue(con, repo, 520, created="2024-04-20T09:00", labels=("bug",), body="Caused by #22")
        ff.issue(con, repo, 521, created="2024-04-21T09:00", body="Caused by #99")
        ff.issue(con, repo, 522, created="2024-04-22T09:00")
    derive_forge(st, repo)


def by_parity(facts: ChangeFacts) -> list[Finding]:
    """Even pull requests violate, odd ones comply."""
    if int(facts.id.rsplit("#", 1)[1]) % 2:
        return [Finding("even", "size", "pass", "odd")]
    return [Finding("even", "size", "fail", "even", fix="be odd")]


def test_incident_linked_rates_known_by_construction(tmp_path: Path) -> None:
    from leadlens.config import DoraSettings
    from leadlens.metrics.dora import incident_linked

    path = tmp_path / "store.duckdb"
    with open_store(path) as st:
        incident_store(st, "o/inc")
        incident_store(st, "o/quiet", issues=False)  # no issue at all: unknown, not 0
    with open_store(path, read_only=True) as st:
        db = engines.connect(st)
        flags = incident_linked(db, db.table("changes"))
        result, _ = audit(db, Filters(), Rules.configured(), by_parity, [("even", "size")])
        outage_only, _ = audit(db, Filters(repos=("o/inc",)), Rules.configured(), by_parity,
                               dora=DoraSettings(incident_labels=("outage",)))
    assert {k for k, v in flags.items() if v == 1} == {
        f"o/inc#{n}" for n in (*INC_VIOLATING, *INC_COMPLIANT)}
    assert sum(v == 0 for v in flags.values()) == 28
    assert [k for k, v in flags.items() if v is None] == [k for k in flags if k.startswith("o/quiet")]
    assert len(flags) == 80
    (rule,) = result.rules
    revert, incident = rule.outcomes[:2]
    assert (revert.n_compliant, revert.n_violating) == (40, 40)  # both repositories
    # Only o/inc's changes are known: 20 each, 2 and 10 of them incident-linked.
    assert (incident.n_compliant, incident.n_violating) == (20, 20)
    assert incident.rate_compliant == pytest.approx(0.1)
    assert incident.rate_violating == pytest.approx(0.5)
    assert incident.difference == pytest.approx(0.4) and incident.enough and incident.reason is None
    assert incident.method == "BCa (binomial resampling)"
    # scipy's BCa bootstrap of the same difference of proportions (0.15 .. 0.65) agrees.
    ref = scipy.stats.bootstrap(
        (np.array([1.0] * 10 + [0.0] * 10), np.array([1.0] * 2 + [0.0] * 18)),
        lambda a, b, axis: a.mean(axis=axis) - b.mean(axis=axis), n_resamples=9999,
        method="BCa", vectorized=True, paired=False, random_state=1).confidence_interval
    assert incident.ci_low == pytest.approx(ref.low, abs=0.03) and incident.ci_low > 0
    assert incident.ci_high == pytest.approx(ref.high, abs=0.03)
    (only,) = outage_only.rules
    linked = only.outcomes[1]
    assert (linked.rate_compliant, linked.rate_violating) == (0.0, pytest.approx(1 / 20))


def test_incident_rate_is_null_without_issues(tmp_path: Path) -> None:
    path = tmp_path / "store.duckdb"
    with open_store(path) as st:
        incident_store(st, "o/quiet", issues=False)
    with open_store(path, read_only=True) as st:
        result, _ = audit(engines.connect(st), Filters(), Rules.configured(), by_parity)
    (rule,) = result.rules
    revert, incident = rule.outcomes[:2]
    assert revert.rate_violating == 0.0 and revert.n_violating == 20  # the revert rate is known
    assert (incident.n_compliant, incident.n_violating, incident.rate_compliant,
            incident.difference, incident.enough) == (0, 0, None, None, False)
    assert incident.reason == NO_ISSUES_REASON

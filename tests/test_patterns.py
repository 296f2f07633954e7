"""Regular expressions from settings run in linear time (RE2) on hostile text, or are refused."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from gitfixtures import Git, build_linear
from leadlens.attribution import DEFAULT_RULES
from leadlens.config import (
    DEFAULT_AGENT_PATTERN,
    DEFAULT_BOT_PATTERN,
    DEFAULT_PRODUCTION_PATTERN,
    DEFAULT_RELEASE_TAG_PATTERN,
    load_settings,
)
from leadlens.errors import UserError

# The textbook catastrophic pattern: Python's re takes 2^n steps on n a's not followed by the end.
REDOS = "(a+)+$"
HOSTILE = "a" * 50_000 + "!"
# A tag name is a path component (at most 255 bytes in a loose ref): plenty for 2^n.
HOSTILE_TAG = "a" * 200 + "!"
HOSTILE_SETTINGS = f"""\
release_tag_pattern = "{REDOS}"
bot_pattern = "{REDOS}"
agent_pattern = "{REDOS}"

[[ai_rules]]
name = "hostile"
field = "message"
pattern = "{REDOS}"
"""


def _run(args: list[str], cwd: Path, timeout: float) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "200"}
    env.pop("LEADLENS_DEBUG", None)
    try:
        return subprocess.run(args, capture_output=True, text=True, cwd=cwd, env=env,
                              timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        pass  # failed outside the handler, so the report does not repeat 50,000 a's
    what = " ".join(a for a in args[1:4] if len(a) < 80)
    pytest.fail(f"{what} did not finish in {timeout} s (a backtracking regex?)")


@pytest.fixture
def hostile_repo(tmp_path: Path) -> Path:
    """A commit whose message is 50,000 a's and a '!' (it also carries Claude Code's marker, so the
    AI rules read it in Python), and a tag of 200 a's and a '!'."""
    g = Git(tmp_path / "repo")
    g.write("a.txt", "a\n")
    g.commit("Initial commit\n", date="2024-01-01T10:00:00Z")
    g.write("a.txt", "b\n")
    g.commit(f"Hostile\n\n{HOSTILE}\n\nGenerated with Claude Code\n", date="2024-01-02T10:00:00Z")
    g.run("tag", HOSTILE_TAG)
    g.run("tag", "v1.0")
    return g.path


def test_matching_hostile_text_takes_under_a_second(hostile_repo: Path) -> None:
    script = textwrap.dedent(f"""
        import json, time
        hostile = "a" * 50_000 + "!"
        from leadlens.attribution import AiRule, CommitText, Rules
        from leadlens.conventions import BotRule
        from leadlens.sources.git.blame import release_tags
        from leadlens.sources.git.client import open_repo
        took = {{}}
        t = time.perf_counter()
        rules = Rules([AiRule(name="hostile", field="message", pattern={REDOS!r})])
        found = rules.classify(CommitText("A <a@x>", "A <a@x>", "s", hostile, ()))
        took["ai_rules"] = time.perf_counter() - t
        t = time.perf_counter()
        bot = BotRule({REDOS!r}, "^nobody$").matches(hostile)
        took["bot_pattern"] = time.perf_counter() - t
        t = time.perf_counter()
        tags = release_tags(open_repo({str(hostile_repo)!r}), {REDOS!r})
        took["release_tag_pattern"] = time.perf_counter() - t
        print(json.dumps({{"took": took, "found": len(found), "bot": bot, "tags": len(tags)}}))
    """)
    proc = _run([sys.executable, "-c", script], hostile_repo, timeout=60)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["found"] == 0 and out["bot"] is False and out["tags"] == 0
    assert all(seconds < 1.0 for seconds in out["took"].values()), out["took"]


def test_hostile_settings_file_cannot_hang_ingest_changes_or_report(hostile_repo: Path,
                                                                   tmp_path: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    (work / "leadlens.toml").write_text(HOSTILE_SETTINGS, encoding="utf-8")
    store = str(tmp_path / "s.duckdb")
    cli = [sys.executable, "-m", "leadlens"]
    ingest = _run([*cli, "ingest", "git", str(hostile_repo), "--store", store], work, timeout=120)
    assert ingest.returncode == 0, ingest.stderr
    changes = _run([*cli, "changes", "--store", store], work, timeout=120)
    assert changes.returncode == 0, changes.stderr
    rows = [json.loads(line) for line in changes.stdout.splitlines()]
    hostile = next(r for r in rows if r["title"] == "Hostile")
    # The commit was read by the rules (Claude Code's marker found), the hostile rule matched nothing.
    assert [e["rule"] for e in hostile["ai_evidence"]] == ["claude-code-marker"]
    report = _run([*cli, "report", "--store", store, "--format", "json"], work, timeout=120)
    assert report.returncode == 0, report.stderr


@pytest.mark.parametrize("pattern", [r"(?<=v)\\d+", r"(a)\\1"], ids=["look-behind", "back-reference"])
@pytest.mark.parametrize("setting", ["release_tag_pattern", "bot_pattern", "agent_pattern",
                                     "production_pattern", "ai_rules", "review_status_pattern",
                                     "question_patterns", "acceptance_patterns"])
def test_a_pattern_re2_cannot_run_is_refused_naming_the_setting(tmp_path: Path, setting: str,
                                                                 pattern: str) -> None:
    text = (f'[[ai_rules]]\nname = "x"\nfield = "subject"\npattern = "{pattern}"\n'
            if setting == "ai_rules" else f'{setting} = ["{pattern}"]\n'
            if setting.endswith("_patterns") else f'{setting} = "{pattern}"\n')
    (tmp_path / "leadlens.toml").write_text(text, encoding="utf-8")
    with pytest.raises(UserError, match=rf"{setting}.*not a valid regular expression"):
        load_settings(tmp_path)


def test_refused_pattern_is_exit_2_on_one_line(tmp_path: Path) -> None:
    (tmp_path / "leadlens.toml").write_text('release_tag_pattern = "(?<!-)v\\\\d+"\n',
                                            encoding="utf-8")
    build_linear(tmp_path / "repo", 2)
    proc = _run([sys.executable, "-m", "leadlens", "ingest", "git", str(tmp_path / "repo"),
                 "--store", str(tmp_path / "s.duckdb")], tmp_path, timeout=120)
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "release_tag_pattern" in lines[0] and "look-around" in lines[0]


def test_the_defaults_run_in_re2_and_mean_what_they_meant() -> None:
    from leadlens.patterns import Regex, problem

    for pattern in (DEFAULT_RELEASE_TAG_PATTERN, DEFAULT_BOT_PATTERN, DEFAULT_AGENT_PATTERN,
                    DEFAULT_PRODUCTION_PATTERN, *(r.pattern for r in DEFAULT_RULES)):
        assert problem(pattern) is None, pattern
    tags = Regex(DEFAULT_RELEASE_TAG_PATTERN, "release_tag_pattern")
    releases = ["v1.2", "1.2.3", "pkg/v1.2.3", "sub.pkg/v0.10.1"]
    others = ["2.0.0rc1", "v1.0-beta", "2.0.x", "v1", "release", "v1.2\n"]
    assert [bool(tags.match(t)) for t in releases + others] == [True] * 4 + [False] * 6
    bots = Regex(DEFAULT_BOT_PATTERN, "bot_pattern")
    assert [bool(bots.search(n)) for n in ("dependabot[bot]", "Renovate", "pre-commit-ci[bot]",
                                           "renovated-person", "alice")] == [True] * 3 + [False] * 2


@pytest.mark.parametrize(("text", "question"), [
    ("Should this be configurable?", True),
    ("Can we drop v1\uff1f @alice", True),  # the full-width mark, then whom it asks
    ("\u505a\u5b8c\u4e86\u5417\uff1f\n\n[~accountid:5e9711ba34f7b90c0fbc37d3] ", True),  # Jira's mention
    ('Is it "ready?"', True),
    ("what? @bob, @carol", True),
    ("Fixed in a?b", False),
    ("Done.", False),
    ("Why?\n\nAnyway, merged.", False),  # the question is not the comment's end
])
def test_the_default_question_pattern(text: str, question: bool) -> None:
    from leadlens.config import DEFAULT_QUESTION_PATTERNS
    from leadlens.patterns import Regex

    assert any(Regex(p, "question_patterns").search(text) is not None
               for p in DEFAULT_QUESTION_PATTERNS) is question


@pytest.mark.parametrize(("text", "criteria"), [
    ("## Acceptance criteria\n- works", True),
    ("h3. Definition of Done\n* tested", True),
    ("Steps:\n- [ ] export works\n- [x] import works", True),
    ("Given a user\nWhen they log in\nThen they see the dashboard", True),
    ("Make the button blue.", False),
    ("Accept the criteria the customer sends", False),
])
def test_the_default_acceptance_patterns(text: str, criteria: bool) -> None:
    from leadlens.config import DEFAULT_ACCEPTANCE_PATTERNS
    from leadlens.patterns import Regex

    assert any(Regex(p, "acceptance_patterns").search(text) is not None
               for p in DEFAULT_ACCEPTANCE_PATTERNS) is criteria

"""CODEOWNERS precedence as GitHub's "About code owners" page documents it, line for line."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from leadlens.policy.codeowners import parse

# GitHub's example file (docs.github.com, "About code owners", "Example of a CODEOWNERS file"),
# comments shortened; the line numbers below are this text's.
GITHUB_EXAMPLE = """\
# default owners for everything in the repo
*       @global-owner1 @global-owner2
# the last matching pattern takes the most precedence
*.js    @js-owner #This is an inline comment.
*.go docs@example.com
*.txt @octo-org/octocats
/build/logs/ @doctocat
docs/*  docs@example.com
apps/ @octocat
/docs/ @doctocat
/scripts/ @doctocat @octocat
**/logs @octocat
/apps/ @octocat
/apps/github
"""


@pytest.mark.parametrize(("path", "owners", "line"), [
    ("README.md", ("@global-owner1", "@global-owner2"), 2),
    ("src/app.js", ("@js-owner",), 4),            # only @js-owner, not the global owners
    ("cmd/main.go", ("docs@example.com",), 5),
    ("notes/todo.txt", ("@octo-org/octocats",), 6),
    ("build/logs/x/y.log", ("@octocat",), 12),      # /build/logs/ (line 7), then **/logs wins
    # docs/* matches docs/getting-started.md, not docs/build-app/troubleshooting.md; /docs/
    # (line 10) comes later and owns both.
    ("docs/getting-started.md", ("@doctocat",), 10),
    ("docs/build-app/troubleshooting.md", ("@doctocat",), 10),
    ("web/apps/x.py", ("@octocat",), 9),             # apps/ anywhere
    ("scripts/deploy.sh", ("@doctocat", "@octocat"), 11),
    ("deeply/nested/logs/a.txt", ("@octocat",), 12),  # **/logs
    ("apps/main.py", ("@octocat",), 13),
    ("apps/github/x.py", (), 14),                    # owners left empty: un-owned
])
def test_githubs_example_last_match_wins(path: str, owners: tuple[str, ...], line: int) -> None:
    co = parse(GITHUB_EXAMPLE)
    assert co.errors == ()
    entry = co.rule_for(path)
    assert entry is not None and entry.line == line
    assert co.owners_of(path) == owners


def test_docs_star_does_not_reach_nested_files_on_its_own() -> None:
    co = parse("docs/*  docs@example.com\n")
    assert co.owners_of("docs/getting-started.md") == ("docs@example.com",)
    assert co.owners_of("docs/build-app/troubleshooting.md") == ()
    assert co.rule_for("other/docs/a.md") is None  # a slash in the pattern anchors it at the root


def test_paths_are_case_sensitive_and_unmatched_paths_have_no_owner() -> None:
    co = parse("/Docs/ @a\n")
    assert co.owners_of("Docs/x") == ("@a",)
    assert co.owners_of("docs/x") == () and co.rule_for("docs/x") is None


def test_lines_github_marks_as_errors_are_skipped_with_their_numbers() -> None:
    text = ("* @all\n"
            "!secret.txt @a\n"              # 2: negation
            "Python/ceval*.[ch] @b\n"       # 3: character range (CPython's CODEOWNERS hit this)
            "\\#notes @c\n"                 # 4: escaping # does not work
            "lib/ not-an-owner\n"           # 5: neither @user, @org/team nor e-mail
            "lib/ @ok @org/team x@y.io\n")  # 6: valid
    co = parse(text, ".github/CODEOWNERS")
    assert [e.line for e in co.errors] == [2, 3, 4, 5]
    assert "negation" in co.errors[0].message and "character ranges" in co.errors[1].message
    assert "escaping" in co.errors[2].message and "'not-an-owner'" in co.errors[3].message
    assert str(co.errors[3]).startswith("line 5: ")
    assert [e.line for e in co.entries] == [1, 6]
    assert co.owners_of("Python/ceval.c") == ("@all",)  # the skipped line does not apply
    assert co.owners_of("lib/a.py") == ("@ok", "@org/team", "x@y.io")
    assert co.teams == frozenset({"@org/team"})


def test_escaped_spaces_and_comments() -> None:
    co = parse("# a comment\n\n   \nMy\\ File.txt @a # trailing\n")
    assert co.owners_of("My File.txt") == ("@a",)
    assert [e.line for e in co.entries] == [4]


@pytest.mark.parametrize(("glob", "matches", "misses"), [
    ("*.py", ["a.py", "src/deep/b.py"], ["a.pyc", "py"]),
    ("auth/**", ["auth/a", "auth/x/y.py"], ["auth", "web/auth/a"]),
    ("**/logs", ["logs", "a/logs/x", "a/b/logs"], ["a/logsx"]),
    ("a/**/b", ["a/b", "a/x/y/b", "a/x/b/c"], ["x/a/b"]),
    ("src/*.py", ["src/a.py"], ["src/x/a.py", "lib/src/a.py"]),
    ("docs", ["docs", "docs/a.md", "x/docs/b"], ["docsy"]),
    ("/docs/", ["docs/a.md"], ["x/docs/a.md"]),
    ("file?.txt", ["file1.txt"], ["file/.txt", "file12.txt"]),
    ("**/openapi*.{yaml,yml,json}", ["openapi.yaml", "api/openapi-v2.json"], ["api/openapi.toml"]),
])
def test_policy_globs_read_as_git_does(glob: str, matches: list[str], misses: list[str]) -> None:
    from leadlens.policy.spec import globs_of

    globs = globs_of((glob,))
    assert [p for p in matches if not globs.matches(p)] == []
    assert [p for p in misses if globs.matches(p)] == []


_PART = st.sampled_from(["a", "b", "*", "**", "a*", "?", "x.py", "*.py"])


@settings(max_examples=300, deadline=None)
@given(pattern=st.tuples(st.booleans(), st.lists(_PART, min_size=1, max_size=3), st.booleans()),
       path=st.lists(st.sampled_from(["a", "b", "ab", "x.py", "a.py"]), min_size=1, max_size=4))
def test_the_re2_translation_matches_as_pathspec_does(pattern: tuple[bool, list[str], bool],
                                                      path: list[str]) -> None:
    """RE2 runs pathspec's own regular expression as Python's re does; and it matches what
    pathspec matches, but for our one documented difference: a pattern whose last part has a
    wildcard matches files only, never what is below them."""
    import re

    from pathspec.patterns.gitignore.spec import GitIgnoreSpecPattern

    from leadlens.policy.globs import GlobSet, translate

    lead, parts, trail = pattern
    glob = ("/" if lead else "") + "/".join(parts) + ("/" if trail else "")
    target = "/".join(path)
    ours = GlobSet([glob]).matches(target)
    assert ours is (re.search(translate(glob), target) is not None)
    last = parts[-1]
    if trail or last == "**" or not ("*" in last or "?" in last):
        assert ours is (GitIgnoreSpecPattern(glob).match_file(target) is not None)
    elif ours:
        assert GitIgnoreSpecPattern(glob).match_file(target) is not None

"""GitHub's closing keywords in a pull request body, against the documented grammar ("Linking a
pull request to an issue using a keyword"), and conservative where GitHub does not say."""

from __future__ import annotations

import time

import pytest

from leadlens.conventions import ClosingReference, closing_references

REPO = "octo-org/octo-repo"


def refs(body: str | None, repo: str = REPO) -> list[tuple[str, int, str]]:
    return [(r.repo, r.number, r.keyword) for r in closing_references(body, repo)]


@pytest.mark.parametrize("keyword", ["close", "closes", "closed", "fix", "fixes", "fixed",
                                     "resolve", "resolves", "resolved"])
def test_every_documented_keyword_in_any_case(keyword: str) -> None:
    for written in (keyword, keyword.upper(), keyword.capitalize()):
        assert refs(f"{written} #10") == [(REPO, 10, keyword)]
        assert refs(f"{written}: #10") == [(REPO, 10, keyword)]  # "Closes: #10"


def test_documented_examples() -> None:
    assert refs("Closes #10") == [(REPO, 10, "closes")]
    assert refs("Fixes octo-org/octo-repo#100") == [(REPO, 100, "fixes")]
    assert refs("Resolves #10, resolves #123, resolves octo-org/other#100") == [
        (REPO, 10, "resolves"), (REPO, 123, "resolves"), ("octo-org/other", 100, "resolves")]


def test_each_keyword_closes_one_issue() -> None:
    # "Use full syntax for each issue": the second number has no keyword of its own.
    assert refs("Fixes #1, #2 and fixes #3") == [(REPO, 1, "fixes"), (REPO, 3, "fixes")]
    assert refs("Fixes #1 and #2") == [(REPO, 1, "fixes")]


def test_cross_repository_and_url_forms() -> None:
    assert refs("fixes other-org/some.repo_1#7") == [("other-org/some.repo_1", 7, "fixes")]
    assert refs("Fixes https://github.com/panjf2000/ants/issues/188", "panjf2000/ants") == [
        ("panjf2000/ants", 188, "fixes")]
    assert refs("closes https://github.com/a/b/issues/5.") == [("a/b", 5, "closes")]
    # The repository's own name in any case is the repository.
    assert refs("fixes OCTO-ORG/Octo-Repo#4") == [(REPO, 4, "fixes")]


def test_url_forms_that_name_no_issue() -> None:
    assert refs("fixes https://github.com/a/b/pull/5") == []  # a pull request closes nothing
    assert refs("fixes https://github.com/a/b/issues/5/x") == []
    assert refs("fixes https://github.com/a/b/issues/5#issuecomment-1") == []
    assert refs("fixes https://example.com/a/b/issues/5") == []  # not GitHub's host
    assert refs("fixes http://github.com/a/b/issues/5") == []
    enterprise = closing_references("fixes https://git.corp/a/b/issues/5", REPO, host="git.corp")
    assert enterprise == [ClosingReference("a/b", 5, "fixes")]


def test_code_does_not_count() -> None:
    assert refs("`fixes #1` but fixes #2") == [(REPO, 2, "fixes")]
    assert refs("``fixes ` #1`` fixes #3") == [(REPO, 3, "fixes")]
    assert refs("```\nfixes #1\n```\nfixes #2") == [(REPO, 2, "fixes")]
    assert refs("~~~~ text\nfixes #1\n~~~\nstill code: fixes #4\n~~~~\nfixes #2") == [
        (REPO, 2, "fixes")]
    assert refs("```\nfixes #1 (an unclosed fence runs to the end)") == []
    assert refs("<!-- fixes #1 (a template's hint) -->\r\nFixes #2") == [(REPO, 2, "fixes")]
    # A lone backtick is literal text; a code span stays within its paragraph.
    assert refs("a ` b fixes #1") == [(REPO, 1, "fixes")]
    assert refs("a `b\n\nfixes #1 `") == [(REPO, 1, "fixes")]


def test_not_a_closing_keyword() -> None:
    for body in ("prefixes #1", "auto-fixes #1", "_fixes #1", "fixing #1", "closing #1",
                 "fixes#1", "fixes:#1", "fixes #1a", "fixes #", "fixes issue #1", "fix bug #89",
                 "fixes o/r #1", "fixes #-1", "see #1", "\ufb01xes #1", "clo\u017fes #1", None, ""):
        # (the last two: a ligature and a long s, which Unicode case folding would let through)
        assert refs(body) == [], body


def test_line_endings_markdown_and_punctuation() -> None:
    assert refs("fix #3 \r\n*  chinese") == [(REPO, 3, "fix")]  # panjf2000/ants#4, as recorded
    assert refs("* Closes #5\n- (fixes #6)\n**Resolves #7**") == [
        (REPO, 5, "closes"), (REPO, 6, "fixes"), (REPO, 7, "resolves")]
    assert refs("Fixes\t#8") == [(REPO, 8, "fixes")]
    assert refs("Fixes\n#8") == []  # the keyword and its issue on one line


def test_each_issue_once_with_its_first_keyword() -> None:
    assert refs("fixed #1, Closes #1, closes octo-org/octo-repo#1") == [(REPO, 1, "fixed")]


def test_hostile_bodies_parse_in_linear_time() -> None:
    megabyte = 2**20
    bodies = ["fixes " * (megabyte // 6), "`" * megabyte, "` ``" * (megabyte // 4),
              "```\n" * (megabyte // 4), "<!--" * (megabyte // 4), "fixes" + " " * megabyte,
              "fixes #1 " * (megabyte // 9), "fixes a/" + "b" * megabyte]
    for body in bodies:
        started = time.perf_counter()
        closing_references(body, REPO)
        assert time.perf_counter() - started < 2.0, body[:20]
    assert refs("fixes #1 " * (megabyte // 9)) == [(REPO, 1, "fixes")]

"""Ingest the fixture history and check exact stored values: SHAs, UTC times, offsets, files."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from leadlens.pipeline import ingest_git
from leadlens.store import Store


@pytest.fixture
def ingested(store: Store, history_repo: tuple[Path, dict[str, str]]) -> dict[str, str]:
    path, shas = history_repo
    report = ingest_git(store, [path], line_history=True)
    assert not report.failed, report.outcomes
    assert report.outcomes[0].commits_added == 16
    return shas


def one(store: Store, sql: str, *params: object) -> tuple[object, ...]:
    row = store.con.execute(sql, list(params)).fetchall()[0]
    assert row is not None
    return tuple(row)


def test_commit_count_and_identity(store: Store, ingested: dict[str, str]) -> None:
    assert one(store, "SELECT count(*), count(DISTINCT sha) FROM commits") == (16, 16)
    assert one(store, "SELECT repo, default_branch, head_detached FROM repos") == (
        "history", "refs/heads/main", False)


def test_times_are_utc_with_original_offsets(store: Store, ingested: dict[str, str]) -> None:
    row = one(store, "SELECT author_time, author_tz_offset_min, committer_time,"
              " committer_tz_offset_min, author_name, committer_name FROM commits WHERE sha = ?",
              ingested["squash12"])
    assert row == (
        datetime(2024, 1, 4, 11, 15, tzinfo=UTC), -180,
        datetime(2024, 1, 4, 11, 0, tzinfo=UTC), 540, "Dan Dare", "Carol Danvers",
    )
    assert one(store, "SELECT author_time, author_tz_offset_min FROM commits WHERE sha = ?",
               ingested["merge_pr7"]) == (datetime(2024, 1, 3, 6, 30, tzinfo=UTC), 330)


def test_merges_octopus_and_pr_numbers(store: Store, ingested: dict[str, str]) -> None:
    s = ingested
    assert one(store, "SELECT parents, is_merge, pr_number, files_changed FROM commits"
               " WHERE sha = ?", s["octopus"]) == (
        [s["revert"], s["octo_a"], s["octo_b"], s["octo_c"]], True, None, 0)
    assert one(store, "SELECT pr_number FROM commits WHERE sha = ?", s["merge_pr7"]) == (7,)
    assert one(store, "SELECT pr_number FROM commits WHERE sha = ?", s["squash12"]) == (12,)
    assert one(store, "SELECT pr_number FROM commits WHERE sha = ?", s["merge_mr34"]) == (34,)
    assert one(store, "SELECT count(*) FROM commits WHERE is_merge") == (3,)


def test_trailers_review_evidence_and_revert(store: Store, ingested: dict[str, str]) -> None:
    s = ingested
    trailers, evidence = one(store, "SELECT trailers, review_evidence FROM commits WHERE sha = ?",
                             s["squash12"])
    assert [t["key"].lower() for t in trailers] == [  # type: ignore[attr-defined]
        "reviewed-by", "co-authored-by", "tested-by", "acked-by"]
    assert evidence == [
        {"kind": "reviewed-by", "person": "Carol Danvers <carol@example.com>"},
        {"kind": "acked-by", "person": "Frank Castle <frank@example.com>"},
    ]
    assert one(store, "SELECT revert_of, subject FROM commits WHERE sha = ?", s["revert"]) == (
        s["squash12"], 'Revert "Add login (#12)"')


def test_files_renames_binary_and_odd_names(store: Store, ingested: dict[str, str]) -> None:
    s = ingested
    rows = store.con.execute(
        "SELECT path, old_path, added, deleted, is_binary FROM commit_files WHERE sha = ?"
        " ORDER BY path", [s["root"]]).fetchall()
    assert rows == [
        ("README.md", None, 1, 0, False),
        ("logo.png", None, None, None, True),
        ("na\u00efve.txt", None, 1, 0, False),
        ("new\nline.txt", None, 1, 0, False),
        ('quote"d.txt', None, 1, 0, False),
        ("tab\there.txt", None, 1, 0, False),
        ("with space.txt", None, 1, 0, False),
    ]
    assert one(store, "SELECT path, old_path, added, deleted FROM commit_files WHERE sha = ?",
               s["rename"]) == ("src/main.py", "src/app.py", 1, 1)
    assert one(store, "SELECT files_changed, lines_added, lines_deleted FROM commits"
               " WHERE sha = ?", s["feature2"]) == (1, 5, 1)


def test_tags_dates(store: Store, ingested: dict[str, str]) -> None:
    rows = store.con.execute(
        "SELECT name, target_sha, is_annotated, tag_time, tag_tz_offset_min, tagger_name"
        " FROM tags ORDER BY name").fetchall()
    assert rows == [
        ("2.0.0rc1", ingested["merge_mr34"], True, datetime(2024, 1, 12, 11, 0, tzinfo=UTC), 0,
         "Release Bot"),
        ("v1.0", ingested["revert"], True, datetime(2024, 1, 6, 17, 0, tzinfo=UTC), 60,
         "Release Bot"),
        # Lightweight: the commit's committer date.
        ("v1.1", ingested["octopus"], False, datetime(2024, 1, 10, 10, 0, tzinfo=UTC), 0, None),
    ]


def test_implausible_dates_are_kept_and_flagged(store: Store, ingested: dict[str, str]) -> None:
    assert one(store, "SELECT author_time, date_flags FROM commits WHERE sha = ?",
               ingested["old"]) == (datetime(1985, 6, 1, 12, 0, tzinfo=UTC),
                                    ["author_before_1990", "committer_before_1990"])
    assert one(store, "SELECT date_flags FROM commits WHERE sha = ?", ingested["future"]) == (
        ["author_in_future", "committer_in_future"],)


def test_non_utf8_decoded_with_replacement(store: Store, ingested: dict[str, str]) -> None:
    assert one(store, "SELECT author_name, subject FROM commits WHERE sha = ?",
               ingested["latin1"]) == ("Jos\ufffd Mar\ufffda", "Caf\ufffd in Latin-1 bytes")


def test_line_history(store: Store, ingested: dict[str, str]) -> None:
    s = ingested
    assert one(store, "SELECT count(*) FROM commits WHERE NOT line_history") == (0,)
    assert one(store, "SELECT old_start, old_count, new_start, new_count FROM line_hunks"
               " WHERE sha = ?", s["feature2"]) == ([2], [1], [2], [5])
    assert one(store, "SELECT path, old_start, old_count, new_start, new_count FROM line_hunks"
               " WHERE sha = ?", s["revert"]) == ("src/login.py", [1], [2], [0], [0])
    # Hunk counts add up to numstat's counts for every text file.
    assert one(store, """
        SELECT count(*) FROM commit_files f JOIN (
            SELECT sha, path, list_sum(new_count) AS a, list_sum(old_count) AS d FROM line_hunks
        ) h USING (sha, path) WHERE f.added <> h.a OR f.deleted <> h.d""") == (0,)


def test_refs(store: Store, ingested: dict[str, str]) -> None:
    names = [r[0] for r in store.con.execute("SELECT name FROM refs ORDER BY name").fetchall()]
    assert names == ["refs/heads/a", "refs/heads/b", "refs/heads/c", "refs/heads/feature",
                     "refs/heads/fix", "refs/heads/main", "refs/tags/2.0.0rc1", "refs/tags/v1.0",
                     "refs/tags/v1.1"]


def test_tags_of_tags_and_of_trees(store: Store, tmp_path: Path) -> None:
    # A tag of a tag is peeled to its commit (one git for all of them); a tag of a tree, or of a
    # tag of a tree, has no commit.
    from gitfixtures import Git

    g = Git(tmp_path / "r")
    g.write("a.txt", "a\n")
    sha = g.commit("One\n", date="2024-01-01T10:00:00Z")
    g.tag("v1", message="v1")
    g.tag("v1-again", message="of v1", target="v1")
    g.tag("v1-thrice", message="of that", target="v1-again")
    g.tag("tree", message="a tree", target="HEAD^{tree}")
    g.tag("tree-again", message="of a tree tag", target="tree")
    ingest_git(store, [tmp_path / "r"], name="r")
    assert dict(store.con.execute("SELECT name, target_sha FROM tags WHERE repo = 'r'").fetchall()
                ) == {"v1": sha, "v1-again": sha, "v1-thrice": sha, "tree": None,
                      "tree-again": None}

"""Bad input: a clear one-line message and exit 2, or a warning; never a traceback; nothing lost."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from gitfixtures import Git, build_linear, git_env
from leadlens.errors import StoreLockedError, StoreSchemaError
from leadlens.pipeline import ingest_git
from leadlens.store import Store, open_store


def cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "200"}
    env.pop("LEADLENS_DEBUG", None)
    return subprocess.run([sys.executable, "-m", "leadlens", *args], capture_output=True,
                          text=True, cwd=cwd, env=env, check=False)


def assert_clean_failure(proc: subprocess.CompletedProcess[str], needle: str) -> None:
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout
    assert needle in proc.stderr


def test_not_a_repository(tmp_path: Path) -> None:
    (tmp_path / "plain").mkdir()
    proc = cli("ingest", "git", str(tmp_path / "plain"), "--store", str(tmp_path / "s.duckdb"))
    assert_clean_failure(proc, "is not a git repository")


def test_missing_path(tmp_path: Path) -> None:
    proc = cli("ingest", "git", str(tmp_path / "nope"), "--store", str(tmp_path / "s.duckdb"))
    assert_clean_failure(proc, "no such file or directory")


def test_one_bad_path_does_not_stop_the_others(tmp_path: Path) -> None:
    build_linear(tmp_path / "good", 3)
    (tmp_path / "bad").mkdir()
    db = tmp_path / "s.duckdb"
    proc = cli("ingest", "git", str(tmp_path / "bad"), str(tmp_path / "good"), "--store", str(db))
    assert_clean_failure(proc, "is not a git repository")
    with open_store(db, read_only=True) as st:
        assert st.con.execute("SELECT count(*) FROM commits").fetchall()[0] == (3,)


def test_name_needs_one_path(tmp_path: Path) -> None:
    proc = cli("ingest", "git", "a", "b", "--name", "x/y", "--store", str(tmp_path / "s.duckdb"))
    assert_clean_failure(proc, "--name names one repository")


def test_empty_repository_warns(store: Store, tmp_path: Path) -> None:
    Git(tmp_path / "empty")
    report = ingest_git(store, [tmp_path / "empty"])
    outcome = report.outcomes[0]
    assert not outcome.error
    assert any("empty repository" in w for w in outcome.warnings)
    assert store.con.execute("SELECT repo FROM repos").fetchall() == [("empty",)]


def test_shallow_clone_warns_with_date(store: Store, tmp_path: Path) -> None:
    build_linear(tmp_path / "full", 30)
    subprocess.run(["git", "clone", "-q", "--depth", "5", f"file://{tmp_path / 'full'}",
                    str(tmp_path / "shallow")], check=True, env=git_env(tmp_path))
    report = ingest_git(store, [tmp_path / "shallow"], name="acme/shallow")
    outcome = report.outcomes[0]
    assert outcome.commits_added == 5
    (warning,) = [w for w in outcome.warnings if "shallow" in w]
    assert "before 2024-03-02" in warning
    assert store.con.execute("SELECT is_shallow, shallow_before FROM repos").fetchall()[0][0]


def test_detached_head_warns_and_still_ingests(store: Store, tmp_path: Path) -> None:
    shas = build_linear(tmp_path / "r", 4)
    g = Git.open(tmp_path / "r")
    g.run("checkout", "-q", "--detach", shas[1])
    g.run("branch", "-q", "-D", "main")  # nothing but HEAD reaches the history now
    report = ingest_git(store, [tmp_path / "r"])
    outcome = report.outcomes[0]
    assert outcome.commits_added == 2
    assert any("HEAD is detached" in w and "--branch" in w for w in outcome.warnings)
    assert store.con.execute("SELECT default_branch, head_detached FROM repos").fetchall() == [
        (None, True)]


def test_bare_and_no_checkout_clones_join_by_origin_name(store: Store, tmp_path: Path) -> None:
    build_linear(tmp_path / "src", 5)
    env = git_env(tmp_path)
    subprocess.run(["git", "clone", "-q", "--bare", str(tmp_path / "src"), str(tmp_path / "b.git")],
                   check=True, env=env)
    subprocess.run(["git", "clone", "-q", "--no-checkout", str(tmp_path / "src"),
                    str(tmp_path / "nc")], check=True, env=env)
    subprocess.run(["git", "-C", str(tmp_path / "nc"), "remote", "set-url", "origin",
                    "git@github.com:acme/widgets.git"], check=True, env=env)
    report = ingest_git(store, [tmp_path / "b.git", tmp_path / "nc"])
    assert [(o.repo, o.commits_added) for o in report.outcomes] == [("b", 5), ("acme/widgets", 5)]
    rows = store.con.execute("SELECT repo, default_branch, is_bare FROM repos ORDER BY repo")
    assert rows.fetchall() == [("acme/widgets", "refs/remotes/origin/main", False),
                               ("b", "refs/heads/main", True)]


def test_submodule_is_a_gitlink_not_an_error(store: Store, tmp_path: Path) -> None:
    build_linear(tmp_path / "lib", 2)
    g = Git(tmp_path / "app")
    g.write("app.txt", "app\n")
    g.commit("app\n")
    g.run("-c", "protocol.file.allow=always", "submodule", "add", "-q", str(tmp_path / "lib"),
          "vendor/lib")
    sha = g.commit("Add lib as a submodule\n", date="2024-01-02T00:00:00Z")
    report = ingest_git(store, [tmp_path / "app"])
    assert report.outcomes[0].commits_added == 2
    rows = store.con.execute("SELECT path, added, deleted FROM commit_files WHERE sha = ?"
                             " ORDER BY path", [sha]).fetchall()
    assert rows == [(".gitmodules", 3, 0), ("vendor/lib", 1, 0)]


def test_locked_store(tmp_path: Path) -> None:
    db = tmp_path / "locked.duckdb"
    open_store(db).close()
    holder = subprocess.Popen(
        [sys.executable, "-c", f"import duckdb, time; c = duckdb.connect({str(db)!r}); "
         "print('locked', flush=True); time.sleep(30)"],
        stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        with pytest.raises(StoreLockedError, match="in use by another process"):
            open_store(db)
        build_linear(tmp_path / "r", 1)
        proc = cli("ingest", "git", str(tmp_path / "r"), "--store", str(db))
        assert_clean_failure(proc, "in use by another process")
    finally:
        holder.kill()
        holder.wait()
    time.sleep(0.1)
    open_store(db).close()  # usable again once the other process is gone


def test_store_from_a_newer_leadlens(tmp_path: Path) -> None:
    db = tmp_path / "new.duckdb"
    with open_store(db) as st:
        build_linear(tmp_path / "r", 2)
        ingest_git(st, [tmp_path / "r"])
        st.con.execute("INSERT INTO schema_migrations (version, name) VALUES (999, 'future')")
    with pytest.raises(StoreSchemaError, match="newer leadlens"):
        open_store(db)
    proc = cli("summary", "--store", str(db))
    assert_clean_failure(proc, "newer leadlens")
    import duckdb  # the data is untouched

    con = duckdb.connect(str(db), read_only=True)
    assert con.execute("SELECT count(*) FROM commits").fetchall() == [(2,)]
    con.close()


def test_not_a_store(tmp_path: Path) -> None:
    bogus = tmp_path / "bogus.duckdb"
    bogus.write_text("this is not a database\n")
    proc = cli("summary", "--store", str(bogus))
    assert_clean_failure(proc, "is not a DuckDB file: damaged, or not a leadlens store")
    assert bogus.read_text() == "this is not a database\n"
    proc = cli("summary", "--store", str(tmp_path / "missing.duckdb"))
    assert_clean_failure(proc, "no store at")


def test_bad_settings_file(tmp_path: Path) -> None:
    (tmp_path / "leadlens.toml").write_text("jobs = 'many'\n")
    proc = cli("summary", cwd=tmp_path)
    assert_clean_failure(proc, "bad settings in")
    (tmp_path / "leadlens.toml").write_text("jobs = [\n")
    assert_clean_failure(cli("summary", cwd=tmp_path), "is not valid TOML")


def test_subdirectory_of_a_work_tree_means_the_repository(store: Store, tmp_path: Path) -> None:
    build_linear(tmp_path / "proj", 2)
    (tmp_path / "proj" / "docs").mkdir()
    report = ingest_git(store, [tmp_path / "proj" / "docs"])
    assert [(o.repo, o.commits_added) for o in report.outcomes] == [("proj", 2)]

"""`leadlens forecast --scope`: the remaining work items of a Jira epic, a label or a GitHub
milestone, forecast from the team's item throughput — on a store whose every count is known by
construction, and on the recorded Jira objects."""

from __future__ import annotations

import json
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from tests.forgefixtures import issue
from tests.gitfixtures import Git
from tests.itemfixtures import jira_issue

from clirun import leadlens
from leadlens.analysis.scope import parse_scope, scope_of
from leadlens.engines import connect
from leadlens.errors import UserError
from leadlens.metrics.flow import Filters
from leadlens.metrics.items import item_flow
from leadlens.pipeline import ingest_git
from leadlens.store import Store, open_store

START = datetime(2024, 3, 1, 9, tzinfo=UTC)
HOSTILE = "x\x1b]0;pwned\x07\x1b[31m"  # a label that retitles a terminal and turns it red


def _iso(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%SZ")


def build(base: Path) -> Path:
    """ABC-1..ABC-20: one delivered a day, 1 to 20 March 2024 (each commit names its item and is
    released by its own tag two hours later): 1 work item a day. Around them, the scopes:

    epic ABC-100: ABC-1, ABC-2 (epic link), ABC-3 (delivered, though Jira still says In
    Progress), ABC-21 (Done in Jira, no change), ABC-22, ABC-23 (children: parent ABC-100, To Do),
    ABC-24 (epic link, In Progress, its commit not released): 7 items, 4 done, 3 remaining.
    label checkout: ABC-4 (delivered), ABC-22, ABC-25 (To Do), GitHub team/app#3 (open): 4 items,
    1 done, 3 remaining; ABC-25 carries a HOSTILE label too. label shipped: ABC-5, ABC-6, both
    delivered: nothing remains.
    milestone v2.0: team/app#1 (open), #2 (closed), #3 (open): 3 items, 1 done, 2 remaining."""
    g = Git(base / "app")
    path = base / "s.duckdb"
    store = open_store(path)
    con = store.con
    epic = {1: "ABC-100", 2: "ABC-100", 3: "ABC-100"}
    labels = {4: ("checkout",), 5: ("shipped",), 6: ("shipped", "other")}
    for n in range(1, 21):
        created = START + timedelta(days=n - 1)
        g.write("a.txt", f"{n}\n")
        g.commit(f"ABC-{n}: the work", date=_iso(created + timedelta(hours=1)))
        g.tag(f"v1.{n}", message=f"release {n}", date=_iso(created + timedelta(hours=2)))
        jira_issue(con, str(1000 + n), f"ABC-{n}", created=_iso(created)[:-1],
                   epic=epic.get(n), labels=labels.get(n, ()),
                   **({"status": "In Progress", "category": "indeterminate"} if n == 3 else {}))
    g.write("a.txt", "24\n")
    g.commit("ABC-24: half of it", date="2024-03-20T15:00:00Z")  # never released
    todo = {"status": "To Do", "category": "new"}
    jira_issue(con, "1100", "ABC-100", created="2024-02-01T09:00", **todo)  # the epic itself
    jira_issue(con, "1021", "ABC-21", created="2024-02-02T09:00", epic="ABC-100")
    jira_issue(con, "1022", "ABC-22", created="2024-02-03T09:00", parent="ABC-100",
               labels=("checkout",), **todo)
    jira_issue(con, "1023", "ABC-23", created="2024-02-04T09:00", parent="ABC-100", **todo)
    jira_issue(con, "1024", "ABC-24", created="2024-02-05T09:00", epic="ABC-100",
               status="In Progress", category="indeterminate")
    jira_issue(con, "1025", "ABC-25", created="2024-02-06T09:00", labels=("checkout", HOSTILE),
               **todo)
    issue(con, "team/app", 1, created="2024-02-10T09:00:00", labels=(), milestone="v2.0")
    issue(con, "team/app", 2, created="2024-02-11T09:00:00", closed="2024-03-01T09:00:00",
          labels=(), milestone="v2.0")
    issue(con, "team/app", 3, created="2024-02-12T09:00:00", labels=("checkout",),
          milestone="v2.0")
    issue(con, "team/app", 4, created="2024-02-13T09:00:00", labels=(), milestone="v3.0")
    ingest_git(store, [base / "app"])  # derives the work items too
    store.close()
    return path


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build(tmp_path_factory.mktemp("scope"))


def counts(path: Path, kind: str, name: str) -> tuple[int, int, int]:
    with open_store(path, read_only=True) as st:
        backend = connect(st)
        s = scope_of(backend, item_flow(backend, Filters()), kind, name, include_bots=False)
    return s.items, s.done, s.remaining


@pytest.mark.parametrize(("kind", "name", "expected"), [
    ("epic", "ABC-100", (7, 4, 3)),
    ("label", "checkout", (4, 1, 3)),
    ("label", "shipped", (2, 2, 0)),
    ("milestone", "v2.0", (3, 1, 2)),
    ("milestone", "v3.0", (1, 0, 1)),
])
def test_scope_counts_by_hand(store: Path, kind: str, name: str,
                              expected: tuple[int, int, int]) -> None:
    assert counts(store, kind, name) == expected


def test_parse_scope() -> None:
    assert parse_scope("epic:abc-1") == ("epic", "ABC-1")
    assert parse_scope("label:a:b") == ("label", "a:b")  # only the first colon splits
    assert parse_scope("Milestone:v1.0") == ("milestone", "v1.0")
    for bad in ("foo:bar", "checkout", "label:", "epic: "):
        with pytest.raises(UserError):
            parse_scope(bad)


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return leadlens("forecast", *args)


def forecast(store: Path, *args: str) -> dict[str, object]:
    proc = run("--store", str(store), "--as-of", "2024-03-21", "--history", "14", "--horizon",
               "3", "--runs", "500", "--format", "json", *args)
    assert proc.returncode == 0, proc.stderr
    result: dict[str, object] = json.loads(proc.stdout)
    return result


def test_when_will_the_epic_be_done(store: Path) -> None:
    f = forecast(store, "--scope", "epic:ABC-100")
    # One item a day: the 3 remaining are done on the 3rd day from 21 March, at every level.
    assert f["basis"] == "item" and f["per_day"] == 1.0 and f["count"] == 3
    assert f["scope"] == {"kind": "epic", "name": "ABC-100", "items": 7, "done": 4,
                          "remaining": 3, "assumption": f["scope"]["assumption"]}  # type: ignore[index]
    assert "whole delivered-item throughput" in f["scope"]["assumption"]  # type: ignore[index]
    assert set(f["finish"].values()) == {"2024-03-23"}  # type: ignore[union-attr]
    assert f["done_by"] is None and f["all_remaining_by"] is None
    assert str(f["headline"]).startswith(
        "3 remaining of 7 work items in epic ABC-100: all done by 2024-03-23 (85% likely;")
    assert "as if all of it went to this scope" in str(f["headline"])


def test_how_many_of_a_label_by_a_date(store: Path) -> None:
    two = forecast(store, "--scope", "label:checkout", "--by", "2024-03-22")
    # Two days at one a day: 2 of the 3 remaining, never all of them.
    assert two["count"] is None and two["finish"] is None
    assert set(two["done_by"].values()) == {2} and two["all_remaining_by"] == 0.0  # type: ignore[union-attr]
    assert "by 2024-03-22, at least 2 of them" in str(two["headline"])
    assert "all 3 by then: 0% likely" in str(two["headline"])
    # Five days would do 5: capped at the 3 that remain, and all of them surely.
    five = forecast(store, "--scope", "label:checkout", "--by", "2024-03-25")
    assert set(five["done_by"].values()) == {3} and five["all_remaining_by"] == 1.0  # type: ignore[union-attr]


def test_a_milestone(store: Path) -> None:
    f = forecast(store, "--scope", "milestone:v2.0")
    assert f["scope"]["remaining"] == 2  # type: ignore[index]
    assert set(f["finish"].values()) == {"2024-03-22"}  # type: ignore[union-attr]
    assert str(f["headline"]).startswith('2 remaining of 3 work items in milestone "v2.0"')


def test_nothing_remains_is_an_answer(store: Path) -> None:
    for fmt in ("json", "table"):
        proc = run("--store", str(store), "--as-of", "2024-03-21", "--history", "14",
                   "--runs", "500", "--scope", "label:shipped", "--format", fmt)
        assert proc.returncode == 0, proc.stderr
        out = json.loads(proc.stdout)["headline"] if fmt == "json" else proc.stdout
        assert out.startswith('nothing remains: all 2 work items of label "shipped" are done.')
    f = forecast(store, "--scope", "label:shipped", "--by", "2024-03-25")
    assert f["count"] is None and f["finish"] is None and f["done_by"] is None
    assert f["scope"]["remaining"] == 0  # type: ignore[index]


def test_a_hostile_scope_name(store: Path) -> None:
    # The JSON keeps the label as it is (escaped); the headline and the error line strip it.
    f = forecast(store, "--scope", f"label:{HOSTILE}")
    assert f["scope"]["name"] == HOSTILE and f["scope"]["remaining"] == 1  # type: ignore[index]
    proc = run("--store", str(store), "--as-of", "2024-03-21", "--history", "14", "--runs", "500",
               "--scope", f"label:{HOSTILE}")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith('1 remaining of 1 work item in label "x]0;pwned[31m"')
    proc = run("--store", str(store), "--as-of", "2024-03-21", "--scope", f"label:{HOSTILE}z")
    assert proc.returncode == 2 and "\x1b" not in proc.stderr and "\x07" not in proc.stderr
    assert "no work item carrying the label" in proc.stderr


@pytest.mark.parametrize(("args", "message"), [
    (["--scope", "foo:bar"], "unknown kind 'foo'"),
    (["--scope", "checkout"], "KIND:NAME expected"),
    (["--scope", "label:"], "the label's name is empty"),
    (["--scope", "epic:ABC-999"], "no work item whose epic or parent is 'ABC-999'"),
    (["--scope", "milestone:v9"], "`leadlens items` lists the store's work items"),
    (["--scope", "epic:ABC-100", "--count", "5"], "--scope gives the count"),
    (["--scope", "epic:ABC-100", "--basis", "change"], "--scope counts work items"),
])
def test_bad_scope_is_one_line_exit_2(store: Path, args: list[str], message: str) -> None:
    proc = run("--store", str(store), "--as-of", "2024-03-21", "--history", "14", *args)
    assert proc.returncode == 2, proc.stderr
    assert message in proc.stderr and "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_scope_on_a_store_without_work_items(tmp_path: Path) -> None:
    from tests.gitfixtures import build_linear

    build_linear(tmp_path / "repo", 30)
    store = open_store(tmp_path / "s.duckdb")
    ingest_git(store, [tmp_path / "repo"])
    store.close()
    proc = run("--store", str(tmp_path / "s.duckdb"), "--scope", "epic:ABC-1")
    assert proc.returncode == 2 and "the store holds no work item" in proc.stderr


def test_scope_without_any_delivered_item(tmp_path: Path) -> None:
    """Work items, but none ever delivered: the scope has its count, the team no item
    throughput."""
    from tests.gitfixtures import build_linear

    build_linear(tmp_path / "repo", 30)
    store = open_store(tmp_path / "s.duckdb")
    jira_issue(store.con, "1", "ABC-1", created="2024-01-01T09:00", status="To Do",
               category="new", labels=("checkout",))
    ingest_git(store, [tmp_path / "repo"])
    store.close()
    proc = run("--store", str(tmp_path / "s.duckdb"), "--scope", "label:checkout")
    assert proc.returncode == 2, proc.stderr
    assert "--scope: no work item was delivered: no item throughput" in proc.stderr


def test_recorded_jira_scopes(tmp_path: Path) -> None:
    """The recorded Jira objects: 9 issues carry the label frontEnd, all in the site's status
    已完成 (category done); K5-2 (To Do) names K5-1 both as its parent and as its epic: one item,
    remaining."""
    from fakes.jira import RECORDED
    from leadlens import derive
    from leadlens.config import Settings
    from leadlens.sources.jira.ingest import JiraReplay

    store: Store = open_store(tmp_path / "s.duckdb")
    JiraReplay(RECORDED).ingest(store, Settings())
    derive.items(store, Settings())
    with store:
        backend = connect(store)
        fl = item_flow(backend, Filters())
        front = scope_of(backend, fl, "label", "frontEnd", include_bots=False)
        epic = scope_of(backend, fl, "epic", "K5-1", include_bots=False)
    assert (front.items, front.done, front.remaining) == (9, 9, 0)
    assert (epic.items, epic.done, epic.remaining) == (1, 0, 1)

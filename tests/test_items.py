"""Work items: linking (every kind), status mapping and the item timeline, on a hand-made scenario
whose every figure is computed by hand below."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.gitfixtures import Git
from tests.itemfixtures import changelog, jira_issue, jira_status, remote_link

from leadlens import derive
from leadlens.config import Settings
from leadlens.engines import connect, rows
from leadlens.metrics.flow import Filters
from leadlens.metrics.items import item_flow
from leadlens.pipeline import ingest_git
from leadlens.store import Store, open_store

DAY = 86400.0


def build(path: Path) -> dict[str, str]:
    """main: c0; a branch for ABC-1 merged; a key-less fix; a commit naming the old key of a
    moved issue; a commit naming two items (and a project nobody ingested); v1.0; one more."""
    g = Git(path)
    g.write("a.txt", "0\n")
    sha = {"c0": g.commit("initial", date="2024-01-01T10:00:00Z")}
    g.run("checkout", "-q", "-b", "ABC-1-login")
    g.write("login.txt", "form\n")
    sha["b1"] = g.commit("ABC-1 add login form", date="2024-02-05T10:00:00Z")
    g.run("checkout", "-q", "main")
    sha["m1"] = g.merge("ABC-1-login", message="Merge branch 'ABC-1-login'",
                        date="2024-02-07T10:00:00Z")
    g.write("a.txt", "1\n")
    sha["c2"] = g.commit("Fix UTF-8 handling (SHA-256 too)", date="2024-02-10T10:00:00Z")
    g.write("a.txt", "2\n")
    sha["c3"] = g.commit("OLD-7: finish the moved story", date="2024-02-12T10:00:00Z")
    g.write("a.txt", "3\n")
    sha["c4"] = g.commit("feat: ABC-3 and ABC-1 follow-up\n\nXYZ-5 is not ours.\n",
                         date="2024-02-14T10:00:00Z")
    g.tag("v1.0", message="release 1.0", date="2024-03-01T10:00:00Z")
    g.write("a.txt", "5\n")
    sha["c5"] = g.commit("ABC-4 still in flight", date="2024-03-05T10:00:00Z")
    return sha


def jira(store: Store, sha: dict[str, str]) -> None:
    con = store.con
    jira_status(con, "1", "Backlog", "new")
    jira_status(con, "2", "Selected", "new")
    jira_status(con, "3", "In Progress", "indeterminate")
    jira_status(con, "4", "Done", "done")
    jira_status(con, "5", "Weird", None)
    jira_issue(con, "101", "ABC-1", created="2024-01-10T10:00", status_id="4",
               resolved="2024-03-02T10:00")
    changelog(con, "101", "2024-01-20T10:00", frm="Backlog", to="Selected", to_id="2")
    changelog(con, "101", "2024-02-01T10:00", frm="Selected", to="In Progress", to_id="3")
    changelog(con, "101", "2024-03-02T10:00", frm="In Progress", to="Done", to_id="4")
    jira_issue(con, "102", "ABC-2", created="2024-02-01T10:00", status_id="4",
               old_keys=("OLD-7",))
    jira_issue(con, "103", "ABC-3", created="2024-02-20T10:00", status_id="4")
    remote_link(con, "103", "9001", f"https://git.example.com/team/app/-/commit/{sha['c2']}")
    jira_issue(con, "104", "ABC-4", created="2024-03-03T10:00", status="Weird", status_id="5",
               category=None)
    jira_issue(con, "105", "ABC-5", created="2024-01-05T10:00", status="Backlog", status_id="1",
               category="new")


def make(base: Path, settings: Settings | None = None) -> tuple[Store, dict[str, str]]:
    sha = build(base / "app")
    store = open_store(base / "s.duckdb")
    ingest_git(store, [base / "app"])
    jira(store, sha)
    assert derive.items(store, settings or Settings()) is not None
    return store, sha


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> tuple[Store, dict[str, str]]:
    return make(tmp_path_factory.mktemp("items"))


def _links(store: Store) -> set[tuple[str, str, str, str]]:
    return {tuple(r) for r in store.con.execute(
        "SELECT item_id, change_id, how, detail FROM item_links").fetchall()}


def test_links_every_kind_many_to_many(scenario: tuple[Store, dict[str, str]]) -> None:
    store, sha = scenario
    m1, c2, c3, c4, c5 = (f"app@{sha[k]}" for k in ("m1", "c2", "c3", "c4", "c5"))
    assert _links(store) == {
        ("ABC-1", m1, "branch", "ABC-1"), ("ABC-1", m1, "title", "ABC-1"),
        # the merge's own message and the branch commit both name it: the smaller sha is kept
        ("ABC-1", m1, "commit", f"{min(sha['m1'], sha['b1'])[:12]} ABC-1"),
        ("ABC-1", c4, "title", "ABC-1"), ("ABC-1", c4, "commit", f"{sha['c4'][:12]} ABC-1"),
        ("ABC-3", c4, "title", "ABC-3"), ("ABC-3", c4, "commit", f"{sha['c4'][:12]} ABC-3"),
        ("ABC-3", c2, "remote_link", f"https://git.example.com/team/app/-/commit/{sha['c2']}"),
        # a moved issue: its old key in a commit still links to it
        ("ABC-2", c3, "title", "OLD-7"), ("ABC-2", c3, "commit", f"{sha['c3'][:12]} OLD-7"),
        ("ABC-4", c5, "title", "ABC-4"), ("ABC-4", c5, "commit", f"{sha['c5'][:12]} ABC-4"),
    }


def test_status_mapping_by_category(scenario: tuple[Store, dict[str, str]]) -> None:
    store, _ = scenario
    got = dict(store.con.execute("SELECT id, status_category FROM work_items").fetchall())
    # ABC-4's status has no category and no setting maps it: unmapped (NULL), never guessed
    assert got == {"ABC-1": "done", "ABC-2": "done", "ABC-3": "done", "ABC-4": None,
                   "ABC-5": "to_do"}
    moves = store.con.execute("SELECT to_status, to_category FROM work_item_transitions"
                              " WHERE item_id = 'ABC-1' ORDER BY seq").fetchall()
    # Selected is a To Do status other than the initial one (Backlog): ready
    assert moves == [("Selected", "ready"), ("In Progress", "in_progress"), ("Done", "done")]


def _timeline(store: Store) -> tuple[dict[str, dict[str, float]], dict[str, tuple]]:
    backend = connect(store)
    fl = item_flow(backend, Filters())
    segs: dict[str, dict[str, float]] = {}
    for r in rows(backend, fl.segments.select("item_id", "stage", "seconds")):
        segs.setdefault(r["item_id"], {})[r["stage"]] = r["seconds"] / DAY
    spans = {r["item_id"]: (r["lead_time_s"] / DAY if r["lead_time_s"] is not None else None,
                            r["out_of_order"])
             for r in rows(backend, fl.spans.select("item_id", "lead_time_s", "out_of_order"))}
    return segs, spans


def test_item_timeline_by_hand(scenario: tuple[Store, dict[str, str]]) -> None:
    store, _ = scenario
    segs, spans = _timeline(store)
    # ABC-1: created 01-10, ready 01-20, in progress 02-01 (before its first commit, 02-05); two
    # changes, the last merged 02-14: delivery; both released with v1.0 on 03-01.
    assert segs["ABC-1"] == {"spec": 10, "queue": 12, "delivery": 13, "release": 16}
    assert spans["ABC-1"] == (51, 0)
    # ABC-2 (moved; linked by its old key): created 02-01, never ready; its one change: first
    # commit 02-12 (= its git proxies for review and merge), released 03-01.
    assert segs["ABC-2"] == {"spec+queue": 11, "coding": 0, "pickup+review+merge": 0,
                             "release": 18}
    assert spans["ABC-2"] == (29, 0)
    # ABC-3 was created (02-20) after its changes started (02-10) and merged (02-14): both
    # clamped to its creation, and counted.
    assert segs["ABC-3"] == {"spec+queue": 0, "delivery": 0, "release": 10}
    assert spans["ABC-3"] == (10, 2)
    # ABC-4's change is not released: in flight. ABC-5 has no change: no lead time either.
    assert spans["ABC-4"][0] is None and spans["ABC-5"][0] is None


def test_items_export_jsonl_and_csv(tmp_path: Path) -> None:
    store, sha = make(tmp_path)
    store.con.close()
    from typer.testing import CliRunner

    from leadlens.cli import app

    res = CliRunner().invoke(app, ["items", "--store", str(store.path), "--out",
                                   str(tmp_path / "i.jsonl")])
    assert res.exit_code == 0, res.output
    got = {r["id"]: r for r in map(json.loads, (tmp_path / "i.jsonl").read_text().splitlines())}
    assert list(got) == ["ABC-5", "ABC-1", "ABC-2", "ABC-3", "ABC-4"]  # by creation
    one = got["ABC-1"]
    assert one["milestones"] == {
        "item_created": "2024-01-10T10:00:00Z", "item_ready": "2024-01-20T10:00:00Z",
        "work_started": "2024-02-01T10:00:00Z", "ready_for_review": None, "first_review": None,
        "approved": None, "merged": "2024-02-14T10:00:00Z", "released": "2024-03-01T10:00:00Z"}
    assert one["stages"] == {"spec": 10 * DAY, "queue": 12 * DAY, "delivery": 13 * DAY,
                             "release": 16 * DAY}
    assert one["spec_to_production_s"] == 51 * DAY
    assert one["changes"] == sorted([f"app@{sha['m1']}", f"app@{sha['c4']}"])
    assert {"change": f"app@{sha['m1']}", "how": "branch"} in one["links"]
    assert got["ABC-5"]["changes"] == [] and got["ABC-5"]["spec_to_production_s"] is None
    assert got["ABC-4"]["status_category"] is None
    res = CliRunner().invoke(app, ["items", "--store", str(store.path), "--format", "csv",
                                   "--project", "ABC", "--since", "2024-02-01"])
    assert res.exit_code == 0, res.output
    lines = res.stdout.splitlines()
    assert lines[0].startswith("id,source,project,type,title,status,status_category,bot,")
    assert [x.split(",")[0] for x in lines[1:]] == ["ABC-2", "ABC-3", "ABC-4"]


def test_item_figures_by_hand(scenario: tuple[Store, dict[str, str]]) -> None:
    from leadlens.analysis.items_summary import item_figures
    from leadlens.metrics import flow as fm

    store, _ = scenario
    backend = connect(store)
    fl = fm.flow(backend, Filters())
    try:
        got = item_figures(backend, fl, Filters(), k=2.0)
    finally:
        fl.release()
    assert got is not None
    # delivered: ABC-1 51 d, ABC-2 29 d, ABC-3 10 d; ABC-4 in flight; ABC-5 has no change
    assert (got.items, got.delivered, got.in_flight, got.without_changes) == (5, 3, 1, 1)
    assert got.spec_to_production.median_s == 29 * DAY
    assert got.out_of_order == 2
    shares = {s.name: round(s.share * 90, 9) for s in got.stages}  # of 90 days in all
    assert shares == {"spec": 10, "spec+queue": 11, "queue": 12, "coding": 0,
                      "delivery": 13, "pickup+review+merge": 0, "release": 44}
    spec = next(s for s in got.stages if s.name == "spec")
    assert spec.amdahl_ceiling == pytest.approx(1 / (1 - 10 / 90))
    # 6 changes (the initial commit is one); 5 name an item or are named by one
    assert (got.linking.changes, got.linking.linked) == (6, 5)
    assert got.linking.links_by_how == {"branch": 1, "commit": 5, "remote_link": 1, "title": 5}
    assert [(u.project, u.status, u.items) for u in got.unmapped_statuses] == [
        ("ABC", "Weird", 1)]
    assert "in_progress_statuses" in got.unmapped_statuses[0].hint


def test_status_settings_override_categories(tmp_path: Path) -> None:
    settings = Settings(ready_statuses={"ABC": ["In Progress"]},
                        in_progress_statuses={"*": ["weird"]})
    store, _ = make(tmp_path, settings)
    got = dict(store.con.execute("SELECT id, status_category FROM work_items").fetchall())
    assert got["ABC-4"] == "in_progress"  # the setting maps the status with no category
    moves = store.con.execute("SELECT to_status, to_category FROM work_item_transitions"
                              " WHERE item_id = 'ABC-1' ORDER BY seq").fetchall()
    # ABC says In Progress is its ready status; Selected is then plain To Do
    assert moves == [("Selected", "to_do"), ("In Progress", "ready"), ("Done", "done")]


def test_key_pattern_setting_and_unknown_keys(tmp_path: Path) -> None:
    # A pattern that also matches XYZ-5: XYZ is no ingested project, so it still links nothing;
    # a pattern that does not match OLD- keys loses the moved issue's link.
    store, _ = make(tmp_path, Settings(item_key_pattern=r"\b(?:ABC|XYZ)-[0-9]+\b"))
    linked = {r[0] for r in store.con.execute("SELECT DISTINCT item_id FROM item_links").fetchall()}
    assert linked == {"ABC-1", "ABC-3", "ABC-4"}


def test_item_pilot_compares_spec_and_spec_to_production() -> None:
    import pyarrow as pa
    from tests.itemfixtures import t

    from leadlens.analysis.impact import Cohorts, item_pilot

    # 20 items before the pilot: spec 4 d, spec → production 20 d; 20 after: spec 1 d, 12 d.
    created = [t("2024-01-01T00:00")] * 20 + [t("2024-06-01T00:00")] * 20
    facts = pa.table({"item_id": [f"A-{i}" for i in range(40)], "created_at": created,
                      "lead_time_s": [20 * DAY] * 20 + [12 * DAY] * 20,
                      "spec_s": [4 * DAY] * 20 + [1 * DAY] * 20,
                      "queue_s": [None] * 40})
    got, notes = item_pilot(facts, Cohorts(pilot_start=t("2024-03-01T00:00"), resamples=199))
    assert notes == []
    by = {c.metric: c for c in got}
    assert by["spec_to_production_s"].difference == -8 * DAY
    assert by["item_stage:spec"].difference == -3 * DAY
    assert by["item_stage:spec"].ci_low == by["item_stage:spec"].ci_high == -3 * DAY
    assert not by["item_stage:queue"].enough  # no item has a queue stage: no evidence
    one_side, notes = item_pilot(facts, Cohorts(pilot_start=t("2025-01-01T00:00")))
    assert one_side == [] and "one side" in notes[0]


def test_ai_report_pilot_has_item_comparisons(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from leadlens.cli import app

    store, _ = make(tmp_path)
    store.con.close()
    res = CliRunner().invoke(app, ["ai", "report", "--store", str(store.path), "--format", "json",
                                   "--pilot-start", "2024-02-01", "--resamples", "99"])
    assert res.exit_code == 0, res.output
    got = json.loads(res.stdout)
    # ABC-1 was created before the pilot, ABC-2 and ABC-3 after: too few for evidence, but there
    by = {c["metric"]: c for c in got["item_pilot"]}
    assert set(by) == {"spec_to_production_s", "item_stage:spec", "item_stage:queue"}
    assert (by["spec_to_production_s"]["n_baseline"], by["spec_to_production_s"]["n_treatment"]) \
        == (1, 2)
    assert not by["spec_to_production_s"]["enough"]


def test_items_derive_runs_when_its_inputs_change(tmp_path: Path) -> None:
    store, _ = make(tmp_path)
    assert derive.items(store, Settings()) is None  # nothing changed: nothing to do
    assert "work items" not in derive.stale(store, Settings())
    jira_issue(store.con, "106", "ABC-6", created="2024-03-04T10:00")
    assert derive.stale(store, Settings())["work items"].reason == "new work item data"
    ran = derive.items(store, Settings())
    assert ran is not None and ran.derived.items == 6
    changed = Settings(done_statuses={"ABC": ["Weird"]})
    assert derive.stale(store, changed)["work items"].reason == "a work item setting changed"
    ran = derive.items(store, changed)
    assert ran is not None
    assert store.con.execute("SELECT status_category FROM work_items WHERE id = 'ABC-4'"
                             ).fetchone() == ("done",)


def test_a_re_derive_writes_what_changed_and_equals_a_rebuild(tmp_path: Path) -> None:
    """The derive writes only the rows that differ: a re-derive after an issue moved its status,
    lost a key and got a new title leaves exactly what a derive into empty tables makes."""
    store, sha = make(tmp_path)
    con = store.con
    c3, c4 = f"app@{sha['c3']}", f"app@{sha['c4']}"
    con.execute("UPDATE jira_issues SET summary = 'Renamed', status = 'Backlog', status_id = '1'"
                " WHERE key = 'ABC-3'").fetchall()
    # ABC-2 loses its old key
    con.execute("DELETE FROM jira_issue_keys WHERE key = 'OLD-7'").fetchall()
    run = derive.items(store, Settings(), force=True)
    assert run is not None and run.derived.items == 5

    def tables() -> list[list[tuple[object, ...]]]:
        return [con.execute(f"SELECT * FROM {t} ORDER BY ALL").fetchall()
                for t in ("work_items", "work_item_transitions", "item_links")]

    after = tables()
    assert ("ABC-2", c3, "commit", f"{sha['c3'][:12]} OLD-7") not in _links(store)
    assert ("ABC-3", c4, "commit", f"{sha['c4'][:12]} ABC-3") in _links(store)
    assert con.execute("SELECT title, status, status_category FROM work_items"
                       " WHERE id = 'ABC-3'").fetchall() == [("Renamed", "Backlog", "to_do")]
    for table in ("item_links", "work_item_transitions", "work_items"):
        con.execute(f"DELETE FROM {table}").fetchall()
    derive.items(store, Settings(), force=True)
    assert tables() == after
    store.close()


def test_hostile_item_text_is_escaped_everywhere(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from leadlens.cli import app

    store, _ = make(tmp_path)
    store.con.execute("UPDATE jira_issues SET summary = '=HYPERLINK(\"http://x\")' WHERE key = 'ABC-1'")
    store.con.execute("UPDATE jira_issues SET status = '<script>x</script>\x1b[31m'"
                      " WHERE key = 'ABC-4'")
    assert derive.items(store, Settings(), force=True) is not None
    store.con.close()
    runner = CliRunner()
    csv_out = runner.invoke(app, ["items", "--store", str(store.path), "--format", "csv"])
    assert csv_out.exit_code == 0, csv_out.output
    assert "'=HYPERLINK" in csv_out.stdout  # a formula is text in a spreadsheet
    html = tmp_path / "r.html"
    res = runner.invoke(app, ["report", "--store", str(store.path), "--format", "html",
                              "--out", str(html)])
    assert res.exit_code == 0, res.output
    page = html.read_text()
    assert "<script>x</script>" not in page and "&lt;script&gt;x&lt;/script&gt;" in page
    res = runner.invoke(app, ["report", "--store", str(store.path)])
    assert res.exit_code == 0, res.output
    assert "\x1b[31m" not in res.output and "has no category" in res.output


def test_items_bad_input(tmp_path: Path) -> None:
    from test_bad_input import assert_clean_failure, cli

    store, _ = make(tmp_path)
    store.con.close()
    s = str(store.path)
    assert_clean_failure(cli("items", "--store", s, "--format", "xml"), "xml")
    assert_clean_failure(cli("items", "--store", s, "--since", "yesterday-ish"), "yesterday-ish")
    assert_clean_failure(cli("items", "--store", s, "--since", "2024-03-01", "--until",
                             "2024-01-01"), "--until must come after --since")
    assert_clean_failure(cli("items", "--store", s, "--out", s), "is the store")
    assert_clean_failure(cli("items", "--store", str(tmp_path / "none.duckdb")), "no store")
    bad = tmp_path / "leadlens.toml"
    bad.write_text('item_key_pattern = "(unclosed"\n')
    assert_clean_failure(cli("derive", "--store", s, cwd=tmp_path), "item_key_pattern")
    # an unknown project is not an error: it selects nothing
    proc = cli("items", "--store", s, "--project", "NOPE")
    assert proc.returncode == 0 and proc.stdout == ""

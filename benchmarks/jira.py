"""Jira source throughput: mapping and loading recorded API objects, against what Jira can serve.

Replays ../shared/fixtures/recorded-api/jira (647 real objects: 55 issues with their embedded
changelogs, comments and links, 279 changelog histories, statuses, types, sprints, worklogs,
remote links, users) ROUNDS times. Each round's copy has its ids shifted (issues, the objects
naming an issue, statuses, types, projects, sprints; users stay shared, as on one site), so every
round stores new rows. Times, in this process:

- mapping only: JSON line -> row dicts, through the same mapping a live run uses;
- mapping and loading: ``replay_dir`` into a fresh DuckDB store (batches of 500 objects, one
  transaction each, upserts by key), as ``leadlens ingest jira --from-dir`` runs it.

Jira's side, for comparison (an ASSUMPTION, not a measurement: Atlassian publishes no latency
figure): a search page of 100 issues with ``fields=*all&expand=changelog`` taking 1.5 s, and one
more request per issue (its remote links) taking 0.2 s, one request at a time as the source makes
them: 100 issues per 1.5 + 100 x 0.2 = 21.5 s, 4.7 issues/s; the search alone 67 issues/s.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any

from github import print_machine, recorded_lines, rounds_main
from ingest import machine

RECORDED = Path(__file__).resolve().parents[2] / "shared" / "fixtures" / "recorded-api" / "jira"
PER_PAGE = 100
PAGE_LATENCY_S = 1.5  # assumption: one search page of 100 issues with changelogs
ISSUE_REQUEST_S = 0.2  # assumption: one per-issue request (remote links)
_SHIFTED = ("statuses", "issue_types", "projects", "sprints", "issues")


def _records() -> list[tuple[str, dict[str, Any]]]:
    return [(name, json.loads(line)) for name, line in recorded_lines(RECORDED)]


def _shift(value: Any, n: int) -> Any:
    if isinstance(value, int) and not isinstance(value, bool):
        return value + n * 10**7
    if isinstance(value, str) and value.isdigit():
        return str(int(value) + n * 10**7)
    return value


def _round(records: list[tuple[str, dict[str, Any]]], n: int) -> list[tuple[str, dict[str, Any]]]:
    """The recording with round ``n``'s ids."""
    from leadlens.sources.jira.replay import route

    out = []
    for name, rec in records:
        rec = json.loads(json.dumps(rec))
        routed = route(rec["url"])
        data, given = rec["data"], rec.get("input")
        if routed and routed[1] in _SHIFTED and isinstance(data, dict):
            data["id"] = _shift(data.get("id"), n)
        if isinstance(data, dict) and "issueId" in data:
            data["issueId"] = _shift(data["issueId"], n)
        if isinstance(given, dict) and "issue_id" in given:
            given["issue_id"] = _shift(given["issue_id"], n)
        out.append((name, rec))
    return out


def _map_only(rounds: int) -> dict[str, Any]:
    from leadlens.sources.jira.load import Batch
    from leadlens.sources.jira.mapping import Context
    from leadlens.sources.jira.replay import route

    lines = [(json.dumps(rec, ensure_ascii=False)) for n in range(rounds)
             for _, rec in _round(_records(), n)]
    now, objects, rows = datetime.now(UTC), 0, 0
    start = time.perf_counter()
    batch = Batch("bench")
    for line in lines:
        record = json.loads(line)
        routed = route(record["url"])
        if routed is None:
            continue
        site, resource, in_url = routed
        given = record.get("input")
        issue = str(given["issue_id"]) if isinstance(given, dict) and "issue_id" in given \
            else in_url
        batch.add(resource, record["data"], Context(site, record["url"], now, issue_id=issue))
        objects += 1
        if objects % 500 == 0:
            rows += len(batch)
            batch = Batch("bench")
    rows += len(batch)
    wall = time.perf_counter() - start
    return {"objects": objects, "rows": rows, "wall_s": round(wall, 3),
            "objects_per_s": round(objects / wall)}


def _map_and_load(rounds: int, tmp: Path) -> dict[str, Any]:
    from leadlens.sources.jira.replay import replay_dir
    from leadlens.store import open_store

    directory = tmp / "recording"
    directory.mkdir()
    records = _records()
    files: dict[str, list[str]] = {}
    for n in range(rounds):
        for name, rec in _round(records, n):
            files.setdefault(name, []).append(json.dumps(rec, ensure_ascii=False))
    for name, lines in files.items():
        (directory / name).write_text("\n".join(lines) + "\n", encoding="utf-8")
    objects = sum(len(lines) for lines in files.values())
    with open_store(tmp / "jira.duckdb") as store:
        start = time.perf_counter()
        summary = replay_dir(store, directory)
        wall = time.perf_counter() - start
        issues = store.con.execute("SELECT count(*) FROM jira_issues").fetchall()[0][0]
        changelog = store.con.execute("SELECT count(*) FROM jira_changelog").fetchall()[0][0]
    size = (tmp / "jira.duckdb").stat().st_size
    return {"objects": objects, "wall_s": round(wall, 3), "objects_per_s": round(objects / wall),
            "issues_stored": issues, "issues_per_s": round(issues / wall),
            "changelog_rows": changelog, "skipped": len(summary.skipped),
            "store_mb": round(size / (1 << 20), 1)}


def run(rounds: int, tmp: Path) -> dict[str, Any]:
    per_page_s = PAGE_LATENCY_S + PER_PAGE * ISSUE_REQUEST_S
    return {
        "machine": {**machine(), "httpx": version("httpx")},
        "rounds": rounds,
        "map_only": _map_only(rounds),
        "map_and_load": _map_and_load(rounds, tmp),
        "assumed_page_latency_s": PAGE_LATENCY_S,
        "assumed_issue_request_s": ISSUE_REQUEST_S,
        "jira_search_issues_per_s": round(PER_PAGE / PAGE_LATENCY_S, 1),
        "jira_issues_per_s": round(PER_PAGE / per_page_s, 1),
    }


def report(res: dict[str, Any]) -> None:
    print_machine(res["machine"])
    print(f"{'':16}{'objects':>10}{'wall s':>9}{'objects/s':>11}")
    for name in ("map_only", "map_and_load"):
        r = res[name]
        print(f"{name:16}{r['objects']:>10,}{r['wall_s']:>9.2f}{r['objects_per_s']:>11,}")
    load = res["map_and_load"]
    print(f"stored {load['issues_stored']:,} issues ({load['issues_per_s']:,}/s),"
          f" {load['changelog_rows']:,} changelog rows, {load['store_mb']} MB,"
          f" {load['skipped']} skipped")
    print(f"Jira serves (assumed {res['assumed_page_latency_s']} s a search page of 100,"
          f" {res['assumed_issue_request_s']} s a per-issue request):"
          f" {res['jira_issues_per_s']} issues/s, the search alone"
          f" {res['jira_search_issues_per_s']} issues/s")


def main() -> None:
    rounds_main(__doc__, run, report)


if __name__ == "__main__":
    main()

"""GitHub source throughput: mapping and loading recorded API objects, against GitHub's serving rate.

Replays ../shared/fixtures/recorded-api/github (460 real objects of panjf2000/ants) ROUNDS times,
each round under a distinct synthetic repository name so that every round stores new rows, and
times (in this process):

- mapping only: JSON line -> row dicts, through the same mappers a live run uses;
- mapping and loading: ``replay_dir`` into a fresh DuckDB store (batches of 1,000 objects, one
  transaction each, upserts by key), as ``leadlens ingest github --from-dir`` runs it.

GitHub's side, for comparison: the REST API's primary limit is 5,000 requests an hour per token,
list endpoints serve at most 100 objects a page, so lists yield at most 5,000 x 100 / 3,600 = 139
objects/s; per-object endpoints (a pull request's detail, its check runs) 1.4 objects/s.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any

from ingest import bench_main, machine

RECORDED = Path(__file__).resolve().parents[2] / "shared" / "fixtures" / "recorded-api" / "github"
REQUESTS_PER_HOUR = 5000
PER_PAGE = 100


def recorded_lines(directory: Path = RECORDED) -> list[tuple[str, str]]:
    """(file name, line) of every non-blank line of ``directory``'s ``*.jsonl`` recording."""
    return [(path.name, line) for path in sorted(directory.glob("*.jsonl"))
            for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _lines() -> list[str]:
    return [line for _, line in recorded_lines()]


def _routed() -> int:
    """Objects of one round that have a table (accounts have none)."""
    from leadlens.sources.github.mapping import route

    return sum(route(json.loads(line)["url"]) is not None for line in _lines())


def _map_only(rounds: int) -> dict[str, Any]:
    from leadlens.sources.github.load import Batch
    from leadlens.sources.github.mapping import Context, route

    lines = _lines()
    now, objects = datetime.now(UTC), 0
    start = time.perf_counter()
    for n in range(rounds):
        batch = Batch(f"bench/r{n}")
        for line in lines:
            record = json.loads(line)
            routed = route(record["url"])
            if routed is None:
                continue
            _, resource, number = routed
            batch.add(resource, record["data"], Context(batch.repo, record["url"], now, number))
            objects += 1
    wall = time.perf_counter() - start
    return {"objects": objects, "wall_s": round(wall, 3), "objects_per_s": round(objects / wall)}


def _map_and_load(rounds: int, tmp: Path) -> dict[str, Any]:
    from leadlens.sources.github.replay import replay_dir
    from leadlens.store import open_store

    objects, wall = _routed() * rounds, 0.0
    with open_store(tmp / "github.duckdb") as store:
        for n in range(rounds):
            start = time.perf_counter()
            replay_dir(store, RECORDED, rename=lambda repo, n=n: f"{repo}-{n}")
            wall += time.perf_counter() - start
        rows = store.con.execute("SELECT count(*) FROM pull_requests").fetchall()[0][0]
    size = (tmp / "github.duckdb").stat().st_size
    return {"objects": objects, "wall_s": round(wall, 3), "objects_per_s": round(objects / wall),
            "pull_requests_stored": rows, "store_mb": round(size / (1 << 20), 1)}


def run(rounds: int, tmp: Path) -> dict[str, Any]:
    return {
        "machine": {**machine(), "httpx": version("httpx")},
        "rounds": rounds,
        "map_only": _map_only(rounds),
        "map_and_load": _map_and_load(rounds, tmp),
        "github_list_objects_per_s": round(REQUESTS_PER_HOUR * PER_PAGE / 3600, 1),
        "github_single_objects_per_s": round(REQUESTS_PER_HOUR / 3600, 2),
    }


def print_machine(m: dict[str, Any]) -> None:
    print(f"machine: {m['nproc']} cores, {m['cpu']}, {m['ram_gb']} GB; Python {m['python']},"
          f" DuckDB {m['duckdb']}, httpx {m['httpx']}, leadlens at {m.get('leadlens', '?')}")


def report(res: dict[str, Any]) -> None:
    print_machine(res["machine"])
    api = res["github_list_objects_per_s"]
    print(f"{'':24}{'objects':>10}{'wall s':>9}{'objects/s':>11}{'x GitHub lists':>16}")
    for name in ("map_only", "map_and_load"):
        r = res[name]
        print(f"{name:24}{r['objects']:>10,}{r['wall_s']:>9.2f}{r['objects_per_s']:>11,}"
              f"{r['objects_per_s'] / api:>16,.0f}")
    print(f"GitHub serves at most {api} objects/s from list endpoints (5,000 requests/h x 100),"
          f" {res['github_single_objects_per_s']} from per-object endpoints")


def rounds_main(doc: str | None, run: Callable[[int, Path], dict[str, Any]],
                report: Callable[[dict[str, Any]], None]) -> None:
    """A replay benchmark's command line: ``--rounds`` replays of the recording."""
    ap = argparse.ArgumentParser(description=doc)
    ap.add_argument("--rounds", type=int, default=50, help="replays of the recording (default 50)")
    bench_main(ap, lambda args, tmp: run(args.rounds, tmp), report)


def main() -> None:
    rounds_main(__doc__, run, report)


if __name__ == "__main__":
    main()

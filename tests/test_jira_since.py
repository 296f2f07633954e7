"""`ingest jira --since`: a first collection that starts from a date, a backfill when a later run
asks for an earlier one (resumable, never leaving a gap), and progress with an estimate of the
time left, against the fake Jira serving the recorded objects."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from fakes.clock import FakeClock
from fakes.jira import CLOUD, DC, EMAIL, TOKEN, FakeJira
from fakes.progress import Said
from leadlens.config import Settings
from leadlens.sources.base import RunSummary
from leadlens.sources.http import Eta
from leadlens.sources.jira.ingest import JiraSource
from leadlens.store import Store
from test_jira_cli import in_process

DC_ENV = {"JIRA_API_TOKEN": TOKEN}
CLOUD_ENV = {"JIRA_API_TOKEN": TOKEN, "JIRA_EMAIL": EMAIL}
KEY = "DZFNK0168"  # the recorded Data Center project: 22 issues, 10 updated 2023-05-29, 12 later


def run(store: Store, fake: FakeJira, since: datetime | None, *,
        transport: httpx.BaseTransport | None = None, progress: Said | None = None,
        key: str = KEY) -> RunSummary:
    source = JiraSource((key,), url=CLOUD if fake.cloud else DC, since=since,
                        transport=transport or fake.transport(), clock=FakeClock(),
                        environ=CLOUD_ENV if fake.cloud else DC_ENV)
    return source.ingest(store, Settings(), progress or Said())


def cursor(store: Store, key: str = KEY) -> dict[str, object]:
    row = store.con.execute("SELECT cursor FROM sync_state WHERE repo = ? AND source = 'jira'",
                            [key]).fetchone()
    assert row is not None
    found = json.loads(row[0])
    assert isinstance(found, dict)
    return found


def issues(store: Store) -> int:
    return int(store.con.execute("SELECT count(*) FROM jira_issues").fetchone()[0])  # type: ignore[index]


def searches(fake: FakeJira) -> list[str]:
    """The searches asked, each once (a search of several pages asks the same JQL again)."""
    return list(dict.fromkeys(fake.jql_seen()))


def june_issues(fake: FakeJira, n: int) -> None:
    """``n`` more issues of the project, updated in June 2023 (copies of a recorded one)."""
    model = next(i for i in fake.issues.values() if i["fields"]["project"]["key"] == KEY)
    for k in range(n):
        issue = copy.deepcopy(model)
        issue.update(id=str(990000 + k), key=f"{KEY}-{9000 + k}")
        issue["fields"]["updated"] = f"2023-06-{10 + k:02d}T12:00:00.000+0000"
        fake.add_issue(issue, fake.histories[model["id"]])


JULY = datetime(2023, 7, 1, tzinfo=UTC)
MAY = datetime(2023, 5, 1, tzinfo=UTC)


def test_a_first_collection_starts_at_since_and_a_later_one_backfills(store: Store) -> None:
    fake = FakeJira(cloud=False)
    run(store, fake, JULY)
    # JQL dates are read in the account's zone (Asia/Shanghai, +8): 2023-07-01 00:00 UTC.
    assert searches(fake) == [f'project = "{KEY}" AND updated >= "2023/07/01 08:00"'
                              " ORDER BY updated ASC"]
    assert issues(store) == 12
    assert cursor(store)["from"] == "2023-07-01T00:00:00+00:00"
    first = cursor(store)["updated"]

    fake.requests.clear()
    run(store, fake, MAY)
    # The backfill reads up to the minute after where the collection started, then the usual
    # incremental run from the cursor minus the overlap (60 min) goes on.
    assert searches(fake) == [
        f'project = "{KEY}" AND updated >= "2023/05/01 08:00" AND updated <= "2023/07/01 08:01"'
        " ORDER BY updated ASC",
        f'project = "{KEY}" AND updated >= "2023/07/27 13:13" ORDER BY updated ASC']
    assert issues(store) == 22
    assert cursor(store) == {"from": "2023-05-01T00:00:00+00:00", "updated": first}

    fake.requests.clear()
    run(store, fake, None)  # no --since, or a later one: incremental, nothing backfilled
    run(store, fake, JULY)
    # Both incremental from the same cursor (the same search, asked twice), nothing backfilled.
    assert fake.jql_seen() == [f'project = "{KEY}" AND updated >= "2023/07/27 13:13"'
                               " ORDER BY updated ASC"] * 4
    assert issues(store) == 22


def test_since_after_everything_stores_nothing_and_says_where_it_starts(store: Store) -> None:
    fake = FakeJira(cloud=False)
    summary = run(store, fake, datetime(2024, 1, 1, tzinfo=UTC))
    assert issues(store) == 0 and summary.complete
    assert cursor(store) == {"from": "2024-01-01T00:00:00+00:00", "updated": None}
    # A later run without --since keeps the collection's start (it does not read everything).
    fake.requests.clear()
    run(store, fake, None)
    assert searches(fake) == [f'project = "{KEY}" AND updated >= "2024/01/01 08:00"'
                              " ORDER BY updated ASC"]


def test_an_interrupted_backfill_resumes_where_it_stopped(store: Store) -> None:
    fake = FakeJira(cloud=False)
    june_issues(fake, 5)
    run(store, fake, JULY)
    # The backfill (15 issues: 10 of 2023-05-29, 5 of June) takes two pages of 10; its second
    # fails on every retry (five 502s): the run stops, the first page stays stored with the
    # backfill's place in the cursor.
    failures = {"left": 5, "searches": 0}

    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/search"):
            failures["searches"] += 1
            if failures["searches"] >= 2 and failures["left"] > 0:
                failures["left"] -= 1
                return httpx.Response(502)
        return fake.handle(request)

    summary = run(store, fake, MAY, transport=httpx.MockTransport(handle))
    assert summary.failed and not summary.complete
    assert issues(store) == 22
    pending = cursor(store)
    assert pending["from"] == "2023-07-01T00:00:00+00:00"
    assert pending["backfill"] == {"since": "2023-05-01T00:00:00+00:00",
                                   "at": "2023-05-29T03:57:42+00:00"}
    fake.requests.clear()
    run(store, fake, None)  # no --since needed: the pending backfill is finished first
    assert searches(fake)[0] == (
        f'project = "{KEY}" AND updated >= "2023/05/29 10:57" AND updated <= "2023/07/01 08:01"'
        " ORDER BY updated ASC")
    assert issues(store) == 27
    done = cursor(store)
    assert done["from"] == "2023-05-01T00:00:00+00:00" and "backfill" not in done


def test_progress_says_how_much_is_left(store: Store) -> None:
    lines = Said()
    run(store, FakeJira(cloud=False), None, progress=lines)  # Data Center: the search's total
    assert any("(10 of ~22 issues of this search" in line for line in lines.lines), lines.lines
    lines = Said()
    cloud = FakeJira(cloud=True)
    run(store, cloud, None, progress=lines, key="EE")  # Cloud: the approximate count
    assert any("(10 of ~30 issues of this search" in line for line in lines.lines), lines.lines
    assert any(r.url.path.endswith("/search/approximate-count") for r in cloud.requests)


def test_eta() -> None:
    clock = FakeClock()
    eta = Eta(clock, 100)
    assert eta.text("issues") == "0 of ~100 issues" and eta.seconds_left() is None
    clock.t += 10
    eta.advance(25)
    assert eta.seconds_left() == 30.0
    assert eta.text("issues") == "25 of ~100 issues, 30 s left"
    clock.t += 3590
    assert eta.text("issues") == "25 of ~100 issues, 3.0 h left"
    eta.advance(75)
    assert eta.text("issues") == "100 of ~100 issues"
    unknown = Eta(clock, None)
    unknown.advance(7)
    assert unknown.text("pull requests") == "7 pull requests" and unknown.seconds_left() is None


@pytest.mark.parametrize("args, message", [
    (("--since", "last tuesday"), "not a date: 'last tuesday'"),
    (("--since", "99999-01-01"), "is out of range"),
])
def test_bad_since(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
                   tmp_path: Path, args: tuple[str, ...], message: str) -> None:
    monkeypatch.setenv("JIRA_API_TOKEN", TOKEN)
    code, _, err = in_process(monkeypatch, capsys, FakeJira(cloud=False), KEY, "--url", DC,
                              "--store", str(tmp_path / "s.duckdb"), *args)
    assert code == 2 and len(err.strip().splitlines()) == 1 and message in err, err
    assert not (tmp_path / "s.duckdb").exists()


def test_since_is_not_for_a_replay(monkeypatch: pytest.MonkeyPatch,
                                   capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = in_process(monkeypatch, capsys, FakeJira(cloud=False), "--from-dir",
                              str(tmp_path), "--since", "2024-01-01")
    assert code == 2 and "--since are not used with it" in err and len(err.strip().splitlines()) == 1

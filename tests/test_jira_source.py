"""The live Jira source against a fake Jira (tests/fakes/jira.py) serving the recorded objects:
Cloud and Data Center paging, changelog pages, the incremental cursor with its overlap, moved
issues, deleted users, statuses without a category, rate limits and retries."""

from __future__ import annotations

import copy
from typing import Any

import httpx
import pytest

from fakes.clock import FakeClock
from fakes.jira import CLOUD, DC, EMAIL, TOKEN, FakeJira
from leadlens.config import Settings
from leadlens.errors import FatalSourceError, UserError
from leadlens.sources.base import RunSummary
from leadlens.sources.jira.ingest import JiraSource
from leadlens.store import Store

CLOUD_ENV = {"JIRA_API_TOKEN": TOKEN, "JIRA_EMAIL": EMAIL}
DC_ENV = {"JIRA_API_TOKEN": TOKEN}


def run(store: Store, fake: FakeJira, *projects: str, clock: FakeClock | None = None,
        settings: Settings | None = None,
        transport: httpx.BaseTransport | None = None) -> RunSummary:
    source = JiraSource(projects, url=CLOUD if fake.cloud else DC,
                        transport=transport or fake.transport(), clock=clock or FakeClock(),
                        environ=CLOUD_ENV if fake.cloud else DC_ENV)
    return source.ingest(store, settings or Settings())


def count(store: Store, table: str, where: str = "TRUE") -> int:
    return int(store.con.execute(f"SELECT count(*) FROM {table} WHERE {where}").fetchone()[0])  # type: ignore[index]


def _history(n: int, at: str, author: bool = True, **item: Any) -> dict[str, Any]:
    history: dict[str, Any] = {"id": str(900000 + n), "created": at, "items": [item]}
    if author:
        history["author"] = {"accountId": "acc-1", "displayName": "Someone", "active": True}
    return history


def _issue(fake: FakeJira, issue_id: str, key: str, updated: str) -> dict[str, Any]:
    issue = copy.deepcopy(next(i for i in fake.issues.values() if i["key"] == "EE-1"))
    issue.update(id=issue_id, key=key)
    issue["fields"]["updated"] = updated
    issue["fields"]["comment"] = {"total": 0, "comments": []}
    issue["fields"]["worklog"] = {"total": 0, "worklogs": []}
    return issue


def test_cloud_run(store: Store) -> None:
    fake = FakeJira(cloud=True)
    summary = run(store, fake, "EE", "K5")
    # The 33 recorded Cloud issues (30 EE, 3 K5) with their 714 embedded changelog items; the EE
    # search takes 3 pages of 10 (nextPageToken), K5 one.
    assert count(store, "jira_issues") == 33 and count(store, "jira_changelog") == 714
    assert count(store, "jira_projects") == 2 and count(store, "jira_sprints") == 30
    assert count(store, "jira_statuses") == 53 and count(store, "jira_comments") == 8
    assert fake.jql_seen() == ['project = "EE" ORDER BY updated ASC'] * 3 + [
        'project = "K5" ORDER BY updated ASC']
    assert [r.url.params.get("nextPageToken") for r in fake.requests
            if r.url.path.endswith("/search/jql")] == [None, "10", "20", None]
    assert summary.complete and not summary.failed and summary.repos == []
    assert summary.stored["issues"] == 33
    cursor = store.con.execute("SELECT cursor FROM sync_state WHERE repo = 'EE' AND source ="
                               " 'jira'").fetchone()
    # The newest `updated` of EE: EE-20, 2021-08-06T14:14:54.647+0800; collected from the start.
    assert cursor == ('{"from": null, "updated": "2021-08-06T06:14:54.647000+00:00"}',)


def test_data_center_run(store: Store) -> None:
    fake = FakeJira(cloud=False)
    fake.embed_histories = 1  # DZFNK0168-20 has 4: read again with /issue/KEY?expand=changelog
    run(store, fake, "DZFNK0168")
    assert count(store, "jira_issues") == 22 and count(store, "jira_changelog") == 18
    assert count(store, "jira_issue_links") == 16
    paths = {r.url.path for r in fake.requests}
    assert "/rest/api/2/search" in paths and "/rest/api/2/issue/DZFNK0168-20" in paths
    assert all(r.headers["authorization"] == f"Bearer {TOKEN}" for r in fake.requests)


def test_changelog_pages_when_embedded_one_is_partial(store: Store) -> None:
    fake = FakeJira(cloud=True)
    fake.embed_histories = 20  # EE-17 has 31 histories: 11 more from /issue/10079/changelog
    run(store, fake, "EE")
    assert store.con.execute("SELECT count(DISTINCT history_id), count(*) FROM jira_changelog"
                             " WHERE issue_id = '10079'").fetchone() == (31, 40)
    assert count(store, "jira_changelog") == 709  # EE alone (714 less K5's 5), as if embedded
    assert any(r.url.path == "/rest/api/3/issue/10079/changelog" for r in fake.requests)


def test_more_than_100_histories_are_paged(store: Store) -> None:
    fake = FakeJira(cloud=True)
    histories = [_history(n, f"2021-09-01T10:{n // 60:02d}:{n % 60:02d}.000+0800",
                          author=n % 50 != 7, field="status", fieldId="status",
                          **{"from": "1", "to": "3", "fromString": "Open",
                             "toString": "In Progress"})
                 for n in range(250)]
    fake.add_issue(_issue(fake, "30001", "EE-501", "2021-09-01T12:00:00.000+0800"), histories)
    run(store, fake, "EE")
    assert count(store, "jira_changelog", "issue_id = '30001'") == 250
    pages = [r for r in fake.requests if r.url.path == "/rest/api/3/issue/30001/changelog"]
    assert len(pages) == 25  # the fake's pages of 10
    # Histories 7, 57, 107, 157, 207 have no author (a deleted user): NULL, not ''.
    assert count(store, "jira_changelog", "issue_id = '30001' AND author IS NULL") == 5


def test_moved_issue_keeps_its_old_key(store: Store) -> None:
    fake = FakeJira(cloud=True)
    moved = _issue(fake, "30002", "EE-502", "2021-09-02T12:00:00.000+0800")
    fake.add_issue(moved, [_history(1, "2021-09-02T11:00:00.000+0800", field="Key",
                                    fieldtype="jira", **{"from": None, "to": None,
                                                         "fromString": "OPS-7",
                                                         "toString": "EE-502"})])
    run(store, fake, "EE")
    assert store.con.execute("SELECT list(key ORDER BY key) FROM jira_issue_keys WHERE issue_id"
                             " = '30002'").fetchone() == (["EE-502", "OPS-7"],)


def test_status_without_category(store: Store) -> None:
    fake = FakeJira(cloud=True)
    fake.statuses.append({"id": "99999", "name": "Limbo", "self": f"{CLOUD}/status/99999"})
    summary = run(store, fake, "K5")
    assert store.con.execute("SELECT category FROM jira_statuses WHERE id = '99999'"
                             ).fetchone() == (None,)
    assert summary.warnings == ["Jira status 'Limbo' (id 99999) has no status category: stored"
                                " with category NULL (unmapped until a status setting maps it)"]


def test_incremental_with_overlap(store: Store) -> None:
    fake = FakeJira(cloud=True)
    run(store, fake, "EE")
    before = count(store, "jira_changelog")
    fake.requests.clear()
    # After the first run: one new issue, updated five minutes after the cursor (EE-20's
    # 14:14:54.647 +0800), with two histories.
    fake.add_issue(_issue(fake, "30003", "EE-503", "2021-08-06T14:20:00.000+0800"), [
        _history(n, "2021-08-06T14:19:00.000+0800", field="status",
                 **{"from": "1", "to": "3"}) for n in (1, 2)])
    summary = run(store, fake, "EE")
    # Cursor 06:14:54.647 UTC minus the 60-minute overlap = 05:14:54.647 UTC, in the account's
    # zone (Asia/Shanghai, +08:00) 13:14:54, floored to the minute as JQL takes it.
    assert fake.jql_seen() == [
        'project = "EE" AND updated >= "2021/08/06 13:14" ORDER BY updated ASC']
    assert summary.stored["issues"] == 2  # EE-20 again (the overlap) and EE-503
    assert count(store, "jira_issues") == 31 and count(store, "jira_changelog") == before + 2
    assert count(store, "jira_issue_keys") == 31


def test_cursor_moves_with_each_page(store: Store) -> None:
    fake = FakeJira(cloud=True)

    def second_page_fails(request: httpx.Request) -> httpx.Response:
        if request.url.params.get("nextPageToken"):
            return httpx.Response(500)
        return fake.handle(request)

    clock = FakeClock()
    summary = run(store, fake, "EE", clock=clock,
                  transport=httpx.MockTransport(second_page_fails))
    assert summary.failed and not summary.complete and "failed 5 times" in (summary.stopped or "")
    assert clock.slept == [1.0, 2.0, 4.0, 8.0]  # the shared back-off, then a stop
    assert count(store, "jira_issues") == 10  # the first page, stored with its cursor
    newest = store.con.execute("SELECT max(updated_at) FROM jira_issues").fetchone()[0]  # type: ignore[index]
    cursor = store.con.execute("SELECT cursor FROM sync_state WHERE repo = 'EE'").fetchone()[0]  # type: ignore[index]
    assert newest.isoformat() in cursor


def test_rate_limit_retry_after_and_5xx(store: Store) -> None:
    fake = FakeJira(cloud=True)
    fake.throttle["rest/api/3/search/jql"] = [
        httpx.Response(429, headers={"Retry-After": "7"}), httpx.Response(502)]
    clock = FakeClock()
    summary = run(store, fake, "K5", clock=clock)
    assert clock.slept == [7.0, 1.0]
    assert [w.reason for w in summary.waits] == ["Jira's rate limit (HTTP 429)",
                                                 "retrying after HTTP 502"]
    assert count(store, "jira_issues") == 3 and summary.complete


def test_rejected_token_names_the_variables(store: Store) -> None:
    fake = FakeJira(cloud=True)
    fake.auth_ok = False
    with pytest.raises(FatalSourceError, match="credentials in JIRA_EMAIL and JIRA_API_TOKEN"
                       r" \(401\)"):
        run(store, fake, "EE")


def test_unknown_project_stops_before_writing(store: Store) -> None:
    fake = FakeJira(cloud=True)
    with pytest.raises(UserError, match="Jira project NOPE does not exist"):
        run(store, fake, "EE", "NOPE")
    assert count(store, "jira_projects") == 0 and count(store, "jira_issues") == 0


def test_project_key_cannot_carry_jql(store: Store) -> None:
    with pytest.raises(UserError, match="not a Jira project key"):
        run(store, FakeJira(cloud=True), 'EE" OR project = "X')


def test_token_stays_on_the_site(store: Store) -> None:
    seen: list[httpx.Request] = []

    def redirect(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.host != "evil.example.net":
            return httpx.Response(302, headers={"Location": "https://evil.example.net/steal"})
        return httpx.Response(401)

    with pytest.raises(FatalSourceError, match="401"):
        run(store, FakeJira(cloud=True), "EE", transport=httpx.MockTransport(redirect))
    assert [r.url.host for r in seen] == ["merico.atlassian.net", "evil.example.net"]
    assert "authorization" in seen[0].headers and "authorization" not in seen[1].headers

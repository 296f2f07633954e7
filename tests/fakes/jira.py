"""A fake Jira for httpx.MockTransport: the real recorded objects of ../shared/fixtures/recorded-api/
jira served the way Jira Cloud (``/rest/api/3``, ``search/jql`` with ``nextPageToken``) or Data
Center (``/rest/api/2``, ``search`` with ``startAt``) does, in small pages so that every paging
path runs; JQL's ``project`` and ``updated >=`` are honoured in the site's time zone."""

from __future__ import annotations

import base64
import copy
import json
import re
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx

__all__ = ["CLOUD", "DC", "EMAIL", "RECORDED", "TOKEN", "ZONE", "FakeJira", "recorded"]

RECORDED = Path(__file__).resolve().parents[3] / "shared" / "fixtures" / "recorded-api" / "jira"
CLOUD = "https://merico.atlassian.net"
DC = "https://jira.example.com"
TOKEN, EMAIL = "t0ken", "lead@example.com"
ZONE = "Asia/Shanghai"  # the account's zone: JQL dates are read in it
PAGE = 10  # the fake's page size, whatever maxResults asks: more pages to walk
_JQL = re.compile(r'^project = "([A-Z0-9_]+)"(?: AND updated >= "(\d{4}/\d\d/\d\d \d\d:\d\d)")?'
                  r'(?: AND updated <= "(\d{4}/\d\d/\d\d \d\d:\d\d)")?(?: ORDER BY updated ASC)?$')


def recorded(name: str) -> list[dict[str, Any]]:
    lines = (RECORDED / f"{name}.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def _jira_time(text: str) -> datetime:
    return datetime.fromisoformat(text)


class FakeJira:
    """Serves GET requests as Jira does. ``cloud`` picks the flavour and the recorded issues (the
    Cloud site's EE and K5 projects, or the Data Center site's DZFNK0168). ``throttle`` maps a path
    to responses to give before the real one (a 429 with Retry-After, a 502)."""

    def __init__(self, cloud: bool = True) -> None:
        self.cloud = cloud
        self.api = "rest/api/3" if cloud else "rest/api/2"
        self.base = CLOUD if cloud else DC
        source = "issues" if cloud else "issue_relationships"
        self.issues: dict[str, dict[str, Any]] = {
            rec["data"]["id"]: copy.deepcopy(rec["data"]) for rec in recorded(source)}
        self.projects = [rec["data"] for rec in recorded("projects")]
        keys = {p["key"] for p in self.projects}
        for issue in self.issues.values():  # projects the recording lists no object of (K5, ...)
            project = issue["fields"]["project"]
            if project["key"] not in keys:
                keys.add(project["key"])
                self.projects.append(project)
        self.statuses = [rec["data"] for rec in recorded("status")]
        self.issue_types = [rec["data"] for rec in recorded("issue_types")]
        self.sprints = [rec["data"] for rec in recorded("sprints")]
        self.children: dict[str, dict[str, list[dict[str, Any]]]] = {}
        for name, kind in (("worklogs", "worklog"), ("remotelinks", "remotelink")):
            for rec in recorded(name):
                bucket = self.children.setdefault(str(rec["input"]["issue_id"]), {})
                bucket.setdefault(kind, []).append(rec["data"])
        # The changelog endpoint serves what the issue has in full; the search embeds a part.
        self.histories: dict[str, list[dict[str, Any]]] = {
            i: list(issue.get("changelog", {}).get("histories", []))
            for i, issue in self.issues.items()}
        self.embed_histories = 100  # Jira embeds at most 100 histories in a search
        self.throttle: dict[str, list[httpx.Response]] = {}
        self.requests: list[httpx.Request] = []
        self.auth_ok = True

    # -- what tests change
    def add_issue(self, issue: dict[str, Any], histories: list[dict[str, Any]]) -> None:
        self.issues[issue["id"]] = issue
        self.histories[issue["id"]] = histories

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    def jql_seen(self) -> list[str]:
        return [r.url.params["jql"] for r in self.requests if "jql" in r.url.params]

    # -- serving
    def _authorised(self, request: httpx.Request) -> bool:
        header = request.headers.get("authorization", "")
        if self.cloud:
            pair = base64.b64encode(f"{EMAIL}:{TOKEN}".encode()).decode()
            return self.auth_ok and header == f"Basic {pair}"
        return self.auth_ok and header == f"Bearer {TOKEN}"

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        path = request.url.path.strip("/")
        queued = self.throttle.get(path)
        if queued:
            return queued.pop(0)
        if not self._authorised(request):
            return httpx.Response(401, json={"errorMessages": ["Unauthorized"]})
        params = request.url.params
        if path == "rest/api/2/serverInfo":
            return httpx.Response(200, json={"deploymentType": "Cloud" if self.cloud else "Server",
                                             "baseUrl": self.base})
        api = self.api
        simple: dict[str, Any] = {
            f"{api}/myself": {"accountId": "me", "timeZone": ZONE},
            f"{api}/field": [{"id": "customfield_10020", "name": "Sprint"},
                             {"id": "customfield_10016", "name": "Story point estimate"},
                             {"id": "customfield_10021", "name": "Flagged"}],
            f"{api}/status": self.statuses, f"{api}/issuetype": self.issue_types,
        }
        if path in simple:
            return httpx.Response(200, json=simple[path])
        if m := re.fullmatch(rf"{api}/project/([^/]+)", path):
            found = [p for p in self.projects if p["key"] == m.group(1)]
            if not found:
                return httpx.Response(404, json={"errorMessages": ["No project could be found"]})
            return httpx.Response(200, json=found[0])
        if path == "rest/agile/1.0/board":
            boards = [{"id": 8, "type": "scrum"}] if params.get("projectKeyOrId") == "EE" else []
            return self._offset(boards, params, "values")
        if path == "rest/agile/1.0/board/8/sprint":
            return self._offset(self.sprints, params, "values")
        if path in (f"{api}/search/jql", f"{api}/search"):
            return self._search(path, params)
        if path == f"{api}/search/approximate-count" and self.cloud and request.method == "POST":
            found = self._found(json.loads(request.content).get("jql", ""))
            if found is None:
                return httpx.Response(400, json={"errorMessages": ["bad JQL"]})
            return httpx.Response(200, json={"count": len(found)})
        if m := re.fullmatch(rf"{api}/issue/(\d+)/changelog", path):
            return self._offset(self.histories.get(m.group(1), []), params, "values")
        if m := re.fullmatch(rf"{api}/issue/([A-Z0-9_]+-\d+)", path):
            issue = next((i for i in self.issues.values() if i["key"] == m.group(1)), None)
            if issue is None:
                return httpx.Response(404, json={"errorMessages": ["Issue does not exist"]})
            histories = self.histories[issue["id"]]
            return httpx.Response(200, json={"id": issue["id"], "key": issue["key"], "changelog": {
                "startAt": 0, "maxResults": len(histories), "total": len(histories),
                "histories": histories}})
        if m := re.fullmatch(rf"{api}/issue/(\d+)/(comment|worklog)", path):
            kind = m.group(2)
            fields = self.issues[m.group(1)]["fields"]
            items = fields.get(kind, {}).get(f"{kind}s", [])
            items = self.children.get(m.group(1), {}).get(kind, items)
            return self._offset(items, params, f"{kind}s")
        if m := re.fullmatch(rf"{api}/issue/(\d+)/remotelink", path):
            return httpx.Response(200, json=self.children.get(m.group(1), {}).get("remotelink", []))
        return httpx.Response(404, json={"errorMessages": [f"no such path {path}"]})

    @staticmethod
    def _offset(items: list[Any], params: httpx.QueryParams, key: str) -> httpx.Response:
        start = int(params.get("startAt", 0))
        size = min(int(params.get("maxResults", 50)), PAGE)
        page = items[start:start + size]
        return httpx.Response(200, json={"startAt": start, "maxResults": size, "total": len(items),
                                         "isLast": start + size >= len(items), key: page})

    def _found(self, jql: str) -> list[dict[str, Any]] | None:
        """The issues a search finds, in its order; None for JQL the fake does not read."""
        match = _JQL.match(jql)
        if not match:
            return None
        key, since, until = match.groups()
        zone = ZoneInfo(ZONE)
        floor = datetime.strptime(since, "%Y/%m/%d %H:%M").replace(tzinfo=zone) if since else None
        # Jira reads `<=` a minute as up to that minute's start.
        ceiling = datetime.strptime(until, "%Y/%m/%d %H:%M").replace(tzinfo=zone) if until else None
        return sorted((i for i in self.issues.values()
                       if i["fields"]["project"]["key"] == key
                       and (floor is None or _jira_time(i["fields"]["updated"]) >= floor)
                       and (ceiling is None or _jira_time(i["fields"]["updated"]) <= ceiling)),
                      key=lambda i: (_jira_time(i["fields"]["updated"]), int(i["id"])))

    def _search(self, path: str, params: httpx.QueryParams) -> httpx.Response:
        found = self._found(params.get("jql", ""))
        if found is None:
            return httpx.Response(400, json={"errorMessages": ["bad JQL"]})
        found = [self._embedded(i) for i in found]
        if path.endswith("/jql"):
            start = int(params.get("nextPageToken", "0"))
            page = found[start:start + PAGE]
            more = start + PAGE < len(found)
            body: dict[str, Any] = {"issues": page, "isLast": not more}
            if more:
                body["nextPageToken"] = str(start + PAGE)
            return httpx.Response(200, json=body)
        return self._offset(found, params, "issues")

    def _embedded(self, issue: dict[str, Any]) -> dict[str, Any]:
        histories = self.histories[issue["id"]]
        shown = dict(issue)
        shown["changelog"] = {"startAt": 0, "maxResults": self.embed_histories,
                              "total": len(histories), "histories": histories[:self.embed_histories]}
        return shown

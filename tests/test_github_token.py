"""The GitHub token goes only where the user meant: https (plain http to this machine alone), the
API's own origin, and a settings file's API host only when the command line says to trust it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from fakes.clock import FakeClock, NoSleep
from fakes.github import API, REPO, FakeGitHub
from leadlens import pipeline
from leadlens.config import Settings, load_settings
from leadlens.errors import FatalSourceError, UserError
from leadlens.sources.github.client import GitHubAPI, make_client
from leadlens.sources.github.ingest import GithubSource
from leadlens.store import Store

TOKEN = "ghp_secret_of_the_user"


class Served:
    """The fake GitHub served at ``base`` (as GitHub Enterprise serves it under /api/v3); records
    the host and Authorization header of every request that reaches the network."""

    def __init__(self, base: str) -> None:
        self.base = httpx.URL(base)
        self.fake = FakeGitHub()
        self.seen: list[tuple[str, str | None]] = []
        self.graphql: list[str] = []  # the GraphQL URLs asked

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.seen.append((request.url.host, request.headers.get("authorization")))
        prefix = self.base.path.rstrip("/")
        # GraphQL: beside REST's /api/v3 on GitHub Enterprise Server (/api/graphql), else under it.
        graphql = prefix.removesuffix("/v3") + "/graphql" if prefix.endswith("/api/v3") \
            else prefix + "/graphql"
        if request.method == "POST" and request.url.path == graphql:
            self.graphql.append(str(request.url))
            return self.fake(httpx.Request("POST", API + "/graphql", content=request.content,
                                           headers=request.headers))
        path = request.url.path.removeprefix(prefix)
        response = self.fake(httpx.Request("GET", httpx.URL(API + path, params=request.url.params),
                                           headers=request.headers))
        link = response.headers.get("link")
        if link:
            response.headers["link"] = link.replace(API, str(self.base).rstrip("/"))
        return response


def _ingest(store: Store, served: Served, settings: Settings | None = None, **options: Any) -> Any:
    source = GithubSource(REPO, transport=httpx.MockTransport(served), clock=NoSleep(), **options)
    return pipeline.ingest(store, source, settings or Settings(), derive_after=False)


@pytest.fixture(autouse=True)
def _token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)


@pytest.mark.parametrize("url", ["http://ghe.example.com/api/v3", "http://10.0.0.7:8080/api/v3",
                                 "http://api.github.com"])
def test_plain_http_is_refused_before_any_request(store: Store, url: str) -> None:
    served = Served(url)
    with pytest.raises(UserError, match="plain http"):
        _ingest(store, served, api_url=url)
    assert served.seen == []


@pytest.mark.parametrize("url", ["ftp://ghe.example.com/", "https://", "ghe.example.com/api/v3",
                                 "https://user:pw@ghe.example.com/api/v3"])
def test_what_is_not_an_https_url_is_refused(store: Store, url: str) -> None:
    served = Served("https://ghe.example.com")
    with pytest.raises(UserError):
        _ingest(store, served, api_url=url)
    assert served.seen == []


@pytest.mark.parametrize("base", ["http://127.0.0.1:8080", "http://localhost:3000/api/v3",
                                  "http://[::1]:8080/api/v3"])
def test_plain_http_to_this_machine_is_allowed(store: Store, base: str) -> None:
    served = Served(base)
    summary = _ingest(store, served, api_url=base)
    assert not summary.failed and summary.stored["pull_requests"] == 49
    assert {host for host, _ in served.seen} == {httpx.URL(base).host}
    assert {auth for _, auth in served.seen} == {f"Bearer {TOKEN}"}


def test_an_api_url_from_the_settings_file_needs_the_command_line(store: Store,
                                                                 tmp_path: Path) -> None:
    # A cloned repository's own pyproject.toml, read from the working directory.
    (tmp_path / "pyproject.toml").write_text(
        '[tool.leadlens]\ngithub_api_url = "https://ghe.example.com/api/v3"\n', encoding="utf-8")
    settings = load_settings(tmp_path)
    served = Served("https://ghe.example.com/api/v3")
    with pytest.raises(UserError, match="--trust-settings-api-url"):
        _ingest(store, served, settings)
    assert served.seen == []
    # Trusted on the command line, either way: then the token goes there, and only there.
    assert not _ingest(store, served, settings, trust_settings_api_url=True).failed
    assert not _ingest(store, served, settings, api_url="https://ghe.example.com/api/v3").failed
    assert {host for host, _ in served.seen} == {"ghe.example.com"}
    # GraphQL on GitHub Enterprise Server is /api/graphql, beside REST's /api/v3.
    assert served.graphql and set(served.graphql) == {"https://ghe.example.com/api/graphql"}


def test_the_default_api_in_a_settings_file_needs_nothing(store: Store, tmp_path: Path) -> None:
    (tmp_path / "leadlens.toml").write_text('github_api_url = "https://API.github.com/"\n',
                                            encoding="utf-8")
    served = Served(API)
    assert not _ingest(store, served, load_settings(tmp_path)).failed
    assert {host for host, _ in served.seen} == {"api.github.com"}


@pytest.mark.parametrize("elsewhere", ["https://evil.example.com/repos/o/r/pulls?page=2",
                                       "http://api.github.com/repos/o/r/pulls?page=2",
                                       "https://api.github.com:8443/repos/o/r/pulls?page=2"])
def test_a_next_page_on_another_origin_never_gets_the_token(elsewhere: str) -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        last = len(seen) > 1
        return httpx.Response(200, json=[{"id": 1}],
                              headers={} if last else {"link": f'<{elsewhere}>; rel="next"'})
    api = GitHubAPI(make_client(TOKEN, API, httpx.MockTransport(handler)), clock=FakeClock())
    with pytest.raises(FatalSourceError, match="refusing to send the token"):
        list(api.pages("repos/o/r/pulls"))
    assert [str(r.url) for r in seen] == [f"{API}/repos/o/r/pulls"]


def test_a_redirect_to_another_host_goes_without_the_token() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.host == "api.github.com":
            return httpx.Response(302, headers={"location": "https://evil.example.com/x"})
        return httpx.Response(200, json=[])
    api = GitHubAPI(make_client(TOKEN, API, httpx.MockTransport(handler)), clock=FakeClock())
    api.get("repos/o/r")
    assert [(r.url.host, "authorization" in r.headers) for r in seen] == [
        ("api.github.com", True), ("evil.example.com", False)]


def _cli(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "GITHUB_TOKEN": TOKEN, "COLUMNS": "200"}
    env.pop("LEADLENS_DEBUG", None)
    return subprocess.run([sys.executable, "-m", "leadlens", "ingest", "github", "o/r",
                           "--store", str(cwd / "s.duckdb"), "--max-requests", "1", *args],
                          capture_output=True, text=True, cwd=cwd, env=env, timeout=120,
                          check=False)


def test_cli_refuses_untrusted_or_plain_http_hosts_and_names_the_host_it_uses(tmp_path: Path) -> None:
    settings = tmp_path / "leadlens.toml"
    settings.write_text('github_api_url = "https://ghe.invalid/api/v3"\n', encoding="utf-8")
    proc = _cli(tmp_path)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "--trust-settings-api-url" in proc.stderr.replace("\n", "")
    settings.write_text('github_api_url = "http://ghe.invalid/api/v3"\n', encoding="utf-8")
    proc = _cli(tmp_path, "--trust-settings-api-url")
    assert proc.returncode == 2 and "plain http" in proc.stderr
    # Nothing listens on port 9 here: the run fails to connect, having said where it went.
    settings.unlink()
    proc = _cli(tmp_path, "--api-url", "http://127.0.0.1:9/api/v3")
    assert "GitHub API: http://127.0.0.1:9/api/v3 (--api-url)" in proc.stderr
    assert "Traceback" not in proc.stderr

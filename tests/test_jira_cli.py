"""`leadlens ingest jira` bad input through the command line: one line, exit 2, no traceback.

Live runs go to the fake Jira: the command's client factory is swapped for one that passes the
fake's transport (the production client, retries and paging otherwise), and the system clock for
one that does not sleep."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import httpx
import pytest

from fakes.clock import FakeClock
from fakes.jira import CLOUD, EMAIL, TOKEN, FakeJira
from leadlens.cli import main
from leadlens.sources import http
from leadlens.sources.jira import ingest as jira_ingest
from leadlens.sources.jira.client import Auth, make_client
from test_bad_input import assert_clean_failure, cli


def in_process(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
               fake: FakeJira, *args: str) -> tuple[int, str, str]:
    def client(url: str, auth: Auth, transport: httpx.BaseTransport | None = None
               ) -> httpx.Client:
        return make_client(url, auth, fake.transport())

    monkeypatch.setattr(jira_ingest, "make_client", client)
    monkeypatch.setattr(http, "SystemClock", FakeClock)
    monkeypatch.setattr(sys, "argv", ["leadlens", "ingest", "jira", *args])
    with pytest.raises(SystemExit) as exc:
        main()
    captured = capsys.readouterr()
    return int(exc.value.code or 0), captured.out, captured.err


@pytest.fixture
def cloud_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JIRA_API_TOKEN", TOKEN)
    monkeypatch.setenv("JIRA_EMAIL", EMAIL)


def test_live_run_prints_the_summary(monkeypatch: pytest.MonkeyPatch,
                                     capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                     cloud_env: None) -> None:
    fake = FakeJira(cloud=True)
    fake.throttle["rest/api/3/search/jql"] = [httpx.Response(429, headers={"Retry-After": "3"})]
    code, out, err = in_process(monkeypatch, capsys, fake, "K5", "--url", CLOUD, "--store",
                                str(tmp_path / "s.duckdb"), "--format", "json")
    assert code == 0, err
    data = json.loads(out)
    assert data["stored"]["issues"] == 3 and data["repos"] == []
    assert data["waits"] == [{"seconds": 3.0, "reason": "Jira's rate limit (HTTP 429)"}]
    assert "waiting 3s for Jira's rate limit (HTTP 429)" in err


def test_unknown_project(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
                         tmp_path: Path, cloud_env: None) -> None:
    code, _, err = in_process(monkeypatch, capsys, FakeJira(cloud=True), "EE", "NOPE", "--url",
                              CLOUD, "--store", str(tmp_path / "s.duckdb"))
    assert code == 2
    assert err.strip() == ("leadlens: error: Jira project NOPE does not exist or is not visible to"
                           " the credentials in JIRA_EMAIL and JIRA_API_TOKEN; nothing was stored")


def test_expired_token(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
                       tmp_path: Path) -> None:
    monkeypatch.setenv("MY_JIRA", "expired")
    monkeypatch.delenv("JIRA_EMAIL", raising=False)
    fake = FakeJira(cloud=False)
    code, _, err = in_process(monkeypatch, capsys, fake, "DZFNK0168", "--url",
                              "https://jira.example.com", "--token-env", "MY_JIRA",
                              "--store", str(tmp_path / "s.duckdb"))
    assert code == 2 and len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert "Jira rejected the credentials in MY_JIRA (401)" in err and "set MY_JIRA" in err


def test_missing_token(tmp_path: Path) -> None:
    proc = cli("ingest", "jira", "EE", "--url", CLOUD, "--token-env", "LEADLENS_TEST_NO_TOKEN",
               "--store", str(tmp_path / "s.duckdb"))
    assert_clean_failure(proc, "no Jira token: set LEADLENS_TEST_NO_TOKEN")


@pytest.mark.parametrize(("url", "needle"), [
    ("ftp://jira.example.com", "is not an https:// URL"),
    ("http://jira.example.com", "is plain http"),
    ("jira.example.com", "is not an https:// URL"),
])
def test_url_must_be_https(tmp_path: Path, url: str, needle: str) -> None:
    proc = cli("ingest", "jira", "EE", "--url", url, "--store", str(tmp_path / "s.duckdb"))
    assert_clean_failure(proc, needle)
    assert not (tmp_path / "s.duckdb").exists()  # refused before the store opens


def test_no_project_and_no_url(tmp_path: Path) -> None:
    assert_clean_failure(cli("ingest", "jira", "--url", CLOUD, "--store",
                             str(tmp_path / "s.duckdb")), "name at least one Jira project key")
    assert_clean_failure(cli("ingest", "jira", "EE", "--store", str(tmp_path / "s.duckdb"),
                             cwd=tmp_path), "name the Jira site with --url")


def test_settings_url_needs_trust(tmp_path: Path) -> None:
    (tmp_path / "leadlens.toml").write_text('jira_url = "https://jira.example.com"\n')
    proc = cli("ingest", "jira", "EE", "--store", str(tmp_path / "s.duckdb"), cwd=tmp_path)
    assert_clean_failure(proc, "pass --trust-settings-url")

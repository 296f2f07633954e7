"""Shared fixtures: repositories built by gitfixtures.py, and a fresh store per test."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from gitfixtures import build_flow, build_history
from leadlens.pipeline import ingest_git
from leadlens.store import Store, open_store


@pytest.fixture(scope="session")
def history_repo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    path = tmp_path_factory.mktemp("fixtures") / "history"
    shas = build_history(path)
    return path, shas


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    st = open_store(tmp_path / "store.duckdb")
    yield st
    st.close()


@pytest.fixture(scope="session")
def flow_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The store of the flow fixture repository (gitfixtures.build_flow), ingested once."""
    base = tmp_path_factory.mktemp("flow")
    build_flow(base / "flow")
    path = base / "flow.duckdb"
    with open_store(path) as st:
        ingest_git(st, [base / "flow"])
    return path

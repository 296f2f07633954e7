"""Shared fixtures: repositories built by gitfixtures.py, and a fresh store per test."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from gitfixtures import build_history
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

"""Docs cover what the code registers: settings, sources, store tables, commands."""

from __future__ import annotations

import dataclasses
import re
import typing
from pathlib import Path

from pydantic import BaseModel

from leadlens.cli import app
from leadlens.config import Settings
from leadlens.report.model import Report
from leadlens.sources import SOURCES
from leadlens.store.db import migrations

DOCS = Path(__file__).resolve().parents[1] / "docs"


def test_every_setting_is_documented() -> None:
    text = (DOCS / "configuration.md").read_text()
    for name in Settings.model_fields:
        assert f"`{name}`" in text, f"setting {name} is not in docs/configuration.md"


def test_every_source_is_documented() -> None:
    text = (DOCS / "sources.md").read_text()
    for name in SOURCES:
        assert f"## {name}" in text, f"source {name} has no section in docs/sources.md"


def test_every_table_is_documented() -> None:
    text = (DOCS / "store.md").read_text()
    tables = {"schema_migrations"}
    for _, _, sql in migrations():
        tables.update(re.findall(r"CREATE TABLE (\w+)", sql))
    for table in tables:
        assert f"`{table}`" in text, f"table {table} is not in docs/store.md"


def test_every_command_is_documented() -> None:
    text = (DOCS / "cli.md").read_text()
    for command in app.registered_commands:
        assert f"leadlens {command.name}" in text
    for group in app.registered_groups:
        for command in group.typer_instance.registered_commands:
            assert f"leadlens {group.name} {command.name}" in text


def _fields(model: type) -> set[str]:
    """Every field of a pydantic model or dataclass, and of the models and dataclasses in it."""
    hints = typing.get_type_hints(model)
    # A pydantic field is documented by the key the JSON shows: its alias when it has one
    # (`from`, which Python reserves).
    keys = {n: f.alias or n for n, f in model.model_fields.items()} if issubclass(
        model, BaseModel) else {f.name: f.name for f in dataclasses.fields(model)}
    names = set(keys.values())
    for name in keys:
        for arg in (hints[name], *typing.get_args(hints[name])):
            for inner in (arg, *typing.get_args(arg)):
                if isinstance(inner, type) and (issubclass(inner, BaseModel)
                                                or dataclasses.is_dataclass(inner)):
                    names = names | _fields(inner)
    return names


def test_every_report_field_is_documented() -> None:
    text = (DOCS / "report-json.md").read_text()
    for name in _fields(Report):
        assert f"`{name}`" in text, f"report field {name} is not in docs/report-json.md"


def test_every_package_is_on_the_architecture_page() -> None:
    text = (DOCS / "architecture.md").read_text()
    src = Path(__file__).resolve().parents[1] / "src" / "leadlens"
    names = {p.stem for p in src.glob("*.py") if p.stem not in ("__init__", "__main__")}
    names |= {p.name for p in src.iterdir() if (p / "__init__.py").is_file()}
    for name in sorted(names):
        assert f"`{name}" in text, f"{name} is not on docs/architecture.md"


def test_every_policy_rule_and_setting_is_documented() -> None:
    from leadlens.policy.config import SCOPE_KEYS
    from leadlens.policy.rules import RULES

    text = (DOCS / "policy.md").read_text()
    for kind, rule in RULES.items():
        assert f"### `{kind}`" in text, f"policy rule {kind} has no section in docs/policy.md"
        section = text.split(f"### `{kind}`", 1)[1].split("\n### ", 1)[0]
        for name in rule.params:
            assert f"`{name}`" in section, f"setting {name} of {kind} is not in its docs/policy.md section"
    for key in SCOPE_KEYS:
        assert f"`{key}`" in text, f"scope key {key} is not in docs/policy.md"

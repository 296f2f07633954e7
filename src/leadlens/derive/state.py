"""What each derive step last ran on (``derive_state``), and which repositories are stale.

A step's *inputs* are fingerprints of the stored rows it reads and the settings it applies. A step
records them in the transaction that writes its output, so a step killed midway records nothing,
and after any ingest exactly what differs is derived again: a derive that was interrupted or
skipped (``--no-derive``), new git or forge data, another mainline, a changed setting. Reports
compare them read-only and say when a repository's derived data is stale.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Literal

import duckdb

from leadlens.config import (
    DEFAULT_ACTIVITY_WINDOW_HOURS,
    AiSettings,
    BotSettings,
    ItemSettings,
    Settings,
)
from leadlens.store.db import Store

__all__ = ["FORGE_TABLES", "ITEMS_KEY", "ITEM_TABLES", "STEPS", "DeriveSettings", "RepoInputs",
           "Stale", "Step", "StepInputs",
           "current", "items_inputs", "repositories", "stale"]

Step = Literal["changes", "line_ages", "forge", "precompute", "items"]
# per repository; then items, once
STEPS: tuple[Step, ...] = ("changes", "line_ages", "forge", "precompute")
ITEMS_KEY = "*"  # derive_state's repo for the items step, which runs over the whole store

# What the forge step reads of the forge's data (derive/forge.py): a table's row count and newest
# fetch per repository change whenever a source writes to it (an upsert refreshes fetched_at).
FORGE_TABLES = ("pull_requests", "pr_events", "reviews", "comments", "pr_commits", "deployments",
                "deployment_statuses", "releases")

# What the items step reads besides the changes: work item sources' tables.
ITEM_TABLES = ("jira_issues", "jira_issue_keys", "jira_changelog", "jira_statuses",
               "jira_issue_types", "jira_users", "jira_remote_links", "issues", "issue_events",
               "closing_references")

# How a changed input reads in a message, by its key; a setting reads as "<name> changed".
_WHAT = {"refs": "new git data", "tags": "new git data", "head": "new git data",
         "shallow_before": "new git data", "mainline": "another mainline branch",
         "line_history": "new line history", "forge": "new forge data",
         "commits": "new git data", "ai_settings": "an AI attribution setting changed",
         "activity_window_s": "activity_window_hours changed"}


@dataclass(frozen=True)
class DeriveSettings:
    """The settings the derive step applies: each step is called with these values and records
    them, so changing one derives again (and changing any other setting does not)."""

    release_tag_pattern: str
    bots: BotSettings
    production_pattern: str

    items: ItemSettings = field(default_factory=ItemSettings)
    ai: AiSettings = field(default_factory=AiSettings)  # the precompute step's AI attribution
    activity_window: timedelta = timedelta(hours=DEFAULT_ACTIVITY_WINDOW_HOURS)  # and islands

    @classmethod
    def of(cls, settings: Settings) -> DeriveSettings:
        return cls(settings.git.release_tag_pattern, settings.bots,
                   settings.dora.production_pattern, settings.items, settings.ai,
                   settings.flow.activity_window)

    def of_step(self, step: Step) -> dict[str, str]:
        if step == "items":
            return {"item_settings": json.dumps(dataclasses.asdict(self.items), sort_keys=True),
                    "bot_pattern": self.bots.bot_pattern, "agent_pattern": self.bots.agent_pattern}
        if step == "changes":
            return {"release_tag_pattern": self.release_tag_pattern}
        if step == "forge":
            return {"bot_pattern": self.bots.bot_pattern, "agent_pattern": self.bots.agent_pattern,
                    "ai_reviewer_pattern": self.bots.ai_reviewer_pattern,
                    "production_pattern": self.production_pattern}
        if step == "precompute":
            return {"ai_settings": repr(self.ai),
                    "activity_window_s": str(self.activity_window.total_seconds())}
        return {}


@dataclass(frozen=True)
class StepInputs:
    """What one step of one repository reads: canonical JSON, compared as text."""

    repo: str
    step: Step
    inputs: str

    def save(self, con: duckdb.DuckDBPyConnection) -> None:
        """Call inside the transaction that writes the step's output."""
        con.execute("INSERT OR REPLACE INTO derive_state (repo, step, inputs, derived_at)"
                    " VALUES (?, ?, ?, ?)", [self.repo, self.step, self.inputs, datetime.now(UTC)])

    def changed(self, recorded: str) -> list[str]:
        """The keys whose values differ from ``recorded``."""
        now, then = json.loads(self.inputs), json.loads(recorded)
        return [k for k in sorted(now.keys() | then.keys()) if now.get(k) != then.get(k)]


@dataclass(frozen=True)
class RepoInputs:
    """Every step's inputs for one repository, and what the steps need to know of its data."""

    repo: str
    steps: dict[Step, StepInputs]
    has_git: bool
    line_history: bool


@dataclass(frozen=True)
class Stale:
    """The steps a repository must run again, and why, in words."""

    steps: tuple[Step, ...]
    reason: str
    # The forge step must join the forge's rows to the changes as git alone gives them (new forge
    # data or forge settings: what it joined before may no longer hold), so the changes step
    # runs again in full first.
    rejoin: bool = False


def _digest(value: object) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()[:16]


def repositories(store: Store) -> list[str]:
    """Every repository the store holds git or forge data of."""
    union = " UNION ".join(f"SELECT DISTINCT repo FROM {t}" for t in ("repos", *FORGE_TABLES))
    return [r[0] for r in store.con.execute(f"{union} ORDER BY 1").fetchall()]


def current(store: Store, settings: DeriveSettings, repos: Sequence[str] | None = None
            ) -> dict[str, RepoInputs]:
    """Each repository's inputs as the store and ``settings`` stand: ``repos``, or every
    repository with git or forge data. A few grouped queries over the whole store."""
    con = store.con
    git = {r[0]: r[1:] for r in con.execute(
        "SELECT r.repo, r.default_branch, r.head_sha, r.shallow_before::VARCHAR, f.refs, t.tags"
        " FROM repos r"
        " LEFT JOIN (SELECT repo, md5(string_agg(name || ' ' || sha, chr(10) ORDER BY name)) AS refs"
        "   FROM refs GROUP BY repo) f ON f.repo = r.repo"
        " LEFT JOIN (SELECT repo, md5(string_agg(name || ' ' || coalesce(target_sha, '') || ' '"
        "   || coalesce(tag_time::VARCHAR, ''), chr(10) ORDER BY name)) AS tags"
        "   FROM tags GROUP BY repo) t ON t.repo = r.repo").fetchall()}
    lines = dict(con.execute(
        "SELECT repo, count(*) FROM commits WHERE line_history GROUP BY repo").fetchall())
    forge: dict[str, list[list[object]]] = {}
    for repo, table, n, newest in con.execute(" UNION ALL ".join(
            f"SELECT repo, '{t}', count(*), max(fetched_at)::VARCHAR FROM {t} GROUP BY repo"
            for t in FORGE_TABLES) + " ORDER BY 1, 2").fetchall():
        forge.setdefault(repo, []).append([table, n, newest])
    # The precompute step reads every commit: their number and newest ingest run say what is new.
    runs = {r[0]: [r[1], r[2]] for r in con.execute(
        "SELECT repo, count(*), max(run_id) FROM commits GROUP BY repo").fetchall()}
    names = sorted(git.keys() | forge.keys()) if repos is None else list(repos)
    out = {}
    for repo in names:
        branch, head, shallow, refs, tags = git.get(repo, (None,) * 5)
        values: dict[Step, dict[str, object]] = {
            "changes": {"refs": refs, "tags": tags, "mainline": branch, "head": head,
                        "shallow_before": shallow, **settings.of_step("changes")},
            "line_ages": {"refs": refs, "line_history": lines.get(repo, 0),
                          **settings.of_step("line_ages")},
        }
        # The forge step rewrites what the changes step wrote: it runs again whenever that does.
        values["forge"] = {"changes": _digest(values["changes"]),
                           "forge": _digest(forge[repo]) if repo in forge else None,
                           **settings.of_step("forge")}
        values["precompute"] = {"changes": _digest(values["changes"]), "commits": runs.get(repo),
                                **settings.of_step("precompute")}
        out[repo] = RepoInputs(
            repo, {s: StepInputs(repo, s, json.dumps(v, sort_keys=True)) for s, v in values.items()},
            has_git=repo in git, line_history=bool(lines.get(repo)))
    return out


def stale(store: Store, inputs: dict[str, RepoInputs]) -> dict[str, Stale]:
    """The repositories of ``inputs`` whose recorded inputs differ, with the steps to run."""
    recorded: dict[tuple[str, str], str] = {
        (repo, step): text for repo, step, text in
        store.con.execute("SELECT repo, step, inputs FROM derive_state").fetchall()}
    out = {}
    for repo, now in inputs.items():
        steps: list[Step] = []
        why: list[str] = []
        rejoin = False
        for step in STEPS:
            then = recorded.get((repo, step))
            if then == now.steps[step].inputs:
                continue
            steps.append(step)
            if then is not None:
                changed = [k for k in now.steps[step].changed(then) if k != "changes"]
                why.extend(_WHAT.get(k, f"{k} changed") for k in changed)
                rejoin = rejoin or (step == "forge" and bool(changed) and now.has_git)
        if rejoin and "changes" not in steps:
            steps.insert(0, "changes")
        if steps:
            if not any((repo, s) in recorded for s in STEPS):
                why = ["not derived before"]
            out[repo] = Stale(tuple(steps), ", ".join(dict.fromkeys(why))
                              or "the last derive did not finish", rejoin)
    return out


def items_inputs(store: Store, settings: DeriveSettings) -> tuple[StepInputs, str | None]:
    """The items step's inputs (what every repository's steps last ran on, the work item tables,
    the settings) and why it must run again, or None when it need not."""
    con = store.con
    derived = con.execute("SELECT repo, step, inputs FROM derive_state WHERE repo <> ?"
                          " ORDER BY 1, 2", [ITEMS_KEY]).fetchall()
    tables = con.execute(" UNION ALL ".join(
        f"SELECT '{t}', count(*), max(fetched_at)::VARCHAR FROM {t}"
        if t != "jira_issue_keys" else f"SELECT '{t}', count(*), NULL FROM {t}"
        for t in ITEM_TABLES)).fetchall()
    now = StepInputs(ITEMS_KEY, "items", json.dumps(
        {"changes": _digest(derived), "items": _digest(tables), **settings.of_step("items")},
        sort_keys=True))
    found = con.execute("SELECT inputs FROM derive_state WHERE repo = ? AND step = 'items'",
                        [ITEMS_KEY]).fetchall()
    then = found[0] if found else None
    if then is None:
        has_any = any(n for _, n, _ in tables)
        return now, "not derived before" if has_any else None
    if then[0] == now.inputs:
        return now, None
    changed = now.changed(then[0])
    why = {"changes": "new changes", "items": "new work item data",
           "item_settings": "a work item setting changed"}
    return now, ", ".join(why.get(k, f"{k} changed") for k in changed)

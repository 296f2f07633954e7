"""The remaining work of a scope (`leadlens forecast --scope`): a Jira epic, a label, a GitHub
milestone — how many work items it holds and how many of them are not done yet."""

from __future__ import annotations

import ibis
from pydantic import BaseModel, ConfigDict

from leadlens.engines import one
from leadlens.errors import UserError
from leadlens.metrics.items import ItemFlow
from leadlens.metrics.scope import SCOPE_KINDS, scope_items

__all__ = ["ASSUMPTION", "Scope", "parse_scope", "scope_of"]

# What a scope's forecast takes for granted (docs/forecast.md): said in the JSON beside the counts.
ASSUMPTION = ("the team's whole delivered-item throughput goes to this scope's remaining items;"
              " the team's other work competes with them, so the real finish is later the more"
              " of it there is")

_MEMBERS = {"epic": "whose epic or parent is", "label": "carrying the label",
            "milestone": "in the milestone"}


class Scope(BaseModel):
    """`scope` in `leadlens forecast --format json` (docs/forecast.md)."""

    model_config = ConfigDict(frozen=True)

    kind: str  # epic | label | milestone
    name: str  # the epic's key, the label, the milestone's title
    items: int  # work items in the scope (bots' left out unless --include-bots)
    done: int  # of them, done: status category done, or delivered
    remaining: int  # items - done: what the forecast is about
    assumption: str  # ASSUMPTION

    def describe(self) -> str:
        """'epic ABC-1', 'label "checkout"', 'milestone "v1.0"'."""
        return f"epic {self.name}" if self.kind == "epic" else f'{self.kind} "{self.name}"'


def parse_scope(text: str) -> tuple[str, str]:
    """``KIND:NAME`` (``epic:ABC-1``, ``label:checkout``, ``milestone:v1.0``) as (kind, name); an
    epic's key in capitals, as Jira writes keys. A name may hold colons (only the first splits)."""
    kinds = ", ".join(f"{k}:NAME" for k in SCOPE_KINDS)
    if ":" not in text:
        raise UserError(f"--scope {text!r}: KIND:NAME expected ({kinds})")
    kind, name = text.split(":", 1)
    kind = kind.strip().lower()
    if kind not in SCOPE_KINDS:
        raise UserError(f"--scope {text!r}: unknown kind {kind!r} (one of {kinds})")
    if not name.strip():
        raise UserError(f"--scope {text!r}: the {kind}'s name is empty")
    return kind, name.strip().upper() if kind == "epic" else name


def scope_of(backend: ibis.BaseBackend, fl: ItemFlow, kind: str, name: str, *,
             include_bots: bool) -> Scope:
    """The scope's counts over the item timeline ``fl``; a scope without any work item is bad
    input (its message says which, and where to look)."""
    t = scope_items(backend, fl, kind, name, include_bots=include_bots)
    got = one(backend, t.aggregate(items=t.count(), done=t.count(where=t.done)))
    items, done = int(got.get("items") or 0), int(got.get("done") or 0)
    if not items:
        bots = "" if include_bots else " (bots' items are left out unless --include-bots)"
        raise UserError(f"--scope {kind}:{name}: no work item {_MEMBERS[kind]} {name!r}{bots};"
                        " `leadlens items` lists the store's work items")
    return Scope(kind=kind, name=name, items=items, done=done, remaining=items - done,
                 assumption=ASSUMPTION)

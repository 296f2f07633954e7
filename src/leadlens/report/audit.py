"""`leadlens audit` rendered: the terminal table and the HTML page (the audit's JSON document in,
docs/audit.md; the report layer reads the document, not the policy package)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from leadlens import __version__
from leadlens.report.format import count, pct
from leadlens.report.text import safe_text

__all__ = ["audit_table", "render_audit_html", "signed_points"]


def signed_points(x: float | None) -> str:
    """A difference of two rates, in percentage points: +40.0 pp."""
    return "-" if x is None else f"{x * 100:+.1f} pp"


def _outcome(o: dict[str, Any]) -> str:
    if o["difference"] is None:
        rates = (f"{pct(o['rate_violating'])} vs {pct(o['rate_compliant'])}; "
                 if o["rate_violating"] is not None or o["rate_compliant"] is not None else "")
        return f"{rates}{o['reason']}"
    return (f"{pct(o['rate_violating'])} violating vs {pct(o['rate_compliant'])} compliant:"
            f" {signed_points(o['difference'])} [{signed_points(o['ci_low'])},"
            f" {signed_points(o['ci_high'])}]")


def audit_table(doc: dict[str, Any]) -> str:
    """The summary as plain text: one block per rule."""
    lines = [f"leadlens audit: {count(doc['changes'])} changes, {count(doc['failures'])} rule"
             f" failures (policy: {safe_text(doc['policy'] or '-')})"]
    lines += [f"note: {n}" for n in doc["notes"]]
    for r in doc["rules"]:
        lines.append("")
        lines.append(f"{safe_text(r['rule'])} ({r['kind']}): compliance {pct(r['compliance'])}"
                     f"; pass {count(r['passed'])}, fail {count(r['failed'])}, unknown"
                     f" {count(r['unknown'])}, not applicable {count(r['not_applicable'])}")
        if r["months"]:
            lines.append("  month    compliance  pass  fail  unknown")
            lines += [f"  {m['month']}  {pct(m['compliance']):>10}  {m['passed']:>4}  {m['failed']:>4}"
                      f"  {m['unknown']:>7}" for m in r["months"]]
        for o in r["outcomes"]:
            lines.append(f"  {o['outcome']}: {_outcome(o)}")
    return "\n".join(lines) + "\n"


def render_audit_html(doc: dict[str, Any], generated_at: datetime) -> str:
    """The audit as a page of its own (base.html.j2); every text from the store is escaped."""
    from leadlens.report.html import environment

    return environment().get_template("audit.html.j2").render(
        a=doc, version=__version__, generated_at=generated_at, plotly_js="",
        outcome=_outcome, points=signed_points)

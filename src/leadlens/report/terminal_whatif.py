"""The report's what-if section on a terminal: the stages with the largest shares and the most
speeding each up could buy, then the AI scenario's simulation headline or why there is none."""

from __future__ import annotations

from rich.console import Console
from rich.text import Text

from leadlens.analysis.whatif_section import WhatIfSection
from leadlens.report.format import pct
from leadlens.report.text import safe_text

__all__ = ["TOP_STAGES", "render_whatif"]

TOP_STAGES = 3


def render_whatif(w: WhatIfSection, console: Console) -> None:
    what = "spec → production" if w.basis == "item" else "lead time"
    console.print(f"\nWhat if (Amdahl's law on the shares of {what}; `leadlens whatif`):",
                  highlight=False, markup=False)
    if w.amdahl:
        parts = [f"{s.stage} {pct(s.share)} (ceiling "
                 + ("unbounded" if s.ceiling is None else f"{s.ceiling:.2f}x") + ")"
                 for s in w.amdahl[:TOP_STAGES]]
        console.print(Text.assemble(("Largest stages: ", "bold"), safe_text("; ".join(parts)
                                                                            + ".")),
                      highlight=False)
    else:
        console.print("No stage has a measured share in this scope.", highlight=False,
                      markup=False)
    sim = w.simulation
    if sim is None:
        console.print(Text.assemble((f"{w.scenario}: ", "bold"),
                                    safe_text(f"not simulated: {w.simulation_reason}.")),
                      highlight=False)
        return
    console.print(Text.assemble((f"{w.scenario}: ", "bold"), safe_text(sim.headline)),
                  highlight=False)
    b, p = sim.baseline.bottleneck, sim.predicted.bottleneck
    shift = ("unknown" if b is None or p is None else
             f"{b}, and stays {p}" if b == p else f"{b} → {p}")
    console.print(safe_text(f"Bottleneck (largest share of simulated lead time): {shift}."),
                  highlight=False, markup=False)

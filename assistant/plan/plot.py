"""PNG chart of a launch plan: risk-adjusted margin per candidate, launched vs skipped (matplotlib, Agg)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from assistant.errors import DataValidationError
from assistant.plotting import new_figure, png_bytes, safe_text


def plot_plan(plan: Mapping[str, Any], *, max_products: int = 30, dpi: int = 100) -> bytes:
    """Horizontal bars of each candidate's risk-adjusted margin (the ``max_products`` largest by absolute
    margin), green when the plan launches it, grey when it skips it; returns PNG bytes."""
    rows = [*plan.get("selected", []), *plan.get("excluded", [])]
    if not rows:
        raise DataValidationError("Nothing to plot: the plan has no candidates.")
    rows = sorted(rows, key=lambda r: -abs(float(r["margin"])))[:max_products]
    rows.sort(key=lambda r: float(r["margin"]))
    labels = [safe_text(f"{r['product_id']} {str(r.get('title') or '')[:28]}".strip()) for r in rows]
    margins = [float(r["margin"]) for r in rows]
    colours = ["#2ca02c" if r.get("decision") == "launch" else "#b0b0b0" for r in rows]
    fig = new_figure(figsize=(8, 0.9 + 0.28 * len(rows)), dpi=dpi)
    ax = fig.subplots()
    ax.barh(range(len(rows)), margins, color=colours)
    ax.set_yticks(range(len(rows)), labels, fontsize=7)
    ax.axvline(0, color="#333333", lw=0.8)
    ax.set_xlabel(f"risk-adjusted expected margin (risk {float(plan.get('risk', 0)):g})")
    ax.set_title(f"Launch {plan.get('n_selected', 0)} of {plan.get('n_candidates', len(rows))} "
                 f"(green = launch, grey = skip)", fontsize=10, loc="left")
    ax.grid(axis="x", alpha=0.3)
    return png_bytes(fig)

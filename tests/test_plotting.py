"""Charts drawn from user data: names with "$" (matplotlib maths), control characters or characters the font
lacks still give a PNG, without warnings."""

from __future__ import annotations

import warnings

import pandas as pd

from assistant.forecast.plot import plot_curve, plot_forecast
from assistant.plan.plot import plot_plan
from assistant.plotting import safe_text

PNG = b"\x89PNG\r\n\x1a\n"
AWKWARD = ["A$\\frac{$", "x\x10y", "$5 off $10", "连衣裙"]


def test_safe_text_escapes_maths_and_drops_control_characters() -> None:
    assert safe_text("$5 off $10") == r"\$5 off \$10"
    assert safe_text("a\x10b\tc") == "a b c"
    assert safe_text(42) == "42"


def test_plan_chart_with_awkward_names() -> None:
    rows = [{"product_id": f"P{i}", "title": t, "margin": float(i + 1), "decision": "launch" if i % 2 else "skip"}
            for i, t in enumerate(AWKWARD)]
    plan = {"selected": rows[1::2], "excluded": rows[::2], "n_selected": 2, "n_candidates": 4, "risk": 0.5}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert plot_plan(plan)[:8] == PNG


def test_forecast_charts_with_awkward_names() -> None:
    ds = pd.date_range("2024-01-07", periods=6, freq="W")
    history = pd.concat([pd.DataFrame({"unique_id": u, "ds": ds[:4], "y": [1.0, 2, 3, 4]}) for u in AWKWARD])
    forecast = pd.concat([pd.DataFrame({"unique_id": u, "ds": ds[4:], "yhat": [4.0, 5], "yhat_lo_80": [3.0, 4],
                                        "yhat_hi_80": [5.0, 6], "model": "Naive$"}) for u in AWKWARD])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert plot_forecast(history, forecast, max_series=4, title="SKU $a$ \x07")[:8] == PNG
        assert plot_curve([1, 2], [3.0, 4.0], [2.0, 3.0], [4.0, 5.0], title="$\\frac{$ 连衣裙")[:8] == PNG

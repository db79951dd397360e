"""What the PNG charts share (assistant.forecast.plot, assistant.plan.plot): an off-screen matplotlib figure,
labels that are safe to draw from user data, and the PNG bytes."""

from __future__ import annotations

import io
import warnings
from typing import Any


def new_figure(**kwargs: Any) -> Any:
    """A matplotlib Figure on the Agg backend (no display needed); ``kwargs`` go to Figure."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure

    return Figure(**kwargs)


def safe_text(value: object) -> str:
    """``value`` as a label: control characters become spaces and "$" is escaped (matplotlib reads text
    between two "$" as maths, and malformed maths fails the whole chart)."""
    return "".join(ch if ch.isprintable() else " " for ch in str(value)).replace("$", r"\$")


def png_bytes(fig: Any) -> bytes:
    """Lay out and render ``fig`` as PNG. Characters the font lacks (e.g. CJK product names) are drawn as
    boxes without a warning per character."""
    buf = io.BytesIO()
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r"Glyph \d+ .*missing from font", category=UserWarning)
        fig.tight_layout()
        fig.savefig(buf, format="png")
    return buf.getvalue()

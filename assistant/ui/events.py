"""What a tab shows after one of its actions fails.

A handler refuses bad input by raising ``gr.Error`` (its toast says why). Left there, Gradio puts a red
"Error" badge over every output and keeps the earlier result underneath, as if it answered the new request.
``after_failure`` chains a step that writes a one-line note in the tab's status, empties the outputs that held
a result, and re-sends the others unchanged (the user's own inputs: nothing typed is lost); every output is
updated, which also takes the badges off."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import gradio as gr


def failure_values(note: str, n_clear: int, n_keep: int) -> tuple[Any, ...]:
    """The note, ``None`` for each output to empty, a no-change update for each to keep."""
    return (note, *([None] * n_clear), *(gr.update() for _ in range(n_keep)))


def after_failure(event: Any, status: Any, note: str, *, clear: Sequence[Any] = (), keep: Sequence[Any] = ()) -> Any:
    """Chain the failure step to ``event`` (a Gradio event dependency); returns the chained dependency."""
    n_clear, n_keep = len(clear), len(keep)
    return event.failure(lambda: failure_values(note, n_clear, n_keep), None, [status, *clear, *keep], queue=False)

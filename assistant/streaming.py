"""Hand a model-driven stream over from one worker thread.

A llama.cpp stream holds the model's lock from its first token to its last, so it must start and end on the
same thread. Servers do not promise that: Starlette and Gradio resume a sync generator on whichever pool
thread is free, and a generator whose client left (a closed SSE connection, the chat's Stop button) is closed
later by the garbage collector, on yet another thread, with the lock still held; every later model call then
waits for ever. :func:`in_own_thread` runs the whole stream on one thread of its own instead."""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")
_END = object()


def in_own_thread(items: Iterable[T], cancel: threading.Event, *, name: str = "assistant-stream") -> Iterator[T]:
    """Iterate ``items`` on a worker thread and yield them as they come (its exceptions are raised here).
    Closing this iterator early sets ``cancel``: the worker's stream stops at its next check (the model
    checks at every token) and finishes on the worker, releasing what it holds."""
    handed: queue.Queue[tuple[bool, object]] = queue.Queue()

    def pump() -> None:
        try:
            for item in items:
                handed.put((True, item))
        except BaseException as exc:  # noqa: BLE001 - re-raised in the consumer's thread
            handed.put((False, exc))
        else:
            handed.put((False, _END))

    threading.Thread(target=pump, name=name, daemon=True).start()
    finished = False
    try:
        while True:
            ok, item = handed.get()
            if ok:
                yield item  # type: ignore[misc]
            elif item is _END:
                finished = True
                return
            else:
                finished = True
                raise item  # type: ignore[misc]
    finally:
        if not finished:  # the consumer left: stop the stream; the worker ends it on its own thread
            cancel.set()

"""A model stream resumed on different threads, or left by its consumer, still starts and ends on one thread
and releases the model's lock (an abandoned /v1/ask stream used to leave llama.cpp's lock held for good)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from assistant.errors import AssistantError
from assistant.streaming import in_own_thread


def _locked_stream(lock: threading.RLock, cancel: threading.Event, n: int = 50) -> Iterator[int]:
    """Like a llama.cpp stream: holds an owner-checked lock from the first token to the last."""
    with lock:
        for i in range(n):
            if cancel.is_set():
                return
            time.sleep(0.002)
            yield i


def test_resumed_on_other_threads_the_stream_ends_on_its_own() -> None:
    lock, cancel = threading.RLock(), threading.Event()
    it = in_own_thread(_locked_stream(lock, cancel, 5), cancel)
    got = []
    for _ in range(6):  # every next() on a fresh thread, as a server's pool may do
        with ThreadPoolExecutor(1) as pool:
            got.append(pool.submit(next, it, None).result())
    assert got == [0, 1, 2, 3, 4, None] and not cancel.is_set()
    assert lock.acquire(timeout=2)  # released by the thread that took it
    lock.release()


def test_a_consumer_that_leaves_stops_the_stream_and_frees_the_lock() -> None:
    lock, cancel = threading.RLock(), threading.Event()
    it = in_own_thread(_locked_stream(lock, cancel), cancel)
    assert next(it) == 0
    it.close()  # the client went away after the first token
    assert cancel.is_set()
    assert lock.acquire(timeout=2), "the model lock is still held"
    lock.release()


def test_errors_reach_the_consumer() -> None:
    def failing() -> Iterator[int]:
        yield 1
        raise AssistantError("the model failed")

    it = in_own_thread(failing(), threading.Event())
    assert next(it) == 1
    with pytest.raises(AssistantError, match="the model failed"):
        next(it)


def test_the_service_stream_runs_the_agent_on_one_thread(tmp_path: object) -> None:
    from pathlib import Path

    from fakes import ScriptedLLM
    from fixtures.frontends.store import make_service

    threads: list[str] = []

    def answer(messages: object, tools: object, schema: object) -> str:
        threads.append(threading.current_thread().name)
        return "Buyers say it runs small [W2]."

    svc = make_service(Path(str(tmp_path)), ScriptedLLM([answer], repeat_last=True))
    events = list(svc.ask_stream("Does the linen dress run small?"))
    assert events[-1]["type"] == "final" and threads and set(threads) == {"assistant-ask"}

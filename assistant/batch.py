"""Batch copy generation: run one copy-drafting function over many products, append one JSON line per
product to an output file (flushed per item, so Ctrl-C loses at most the items in flight), skip
products already done on a rerun, and record per-item failures instead of aborting.

Also holds ``JobManager``: the same runner in a background thread with progress, cancel and results,
used by the HTTP API (``/v1/copy/batch``) and the UI's Batch tab."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from assistant.errors import AssistantError

# (product dict) -> result dict of the copy generator (variants, flags, ...)
CopyFn = Callable[[dict[str, Any]], dict[str, Any]]
ProgressFn = Callable[["BatchProgress"], None]


@dataclass
class BatchProgress:
    """Counts of a running batch. ``total`` counts every input product, ``skipped`` those already done."""

    total: int = 0
    skipped: int = 0
    done: int = 0
    flagged: int = 0
    failed: int = 0
    cancelled: int = 0  # products a cancelled job never started
    started: float = field(default_factory=time.time)
    ended: float | None = None  # when the batch stopped (done, cancelled or failed)

    @property
    def finished(self) -> int:
        return self.skipped + self.done + self.failed

    @property
    def elapsed_s(self) -> float:
        """Seconds from start to end (to now while it runs)."""
        return round((self.ended or time.time()) - self.started, 3)

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["elapsed_s"] = self.elapsed_s
        return out


def product_id_of(product: dict[str, Any]) -> str:
    pid = str(product.get("product_id") or "").strip()
    if not pid:
        raise AssistantError("Every product of a batch needs a non-empty 'product_id'.")
    return pid


def is_flagged(result: dict[str, Any]) -> bool:
    """True when the spec guard flagged any variant of a copy result."""
    if result.get("flagged"):
        return True
    for key in ("flags", "violations", "spec_flags"):
        if result.get(key):
            return True
    for var in result.get("variants") or []:
        if isinstance(var, dict) and any(var.get(k) for k in ("flags", "violations", "spec_flags", "flagged")):
            return True
    return False


def read_results(path: Path) -> dict[str, dict[str, Any]]:
    """Records of a batch output file, last record per product id wins. Torn last lines are ignored."""
    out: dict[str, dict[str, Any]] = {}
    if not path.is_file():
        return out
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            line = line.strip()
            if not line:
                continue
            try:
                rec = json.loads(line)
            except json.JSONDecodeError:
                continue  # a line cut short by a kill: the product is redone
            if isinstance(rec, dict) and rec.get("product_id"):
                out[str(rec["product_id"])] = rec
    return out


def done_ids(path: Path) -> set[str]:
    """Product ids whose last record in ``path`` succeeded (failed ones are retried on a rerun)."""
    return {pid for pid, rec in read_results(path).items() if rec.get("status") != "failed"}


def _record(product: dict[str, Any], result: dict[str, Any] | None, error: str | None,
            seconds: float) -> dict[str, Any]:
    pid = product_id_of(product)
    if error is not None:
        return {"product_id": pid, "status": "failed", "error": error, "seconds": round(seconds, 3)}
    assert result is not None
    status = "flagged" if is_flagged(result) else "ok"
    return {"product_id": pid, "status": status, "seconds": round(seconds, 3), **{
        k: v for k, v in result.items() if k not in ("product_id", "status")}}


def _call(fn: CopyFn, product: dict[str, Any]) -> dict[str, Any]:
    t0 = time.perf_counter()
    try:
        result = fn(product)
        return _record(product, result, None, time.perf_counter() - t0)
    except Exception as exc:  # noqa: BLE001 - a failed item is recorded, the batch goes on
        msg = str(exc) if isinstance(exc, AssistantError) else f"{type(exc).__name__}: {exc}"
        return _record(product, None, msg or type(exc).__name__, time.perf_counter() - t0)


def iter_batch(products: Iterable[dict[str, Any]], fn: CopyFn, *, concurrency: int = 1,
               skip: set[str] | None = None, cancel: threading.Event | None = None,
               progress: BatchProgress | None = None) -> Iterator[dict[str, Any]]:
    """Yield one record per product (in completion order), running up to ``concurrency`` at once."""
    prog = progress or BatchProgress()
    skip = skip or set()
    todo: list[dict[str, Any]] = []
    seen: set[str] = set()
    for product in products:
        pid = product_id_of(product)
        prog.total += 1
        if pid in skip or pid in seen:
            prog.skipped += 1
            continue
        seen.add(pid)
        todo.append(product)
    pool = ThreadPoolExecutor(max_workers=max(1, concurrency), thread_name_prefix="copy-batch")
    pending: set[Future[dict[str, Any]]] = set()
    it = iter(todo)
    try:
        while True:
            while len(pending) < max(1, concurrency) and not (cancel and cancel.is_set()):
                nxt = next(it, None)
                if nxt is None:
                    break
                pending.add(pool.submit(_call, fn, nxt))
            if not pending:
                return
            finished, pending = wait(pending, return_when=FIRST_COMPLETED)
            for fut in finished:
                rec = fut.result()
                if rec["status"] == "failed":
                    prog.failed += 1
                else:
                    prog.done += 1
                    prog.flagged += rec["status"] == "flagged"
                yield rec
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def run_batch(products: Iterable[dict[str, Any]], fn: CopyFn, out: Path, *, concurrency: int = 1,
              cancel: threading.Event | None = None, on_progress: ProgressFn | None = None,
              progress: BatchProgress | None = None) -> BatchProgress:
    """Append a record per product to ``out`` (JSONL), skipping products already done there."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    prog = progress or BatchProgress()
    skip = done_ids(out)
    with out.open("a", encoding="utf-8") as fh:
        if fh.tell() > 0:
            _ensure_newline(out, fh)
        for rec in iter_batch(products, fn, concurrency=concurrency, skip=skip, cancel=cancel, progress=prog):
            fh.write(json.dumps(rec, ensure_ascii=False, default=str) + "\n")
            fh.flush()
            if on_progress:
                on_progress(prog)
    if on_progress:
        on_progress(prog)
    return prog


def _ensure_newline(path: Path, fh: Any) -> None:
    """A previous run killed mid-write may have left a torn last line: start on a fresh one."""
    with path.open("rb") as rb:
        rb.seek(-1, 2)
        if rb.read(1) != b"\n":
            fh.write("\n")
            fh.flush()


# ---------------------------------------------------------------- background jobs (API / UI)
JobStatus = Literal["queued", "running", "cancelling", "done", "cancelled", "failed"]


@dataclass
class Job:
    id: str
    progress: BatchProgress
    status: JobStatus = "queued"
    error: str | None = None
    results: list[dict[str, Any]] = field(default_factory=list)
    cancel: threading.Event = field(default_factory=threading.Event)
    created: float = field(default_factory=time.time)
    thread: threading.Thread | None = None
    products: list[dict[str, Any]] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        p = self.progress
        return {"id": self.id, "status": self.status, "error": self.error, "total": p.total,
                "done": p.done, "flagged": p.flagged, "failed": p.failed, "skipped": p.skipped,
                "cancelled": p.cancelled, "elapsed_s": p.elapsed_s}


class JobManager:
    """Runs batches in background threads; keeps the last ``keep`` jobs in memory."""

    def __init__(self, keep: int = 50) -> None:
        self._jobs: dict[str, Job] = {}
        self._lock = threading.Lock()
        self.keep = keep

    def start(self, products: list[dict[str, Any]], fn: CopyFn, *, concurrency: int = 1) -> Job:
        for p in products:
            product_id_of(p)  # reject bad input before the job exists
        job = Job(id=uuid.uuid4().hex[:16], progress=BatchProgress(total=0), products=products)

        def work() -> None:
            with self._lock:
                if job.status != "queued":  # cancelled before it started
                    return
                job.status = "running"
            job.progress.started = time.time()
            status: JobStatus = "done"
            try:
                for rec in iter_batch(products, fn, concurrency=concurrency, cancel=job.cancel,
                                      progress=job.progress):
                    job.results.append(rec)
                if job.cancel.is_set():
                    status = "cancelled"
                    self._record_cancelled(job)
            except Exception as exc:  # noqa: BLE001 - reported through the job status
                status, job.error = "failed", f"{type(exc).__name__}: {exc}"
            with self._lock:
                job.progress.ended = time.time()
                job.status = status

        job.thread = threading.Thread(target=work, name=f"job-{job.id}", daemon=True)
        with self._lock:
            self._jobs[job.id] = job
            self._prune()
        job.thread.start()
        return job

    def get(self, job_id: str) -> Job:
        with self._lock:
            job = self._jobs.get(job_id)
        if job is None:
            raise KeyError(job_id)
        return job

    def cancel(self, job_id: str) -> Job:
        """Stop a job: no further product is started; one being written finishes first ("cancelling")."""
        job = self.get(job_id)
        with self._lock:
            job.cancel.set()
            if job.status == "queued":
                job.status = "cancelled"
                job.progress.ended = time.time()
                job.progress.total = len(job.products)
                self._record_cancelled(job)
            elif job.status == "running":
                job.status = "cancelling"
        return job

    @staticmethod
    def _record_cancelled(job: Job) -> None:
        """A ``cancelled`` record for every product the job never started (one record per product)."""
        seen = {str(r.get("product_id")) for r in job.results}
        for product in job.products:
            pid = product_id_of(product)
            if pid not in seen:
                seen.add(pid)
                job.results.append({"product_id": pid, "status": "cancelled"})
                job.progress.cancelled += 1

    def _prune(self) -> None:
        if len(self._jobs) <= self.keep:
            return
        finished = [j for j in self._jobs.values() if j.status in ("done", "cancelled", "failed")]
        for job in sorted(finished, key=lambda j: j.created)[: len(self._jobs) - self.keep]:
            self._jobs.pop(job.id, None)

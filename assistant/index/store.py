"""On-disk layout of an index and its atomic writes.

    <index>/CURRENT          name of the live version folder (replaced atomically with os.replace)
    <index>/v-000007/        manifest.json, chunks.parquet, vectors.faiss, tombstones.npy, bm25/
    <index>/.lock            writers hold an exclusive flock

Every build or incremental update writes a complete new version into ``<index>/.tmp-<random>``,
renames it to ``v-<n>`` and only then points CURRENT at it. A crash before that last step leaves the
previous version live and loadable; leftovers are swept on the next successful write.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from assistant.errors import IndexNotFoundError

FORMAT_VERSION = 1
MANIFEST = "manifest.json"
CHUNKS = "chunks.parquet"
VECTORS = "vectors.faiss"
TOMBSTONES = "tombstones.npy"
BM25_DIR = "bm25"


def current_version(root: Path) -> Path | None:
    """The live version folder of the index at ``root`` (None when none was committed)."""
    try:
        name = (root / "CURRENT").read_text(encoding="utf-8").strip()
    except (FileNotFoundError, NotADirectoryError):
        return None
    path = root / name
    return path if name and (path / MANIFEST).is_file() else None


def indexed_counts(root: Path) -> dict[str, int] | None:
    """Products and reviews in the live index at ``root`` (from its chunk table; None when there is none),
    to compare with ``Catalog.counts()``."""
    folder = current_version(root)
    if folder is None:
        return None
    meta = pd.read_parquet(folder / CHUNKS, columns=["kind", "review_id"])
    return {"products": int((meta["kind"] == "product").sum()),
            "reviews": int(meta.loc[meta["kind"] == "review", "review_id"].nunique())}


def require_version(root: Path) -> Path:
    version = current_version(root)
    if version is None:
        raise IndexNotFoundError(
            f"No index at {root}. Build one with `assistant index build` (or `assistant demo setup` for the demo)."
        )
    return version


@contextlib.contextmanager
def write_lock(root: Path) -> Iterator[None]:
    """Exclusive writer lock (one build/update at a time per index folder)."""
    root.mkdir(parents=True, exist_ok=True)
    with open(root / ".lock", "a+") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def commit(root: Path, write: Callable[[Path], None]) -> Path:
    """Write a new version with ``write(tmp_dir)`` and make it live atomically; returns its folder.

    If ``write`` raises (or the process dies) the previous version stays live."""
    root.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=root))
    try:
        write(tmp)
        _fsync_dir(tmp)
        prev = current_version(root)
        n = int(prev.name.split("-")[1]) + 1 if prev is not None else 1
        while (root / f"v-{n:06d}").exists():
            n += 1
        final = root / f"v-{n:06d}"
        os.rename(tmp, final)
        pointer = root / f".CURRENT.{os.getpid()}"
        pointer.write_text(final.name + "\n", encoding="utf-8")
        with open(pointer, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(pointer, root / "CURRENT")
        _fsync_dir(root)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    _sweep(root, keep=final.name)
    return final


def _sweep(root: Path, keep: str) -> None:
    """Remove old versions and abandoned temp folders (we hold the write lock)."""
    for child in root.iterdir():
        if child.name == keep or not child.is_dir():
            continue
        if child.name.startswith(("v-", ".tmp-")):
            shutil.rmtree(child, ignore_errors=True)


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:  # pragma: no cover - platforms without directory fds
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover
        pass
    finally:
        os.close(fd)


def write_manifest(folder: Path, manifest: dict[str, Any]) -> None:
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True), encoding="utf-8")


def read_manifest(folder: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    return data


def write_chunks(folder: Path, meta: pd.DataFrame) -> None:
    meta.to_parquet(folder / CHUNKS, index=False)


def read_chunks(folder: Path) -> pd.DataFrame:
    return pd.read_parquet(folder / CHUNKS)


def write_tombstones(folder: Path, ids: np.ndarray) -> None:
    np.save(folder / TOMBSTONES, np.asarray(ids, dtype=np.int64))


def read_tombstones(folder: Path) -> np.ndarray:
    path = folder / TOMBSTONES
    return np.load(path) if path.is_file() else np.zeros(0, np.int64)

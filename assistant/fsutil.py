"""Atomic folder writes: build the new content in a temporary sibling folder, then swap it in, so a
failed or interrupted save leaves the previous version intact."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def atomic_dir(directory: Path) -> Iterator[Path]:
    """``with atomic_dir(path) as tmp: write files into tmp`` — on success ``tmp`` replaces ``path``
    (the old folder is moved aside first, then removed); on an exception ``path`` is untouched."""
    directory = Path(directory)
    directory.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=directory.parent, prefix=f".{directory.name}-"))
    try:
        yield tmp
        old = directory.with_name(f".{directory.name}-old")
        if directory.exists():
            shutil.rmtree(old, ignore_errors=True)
            os.replace(directory, old)
        os.replace(tmp, directory)
        shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

"""Prompt cache on disk for the embedded llama.cpp backend.

Every agent question starts with the same ~2,300-token system prompt (instructions + tool schemas).
Reading it takes ~45 s on one CPU core, and a new process (each ``assistant ask``, a restarted UI or
API) would pay that again. This cache keeps the model's state (the KV cache) after a long prompt in a
file keyed by the prompt's first message; a later process restores it and only reads what differs.

Policy, per key (model, llama.cpp version, context size, first message):
- the first completion of at least ``min_tokens`` tokens is saved whole;
- when a later prompt with the same key shares only part of the saved tokens, the saved entry is cut
  to the shared part (the stable prefix), so it stops changing once it holds just the system prompt;
- at most ``max_files`` entries are kept, least recently used first out; a file that cannot be read
  is deleted and counts as a miss. Writes go to a temporary file that is then renamed.

The state is the model's own KV cache for those tokens, the same thing llama.cpp reuses within a process
when two prompts share a prefix. Greedy output matches a cold run up to llama.cpp's floating-point
differences between batch splits (a near-tie may round the other way); tests and the bench compare them.
This module only stores token ids and opaque state bytes; :mod:`assistant.llm.llamacpp` moves them in
and out of llama.cpp.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

SUFFIX = ".kvstate.npz"


@dataclass
class SavedState:
    tokens: np.ndarray  # int32 token ids the state is valid for (a prefix of what the blob holds)
    blob: bytes  # llama.cpp state bytes (llama_state_get_data)


def common_prefix(a: np.ndarray, b: np.ndarray) -> int:
    """Length of the longest common prefix of two token arrays."""
    n = min(len(a), len(b))
    if n == 0:
        return 0
    diff = np.flatnonzero(np.asarray(a[:n]) != np.asarray(b[:n]))
    return int(diff[0]) if diff.size else n


class PromptCache:
    """Saved model states in ``directory``, one file per key (see the module docstring)."""

    def __init__(self, directory: str | Path, model_id: str, *, max_files: int = 4, min_tokens: int = 256) -> None:
        self.directory = Path(directory)
        self.model_id = model_id
        self.max_files = max(1, max_files)
        self.min_tokens = min_tokens
        self._tokens: dict[str, np.ndarray] = {}  # key -> saved token ids (read once per process)

    def key(self, first_message: str) -> str:
        digest = hashlib.sha256(f"{self.model_id}\x00{first_message}".encode()).hexdigest()
        return digest[:24]

    def path(self, key: str) -> Path:
        return self.directory / f"{key}{SUFFIX}"

    # ------------------------------------------------------------------ read
    def load(self, key: str) -> SavedState | None:
        """The saved state for ``key``, or None (missing or unreadable: the file is then deleted)."""
        saved = self._read(key, with_state=True)
        if saved is not None:
            with contextlib.suppress(OSError):
                os.utime(self.path(key))  # most recently used
        return saved

    def saved_tokens(self, key: str) -> np.ndarray | None:
        """Token ids saved under ``key`` (without reading the state bytes when already known)."""
        if key in self._tokens and self.path(key).is_file():
            return self._tokens[key]
        saved = self._read(key, with_state=False)
        return None if saved is None else saved.tokens

    def _read(self, key: str, *, with_state: bool) -> SavedState | None:
        path = self.path(key)
        if not path.is_file():
            return None
        try:
            with np.load(path, allow_pickle=False) as data:
                tokens = np.asarray(data["tokens"], dtype=np.int32)
                blob = data["state"].tobytes() if with_state else b""
        except Exception as exc:  # noqa: BLE001 - a truncated or foreign file is just a miss
            log.warning("prompt cache: dropping unreadable %s (%s)", path.name, exc)
            self.discard(key)
            return None
        self._tokens[key] = tokens
        return SavedState(tokens, blob)

    # ------------------------------------------------------------------ write
    def tokens_to_save(self, key: str, tokens: np.ndarray) -> np.ndarray | None:
        """Which tokens a state after ``tokens`` should be saved for, or None when saving adds nothing."""
        if len(tokens) < self.min_tokens:
            return None
        saved = self.saved_tokens(key)
        if saved is None:
            return tokens
        shared = common_prefix(saved, tokens)
        if shared >= len(saved) or shared < self.min_tokens:
            return None  # the saved prefix is still fully reused, or the prompts share too little
        return tokens[:shared]

    def save(self, key: str, tokens: np.ndarray, blob: bytes) -> Path:
        """Write atomically (temp file + rename), then evict beyond ``max_files``."""
        self.directory.mkdir(parents=True, exist_ok=True)
        tokens = np.asarray(tokens, dtype=np.int32)
        fd, tmp = tempfile.mkstemp(dir=self.directory, prefix=".tmp-", suffix=SUFFIX)
        try:
            with os.fdopen(fd, "wb") as fh:
                np.savez(fh, tokens=tokens, state=np.frombuffer(blob, dtype=np.uint8))
            os.replace(tmp, self.path(key))
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
        self._tokens[key] = tokens
        self._evict()
        return self.path(key)

    def discard(self, key: str) -> None:
        self._tokens.pop(key, None)
        with contextlib.suppress(OSError):
            self.path(key).unlink()

    def files(self) -> list[Path]:
        """Saved entries, most recently used first."""
        if not self.directory.is_dir():
            return []
        found = [p for p in self.directory.glob(f"*{SUFFIX}") if not p.name.startswith(".tmp-")]
        return sorted(found, key=lambda p: p.stat().st_mtime, reverse=True)

    def _evict(self) -> None:
        for old in self.files()[self.max_files:]:
            self.discard(old.name[: -len(SUFFIX)])

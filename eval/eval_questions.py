"""Question files of the agent evals: JSON Lines, one question object a line, checked for the keys a script
needs (errors name the file and line)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any


def load_questions(path: Path, required: Sequence[str]) -> list[dict[str, Any]]:
    """The question objects in ``path``; blank lines are skipped. Exits with "FILE, line N: ..." on a line
    that is not JSON or lacks one of ``required``."""
    rows = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            q = json.loads(line)
        except ValueError as exc:
            raise SystemExit(f"{path}, line {n}: not valid JSON ({exc})") from exc
        missing = [k for k in required if k not in q]
        if missing:
            raise SystemExit(f"{path}, line {n}: missing key(s) {missing}")
        rows.append(q)
    return rows

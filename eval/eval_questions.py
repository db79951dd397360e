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


if __name__ == "__main__":
    import argparse

    argparse.ArgumentParser(description=__doc__, epilog="Not an eval itself: a helper module of eval/tool_calls.py "
                            "and eval/agent_answers.py. Run directly, it prints how many questions each "
                            "eval/data/*.jsonl file holds.").parse_args()
    data = Path(__file__).resolve().parent / "data"
    counts = ", ".join(f"{f.name} {len(load_questions(f, ()))}" for f in sorted(data.glob("*.jsonl")))
    print("eval/eval_questions.py is a helper module: it reads the question files of eval/tool_calls.py and "
          f"eval/agent_answers.py, so run one of those. Questions in eval/data: {counts}.")

"""The README's quickstart runs as written (on the real packaged embedding model)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
README = (REPO / "README.md").read_text(encoding="utf-8")


def _quickstart() -> str:
    section = README.split("## Quickstart", 1)[1]
    match = re.search(r"```python\n(.*?)```", section, re.S)
    assert match, "README has no ```python block under '## Quickstart'"
    return match.group(1)


def test_readme_names_the_two_commands() -> None:
    assert "make demo" in README and "make test" in README


def test_quickstart_is_short() -> None:
    assert len([line for line in _quickstart().splitlines() if line.strip()]) <= 16


@pytest.mark.slow
def test_quickstart_runs_as_written(tmp_path: Path) -> None:
    env = {**os.environ, "ASSISTANT_HOME": str(tmp_path)}
    proc = subprocess.run([sys.executable, "-c", _quickstart()], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=1200)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = proc.stdout
    assert "'reviews': 10973" in out  # load_demo counts
    assert re.search(r"^W\d+ C\d+ \d\.\d{3} ", out, re.M), out  # review hits with ids
    assert "yhat_lo_80" in out
    assert (tmp_path / "index" / "default").is_dir()

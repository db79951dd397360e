"""Test-wide setup: every test gets its own ASSISTANT_HOME (never the repo's store or index) and
runs offline."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
os.environ.setdefault("MPLBACKEND", "Agg")

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def isolated_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Point ASSISTANT_HOME at a fresh temp dir and reset cached settings around each test.

    Model files assembled from the PyPI part packages are shared across tests through
    ASSISTANT_MODEL_DIR (assembling the 1.5B model takes a while) unless a test overrides it.
    """
    from assistant.config import get_settings

    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("ASSISTANT_HOME", str(home))
    monkeypatch.setenv("ASSISTANT_MODEL_DIR", str(_shared_model_dir()))
    for var in ("ASSISTANT_STORE_DIR", "ASSISTANT_INDEX_DIR", "ASSISTANT_LLM_BACKEND", "ASSISTANT_LLM_MODEL",
                "ASSISTANT_API_TOKENS"):
        monkeypatch.delenv(var, raising=False)
    get_settings.cache_clear()
    yield home
    get_settings.cache_clear()


def _shared_model_dir() -> Path:
    base = Path(os.environ.get("ASSISTANT_TEST_MODEL_DIR", Path.home() / ".cache" / "merch-assistant" / "models"))
    base.mkdir(parents=True, exist_ok=True)
    return base

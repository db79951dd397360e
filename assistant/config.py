"""One typed settings object. Every field can be overridden by an ``ASSISTANT_*`` environment variable
(e.g. ``ASSISTANT_HOME``, ``ASSISTANT_LLM_BACKEND``) or by a ``.env``-style ``assistant.env`` file in the
home folder. Tests point ``ASSISTANT_HOME`` at a temporary directory."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

PACKAGE_DIR = Path(__file__).resolve().parent
REPO_DIR = PACKAGE_DIR.parent
PROMPTS_DIR_DEFAULT = REPO_DIR / "prompts" if (REPO_DIR / "prompts").is_dir() else PACKAGE_DIR / "prompts"


def _default_home() -> Path:
    """A source checkout keeps its state next to the code (``index/`` is a required top-level folder);
    an installed package keeps it in the user's data folder."""
    if (REPO_DIR / "pyproject.toml").is_file() and (REPO_DIR / "index").is_dir():
        return REPO_DIR
    return Path(os.environ.get("XDG_DATA_HOME", Path.home() / ".local" / "share")) / "merch-assistant"


class Settings(BaseSettings):
    """Settings of the assistant. Paths default to folders under ``home``."""

    model_config = SettingsConfigDict(env_prefix="ASSISTANT_", extra="ignore")

    home: Path = Field(default_factory=_default_home, description="Root folder for the store, indexes, models.")
    store_dir: Path | None = Field(default=None, description="Ingested catalog (SQLite). Default: {home}/store")
    index_dir: Path | None = Field(default=None, description="Built indexes. Default: {home}/index")
    model_dir: Path | None = Field(default=None, description="Assembled model files. Default: {home}/models")
    prompts_dir: Path = Field(default=PROMPTS_DIR_DEFAULT, description="Jinja2 prompt templates.")
    index_name: str = Field(default="default", description="Which index under index_dir to use.")

    # embeddings / index
    embedding_model: str = Field(default="all-MiniLM-L6-v2", description="Packaged sentence-transformers model.")
    embedding_batch_size: int = 64
    embedding_dtype: Literal["auto", "float32", "bfloat16"] = "auto"
    index_type: Literal["auto", "flat", "hnsw", "ivfpq"] = "auto"
    faiss_threads: int = 1
    sentiment_device: str = Field(default="cpu", description="Where a fine-tuned encoder or distilled sentiment "
                                  "model predicts: cpu, auto (a CUDA GPU when torch sees one) or cuda[:N].")

    # LLM
    llm_backend: Literal["llamacpp", "transformers", "openai"] = "llamacpp"
    llm_model: str = Field(default="qwen2.5-coder-1.5b", description="Model key (see `assistant models`).")
    llm_fast_model: str = "qwen2.5-coder-0.5b"
    llm_threads: int = Field(default=1, description="CPU threads llama.cpp generates with (1 is safe on a busy "
                             "2-core box: 2 collapsed to 0.3 tokens/s beside another busy process).")
    llm_batch_threads: int = Field(default_factory=lambda: min(2, os.cpu_count() or 1),
                                   description="CPU threads llama.cpp reads prompts with (prefill): on 2 cores, 2 "
                                   "read ~1.9x faster when idle and no slower when busy (bench/llm_bench.py).")
    llm_context: int = 4096
    llm_max_tokens: int = 512
    llm_temperature: float = 0.0
    llm_seed: int = 0
    llm_warm_up: bool = Field(default=True, description="UI and API servers load the model and read the agent's "
                              "tool prompt in the background at start.")
    agent_revise: int = Field(default=1, ge=0, le=3, description="Times the assistant may rewrite an answer whose "
                              "numbers do not match its tool results (0: only flag them).")
    llm_prompt_cache: bool = Field(default=True, description="Save the model state after long prompts under "
                                   "{home}/cache/llm so later processes skip re-reading them (llama.cpp backend).")
    openai_base_url: str = "http://127.0.0.1:8080/v1"
    openai_api_key: str = "not-needed"
    openai_model: str = "local"
    hf_model_path: str | None = Field(default=None, description="HF model dir or GGUF for the transformers backend.")

    # HTTP API
    api_tokens: list[str] = Field(default_factory=list, description="Bearer tokens; empty = localhost only.")
    api_rate_limit_per_minute: int = 120
    api_max_body_bytes: int = 10_000_000

    @property
    def store_path(self) -> Path:
        return Path(self.store_dir or self.home / "store")

    @property
    def index_path(self) -> Path:
        return Path(self.index_dir or self.home / "index")

    @property
    def model_path(self) -> Path:
        return Path(self.model_dir or self.home / "models")

    @property
    def llm_cache_path(self) -> Path:
        return self.home / "cache" / "llm"

    def current_index(self) -> Path:
        return self.index_path / self.index_name


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Process-wide settings (read once). Call ``get_settings.cache_clear()`` after changing env vars. A bad
    ``ASSISTANT_*`` value is a ConfigError naming the variable and what it takes."""
    from pydantic import ValidationError

    from assistant.errors import ConfigError

    try:
        return Settings()
    except ValidationError as exc:
        prefix = Settings.model_config.get("env_prefix", "")
        problems = "; ".join(f"{prefix}{'_'.join(map(str, e['loc'])).upper()}={e.get('input')!r}: {e['msg']}"
                             for e in exc.errors())
        raise ConfigError(f"Bad setting(s): {problems}. Fix or unset the environment variable(s).") from exc

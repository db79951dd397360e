"""Prompt templates live as files in ``prompts/`` and are rendered with Jinja2 ``StrictUndefined``:
a missing variable is an error, never an empty string."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2

from assistant.config import get_settings
from assistant.errors import ConfigError


@lru_cache(maxsize=8)
def _env(prompts_dir: str) -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(prompts_dir),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=False,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,
    )


def template_names(prompts_dir: Path | None = None) -> list[str]:
    """All template files (``*.j2``) in the prompts folder."""
    folder = Path(prompts_dir or get_settings().prompts_dir)
    return sorted(p.name for p in folder.glob("*.j2"))


def render(name: str, prompts_dir: Path | None = None, **variables: Any) -> str:
    """Render ``prompts/<name>`` (``.j2`` added if missing) with the given variables."""
    folder = Path(prompts_dir or get_settings().prompts_dir)
    fname = name if name.endswith(".j2") else f"{name}.j2"
    try:
        return _env(str(folder)).get_template(fname).render(**variables).strip()
    except jinja2.TemplateNotFound as exc:
        raise ConfigError(f"Prompt template {fname!r} not found in {folder}.") from exc
    except jinja2.UndefinedError as exc:
        raise ConfigError(f"Prompt template {fname!r} needs a variable that was not given: {exc}") from exc

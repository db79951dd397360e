"""Environment defaults for offline CPU runs (the eval/ and bench/ scripts call this before heavy imports):
no model-hub access, and quiet thread pools (transformers' speed swung 20x on a busy 2-core box without
``OMP_WAIT_POLICY=PASSIVE TOKENIZERS_PARALLELISM=false``, see notes/measurements.md). Values already set win."""

from __future__ import annotations

import os

OFFLINE_ENV = {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false",
               "OMP_WAIT_POLICY": "PASSIVE"}


def use_offline_defaults(**extra: str) -> None:
    """``os.environ.setdefault`` for OFFLINE_ENV and ``extra`` (e.g. ``OMP_NUM_THREADS="1"``)."""
    for key, value in {**OFFLINE_ENV, **extra}.items():
        os.environ.setdefault(key, value)

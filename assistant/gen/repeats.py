"""A small model can loop on its own sentences until its token budget ends: find such loops and cut them
(agent answers, copy descriptions)."""

from __future__ import annotations

import re

_SENTENCE = re.compile(r"(?<=[.!?])\s+")


def repeats(text: str, times: int = 3) -> bool:
    """Whether some sentence (of 20+ characters) is written ``times`` times or more."""
    seen: dict[str, int] = {}
    for sentence in _SENTENCE.split(text):
        key = " ".join(sentence.lower().split())
        if len(key) >= 20:
            seen[key] = seen.get(key, 0) + 1
            if seen[key] >= times:
                return True
    return False


def without_repeats(text: str) -> str:
    """``text`` with every sentence of 20+ characters kept only where it is first written; the text is returned
    as it is when nothing repeats. A looping reply cut off mid-sentence loses its unfinished tail too."""
    if not repeats(text, times=2):
        return text
    kept, seen = [], set()
    for sentence in _SENTENCE.split(text.strip()):
        key = " ".join(sentence.lower().split())
        if len(key) >= 20 and key in seen:
            continue
        seen.add(key)
        kept.append(sentence)
    tail = " ".join(kept[-1].lower().split()) if kept else ""
    if len(kept) > 1 and not tail.endswith((".", "!", "?")) and any(k.startswith(tail) for k in seen if k != tail):
        kept.pop()  # the loop was cut off by the token budget in the middle of a sentence it had written before
    return " ".join(kept)

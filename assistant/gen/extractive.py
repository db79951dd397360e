"""Extractive helpers (no model): pick representative texts by TF-IDF centroid similarity, or the
sentence that best matches a question. Used to choose evidence and as eval baselines."""

from __future__ import annotations

import re
from collections.abc import Sequence


def centroid_rank(texts: Sequence[str]) -> list[int]:
    """Indices of ``texts`` sorted by cosine similarity of their TF-IDF vector to the centroid."""
    if not texts:
        return []
    from sklearn.feature_extraction.text import TfidfVectorizer

    try:
        mat = TfidfVectorizer(stop_words="english", sublinear_tf=True).fit_transform(list(texts))
    except ValueError:  # only stop words
        return list(range(len(texts)))
    centroid = mat.mean(axis=0).A1
    scores = mat @ centroid
    return sorted(range(len(texts)), key=lambda i: (-float(scores[i]), i))


def centroid_summary(sentences: Sequence[str], max_words: int) -> list[str]:
    """The most central sentences (in centroid order, near-duplicates skipped) up to ``max_words``."""
    out: list[str] = []
    words = 0
    seen: list[set[str]] = []
    for i in centroid_rank(sentences):
        toks = set(re.findall(r"\w+", sentences[i].lower()))
        if any(len(toks & s) / max(1, len(toks | s)) > 0.6 for s in seen):
            continue
        n = len(sentences[i].split())
        if out and words + n > max_words:
            break
        out.append(sentences[i].strip())
        seen.append(toks)
        words += n
    return out


def best_sentence(question: str, sentences: Sequence[str]) -> str:
    """The sentence sharing most (IDF-weighted) words with ``question``; "" when there are none."""
    if not sentences:
        return ""
    from sklearn.feature_extraction.text import TfidfVectorizer

    try:
        vec = TfidfVectorizer(stop_words="english").fit(list(sentences) + [question])
    except ValueError:
        return sentences[0]
    scores = (vec.transform(list(sentences)) @ vec.transform([question]).T).toarray().ravel()
    return sentences[int(scores.argmax())]

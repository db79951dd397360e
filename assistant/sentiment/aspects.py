"""Aspect-based review analysis: split reviews into sentences, find aspects (fit, fabric, battery, ...) by
a keyword lexicon, give each mention a polarity, and count EXACTLY over all reviews.

The review-summary feature builds on :func:`aspect_stats`: its counts and shares are computed over every
review passed in (never a sample), so a summary can quote real figures ("12 of 40 reviews (30%) mention
fit; 9 of them negatively").
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any, Protocol

import pandas as pd

from assistant.errors import DataValidationError
from assistant.sentiment.lexicon import (
    ASPECT_DOMAINS,
    DEFAULT_ASPECTS,
    DOMAIN_RATIO,
    Polarity,
    compile_lexicon,
    lexicon_polarity,
    split_clauses,
)

__all__ = [
    "AspectMention",
    "SentenceClassifier",
    "DEFAULT_ASPECTS",
    "split_sentences",
    "extract_aspects",
    "aspect_stats",
    "labeller_name",
]


class SentenceClassifier(Protocol):
    """Anything that labels short texts; :class:`assistant.sentiment.model.SentimentModel` is one.

    ``predict`` returns one dict per text with at least ``"label"`` in {"positive","negative","neutral"}.
    """

    def predict(self, texts: list[str]) -> list[dict[str, Any]]: ...


@dataclass
class AspectMention:
    """One sentence of one review that talks about one aspect."""

    aspect: str
    review_id: str
    sentence: str
    polarity: Polarity

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


_ABBREV = re.compile(r"\b(e\.g|i\.e|etc|approx|vs|mr|mrs|ms|dr|lbs|oz|in|ft|no)\.", re.I)
_SENT_END = re.compile(r"(?<=[.!?])[\"')\]]*\s+|\s*\n+\s*|(?<=[.!?])(?=[A-Z])")
_DOT = "\u2024"  # placeholder for protected dots


def split_sentences(text: str) -> list[str]:
    """Split review text into sentences (handles "...", "!!", abbreviations such as "e.g." and "lbs.",
    decimals such as "5.5", and lower-case sentence starts common in reviews). Empty input gives []."""
    if not isinstance(text, str):
        return []
    text = text.strip()
    if not text:
        return []
    protected = _ABBREV.sub(lambda m: m.group(0)[:-1] + _DOT, text)
    parts = _SENT_END.split(protected)
    out = []
    for part in parts:
        s = part.replace(_DOT, ".").strip()
        if s and re.search(r"\w", s):
            out.append(s)
    return out


def _review_frame(reviews: pd.DataFrame) -> pd.DataFrame:
    if not isinstance(reviews, pd.DataFrame):
        raise DataValidationError("Reviews must be a pandas DataFrame with a 'text' column.")
    if "text" not in reviews.columns:
        raise DataValidationError(
            f"Reviews need a 'text' column (got columns {list(reviews.columns)}); map your review-text "
            "column to 'text', e.g. --map 'Review Text=text'."
        )
    df = reviews.reset_index(drop=True)
    if "review_id" in df.columns:
        ids = df["review_id"].astype(str)
    else:
        ids = pd.Series([str(i) for i in range(len(df))])
    return pd.DataFrame({
        "review_id": ids.values,
        "title": df["title"].fillna("").astype(str).values if "title" in df.columns else "",
        "text": df["text"].fillna("").astype(str).values,
    })


def extract_aspects(
    reviews: pd.DataFrame,
    classifier: SentenceClassifier | None = None,
    *,
    lexicon: Mapping[str, Sequence[str]] | None = None,
) -> list[AspectMention]:
    """All aspect mentions in ``reviews`` (columns ``text``, optional ``review_id`` and ``title``).

    A sentence may mention several aspects. Its polarity for an aspect comes from the clause holding the
    aspect word (sentences are cut at "but"/"however"/";"), labelled by ``classifier`` when given (one
    batched call) or else by a small lexicon with negation handling. ``lexicon`` replaces the default
    ``{aspect: [keywords]}`` map (see ``DEFAULT_ASPECTS``).
    """
    df = _review_frame(reviews)
    patterns = compile_lexicon(lexicon if lexicon is not None else DEFAULT_ASPECTS)
    pending: list[tuple[str, str, str, str]] = []  # aspect, review_id, sentence, clause
    for rid, title, text in zip(df["review_id"], df["title"], df["text"], strict=True):
        sentences = split_sentences(title) + split_sentences(text)
        for sentence in sentences:
            clauses = split_clauses(sentence)
            for aspect, pat in patterns.items():
                if not pat.search(sentence):
                    continue
                clause = next((c for c in clauses if pat.search(c)), sentence)
                pending.append((aspect, rid, sentence, clause))
    if not pending:
        return []
    if classifier is not None:
        unique = list(dict.fromkeys(p[3] for p in pending))
        preds = classifier.predict(unique)
        label_of = {c: _as_polarity(p.get("label")) for c, p in zip(unique, preds, strict=True)}
        labels = [label_of[p[3]] for p in pending]
    else:
        labels = [lexicon_polarity(p[3]) for p in pending]
    return [AspectMention(a, r, s, lab) for (a, r, s, _c), lab in zip(pending, labels, strict=True)]


def _as_polarity(label: Any) -> Polarity:
    lab = str(label).lower()
    if lab in ("positive", "negative", "neutral"):
        return lab  # type: ignore[return-value]
    raise ValueError(f"Classifier returned label {label!r}; expected positive, negative or neutral.")


def _review_polarity(labels: list[Polarity]) -> Polarity:
    """A review's polarity on one aspect: the majority of its mentions (positive vs negative); a tie or
    only neutral mentions count as neutral."""
    pos = labels.count("positive")
    neg = labels.count("negative")
    return "positive" if pos > neg else "negative" if neg > pos else "neutral"


def _pick_quotes(mentions: list[AspectMention], polarity: Polarity, n: int) -> list[dict[str, str]]:
    """Representative quotes: one per review, preferring sentences of readable length (40-160 chars),
    in a stable order."""
    seen_reviews: set[str] = set()
    seen_text: set[str] = set()
    cands = [m for m in mentions if m.polarity == polarity]
    cands.sort(key=lambda m: (abs(min(max(len(m.sentence), 40), 160) - len(m.sentence)), len(m.sentence)))
    out = []
    for m in cands:
        key = m.sentence.lower()
        if m.review_id in seen_reviews or key in seen_text:
            continue
        seen_reviews.add(m.review_id)
        seen_text.add(key)
        out.append({"review_id": m.review_id, "sentence": m.sentence, "polarity": polarity})
        if len(out) >= n:
            break
    return out


def aspect_stats(
    reviews: pd.DataFrame,
    classifier: SentenceClassifier | None = None,
    *,
    lexicon: Mapping[str, Sequence[str]] | None = None,
    max_quotes: int = 3,
    mentions: list[AspectMention] | None = None,
) -> dict[str, Any]:
    """Exact aspect counts over ALL ``reviews``.

    Returns ``{"n_reviews", "rating_mean", "rating_hist": {1..5: n}, "aspects": [...]}``; each aspect has
    ``n_reviews`` (reviews mentioning it), ``share`` (= n_reviews / all reviews), ``positive`` /
    ``negative`` / ``neutral`` (reviews by their majority polarity on the aspect; they sum to
    ``n_reviews``), ``mentions`` (sentences), ``positive_review_ids`` / ``negative_review_ids`` and up to
    ``max_quotes`` quotes per polarity (negatives are kept even when rare). Aspects are sorted by
    ``n_reviews`` (desc) then name; aspects nobody mentions are left out. Pass ``mentions`` to reuse an
    earlier :func:`extract_aspects` result. ``polarity_by`` says what labelled the mentions. With the default
    lexicon, aspects of another kind of product than the reviews are about (a dress's "sound" from "a loud
    print") are left out and listed in ``off_domain`` with their review counts.
    """
    df = _review_frame(reviews)
    n_reviews = len(df)
    rating_mean: float | None = None
    rating_hist: dict[int, int] = {k: 0 for k in range(1, 6)}
    if "rating" in reviews.columns:
        ratings = pd.to_numeric(reviews["rating"], errors="coerce").dropna()
        ratings = ratings[(ratings >= 1) & (ratings <= 5)]
        if len(ratings):
            rating_mean = round(float(ratings.mean()), 4)
            for r in ratings:
                rating_hist[int(math.floor(float(r) + 0.5))] += 1
    polarity_by = "the given mentions" if mentions is not None else labeller_name(classifier)
    if mentions is None:
        mentions = extract_aspects(reviews, classifier, lexicon=lexicon)

    by_aspect: dict[str, dict[str, list[AspectMention]]] = {}
    for m in mentions:
        by_aspect.setdefault(m.aspect, {}).setdefault(m.review_id, []).append(m)
    off_domain = _off_domain(by_aspect) if lexicon is None else {}
    for aspect in off_domain:
        by_aspect.pop(aspect)

    aspects: list[dict[str, Any]] = []
    for aspect, per_review in by_aspect.items():
        pol = {rid: _review_polarity([m.polarity for m in ms]) for rid, ms in per_review.items()}
        flat = [m for ms in per_review.values() for m in ms]
        quotes = []
        for p in ("negative", "positive", "neutral"):
            quotes += _pick_quotes(flat, p, max_quotes)  # type: ignore[arg-type]
        n = len(per_review)
        aspects.append({
            "aspect": aspect,
            "n_reviews": n,
            "share": round(n / n_reviews, 4) if n_reviews else 0.0,
            "positive": sum(v == "positive" for v in pol.values()),
            "negative": sum(v == "negative" for v in pol.values()),
            "neutral": sum(v == "neutral" for v in pol.values()),
            "mentions": len(flat),
            "positive_review_ids": [r for r, v in pol.items() if v == "positive"],
            "negative_review_ids": [r for r, v in pol.items() if v == "negative"],
            "quotes": quotes,
        })
    aspects.sort(key=lambda a: (-int(a["n_reviews"]), str(a["aspect"])))
    return {"n_reviews": n_reviews, "rating_mean": rating_mean, "rating_hist": rating_hist, "aspects": aspects,
            "polarity_by": polarity_by, "off_domain": off_domain}


def _off_domain(by_aspect: Mapping[str, Mapping[str, Any]]) -> dict[str, int]:
    """Aspects of a product kind (lexicon.ASPECT_DOMAINS) whose reviews are outnumbered DOMAIN_RATIO times by
    another kind's: aspect -> the reviews that mentioned it (left out of the stats)."""
    reach = {d: len({r for a in aspects if a in by_aspect for r in by_aspect[a]}) for d, aspects in ASPECT_DOMAINS.items()}
    top = max(reach.values(), default=0)
    return {a: len(by_aspect[a]) for d, aspects in ASPECT_DOMAINS.items() if reach[d] * DOMAIN_RATIO <= top
            for a in sorted(aspects) if a in by_aspect}


def labeller_name(classifier: SentenceClassifier | None) -> str:
    """"keyword lexicon", or "sentiment model (<features>)" for a trained classifier."""
    if classifier is None:
        return "keyword lexicon"
    features = getattr(classifier, "features", None)
    return f"sentiment model ({features})" if features else f"classifier {type(classifier).__name__}"

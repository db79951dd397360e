"""Find topics the aspect lexicon misses: cluster the embeddings of review sentences that mention no
known aspect (k-means) and name each cluster by its most distinctive words. The result suggests new
aspects (pass them to ``aspect_stats(..., lexicon=...)``) and says how many reviews each one covers."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from assistant.sentiment.aspects import _review_frame, split_sentences
from assistant.sentiment.lexicon import DEFAULT_ASPECTS, compile_lexicon


def discover_aspects(reviews: pd.DataFrame, embedder: Any, *, n_clusters: int = 8, top_words: int = 5,
                     lexicon: Mapping[str, Sequence[str]] | None = None, max_sentences: int = 20_000,
                     seed: int = 0) -> list[dict[str, Any]]:
    """Clusters of unmatched sentences: ``[{"keywords", "n_sentences", "n_reviews", "share", "examples"}]``
    sorted by reviews covered; ``share`` is over all reviews. Sentences beyond ``max_sentences`` are
    skipped (a seeded sample) to bound the embedding time."""
    from sklearn.cluster import KMeans
    from sklearn.feature_extraction.text import TfidfVectorizer

    df = _review_frame(reviews)
    patterns = compile_lexicon(lexicon if lexicon is not None else DEFAULT_ASPECTS)
    sents: list[str] = []
    owners: list[str] = []
    for rid, text in zip(df["review_id"], df["text"], strict=True):
        for s in split_sentences(text):
            if len(s.split()) >= 3 and not any(p.search(s) for p in patterns.values()):
                sents.append(s)
                owners.append(rid)
    if len(sents) < max(2, n_clusters):
        return []
    if len(sents) > max_sentences:
        keep = np.sort(np.random.default_rng(seed).choice(len(sents), max_sentences, replace=False))
        sents = [sents[i] for i in keep]
        owners = [owners[i] for i in keep]
    emb = np.asarray(embedder.encode(sents), dtype=np.float32)
    k = min(n_clusters, len(sents))
    km = KMeans(n_clusters=k, n_init=4, random_state=seed).fit(emb)
    tf = TfidfVectorizer(stop_words="english", min_df=1, token_pattern=r"(?u)\b[a-zA-Z][a-zA-Z]+\b")
    docs = [" ".join(s for s, c in zip(sents, km.labels_, strict=True) if c == j) for j in range(k)]
    try:
        weights = tf.fit_transform(docs).toarray()
        vocab = np.array(tf.get_feature_names_out())
    except ValueError:  # only stop words
        weights, vocab = np.zeros((k, 0)), np.array([])
    out: list[dict[str, Any]] = []
    n_reviews = len(df)
    for j in range(k):
        idx = np.flatnonzero(km.labels_ == j)
        if not len(idx):
            continue
        dist = np.linalg.norm(emb[idx] - km.cluster_centers_[j], axis=1)
        examples = [sents[i] for i in idx[np.argsort(dist)][:3]]
        revs = {owners[i] for i in idx}
        words = [str(w) for w in vocab[np.argsort(-weights[j])[:top_words]]] if len(vocab) else []
        out.append({"keywords": words, "n_sentences": int(len(idx)), "n_reviews": len(revs),
                    "share": round(len(revs) / n_reviews, 4), "examples": examples})
    out.sort(key=lambda c: -int(c["n_reviews"]))
    return out

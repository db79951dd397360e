"""Grounded review summaries for a product, a category or a search result.

Counts and shares are computed by code over ALL reviews (``aspect_stats``); pros, cons and quotes are
picked by code from those statistics (top negative aspects are always kept); the LLM only writes the
prose, from the statistics and quoted evidence, citing review ids. When the evidence does not fit the
context, it is summarised chunk by chunk (map) and the notes are merged (reduce). The prose is then
post-checked: unknown ids removed, uncited sentences dropped, wrong numbers corrected."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

import pandas as pd

from assistant.data.catalog import catalog_product_id
from assistant.errors import AssistantError, GenerationError
from assistant.gen.citations import (
    attribute_uncited,
    check_citations,
    check_numbers,
    cited_ids,
    clean_markdown,
    fit_word_budget,
    split_prose,
    strip_citations,
)
from assistant.gen.evidence import (
    Evidence,
    before_instructions,
    chunk_evidence,
    evidence_budget,
    evidence_ids,
    looks_like_injection,
    merge_by_id,
    render_blocks,
    safe_id,
)
from assistant.gen.extractive import centroid_rank
from assistant.gen.llmio import generate, parse_json, system_message
from assistant.llm.base import LLM, Message
from assistant.prompts import render


def _aspect_stats(reviews: pd.DataFrame, classifier: Any = None) -> dict[str, Any]:
    from assistant.sentiment.aspects import aspect_stats

    return aspect_stats(reviews, classifier=classifier)


def select_aspects(stats: dict[str, Any], top_k: int = 6, min_negative: int = 3) -> list[dict[str, Any]]:
    """The aspects to talk about: the ``top_k`` most mentioned, plus the ``min_negative`` aspects with
    most negative mentions (complaints are never dropped because they are rarer than praise)."""
    aspects = [a for a in stats.get("aspects", []) if int(a.get("n_reviews") or 0) > 0]
    chosen = sorted(aspects, key=lambda a: -int(a["n_reviews"]))[:top_k]
    negatives = sorted((a for a in aspects if int(a.get("negative") or 0) > 0),
                       key=lambda a: (-int(a["negative"]), -int(a["n_reviews"])))[:min_negative]
    for a in negatives:
        if a not in chosen:
            chosen.append(a)
    return chosen


def _pct(x: float) -> int:
    return round(100 * float(x))


def pros_cons(stats: dict[str, Any], aspects: Sequence[dict[str, Any]], max_ids: int = 5
              ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Pros (aspects with positive mentions) and cons (negative mentions), worded from the counts."""
    n = max(1, int(stats.get("n_reviews") or 0))
    pros: list[dict[str, Any]] = []
    cons: list[dict[str, Any]] = []
    for a in aspects:
        pos, neg = int(a.get("positive") or 0), int(a.get("negative") or 0)
        if pos > 0 and pos >= neg:
            pros.append({"aspect": a["aspect"], "count": pos, "share": pos / n,
                         "text": f"{a['aspect']}: praised in {pos} of {n} reviews ({_pct(pos / n)}%)",
                         "review_ids": list(a.get("positive_review_ids", []))[:max_ids]})
        if neg > 0:
            cons.append({"aspect": a["aspect"], "count": neg, "share": neg / n,
                         "text": f"{a['aspect']}: criticised in {neg} of {n} reviews ({_pct(neg / n)}%)",
                         "review_ids": list(a.get("negative_review_ids", []))[:max_ids]})
    pros.sort(key=lambda p: -p["count"])
    cons.sort(key=lambda c: -c["count"])
    return pros, cons


def pick_quotes(aspects: Sequence[dict[str, Any]], per_aspect: int = 2) -> list[dict[str, Any]]:
    """Representative quotes: per aspect, the first positive and the first negative sentence."""
    out: list[dict[str, Any]] = []
    for a in aspects:
        by_pol: dict[str, list[dict[str, Any]]] = {}
        for q in a.get("quotes", []):
            by_pol.setdefault(str(q.get("polarity", "neutral")), []).append(q)
        picked = (by_pol.get("negative", [])[:1] + by_pol.get("positive", [])[:1]
                  + by_pol.get("neutral", [])[:1])[:per_aspect]
        for q in picked:
            out.append({"aspect": a["aspect"], "review_id": str(q["review_id"]), "text": str(q["sentence"]),
                        "polarity": q.get("polarity", "neutral")})
    return out


def _evidence(aspects: Sequence[dict[str, Any]], reviews: pd.DataFrame, per_aspect: int,
              representative: int = 6) -> list[Evidence]:
    """Quoted sentences of the chosen aspects (negative first, so they survive truncation), merged
    per review; followed by the most representative whole reviews."""
    ratings = {str(r): v for r, v in zip(reviews["review_id"], reviews.get("rating", pd.Series(dtype=float)),
                                         strict=False)} if "rating" in reviews else {}
    items: list[Evidence] = []
    for a in aspects:
        for q in sorted(a.get("quotes", []), key=lambda q: q.get("polarity") != "negative")[:per_aspect]:
            rid = str(q["review_id"])
            rating = ratings.get(rid)
            meta = {"aspect": str(a["aspect"]), "polarity": str(q.get("polarity", ""))}
            if rating is not None and pd.notna(rating):
                meta["rating"] = f"{float(rating):g}"
            items.append(Evidence(safe_id(rid), str(q["sentence"]), "review", meta))
    # plus the most representative reviews (TF-IDF centroid): the gist beyond the lexicon's aspects
    sample = reviews.head(2000)
    texts = [str(t) for t in sample["text"]]
    for i in centroid_rank(texts)[: max(representative, 10 - len(items))]:
        items.append(Evidence(safe_id(sample["review_id"].iloc[i]), texts[i], "review", {}))
    return merge_by_id(items)


SENTENCE_CHARS = 220  # the grammar's cap on one summary sentence


def sentences_for(words: int) -> int:
    """How many sentences a ``words`` budget allows the grammar (~12 words each, 2..8)."""
    return max(2, min(8, -(-words // 12)))


def summary_schema(ids: Sequence[str], max_sentences: int = 8) -> dict[str, Any]:
    """JSON schema of a summary: sentences, each with the evidence ids it rests on (ids constrained to
    the evidence given, so a grammar-constrained model cannot cite anything else). Sentences are capped
    in length: a model that runs one "sentence" on until the token limit would leave no whole sentence."""
    return {"type": "object", "required": ["sentences"], "properties": {"sentences": {
        "type": "array", "minItems": 1, "maxItems": max_sentences, "items": {
            "type": "object", "required": ["text", "review_ids"], "properties": {
                "text": {"type": "string", "maxLength": SENTENCE_CHARS},
                "review_ids": {"type": "array", "minItems": 1, "maxItems": 3,
                               "items": {"type": "string", "enum": sorted(ids)}}}}}}}


_SENT_OBJ = re.compile(r'\{\s*"text"\s*:\s*"((?:[^"\\]|\\.)*)"\s*,\s*"review_ids"\s*:\s*\[([^\]]*)\]\s*\}')


def prose_from(text: str) -> str:
    """Prose from the model output: a ``{"sentences": [{"text", "review_ids"}]}`` object becomes
    "text [id, id]." sentences; anything else is taken as prose with inline citations."""
    try:
        sents = parse_json(text).get("sentences")
    except GenerationError:
        sents = None
    if not isinstance(sents, list):  # cut-off JSON (max_tokens): keep the complete sentence objects
        sents = [{"text": json.loads(f'"{t}"'), "review_ids": re.findall(r'"([^"]+)"', ids)}
                 for t, ids in _SENT_OBJ.findall(text)]
        if not sents:
            return "" if text.lstrip().startswith("{") else text.strip()
    out = []
    seen: set[str] = set()
    for s in sents:
        if not isinstance(s, dict) or not str(s.get("text", "")).strip():
            continue
        body = strip_citations(str(s["text"]).strip())
        if body.lower() in seen:  # greedy small models loop: keep each sentence once
            continue
        seen.add(body.lower())
        ids = list(dict.fromkeys(str(i) for i in s.get("review_ids") or [] if str(i).strip()))
        end = body[-1] if body[-1] in ".!?" else "."
        body = body[:-1] if body[-1] in ".!?" else body
        out.append(f"{body} [{', '.join(ids)}]{end}" if ids else f"{body}{end}")
    return " ".join(out)


def _ask(llm: LLM, messages: list[Message], ids: Sequence[str], max_tokens: int, max_sentences: int = 8) -> str:
    schema = summary_schema(ids, max_sentences=max_sentences)
    return prose_from(generate(llm, messages, max_tokens=max_tokens, json_schema=schema).text)


def _stats_rows(stats: dict[str, Any], aspects: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"aspect": a["aspect"], "n_reviews": int(a["n_reviews"]), "share_pct": _pct(a.get("share", 0.0)),
             "positive": int(a.get("positive") or 0), "negative": int(a.get("negative") or 0)} for a in aspects]


def summarize_reviews(reviews: pd.DataFrame, *, llm: LLM, subject: str = "this product", words: int = 120,
                      top_k_aspects: int = 6, quotes_per_aspect: int = 4, max_tokens: int = 320,
                      classifier: Any = None, stats: dict[str, Any] | None = None,
                      drop_uncited: bool = True) -> dict[str, Any]:
    """Summarise ``reviews`` (canonical review columns) with the LLM, grounded and cited.

    Returns ``{"subject", "summary", "n_reviews", "rating_mean", "aspects", "pros", "cons", "quotes",
    "citations_valid", "invalid_citations", "uncited_sentences", "dropped_sentences", "trimmed_sentences",
    "auto_cited", "suspicious_evidence",
    "number_issues",
    "map_reduce_chunks", "evidence_ids"}``. ``aspects`` are the code-computed statistics (over ALL
    reviews); ``pros``/``cons`` each ``{"text", "review_ids", "aspect", "count", "share"}``.
    """
    if reviews is None or len(reviews) == 0:
        raise AssistantError(f"No reviews found for {subject}: nothing to summarise. "
                             "Check the product id / category, or ingest reviews with `assistant ingest`.")
    stats = stats if stats is not None else _aspect_stats(reviews, classifier)
    aspects = select_aspects(stats, top_k=top_k_aspects)
    pros, cons = pros_cons(stats, aspects)
    quotes = pick_quotes(aspects)
    items = _evidence(aspects, reviews, quotes_per_aspect)
    rows = _stats_rows(stats, aspects)
    rating_mean = stats.get("rating_mean")
    rating_mean = None if rating_mean is None or pd.isna(rating_mean) else round(float(rating_mean), 2)
    common: dict[str, Any] = {"subject": subject, "words": words, "n_reviews": int(stats["n_reviews"]), "aspects": rows}
    system = system_message("summarise what buyers say, citing review ids.")

    probe: list[Message] = [system, {"role": "user", "content": render("summary_user", evidence="",
                                                                       rating_mean=rating_mean, **common)}]
    budget = evidence_budget(llm, probe, max_tokens=max_tokens)
    chunks = chunk_evidence(llm, items, budget)
    known = evidence_ids(items)
    if len(chunks) <= 1:
        user = render("summary_user", evidence=render_blocks(chunks[0] if chunks else []),
                      rating_mean=rating_mean, **common)
        prose = _ask(llm, [system, {"role": "user", "content": user}], sorted(known), max_tokens, sentences_for(words))
    else:
        prose = _map_reduce(llm, system, chunks, common, known, max_tokens)

    suspicious = sorted({e.id for e in items if looks_like_injection(e.text)})
    trusted = {e.id: e.text for e in items if e.id not in suspicious}
    prose, auto_cited = attribute_uncited(clean_markdown(prose), trusted)
    report = check_citations(prose, known, drop_uncited=drop_uncited)
    text, issues = check_numbers(report.text, stats)
    if not text.strip():
        text = _fallback_prose(pros, cons, stats)
    text, trimmed = fit_word_budget(text, words)
    return {
        "subject": subject,
        "summary": text,
        "n_reviews": int(stats["n_reviews"]),
        "rating_mean": rating_mean,
        "aspects": [_public_aspect(a) for a in stats.get("aspects", [])],
        "pros": pros,
        "cons": cons,
        "quotes": quotes,
        "citations_valid": report.valid and not [i for i in issues if i.action == "flagged"],
        "invalid_citations": report.invalid,
        "uncited_sentences": report.uncited_sentences,
        "dropped_sentences": report.dropped_sentences,
        "trimmed_sentences": trimmed,
        "auto_cited": auto_cited,
        "suspicious_evidence": suspicious,
        "number_issues": [i.as_dict() for i in issues],
        "map_reduce_chunks": len(chunks),
        "evidence_ids": sorted(known),
    }


def _map_reduce(llm: LLM, system: Message, chunks: list[list[Evidence]], common: dict[str, Any],
                known: set[str], max_tokens: int) -> str:
    notes: list[str] = []
    for i, chunk in enumerate(chunks, 1):
        user = render("summary_map", subject=common["subject"], part=i, parts=len(chunks), max_notes=5,
                      evidence=render_blocks(chunk))
        local = evidence_ids(chunk)
        out = _ask(llm, [system, {"role": "user", "content": user}], sorted(local), max_tokens)
        for line in out.splitlines() if "\n" in out else split_prose(out):
            line = line.strip().lstrip("-*• ").strip()
            if line and any(c in local for c in cited_ids(line)):
                notes.append("- " + check_citations(line, local).text)
    if not notes:
        raise GenerationError("The model wrote no cited notes for any chunk of the reviews; "
                              "try a larger model (--model) or fewer reviews.")
    user = render("summary_reduce", notes=notes, **common)
    return _ask(llm, [system, {"role": "user", "content": user}], sorted(known), max_tokens,
                sentences_for(int(common["words"])))


def _fallback_prose(pros: list[dict[str, Any]], cons: list[dict[str, Any]], stats: dict[str, Any]) -> str:
    """When every model sentence was dropped, state the statistics themselves (still cited)."""
    parts = [f"{p['text'].capitalize()} [{', '.join(map(safe_id, p['review_ids'][:3]))}]." for p in pros[:3]
             if p["review_ids"]]
    parts += [f"{c['text'].capitalize()} [{', '.join(map(safe_id, c['review_ids'][:3]))}]." for c in cons[:3]
              if c["review_ids"]]
    return " ".join(parts) or f"{stats.get('n_reviews', 0)} reviews, no recurring aspects found."


def _public_aspect(a: dict[str, Any]) -> dict[str, Any]:
    keys = ("aspect", "n_reviews", "share", "positive", "negative", "neutral", "positive_review_ids",
            "negative_review_ids")
    return {k: a[k] for k in keys if k in a}


# --------------------------------------------------------------------------- entry points


def summarize_product(product_id: str, *, llm: LLM, catalog: Any, **kwargs: Any) -> dict[str, Any]:
    """Summary of one product's reviews (``catalog``: ``assistant.data.catalog.Catalog``)."""
    product_id = catalog_product_id(catalog, product_id)
    products = catalog.products([product_id])
    title = before_instructions(str(products.iloc[0].get("title") or "")) or "the product"  # titles are data
    return summarize_reviews(catalog.reviews([product_id]), llm=llm, subject=f"{title} [{product_id}]", **kwargs)


def summarize_category(category: str, *, llm: LLM, catalog: Any, **kwargs: Any) -> dict[str, Any]:
    """Summary over all reviews of the products in ``category`` (prefix match)."""
    products = catalog.products(category=category)
    if len(products) == 0:
        raise AssistantError(f"No products in category {category!r}: check the spelling (e.g. 'Dresses').")
    reviews = catalog.reviews([str(p) for p in products["product_id"]])
    return summarize_reviews(reviews, llm=llm, subject=f"the category {category}", **kwargs)


def summarize_query(query: str, *, llm: LLM, index: Any, catalog: Any, k: int = 50,
                    **kwargs: Any) -> dict[str, Any]:
    """Summary of the reviews a hybrid search for ``query`` returns (top ``k`` review chunks)."""
    hits = index.search(query, k=k, kind="review")
    review_ids = list(dict.fromkeys(str(h.review_id) for h in hits if h.review_id))
    if not review_ids:
        raise AssistantError(f"No reviews match {query!r}: try other words or build the index first.")
    product_ids = list(dict.fromkeys(str(h.product_id) for h in hits))
    reviews = catalog.reviews(product_ids)
    reviews = reviews[reviews["review_id"].astype(str).isin(review_ids)]
    return summarize_reviews(reviews, llm=llm, subject=f"reviews matching '{query}'", **kwargs)

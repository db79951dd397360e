"""New-product copy: title, description, bullets and SEO keywords drafted from the product's attributes
(+ notes, tone, target length, language), informed by similar products' copy (index product hits) and
what their buyers praise or complain about (aspect statistics of their reviews). Every draft goes
through the spec guard; a flagged draft is regenerated once with the flags as feedback and, if still
flagged, returned with ``needs_review=True``."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from assistant.data.catalog import catalog_product_id
from assistant.errors import AssistantError, GenerationError
from assistant.gen.citations import whole_sentences
from assistant.gen.evidence import (
    Evidence,
    before_instructions,
    evidence_budget,
    fit_evidence,
    looks_like_injection,
    render_blocks,
)
from assistant.gen.llmio import generate_json, system_message
from assistant.gen.specguard import Flag, check_copy
from assistant.llm.base import LLM, Message
from assistant.prompts import render

COPY_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "title": {"type": "string"},
        "description": {"type": "string"},
        "bullets": {"type": "array", "items": {"type": "string"}, "minItems": 1, "maxItems": 6},
        "seo_keywords": {"type": "array", "items": {"type": "string"}, "minItems": 1, "maxItems": 12},
    },
    "required": ["title", "description", "bullets", "seo_keywords"],
}



def copy_schema(words: int) -> dict[str, Any]:
    """COPY_SCHEMA with length caps the grammar enforces, so a small model cannot ramble past the token
    limit and leave unterminated JSON (description: ~5.8 characters a word measured on drafts, +25% for the target's margin)."""
    schema = json.loads(json.dumps(COPY_SCHEMA))
    props = schema["properties"]
    props["title"]["maxLength"] = 150
    props["description"]["maxLength"] = int(max(words, 10) * 1.25 * 5.8) + 10
    props["bullets"]["items"]["maxLength"] = 100
    props["bullets"]["maxItems"] = 5
    props["seo_keywords"]["items"]["maxLength"] = 40
    props["seo_keywords"]["maxItems"] = 8
    return schema  # type: ignore[no-any-return]


ANGLES = ("", "lead with the main benefit for the buyer", "lead with what makes it practical every day",
          "lead with its look and style", "keep it short and factual")


def parse_attributes(value: str | Mapping[str, Any]) -> dict[str, str]:
    """Attributes from a dict or a JSON object string (``--attrs '{"Material": "Cotton"}'``)."""
    if isinstance(value, Mapping):
        obj: Any = value
    else:
        try:
            obj = json.loads(value)
        except json.JSONDecodeError as exc:
            raise AssistantError(f"--attrs must be a JSON object like '{{\"Material\": \"Cotton\"}}' ({exc}).") from exc
    if not isinstance(obj, Mapping) or not obj:
        raise AssistantError("Attributes must be a non-empty JSON object of name -> value.")
    return {str(k): str(v) for k, v in obj.items() if v is not None and str(v).strip()}


def word_count(text: str) -> int:
    return len(re.findall(r"\w+(?:[-']\w+)*", text))


def length_report(description: str, target: int, tolerance: float = 0.25) -> dict[str, Any]:
    n = word_count(description)
    lo, hi = round(target * (1 - tolerance)), round(target * (1 + tolerance))
    return {"words": n, "target": target, "min": lo, "max": hi, "ok": lo <= n <= hi}


def similar_context(query: str, *, index: Any = None, catalog: Any = None, k: int = 3,
                    exclude: Sequence[str] = ()) -> dict[str, Any]:
    """Similar products' copy (product hits) and what their buyers praise / complain about."""
    out: dict[str, Any] = {"similar": [], "praise": [], "complaints": [], "evidence": []}
    if index is None:
        return out
    hits = [h for h in index.search(query, k=k + len(exclude) + 2, kind="product")
            if h.product_id not in exclude and not looks_like_injection(h.text)][:k]  # no instructions as style
    out["similar"] = [{"product_id": h.product_id, "title": h.title, "score": h.score} for h in hits]
    out["evidence"] = [Evidence(h.product_id, h.text, "product", {"title": h.title or ""}) for h in hits]
    if catalog is not None and hits:
        reviews = catalog.reviews([h.product_id for h in hits])
        if len(reviews):
            from assistant.sentiment.aspects import aspect_stats

            stats = aspect_stats(reviews)
            asp = [a for a in stats.get("aspects", []) if a.get("n_reviews")]
            n = max(1, int(stats.get("n_reviews") or 1))
            for a in sorted(asp, key=lambda a: -int(a.get("positive") or 0))[:3]:
                if a.get("positive"):
                    out["praise"].append(f"{a['aspect']} ({round(100 * int(a['positive']) / n)}% of their buyers)")
            for a in sorted(asp, key=lambda a: -int(a.get("negative") or 0))[:3]:
                if a.get("negative"):
                    out["complaints"].append(f"{a['aspect']} ({round(100 * int(a['negative']) / n)}% of their buyers)")
    return out


_NOT_GIVEN = re.compile(r"\b(?:not (?:listed|given|specified|stated|provided|available|mentioned)|unknown|n/a)\b",
                        re.IGNORECASE)


def _clean(obj: Mapping[str, Any]) -> dict[str, Any]:
    """The draft's fields as plain text: the evidence the model read is HTML-escaped (untrusted text), and a
    model that copies "Candles &amp; Lights" from it must not put the entity in customer-facing copy."""
    def text(v: Any) -> str:  # review ids the model copied from the evidence ("[W123]") are not copy
        return re.sub(r"\s*\[(?:[A-Z]{1,2}\d+(?:,\s*)?)+\]", "", html.unescape(str(v))).strip()

    def as_list(v: Any) -> list[str]:
        if isinstance(v, str):
            v = [x for x in re.split(r"\n|;|,(?=\s)", html.unescape(v))]
        items = [text(x).lstrip("-•* ").strip() for x in (v or []) if str(x).strip()]
        items = [i for i in items if i and not _NOT_GIVEN.search(i)]  # "Size: Not listed in attributes"
        return list(dict.fromkeys(items))  # a bullet or keyword the model repeated is kept once

    return {"title": text(obj.get("title", "")),
            "description": whole_sentences(text(obj.get("description", "")), min_keep=1 / 3),
            "bullets": as_list(obj.get("bullets")), "seo_keywords": as_list(obj.get("seo_keywords"))}


def withhold_instructions(title: str, attributes: dict[str, str]) -> tuple[str, dict[str, str], list[str]]:
    """The title and attributes without instruction-like text (a catalog value saying "IMPORTANT UPDATE FROM THE
    SYSTEM: the description must say ..." is not a product fact): a title keeps what comes before the
    instruction, such attributes are left out; returns (title, attributes, what was withheld)."""
    kept = {k: v for k, v in attributes.items() if not looks_like_injection(f"{k}: {v}")}
    withheld = [f"attribute {k!r}" for k in attributes if k not in kept]
    if looks_like_injection(title):
        withheld.append("part of the title")
        title = before_instructions(title)
    return title, kept, withheld


def _draft_once(llm: LLM, system: Message, variables: dict[str, Any], evidence: list[Evidence],
                feedback: list[str], max_tokens: int) -> dict[str, Any]:
    probe = render("copy_draft", evidence="", feedback=feedback, **variables)
    budget = evidence_budget(llm, [system, {"role": "user", "content": probe}], max_tokens=max_tokens)
    kept, _ = fit_evidence(llm, evidence, max(0, budget), max_chars=600)
    user = render("copy_draft", evidence=render_blocks(kept, 600), feedback=feedback, **variables)
    return _clean(generate_json(llm, [system, {"role": "user", "content": user}],
                                copy_schema(int(variables["words"])), max_tokens=max_tokens))


def draft_copy(attributes: Mapping[str, Any], *, llm: LLM, title: str = "", notes: str = "",
               tone: str = "friendly", length: int = 80, lang: str = "English", variants: int = 1,
               tones: Sequence[str] | None = None, index: Any = None, catalog: Any = None, similar_k: int = 3,
               guard: bool = True, max_tokens: int = 512, exclude_ids: Sequence[str] = ()) -> dict[str, Any]:
    """Draft product copy for a new product.

    Returns ``{"variants": [{"title", "description", "bullets", "seo_keywords", "tone", "angle",
    "flags": [{"claim", "type", "reason"}], "first_flags", "first_draft", "regenerated": bool,
    "needs_review": bool,
    "length": {"words", "target", "min", "max", "ok"}}], "similar": [...], "praise": [...],
    "complaints": [...]}``. ``guard=False`` skips the regeneration (flags are still reported).
    Variants differ by tone (``tones``) and by angle (decoding stays greedy and reproducible).
    """
    title, attrs, withheld = withhold_instructions(title, parse_attributes(attributes))
    if not attrs:
        attrs = {"product": title or "(no facts left)"}
    if variants < 1 or variants > 5:
        raise AssistantError("--variants must be between 1 and 5.")
    if length < 10 or length > 600:
        raise AssistantError("--length is a target word count between 10 and 600.")
    query = " ".join([title, *[f"{k} {v}" for k, v in attrs.items()]])[:500]
    ctx = similar_context(query, index=index, catalog=catalog, k=similar_k, exclude=exclude_ids)
    system = system_message("write accurate product copy for a new product, stating only its given facts.")
    results = []
    for i in range(variants):
        v_tone = (list(tones)[i % len(tones)] if tones else tone)
        angle = ANGLES[i % len(ANGLES)]
        variables = {"attributes": attrs, "title": title, "notes": notes, "tone": v_tone, "words": length,
                     "lang": lang, "angle": angle, "praise": ctx["praise"], "complaints": ctx["complaints"]}
        try:
            copy = _draft_once(llm, system, variables, ctx["evidence"], [], max_tokens)
        except GenerationError as exc:
            results.append({"error": str(exc), "tone": v_tone, "angle": angle, "needs_review": True,
                            "flags": [], "first_flags": [], "regenerated": False})
            continue
        flags: list[Flag] = check_copy(copy, attrs, notes, title)
        first, first_copy = list(flags), dict(copy)
        regenerated = False
        if flags and guard:
            try:
                again = _draft_once(llm, system, variables, ctx["evidence"], [str(f) for f in flags], max_tokens)
                again_flags = check_copy(again, attrs, notes, title)
                if len(again_flags) <= len(flags):  # a rewrite with more unsupported claims is not kept
                    copy, flags, regenerated = again, again_flags, True
            except GenerationError:
                pass  # keep the first draft and its flags
        results.append({**copy, "tone": v_tone, "angle": angle, "flags": [f.as_dict() for f in flags],
                        "first_flags": [f.as_dict() for f in first], "first_draft": first_copy,
                        "regenerated": regenerated,
                        "needs_review": bool(flags or withheld),
                        "length": length_report(copy["description"], length)})
    out = {"variants": results, "similar": ctx["similar"], "praise": ctx["praise"], "complaints": ctx["complaints"]}
    if withheld:
        out["withheld"] = [f"{w}: reads as an instruction, not a product fact; left out of the prompt"
                           for w in withheld]
    return out


def draft_copy_for_product(product_id: str, *, llm: LLM, catalog: Any, index: Any = None,
                           **kwargs: Any) -> dict[str, Any]:
    """Draft copy for a product already in the catalog (its title, category and attributes)."""
    product_id = catalog_product_id(catalog, product_id)
    df = catalog.products([product_id])
    row = df.iloc[0]
    attrs = dict(row.get("attributes") or {})
    if row.get("category"):
        attrs.setdefault("category", str(row["category"]))
    if not attrs:
        attrs = {"product": str(row["title"])}
    return draft_copy(attrs, llm=llm, title=str(row["title"]), catalog=catalog, index=index,
                      exclude_ids=[product_id], **kwargs)

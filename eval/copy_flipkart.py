"""New-product copy on Flipkart products: hide the real description, draft from name + specs.

    .venv/bin/python eval/copy_flipkart.py [CSV] [--model qwen2.5-coder-0.5b] [--limit 105] [--words 60]

Products: the first N/7 of each of the 7 top-level categories having >= 3 specification attributes and
a real description of >= 20 words. ``product_specifications`` (a Ruby-hash-like string) is parsed into
attributes. Prints, for the assistant's drafts with the spec guard OFF (first draft) and ON (flagged
drafts regenerated once with the flags as feedback): unsupported-spec rate (share of drafts with at
least one claim the attributes do not support, and flags per draft), length compliance (description
within target +-25%), similarity to the real description (ROUGE-L F, MiniLM embedding cosine); beside
a template baseline ("Name. Key: value. ...") computed in the same run. No similar-product retrieval
is used (the other products' copy would come from the same small sample).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from assistant.offline import use_offline_defaults  # noqa: E402

use_offline_defaults()

from assistant.gen.copywriter import draft_copy, length_report  # noqa: E402
from assistant.gen.specguard import check_copy  # noqa: E402
from assistant.scripting import positive_int, require_columns, require_file, require_model, run_script  # noqa: E402

DATA = (Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "flipkart_products"
        / "flipkart_com-ecommerce_sample_1050.csv")
FLIPKART = "the Flipkart products CSV"
FLIPKART_COLUMNS = ["pid", "product_name", "product_category_tree", "description", "product_specifications"]
_PAIR = re.compile(r'\{"key"=>"((?:[^"\\]|\\.)*)",\s*"value"=>"((?:[^"\\]|\\.)*)"\}')


def parse_specs(raw: str) -> dict[str, str]:
    """``{"product_specification"=>[{"key"=>"Brand", "value"=>"X"}, ...]}`` -> {"Brand": "X", ...}."""
    if not isinstance(raw, str):
        return {}
    try:
        obj = json.loads(raw.replace("=>", ":"))
        items = obj.get("product_specification") or []
        items = items if isinstance(items, list) else [items]
        return {str(i["key"]).strip(): str(i["value"]).strip() for i in items
                if isinstance(i, dict) and "key" in i and "value" in i}
    except (json.JSONDecodeError, AttributeError, TypeError):
        return {k.strip(): v.strip() for k, v in _PAIR.findall(raw)}


def select(df: pd.DataFrame, n: int) -> pd.DataFrame:
    df = df.copy()
    df["specs"] = df["product_specifications"].map(parse_specs)
    df["top"] = df["product_category_tree"].str.extract(r'\["([^>"]+)')[0].str.strip()
    ok = df[(df["specs"].map(len) >= 3) & (df["description"].fillna("").str.split().str.len() >= 20)]
    per = max(1, -(-n // ok["top"].nunique()))
    return ok.groupby("top", sort=True).head(per).head(n).reset_index(drop=True)


def template(name: str, attrs: dict[str, str]) -> dict[str, object]:
    desc = f"{name}. " + " ".join(f"{k}: {v}." for k, v in attrs.items())
    return {"title": name, "description": desc, "bullets": [f"{k}: {v}" for k, v in list(attrs.items())[:5]],
            "seo_keywords": name.lower().split()[:8]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("data", nargs="?", default=str(DATA),
                    help="the Flipkart products CSV, or its folder (default: %(default)s)")
    ap.add_argument("--model", default="qwen2.5-coder-0.5b", help="LLM key (see `assistant models`)")
    ap.add_argument("--limit", type=positive_int, default=105, help="number of products (15 per category for 105)")
    ap.add_argument("--words", type=positive_int, default=60, help="target description length in words")
    ap.add_argument("--out", default="", help="optional CSV of per-draft scores and descriptions")
    args = ap.parse_args()
    data = require_file(args.data, FLIPKART, f"pass the CSV or its folder as the first argument (default {DATA})",
                        name=DATA.name)
    require_columns(data, FLIPKART_COLUMNS, FLIPKART)
    require_model(args.model)

    from rouge_score import rouge_scorer

    from assistant.index.embedder import get_embedder
    from assistant.llm import get_llm

    products = select(pd.read_csv(data, dtype=str), args.limit)
    llm = get_llm(model=args.model)
    scorer = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=True)
    rows = []
    t0 = time.perf_counter()
    for i, p in enumerate(products.itertuples(index=False), 1):
        attrs = dict(p.specs)
        res = draft_copy(attrs, llm=llm, title=str(p.product_name), length=args.words, max_tokens=512)
        v = res["variants"][0]
        real = str(p.description)
        base = template(str(p.product_name), attrs)
        for system, copy, flags in (
            ("guard off (first draft)", v.get("first_draft", v), v.get("first_flags", [])),
            ("guard on (final)", v, v.get("flags", [])),
            ("template baseline", base, [f.as_dict() for f in check_copy(base, attrs, title=str(p.product_name))]),
        ):
            desc = str(copy.get("description", "")) if "error" not in v or system.startswith("template") else ""
            claims = [f for f in flags if f.get("type") != "repetition"]  # unsupported specs; loops apart
            rows.append({"product": p.pid, "category": p.top, "system": system,
                         "error": "error" in v and not system.startswith("template"),
                         "flagged": bool(claims), "n_flags": len(claims), "looping": len(claims) < len(flags),
                         "length_ok": length_report(desc, args.words)["ok"], "words": len(desc.split()),
                         "rougeL_F": scorer.score(real, desc)["rougeL"].fmeasure if desc else 0.0,
                         "desc": desc, "real": real})
        print(f"[{i}/{len(products)}] {p.product_name[:50]}: flags {len(v.get('first_flags', []))}->"
              f"{len(v.get('flags', []))} words {v.get('length', {}).get('words')} {time.perf_counter() - t0:.0f}s",
              flush=True)
    df = pd.DataFrame(rows)
    emb = get_embedder()
    a = emb.encode([d or " " for d in df["desc"]])
    b = emb.encode(df["real"].tolist())
    df["cosine"] = np.sum(a * b, axis=1)
    if args.out:
        df.drop(columns=["real"]).to_csv(args.out, index=False)
    print(f"\nDataset: Flipkart e-commerce sample, {len(products)} products "
          f"({products['top'].value_counts().to_dict()}); model {args.model}; target {args.words} words (+-25%).")
    summary = df.groupby("system", sort=False).agg(
        drafts=("product", "count"), errors=("error", "sum"), unsupported_rate=("flagged", "mean"),
        flags_per_draft=("n_flags", "mean"), looping_rate=("looping", "mean"), length_compliance=("length_ok", "mean"),
        mean_words=("words", "mean"),
        rougeL_F=("rougeL_F", "mean"), embed_cosine=("cosine", "mean"))
    print(summary.round(4).to_string())
    print(f"wall {time.perf_counter() - t0:.0f}s")


if __name__ == "__main__":
    run_script(main)

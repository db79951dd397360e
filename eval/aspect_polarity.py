"""Aspect polarity: how well is the opinion of each aspect mention (fit, fabric, size, ...) labelled? Review
summaries, the Reviews tab and the ``review_stats`` tool count these labels ("9 of 40 reviews complain about
fit"), so their aspect shares are only as good as this. Two labellers, both through the production path
(``assistant.sentiment.aspects.extract_aspects``): the keyword lexicon with negation handling (what the
product uses) and a trained review-sentiment classifier (``assistant sentiment train``) applied per clause.

Data: Women's E-Commerce Clothing Reviews, test part of the fixed split by Clothing ID (GroupShuffleSplit,
seed 42, as eval/sentiment_clothing.py), so the classifier never saw these products.
  1. ASPECT GOLD (the metric): eval/data/aspect_polarity_gold.csv, 200 aspect mentions drawn at random
     (seed 0) from those reviews and hand-labelled by the project's developers (one annotator): the opinion
     the sentence expresses about that aspect (positive / negative / neutral = a fact, e.g. "I ordered a
     medium"; "runs small" is negative even in a 5-star review). The lexicon's sizing patterns, phrase
     negation and word lists were revised looking only at a second set labelled the same way,
     eval/data/aspect_polarity_dev.csv (200 mentions from TRAIN-part products, seed 1), shown as "dev".
     The gold rows also say whether the sentence is really about that aspect (``about_aspect``, e.g. "curvy
     shape" is about the buyer, not the style; "dark wash" is a colour, not care): the detection precision.
     Labelled after the lexicon revision and not used to change it.
  2. TITLE PROXY (context only): review titles that mention an aspect, labelled with the review's rating
     as sentiment (1-2 negative, 3 neutral, 4-5 positive). It measures agreement with the buyer's overall
     verdict, which the rating-trained classifier learns, not the opinion on the aspect.

    .venv/bin/python eval/aspect_polarity.py [--data ../shared/data/womens_clothing_reviews]
                                             [--features stack|tfidf|...] [--model SAVED_MODEL_DIR]

Without --model, a classifier with ``--features`` (default: stack, the default of `assistant sentiment
train`, ~6 min on 2 cores) is trained on the train part; --model scores a saved model instead.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from assistant.offline import use_offline_defaults  # noqa: E402

use_offline_defaults()

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from assistant.scripting import require_columns, require_dir, require_file, run_script  # noqa: E402
from assistant.sentiment.datasets import CLOTHING_CSV  # noqa: E402

DEFAULT_DATA = REPO.parent / "shared" / "data" / "womens_clothing_reviews"
CLOTHING = "the Women's Clothing Reviews CSV"
CLOTHING_COLUMNS = ["Clothing ID", "Title", "Review Text", "Rating", "Recommended IND"]
GOLD = REPO / "eval" / "data" / "aspect_polarity_gold.csv"
DEV = REPO / "eval" / "data" / "aspect_polarity_dev.csv"
LABELS = ("negative", "neutral", "positive")


def score(gold: list[str], pred: list[str]) -> str:
    from sklearn.metrics import accuracy_score, f1_score

    f1 = f1_score(gold, pred, labels=list(LABELS), average=None)
    return (f"acc {accuracy_score(gold, pred):.3f}  macro-F1 {float(np.mean(f1)):.3f}  "
            f"(F1 neg {f1[0]:.3f} / neu {f1[1]:.3f} / pos {f1[2]:.3f})")


def detected(labelled: pd.DataFrame, name: str) -> pd.DataFrame:
    """The labelled mentions the current aspect lexicon still finds (a keyword fix can drop a false mention,
    e.g. "shorts" no longer counts as a length mention); polarity is scored on those."""
    from assistant.sentiment.aspects import extract_aspects

    frame = pd.DataFrame({"review_id": [str(i) for i in range(len(labelled))], "text": labelled["sentence"]})
    found = {(m.review_id, m.aspect) for m in extract_aspects(frame)}
    keep = [(str(i), a) in found for i, a in enumerate(labelled["aspect"])]
    if not all(keep):
        print(f"{name}: {keep.count(False)} of {len(keep)} labelled mentions are no longer detected as that aspect "
              "(false mentions the lexicon now skips); scoring the rest")
    if "about_aspect" in labelled.columns:  # detection precision: is the sentence really about that aspect?
        about = labelled["about_aspect"].eq("yes").to_numpy()
        kept = np.asarray(keep)
        print(f"{name}: detection precision {about[kept].mean():.3f} ({int(about[kept].sum())} of {int(kept.sum())} "
              f"detected mentions are about that aspect; of the {int((~kept).sum())} no longer detected, "
              f"{int((~about[~kept]).sum())} were false)")
    return labelled[keep].reset_index(drop=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA,
                    help="the Women's Clothing Reviews folder or its CSV (default: %(default)s)")
    ap.add_argument("--features", default="stack", help="model to train on the train part (see sentiment train)")
    ap.add_argument("--model", type=Path, default=None, help="a saved sentiment model folder to score instead")
    args = ap.parse_args()
    data = require_file(args.data, CLOTHING, f"pass --data DIR or CSV (default {DEFAULT_DATA})", name=CLOTHING_CSV)
    require_columns(data, CLOTHING_COLUMNS, CLOTHING)
    if args.model:
        require_dir(args.model, "a saved sentiment model folder", "pass --model STORE/models/sentiment")

    from assistant.config import Settings
    from assistant.sentiment.aspects import extract_aspects
    from assistant.sentiment.datasets import clothing_split, load_clothing_reviews
    from assistant.sentiment.model import load_sentiment_model
    from assistant.sentiment.service import train_from_frame

    path, df, _, _ = load_clothing_reviews(data)
    tr, te = clothing_split(df)
    test = df.iloc[te]
    gold = pd.read_csv(GOLD)
    leaked = set(gold["clothing_id"]) - set(test["Clothing ID"])
    if leaked:
        raise SystemExit(f"{GOLD.name}: products {sorted(leaked)[:5]} are not in the test part of this data")
    gold, dev = detected(gold, "aspect gold"), detected(pd.read_csv(DEV), "dev")
    if set(dev["clothing_id"]) & set(test["Clothing ID"]):
        raise SystemExit(f"{DEV.name} must hold train-part products only")
    titles = pd.DataFrame({"review_id": test.index.astype(str), "text": test["Title"].fillna("").astype(str)})
    verdict = dict(zip(titles["review_id"], np.select([test["Rating"] <= 2, test["Rating"] == 3],
                                                      ["negative", "neutral"], "positive"), strict=True))
    title_lex = extract_aspects(titles)
    title_gold = [verdict[m.review_id] for m in title_lex]
    print(f"dataset: {path}; test part of the split by Clothing ID: {len(test)} reviews of "
          f"{test['Clothing ID'].nunique()} products")
    print(f"1. aspect gold: {GOLD.relative_to(REPO)}, {len(gold)} hand-labelled mentions "
          f"{ {k: int(v) for k, v in gold['label'].value_counts().items()} }")
    print(f"2. title proxy: {len({m.review_id for m in title_lex})} titles mention an aspect, {len(title_lex)} "
          f"mentions, labelled by the review's rating { {k: title_gold.count(k) for k in LABELS} }")

    model = None
    if args.model:
        model = load_sentiment_model(directory=args.model)
        if model is None:
            raise SystemExit(f"no saved sentiment model under {args.model}")
        source = f"saved model {args.model} ({model.features})"
    else:
        rows = df.iloc[tr]
        train = pd.DataFrame({"text": rows["Review Text"].values, "title": rows["Title"].fillna("").values,
                              "rating": rows["Rating"].values, "product_id": rows["Clothing ID"].astype(str).values})
        t0 = time.perf_counter()
        with tempfile.TemporaryDirectory() as home:
            model = train_from_frame(train, features=args.features, settings=Settings(home=Path(home)), save=False)
        source = f"{args.features} trained on the train part ({len(train)} reviews, {time.perf_counter() - t0:.0f} s)"

    def on_gold(classifier: object, labelled: pd.DataFrame = gold) -> list[str]:
        frame = pd.DataFrame({"review_id": [str(i) for i in range(len(labelled))], "text": labelled["sentence"]})
        got = {(m.review_id, m.aspect): m.polarity for m in extract_aspects(frame, classifier)}  # type: ignore[arg-type]
        return [got[(str(i), a)] for i, a in enumerate(labelled["aspect"])]

    t0 = time.perf_counter()
    title_clf = extract_aspects(titles, model)
    dt = time.perf_counter() - t0
    print(f"\n{'labeller':30s} {'1. aspect gold (the metric)':66s} | {'dev':26s} | 2. title proxy")
    for name, g_pred, d_pred, t_pred in [
        ("always 'positive' (majority)", ["positive"] * len(gold), ["positive"] * len(dev), ["positive"] * len(title_gold)),
        ("keyword lexicon (shipped)", on_gold(None), on_gold(None, dev), [m.polarity for m in title_lex]),
        (f"classifier: {model.features}", on_gold(model), on_gold(model, dev), [m.polarity for m in title_clf]),
    ]:
        print(f"{name:30s} {score(list(gold['label']), g_pred):66s} | "
              f"{score(list(dev['label']), d_pred).split('  (')[0]:26s} | {score(title_gold, t_pred).split('  (')[0]}")
    print(f"classifier: {source}; it labels {len(title_clf) / max(dt, 1e-9):.0f} title mentions/s")

if __name__ == "__main__":
    run_script(main)

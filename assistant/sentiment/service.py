"""Train / evaluate / use the sentiment model from files or the catalog (what the CLI and tools call)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from assistant.config import Settings, get_settings
from assistant.errors import DataValidationError, ModelNotFoundError
from assistant.sentiment.encoder import ENCODER, EncoderConfig, EncoderSentimentModel, train_encoder_model
from assistant.sentiment.features import FEATURE_SETS, STACK, FeatureSet, review_text
from assistant.sentiment.lexicon import lexicon_polarity
from assistant.sentiment.model import (
    SentimentModel,
    load_sentiment_model,
    model_dir,
    rating_to_sentiment,
    train_sentiment_model,
    validate_training,
)
from assistant.sentiment.readable import NOTE as UNREADABLE
from assistant.sentiment.readable import readable
from assistant.sentiment.student import STUDENT, StudentConfig, train_student_model


def load_labelled_reviews(path: str | Path, column_map: list[str] | None = None, *,
                          recommend_column: str | None = None, skip_bad_rows: bool = False) -> pd.DataFrame:
    """Reviews with ratings from a file, validated by the data layer (file/line/column errors).
    Returns review_id, product_id, rating, title, text[, recommend]; rows without a rating are dropped. A file
    of just text and rating loads too: its reviews get ids from their line numbers (L2, L3, ...)."""
    from assistant.data.columns import map_columns
    from assistant.data.loaders import load_table, read_raw
    from assistant.data.schema import ColumnMap
    from assistant.data.validate import GENERATED_IDS, line_ids

    cmap = ColumnMap.from_pairs(column_map)
    res = load_table(path, "reviews", column_map=cmap, skip_bad_rows=skip_bad_rows, generate_ids=True)
    df = res.frame.copy()
    df = df[pd.to_numeric(df["rating"], errors="coerce").notna()].reset_index(drop=True)
    if df.empty:
        raise DataValidationError(f"{path}: no review has a rating; map your rating column, e.g. --map 'Stars=rating'.")
    if recommend_column:
        table = read_raw(Path(path))
        raw = table.frame
        if recommend_column not in raw.columns:
            raise DataValidationError(f"{path} has no column {recommend_column!r} (columns: {list(raw.columns)}).")
        id_col = map_columns(raw, "reviews", cmap, str(path), GENERATED_IDS).get("review_id")
        rec = pd.to_numeric(raw[recommend_column], errors="coerce")
        ids = (raw[id_col].astype(str).str.strip() if id_col is not None  # else the ids made from line numbers
               else pd.Series(line_ids(table.lines)))
        lookup = dict(zip(ids, rec, strict=True))
        df["recommend"] = df["review_id"].astype(str).map(lookup)
        bad = df["recommend"].isna() | ~df["recommend"].isin([0, 1])
        if bad.any():
            raise DataValidationError(f"{path}: column {recommend_column!r} must be 0 or 1 for every rated review; "
                                      f"{int(bad.sum())} rows are not (first review_id {df['review_id'][bad].iloc[0]!r}).")
        df["recommend"] = df["recommend"].astype(int)
    return df


def rated_reviews(catalog: Any, *, required: bool = True) -> pd.DataFrame:
    """The store's reviews that carry a rating: what `assistant sentiment train|eval` use without --data."""
    df = catalog.reviews()
    df = df[pd.to_numeric(df["rating"], errors="coerce").notna()].reset_index(drop=True)
    if df.empty and required:
        raise DataValidationError("The catalog has no rated reviews: ingest some with `assistant ingest reviews "
                                  "FILE`, or pass labelled reviews with --data FILE.")
    return df


AnyModel = SentimentModel | EncoderSentimentModel  # what the store can hold


def train_from_frame(df: pd.DataFrame, *, features: str = "auto", settings: Settings | None = None,
                     log: Any = None, save: bool = True, encoder: EncoderConfig | None = None,
                     student: StudentConfig | None = None, encoder_model: str | None = None,
                     student_vocab: str | None = None) -> AnyModel:
    """Train on review rows (text, rating[, title, product_id, recommend]) and save to the store.
    ``features``: "auto"/"stack" = the fast stacked word+char TF-IDF model (default); "select" = choose
    among the single-head feature sets (emb, tfidf, emb+tfidf) on a validation split; or one of those;
    "encoder" = fine-tune the packaged MiniLM (more accurate, ~12x slower, ~40 min on 2 cores for 20k
    reviews; ``encoder`` sets its recipe); "distilled" = fine-tune that encoder, then distil it into a small
    CNN (``student``'s recipe) that runs at about half the stack's speed (~700-900 reviews/s on 2 cores) and is
    more accurate than it, though less than the encoder (~70 min on 2 cores for 20k reviews); only the student
    is saved. ``encoder_model``: the
    encoder to fine-tune (default: the settings' embedding model, the packaged MiniLM); ``student_vocab``: the
    encoder whose tokenizer and embeddings the student starts from (default: the fine-tuned teacher's)."""
    settings = settings or get_settings()
    choices = ("auto", STACK, "select", *FEATURE_SETS, ENCODER, STUDENT)
    if features not in choices:
        raise DataValidationError(f"features must be one of {', '.join(choices)} (got {features!r}).")
    fsets: tuple[FeatureSet, ...] = (
        (STACK,) if features in ("auto", STACK) else FEATURE_SETS if features == "select"
        else (features,))  # type: ignore[assignment]
    texts = [review_text(t, x) for t, x in zip(df.get("title", pd.Series([""] * len(df))), df["text"], strict=True)]
    groups = df["product_id"].astype(str).to_numpy() if "product_id" in df.columns else None
    if groups is not None and len(set(groups)) < 5:
        groups = None  # too few products for a grouped validation split
    rec = df["recommend"].to_numpy(int) if "recommend" in df.columns else None
    if features in (ENCODER, STUDENT):
        validate_training(texts, df["rating"].to_numpy(float), rec)
        y5 = df["rating"].to_numpy(int)
        teacher = train_encoder_model(texts, y5, rec, groups=groups, config=encoder,
                                      embedder_name=encoder_model or settings.embedding_model, log=log)
        enc = teacher if features == ENCODER else train_student_model(
            texts, y5, rec, teacher=teacher, groups=groups, config=student, vocab=student_vocab, log=log)
        enc.metrics = {"validation_macro_f1_5": enc.params["val_macro_f1_5"], "n_train": len(texts),
                       "features": features}
        if features == STUDENT:
            enc.metrics["teacher_validation_macro_f1_5"] = teacher.params["val_macro_f1_5"]
        if save:
            enc.save(model_dir(settings))
        return enc
    cache = settings.store_path / "cache" / "embeddings"
    model = train_sentiment_model(texts, df["rating"].to_numpy(float), rec, groups=groups, feature_sets=fsets,
                                  cache_dir=cache, log=log)
    model.metrics = {"validation_macro_f1_5": model.params.get("val_macro_f1_5"), "n_train": len(texts),
                     "features": model.features}
    if "oof" in model.params:  # stacked model: out-of-fold figures on the training rows
        model.metrics["out_of_fold"] = model.params["oof"]
    if save:
        model.save(model_dir(settings))
    return model


def evaluate(model: AnyModel, df: pd.DataFrame) -> dict[str, Any]:
    """Accuracy / macro-F1 of a model on labelled reviews (5-class rating, 3-class sentiment, recommend)."""
    from sklearn.metrics import accuracy_score, f1_score

    texts = [review_text(t, x) for t, x in zip(df.get("title", pd.Series([""] * len(df))), df["text"], strict=True)]
    y5 = df["rating"].round().astype(int).to_numpy()
    y3 = rating_to_sentiment(y5)
    a = model.predict_arrays(texts)
    out: dict[str, Any] = {
        "n": len(texts),
        "rating_accuracy": round(float(accuracy_score(y5, a["rating_class"])), 4),
        "rating_macro_f1": round(float(f1_score(y5, a["rating_class"], average="macro")), 4),
        "rating_mae": round(float(np.abs(a["rating"] - y5).mean()), 4),
        "sentiment_accuracy": round(float(accuracy_score(y3, a["sentiment"])), 4),
        "sentiment_macro_f1": round(float(f1_score(y3, a["sentiment"], average="macro")), 4),
    }
    if "recommend" in df.columns and "recommend" in a:
        r = df["recommend"].to_numpy(int)
        out["recommend_accuracy"] = round(float(accuracy_score(r, a["recommend"])), 4)
        out["recommend_f1"] = round(float(f1_score(r, a["recommend"])), 4)
    return out


def predict_texts(texts: list[str], settings: Settings | None = None) -> dict[str, Any]:
    """Predictions from the stored model, or the lexicon fallback (labels only) when none is trained. A text
    with no English word the model can read gets a ``note`` saying its label is only the model's default."""
    if not texts or any(not isinstance(t, str) or not t.strip() for t in texts):
        raise DataValidationError("Give one or more non-empty review texts.")
    model = load_sentiment_model(settings)
    if model is None:
        return {"source": "lexicon fallback (no trained model; run `assistant sentiment train`)",
                "predictions": [_noted(t, {"text": t[:200], "label": lexicon_polarity(t)}) for t in texts]}
    uses_emb = "emb" in model.features
    return {"source": f"trained model ({model.features}{', ' + model.embedder_name if uses_emb else ''})",
            "predictions": [_noted(t, {"text": t[:200], **p}) for t, p in zip(texts, model.predict(texts), strict=True)]}


def _noted(text: str, pred: dict[str, Any]) -> dict[str, Any]:
    return {**pred, "note": UNREADABLE} if not readable(text) else pred


def require_model(settings: Settings | None = None) -> AnyModel:
    model = load_sentiment_model(settings)
    if model is None:
        raise ModelNotFoundError(f"No sentiment model in {model_dir(settings)}; train one with "
                                 "`assistant sentiment train` (on the store's rated reviews) or "
                                 "`assistant sentiment train --data FILE`.")
    return model


def ensure_store_model(catalog: Any, settings: Settings | None = None, *, features: str = "tfidf",
                       log: Any = None) -> dict[str, Any]:
    """Train a sentiment model on the store's rated reviews when none is saved yet (`assistant demo setup`).
    ``features`` defaults to the single-head TF-IDF model: ~20 s on 10k reviews, where the default stack takes
    minutes. Returns what was done: ``{"trained": bool, "features", "n_train", "validation_macro_f1_5"}``."""
    settings = settings or get_settings()
    existing = load_sentiment_model(settings)
    if existing is not None:
        return {"trained": False, "features": existing.features}
    df = rated_reviews(catalog, required=False)
    if len(df) < 50:
        return {"trained": False, "features": None, "reason": f"only {len(df)} rated reviews in the store"}
    if log is not None:
        log(f"Training a sentiment model ({features}) on the store's {len(df)} rated reviews ...")
    model = train_from_frame(df, features=features, settings=settings)
    return {"trained": True, "features": model.features, "n_train": len(df),
            "validation_macro_f1_5": model.params.get("val_macro_f1_5")}

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from fixtures.index.fakes import FakeEmbedder
from typer.testing import CliRunner

from assistant.data.schema import ColumnMap
from assistant.errors import ConfigError, DataValidationError
from assistant.sentiment.aspects import extract_aspects
from assistant.sentiment.features import embed_cached, first_sentence, last_sentence, review_text
from assistant.sentiment.model import (
    SentimentModel,
    load_sentiment_model,
    rating_to_sentiment,
    train_sentiment_model,
    tune_biases,
)
from assistant.sentiment.rules import RULES

POS = ["love this dress", "perfect fit and soft fabric", "gorgeous color, great quality", "so comfortable, love it",
       "beautiful and flattering", "great value, highly recommend"]
NEU = ["it is okay, nothing special", "fine but the color is so-so", "average quality, it is okay",
       "okay fit, okay fabric"]
NEG = ["terrible quality, returned it", "runs small and itchy fabric", "awful fit, very disappointed",
       "cheap and thin, returned", "ugly color and poor stitching"]


def _embedder() -> FakeEmbedder:
    return FakeEmbedder(dim=32, name="fake-bow")


def _data(n: int = 120, seed: int = 0) -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    texts, ratings, rec, groups = [], [], [], []
    for i in range(n):
        r = int(rng.choice([1, 2, 3, 4, 5], p=[0.1, 0.15, 0.2, 0.25, 0.3]))
        pool = NEG if r <= 2 else NEU if r == 3 else POS
        texts.append(f"{pool[int(rng.integers(len(pool)))]} {'!' * (r % 2)}")
        ratings.append(r)
        rec.append(int(r >= 4))
        groups.append(f"p{i % 12}")
    return texts, np.array(ratings), np.array(rec), np.array(groups)


def test_rating_mapping_and_review_text() -> None:
    assert rating_to_sentiment(np.array([1, 2, 3, 4, 5])).tolist() == [0, 0, 1, 2, 2]
    assert review_text("Great", "Fits well") == "Great. Fits well"
    assert review_text(float("nan"), " Fits well ") == "Fits well"
    text = review_text("Love it!", "Soft fabric.  Runs small, so I returned it!!")
    assert first_sentence(text) == "Love it!." and last_sentence(text) == "Runs small, so I returned it!!"
    assert first_sentence("no punctuation") == last_sentence("no punctuation") == "no punctuation"


def test_tune_biases_improves_macro_f1_on_skewed_scores() -> None:
    from sklearn.metrics import f1_score

    y = np.array([0] * 10 + [1] * 10)
    logp = np.log(np.column_stack([np.full(20, 0.6), np.full(20, 0.4)]))
    logp[10:, 1] += 0.3  # class 1 scores a bit higher on its own rows, but never wins the argmax
    b = tune_biases(logp, y)
    assert f1_score(y, np.argmax(logp + b, axis=1), average="macro") == 1.0


def test_train_predict_save_load(tmp_path: Path) -> None:
    texts, y, rec, groups = _data()
    emb = _embedder()
    model = train_sentiment_model(texts, y, rec, embedder=emb, groups=groups, cs=(1.0,),
                                  class_weights=(None,), cache_dir=tmp_path / "cache")
    assert model.features in ("emb", "tfidf", "emb+tfidf")
    assert len(model.params["trials"]) == 3
    preds = model.predict(["love this dress, perfect fit", "terrible quality, returned it"])
    assert [p["label"] for p in preds] == ["positive", "negative"]
    assert preds[0]["rating"] > preds[1]["rating"]
    assert set(preds[0]["proba"]) == {"negative", "neutral", "positive"}
    assert preds[0]["recommend"] is True and preds[1]["recommend"] is False
    model.save(tmp_path / "m")
    loaded = SentimentModel.load(tmp_path / "m")
    loaded.embedder = emb
    assert [p["label"] for p in loaded.predict(["awful fit, very disappointed"])] == ["negative"]
    assert (tmp_path / "m" / "metrics.json").is_file()
    # usable as the aspect classifier
    mentions = extract_aspects(pd.DataFrame({"text": ["Terrible quality, returned it."]}), loaded)
    assert {m.polarity for m in mentions if m.aspect == "quality"} == {"negative"}


def test_embedding_cache_is_reused(tmp_path: Path) -> None:
    emb = _embedder()
    a = embed_cached(["a b", "c d"], emb, tmp_path)
    b = embed_cached(["a b", "c d"], emb, tmp_path)
    assert emb.calls == 1 and np.array_equal(a, b)
    embed_cached(["a b", "other"], emb, tmp_path)
    assert emb.calls == 2


@pytest.mark.parametrize(
    "ratings,match",
    [([5] * 30, "same sentiment"), ([0] + [5] * 29, "whole numbers 1-5"), ([4.5] + [1] * 29, "whole numbers")],
)
def test_training_rejects_bad_labels(ratings: list[float], match: str) -> None:
    with pytest.raises(DataValidationError, match=match):
        train_sentiment_model(["text"] * 30, ratings, feature_sets=("tfidf",))


def test_training_needs_enough_rows() -> None:
    with pytest.raises(DataValidationError, match="at least 20"):
        train_sentiment_model(["a", "b"], [1, 5], feature_sets=("tfidf",))


def test_cli_train_eval_predict(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from assistant.cli.main import app
    from assistant.config import get_settings

    monkeypatch.setenv("ASSISTANT_HOME", str(tmp_path / "home"))
    get_settings.cache_clear()
    texts, y, rec, groups = _data(80)
    f = tmp_path / "reviews.csv"
    pd.DataFrame({"id": range(len(texts)), "Clothing ID": groups, "Review Text": texts, "Rating": y,
                  "Recommended IND": rec}).to_csv(f, index=False)
    runner = CliRunner()
    maps = ["--map", "id=review_id", "--map", "Clothing ID=product_id", "--map", "Review Text=text",
            "--map", "Rating=rating"]
    res = runner.invoke(app, ["sentiment", "predict", "love it"])
    assert res.exit_code == 0 and "lexicon fallback" in res.output
    res = runner.invoke(app, ["sentiment", "train", "--data", str(f), *maps, "--recommend-column",
                              "Recommended IND", "--json"])
    assert res.exit_code == 0, res.output
    stored = load_sentiment_model()
    assert stored is not None and stored.features == "stack"  # the fast stacked model is the default
    assert load_sentiment_model() is stored  # loaded once per saved version, not per request
    metrics = json.loads((tmp_path / "home" / "store" / "models" / "sentiment" / "metrics.json").read_text())
    assert 0.0 <= metrics["metrics"]["out_of_fold"]["acc_5_argmax"] <= 1.0
    res = runner.invoke(app, ["sentiment", "eval", "--data", str(f), *maps, "--json"])
    assert res.exit_code == 0, res.output
    assert '"rating_accuracy"' in res.output
    res = runner.invoke(app, ["sentiment", "predict", "terrible quality, returned it", "--json"])
    assert res.exit_code == 0 and '"label": "negative"' in res.output
    # text the model cannot read: its label is the model's default guess, and the output says so
    res = runner.invoke(app, ["sentiment", "predict", "これは素晴らしいドレスです", "asdkj qwe zxcv", "fits well", "--json"])
    notes = [p.get("note") for p in json.loads(res.stdout)["predictions"]]
    assert notes[0] == notes[1] and "default guess" in notes[0] and notes[2] is None
    res = runner.invoke(app, ["sentiment", "predict", "asdkj qwe zxcv"])
    assert "note on 'asdkj qwe zxcv': No word of this text" in " ".join(res.output.split())
    res = runner.invoke(app, ["sentiment", "train", "--data", str(f), *maps, "--recommend-column", "Nope"])
    assert res.exit_code == 2 and "no column 'Nope'" in res.output
    get_settings.cache_clear()


def test_stacked_model_learns_orders_and_round_trips(tmp_path: Path) -> None:
    texts, y, rec, groups = _data(150)
    model = train_sentiment_model(texts, y, rec, groups=groups, feature_sets=("stack",))
    assert model.features == "stack" and model.stack is not None
    probe = ["love this dress, perfect fit", "it is okay, nothing special", "terrible quality, returned it"]
    a = model.predict_arrays(probe)
    assert a["sentiment_argmax"].tolist() == [2, 1, 0]
    assert a["rating"][0] > a["rating"][1] > a["rating"][2]  # expected stars follow the order
    assert a["recommend"].tolist() == [1, 0, 0]
    assert set(model.params["oof"]) == {"acc_5_argmax", "macro_f1_5_argmax", "acc_5_biased", "macro_f1_5_biased"}
    assert model.params["rating_rule"] in RULES and model.params["sentiment_rule"] in RULES
    model.save(tmp_path / "m")
    loaded = SentimentModel.load(tmp_path / "m")
    b = loaded.predict_arrays(probe)
    for key in ("rating", "sentiment_proba", "recommend_proba"):
        np.testing.assert_allclose(a[key], b[key])


def test_stacked_model_trains_without_some_ratings_and_recommend_labels() -> None:
    texts, y, _, _ = _data(60, seed=3)
    keep = y != 1  # no 1-star reviews at all
    model = train_sentiment_model([t for t, k in zip(texts, keep, strict=True) if k], y[keep],
                                  feature_sets=("stack",))
    assert model.recommend_head is None
    out = model.predict(["terrible quality, returned it"])
    assert out[0]["label"] == "negative" and 2 <= out[0]["rating_class"] <= 5 and "recommend" not in out[0]


def test_stack_is_trained_on_its_own() -> None:
    texts, y, _, _ = _data(40)
    with pytest.raises(ConfigError, match="on its own"):
        train_sentiment_model(texts, y, feature_sets=("stack", "tfidf"))


@pytest.mark.parametrize("features", [("tfidf",), ("stack",)])
def test_training_without_neutral_reviews_keeps_labels_right(features: tuple[str, ...]) -> None:
    """No 3-star rows: the heads know only negative/positive, and a positive text must not come out as
    'neutral' (the column layout follows the classes seen, not their positions)."""
    texts, y, rec, groups = _data(160, seed=3)
    keep = y != 3
    texts = [t for t, k in zip(texts, keep, strict=True) if k]
    model = train_sentiment_model(texts, y[keep], rec[keep], embedder=_embedder(), groups=groups[keep],
                                  feature_sets=features, cs=(1.0,), class_weights=(None,))
    preds = model.predict(["love this dress, perfect fit", "terrible quality, returned it"])
    assert [p["label"] for p in preds] == ["positive", "negative"]
    assert preds[0]["proba"]["neutral"] == 0.0 and preds[0]["rating_class"] in (4, 5)


@pytest.mark.slow
def test_fine_tuned_encoder_trains_saves_and_serves(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`--features encoder` fine-tunes the packaged MiniLM (real weights, offline) with a rating and a
    recommend head; the store then serves it to predict_texts / eval like the stack."""
    from assistant.cli.main import app
    from assistant.config import get_settings
    from assistant.sentiment.encoder import ENCODER_FILE, EncoderConfig, EncoderSentimentModel
    from assistant.sentiment.service import evaluate, predict_texts, train_from_frame

    monkeypatch.setenv("ASSISTANT_HOME", str(tmp_path / "home"))
    get_settings.cache_clear()
    texts, y, rec, groups = _data(120)
    df = pd.DataFrame({"text": texts, "rating": y, "recommend": rec, "product_id": groups})
    cfg = EncoderConfig(epochs=6, lr=2e-4, batch_size=16, max_tokens=32)
    model = train_from_frame(df, features="encoder", encoder=cfg)
    assert isinstance(model, EncoderSentimentModel) and model.params["n_validation"] > 0
    assert model.params["rating_rule"] in RULES and model.params["sentiment_rule"] in RULES
    stored = load_sentiment_model()
    assert isinstance(stored, EncoderSentimentModel) and stored.recommend_threshold is not None
    assert (tmp_path / "home" / "store" / "models" / "sentiment" / ENCODER_FILE).is_file()
    out = predict_texts(["terrible quality, returned it", "perfect fit and soft fabric"])
    assert out["source"] == "trained model (encoder)"
    assert [p["label"] for p in out["predictions"]] == ["negative", "positive"]
    assert out["predictions"][0]["rating"] < out["predictions"][1]["rating"]
    assert out["predictions"][1]["recommend"] is True
    scores = evaluate(stored, df)
    assert scores["sentiment_accuracy"] > 0.8 and "recommend_f1" in scores

    f = tmp_path / "reviews.csv"
    df.assign(review_id=range(len(df))).to_csv(f, index=False)
    res = CliRunner().invoke(app, ["sentiment", "train", "--data", str(f), "--features", "encoder", "--epochs", "1",
                                   "--json"])
    assert res.exit_code == 0, res.output
    assert '"features": "encoder"' in res.output
    assert load_sentiment_model() is not stored  # a new save is picked up
    get_settings.cache_clear()


def test_store_reviews_train_a_model_from_cli_and_demo_setup(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`sentiment train` without --data learns from the catalog's rated reviews; demo setup's
    ensure_store_model trains a TF-IDF model once, and only when there are enough rated reviews."""
    from assistant.cli.main import app
    from assistant.config import Settings, get_settings
    from assistant.data.catalog import Catalog
    from assistant.sentiment.service import ensure_store_model

    monkeypatch.setenv("ASSISTANT_HOME", str(tmp_path / "home"))
    get_settings.cache_clear()
    runner = CliRunner()
    res = runner.invoke(app, ["sentiment", "train"])
    assert res.exit_code == 2 and "no rated reviews" in res.output and "--data" in res.output
    settings = Settings(home=tmp_path / "home")
    texts, y, _, groups = _data(80)
    reviews = pd.DataFrame({"review_id": [f"r{i}" for i in range(80)], "product_id": groups, "rating": y,
                            "title": "", "text": texts})
    with Catalog.open(settings) as catalog:
        catalog.upsert_reviews(reviews.iloc[:30])
        assert ensure_store_model(catalog, settings) == {
            "trained": False, "features": None, "reason": "only 30 rated reviews in the store"}
        catalog.upsert_reviews(reviews)
        said: list[str] = []
        done = ensure_store_model(catalog, settings, log=said.append)
        assert done["trained"] and done["features"] == "tfidf" and done["n_train"] == 80
        assert said == ["Training a sentiment model (tfidf) on the store's 80 rated reviews ..."]
        assert ensure_store_model(catalog, settings) == {"trained": False, "features": "tfidf"}  # kept, not redone
    res = runner.invoke(app, ["sentiment", "predict", "terrible quality, returned it", "--json"])
    assert res.exit_code == 0 and "trained model (tfidf" in res.output and '"label": "negative"' in res.output
    res = runner.invoke(app, ["sentiment", "train", "--features", "tfidf", "--json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["n_train"] == 80
    res = runner.invoke(app, ["sentiment", "eval", "--json"])  # also the catalog's reviews by default
    assert res.exit_code == 0 and json.loads(res.stdout)["eval"]["n"] == 80
    get_settings.cache_clear()


def test_labelled_file_of_just_text_and_rating(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Training and scoring need no ids: a text+rating file loads with ids made from line numbers; the
    store's ingest still requires them."""
    from assistant.cli.main import app
    from assistant.config import get_settings
    from assistant.data.loaders import load_table
    from assistant.sentiment.service import load_labelled_reviews

    monkeypatch.setenv("ASSISTANT_HOME", str(tmp_path / "home"))
    get_settings.cache_clear()
    texts, y, rec, _ = _data(60)
    f = tmp_path / "labelled.csv"
    pd.DataFrame({"Review": texts, "Stars": y, "Would recommend": rec}).to_csv(f, index=False)
    df = load_labelled_reviews(f, ["Review=text", "Stars=rating"], recommend_column="Would recommend")
    assert list(df["review_id"][:2]) == ["L2", "L3"] and set(df["product_id"]) == {"unknown"}
    assert df["recommend"].tolist() == list(rec) and df["rating"].tolist() == [float(v) for v in y]
    with pytest.raises(DataValidationError, match="review_id, product_id"):
        load_table(f, "reviews", column_map=ColumnMap.from_pairs(["Review=text", "Stars=rating"]))
    runner = CliRunner()
    res = runner.invoke(app, ["sentiment", "train", "--data", str(f), "--map", "Review=text", "--map", "Stars=rating",
                              "--features", "tfidf", "--json"])
    assert res.exit_code == 0, res.output
    res = runner.invoke(app, ["sentiment", "eval", "--data", str(f), "--map", "Review=text", "--map", "Stars=rating",
                              "--json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["eval"]["n"] == 60
    res = runner.invoke(app, ["sentiment", "train", "--help"])  # rich markup must not eat the extra's name
    assert "merch-assistant[mpnet]" in res.output
    get_settings.cache_clear()

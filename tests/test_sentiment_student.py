"""The distilled CNN student (`--features distilled`): augmentation, distillation from a teacher, storage."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from assistant.errors import DataValidationError
from assistant.sentiment.encoder import resolve_device
from assistant.sentiment.model import load_sentiment_model
from assistant.sentiment.rules import RULES
from assistant.sentiment.student import (
    STUDENT,
    STUDENT_FILE,
    StudentConfig,
    StudentSentimentModel,
    augment,
    train_student_model,
)

ITEMS = ["dress", "top", "skirt", "jacket", "sweater", "jeans", "blouse", "coat", "scarf", "tee", "cardigan",
         "shorts"]


def _tokenizer() -> Any:
    from transformers import AutoTokenizer

    from assistant.index.embedder import resolve_model_path

    return AutoTokenizer.from_pretrained(str(resolve_model_path("all-MiniLM-L6-v2")))


class KeywordTeacher:
    """A stand-in for the fine-tuned encoder: 'love' means 5 stars, 'awful' 1 star, anything else 3."""

    embedder_name = "all-MiniLM-L6-v2"
    params = {"val_acc_5": 0.9, "val_macro_f1_5": 0.8}

    def __init__(self) -> None:
        self.tokenizer = _tokenizer()
        self.seen: list[str] = []

    def to(self, device: Any) -> KeywordTeacher:
        self.device = device
        return self

    def word_embeddings(self) -> np.ndarray:
        return np.random.default_rng(0).normal(0, 0.5, (self.tokenizer.vocab_size, 16)).astype(np.float32)

    def log_proba(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        self.seen.extend(texts)
        star = np.array([4 if "love" in t.lower() else 0 if "awful" in t.lower() else 2 for t in texts])
        p = np.full((len(texts), 5), 0.02)
        p[np.arange(len(texts)), star] = 0.92
        return np.log(p), np.where(star == 4, 0.95, 0.05).astype(np.float32)


def _reviews(n: int, seed: int, items: list[str]) -> tuple[list[str], np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    kind = rng.choice(3, n, p=[0.3, 0.3, 0.4])
    texts = [(["Awful {}. It fell apart.", "It is an ordinary {}. Fine I guess.", "I love this {}! Great buy."][k])
             .format(items[int(rng.integers(len(items)))]) for k in kind]
    return texts, np.array([1, 3, 5])[kind], (kind == 2).astype(int)


def test_augment_drops_words_and_keeps_text_non_empty() -> None:
    rng = np.random.default_rng(0)
    text = "Love the colour. Runs small though. The fabric is soft and thick. Would buy again."
    copies = [augment(text, rng) for _ in range(50)]
    assert all(c and set(c.split()) <= set(text.split()) for c in copies)
    assert any(len(c.split()) < len(text.split()) for c in copies) and len(set(copies)) > 10
    assert augment("Great", np.random.default_rng(1), word_drop=1.0) == "Great"  # never empty
    assert augment(text, np.random.default_rng(2), word_drop=0.0, span_prob=0.0) == text


def test_student_config_rejects_bad_recipes() -> None:
    with pytest.raises(DataValidationError, match="odd"):
        StudentConfig(widths=(2, 3))
    with pytest.raises(DataValidationError, match="alpha"):
        StudentConfig(alpha=1.5)


def test_student_learns_the_teachers_judgement_and_round_trips(tmp_path: Path) -> None:
    """With alpha=0 the student learns only from the teacher's probabilities (on the reviews and their
    augmented copies); it then rates reviews of unseen products the way the teacher does."""
    texts, y5, rec = _reviews(150, 0, ITEMS[:8])
    groups = np.array([f"p{i % 15}" for i in range(len(texts))])
    teacher = KeywordTeacher()
    cfg = StudentConfig(epochs=10, channels=16, widths=(1, 3), alpha=0.0, copies=1, batch_size=16, lr=5e-3,
                        embedding_lr=5e-3, dropout=0.0)
    model = train_student_model(texts, y5, rec, teacher=teacher, groups=groups, config=cfg)  # type: ignore[arg-type]
    n_fit = model.params["n_fit"]
    assert len(teacher.seen) == 2 * n_fit and model.params["n_augmented"] == n_fit
    assert teacher.device == resolve_device(cfg.device)  # the teacher labels where the student trains
    assert teacher.seen[n_fit:] != teacher.seen[:n_fit]  # the copies are perturbed
    assert model.params["rating_rule"] in RULES and model.params["teacher"] == teacher.params
    assert model.features == STUDENT and model.recommend_threshold is not None

    new, y_new, rec_new = _reviews(40, 1, ITEMS[8:])  # products (words) never seen in training
    out = model.predict_arrays(new)
    assert (out["rating_class"] == y_new).mean() >= 0.9
    assert (out["recommend"] == rec_new).mean() >= 0.9

    loaded = load_sentiment_model(directory=model.save(tmp_path / "sentiment"))
    assert isinstance(loaded, StudentSentimentModel) and (tmp_path / "sentiment" / STUDENT_FILE).is_file()
    again = loaded.predict_arrays(new)
    assert (again["rating_class"] == out["rating_class"]).mean() >= 0.95  # bf16 weights where the CPU is fast
    assert loaded.params["n_fit"] == n_fit and loaded.config == cfg
    assert [p["label"] for p in loaded.predict(["I love this hat! Great buy.", "Awful hat. It fell apart."])] \
        == ["positive", "negative"]


@pytest.mark.slow
def test_distilled_model_trains_from_the_real_encoder_and_serves(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """`--features distilled` fine-tunes the packaged MiniLM, distils it into the CNN, saves only the student,
    and the store serves it to predict_texts like the other models (also through the CLI)."""
    from assistant.cli.main import app
    from assistant.config import get_settings
    from assistant.sentiment.encoder import ENCODER_FILE, EncoderConfig
    from assistant.sentiment.service import predict_texts, train_from_frame

    monkeypatch.setenv("ASSISTANT_HOME", str(tmp_path / "home"))
    get_settings.cache_clear()
    texts, y5, rec = _reviews(120, 0, ITEMS)
    df = pd.DataFrame({"text": texts, "rating": y5, "recommend": rec,
                       "product_id": [f"p{i % 12}" for i in range(len(texts))]})
    model = train_from_frame(df, features=STUDENT, encoder=EncoderConfig(epochs=3, lr=2e-4, batch_size=16,
                                                                         max_tokens=32),
                             student=StudentConfig(epochs=4, copies=1, batch_size=16))
    assert isinstance(model, StudentSentimentModel)
    assert "teacher_validation_macro_f1_5" in model.metrics and model.params["rating_rule"] in RULES
    store = tmp_path / "home" / "store" / "models" / "sentiment"
    assert (store / STUDENT_FILE).is_file() and not (store / ENCODER_FILE).exists()
    assert isinstance(load_sentiment_model(), StudentSentimentModel)
    out = predict_texts(["Awful coat. It fell apart.", "I love this coat! Great buy."])
    assert out["source"] == "trained model (distilled)"
    assert [p["label"] for p in out["predictions"]] == ["negative", "positive"]

    f = tmp_path / "reviews.csv"
    df.assign(review_id=range(len(df))).to_csv(f, index=False)
    res = CliRunner().invoke(app, ["sentiment", "train", "--data", str(f), "--features", STUDENT, "--epochs", "1",
                                   "--json"])
    assert res.exit_code == 0, res.output
    assert '"features": "distilled"' in res.output
    get_settings.cache_clear()


def test_student_can_start_from_another_encoders_vocabulary() -> None:
    """With ``vocab`` the student tokenizes with that encoder and starts from its pre-trained table, so a
    large teacher (e.g. mpnet) can teach a student as small and fast as the MiniLM one."""
    texts, y5, rec = _reviews(120, 0, ITEMS[:8])
    groups = np.array([f"p{i % 12}" for i in range(len(texts))])
    teacher = KeywordTeacher()
    teacher.tokenizer = None  # the student must never read with the teacher's tokenizer here
    cfg = StudentConfig(epochs=8, channels=16, widths=(1, 3), alpha=0.0, copies=1, batch_size=16, lr=5e-3,
                        embedding_lr=5e-3, dropout=0.0)
    model = train_student_model(texts, y5, rec, teacher=teacher, groups=groups, config=cfg,  # type: ignore[arg-type]
                                vocab="all-MiniLM-L6-v2")
    assert model.embedder_name == "all-MiniLM-L6-v2" and model.tokenizer is not None
    assert model.word_embeddings().shape == (model.tokenizer.vocab_size, 384)  # MiniLM's table, not the teacher's
    new, y_new, _ = _reviews(40, 1, ITEMS[8:])
    assert (model.predict_arrays(new)["rating_class"] == y_new).mean() >= 0.9


def test_training_device_is_checked(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import torch

    from assistant.cli.main import app

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert resolve_device("auto").type == "cpu" and resolve_device("cpu").type == "cpu"
    with pytest.raises(DataValidationError, match="no CUDA GPU"):
        resolve_device("cuda")
    with pytest.raises(DataValidationError, match="Unknown device 'gpu'"):
        resolve_device("gpu")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert resolve_device("auto").type == "cuda" and resolve_device("cuda:1").index == 1
    # the CLI refuses a bad device before it reads (or trains on) any data
    res = CliRunner().invoke(app, ["sentiment", "train", "--data", str(tmp_path / "missing.csv"),
                                   "--features", "encoder", "--device", "gpu"])
    assert res.exit_code != 0 and "Unknown device 'gpu'" in res.output and "missing.csv" not in res.output


def test_the_serving_device_comes_from_the_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import torch

    from assistant.config import Settings

    texts, y5, rec = _reviews(60, 0, ITEMS[:6])
    cfg = StudentConfig(epochs=1, channels=8, widths=(1,), copies=0, batch_size=32)
    model = train_student_model(texts, y5, rec, teacher=KeywordTeacher(), config=cfg)  # type: ignore[arg-type]
    folder = model.save(tmp_path / "sentiment")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    loaded = load_sentiment_model(Settings(home=tmp_path, sentiment_device="auto"), directory=folder)
    assert isinstance(loaded, StudentSentimentModel) and next(loaded.net.parameters()).device.type == "cpu"
    with pytest.raises(DataValidationError, match="torch sees no CUDA GPU"):  # asked for, not there: said so
        load_sentiment_model(Settings(home=tmp_path, sentiment_device="cuda"), directory=folder)

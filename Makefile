# One task runner: CI calls these targets verbatim (.ci/run -> make test).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
REPO ?= .
STORE ?= .leadlens/leadlens.duckdb

.PHONY: demo test lint unit bench clean

$(BIN)/leadlens: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $@

demo: $(BIN)/leadlens
	$(BIN)/leadlens ingest git $(REPO) --store $(STORE)

lint: $(BIN)/leadlens
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/mypy --strict src

unit: $(BIN)/leadlens
	$(BIN)/python -m pytest -q

test: lint unit

bench: $(BIN)/leadlens
	$(BIN)/python -m pip install --quiet -e '.[bench]'
	@echo "usage: $(BIN)/python benchmarks/ingest.py /path/to/repo"

clean:
	rm -rf $(VENV) .leadlens

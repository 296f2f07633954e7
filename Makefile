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

# The main job: ingest REPO (incrementally), print the report, write the HTML report, print its path.
demo: $(BIN)/leadlens
	$(BIN)/leadlens report $(REPO) --store $(STORE)
	$(BIN)/leadlens report --store $(STORE) --format html --out $(dir $(STORE))report.html

lint: $(BIN)/leadlens
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/mypy --strict src

# The suite on every core (pytest-xdist): the tests share no files, each has its own tmp_path.
unit: $(BIN)/leadlens
	$(BIN)/python -m pytest -q -n auto

test: lint unit

bench: $(BIN)/leadlens
	$(BIN)/python -m pip install --quiet -e '.[bench]'
	@echo "usage: $(BIN)/python benchmarks/ingest.py /path/to/repo"

clean:
	rm -rf $(VENV) .leadlens

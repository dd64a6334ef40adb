PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
DATA_DIR ?= .recoapi/data
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: demo test lint serve bench eval clean

# The virtualenv is rebuilt whenever pyproject.toml changes.
$(VENV): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(VENV)

demo: $(VENV)
	$(BIN)/recoapi demo movielens

test: lint
	$(BIN)/python -m pytest -q

lint: $(VENV)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

serve: $(VENV)
	$(BIN)/recoapi serve --host $(HOST) --port $(PORT) --data-dir $(DATA_DIR)

bench: $(VENV)
	$(BIN)/python -m benchmarks.run --markdown BENCHMARKS.md

eval: $(VENV)
	$(BIN)/python scripts/make_evaluation_report.py

clean:
	rm -rf $(VENV) .pytest_cache build src/*.egg-info

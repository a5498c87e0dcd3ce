PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint bench bench-all bench-fleet clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	@$(BIN)/supbot demo

test: $(STAMP)
	$(BIN)/ruff format --check bot handlers tests bench
	$(BIN)/ruff check bot handlers tests bench
	$(BIN)/mypy
	$(BIN)/pytest -n 2 -p no:cacheprovider

lint: $(STAMP)
	$(BIN)/ruff format bot handlers tests bench
	$(BIN)/ruff check --fix bot handlers tests bench

bench: $(STAMP)
	$(BIN)/python bench/status.py

bench-all: $(STAMP)
	$(BIN)/python bench/status.py
	$(BIN)/python bench/slack.py
	$(BIN)/python bench/alerts.py
	$(BIN)/python bench/scheduler.py
	$(BIN)/python bench/redact.py
	$(BIN)/python bench/storage.py
	$(BIN)/python bench/grep.py
	$(BIN)/python bench/checks.py
	$(BIN)/python bench/agent.py

# 20 supervisords × 250 processes on one PostgreSQL: several minutes to start
bench-fleet: $(STAMP)
	$(BIN)/python bench/fleet.py

clean:
	rm -rf $(VENV) .supbot-demo

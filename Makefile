# Two commands for a fresh machine with Python 3.11+: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
DEMO_HOME := demo-sandbox

.PHONY: demo test lint typecheck bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	rm -rf $(DEMO_HOME)
	$(BIN)/ledger demo --home $(DEMO_HOME)

lint: $(STAMP)
	$(BIN)/ruff check domain ledger tests scripts
	$(BIN)/ruff format --check domain ledger tests scripts

typecheck: $(STAMP)
	$(BIN)/mypy domain ledger

test: lint typecheck
	$(BIN)/pytest -n 2  # two workers: most tests wait on processes they start

bench: $(STAMP)
	$(BIN)/ledger bench --json

clean:
	rm -rf $(VENV) $(DEMO_HOME) .pytest_cache .mypy_cache .ruff_cache .hypothesis

# Two commands for a fresh machine with Python 3.11+: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Two stamps: the demo needs the package alone (no extras); the tests, lint and
# types need the development tools and every extra. The dev install is a
# superset, so it stamps the demo's too: `make demo` after `make test` installs
# nothing, and `make test` after `make demo` installs the rest.
DEMO_STAMP := $(VENV)/.demo-stamp
DEV_STAMP := $(VENV)/.dev-stamp
DEMO_HOME := demo-sandbox

.PHONY: demo test lint typecheck bench clean mutation

# The pip that comes with Python 3.11+ installs an editable pyproject package:
# no upgrade (and no download) needed.
$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(DEMO_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e .
	touch $(DEMO_STAMP)

$(DEV_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $(DEV_STAMP) $(DEMO_STAMP)

demo: $(DEMO_STAMP)
	rm -rf $(DEMO_HOME)
	$(BIN)/ledger demo --home $(DEMO_HOME)

lint: $(DEV_STAMP)
	$(BIN)/ruff check domain ledger tests scripts
	$(BIN)/ruff format --check domain ledger tests scripts

typecheck: $(DEV_STAMP)
	$(BIN)/mypy domain ledger

test: lint typecheck
	$(BIN)/pytest -n 2  # two workers: most tests wait on processes they start

# Mutation testing of domain/ with mutmut over tests/unit and tests/property
# (not in CI: many CPU minutes). One module at a time, two workers at most;
# `make mutation MODULES=domain/money.py` for one. Results stay in ./mutants
# (`.venv/bin/mutmut show NAME` shows a survivor); the survivors judged
# equivalent are listed in tests/mutation-survivors.md.
MUTATION_STAMP := $(VENV)/.mutation-stamp
MODULES ?= domain/money.py domain/decide.py domain/state.py \
	$(filter-out domain/__init__.py domain/money.py domain/decide.py domain/state.py,$(wildcard domain/*.py)) \
	$(filter-out domain/rules/__init__.py,$(wildcard domain/rules/*.py))

$(MUTATION_STAMP): $(DEV_STAMP)
	$(BIN)/python -m pip install --quiet -e '.[dev,mutation]'
	touch $(MUTATION_STAMP)

mutation: $(MUTATION_STAMP)
	@for module in $(MODULES); do \
		echo "== $$module"; \
		start=$$(date +%s); \
		$(BIN)/mutmut run --max-children 2 "$$(echo $${module%.py} | tr / .).*" || exit 1; \
		echo "   $$(( $$(date +%s) - start )) s"; \
	done
	$(BIN)/python scripts/mutation_score.py mutants $(foreach m,$(MODULES),$(subst /,.,$(m:.py=)))
	$(BIN)/mutmut results

bench: $(DEV_STAMP)
	$(BIN)/ledger bench --json

clean:
	rm -rf $(VENV) $(DEMO_HOME) demo-report .pytest_cache .mypy_cache .ruff_cache .hypothesis

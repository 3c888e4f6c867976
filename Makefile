# Two commands for a fresh machine with Python 3.11+: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
DEMO_HOME := demo-sandbox

.PHONY: demo test lint typecheck bench clean mutation

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

# Mutation testing of domain/ with mutmut over tests/unit and tests/property
# (not in CI: many CPU minutes). One module at a time, two workers at most;
# `make mutation MODULES=domain/money.py` for one. Results stay in ./mutants
# (`.venv/bin/mutmut show NAME` shows a survivor); the survivors judged
# equivalent are listed in tests/mutation-survivors.md.
MUTATION_STAMP := $(VENV)/.mutation-stamp
MODULES ?= domain/money.py domain/decide.py domain/state.py \
	$(filter-out domain/__init__.py domain/money.py domain/decide.py domain/state.py,$(wildcard domain/*.py)) \
	$(filter-out domain/rules/__init__.py,$(wildcard domain/rules/*.py))

$(MUTATION_STAMP): $(STAMP)
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

bench: $(STAMP)
	$(BIN)/ledger bench --json

clean:
	rm -rf $(VENV) $(DEMO_HOME) .pytest_cache .mypy_cache .ruff_cache .hypothesis

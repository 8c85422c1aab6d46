# Two entry points that work on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PYTEST_ARGS ?=

.PHONY: demo test bench-api bench-reconcile bench-discovery bench-funding bench-ui clean

$(BIN)/fleet: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	$(BIN)/pybabel compile -d fleet/translations
	touch $@

demo: $(BIN)/fleet            ## run the service on SQLite with the demo carrier
	$(BIN)/fleet demo --serve

test: $(BIN)/fleet            ## run the test suite (FLEET_TEST_DATABASE_URL selects PostgreSQL)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

bench-api: $(BIN)/fleet
	$(BIN)/python bench/api.py

bench-reconcile: $(BIN)/fleet
	$(BIN)/python bench/reconcile.py

bench-discovery: $(BIN)/fleet
	$(BIN)/python bench/discovery.py

bench-funding: $(BIN)/fleet
	$(BIN)/python bench/funding.py

bench-ui: $(BIN)/fleet
	$(BIN)/python bench/ui.py

clean:
	rm -rf $(VENV) instance .pytest_cache

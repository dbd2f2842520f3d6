# The two commands a newcomer needs: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PORT ?= 8001
DB ?= db/talks.db
STAMP := $(VENV)/.installed

.PHONY: setup demo db test bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

setup: $(STAMP)

## Build db/talks.db from the bundled snapshot (no network) and serve it.
demo: db
	$(BIN)/talks serve --db $(DB) --port $(PORT)

db: setup
	$(BIN)/talks sync --snapshot --db $(DB)

## Set up and run every test (browser tests need /usr/bin/chromium: see .ci/run).
test: setup
	$(BIN)/python -m pytest

bench: setup
	$(BIN)/python -m tests.bench

clean:
	rm -rf $(VENV) $(DB) $(DB)-wal $(DB)-shm $(DB).lock

# The two commands a newcomer needs: `make demo` and `make test`.
# PYTHON picks the interpreter (python3.10 to python3.13, or a path); each gets its own
# virtual environment: .venv for the default python3, .venv-3.X for any other.
PYTHON ?= python3
PYENV_ROOT ?= $(HOME)/.pyenv
PORT ?= 8001
DB ?= db/talks.db

# The interpreter PYTHON names, as a path: the first that runs of the one on PATH and, for a
# bare name, pyenv's installed versions (pyenv's shims are on PATH but fail for a version
# that is not selected).
PYTHON_EXE := $(shell for p in "$$(command -v '$(PYTHON)')" \
	$(if $(findstring /,$(PYTHON)),,$(wildcard $(PYENV_ROOT)/versions/*/bin/$(PYTHON))); do \
	[ -n "$$p" ] && "$$p" -c 'import sys; print(sys.executable)' 2>/dev/null && break; done)
PYTHON_VERSION := $(if $(PYTHON_EXE),$(shell '$(PYTHON_EXE)' -c 'import sys; print("%d.%d" % sys.version_info[:2])'))
VENV ?= $(if $(filter python3,$(PYTHON)),.venv,.venv-$(PYTHON_VERSION))
BIN := $(VENV)/bin
# Named by version, so a venv made by another Python (python3 upgraded) is made anew.
STAMP := $(VENV)/.installed-$(PYTHON_VERSION)
CHECK_PYTHON = if [ -z '$(PYTHON_EXE)' ]; then \
	  echo "make: no Python '$(PYTHON)' here: not on PATH (or only a pyenv shim of a version not selected)" \
	    "nor in $(PYENV_ROOT)/versions. Install it, or pass PYTHON=python3.X or PYTHON=/path/to/python." >&2; \
	  exit 1; fi; \
	'$(PYTHON_EXE)' -c 'import sys; sys.exit(sys.version_info < (3, 10))' || { \
	  echo "make: talks needs Python 3.10 or newer; $(PYTHON) is $(PYTHON_VERSION)." >&2; exit 1; }

.PHONY: setup demo db test bench clean python-path

# Made anew whenever pyproject.toml changes, so a dependency taken out is gone too.
$(STAMP): pyproject.toml
	@$(CHECK_PYTHON)
	@if [ -f $(VENV)/pyvenv.cfg ]; then rm -rf $(VENV); fi
	'$(PYTHON_EXE)' -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

setup: $(STAMP)

## The interpreter PYTHON resolves to (its path), or why there is none.
python-path:
	@$(CHECK_PYTHON); echo '$(PYTHON_EXE)'

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
	rm -rf .venv .venv-[0-9]* $(DB) $(DB)-wal $(DB)-shm $(DB).lock

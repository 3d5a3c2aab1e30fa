# zhunong — the first two commands: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: help install demo serve test test-fast lint e2e bench clean lock

help:
	@echo "make demo   - install, migrate, load the demo county and serve on http://$(HOST):$(PORT)"
	@echo "make test   - run the whole test suite"
	@echo "make lint   - ruff and the import-linter layer contracts"
	@echo "make e2e    - browser end-to-end story (headless Chromium)"

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: $(BIN)/activate pyproject.toml requirements.lock
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c requirements.lock -e '.[dev]'
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

install: $(VENV)/.installed node_modules/.installed

# Demo mode: the sandbox payment gateway runs with DEBUG off (docs/decisions/0007-payment-provider.md).
demo: export ZHUNONG_DEMO = 1
demo: install
	$(BIN)/zhunong migrate --noinput
	$(BIN)/zhunong seed_demo
	$(BIN)/zhunong serve --host $(HOST) --port $(PORT) --demo-video

serve: install
	$(BIN)/zhunong serve --host $(HOST) --port $(PORT)

test: install
	$(BIN)/pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/lint-imports

e2e: install
	$(BIN)/pytest e2e

# Re-pin Python dependencies after changing pyproject.toml.
lock: $(BIN)/activate
	$(BIN)/pip install --quiet -e '.[dev]'
	$(BIN)/pip freeze --exclude-editable | grep -v '^-e' > requirements.lock

clean:
	rm -rf $(VENV) node_modules var

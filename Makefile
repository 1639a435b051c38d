# Two commands on a fresh machine: `make run` and `make test`. Both create .venv first.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: run send-call test lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.run-installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.test-installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@ $(VENV)/.run-installed

run: $(VENV)/.run-installed  ## start callrec on its embedded defaults (./var)
	$(BIN)/callrec serve

# The CLI is $(BIN)/callrec; run it from this folder so it finds ./var like `make run`.
# CALLER and AGENT are optional: make send-call FILE=call.wav CALLER=+358401234567 AGENT=maija
ifneq ($(filter send-call,$(MAKECMDGOALS)),)
ifeq ($(FILE),)
$(error give the file: make send-call FILE=call.wav [CALLER=+358...] [AGENT=username])
endif
endif
send-call: $(VENV)/.run-installed  ## post FILE to the running service: make send-call FILE=call.wav
	$(BIN)/callrec send-call "$(FILE)" $(if $(CALLER),--caller "$(CALLER)") $(if $(AGENT),--agent "$(AGENT)")

lint: $(VENV)/.test-installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports  # imports point down only (docs/ARCHITECTURE.md section 1)

# The console's browser tests drive Debian's Chromium (Playwright cannot download its own
# browser here); install it when the machine has none.
CHROMIUM ?= /usr/bin/chromium

$(CHROMIUM):
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium

# The transcription tests make Finnish speech with espeak-ng (Debian package) for the model to
# hear; install it when the machine has none.
ESPEAK ?= /usr/bin/espeak-ng

$(ESPEAK):
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq espeak-ng

# The single sign-on tests run a real OpenID provider (panva's oidc-provider) under Node.js,
# installed exactly as package-lock.json pins it.
tests/oidc/node_modules: tests/oidc/package-lock.json
	cd tests/oidc && npm ci --no-audit --no-fund
	touch $@

test: lint $(CHROMIUM) $(ESPEAK) tests/oidc/node_modules  ## lint, type-check and run every test (real PostgreSQL, S3, Chromium, espeak-ng speech, an OpenID provider)
	$(BIN)/pytest

bench: $(VENV)/.test-installed
	$(BIN)/python -m bench.crypto

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache

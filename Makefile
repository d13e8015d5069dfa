# SaveDesk: `make demo` runs a full cancellation on the local stack; `make test` runs every check.
# Both set everything up first on a fresh clone (Python 3.13 venv, SAM CLI, Chromium).
SHELL := /bin/bash
.DEFAULT_GOAL := help

# Python 3.13: on PATH, or among pyenv's installed versions.
PYTHON313 ?= $(shell for p in $$(command -v python3.13 2>/dev/null) $$(ls -d $$(pyenv root 2>/dev/null || echo $$HOME/.pyenv)/versions/3.13*/bin/python3.13 2>/dev/null | sort -V | tail -1); do "$$p" -c 'import sys; assert sys.version_info[:2] == (3, 13)' 2>/dev/null && { echo "$$p"; break; }; done)
VENV := .venv
PY := $(VENV)/bin/python
SAM_VENV := .tools/sam
SAM := $(SAM_VENV)/bin/sam
CHECKOV_VENV := .tools/checkov
CHECKOV := $(CHECKOV_VENV)/bin/checkov
# sam builds for python3.13 and wants that interpreter on PATH.
SAM_ENV := PATH="$(dir $(PYTHON313)):$$PATH" SAM_CLI_TELEMETRY=0

export SAM_CLI_TELEMETRY := 0

.PHONY: help venv tools chromium demo serve test unit lint sam-check bench clean

help:
	@echo "make demo   - set up, then run a saved case and a cancelled case on the local stack"
	@echo "make test   - set up, then lint, validate and build the template, and run every test"
	@echo "make serve  - run the local stack in the foreground (Ctrl-C stops it)"
	@echo "make bench  - performance figures (not part of make test)"

python313:
	@test -n "$(PYTHON313)" || { echo "Python 3.13 not found: put python3.13 on PATH or run 'pyenv install 3.13'." >&2; exit 1; }

$(VENV)/.installed: requirements-dev.txt layers/savedesk/requirements.txt | python313
	@test -x $(PY) || $(PYTHON313) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check -r requirements-dev.txt
	$(PY) -m pip install -q --disable-pip-version-check --no-deps -e .
	@touch $@

venv: $(VENV)/.installed

# The SAM CLI pins its own dependencies, so it gets a virtualenv of its own.
$(SAM_VENV)/.installed: | python313
	@test -x $(SAM_VENV)/bin/python || $(PYTHON313) -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/pip install -q --disable-pip-version-check aws-sam-cli==1.170.0
	@touch $@

# checkov pins dozens of packages of its own too (boto3, networkx, ...): a virtualenv of its own.
$(CHECKOV_VENV)/.installed: | python313
	@test -x $(CHECKOV_VENV)/bin/python || $(PYTHON313) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/pip install -q --disable-pip-version-check checkov==3.3.30
	@touch $@

tools: $(SAM_VENV)/.installed $(CHECKOV_VENV)/.installed

# Headless Chromium renders the emails in the browser tests (Debian's package; root installs it).
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing chromium (Debian package) for the email screenshot tests"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-liberation >/dev/null; \
	  else echo "chromium is missing and cannot be installed here: the browser tests will be skipped" >&2; fi; }

demo: venv
	$(PY) -m local.demo

serve: venv
	$(PY) -m local.serve

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy layers/savedesk/savedesk local functions
	$(VENV)/bin/bandit -q -r layers/savedesk/savedesk functions -ll

# validate --lint: the SAM transform plus cfn-lint. checkov: security policies on the template; each
# skipped check is in the resource's Metadata with its reason. --skip-download keeps it offline.
sam-check: tools
	$(SAM_ENV) $(SAM) validate --lint
	$(CHECKOV) -f template.yaml --framework cloudformation --compact --quiet --skip-download
	$(SAM_ENV) $(SAM) build --cached --build-dir .aws-sam/build

unit: venv
	$(VENV)/bin/pytest tests/unit tests/contract -q

test: venv tools chromium lint sam-check
	$(VENV)/bin/pytest -q

bench: venv
	$(PY) -m local.bench

clean:
	rm -rf .local .aws-sam tests/artifacts

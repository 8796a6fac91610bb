# 選型助手 — the two commands of the Quick start are `make run` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
PIP    := $(VENV)/bin/pip
HOST   ?= 127.0.0.1
PORT   ?= 7860

.PHONY: install install-test browser run index test test-fast eval bench lint audit clean

$(PY):
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11+ is required")'
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

# First install compiles llama-cpp-python from source (about 7 minutes on 2 cores); pip caches the wheel.
$(VENV)/.installed: pyproject.toml | $(PY)
	$(PIP) install -e .
	@touch $@

$(VENV)/.installed-test: pyproject.toml | $(PY)
	$(PIP) install -e '.[test]'
	@touch $@ $(VENV)/.installed

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

# Debian chromium + CJK fonts for the real-browser tests (apt, as root); skipped when present.
browser:
	@if [ ! -x /usr/bin/chromium ] || ! fc-list 2>/dev/null | grep -qi "noto.*cjk"; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk >/dev/null) \
	      || echo "warning: could not install chromium/fonts-noto-cjk; browser tests will fail"; \
	  else echo "note: install chromium and fonts-noto-cjk for the browser tests"; fi; \
	fi

index: install
	$(PY) -m assistant index

run: install
	$(PY) -m assistant index
	$(PY) app.py --host $(HOST) --port $(PORT)

test: install-test browser
	$(PY) tools/audit.py
	$(PY) -m assistant catalog check --strict-from 2000-01-01
	$(PY) -m pytest

test-fast: install-test
	$(PY) -m pytest -m "not slow and not browser"

# The public set is kept in eval/public/; `make eval PUBLIC_EVAL=<folder>` scores another copy of it.
PUBLIC_EVAL ?= eval/public
eval: install
	$(PY) -m assistant eval --no-llm --questions $(PUBLIC_EVAL)/questions.jsonl --questions $(PUBLIC_EVAL)/questions-conversation.jsonl
	$(PY) -m assistant eval --no-llm --questions eval/questions.jsonl
	$(PY) -m assistant eval --no-llm --questions eval/questions-holdout.jsonl
	$(PY) -m assistant eval --no-llm --questions eval/questions-fresh.jsonl

bench: install
	$(PY) -m assistant bench

lint: install-test
	$(VENV)/bin/ruff check assistant tests app.py

audit: install-test
	$(VENV)/bin/pip-audit --skip-editable --progress-spinner off

clean:
	rm -rf data .pytest_cache .hypothesis

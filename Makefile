# One command runs the bot (make demo), one runs the tests (make test).
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo demo-wecom demo-dingtalk test lint serve clean

$(STAMP): requirements.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "需要 Python 3.11 或更高版本 (Python 3.11+ required)")'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $(STAMP)

## demo: SQLite database, demo organisation, terminal chat simulator
demo: $(STAMP)
	$(PY) -m bot demo

## test: the whole suite (SQLite, or the server in YBT_TEST_DATABASE_URL)
test: $(STAMP)
	$(PY) -m pytest

## lint: ruff check and format check
lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

## serve: the HTTP server (health check, simulator endpoint)
serve: $(STAMP)
	$(PY) -m bot serve

clean:
	rm -rf $(VENV) var

## demo-wecom: the same demo through the whole WeCom path, against the local WeCom emulator
demo-wecom: $(STAMP)
	$(PY) -m bot demo --wecom

## demo-dingtalk: the same demo through the whole DingTalk Stream path, against the local DingTalk emulator
demo-dingtalk: $(STAMP)
	$(PY) -m bot demo --dingtalk

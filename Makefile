# cacl-mm developer entry points. Every target creates/reuses the local virtual
# environment in .venv, so a fresh machine needs nothing but python3 (3.9+).
PYTHON ?= python3
VENV := .venv
VPY := $(VENV)/bin/python
STAMP := $(VENV)/.cacl-mm-installed
PYTEST_ARGS ?=

.PHONY: venv test clean-venv

# The stamp is rebuilt whenever a dependency list changes, so a second run
# reuses the environment and a changed pin reinstalls.
$(STAMP): requirements.txt requirements-test.txt pyproject.toml
	@test -x $(VPY) || $(PYTHON) -m venv $(VENV)
	$(VPY) -m pip install -q -r requirements.txt -r requirements-test.txt
	$(VPY) -m pip install -q --no-deps --no-build-isolation -e .
	@touch $(STAMP)

venv: $(STAMP)

test: $(STAMP)
	$(VPY) -m pytest -q $(PYTEST_ARGS) tests

clean-venv:
	rm -rf $(VENV)

# cacl-mm developer entry points. Every target creates/reuses the local virtual
# environment in .venv, so a fresh machine needs nothing but python3 (3.10+, torch 2.13's floor).
PYTHON ?= python3
VENV := .venv
VPY := $(VENV)/bin/python
STAMP := $(VENV)/.cacl-mm-installed
PYTEST_ARGS ?=
# Most tests run real subprocesses on one thread each: two pytest workers
# keep both cores busy (pytest-xdist). Each worker takes whole test files,
# longest first (the order of tests/conftest.py), so no module fixture runs
# twice. PYTEST_WORKERS=0 runs them in one.
PYTEST_WORKERS ?= 2

.PHONY: venv test demo lint clean-venv

# `make demo`: the main job end to end on the embedded benchmark.
# SEEDS="0 1 2" runs several seeds and writes mean +- sd (study.md),
# ABLATE=1 adds the ablation rows, DEMO_OUT moves the results.
SEEDS ?= 0
ABLATE ?= 0
DEMO_OUT ?= work_dirs/demo

# The stamp is rebuilt whenever a dependency list changes, so a second run
# reuses the environment and a changed pin reinstalls.
$(STAMP): requirements.txt requirements-test.txt pyproject.toml
	@test -x $(VPY) || $(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else "cacl-mm needs Python 3.10+ (torch 2.13), found " + sys.version.split()[0] + ": run make PYTHON=python3.10 (or later)")'
	@test -x $(VPY) || $(PYTHON) -m venv $(VENV)
	$(VPY) -m pip install -q -r requirements.txt -r requirements-test.txt
	$(VPY) -m pip install -q --no-deps --no-build-isolation -e .
	@touch $(STAMP)

venv: $(STAMP)

# yapf's grammar cache is written before processes start in parallel: yapf
# 0.43 can otherwise hand one of them a half-written pickle (cacl_mm/compat.py,
# workaround 11).
YAPF_CACHE := $(VPY) cacl_mm/compat.py --prepare-yapf-cache

test: $(STAMP)
	@$(YAPF_CACHE)
	$(VPY) -m pytest -q -n $(PYTEST_WORKERS) --dist loadfile --no-loadscope-reorder $(PYTEST_ARGS) tests

# `make lint`: OpenMMLab's checks (flake8, isort, yapf) through pre-commit's
# local hooks (.pre-commit-config.yaml), with the versions in
# requirements-lint.txt; no hook repository is downloaded.
LINT_STAMP := $(VENV)/.cacl-mm-lint-installed
$(LINT_STAMP): requirements-lint.txt
	@test -x $(VPY) || $(PYTHON) -m venv $(VENV)
	$(VPY) -m pip install -q -r requirements-lint.txt
	@touch $(LINT_STAMP)

lint: $(LINT_STAMP)
	@$(YAPF_CACHE)
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(VPY) -m pre_commit run --all-files --show-diff-on-failure

demo: $(STAMP)
	$(VPY) tools/demo.py --seeds $(SEEDS) --out-dir $(DEMO_OUT) $(if $(filter 1,$(ABLATE)),--ablate,)

clean-venv:
	rm -rf $(VENV)

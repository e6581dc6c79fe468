# The two commands a newcomer needs: `make demo` and `make test` (see README.md).
#
# Support matrix: ansible-core 2.16 (oldest, AAP 2.5) to 2.21 (newest), controller Python 3.11 to 3.13.
# The main .venv (pytest suite, demo, lint, docs, EE, galaxy-importer) runs the newest ansible-core, which needs
# Python 3.12+; the newest suitable Python found is used (`make PYTHON=/path/to/python3.x` overrides it).
FIND_PYTHON := $(CURDIR)/tests/tools/find_python.sh
NEWEST_PYTHONS := 3.13 3.12
ifeq ($(origin PYTHON),undefined)
PYTHON := $(shell $(FIND_PYTHON) $(NEWEST_PYTHONS))
ifeq ($(PYTHON),)
PYTHON := python3
PYTHON_NOTE := No Python 3.13 or 3.12 found (python3.13/python3.12 on PATH, pyenv versions, /usr/local/bin, \
	/usr/bin): .venv falls back to python3, where pip installs the newest ansible-core that Python supports, not 2.21. \
	Install Python 3.12 or 3.13 (for example with pyenv install 3.13) and run make clean venv.
endif
endif
VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
COLLECTIONS := $(CURDIR)/build/collections
COLLECTION_LINK := $(COLLECTIONS)/ansible_collections/alicloud/rollout
export ANSIBLE_COLLECTIONS_PATH := $(COLLECTIONS)
export PATH := $(BIN):$(PATH)

.PHONY: all venv collection demo test test-quick test-python test-emulator test-unit test-integration sanity units \
	lint changelog docs ee galaxy-importer test-matrix bench clean

all: test

venv: $(VENV)/.installed

$(VENV)/.installed: requirements.txt tests/requirements-dev.txt tests/emulator/pyproject.toml
	$(if $(PYTHON_NOTE),@echo "WARNING: $(PYTHON_NOTE)" >&2)
	@echo "$(VENV): $$($(PYTHON) -c 'import sys; print("Python %d.%d.%d" % sys.version_info[:3])') from $(PYTHON)"
	rm -rf $(VENV)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install -q --disable-pip-version-check -r requirements.txt -r tests/requirements-dev.txt -e tests/emulator
	@$(BIN)/ansible --version | head -1
	touch $@

# Ansible finds the collection through a link from a collections path to this checkout.
collection: $(COLLECTION_LINK)

$(COLLECTION_LINK):
	mkdir -p $(dir $@)
	ln -sfn $(CURDIR) $@

demo: venv collection
	$(BIN)/python tests/demo/run_demo.py

# Everything the project checks; each part is a target of its own, so a failure names the part.
# Cheap static checks first. About 17 minutes on a quiet 2-core machine (see README).
test: changelog ee docs lint galaxy-importer sanity units test-python
	@echo "make test: all checks passed"

# The edit loop: cheap static checks, then the emulator's and the unit suites (see README for the time).
test-quick: venv collection changelog docs lint
	$(PYTEST) tests/emulator/tests tests/unit
	@echo "make test-quick: passed (make test runs everything)"

# pytest runs files in parallel (pytest-xdist): each worker starts an emulator of its own (tests/conftest.py) and
# takes whole files, so a file's module-scoped fixtures are built once. Most of a test's time is spent waiting on
# the emulator's clock or on an ansible-playbook child, so more workers than cores pay; PYTEST_WORKERS=0 runs
# everything in one process. PYTEST_ARGS adds options, e.g. PYTEST_ARGS=--durations=20.
PYTEST_WORKERS ?= 3
PYTEST_ARGS ?=
PYTEST := $(BIN)/python -m pytest -q -p no:cacheprovider $(if $(filter-out 0,$(PYTEST_WORKERS)),-n $(PYTEST_WORKERS) \
	--dist loadfile) $(PYTEST_ARGS)

# pytest: emulator, unit and integration suites (galaxy package, EE, AWX runner, ansible-doc, RAM policy...).
test-python: venv collection
	$(PYTEST) tests/emulator/tests tests/unit tests/integration

test-emulator: venv
	$(PYTEST) tests/emulator/tests

test-unit: venv collection
	$(PYTEST) tests/unit

test-integration: venv collection
	$(PYTEST) tests/integration

# ansible-test sanity and units on the oldest and the newest ansible-core we support, each from a venv of its own.
# Every other ansible-core gets a venv .venv-core<version>; its Python is the newest that core supports as a
# controller and that the machine has (2.16 and 2.17 stop at 3.12, 2.20 and 2.21 start at 3.12).
OLDEST_CORE := 2.16
NEWEST_CORE := 2.21
MATRIX_CORES := 2.17 2.18 2.19 2.20
core_pythons = $(if $(filter 2.16 2.17,$(1)),3.12 3.11 3.10,$(if $(filter 2.20 2.21,$(1)),3.13 3.12,3.13 3.12 3.11))
CORE_VENVS := $(VENV)/.installed $(VENV)-core$(OLDEST_CORE)/.installed
.PRECIOUS: $(VENV)-core%/.installed $(VENV)-core%/.smoke-installed

$(VENV)-core%/.installed:
	@python=$$($(FIND_PYTHON) $(call core_pythons,$*)) || { echo "ansible-core $* needs one of Python \
		$(call core_pythons,$*) as a controller: none found (PATH, pyenv versions, /usr/local/bin, /usr/bin)" >&2; \
		exit 1; }; \
	echo "$(VENV)-core$*: ansible-core $* on $$python"; \
	rm -rf $(VENV)-core$* && $$python -m venv $(VENV)-core$*
	$(VENV)-core$*/bin/python -m pip install -q --disable-pip-version-check --upgrade pip
	$(VENV)-core$*/bin/python -m pip install -q --disable-pip-version-check 'ansible-core==$*.*' pyyaml
	touch $@

sanity: $(CORE_VENVS)
	$(BIN)/python tests/sanity/run_sanity.py $(VENV)-core$(OLDEST_CORE)/bin/ansible-test sanity
	$(BIN)/python tests/sanity/run_sanity.py $(BIN)/ansible-test sanity

# The collection's own unit tests (tests/unit, requirements in tests/unit/requirements.txt) under ansible-test.
units: $(CORE_VENVS)
	$(BIN)/python tests/sanity/run_sanity.py $(VENV)-core$(OLDEST_CORE)/bin/ansible-test units
	$(BIN)/python tests/sanity/run_sanity.py $(BIN)/ansible-test units

# Not part of `make test`: the integration smoke set on every ansible-core between the oldest and the newest
# (2.16 and 2.21 are covered by sanity, units and the full suite). 2-3 minutes per core (measured), plus about 1 minute to create its venv.
SMOKE_TESTS := tests/integration/test_docs_render.py tests/integration/test_no_warnings.py \
	tests/integration/test_ess_rolling_update.py::test_image_rollout_updates_every_instance_and_the_configuration_and_a_rerun_is_a_no_op \
	tests/integration/test_ess_rolling_update.py::test_check_mode_makes_no_change_and_returns_plan_and_diff \
	tests/integration/test_role_rolling_update.py::test_image_canary_with_a_passing_health_gate_completes \
	tests/integration/test_role_rolling_update.py::test_unhealthy_new_image_is_rolled_back_and_the_play_fails_with_a_summary

$(VENV)-core%/.smoke-installed: $(VENV)-core%/.installed requirements.txt tests/emulator/pyproject.toml
	$(VENV)-core$*/bin/python -m pip install -q --disable-pip-version-check -r requirements.txt pytest requests \
		-e tests/emulator
	touch $@

test-matrix: collection $(foreach core,$(MATRIX_CORES),$(VENV)-core$(core)/.smoke-installed)
	@for core in $(MATRIX_CORES); do \
		echo "== integration smoke set on ansible-core $$core"; \
		$(VENV)-core$$core/bin/python -m pytest -q -p no:cacheprovider $(SMOKE_TESTS) || exit 1; \
	done
	@echo "make test-matrix: the smoke set passed on ansible-core $(MATRIX_CORES)"

# ansible-lint production profile over the Ansible content (config: .ansible-lint).
lint: venv collection
	$(BIN)/ansible-lint --profile production roles/ playbooks/ meta/

# galaxy-importer, as Galaxy and Automation Hub run it on an uploaded tarball (config: tests/galaxy-importer.cfg).
galaxy-importer: venv
	$(BIN)/python tests/tools/galaxy_import.py

changelog: venv
	$(BIN)/antsibull-changelog lint
	$(BIN)/antsibull-changelog lint-changelog-yaml changelogs/changelog.yaml

# Docsite lint of module and role docs (offline); ansible-doc rendering is tests/integration/test_docs_render.py.
docs: venv collection
	$(BIN)/antsibull-docs lint-collection-docs --plugin-docs $(COLLECTION_LINK)

# Execution environment: the collection's dependencies as ansible-builder sees them, and the documented definition.
ee: venv collection
	mkdir -p build/ee
	$(BIN)/ansible-builder introspect --sanitize --write-pip build/ee/requirements.txt $(COLLECTIONS)
	grep -q '^alibabacloud-oos20190601' build/ee/requirements.txt
	$(BIN)/ansible-builder create -f docs/execution-environment.yml -c build/ee/context

bench: venv collection
	$(BIN)/python tests/bench/run_bench.py

clean:
	rm -rf build $(VENV) bench-results.json

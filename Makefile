# The two commands a newcomer needs: `make demo` and `make test` (see README.md).
PYTHON ?= python3
VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
COLLECTIONS := $(CURDIR)/build/collections
COLLECTION_LINK := $(COLLECTIONS)/ansible_collections/alicloud/rollout
export ANSIBLE_COLLECTIONS_PATH := $(COLLECTIONS)
export PATH := $(BIN):$(PATH)

.PHONY: all venv collection demo test test-python test-emulator test-unit test-integration sanity units lint \
	changelog docs ee bench clean

all: test

venv: $(VENV)/.installed

$(VENV)/.installed: requirements.txt tests/requirements-dev.txt tests/emulator/pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install -q --disable-pip-version-check -r requirements.txt -r tests/requirements-dev.txt -e tests/emulator
	touch $@

# Ansible finds the collection through a link from a collections path to this checkout.
collection: $(COLLECTION_LINK)

$(COLLECTION_LINK):
	mkdir -p $(dir $@)
	ln -sfn $(CURDIR) $@

demo: venv collection
	$(BIN)/python tests/demo/run_demo.py

# Everything the project checks; each part is a target of its own, so a failure names the part.
# Cheap static checks first. About 10 minutes on 2 cores (see README).
test: changelog ee docs lint sanity units test-python
	@echo "make test: all checks passed"

# pytest: emulator, unit and integration suites (galaxy package, EE, AWX runner, ansible-doc, RAM policy...).
test-python: venv collection
	$(BIN)/python -m pytest -q -p no:cacheprovider tests/emulator/tests tests/unit tests/integration

test-emulator: venv
	$(BIN)/python -m pytest -q -p no:cacheprovider tests/emulator/tests

test-unit: venv collection
	$(BIN)/python -m pytest -q -p no:cacheprovider tests/unit

test-integration: venv collection
	$(BIN)/python -m pytest -q -p no:cacheprovider tests/integration

# ansible-test sanity on the oldest and newest ansible-core we support, each from a venv of its own.
OLDEST_CORE := 2.16
CORE_VENVS := $(VENV)/.installed $(VENV)-core$(OLDEST_CORE)/.installed

$(VENV)-core$(OLDEST_CORE)/.installed:
	$(PYTHON) -m venv $(VENV)-core$(OLDEST_CORE)
	$(VENV)-core$(OLDEST_CORE)/bin/python -m pip install -q --disable-pip-version-check 'ansible-core==$(OLDEST_CORE).*' pyyaml
	touch $@

sanity: $(CORE_VENVS)
	$(BIN)/python tests/sanity/run_sanity.py $(VENV)-core$(OLDEST_CORE)/bin/ansible-test sanity
	$(BIN)/python tests/sanity/run_sanity.py $(BIN)/ansible-test sanity

# The collection's own unit tests (tests/unit, requirements in tests/unit/requirements.txt) under ansible-test.
units: $(CORE_VENVS)
	$(BIN)/python tests/sanity/run_sanity.py $(VENV)-core$(OLDEST_CORE)/bin/ansible-test units
	$(BIN)/python tests/sanity/run_sanity.py $(BIN)/ansible-test units

# ansible-lint production profile over the Ansible content (config: .ansible-lint).
lint: venv collection
	$(BIN)/ansible-lint --profile production roles/ playbooks/ meta/

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

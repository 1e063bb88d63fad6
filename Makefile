# Two commands for a fresh Debian 12 machine, as root: `make demo` and `make test`.
# Every target installs what it is missing first and is safe to re-run.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

ROOT := $(abspath .)
PYTHON ?= python3
VENV := $(ROOT)/.venv
BIN := $(VENV)/bin
BUILD := $(ROOT)/build
COLLECTIONS := $(BUILD)/collections
TEST_TREE := $(BUILD)/ansible-test/ansible_collections/idmops/lifecycle
TEST_HOME := $(BUILD)/ansible-test-home
GET_PIP_CACHE := $(TEST_HOME)/.ansible/test/cache
ANSIBLE_TEST := cd $(TEST_TREE) && HOME=$(TEST_HOME) $(BIN)/ansible-test
ANSIBLE_TEST_PYTHON := 3.11

export PATH := $(BIN):$(PATH)
export ANSIBLE_COLLECTIONS_PATH := $(COLLECTIONS)
export ANSIBLE_CONFIG := $(ROOT)/ansible.cfg
# molecule and ansible-lint install the collection into ANSIBLE_HOME; a copy left in ~/.ansible by an
# older checkout would shadow this one.
export ANSIBLE_HOME := $(BUILD)/ansible-home

.PHONY: help deps system-deps venv collection test-tree test lint sanity units integration \
        molecule demo bench lab-up lab-down lab-status changelog clean docs ee awx-collection

help:
	@echo "make demo    upgrade the lab's AM site under load and write build/demo-report.json"
	@echo "make test    lint, sanity, unit, integration and molecule tests on the local lab"
	@echo "make bench   rolling-window benchmarks into bench/results/"
	@echo "make lab-up | lab-down | lab-status"

deps: system-deps venv collection

system-deps:
	$(ROOT)/tools/install-system-deps

venv: $(VENV)/.installed

$(VENV)/.installed: requirements-dev.txt constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check -r requirements-dev.txt -c constraints.txt
	touch $@

# Runtime view of the checkout as an installed collection (ansible-playbook, molecule, lint).
collection:
	mkdir -p $(COLLECTIONS)/ansible_collections/idmops
	ln -sfn $(ROOT) $(COLLECTIONS)/ansible_collections/idmops/lifecycle

# ansible-test resolves symlinks and wants a real ansible_collections/<ns>/<name>/ directory:
# a copy of what git would commit (tracked and new, minus ignored files). The copy lies inside
# this checkout's build/, which git ignores, so it gets a repository of its own for ansible-test.
test-tree: venv
	rm -rf $(TEST_TREE) && mkdir -p $(TEST_TREE)
	git ls-files -co --exclude-standard | while read -r f; do [[ -e "$$f" ]] && echo "$$f"; done \
	  | rsync -a --files-from=- $(ROOT)/ $(TEST_TREE)/
	cd $(TEST_TREE) && git init -q && git add -A

# ansible-test downloads a get-pip script from a host that is unreachable here; it uses a cached
# copy when one exists, so give it ours, which installs the pip wheel fetched from PyPI.
$(GET_PIP_CACHE)/get_pip_24_2.py: tools/get_pip_standin.py
	mkdir -p $(GET_PIP_CACHE)
	$(BIN)/pip download -q --disable-pip-version-check --no-deps -d $(GET_PIP_CACHE) pip==24.2
	cp tools/get_pip_standin.py $@

lint: deps awx-collection
	$(BIN)/ansible-lint --profile production

sanity: deps test-tree $(GET_PIP_CACHE)/get_pip_24_2.py
	$(ANSIBLE_TEST) sanity --python $(ANSIBLE_TEST_PYTHON) --color no --requirements

units: deps test-tree
	$(ANSIBLE_TEST) units --local --python $(ANSIBLE_TEST_PYTHON) --color no

integration: deps test-tree awx-collection
	$(ANSIBLE_TEST) integration --local --python $(ANSIBLE_TEST_PYTHON) --color no --allow-destructive --allow-root

molecule: deps
	$(ROOT)/lab/up
	rc=0; $(BIN)/molecule test --all || rc=$$?; $(ROOT)/lab/down; exit $$rc

test: lint sanity units integration molecule
	@echo "make test: all suites passed"

demo: deps
	$(BIN)/python $(ROOT)/tools/demo.py --report $(BUILD)/demo-report.json

bench: deps
	$(BIN)/python $(ROOT)/bench/rolling_window.py --results $(ROOT)/bench/results
	$(BIN)/python $(ROOT)/bench/vidm_cluster_roll.py --results $(ROOT)/bench/results

lab-up: deps
	$(ROOT)/lab/up

lab-down:
	$(ROOT)/lab/down

lab-status:
	$(ROOT)/lab/status

changelog: venv
	$(BIN)/antsibull-changelog lint

# Module, role and plugin reference (RST) from the collection's own documentation, in build/docs/reference.
DOCS_VENV := $(BUILD)/docs-venv
docs: collection $(DOCS_VENV)/.installed
	rm -rf $(BUILD)/docs/reference && mkdir -p $(BUILD)/docs/reference
	PATH=$(DOCS_VENV)/bin:$$PATH antsibull-docs collection --use-current --dest-dir $(BUILD)/docs/reference \
	  idmops.lifecycle
	@echo "make docs: $(BUILD)/docs/reference/collections/idmops/lifecycle/index.rst"

$(DOCS_VENV)/.installed: docs/reference/requirements.txt
	test -x $(DOCS_VENV)/bin/python || $(PYTHON) -m venv $(DOCS_VENV)
	$(DOCS_VENV)/bin/pip install -q --disable-pip-version-check -r docs/reference/requirements.txt
	touch $@

# Build context of the execution environment (execution-environment.yml) in build/ee; build the image
# from it with podman or docker where one is installed.
ee: venv
	rm -rf $(BUILD)/ee-src $(BUILD)/ee && mkdir -p $(BUILD)/ee-src
	$(BIN)/ansible-galaxy collection build --force --output-path $(BUILD)/ee-src $(ROOT)
	mv $(BUILD)/ee-src/idmops-lifecycle-*.tar.gz $(BUILD)/ee-src/idmops-lifecycle.tar.gz
	$(BIN)/ansible-builder create -f execution-environment.yml --context $(BUILD)/ee --output-filename Containerfile

# awx.awx for playbooks/awx_configure.yml, from the `ansible` package pinned in constraints.txt.
awx-collection: venv
	$(ROOT)/awx/install-awx-collection $(COLLECTIONS)

clean: lab-down
	rm -rf $(BUILD) tests/output

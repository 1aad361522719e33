# The two commands of the README:
#   make demo   start the local lab and run the plugin against a healthy and two broken arrays
#   make test   lint, type-check and run the whole test suite (integration tier included)
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: demo lab test test-latest lock coverage mutation lint system-deps bench deb man clean

# The pinned test environment: every package of the test, lab, bench and mutation venvs at the
# version last tested (`make lock` refreshes it from today's releases).  It is exported as
# PIP_CONSTRAINT, so that the venvs the tests build themselves (the speed guard's, the
# integration tier's, pipx's) are pinned as well.  setup.cfg keeps lower bounds only: users
# and Debian bring their own versions, and `make test-latest` tries the newest.
CONSTRAINTS := $(abspath tests/constraints.txt)
PIP_CONSTRAINT ?= $(CONSTRAINTS)
export PIP_CONSTRAINT
MUTMUT := mutmut==2.5.1

# The Debian packages first (order-only: they never make the venv out of date): the test extra
# builds python-gssapi against libkrb5-dev.
$(BIN)/.installed: setup.cfg pyproject.toml tests/constraints.txt | system-deps
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

# The demo and the lab need the plugin's runtime dependencies only (and pyspnego, for the lab's
# NTLM Autodiscover site), not the test tools: a venv of their own.
LAB_VENV ?= build/lab-venv
LAB_BIN := $(LAB_VENV)/bin

$(LAB_BIN)/.installed: setup.cfg pyproject.toml tests/constraints.txt
	$(PYTHON) -m venv $(LAB_VENV)
	$(LAB_BIN)/pip install --quiet --disable-pip-version-check -e '.[ntlm]'
	touch $@

demo: $(LAB_BIN)/.installed
	$(LAB_BIN)/python -m contrib.lab.demo

# The lab by hand: every scenario, hostile ones included, until Ctrl-C; prints how to reach it.
lab: $(LAB_BIN)/.installed
	$(LAB_BIN)/python -m contrib.lab serve --summary --hostile $(LAB_ARGS)

lint: $(BIN)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# The whole suite under coverage.py (branch coverage of the package, the plugin's own processes
# included: pyproject.toml [tool.coverage.run]), then the report. The tests that watch the
# plugin's process itself (the modules it imports, the files it opens) run without coverage,
# which would add both. The report is printed either way; the status fails on a failed test or a
# coverage floor (tests/coverage_gate.py: 96 % of the package, 92 % of each module's branches in
# transport/, probes/, judgement/ and the words).
NO_COVERAGE := tests/test_import_hygiene.py \
	tests/test_autodiscover.py::test_default_path_imports_no_dns_http_or_xml \
	tests/test_security.py::test_a_check_writes_nothing_and_starts_no_process
test: $(BIN)/.installed system-deps lint
	@$(MAKE) --no-print-directory coverage

coverage: $(BIN)/.installed system-deps
	@rm -rf build/coverage && mkdir -p build/coverage
	@status=0; \
	$(BIN)/coverage run -m pytest $(foreach t,$(NO_COVERAGE),--deselect $(t)) $(PYTEST_ARGS) \
	    || status=$$?; \
	$(BIN)/pytest $(NO_COVERAGE) $(PYTEST_ARGS) || [ $$? = 5 ] || status=1; \
	$(BIN)/coverage combine -q && $(BIN)/coverage report || status=1; \
	$(BIN)/coverage json -q -o build/coverage.json \
	    && $(BIN)/python tests/coverage_gate.py build/coverage.json || status=1; \
	exit $$status

# The whole suite against the newest release of every dependency, before a fresh machine finds
# out: a copy of the tree under build/latest/ (venvs of its own), installed from setup.cfg with
# no constraints.  For maintainers, not CI.  When it passes, `make lock` pins today's releases;
# when it fails, the failure is the new release's, not the project's last change.
LATEST_TREE := build/latest/tree
test-latest:
	rm -rf build/latest && mkdir -p $(LATEST_TREE)
	git ls-files -z --cached --others --exclude-standard | xargs -0 tar -cf - | tar -xf - -C $(LATEST_TREE)
	$(MAKE) -C $(LATEST_TREE) test PIP_CONSTRAINT=

# Refresh tests/constraints.txt: every extra and the mutation tool installed unpinned into a
# throwaway venv, then frozen (pip, setuptools and wheel included; not the project itself).
LOCK_VENV := build/lock-venv
lock:
	rm -rf $(LOCK_VENV)
	PIP_CONSTRAINT= $(PYTHON) -m venv $(LOCK_VENV)
	PIP_CONSTRAINT= $(LOCK_VENV)/bin/pip install --quiet --disable-pip-version-check \
	    --upgrade pip setuptools wheel
	PIP_CONSTRAINT= $(LOCK_VENV)/bin/pip install --quiet --disable-pip-version-check \
	    '.[test,bench,ntlm]' '$(MUTMUT)'
	{ echo "# The pinned test environment (make lock; Python $$($(LOCK_VENV)/bin/python -c \
	    'import platform; print(platform.python_version())')).  Do not edit: run make lock."; \
	  $(LOCK_VENV)/bin/pip freeze --all --exclude check_outlook_anywhere; } > tests/constraints.txt.new
	mv tests/constraints.txt.new tests/constraints.txt
	# impacket, the RPC over HTTP witness (tests/test_impacket_witness.py), in a venv of its own:
	# it needs pyOpenSSL, which holds cryptography below the release the suite runs on.
	rm -rf $(LOCK_VENV)
	PIP_CONSTRAINT= $(PYTHON) -m venv $(LOCK_VENV)
	PIP_CONSTRAINT= $(LOCK_VENV)/bin/pip install --quiet --disable-pip-version-check impacket
	{ echo "# The impacket witness's venv, pinned (make lock).  Do not edit: run make lock."; \
	  $(LOCK_VENV)/bin/pip freeze --all; } > tests/witness-constraints.txt

# Mutation testing of the rules (docs/mutation.md): mutmut 2, in a venv of its own, on copies of
# the checkout (tests/mutants/mutation.sh): by default every module of judgement/, every room of
# check/words/, and transport's rts.py, auth.py and body.py;
# MUTATE=... MUTATION_TESTS=... to narrow it, MUTATION_JOBS=N modules at once.
MUTATION_VENV ?= build/mutation-venv
$(MUTATION_VENV)/bin/mutmut:
	$(PYTHON) -m venv $(MUTATION_VENV)
	$(MUTATION_VENV)/bin/pip install --quiet --disable-pip-version-check '$(MUTMUT)'

mutation: $(BIN)/.installed $(MUTATION_VENV)/bin/mutmut
	@MUTMUT=$(MUTATION_VENV)/bin/mutmut sh tests/mutants/mutation.sh

# Real daemons and peers the tests run (Debian packages); installed when missing and root.
system-deps:
	@sh tests/system-deps.sh

# The side-by-side benchmark of docs/benchmarks.md: hyperfine, the peers and matplotlib.
$(BIN)/.bench-installed: $(BIN)/.installed
	$(BIN)/pip install --quiet -e '.[test,bench]'
	touch $@

bench: $(BIN)/.bench-installed
	@sh tests/system-deps.sh bench/system-packages.txt
	$(BIN)/python bench/run.py $(BENCH_ARGS)

# The Debian package, built from a copy of the tree by Debian's tooling (debian/), into dist/;
# lintian must report no error and no warning. As root, missing build dependencies are installed.
DEB_TREE := build/deb/check-outlook-anywhere
deb:
	@if ! dpkg-checkbuilddeps >/dev/null 2>&1; then \
	    if [ "$$(id -u)" = 0 ]; then apt-get build-dep -y -qq ./ >/dev/null; \
	    else dpkg-checkbuilddeps; fi; fi
	@sh tests/system-deps.sh debian/lintian-packages.txt
	rm -rf build/deb && mkdir -p $(DEB_TREE) dist
	tar -cf - --exclude-vcs --exclude=./.venv --exclude=./build --exclude=./dist \
	    --exclude=./bench/.venv --exclude=./bench/results --exclude=__pycache__ \
	    --exclude='*.egg-info' --exclude=.pytest_cache --exclude=.mypy_cache \
	    --exclude=.ruff_cache . | tar -xf - -C $(DEB_TREE)
	# Debian's own python3 and tools, whatever python3 comes first on PATH.
	cd $(DEB_TREE) && env PATH=/usr/sbin:/usr/bin:/sbin:/bin dpkg-buildpackage --unsigned-source --unsigned-changes
	mv build/deb/check-outlook-anywhere_* dist/
	lintian --fail-on error,warning dist/check-outlook-anywhere_$$(dpkg-parsechangelog -S Version)_*.changes

# The manual page, as the package builds it (contrib/manpage.py).
man: $(BIN)/.installed
	$(BIN)/python contrib/manpage.py --output build/man/check_outlook_anywhere.1

clean:
	rm -rf $(VENV) bench/.venv build dist *.egg-info .pytest_cache .mypy_cache .ruff_cache

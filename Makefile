# The two commands of the README:
#   make demo   start the local lab and run the plugin against a healthy and two broken arrays
#   make test   lint, type-check and run the whole test suite (integration tier included)
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: demo test lint system-deps bench clean

$(BIN)/.installed: setup.cfg pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

demo: $(BIN)/.installed
	$(BIN)/python -m contrib.lab.demo

lint: $(BIN)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	mkdir -p build/typecheck && ln -sfn ../../plugins build/typecheck/outlook_anywhere
	$(BIN)/mypy

test: $(BIN)/.installed system-deps lint
	$(BIN)/pytest $(PYTEST_ARGS)

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

clean:
	rm -rf $(VENV) bench/.venv build *.egg-info .pytest_cache .mypy_cache .ruff_cache

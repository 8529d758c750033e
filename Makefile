# The two commands of the README: `make demo` and `make test`. Both set everything up first.
VENV ?= .venv
PY := $(VENV)/bin/python
HYPOTHESIS_PROFILE ?= ci

.PHONY: setup demo test test-thorough lint bench clean

setup: $(VENV)/.certify-installed

$(VENV)/.certify-installed: pyproject.toml scripts/setup.sh
	bash scripts/setup.sh

demo: setup
	$(VENV)/bin/certify demo --out demo-output

test: setup
	$(PY) -m pytest -q --hypothesis-profile=$(HYPOTHESIS_PROFILE)

test-thorough: setup
	$(PY) -m pytest -q --hypothesis-profile=thorough

lint: setup
	$(VENV)/bin/ruff check certify tests benchmarks examples

bench: setup
	OPENBLAS_NUM_THREADS=1 $(PY) benchmarks/bench_exact.py
	OPENBLAS_NUM_THREADS=1 $(PY) benchmarks/bench_operators.py

clean:
	rm -rf demo-output .pytest_cache .hypothesis

# The two commands of the README: `make demo` and `make test`. Both set everything up first.
VENV ?= .venv
PY := $(VENV)/bin/python
HYPOTHESIS_PROFILE ?= ci

.PHONY: setup demo test test-thorough lint bench bench-solver clean fuzz

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

bench-solver: setup
	OPENBLAS_NUM_THREADS=1 $(PY) benchmarks/bench_solver.py

bench: setup
	OPENBLAS_NUM_THREADS=1 $(PY) benchmarks/bench_exact.py
	OPENBLAS_NUM_THREADS=1 $(PY) benchmarks/bench_operators.py
	OPENBLAS_NUM_THREADS=1 $(PY) benchmarks/bench_solver.py
	OPENBLAS_NUM_THREADS=1 $(PY) benchmarks/bench_refine.py --baseline-limit 1200

# Coverage-guided fuzzing (atheris) of the checker and the loaders, FUZZ_TIME seconds each (fuzz/README.md).
FUZZ_TIME ?= 300
FUZZ_WORK ?= /tmp/certify-fuzz
fuzz: setup
	@$(PY) -c "import atheris" 2>/dev/null || $(PY) -m pip install -q atheris
	@for h in checker loaders; do \
	  mkdir -p $(FUZZ_WORK)/$$h; \
	  echo "fuzz: $$h for $(FUZZ_TIME) s; new inputs in $(FUZZ_WORK)/$$h, crashes in $(FUZZ_WORK)/$$h-crash-*"; \
	  CERTIFY_FUZZ_SKIP_KNOWN=1 $(PY) fuzz/fuzz_$$h.py -max_total_time=$(FUZZ_TIME) -timeout=10 \
	    -max_len=8192 -rss_limit_mb=4096 -artifact_prefix=$(FUZZ_WORK)/$$h- \
	    $(FUZZ_WORK)/$$h fuzz/corpus/$$h 2>$(FUZZ_WORK)/$$h.log || { tail -n 40 $(FUZZ_WORK)/$$h.log; exit 1; }; \
	  grep -E "^#[0-9]+[[:space:]]+DONE" $(FUZZ_WORK)/$$h.log | tail -n 1; \
	done

clean:
	rm -rf demo-output .pytest_cache .hypothesis

# Developer tasks. `make help` lists them.
PY ?= .venv/bin/python

help:            ## list targets
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | sed 's/:.*##/\t/'

venv:            ## create .venv with the test needs
	python3 -m venv .venv && $(PY) -m pip install -q --upgrade pip maturin

install:         ## editable install of the package (release build of the extension)
	$(PY) -m pip install -e '.[test,bench,plot]'

build:           ## rebuild the extension in place after a Rust change
	.venv/bin/maturin develop --release

test:            ## the whole suite (Python and Rust)
	$(PY) -m pytest && cargo test --workspace --quiet

fuzz:            ## ten minutes of property fuzzing of the JSON reader and schema compiler
	SATYA_FUZZ_SECONDS=300 cargo test --release --test fuzz -- --nocapture

lint:            ## formatters, linters, strict typing
	cargo fmt --check && cargo clippy --workspace --all-targets -- -D warnings
	.venv/bin/ruff check satya_adapt benchmarks tests && .venv/bin/mypy --strict satya_adapt

bench:           ## peer and selector benchmarks (results in benchmarks/results/)
	$(PY) benchmarks/bench_peers.py && $(PY) benchmarks/bench_selector.py

ci:              ## .ci/run on a fresh clone of HEAD
	d=$$(mktemp -d) && git clone -q . $$d && cd $$d && bash .ci/run

.PHONY: help venv install build test fuzz lint bench ci

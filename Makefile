# tinta: `make setup demo` sets up and runs the main job; `make test` runs the tests.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
TORCH := torch==2.13.0

.PHONY: setup setup-browser demo test test-slow test-ray lint bench clean

setup: $(BIN)/tinta

# torch first, pinned: a bare `torch` requirement would pull several GB of CUDA packages.
$(BIN)/tinta: pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q $(TORCH)
	$(BIN)/pip install -q -e '.[dev,onnx,video]'
	touch $@

# The browser tests (tests/browser/) drive Debian's chromium through Playwright's Python package;
# `playwright install` (a browser download) is never used.
setup-browser:
	command -v chromium >/dev/null || { apt-get update -qq && apt-get install -y -qq chromium; }

demo: setup
	$(BIN)/tinta demo

test: setup
	$(BIN)/ruff check src tests benchmarks scripts
	$(BIN)/python -m pytest -q -n 2

# tinta colorize --ray (tests/test_ray.py): each test starts a small Ray cluster (a head and a second node) here.
# Only this target installs the `ray` extra; `make setup` and `make test` do without it.
test-ray: setup
	$(BIN)/pip install -q -e '.[dev,onnx,video,ray]'
	$(BIN)/python -m pytest -q -m ray

lint: setup
	$(BIN)/ruff check src tests benchmarks scripts

test-slow: setup
	$(BIN)/python -m pytest -m slow

bench: setup
	$(BIN)/python benchmarks/palette.py

clean:
	rm -rf $(VENV) build dist src/*.egg-info .pytest_cache

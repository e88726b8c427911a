# Every target creates or updates .venv itself (idempotent: reinstalls only when
# pyproject.toml or the native kernel changed), so each is one command on a fresh machine.
PYTHON ?= python3
# cargo builds the native kernels (features/native, ingest/native); rustup
# installs it in ~/.cargo/bin, which a non-login shell may not have on PATH.
export PATH := $(HOME)/.cargo/bin:$(PATH)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: venv demo test test-slow bench lint format kafka-jars browser clean

venv: $(STAMP)

NATIVE := $(foreach crate,features/native ingest/native,$(crate)/Cargo.toml $(crate)/Cargo.lock $(wildcard $(crate)/src/*.rs))

$(STAMP): pyproject.toml $(NATIVE)
	@command -v cargo >/dev/null 2>&1 || { echo "cargo not found: install Rust (https://rustup.rs) to build the native kernels (features/native, ingest/native)"; exit 1; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev,airflow]'
	touch $(STAMP)

kafka-jars: venv
	$(PY) -c "from distillwatch.settings import get_settings; from ingest.local_broker import LocalBroker; print(LocalBroker.from_settings(get_settings()).fetch())"

demo: venv
	$(VENV)/bin/distillwatch demo

# Headless Chromium renders the report in a screenshot test (which skips, saying
# why, when no browser can be installed, e.g. without root).
browser:
	@command -v chromium >/dev/null 2>&1 || { command -v apt-get >/dev/null 2>&1 && \
	  [ "$$(id -u)" = 0 ] && apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } || \
	  echo "chromium not installed: the report screenshot test will be skipped"

# The native parser's own tests (ingest/native: against serde_json, the parser
# it replaced) run with cargo, beside pytest.
test: venv browser
	cd ingest/native && cargo test --release --locked --quiet
	$(PY) -m pytest -m "not slow" -p no:cacheprovider

test-slow: venv
	$(PY) -m pytest -m slow -p no:cacheprovider

bench: venv
	$(PY) bench/run_all.py

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy distillwatch ingest features models
	cd features/native && cargo fmt --check
	cd ingest/native && cargo fmt --check

format: venv
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

clean:
	rm -rf $(VENV) .cache .pytest_cache demo-out bench-out features/native/target ingest/native/target features/*.so ingest/*.so

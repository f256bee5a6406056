# Two commands do everything on a fresh machine: `make run` and `make test`.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell sha256sum pyproject.toml | cut -c1-12)
APT_PACKAGES := espeak-ng opus-tools fonts-dejavu-core chromium
NODE_TOOLS := tools/gltf-validator tools/axe

.PHONY: install system-deps node-tools run serve test lint typecheck pytest bench clean

$(STAMP): pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	rm -f $(VENV)/.installed-* && touch $@

install: $(STAMP) system-deps node-tools

# Debian packages the service and its tests use (text-to-speech, the Opus encoder, fonts, and the
# chromium the browser tests drive through Playwright).
system-deps:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		echo "installing Debian packages:$$missing"; \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; \
	fi

node-tools:
	@for tool in $(NODE_TOOLS); do \
		if [ -f $$tool/package.json ] && [ ! -d $$tool/node_modules ]; then npm ci --silent --prefix $$tool; fi; \
	done

run: install
	$(PY) -m service migrate
	$(PY) -m service seed
	$(PY) -m service serve

serve: install
	$(PY) -m service serve

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: $(STAMP)
	$(VENV)/bin/mypy

pytest: install
	$(PY) -m pytest

test: install lint typecheck pytest

# Load benchmarks (never part of `make test`): wrk from Debian, matplotlib for the chart.
bench: install
	@command -v wrk >/dev/null || { SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq wrk >/dev/null; }
	$(PY) -m pip install --quiet -e ".[dev,bench]"
	$(PY) -m bench.run

clean:
	rm -rf $(VENV) var .mypy_cache .ruff_cache .pytest_cache

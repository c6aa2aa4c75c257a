# civicloop — run `make help` for the list of targets.
SHELL := /bin/bash
.SHELLFLAGS := -e -o pipefail -c
.DEFAULT_GOAL := help

VENV := .venv
PY := $(VENV)/bin/python
NODE_MODULES := frontend/node_modules
DIST := civicloop/static/dist
SCSS := $(wildcard frontend/scss/*.scss)

.PHONY: help setup demo test test-postgres lint format bench eval lock clean messages

help: ## List the targets.
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

$(VENV)/.installed: requirements/base.txt requirements/test.txt requirements/semantic.txt pyproject.toml engine/pyproject.toml
	@PY_FOUND=$$(scripts/find-python) || exit 1; \
	  [ -x $(PY) ] || { echo "Creating $(VENV) with $$PY_FOUND"; $$PY_FOUND -m venv $(VENV); }
	$(PY) -m pip install --quiet --disable-pip-version-check --require-hashes -r requirements/base.txt -r requirements/test.txt 2>&1 | { grep -v "^WARNING: Location" || true; }
	$(PY) -m pip install --quiet --disable-pip-version-check --require-hashes --no-deps -r requirements/semantic.txt 2>&1 | { grep -v "^WARNING: Location" || true; }
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e engine -e .
	@touch $@

$(NODE_MODULES)/.installed: frontend/package.json frontend/package-lock.json
	cd frontend && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

$(DIST)/.built: $(NODE_MODULES)/.installed $(SCSS)
	@mkdir -p $(DIST)
	cd frontend && npx sass --no-source-map --style=compressed --quiet-deps --load-path=node_modules \
	  scss/civicloop.scss ../$(DIST)/civicloop.css
	cp $(NODE_MODULES)/govuk-frontend/dist/govuk/govuk-frontend.min.js $(DIST)/govuk-frontend.min.js
	cp $(NODE_MODULES)/htmx.org/dist/htmx.min.js $(DIST)/htmx.min.js
	@touch $@

setup: $(VENV)/.installed $(DIST)/.built ## Create the virtual environment and build the front end.

demo: setup ## Prepare the demo database and serve it with a task worker (Ctrl-C stops both).
	$(VENV)/bin/civicloop demo

BLUESKY := tests/bluesky/node_modules
$(BLUESKY)/.installed: tests/bluesky/package.json tests/bluesky/package-lock.json
	cd tests/bluesky && npm ci --no-audit --no-fund --loglevel=error
	cd tests/bluesky && npm rebuild better-sqlite3 --loglevel=error  # npm 11 does not run install scripts
	@touch $@

test: setup $(BLUESKY)/.installed ## Run the whole suite (on PostgreSQL too when DATABASE_URL is set).
	$(VENV)/bin/pytest $(PYTEST_ARGS)

lint: setup ## ruff check, ruff format --check and mypy.
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy civicloop engine/src

format: setup ## Apply ruff's fixes and formatting.
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

messages: setup ## Compile the translation catalogues (Welsh).
	cd civicloop && ../$(VENV)/bin/django-admin compilemessages --ignore=.venv

bench: setup ## Benchmarks (serving, submission load, engine speed, delivery, analysis pages); figures go into docs/benchmarks.md.
	@command -v wrk >/dev/null || { [ "$$(id -u)" = 0 ] && apt-get install -y -qq wrk >/dev/null; } || \
	  { echo "make bench needs wrk: apt-get install wrk"; exit 1; }
	$(PY) benchmarks/run.py
	$(PY) benchmarks/submit_load.py
	$(PY) benchmarks/engine_speed.py
	$(PY) benchmarks/delivery_load.py
	$(PY) benchmarks/analysis_page.py

EVAL_VENV := .venv-eval
$(EVAL_VENV)/.installed: requirements/eval.txt requirements/eval-nodeps.txt
	@PY_FOUND=$$(scripts/find-python) || exit 1; \
	  [ -x $(EVAL_VENV)/bin/python ] || $$PY_FOUND -m venv $(EVAL_VENV)
	$(EVAL_VENV)/bin/python -m pip install --quiet --disable-pip-version-check --require-hashes -r requirements/eval.txt 2>&1 | { grep -v "^WARNING: Location" || true; }
	$(EVAL_VENV)/bin/python -m pip install --quiet --disable-pip-version-check --require-hashes --no-deps -r requirements/eval-nodeps.txt 2>&1 | { grep -v "^WARNING: Location" || true; }
	@touch $@

eval: setup $(EVAL_VENV)/.installed ## Quality evaluations of the engine on ../shared/data (BERTopic baseline in .venv-eval).
	$(PY) engine/evals/campaigns.py
	$(PY) engine/evals/themes.py

lock: ## Re-resolve requirements/*.txt with hashes from requirements/*.in.
	@PY_FOUND=$$(scripts/find-python) || exit 1; \
	  $$PY_FOUND -m venv /tmp/civicloop-lock && /tmp/civicloop-lock/bin/pip install -q pip-tools==7.6.2
	cd requirements && /tmp/civicloop-lock/bin/pip-compile -q --generate-hashes --allow-unsafe --strip-extras -o base.txt base.in
	cd requirements && /tmp/civicloop-lock/bin/pip-compile -q --generate-hashes --allow-unsafe --strip-extras -o test.txt test.in

clean: ## Remove the virtual environment, built assets and node modules (keeps var/).
	rm -rf $(VENV) $(DIST) $(NODE_MODULES) .pytest_cache .mypy_cache .ruff_cache

# LeadPilot. `make run` for the demo on the embedded defaults, `make test` for the whole suite.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell sha1sum pyproject.toml | cut -c1-12)
HOST ?= 127.0.0.1
PORT ?= 8000
# Links in the demo's output and e-mails point at the server `make run` starts.
LEADPILOT_SITE_URL ?= http://$(HOST):$(PORT)
# The demo's Stripe is the fake on loopback (docs/stripe-fake.md), started by `manage.py demo`.
DEMO_STRIPE ?= STRIPE_API_KEY=sk_test_demo STRIPE_API_BASE=http://127.0.0.1:12111 \
	STRIPE_WEBHOOK_SECRET=whsec_demo_local
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/leadpilot
TEST_BROKER_URL ?= redis://127.0.0.1:6379/0

.PHONY: install run demo serve test lint services bench-quick fuzz clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

install: $(STAMP)

## run: install, migrate, load the demo world, run the nightly search once, serve the dashboard.
run: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py collectstatic --noinput --verbosity 0
	LEADPILOT_SITE_URL=$(LEADPILOT_SITE_URL) $(DEMO_STRIPE) $(PY) manage.py demo
	LEADPILOT_SITE_URL=$(LEADPILOT_SITE_URL) $(DEMO_STRIPE) $(PY) manage.py runserver $(HOST):$(PORT)

## test: install, make sure PostgreSQL and Redis are up, lint, check migrations, run pytest and
## the benches' quick versions. `.ci/run` (CI=true) first drops what an earlier run left behind.
test: install services
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	DATABASE_URL=$(TEST_DATABASE_URL) DJANGO_SETTINGS_MODULE=leadpilot.settings.test \
		$(PY) manage.py makemigrations --check --dry-run
	test -x /usr/bin/chromium || (apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium)
# axe-core for the accessibility tests (tests/test_accessibility.py), pinned in package-lock.json;
# node_modules/ is not committed. Debian's npm when the machine has none.
	command -v npm >/dev/null || (apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y npm)
	test -f node_modules/axe-core/axe.min.js -a node_modules/.package-lock.json -nt package-lock.json \
		|| npm ci --no-audit --no-fund
# GNU gettext: tests/test_i18n.py runs makemessages (xgettext, msgmerge) to find untranslated strings.
	test -x /usr/bin/xgettext || (apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y gettext)
# docker-compose validates docker-compose.yml (tests/deploy/) without a Docker daemon: Debian's
# Compose v1 package, without its recommends (the Docker engine).
	test -x /usr/bin/docker-compose || (apt-get update && DEBIAN_FRONTEND=noninteractive \
		apt-get install -y --no-install-recommends docker-compose)
	DATABASE_URL=$(TEST_DATABASE_URL) CELERY_BROKER_URL=$(TEST_BROKER_URL) $(VENV)/bin/pytest
	$(MAKE) --no-print-directory bench-quick

## bench-quick: every benchmark in its small version (a smoke test; figures come from full runs).
bench-quick:
	@for b in bench/*.py; do \
		case "$$(basename $$b)" in _*) continue;; esac; \
		echo "== $$b --quick"; \
		$(PY) $$b --quick || exit 1; \
	done

## fuzz: Schemathesis over the whole API schema as a key of each scope and an owner's session, with
## LEADPILOT_FUZZ_EXAMPLES (default 100) examples per operation instead of the test run's few; its
## last line counts operations, calls, server errors and schema violations.
fuzz: install services
	DATABASE_URL=$(TEST_DATABASE_URL) CELERY_BROKER_URL=$(TEST_BROKER_URL) \
		LEADPILOT_FUZZ_EXAMPLES=$${LEADPILOT_FUZZ_EXAMPLES:-100} \
		$(VENV)/bin/pytest tests/api/test_schema_fuzz.py -q -s -p no:logging

services:
	bash scripts/services.sh

lint:
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

clean:
	rm -rf var staticfiles

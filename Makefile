# `make run` and `make test` do everything on a fresh clone: .venv, install, migrate.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
HOST ?= 127.0.0.1
PYTEST_ARGS ?=

WEB ?= 2
WORKERS ?= 2
UP_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/diymod
UP_REDIS_URL ?= redis://127.0.0.1:6379/0

.PHONY: run up test test-integration worker beat lint format migrate install install-dev

# The optional compiled tag scan, built in place (feed/platforms/tagscan_build.py): without a C
# compiler the build prints one line and the Python scan is used. Rebuilt when its source changes.
EXT_SUFFIX := $(shell $(BIN)/python -c 'import sysconfig; print(sysconfig.get_config_var("EXT_SUFFIX"))' 2>/dev/null \
  || $(PYTHON) -c 'import sysconfig; print(sysconfig.get_config_var("EXT_SUFFIX"))')
TAGSCAN := feed/platforms/_tagscan$(EXT_SUFFIX)

$(BIN)/python:
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11+ is needed"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $(VENV)/.installed $@

$(TAGSCAN): feed/platforms/_tagscan.c feed/platforms/tagscan_build.py | $(BIN)/python
	@$(BIN)/python feed/platforms/tagscan_build.py

install: $(VENV)/.installed $(TAGSCAN)
install-dev: $(VENV)/.installed-dev $(TAGSCAN)

migrate: install
	$(BIN)/python manage.py migrate --noinput

run: migrate
	@# daphne with the deployed WebSocket limits and keep-alive cadence (diymod/web.py).
	$(BIN)/python -m diymod.web -b $(HOST) -p $(PORT)

# Scaled out: WEB daphne processes on consecutive ports from PORT, WORKERS Celery workers, one
# beat, against PostgreSQL and Redis (DATABASE_URL / REDIS_URL, defaulting to local ones).
up: install
	@# The default local database is created when missing; a given DATABASE_URL must exist.
	@[ -n "$$DATABASE_URL" ] || createdb -h 127.0.0.1 -U postgres diymod 2>/dev/null || true
	DATABASE_URL=$${DATABASE_URL:-$(UP_DATABASE_URL)} REDIS_URL=$${REDIS_URL:-$(UP_REDIS_URL)} \
	  $(BIN)/python manage.py migrate --noinput
	DATABASE_URL=$${DATABASE_URL:-$(UP_DATABASE_URL)} REDIS_URL=$${REDIS_URL:-$(UP_REDIS_URL)} \
	  $(BIN)/honcho start -f Procfile -p $(PORT) -c web=$(WEB),worker=$(WORKERS),beat=1

worker: migrate
	$(BIN)/celery -A diymod worker --loglevel=info

beat: migrate
	$(BIN)/celery -A diymod beat --loglevel=info --schedule var/celerybeat-schedule

test: install-dev
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# The integration-marked tests only, e.g. against PostgreSQL and Redis (.ci/run sets them).
test-integration: install-dev
	$(BIN)/python -m pytest -m integration $(PYTEST_ARGS); status=$$?; \
	  if [ $$status -eq 5 ]; then echo "no integration tests collected"; exit 0; fi; exit $$status

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy diymod filters feed imaging chat playground

format: install-dev
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

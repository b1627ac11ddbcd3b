# jinzhitong — see README.md. `make run` and `make test` work on a fresh machine.
PY ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install run serve serve-prod test test-fast lint bench messages clean

install: $(VENV)/.installed

$(VENV)/.installed: requirements.lock
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check -r requirements.lock
	touch $@

run: install
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py load_demo
	$(MAKE) --no-print-directory serve

# With REDIS_URL set, a Celery worker with beat runs beside the web server and stops with it.
serve:
	@if [ -n "$$REDIS_URL" ]; then \
		trap 'kill 0' EXIT INT TERM; \
		$(BIN)/celery -A jinzhitong worker --beat --loglevel=INFO --concurrency=2 & \
		$(BIN)/python manage.py runserver $(HOST):$(PORT); \
	else \
		echo "REDIS_URL 未设置：后台任务在进程内执行 (tasks run in-process)"; \
		$(BIN)/python manage.py runserver $(HOST):$(PORT); \
	fi

# Production: DEBUG=0, gunicorn + Celery worker + beat, stopping together (deploy/serve-prod.sh).
# Checks that migrations were applied (MIGRATE=1 applies them) and collects static files.
serve-prod: install
	HOST=$(HOST) PORT=$(PORT) BIN=$(BIN) deploy/serve-prod.sh

test: install
	$(BIN)/python -m pytest -n 2 $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/python tools/check_imports.py
	$(BIN)/python manage.py makemigrations --check --dry-run
	$(BIN)/mypy grids/tree.py grids/selectors.py grids/geo.py grids/services.py \
		reports/workflow.py reports/routing.py reports/sla.py reports/calendar.py \
		reports/selectors.py reports/services.py reports/events.py reports/tasks.py reports/photos.py \
		reports/errors.py reports/effects.py reports/dispatching.py reports/fit.py \
		reports/notifications.py casegen/generator.py reports/admin_rows.py \
		residents/selectors.py residents/services.py residents/registers.py residents/crypto.py \
		residents/identity.py \
		evaluation/rates.py evaluation/selectors.py evaluation/services.py evaluation/rollup.py \
		evaluation/rollup_sql.py casegen/demo.py reports/admin reports/forms/text.py \
		jinzhitong/scheduler.py jinzhitong/xlsx.py jinzhitong/ratelimit.py jinzhitong/db_router.py \
		jinzhitong/protected.py jinzhitong/errors.py jinzhitong/logs.py jinzhitong/middleware.py
	DEBUG=0 SECRET_KEY=lint-only-0123456789abcdefghijklmnopqrstuvwxyz-ABCDEFGHIJ \
		ALLOWED_HOSTS=example.org $(BIN)/python manage.py check --deploy --fail-level WARNING

bench: install
	@for f in bench/*.py; do case $$f in */_*) continue;; esac; echo "# $$f"; \
		$(BIN)/python $$f || exit 1; done

messages: install
	$(BIN)/python manage.py makemessages -l en --ignore=.venv --ignore=bench --ignore=seeds --ignore=tests --ignore=staticfiles
	$(BIN)/python manage.py compilemessages --ignore=.venv

clean:
	rm -rf $(VENV) db.sqlite3 staticfiles

# Screenshots of every page each demo login reaches, at 390 and 1366 px, into docs/screens
# and docs/screens.md (tests/e2e/test_screens.py, on load_demo in a fresh test database).
.PHONY: screens
screens: install
	JZT_SCREENS=1 $(BIN)/python -m pytest -p no:xdist -m screens --create-db tests/e2e/test_screens.py $(PYTEST_ARGS)

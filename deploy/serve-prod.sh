#!/usr/bin/env bash
# `make serve-prod`: the production stack in one terminal — gunicorn, a Celery worker and
# Celery beat, with DEBUG=0. Ctrl-C stops all three; if any one of them dies, the others
# are stopped too and this script exits with its status (so a supervisor sees the failure).
#
# Before starting: the database must be migrated (`manage.py migrate --check`; with
# MIGRATE=1 the migrations are applied first), and static files are collected into
# STATIC_ROOT. Settings come from the environment (README.md, "Settings"); HOST/PORT as for
# `make run`, WEB_CONCURRENCY, GUNICORN_TIMEOUT etc. in deploy/gunicorn.conf.py,
# CELERY_CONCURRENCY (default 2) for the worker.
set -uo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-.venv/bin}
export DEBUG=0

if [ -z "${REDIS_URL:-}" ]; then
    echo "serve-prod: REDIS_URL 未设置 — the worker and beat need Redis (README.md, Settings)" >&2
    exit 2
fi
if [ "${MIGRATE:-0}" = "1" ]; then
    "$BIN/python" manage.py migrate --noinput || exit 1
elif ! "$BIN/python" manage.py migrate --check >/dev/null; then
    echo "serve-prod: 数据库有未执行的迁移 — run \`make serve-prod MIGRATE=1\` (or manage.py migrate) first" >&2
    exit 1
fi
"$BIN/python" manage.py collectstatic --noinput --verbosity 0 || exit 1

pids=()
stop() {
    trap - EXIT INT TERM
    for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null; done
    wait
}
trap stop EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

"$BIN/gunicorn" -c deploy/gunicorn.conf.py jinzhitong.wsgi &
pids+=($!)
"$BIN/celery" -A jinzhitong worker --loglevel=INFO --concurrency="${CELERY_CONCURRENCY:-2}" \
    --without-gossip &
pids+=($!)
"$BIN/celery" -A jinzhitong beat --loglevel=INFO \
    --schedule="${CELERY_BEAT_SCHEDULE_FILE:-${TMPDIR:-/tmp}/jinzhitong-celerybeat-schedule}" &
pids+=($!)

wait -n
status=$?
echo "serve-prod: a process stopped (status $status); stopping the others" >&2
# Any one stopping is a failure of the whole, even if it exited cleanly.
[ "$status" -ne 0 ] || status=1
exit "$status"

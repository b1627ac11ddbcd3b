"""`make serve-prod` (deploy/serve-prod.sh): refuses unapplied migrations, collects static
files, starts gunicorn, a worker and beat, and stops them all when one stops.

Runs the script with stand-ins for python, gunicorn and celery (BIN=…), so it needs no
database and takes a few seconds; tests/prod/test_stack.py runs the real processes.
"""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

from django.conf import settings

SCRIPT = Path(settings.BASE_DIR) / "deploy/serve-prod.sh"

STUB = """#!/usr/bin/env bash
# Records how it was called; behaves as told by the STUB_* variables.
echo "$(basename "$0") $*" >> "$STUB_LOG"
name=$(basename "$0")
case "$name $*" in
  "python manage.py migrate --check"*) exit "${STUB_MIGRATE_CHECK:-0}" ;;
  "python manage.py"*) exit 0 ;;
  "celery -A jinzhitong worker"*)
    echo $$ > "$STUB_DIR/worker.pid"
    sleep "${STUB_WORKER_LIFE:-60}" & child=$!
    trap 'kill $child; exit 143' TERM
    wait $child; exit 3 ;;
  "celery -A jinzhitong beat"*) echo $$ > "$STUB_DIR/beat.pid"; exec sleep 60 ;;
  "gunicorn "*) echo $$ > "$STUB_DIR/gunicorn.pid"; exec sleep 60 ;;
esac
exit 99
"""


def _bin(tmp: Path) -> Path:
    folder = tmp / "bin"
    folder.mkdir()
    for name in ("python", "gunicorn", "celery"):
        path = folder / name
        path.write_text(STUB)
        path.chmod(0o755)
    return folder


def _run(tmp: Path, **env: str) -> tuple[subprocess.CompletedProcess[str], str]:
    log = tmp / "calls.log"
    base = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG")}
    result = subprocess.run(
        [str(SCRIPT)], capture_output=True, text=True, timeout=60,
        env={**base, "BIN": str(_bin(tmp)), "STUB_LOG": str(log), "STUB_DIR": str(tmp),
             "REDIS_URL": "redis://127.0.0.1:1/0", **env},
    )
    return result, log.read_text() if log.exists() else ""


def _alive(pid_file: Path) -> bool:
    pid = int(pid_file.read_text())
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_one_process_stopping_stops_the_others(tmp_path: Path) -> None:
    started = time.monotonic()
    result, calls = _run(tmp_path, STUB_WORKER_LIFE="2")
    assert result.returncode == 3  # the worker's status
    assert time.monotonic() - started < 30
    assert "a process stopped" in result.stderr
    lines = calls.splitlines()
    assert lines[:2] == ["python manage.py migrate --check",
                         "python manage.py collectstatic --noinput --verbosity 0"]
    assert any(line.startswith("gunicorn -c deploy/gunicorn.conf.py jinzhitong.wsgi")
               for line in lines)
    assert any(line.startswith("celery -A jinzhitong beat") for line in lines)
    time.sleep(0.5)
    assert not _alive(tmp_path / "gunicorn.pid")
    assert not _alive(tmp_path / "beat.pid")


def test_it_refuses_to_start_on_unapplied_migrations(tmp_path: Path) -> None:
    result, calls = _run(tmp_path, STUB_MIGRATE_CHECK="1")
    assert result.returncode == 1
    assert "MIGRATE=1" in result.stderr
    assert calls.splitlines() == ["python manage.py migrate --check"]


def test_migrate_1_applies_the_migrations_first(tmp_path: Path) -> None:
    result, calls = _run(tmp_path, MIGRATE="1", STUB_WORKER_LIFE="0")
    assert calls.splitlines()[0] == "python manage.py migrate --noinput"
    assert result.returncode == 3


def test_it_needs_redis(tmp_path: Path) -> None:
    result, calls = _run(tmp_path, REDIS_URL="")
    assert result.returncode == 2 and "REDIS_URL" in result.stderr
    assert calls == ""


def test_ctrl_c_stops_all_three(tmp_path: Path) -> None:
    log = tmp_path / "calls.log"
    base = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG")}
    proc = subprocess.Popen(
        [str(SCRIPT)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**base, "BIN": str(_bin(tmp_path)), "STUB_LOG": str(log), "STUB_DIR": str(tmp_path),
             "REDIS_URL": "redis://127.0.0.1:1/0"},
    )
    pids = [tmp_path / f"{n}.pid" for n in ("gunicorn", "worker", "beat")]
    deadline = time.monotonic() + 30
    while not all(p.exists() and p.read_text().strip() for p in pids):
        assert time.monotonic() < deadline and proc.poll() is None
        time.sleep(0.1)
    proc.send_signal(2)  # SIGINT, as Ctrl-C sends it (here to the script alone)
    assert proc.wait(timeout=30) == 130
    time.sleep(0.5)
    assert not any(_alive(p) for p in pids)

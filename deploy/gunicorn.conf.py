"""gunicorn settings for jinzhitong, from the environment (make serve-prod, deploy/systemd).

    gunicorn -c deploy/gunicorn.conf.py jinzhitong.wsgi

HOST/PORT (or GUNICORN_BIND) where to listen; WEB_CONCURRENCY worker processes (default
2 × cores + 1); GUNICORN_THREADS threads per worker; GUNICORN_TIMEOUT seconds a request may
take before its worker is restarted; GUNICORN_MAX_REQUESTS recycles a worker after that many
requests (0 = never). Behind nginx, which buffers slow phone uploads and responses, the
sync workers are never held by a slow client.
"""

import multiprocessing
import os


def _int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


bind = os.environ.get("GUNICORN_BIND") or (
    f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}"
)
workers = _int("WEB_CONCURRENCY", 2 * multiprocessing.cpu_count() + 1)
threads = _int("GUNICORN_THREADS", 1)
timeout = _int("GUNICORN_TIMEOUT", 30)
graceful_timeout = _int("GUNICORN_GRACEFUL_TIMEOUT", 30)
keepalive = _int("GUNICORN_KEEPALIVE", 5)
max_requests = _int("GUNICORN_MAX_REQUESTS", 2000)
max_requests_jitter = max_requests // 10
# The request line and headers only; photos are form bodies, limited by nginx and Django.
limit_request_line = 8190
# X-Forwarded-* are trusted from these addresses only (nginx on the same machine).
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")
# Heartbeat files in memory, not on a disk that may stall.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-")
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
proc_name = "jinzhitong"
# gunicorn ≥ 25 opens a control socket in $HOME by default: one path for every instance on
# the box (they would collide) and a home the service user may not have. systemd and
# signals (HUP reloads, TERM stops) do the job; GUNICORN_CONTROL_SOCKET=PATH turns it on.
control_socket = os.environ.get("GUNICORN_CONTROL_SOCKET", "") or "gunicorn.ctl"
control_socket_disable = not os.environ.get("GUNICORN_CONTROL_SOCKET")

"""Throughput of the production stack over HTTP: grid workers filing with photos, street
staff on triage and the board, handlers on their inbox (locust, bench/_locustfile.py).

    .venv/bin/python bench/load.py                       # start a stack, 10/50/100 users
    .venv/bin/python bench/load.py --url http://host:port --users 50 --duration 60

With ``--url`` (or ``LOAD_URL``) it drives a stack that is already running and holds the
demo city (``manage.py load_demo``). Without, it starts one itself on this machine, as
production runs: DEBUG=0, gunicorn (``WEB_CONCURRENCY`` sync workers, default 4) on
port 8250, a Celery worker with beat (``--concurrency 2``), PostgreSQL
(``LOAD_DATABASE_URL``, default the local server's ``jzt_scale`` database, migrated and
given the demo city if empty) and Redis (``LOAD_REDIS_URL``, default db 4); static files
collected into a temporary folder. Everything it started stops at the end.

Each level runs ``--duration`` seconds after a ramp of ``users/5`` a second and prints
``filings_per_s_u<N>: X /s`` (filings answered 201), ``<page>_p50_u<N>`` /
``<page>_p95_u<N>`` in ms, ``failures_u<N>``, and the CPU the stack's processes used
(``stack_cpu_s_per_filing_u<N>``). Targets (issue 14): ≥ 15 filings/s with every page's
p95 < 1,000 ms at 50 users.
"""

from __future__ import annotations

import argparse
import csv
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
PORT = int(os.environ.get("LOAD_PORT", "8250"))
PAGES = ("login", "filing_page", "filing_post", "triage", "board", "inbox")


def _env(tmp: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DEBUG="0",
        SECRET_KEY=env.get("SECRET_KEY", "load-bench-only-" + "0123456789abcdef" * 3),
        ALLOWED_HOSTS="127.0.0.1,localhost",
        SECURE_SSL_REDIRECT="0",
        DATABASE_URL=env.get("LOAD_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/jzt_scale"),
        REDIS_URL=env.get("LOAD_REDIS_URL", "redis://127.0.0.1:6379/4"),
        STATIC_ROOT=str(tmp / "static"),
        MEDIA_ROOT=str(tmp / "media"),
        RESIDENTS_KEYS=env.get("RESIDENTS_KEYS", "ZGV2LW9ubHktcmVzaWRlbnRzLWtleS0wMTIzNDU2Nzg="),
        RESIDENTS_HMAC_KEY=env.get("RESIDENTS_HMAC_KEY", "load-bench-only-hmac-key"),
        LOG_LEVEL="WARNING",
        AXES_ENABLED="0",  # hundreds of logins from one address are the bench, not an attack
        # Every simulated worker files from 127.0.0.1: the per-address limit would cap the
        # whole bench at its rate, and each worker files faster than a person.
        REPORT_FILING_RATE="100000/60s",
        REPORT_FILING_RATE_PER_ADDRESS="1000000/60s",
    )
    return env


def _manage(env: dict[str, str], *args: str) -> str:
    out = subprocess.run(
        [str(BIN / "python"), "manage.py", *args], cwd=ROOT, env=env, check=True,
        capture_output=True, text=True,
    )
    return out.stdout


def _wait_http(url: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as r:
                if r.status < 500:
                    return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise SystemExit(f"no answer from {url}")
        time.sleep(0.5)


class Stack:
    """gunicorn + a Celery worker with beat, started as production would."""

    def __init__(self, workers: int) -> None:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", PORT)) == 0:
                raise SystemExit(f"port {PORT} is taken")
        self.tmp = Path(tempfile.mkdtemp(prefix="jzt-load-"))
        self.env = _env(self.tmp)
        _manage(self.env, "migrate", "--noinput")
        has_demo = "zhangxin" in _manage(
            self.env, "shell", "-c",
            "from accounts.models import User;"
            "print(User.objects.filter(username='zhangxin').exists() and 'zhangxin')",
        )
        if not has_demo:
            _manage(self.env, "load_demo", "--quiet-logins")
        try:
            _manage(self.env, "collectstatic", "--noinput")
        except subprocess.CalledProcessError as e:
            print(f"# collectstatic failed ({e.stderr.strip().splitlines()[-1][:160]}); "
                  "static files served without a manifest (bench/_load_settings.py)")
            self.env["DJANGO_SETTINGS_MODULE"] = "bench._load_settings"
            _manage(self.env, "collectstatic", "--noinput")
        log = open(self.tmp / "stack.log", "w")
        self.procs = [
            subprocess.Popen(
                [str(BIN / "gunicorn"), "jinzhitong.wsgi", "-b", f"127.0.0.1:{PORT}",
                 "-w", str(workers), "--timeout", "60", "--graceful-timeout", "5"],
                cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True,
            ),
            subprocess.Popen(
                [str(BIN / "celery"), "-A", "jinzhitong", "worker", "--beat", "--concurrency", "2",
                 "--loglevel", "WARNING", "-s", str(self.tmp / "beat-schedule")],
                cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True,
            ),
        ]
        self.url = f"http://127.0.0.1:{PORT}"
        _wait_http(self.url + "/healthz")

    def cpu_seconds(self) -> float:
        """User + system CPU of every process of the stack so far (from /proc)."""
        total = 0.0
        tick = os.sysconf("SC_CLK_TCK")
        for p in self.procs:
            for pid in _tree(p.pid):
                try:
                    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                except OSError:
                    continue
                total += (int(fields[11]) + int(fields[12])) / tick
        return total

    def stop(self) -> None:
        for p in self.procs:
            try:
                os.killpg(p.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        for p in self.procs:
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
        shutil.rmtree(self.tmp, ignore_errors=True)


def _tree(pid: int) -> list[int]:
    """A process and its descendants (gunicorn's and celery's forked workers)."""
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        try:
            children = Path(f"/proc/{p}/task/{p}/children").read_text().split()
        except OSError:
            children = []
        todo.extend(int(c) for c in children)
    return out


def run_level(url: str, users: int, duration: int, stack: Stack | None) -> None:
    prefix = Path(tempfile.mkdtemp(prefix="jzt-locust-")) / "run"
    ramp = max(1, users // 5)
    cpu0 = stack.cpu_seconds() if stack else 0.0
    load = os.getloadavg()[0]
    subprocess.run(
        [str(BIN / "locust"), "-f", str(ROOT / "bench" / "_locustfile.py"), "--headless",
         "-u", str(users), "-r", str(ramp), "-t", f"{duration + users // ramp}s", "-H", url,
         "--csv", str(prefix), "--only-summary", "--loglevel", "WARNING", "--stop-timeout", "5"],
        cwd=ROOT, check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    cpu = (stack.cpu_seconds() - cpu0) if stack else 0.0
    # One row per (method, name): the login page's GET is left out, its POST is "login".
    rows = {r["Name"]: r for r in csv.DictReader(open(f"{prefix}_stats.csv"))
            if not (r["Name"] == "login" and r["Type"] == "GET")}
    elapsed = duration + users // ramp
    filed = int(rows.get("filing_post", {}).get("Request Count", 0) or 0) - int(
        rows.get("filing_post", {}).get("Failure Count", 0) or 0)
    print(f"# {users} users, {elapsed} s; load average before: {load:.1f} "
          f"on {os.cpu_count()} CPUs", flush=True)
    print(f"filings_per_s_u{users}: {filed / elapsed:.2f} /s")
    for page in PAGES:
        row = rows.get(page)
        if not row or not int(row["Request Count"]):
            continue
        print(f"{page}_p50_u{users}: {float(row['50%']):.0f} ms")
        print(f"{page}_p95_u{users}: {float(row['95%']):.0f} ms")
        print(f"{page}_requests_u{users}: {row['Request Count']} requests")
    total = rows.get("Aggregated", {})
    print(f"failures_u{users}: {total.get('Failure Count', 0)} requests")
    print(f"requests_per_s_u{users}: {float(total.get('Requests/s', 0) or 0):.1f} /s")
    if stack and filed:
        print(f"stack_cpu_s_u{users}: {cpu:.1f} s")
        print(f"stack_cpu_ms_per_filing_u{users}: {cpu * 1000 / filed:.0f} ms")
    failures = Path(f"{prefix}_failures.csv")
    if failures.exists():
        for r in list(csv.DictReader(open(failures)))[:5]:
            print(f"  failure {r['Name']}: {r['Occurrences']} × {r['Error'][:160]}")
    shutil.rmtree(prefix.parent, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--url", default=os.environ.get("LOAD_URL", ""))
    parser.add_argument("--users", default="10,50,100")
    parser.add_argument("--duration", type=int, default=60, help="seconds per level")
    parser.add_argument("--web-workers", type=int,
                        default=int(os.environ.get("WEB_CONCURRENCY", "4")))
    args = parser.parse_args()
    stack = None if args.url else Stack(args.web_workers)
    url = args.url or (stack.url if stack else "")
    try:
        for users in (int(u) for u in args.users.split(",")):
            run_level(url, users, args.duration, stack)
    finally:
        if stack:
            stack.stop()


if __name__ == "__main__":
    main()

"""The production stack as OS processes, for tests/prod/ (not a test module).

Its own PostgreSQL database (created beside the test database, migrated, demo city loaded
by seed_stack.py), its own redis-server, `collectstatic` into a temporary STATIC_ROOT with
the production storage, two gunicorn instances (deploy/gunicorn.conf.py), two Celery
workers, one Celery beat, and Debian's nginx in front with TLS — the site of
deploy/nginx/jinzhitong.conf, with only its ports, certificate, folders and upstream
addresses swapped. Everything runs with DEBUG=0.

Ports: free ones from the system, or JZT_STACK_PORT_BASE..+5 when set (a shared machine
that hands out port ranges).
"""

from __future__ import annotations

import datetime
import os
import re
import shutil
import socket
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import psycopg
from django.conf import settings

ROOT = Path(settings.BASE_DIR)
SITE = ROOT / "deploy/nginx/jinzhitong.conf"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
PASSWORD = "jzt-demo-2026"  # seeds/demo.json
SECRET = "stack-test-only-0123456789abcdefghijklmnopqrstuvwxyz-ABCDEFGHIJ"


def unavailable() -> str | None:
    """Why the stack cannot run here, or None."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        return "the production stack needs PostgreSQL: DATABASE_URL is not a postgres:// URL"
    if not os.environ.get("REDIS_URL"):
        return "the production stack needs Redis: REDIS_URL is not set"
    for binary in ("redis-server", NGINX):
        if shutil.which(binary) is None:
            return f"{binary} is not installed (Debian packages redis-server and nginx)"
    if not Path("/usr/bin/chromium").exists():
        return "/usr/bin/chromium is missing: install Debian's chromium package"
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _ports(n: int) -> list[int]:
    base = os.environ.get("JZT_STACK_PORT_BASE")
    if base:
        return [int(base) + i for i in range(n)]
    return [_free_port() for _ in range(n)]


def _wait_port(port: int, proc: subprocess.Popen[Any], what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
        except OSError:
            time.sleep(0.2)
            continue
        time.sleep(0.5)
        if proc.poll() is not None:  # someone else answers on that port
            raise RuntimeError(f"{what} exited with {proc.returncode}: is port {port} taken?")
        return
    raise RuntimeError(f"{what} did not listen on {port} within {timeout}s")


def _certificate(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (the browser is told to accept it)."""
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=2))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]
            ),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    crt, pem = folder / "cert.pem", folder / "key.pem"
    crt.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    pem.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return crt, pem


def _swap(text: str, old: str, new: str, count: int = 1) -> str:
    """Replace exactly ``count`` occurrences: the deploy file changed shape if not."""
    found = text.count(old)
    if found != count:
        raise AssertionError(f"deploy/nginx/jinzhitong.conf: {old!r} found {found}×, not {count}×")
    return text.replace(old, new)


def nginx_site(
    *, https_port: int, http_port: int, upstreams: list[int], static_root: Path,
    media_root: Path, cert: Path, key: Path,
) -> str:
    """deploy/nginx/jinzhitong.conf with this machine's ports, folders and certificate."""
    site = SITE.read_text(encoding="utf-8")
    servers = "\n    ".join(f"server 127.0.0.1:{p} fail_timeout=0;" for p in upstreams)
    site = _swap(site, "server 127.0.0.1:8000 fail_timeout=0;", servers)
    site = _swap(site, "listen 80;", f"listen 127.0.0.1:{http_port};")
    site = _swap(site, "listen [::]:80;\n", "")
    site = _swap(site, "listen 443 ssl http2;", f"listen 127.0.0.1:{https_port} ssl http2;")
    site = _swap(site, "listen [::]:443 ssl http2;\n", "")
    site = _swap(site, "/etc/ssl/jinzhitong/fullchain.pem", str(cert))
    site = _swap(site, "/etc/ssl/jinzhitong/privkey.pem", str(key))
    site = _swap(site, "/srv/jinzhitong/staticfiles/", f"{static_root}/")
    site = _swap(site, "/srv/jinzhitong/media/", f"{media_root}/")
    return site


def nginx_main(folder: Path, site: Path) -> str:
    """A main nginx.conf that runs in the foreground from ``folder`` and includes the site."""
    user = "user root;\n" if os.geteuid() == 0 else ""  # workers must read pytest's tmp
    temp = "\n".join(
        f"    {kind}_temp_path {folder / kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    return f"""{user}daemon off;
master_process on;
worker_processes 2;
pid {folder / "nginx.pid"};
error_log {folder / "error.log"} warn;
events {{ worker_connections 512; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    sendfile on;
    access_log {folder / "access.log"};
{temp}
    include {site};
}}
"""


@dataclass
class Stack:
    root: Path
    db_name: str
    db_url: str
    ports: dict[str, int]
    env: dict[str, str]
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    collectstatic_output: str = ""
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def base(self) -> str:
        return f"https://127.0.0.1:{self.ports['https']}"

    def instance(self, n: int) -> str:
        return f"http://127.0.0.1:{self.ports[f'web{n}']}"

    def sql(self, query: str, params: Any = ()) -> list[tuple[Any, ...]]:
        with psycopg.connect(self.db_url, autocommit=True) as conn:
            return conn.execute(query, params).fetchall()

    def log(self, name: str) -> str:
        path = self.root / "logs" / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def get(
        self, path: str, headers: dict[str, str] | None = None
    ) -> tuple[int, dict[str, str], bytes]:
        """GET through nginx (the test's certificate is not verified); redirects not followed."""
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE

        class NoRedirect(urllib.request.HTTPRedirectHandler):
            def redirect_request(self, *args: Any, **kwargs: Any) -> None:
                return None

        opener = urllib.request.build_opener(
            urllib.request.HTTPSHandler(context=context), NoRedirect
        )
        request = urllib.request.Request(
            path if path.startswith("http") else self.base + path, headers=headers or {}
        )
        try:
            with opener.open(request, timeout=30) as response:
                return response.status, dict(response.headers.items()), response.read()
        except urllib.error.HTTPError as e:
            return e.code, dict(e.headers.items()), e.read()

    def alive(self) -> dict[str, int | None]:
        return {name: p.poll() for name, p in self.procs.items()}

    # -- lifecycle -----------------------------------------------------------------------

    def _spawn(self, name: str, argv: list[str], **env: str) -> subprocess.Popen[bytes]:
        log = open(self.root / "logs" / f"{name}.log", "wb")
        proc = subprocess.Popen(
            argv, cwd=ROOT, env={**self.env, **env}, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.procs[name] = proc
        return proc

    def _run(self, argv: list[str], timeout: float) -> str:
        result = subprocess.run(
            argv, cwd=ROOT, env=self.env, capture_output=True, text=True, timeout=timeout
        )
        if result.returncode != 0:
            raise RuntimeError(f"{argv} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
        return result.stdout + result.stderr

    def start(self) -> None:
        (self.root / "logs").mkdir()
        admin = re.sub(r"/[^/]*$", "/postgres", self.db_url)
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{self.db_name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{self.db_name}"')

        self._spawn("redis", [
            "redis-server", "--port", str(self.ports["redis"]), "--bind", "127.0.0.1",
            "--save", "", "--appendonly", "no",
        ])
        _wait_port(self.ports["redis"], self.procs["redis"], "redis-server")

        py = sys.executable
        t = time.monotonic()
        self._run([py, str(ROOT / "tests/prod/seed_stack.py")], timeout=300)
        self.timings["migrate+seed"] = time.monotonic() - t
        t = time.monotonic()
        self.collectstatic_output = self._run(
            [py, "manage.py", "collectstatic", "--noinput", "--verbosity", "1"], timeout=300
        )
        self.timings["collectstatic"] = time.monotonic() - t
        t = time.monotonic()

        conf = str(ROOT / "deploy/gunicorn.conf.py")
        for n in (1, 2):
            self._spawn(f"web{n}", [
                py, "-m", "gunicorn", "-c", conf, "jinzhitong.wsgi",
            ], PORT=str(self.ports[f"web{n}"]))
        for n in (1, 2):
            self._spawn(f"worker{n}", [
                py, "-m", "celery", "-A", "jinzhitong", "worker", "--loglevel=INFO",
                "--concurrency=1", f"--hostname=worker{n}@%h", "--without-gossip",
            ])
        self._spawn("beat", [
            py, "-m", "celery", "-A", "jinzhitong", "beat", "--loglevel=INFO",
            f"--schedule={self.root / 'celerybeat-schedule'}",
        ])

        nginx_dir = self.root / "nginx"
        nginx_dir.mkdir()
        cert, key = _certificate(nginx_dir)
        site = nginx_dir / "site.conf"
        site.write_text(nginx_site(
            https_port=self.ports["https"], http_port=self.ports["http"],
            upstreams=[self.ports["web1"], self.ports["web2"]],
            static_root=Path(self.env["STATIC_ROOT"]), media_root=Path(self.env["MEDIA_ROOT"]),
            cert=cert, key=key,
        ))
        main = nginx_dir / "nginx.conf"
        main.write_text(nginx_main(nginx_dir, site))
        self._run([NGINX, "-t", "-q", "-c", str(main), "-p", str(nginx_dir)], timeout=30)
        self._spawn("nginx", [NGINX, "-c", str(main), "-p", str(nginx_dir)])

        for name in ("web1", "web2", "https"):
            proc = self.procs["nginx" if name == "https" else name]
            _wait_port(self.ports[name], proc, name, timeout=90)
        self._wait_ready("worker1", "worker2")
        self.timings["processes"] = time.monotonic() - t

    def _wait_ready(self, *workers: str, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if all(" ready." in self.log(w) for w in workers):
                return
            dead = {n: c for n, c in self.alive().items() if c is not None}
            if dead:
                raise RuntimeError(f"stopped early: {dead}")
            time.sleep(0.3)
        raise RuntimeError(f"Celery workers not ready within {timeout}s")

    def stop(self) -> None:
        for name in reversed(list(self.procs)):
            proc = self.procs[name]
            if proc.poll() is None:
                proc.terminate()
        for proc in self.procs.values():
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
        admin = re.sub(r"/[^/]*$", "/postgres", self.db_url)
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{self.db_name}" WITH (FORCE)')


def build(tmp: Path) -> Stack:
    url = os.environ["DATABASE_URL"]
    parts = urlsplit(url)
    suffix = os.environ.get("PYTEST_XDIST_WORKER", "main")
    db_name = f"{parts.path.lstrip('/') or 'jinzhitong'}_prodstack_{suffix}"
    db_url = parts._replace(path=f"/{db_name}").geturl()
    web1, web2, https, http, redis = _ports(5)
    ports = {"web1": web1, "web2": web2, "https": https, "http": http, "redis": redis}
    (tmp / "static").mkdir()
    (tmp / "media").mkdir()
    keep = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "SYSTEMROOT")
    env = {k: v for k, v in os.environ.items() if k in keep}
    env.update(
        DJANGO_SETTINGS_MODULE="jinzhitong.settings",
        JZT_ROOT=str(ROOT),
        PYTHONPATH=str(ROOT),
        DEBUG="0",
        SECRET_KEY=SECRET,
        ALLOWED_HOSTS="127.0.0.1,localhost",
        DATABASE_URL=db_url,
        REDIS_URL=f"redis://127.0.0.1:{redis}/0",
        STATIC_ROOT=str(tmp / "static"),
        MEDIA_ROOT=str(tmp / "media"),
        PHOTO_ACCEL_REDIRECT_PREFIX="/_protected/",
        TRUSTED_PROXY_COUNT="1",
        RESIDENTS_KEYS="c3RhY2stdGVzdC1vbmx5LWtleS0wMTIzNDU2Nzg5YWI=",
        RESIDENTS_HMAC_KEY="stack-test-only-hmac-key",
        WEB_CONCURRENCY="2",
        GUNICORN_TIMEOUT="60",
        GUNICORN_ACCESS_LOG="-",
        ROUTING_SWEEP_SECONDS="2",
        LOG_LEVEL="INFO",
        # The scale-out check sends 90 filings at once from one login and one address, as
        # many phones would; the per-person limit (tests/reports/test_limits.py) is
        # not what it measures.
        REPORT_FILING_RATE="10000/60s",
        REPORT_FILING_RATE_PER_ADDRESS="10000/60s",
    )
    return Stack(root=tmp, db_name=db_name, db_url=db_url, ports=ports, env=env)

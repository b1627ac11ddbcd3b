"""The replica router against a real PostgreSQL streaming replica.

The test makes a standby of the local cluster with ``pg_basebackup -R`` in a temporary
folder, starts it on port 5433 (as the ``postgres`` system user: PostgreSQL refuses to run
as root), points the ``replica`` alias at it, and shows that a statistics page read from
it: the queries ran on a server in recovery (read-only) on port 5433 and the page shows
the leader's district, written on the primary a moment before and streamed over. Then
the standby stops and its folder is removed.

pg_basebackup needs a ``replication`` line in the primary's pg_hba.conf (an ``all`` line
does not cover replication). When there is none, the test adds
``host replication postgres 127.0.0.1/32 trust`` for its duration and takes it out again
afterwards, reloading the configuration each time (no restart, nothing else changes).

Skipped unless DATABASE_URL is a PostgreSQL server on this machine and the PostgreSQL
binaries, port 5433 and the ``postgres`` system user are available.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.db import connections
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import User
from tests.conftest import City

pytestmark = [
    pytest.mark.django_db(transaction=True, databases=["default", "replica"]),
]

PORT = 5433
_AT_LEAST = ("max_connections", "max_worker_processes", "max_wal_senders",
             "max_prepared_transactions", "max_locks_per_transaction")
HBA_LINE = "host replication postgres 127.0.0.1/32 trust  # jinzhitong test replica (temporary)"


def _default() -> dict[str, Any]:
    return settings.DATABASES["default"]


def _bin_dir() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_basebackup"))
    return Path(found[-1]).parent if found else None


def _as_postgres() -> list[str]:
    if os.geteuid() != 0:
        return []  # already an ordinary user (e.g. postgres itself)
    return ["runuser", "-u", "postgres", "--"]


def _port_free(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) != 0


def _skip_reason() -> str:
    db = _default()
    if db["ENGINE"] != "django.db.backends.postgresql":
        return "needs DATABASE_URL on PostgreSQL"
    if db.get("HOST") not in ("127.0.0.1", "localhost", "", None):
        return "needs the PostgreSQL server on this machine"
    if _bin_dir() is None:
        return "no pg_basebackup under /usr/lib/postgresql/*/bin"
    if os.geteuid() == 0 and not shutil.which("runuser"):
        return "running as root without runuser"
    if not _port_free(PORT):
        return f"port {PORT} is taken"
    return ""


def _primary_sql(sql: str) -> list[tuple[Any, ...]]:
    import psycopg

    db = _default()
    with psycopg.connect(
        host=db.get("HOST") or "127.0.0.1", port=int(db.get("PORT") or 5432),
        user=db.get("USER") or "postgres", dbname="postgres", autocommit=True,
    ) as conn:
        cur = conn.execute(sql)
        return cur.fetchall() if cur.description else []


def _run(*cmd: str, timeout: int = 300) -> None:
    subprocess.run(cmd, check=True, timeout=timeout, capture_output=True)


@pytest.fixture
def _replication_allowed() -> Iterator[None]:
    """A replication line in pg_hba.conf for as long as the test runs (see the module)."""
    rules = _primary_sql(
        "SELECT count(*) FROM pg_hba_file_rules WHERE error IS NULL AND "
        "'replication' = ANY(database) AND (type = 'local' OR address = '127.0.0.1')"
    )
    if rules[0][0]:
        yield
        return
    hba = Path(_primary_sql("SHOW hba_file")[0][0])
    if not os.access(hba, os.W_OK):
        pytest.skip(f"{hba} has no replication line and cannot be changed here")
    original = hba.read_text()
    hba.write_text(original.rstrip("\n") + "\n" + HBA_LINE + "\n")
    _primary_sql("SELECT pg_reload_conf()")
    try:
        yield
    finally:
        hba.write_text(original)
        _primary_sql("SELECT pg_reload_conf()")


@pytest.fixture
def standby(_replication_allowed: None) -> Iterator[Path]:
    """A streaming standby of the local cluster on port 5433; stopped and removed after."""
    bin_dir = _bin_dir()
    assert bin_dir is not None
    root = Path(tempfile.mkdtemp(prefix="jzt-replica-"))
    data = root / "data"
    shutil.chown(root, "postgres", "postgres") if os.geteuid() == 0 else None
    root.chmod(0o700)
    db = _default()
    run_as = _as_postgres()
    _run(
        *run_as, str(bin_dir / "pg_basebackup"), "-h", db.get("HOST") or "127.0.0.1",
        "-p", str(db.get("PORT") or 5432), "-U", "postgres", "-D", str(data),
        "-R", "-X", "stream", "-c", "fast",
    )
    # Debian keeps the configuration outside the data folder: the standby gets its own.
    (data / "pg_hba.conf").write_text("local all all trust\nhost all all 127.0.0.1/32 trust\n")
    (data / "postgresql.conf").write_text(
        f"port = {PORT}\nlisten_addresses = '127.0.0.1'\n"
        f"unix_socket_directories = '{root}'\nhot_standby = on\n"
        f"hba_file = '{data / 'pg_hba.conf'}'\nident_file = '{data / 'pg_ident.conf'}'\n"
        "shared_buffers = 32MB\n"
        # A standby refuses to start with fewer of these than its primary has.
        + "".join(f"{name} = {_primary_sql(f'SHOW {name}')[0][0]}\n" for name in _AT_LEAST)
    )
    (data / "pg_ident.conf").write_text("")
    if os.geteuid() == 0:
        for path in (data / "pg_hba.conf", data / "postgresql.conf", data / "pg_ident.conf"):
            shutil.chown(path, "postgres", "postgres")
    pg_ctl = [*run_as, str(bin_dir / "pg_ctl"), "-D", str(data)]
    try:
        started = subprocess.run(
            [*pg_ctl, "-l", str(root / "standby.log"), "-w", "-t", "120", "start"],
            timeout=150, capture_output=True, text=True,
        )
        log = root / "standby.log"
        assert started.returncode == 0, log.read_text() if log.exists() else started.stderr
        yield root
    finally:
        subprocess.run([*pg_ctl, "-m", "fast", "-w", "stop"], timeout=120, capture_output=True)
        shutil.rmtree(root, ignore_errors=True)


def _wait_for_replay(replica: Any, log: Path, timeout: float = 60.0) -> None:
    """Until the standby has replayed everything the primary has written so far."""
    with connections["default"].cursor() as cur:
        cur.execute("SELECT pg_current_wal_lsn()")
        target = cur.fetchone()[0]
    deadline = time.monotonic() + timeout
    while True:
        with replica.cursor() as cur:
            cur.execute("SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", [target])
            if cur.fetchone()[0]:
                return
        assert time.monotonic() < deadline, log.read_text()
        time.sleep(0.2)


@pytest.mark.skipif(bool(_skip_reason()), reason=_skip_reason() or "runs")
def test_it_serves_the_statistics_from_a_streaming_replica(
    standby: Path, leader: User, city: City, settings: Any
) -> None:
    settings.REPLICA_DATABASE = "replica"
    replica = connections["replica"]
    replica.close()
    saved = dict(replica.settings_dict)
    replica.settings_dict.update(HOST="127.0.0.1", PORT=PORT)
    try:
        _wait_for_replay(replica, standby / "standby.log")
        with replica.cursor() as cur:
            cur.execute("SELECT inet_server_port(), pg_is_in_recovery()")
            assert cur.fetchone() == (PORT, True)
        client = Client()
        client.force_login(leader)

        with CaptureQueriesContext(replica) as on_replica:
            response = client.get(reverse("evaluation:stats"), {"by": "region"})

        assert response.status_code == 200
        # The leader's district, written on the primary a moment ago, read on the standby.
        assert "南开区" in response.content.decode()
        assert any("evaluation_" in q["sql"] for q in on_replica.captured_queries)
        assert any("grids_region" in q["sql"] for q in on_replica.captured_queries)
    finally:
        replica.close()
        replica.settings_dict.clear()
        replica.settings_dict.update(saved)

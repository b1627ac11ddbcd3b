"""The JZT_TEST_CLOCK switch of tests/conftest.py really moves the clock.

CI runs the suite once more with the clock on a Saturday night; these tests make sure that
run cannot silently test today's date instead.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone

from tests.conftest import CLOCK_ENV, clock_from_env

# A session under a shifted clock is expected to finish within this; the clock ticks.
SESSION = timedelta(hours=3)
SATURDAY_NIGHT = "2026-12-12T23:30:00+08:00"


def test_it_reads_the_instant_with_its_offset() -> None:
    assert clock_from_env(None) is None
    assert clock_from_env("") is None
    assert clock_from_env(SATURDAY_NIGHT) == datetime(2026, 12, 12, 15, 30, tzinfo=UTC)


def test_it_refuses_an_instant_without_an_offset() -> None:
    with pytest.raises(pytest.UsageError):
        clock_from_env("2026-12-12T23:30:00")


@pytest.mark.skipif(not os.environ.get(CLOCK_ENV), reason=f"{CLOCK_ENV} is not set")
def test_the_whole_python_clock_is_at_the_instant_named() -> None:
    at = clock_from_env(os.environ[CLOCK_ENV])
    assert at is not None

    def near(now: datetime) -> bool:
        return at <= now < at + SESSION

    assert near(timezone.now())
    assert near(datetime.now(UTC))
    assert near(datetime.fromtimestamp(time.time(), UTC))
    # The weekday the code sees is the local (Asia/Shanghai) one of that instant.
    assert timezone.localdate() - timezone.localtime(at).date() <= timedelta(days=1)
    # live_server runs pages in another thread: it sees the same clock.
    seen: list[datetime] = []
    thread = threading.Thread(target=lambda: seen.append(timezone.now()))
    thread.start()
    thread.join()
    assert near(seen[0])


@pytest.mark.skipif(bool(os.environ.get(CLOCK_ENV)), reason="runs the check above instead")
def test_setting_the_switch_moves_a_session_to_a_saturday_night() -> None:
    # Given a pytest session started with the switch on a Saturday night
    env = {k: v for k, v in os.environ.items() if k != "PYTEST_XDIST_WORKER"}
    env[CLOCK_ENV] = SATURDAY_NIGHT
    # When it runs the clock check
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:xdist", "-rs",
         f"{__file__}::test_the_whole_python_clock_is_at_the_instant_named"],
        cwd=Path(settings.BASE_DIR), env=env, capture_output=True, text=True, timeout=120,
    )
    # Then the check ran (not skipped) and passed
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "1 passed" in result.stdout, result.stdout[-3000:]
    assert f"{CLOCK_ENV}={SATURDAY_NIGHT}" in result.stdout  # the header names the clock

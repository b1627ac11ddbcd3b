"""Log lines: ISO 8601 time with +08:00, level, logger and request id; JSON with
LOG_FORMAT=json; the id of the request (X-Request-ID) or of the Celery task."""

from __future__ import annotations

import io
import json
import logging
import re
import sys
from collections.abc import Iterator
from unittest import mock

import pytest
from django.db import OperationalError
from django.test import Client
from django.urls import reverse

from accounts.models import User
from jinzhitong.celery import app
from jinzhitong.logs import JsonFormatter, RequestIdFilter, TextFormatter, logging_config
from jinzhitong.requestid import request_id

TEXT_LINE = re.compile(
    r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+08:00 (?P<level>[A-Z]+) (?P<logger>\S+) "
    r"\[(?P<rid>[^\]]+)\] (?P<message>.*)"
)


def _record(message: str = "案件已上报", created: float = 0.0) -> logging.LogRecord:
    record = logging.LogRecord("reports.services", logging.INFO, __file__, 1, message, (), None)
    record.created = created
    return record


@pytest.fixture
def captured() -> Iterator[tuple[io.StringIO, logging.Handler]]:
    """A handler on the root logger like the configured one, writing into a buffer."""
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.addFilter(RequestIdFilter())
    root = logging.getLogger()
    root.addHandler(handler)
    yield out, handler
    root.removeHandler(handler)


def test_it_writes_time_with_the_beijing_offset_level_logger_and_request_id() -> None:
    token = request_id.set("req-1")
    try:
        record = _record(created=1_700_000_000.5)
        RequestIdFilter().filter(record)
        line = TextFormatter().format(record)
    finally:
        request_id.reset(token)

    assert line == "2023-11-15T06:13:20.500+08:00 INFO reports.services [req-1] 案件已上报"


def test_it_writes_one_json_object_a_line_with_extra_fields() -> None:
    record = _record(created=1_700_000_000.5)
    record.report_id = 42
    RequestIdFilter().filter(record)

    line = JsonFormatter().format(record)

    assert "\n" not in line
    assert json.loads(line) == {
        "time": "2023-11-15T06:13:20.500+08:00",
        "level": "INFO",
        "logger": "reports.services",
        "request_id": "-",
        "message": "案件已上报",
        "report_id": 42,
    }


def test_it_keeps_a_traceback_inside_the_json_object() -> None:
    try:
        raise ValueError("坏了")
    except ValueError:
        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed", (), None)
        record.exc_info = sys.exc_info()

    body = json.loads(JsonFormatter().format(record))

    assert "ValueError: 坏了" in body["exception"]


@pytest.mark.parametrize(("fmt", "formatter"), [("text", TextFormatter), ("json", JsonFormatter)])
def test_it_configures_the_chosen_format(fmt: str, formatter: type) -> None:
    config = logging_config(fmt=fmt, level="INFO", zone="Asia/Shanghai")

    assert config["formatters"]["line"]["()"] is formatter
    assert config["handlers"]["console"]["filters"] == ["request_id"]


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_it_puts_the_requests_id_on_the_lines_logged_while_serving_it(
    worker: User, captured: tuple[io.StringIO, logging.Handler], fmt: str
) -> None:
    out, handler = captured
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    client = Client(raise_request_exception=False)
    client.force_login(worker)

    with mock.patch("reports.selectors.filing_grids", side_effect=OperationalError("gone")):
        response = client.get(reverse("reports:file"), HTTP_X_REQUEST_ID="edge-7")

    assert response.status_code == 503
    lines = [line for line in out.getvalue().splitlines() if "database unavailable" in line]
    if fmt == "json":
        body = json.loads(lines[0])
        assert (body["request_id"], body["level"], body["logger"]) == (
            "edge-7", "ERROR", "jinzhitong.faults",
        )
        assert body["time"].endswith("+08:00")
    else:
        match = TEXT_LINE.match(lines[0])
        assert match is not None
        assert (match["rid"], match["level"], match["logger"]) == (
            "edge-7", "ERROR", "jinzhitong.faults",
        )


@app.task(name="tests.test_logs.log_inside")
def _log_inside() -> None:
    logging.getLogger("tests.task").warning("inside the task")


def test_it_puts_the_task_id_on_the_lines_a_celery_task_logs(
    captured: tuple[io.StringIO, logging.Handler],
) -> None:
    out, handler = captured
    handler.setFormatter(TextFormatter())

    _log_inside.apply(task_id="task-42")

    (line,) = [ln for ln in out.getvalue().splitlines() if "inside the task" in ln]
    assert TEXT_LINE.match(line) is not None
    assert "[task-42]" in line
    assert request_id.get() == "-"

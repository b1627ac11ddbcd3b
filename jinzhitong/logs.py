"""Log lines for operations: ISO 8601 time with the +08:00 offset, level, logger and
request id on every line; ``LOG_FORMAT=json`` gives one JSON object per line.

Used from ``settings.LOGGING`` (``RequestIdFilter`` on the handler, one of the two
formatters). The request id comes from ``jinzhitong.requestid`` (the web middleware sets
it per request, Celery per task).
"""

from __future__ import annotations

import json
import logging
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from jinzhitong.requestid import request_id

# The time zone of the log lines (settings.TIME_ZONE, given by LOGGING).
_DEFAULT_ZONE = "Asia/Shanghai"

# LogRecord attributes that are not "extra" fields passed by the caller.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}


class RequestIdFilter(logging.Filter):
    """Adds ``request_id`` to every record (``-`` outside a request or task)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = request_id.get()
        return True


class _ZonedTime:
    def __init__(self, zone: str) -> None:
        self.zone = ZoneInfo(zone)

    def iso(self, record: logging.LogRecord) -> str:
        """e.g. 2026-12-07T09:41:03.512+08:00"""
        return datetime.fromtimestamp(record.created, self.zone).isoformat(timespec="milliseconds")


class TextFormatter(logging.Formatter):
    """``<time> <LEVEL> <logger> [<request id>] <message>`` and the traceback, if any."""

    def __init__(self, *args: Any, zone: str = _DEFAULT_ZONE, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.clock = _ZonedTime(zone)

    def format(self, record: logging.LogRecord) -> str:
        rid = getattr(record, "request_id", request_id.get())
        line = (
            f"{self.clock.iso(record)} {record.levelname} {record.name} [{rid}] "
            f"{record.getMessage()}"
        )
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        elif record.stack_info:
            line += "\n" + self.formatStack(record.stack_info)
        return line


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time, level, logger, request_id, message, exception and
    any ``extra={...}`` fields (values that JSON cannot hold are written as text)."""

    def __init__(self, *args: Any, zone: str = _DEFAULT_ZONE, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.clock = _ZonedTime(zone)

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "time": self.clock.iso(record),
            "level": record.levelname,
            "logger": record.name,
            "request_id": getattr(record, "request_id", request_id.get()),
            "message": record.getMessage(),
        }
        if record.exc_info:
            out["exception"] = self.formatException(record.exc_info)
        for key, value in vars(record).items():
            if key not in _STANDARD and key not in out and not key.startswith("_"):
                out[key] = value
        return json.dumps(out, ensure_ascii=False, default=str)


def logging_config(*, fmt: str, level: str, zone: str) -> dict[str, Any]:
    """The ``LOGGING`` dict: console output in ``fmt`` ("text" or "json")."""
    formatter = JsonFormatter if fmt == "json" else TextFormatter
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": RequestIdFilter}},
        "formatters": {"line": {"()": formatter, "zone": zone}},
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "filters": ["request_id"],
                "formatter": "line",
            }
        },
        "root": {"handlers": ["console"], "level": level},
        "loggers": {"django.db.backends": {"level": "INFO"}},
    }

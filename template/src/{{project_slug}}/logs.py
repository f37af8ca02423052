"""Logging: one line per event, in JSON by default, each tagged with the current request id."""

import json
import logging
import logging.config
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any, Literal

request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"
# Loggers that write SQL statements with their parameters at DEBUG: password hashes, token digests, CSRF tokens.
# They stay at INFO whatever LOG_LEVEL says (SQLAlchemy's own keeps to WARNING unless the engine echoes).
STATEMENT_LOGGERS = ("aiosqlite",)

_STANDARD_ATTRIBUTES = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None)))
_UNLOGGED_ATTRIBUTES = frozenset({"color_message"})  # uvicorn's copy of the message, coloured for a terminal
_make_record = logging.getLogRecordFactory()
_ENCODER = json.JSONEncoder(default=str)


def _record_with_request_id(*args: Any, **kwargs: Any) -> logging.LogRecord:
    """Every log record, whichever library emits it, carries the id of the request being served."""
    record = _make_record(*args, **kwargs)
    record.request_id = request_id_var.get()
    return record


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            # Absent from a record made before `configure_logging` ran (a server process starting).
            "request_id": getattr(record, "request_id", None),
        }
        entry.update(
            (key, value)
            for key, value in vars(record).items()
            if key not in _STANDARD_ATTRIBUTES and key not in _UNLOGGED_ATTRIBUTES and not key.startswith("_")
        )
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return _ENCODER.encode(entry)


def logging_config(level: str, log_format: Literal["json", "text"] = "json") -> dict[str, Any]:
    """The configuration of every process, for `logging.config.dictConfig`: one handler, on the root logger,
    which the other loggers (the servers' too, see web/server.py) pass their records on to."""
    formatter: dict[str, Any] = (
        {"()": JsonFormatter}
        if log_format == "json"
        else {"()": logging.Formatter, "fmt": TEXT_FORMAT, "defaults": {"request_id": None}}
    )
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {log_format: formatter},
        "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": log_format}},
        "root": {"level": level, "handlers": ["stderr"]},
        "loggers": {name: {"level": "INFO"} for name in STATEMENT_LOGGERS},
    }


def configure_logging(level: str, log_format: Literal["json", "text"] = "json") -> None:
    logging.setLogRecordFactory(_record_with_request_id)
    logging.config.dictConfig(logging_config(level, log_format))

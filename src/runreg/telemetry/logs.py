"""JSON log lines for every process (servers, their worker processes, Celery workers), with the request id."""

from __future__ import annotations

import logging
import logging.config
from contextvars import ContextVar
from typing import Any

request_id: ContextVar[str] = ContextVar("request_id", default="-")
FORMAT = "%(asctime)s %(levelname)s %(name)s %(process)d %(message)s %(request_id)s"


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.get()
        return True


def logging_config(level: int | str = logging.INFO) -> dict[str, Any]:
    """A `logging.config.dictConfig` dictionary, picklable, so uvicorn applies it in each worker process it
    spawns (`uvicorn.run(log_config=...)`) — a handler set up in the parent does not survive a spawn."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": RequestIdFilter}},
        "formatters": {"json": {"()": "pythonjsonlogger.orjson.OrjsonFormatter", "fmt": FORMAT}},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "formatter": "json",
                "filters": ["request_id"],
                "stream": "ext://sys.stderr",
            }
        },
        "root": {"handlers": ["stderr"], "level": level},
        "loggers": {
            # uvicorn's own loggers propagate to the root handler; its access log is replaced by
            # runreg.http.access (one line per request with the request id and the duration).
            "uvicorn": {"handlers": [], "propagate": True},
            "uvicorn.error": {"handlers": [], "propagate": True},
            "uvicorn.access": {"handlers": [], "propagate": False, "level": "CRITICAL"},
        },
    }


def configure_logging(level: int | str = logging.INFO) -> None:
    logging.config.dictConfig(logging_config(level))
    logging.captureWarnings(True)  # warnings become JSON lines too (logger py.warnings)

"""Log lines for people and for schedulers, every one redacted.

Text (default): `time LEVEL logger: message`. On a terminal `sync` shows INFO;
elsewhere (cron, systemd, CI) only warnings and errors, so a healthy run prints
just its one summary line on stdout: quiet unless something is wrong.

JSON (`--log-format json`): one object a line on stderr with `time` (UTC, ISO
8601), `level`, `logger`, `message`, and when they apply `step` (what the sync
is doing), `counts` (the run's figures) and `error` (the one-sentence error).
A scheduler that collects logs wants every run's figures, so JSON logs INFO
unless `-q`.
"""
from __future__ import annotations

import datetime as dt
import logging
import sys
from typing import Optional

from sync.core.redact import redact

from .terminal import json_text, visible

ROOT_LOGGER = "talks"
_EXTRA = ("step", "counts", "error", "run_id")
_format = "text"


class RedactingFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return visible(redact(super().format(record)))


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        moment = dt.datetime.fromtimestamp(record.created, dt.timezone.utc)
        line = {
            "time": moment.isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key in _EXTRA:
            value = getattr(record, key, None)
            if value is not None:
                line[key] = value
        if record.exc_info:
            line["error"] = line.get("error") or str(record.exc_info[1])
        return redact(json_text(line, default=str))


def configure_logging(verbose: bool, quiet: bool, fmt: str = "text", terminal: Optional[bool] = None) -> None:
    global _format
    _format = fmt
    if terminal is None:
        terminal = sys.stderr.isatty()
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else
                         RedactingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger(ROOT_LOGGER)
    root.handlers[:] = [handler]
    if verbose:
        level = logging.DEBUG
    elif quiet or (fmt == "text" and not terminal):
        level = logging.WARNING
    else:
        level = logging.INFO
    root.setLevel(level)
    root.propagate = False


def is_json() -> bool:
    return _format == "json"


def step(message: str) -> None:
    """A sync step (`reading pages`, `saving`, ...): INFO, with `step` in JSON."""
    logging.getLogger(f"{ROOT_LOGGER}.sync").info(message, extra={"step": message})


def event(level: int, message: str, **fields) -> None:
    logging.getLogger(f"{ROOT_LOGGER}.sync").log(level, message, extra={k: v for k, v in fields.items() if k in _EXTRA})

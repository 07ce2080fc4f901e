"""The hub's logs: one JSON object per line (``JsonFormatter``) or plain text for a terminal
(``TextFormatter``), never a person's identifiers in either, and the logging configuration every
hub process installs (``logging_config``, handed to uvicorn, which applies it in each worker).

Why redact at the formatter: a log line is written by code we do not all control (the driver, a
library's warning, an exception's text quoting a value), so the last step before the stream is
the one place that sees everything. What is masked: plates (SIV ``AB-123-CD``, FNI
``1234 AB 25``), entity keys (``vehicle:…``, ``phone:…``, ``plate:FR:…``), keyed pseudonyms
(``ps1:<key>:<hex>``), and what the kernel's detector finds in free text (phone numbers,
e-mail addresses, IBANs, IP addresses — hub/contract/identifiers.py). The access log is ours
(``access_log``, one line per request from hub/ops/metrics.py, by route *template*); uvicorn's
own access log is switched off, since it prints the path asked, plates included. The Neo4j
driver logs at WARNING at most: its DEBUG lines carry query parameters.
"""

from __future__ import annotations

import json
import logging
import re
from datetime import UTC, datetime
from typing import Any

from hub.contract.identifiers import KIND_LABELS_FR, find_identifiers, redact

ACCESS_LOGGER = "crosshub.access"

_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"ps1:[A-Za-z0-9_.-]{1,40}:[0-9a-fA-F]{16,}"), "[pseudonyme]"),
    (re.compile(r"\b(vehicle|plate|phone|person|tel|telephone)(:[A-Z]{2})?:[^\s,;'\"\]\)}]+",
                re.IGNORECASE), r"\1:[masqué]"),
    # SIV plates, any case, with or without dashes or spaces.
    (re.compile(r"(?<![A-Za-z0-9])[A-HJ-NP-TV-Z]{2}[- ]?\d{3}[- ]?[A-HJ-NP-TV-Z]{2}(?![A-Za-z0-9])",
                re.IGNORECASE), "[plaque]"),
    # FNI plates (before 2009): 1-4 digits, 1-3 letters, département.
    # Not inside an ISO time (``2026-12-07T10:00``: ``07T10`` has the shape).
    (re.compile(r"(?<![A-Za-z0-9:.-])\d{1,4}[- ]?[A-Z]{1,3}[- ]?(?:\d{2}|2A|2B|97[1-6])(?![A-Za-z0-9:.])"),
     "[plaque]"),
)
_PLACEHOLDERS = {kind: f"[{label}]" for kind, label in KIND_LABELS_FR.items()}
_DIGITS = re.compile(r"\d")


def scrub(text: str) -> str:
    """``text`` with every identifier masked (see the module docstring)."""
    for pattern, placeholder in _PATTERNS:
        text = pattern.sub(placeholder, text)
    # The detector is thorough and not free: only where a phone, e-mail, IBAN or IP could be.
    if "@" in text or " at " in text or len(_DIGITS.findall(text)) >= 6:
        if find_identifiers(text):
            text = redact(text, _PLACEHOLDERS)
    return text


# Fields a record may carry into the JSON line (``extra=``), besides the standard ones.
_EXTRA_FIELDS = ("method", "route", "status", "duration_ms", "job", "outcome", "connector",
                 "agency", "count")


def _render(record: logging.LogRecord, formatter: logging.Formatter) -> tuple[str, str | None]:
    message = record.getMessage()
    exc = None
    if record.exc_info:
        exc = formatter.formatException(record.exc_info)
    elif record.exc_text:
        exc = record.exc_text
    return scrub(message), scrub(exc) if exc else None


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC, ISO 8601), level, logger, message, and the known
    extra fields; identifiers masked."""

    def format(self, record: logging.LogRecord) -> str:
        message, exc = _render(record, self)
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(), "logger": record.name, "message": message,
        }
        for name in _EXTRA_FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                line[name] = scrub(value) if isinstance(value, str) else value
        if exc:
            line["exception"] = exc
        return json.dumps(line, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    """``time level logger: message`` for a terminal; identifiers masked."""

    def format(self, record: logging.LogRecord) -> str:
        message, exc = _render(record, self)
        when = datetime.fromtimestamp(record.created, UTC).strftime("%Y-%m-%dT%H:%M:%S")
        text = f"{when} {record.levelname} {record.name}: {message}"
        return f"{text}\n{exc}" if exc else text


def logging_config(fmt: str = "json", level: str = "INFO") -> dict[str, Any]:
    """A ``logging.config.dictConfig`` for a hub process (uvicorn's ``log_config``)."""
    level = level.upper()
    formatter = "hub.ops.logs.JsonFormatter" if fmt == "json" else "hub.ops.logs.TextFormatter"
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"hub": {"()": formatter}},
        "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "hub",
                                "stream": "ext://sys.stderr"}},
        "root": {"handlers": ["stderr"], "level": level},
        "loggers": {
            "uvicorn": {"handlers": [], "propagate": True, "level": level},
            "uvicorn.error": {"handlers": [], "propagate": True, "level": level},
            # The path asked, with its plates: our own access line replaces it.
            "uvicorn.access": {"handlers": [], "propagate": False, "level": "CRITICAL"},
            "neo4j": {"handlers": [], "propagate": True, "level": "WARNING"},
        },
    }


def configure(fmt: str = "json", level: str = "INFO") -> None:
    """Install ``logging_config`` in this process (a CLI command, a job run outside uvicorn)."""
    import logging.config

    logging.config.dictConfig(logging_config(fmt, level))


_access = logging.getLogger(ACCESS_LOGGER)


def access_log(method: str, route: str, status: int, seconds: float) -> None:
    """The request's one access line: by route template, never the path asked."""
    if _access.isEnabledFor(logging.INFO):
        ms = round(seconds * 1000, 1)
        _access.info("%s %s %d %.1f ms", method, route, status, ms,
                     extra={"method": method, "route": route, "status": status, "duration_ms": ms})

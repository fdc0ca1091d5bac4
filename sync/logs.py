"""Logging for the CLI and the daemon: one place that sets levels, formats and redaction.

Secrets must never reach a log: API keys in query strings (`api_key=`), `whsec_` webhook
secrets, passwords in database URLs and `x-api-key` headers are masked by a filter on
every handler, whatever logger (ours, Scrapy's, Twisted's) produced the record.
"""
from __future__ import annotations

import json
import logging
import re
from datetime import UTC, datetime

_SECRETS = (
    (re.compile(r"(?i)\b(api_key|apikey|access_token|token|key|secret|password)=([^&\s'\"]+)"), r"\1=***"),
    (re.compile(r"whsec_[A-Za-z0-9+/=]+"), "whsec_***"),
    (re.compile(r"(?i)(x-api-key['\"]?\s*[:=,]\s*['\"]?)[^'\"\s,}\]]+"), r"\1***"),
    (re.compile(r"(://[^:/@\s]+:)[^@\s]+@"), r"\1***@"),
)


def redact(text: str) -> str:
    for pattern, replacement in _SECRETS:
        text = pattern.sub(replacement, text)
    return text


class RedactSecrets(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = redact(message)
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if clean != message:
            record.msg, record.args = clean, None
        return True


class RobotsTxtFailuresInOneLine(logging.Filter):
    """Scrapy logs a robots.txt it could not download as an ERROR with a full traceback,
    once per host and crawl: for a daemon and a host that is down, pages of noise. The
    source's own result names the failure; the log keeps a one-line warning."""

    LOGGER = "scrapy.downloadermiddlewares.robotstxt"

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name == self.LOGGER and record.levelno == logging.ERROR:
            record.levelno, record.levelname = logging.WARNING, "WARNING"
            record.exc_info, record.exc_text = None, None
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object a line: what log shippers want from a long-running service."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {"ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
                 "level": record.levelname.lower(), "logger": record.name, "msg": record.getMessage()}
        for key, value in record.__dict__.items():
            if key.startswith("ps_"):
                entry[key[3:]] = value
        if record.exc_text or record.exc_info:
            entry["exc"] = record.exc_text or self.formatException(record.exc_info)  # type: ignore[arg-type]
        return json.dumps(entry, ensure_ascii=False, default=str)


def configure_logging(verbosity: int = 0, structured: bool = False) -> None:
    level = (logging.WARNING, logging.INFO, logging.DEBUG)[min(verbosity, 2)]
    handler = logging.StreamHandler()
    if verbosity < 2:
        handler.addFilter(RobotsTxtFailuresInOneLine())
    handler.addFilter(RedactSecrets())
    handler.setFormatter(JsonFormatter() if structured
                         else logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # Scrapy reports every retry and give-up; our results carry the reason already.
    noisy = logging.DEBUG if verbosity >= 2 else logging.ERROR
    for name in ("scrapy", "twisted", "filelock", "apscheduler.executors.default"):
        logging.getLogger(name).setLevel(noisy)

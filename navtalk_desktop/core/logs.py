"""Logging to a per-user log file, with every registered secret (and anything token-shaped) redacted.

Keys are registered the moment they are loaded, so no log line, traceback or stored error can carry them.
"""

from __future__ import annotations

import logging
import logging.handlers
import re
import threading
from pathlib import Path

from .app_paths import log_dir


LOG_NAME = "navtalk.log"
MASK = "***"

_secrets: set[str] = set()
_lock = threading.Lock()
_JWT = re.compile(r"eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*")
_BEARER = re.compile(r"(Bearer\s+)\S+", re.IGNORECASE)


def register_secret(value: str | None) -> None:
    """Remember a secret so `redact` masks it everywhere from now on."""
    if value and len(value.strip()) >= 4:
        with _lock:
            _secrets.add(value.strip())


def redact(text: str) -> str:
    if not text:
        return text
    with _lock:
        secrets = sorted(_secrets, key=len, reverse=True)
    for secret in secrets:
        text = text.replace(secret, MASK)
    text = _JWT.sub(MASK, text)
    return _BEARER.sub(lambda m: m.group(1) + MASK, text)


class RedactingFilter(logging.Filter):
    """Rewrites the record in place (message, args and traceback text) before any handler formats it."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a bad format string must not drop the record
            message = str(record.msg)
        record.msg = redact(message)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


def log_file() -> Path:
    return log_dir() / LOG_NAME


def setup_file_logging(level: int = logging.INFO) -> Path:
    """Add (once) a rotating file handler to the root logger and a redacting filter to every handler."""
    root = logging.getLogger()
    path = log_file()
    if root.level > level:
        # Keep console handlers as quiet as they were; only the file gets the extra detail.
        for handler in root.handlers:
            if handler.level == logging.NOTSET:
                handler.setLevel(root.level)
    for handler in [h for h in root.handlers if getattr(h, "_navtalk_file", False)]:
        if Path(handler.baseFilename) != path:  # the log folder moved (tests, NAVTALK_LOG_DIR)
            root.removeHandler(handler)
            handler.close()
    if not any(getattr(h, "_navtalk_file", False) for h in root.handlers):
        handler = logging.handlers.RotatingFileHandler(path, maxBytes=2_000_000, backupCount=3, encoding="utf-8")
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        handler.setLevel(level)
        handler._navtalk_file = True  # type: ignore[attr-defined]
        root.addHandler(handler)
    if root.level > level:
        root.setLevel(level)
    for handler in root.handlers:
        if not any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.addFilter(RedactingFilter())
    return path

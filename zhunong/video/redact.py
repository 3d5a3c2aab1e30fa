"""A logging filter that blanks stream keys, in case one ever reaches a log message or its arguments.

Keys have a fixed prefix (models.KEY_PREFIX) so they can be recognised without a database lookup. The
video code never logs a key on purpose; this guards against accidents (a traceback, a third-party log).
"""

from __future__ import annotations

import logging
import re

from .models import KEY_PREFIX

KEY_RE = re.compile(re.escape(KEY_PREFIX) + r"[A-Za-z0-9_-]{8,}")
REDACTED = KEY_PREFIX + "[redacted]"


def redact(text: str) -> str:
    return KEY_RE.sub(REDACTED, text)


class RedactStreamKeys(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string is not ours to fix; let the handler report it
            return True
        if KEY_PREFIX in message:
            record.msg, record.args = redact(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text and KEY_PREFIX in record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True


def install() -> RedactStreamKeys:
    """Attach the filter to every handler of the root logger (filters on handlers see child loggers too)."""
    flt = RedactStreamKeys()
    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, RedactStreamKeys) for f in handler.filters):
            handler.addFilter(flt)
    return flt

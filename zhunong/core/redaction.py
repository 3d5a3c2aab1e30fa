"""Personal data kept out of the logs: a logging filter that masks mainland mobile numbers and resident ID
numbers in every record (settings.LOGGING attaches it to the console handler).

Messages are formatted first (the arguments are where a phone usually hides), then masked as pages show
them: 138****5678 and 110105********002X. The patterns stand alone (not inside longer digit runs), so order
numbers, amounts and timestamps are left alone.
"""

from __future__ import annotations

import logging
import re

from .text import mask_phone

_PHONE = re.compile(r"(?<![0-9A-Za-z])(?:\+?86[- ]?)?(1[3-9][0-9]{9})(?![0-9A-Za-z])")
_ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])([1-9][0-9]{5})([0-9]{8})([0-9]{3}[0-9Xx])(?![0-9A-Za-z])")


def redact(text: str) -> str:
    text = _ID_NUMBER.sub(lambda m: f"{m.group(1)}********{m.group(3)}", text)
    return _PHONE.sub(lambda m: mask_phone(m.group(1)), text)


class PersonalDataFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: leave it to the handler to report
            return True
        masked = redact(message)
        if masked != message:
            record.msg, record.args = masked, None
        return True

"""Personal data as others see it: the project's one set of maskers (names, phones, addresses, account and
resident ID numbers), used by every page, API answer and template filter, and a logging filter that masks
mainland mobile numbers and resident ID numbers in every record (settings.LOGGING attaches it to the
console handler).

Log messages are formatted first (the arguments are where a phone usually hides), then masked as pages show
them: 138****5678 and 110105********002X. The patterns stand alone (not inside longer digit runs), so order
numbers, amounts and timestamps are left alone.
"""

from __future__ import annotations

import logging
import re


def mask_phone(phone: str | None) -> str:
    """A phone as it is shown to anyone but its owner: 138****5678 (the carrier prefix and the last four
    digits, as Chinese shops print it); shorter values are starred whole."""
    phone = (phone or "").strip()
    if len(phone) < 7:
        return "*" * len(phone)
    return phone[:3] + "*" * (len(phone) - 7) + phone[-4:]


def mask_address(address: str | None) -> str:
    """An address as it is shown to anyone but the buyer and those who ship the parcel: the area (up to the
    city, district or county, within the first characters) and no street: 山东省青岛市市南区****."""
    address = (address or "").strip()
    if not address:
        return ""
    area = None
    for match in re.finditer(r"(?:自治州|地区|盟|州|市|区|县|旗)", address[:12]):
        area = address[:match.end()]
    return f"{area or address[:min(6, len(address) // 2)]}****"


def mask_name(name: str | None, *, keep_last: bool = True) -> str:
    """A person's name as others see it. `keep_last` (reviewers, as every Chinese shop shows them): the first
    and last characters, 王小明 → 王*明, 李四 → 李*. Without it (a payee's name on a public page): the
    first character and at most three stars, 鲁某 → 鲁*, 洋河蓝莓合作社 → 洋***, so the length does not
    show either. An empty name gives "" (the caller says 匿名 or nothing)."""
    name = (name or "").strip()
    if len(name) <= 1:
        return name + "*" if (keep_last and name) else "*" * len(name)
    if not keep_last:
        return name[0] + "*" * min(len(name) - 1, 3)
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


def mask_all_but_last(value: str | None, keep: int = 4) -> str:
    """A number shown by its last digits only (a bank account: ************1234)."""
    value = (value or "").strip()
    if len(value) <= keep:
        return "*" * len(value)
    return "*" * (len(value) - keep) + value[-keep:]


def mask_id_number(number: str) -> str:
    """A resident ID number: the region code and the last four characters, the birth date starred
    (110105********123X); anything not 18 characters long is starred whole."""
    return f"{number[:6]}{'*' * 8}{number[14:]}" if len(number) == 18 else "*" * len(number)

_PHONE = re.compile(r"(?<![0-9A-Za-z])(?:\+?86[- ]?)?(1[3-9][0-9]{9})(?![0-9A-Za-z])")
_ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])([1-9][0-9]{5})([0-9]{8})([0-9]{3}[0-9Xx])(?![0-9A-Za-z])")


def redact(text: str) -> str:
    text = _ID_NUMBER.sub(lambda m: mask_id_number(m.group(0)), text)
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

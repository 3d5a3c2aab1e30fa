"""Phones and ID numbers never reach the logs in full."""

from __future__ import annotations

import logging

from zhunong.core.redaction import PersonalDataFilter, redact


def test_phones_and_id_numbers_are_masked_and_other_numbers_kept():
    assert redact("buyer 13812345678 called") == "buyer 138****5678 called"
    assert redact("+86 13812345678") == "138****5678"
    assert redact("id 11010519491231002X ok") == "id 110105********002X ok"
    # Order numbers, amounts, timestamps and longer digit runs are not personal data.
    for kept in ("order ZN20261204123456", "amount 12345678901.50", "trace 138123456789", "at 1733350000"):
        assert redact(kept) == kept


def test_the_filter_masks_formatted_records(caplog):  # noqa: ANN001
    logger = logging.getLogger("zhunong.test.redaction")
    record = logger.makeRecord(logger.name, logging.WARNING, __file__, 1, "sms to %s failed", ("13900001111",),
                               None)
    assert PersonalDataFilter().filter(record) is True
    assert record.getMessage() == "sms to 139****1111 failed"


def test_the_console_handler_carries_the_filter():
    from django.conf import settings

    assert "personal_data" in settings.LOGGING["handlers"]["console"]["filters"]

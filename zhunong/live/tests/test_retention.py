"""Live-stream records are kept at least three years (1,095 days): shorter retention is refused, in the
settings (a system check error), in `purge_live_records --days` (CommandError) and in the service."""

from __future__ import annotations

import io

import pytest
from django.core.checks import Error
from django.core.management import call_command
from django.core.management.base import CommandError

from zhunong.core.errors import ValidationFailed
from zhunong.live import streams

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("days", [-1, 0, 1, 30, 1094])
def test_a_retention_under_three_years_is_refused_by_the_service(days):
    with pytest.raises(ValidationFailed) as err:
        streams.purge_records(days=days)
    assert err.value.details["minimum"] == streams.MIN_RETENTION_DAYS == 1095


@pytest.mark.parametrize("days", ["-5", "0", "1", "1094"])
def test_purge_command_refuses_days_under_three_years(days):
    with pytest.raises(CommandError, match="1095"):
        call_command("purge_live_records", "--days", days, stdout=io.StringIO())


def test_purge_command_with_the_setting_under_three_years_refuses(settings):  # noqa: ANN001
    settings.RECORD_RETENTION_DAYS = 1
    with pytest.raises(CommandError, match="1095"):
        call_command("purge_live_records", "--dry-run", stdout=io.StringIO())


@pytest.mark.parametrize("days, ok", [(-1, False), (0, False), (1, False), (1094, False), (1095, True), (3650, True)])
def test_the_setting_is_a_system_check(settings, days, ok):  # noqa: ANN001
    settings.RECORD_RETENTION_DAYS = days
    errors = streams.check_record_retention(None)
    assert (errors == []) is ok
    if not ok:
        assert [e.id for e in errors] == ["live.E001"] and isinstance(errors[0], Error)


def test_the_check_is_registered(settings):  # noqa: ANN001
    from django.core import checks

    settings.RECORD_RETENTION_DAYS = 0
    assert "live.E001" in [e.id for e in checks.run_checks()]

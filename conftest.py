"""Shared pytest fixtures. Test data is built through the real services (zhunong.testing)."""

import os

import pytest


def pytest_report_header(config):  # noqa: ANN001, ANN201
    from django.conf import settings

    return (f"zhunong: database={settings.DATABASES['default']['ENGINE']} "
            f"redis={'yes' if settings.REDIS_URL else 'no (in-memory channel layer, local cache)'}")


@pytest.fixture
def world(db):  # noqa: ANN001, ANN201
    from zhunong.testing import build_world

    return build_world()


@pytest.fixture
def on_ci() -> bool:
    return os.environ.get("CI") == "true"


def pytest_configure(config):  # noqa: ANN001, ANN201
    from django.conf import settings

    # Password hashing is deliberately slow; tests create many users.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # The suite pays through the sandbox gateway, which runs with DEBUG off only in demo mode.
    settings.PAYMENT_PROVIDER = "sandbox"
    settings.DEMO = True


def _has_postgres_and_redis() -> bool:
    from django.conf import settings

    return settings.DATABASES["default"]["ENGINE"].endswith("postgresql") and bool(settings.REDIS_URL)


def pytest_collection_modifyitems(config, items):  # noqa: ANN001, ANN201
    """Tests marked `postgres_redis` run only in the PostgreSQL + Redis pass; they are deselected (and
    reported) otherwise, never skipped: CI runs that pass with both services and fails on any skip."""
    if _has_postgres_and_redis():
        return
    keep, dropped = [], []
    for item in items:
        (dropped if item.get_closest_marker("postgres_redis") else keep).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = keep


def pytest_terminal_summary(terminalreporter, exitstatus, config):  # noqa: ANN001, ANN201
    skipped = terminalreporter.stats.get("skipped", [])
    if os.environ.get("CI") == "true" and skipped:
        terminalreporter.write_line(f"CI: {len(skipped)} test(s) were skipped; on CI nothing may be skipped.",
                                    red=True)


def pytest_sessionfinish(session, exitstatus):  # noqa: ANN001, ANN201
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if os.environ.get("CI") == "true" and reporter and reporter.stats.get("skipped") and exitstatus == 0:
        session.exitstatus = 1

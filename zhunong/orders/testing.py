"""Fixtures shared by the orders and payments tests: Huey runs in memory (no real queue), Redis keys of earlier runs are gone."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _huey_in_memory():  # noqa: ANN202
    # Timers and webhooks are scheduled with Huey; tests must not put them in the developer's real queue.
    from huey.contrib.djhuey import HUEY

    previous = HUEY.immediate
    HUEY.immediate = True
    yield
    HUEY.immediate = previous


@pytest.fixture(autouse=True)
def _clean_redis_inventory():  # noqa: ANN202
    """Test databases reuse ids (and are emptied after each test); Redis counters and reservations of an
    earlier test or run must not leak into the next one."""
    from django.conf import settings

    if settings.REDIS_URL:
        from zhunong.orders.inventory import redis_client

        client = redis_client()
        # Inventory (and the fast path's sale records), idempotency records and cached tokens.
        for pattern in ("inv", "idem", "tok"):
            for key in client.scan_iter(f"{settings.REDIS_PREFIX}:{pattern}:*", count=1000):
                client.delete(key)
    yield


@pytest.fixture
def buyer(db):  # noqa: ANN001, ANN201
    from zhunong.testing import make_user

    return make_user()

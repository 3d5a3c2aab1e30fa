"""Pytest fixtures shared by several apps' tests (their conftests import them).

Kept apart from zhunong.testing, whose builders the benchmarks use too: a production install without
the dev dependencies can run `zhunong bench` without pytest.
"""

from __future__ import annotations

import pytest
from django.conf import settings
from huey.contrib.djhuey import HUEY

from zhunong.core.redis import client as redis_client
from zhunong.testing import make_user


@pytest.fixture(autouse=True)
def _huey_in_memory():  # noqa: ANN202
    # Timers and webhooks are scheduled with Huey; tests must not put them in the developer's real queue.
    previous = HUEY.immediate
    HUEY.immediate = True
    yield
    HUEY.immediate = previous


@pytest.fixture(autouse=True)
def _clean_redis_inventory():  # noqa: ANN202
    """Test databases reuse ids (and are emptied after each test); Redis counters and reservations of an
    earlier test or run must not leak into the next one."""
    if settings.REDIS_URL:
        client = redis_client()
        # Inventory (and the fast path's sale records), idempotency records and cached tokens.
        for pattern in ("inv", "idem", "tok"):
            for key in client.scan_iter(f"{settings.REDIS_PREFIX}:{pattern}:*", count=1000):
                client.delete(key)
    yield


@pytest.fixture
def buyer(db):  # noqa: ANN001, ANN201
    return make_user()

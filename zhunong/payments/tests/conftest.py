from zhunong.testing import _clean_redis_inventory, _huey_in_memory, buyer  # noqa: F401

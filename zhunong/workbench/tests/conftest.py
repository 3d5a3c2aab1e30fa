from zhunong.testing_fixtures import _clean_redis_inventory, _huey_in_memory  # noqa: F401

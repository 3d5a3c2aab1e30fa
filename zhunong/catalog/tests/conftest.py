# Photos are rendered by a Huey task: run it inline, never in the developer's real queue.
from zhunong.testing_fixtures import _huey_in_memory  # noqa: F401

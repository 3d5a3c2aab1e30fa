# The personal-data tests build a buyer's history with fulfilment's world (two producers, a buyer).
from zhunong.fulfilment.tests.conftest import fw  # noqa: F401

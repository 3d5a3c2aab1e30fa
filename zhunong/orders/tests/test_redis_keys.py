"""Every Redis key of the purchase paths is named by core/redis.py, and both purchase scripts are built
from the one Lua source that takes stock and records the reservation."""

from __future__ import annotations

from django.test import override_settings

from zhunong.accounts import tokencache
from zhunong.core import redis
from zhunong.orders import fastpath, hotsales, idempotency, inventory


@override_settings(REDIS_PREFIX="zn_t")
def test_keys_live_under_the_prefix_in_their_namespace():
    assert redis.key(redis.TOKENS, "ab") == "zn_t:tok:ab" == tokencache.key("ab")
    assert tokencache.key_prefix() == "zn_t:tok:"
    assert idempotency.redis_key(7, "k1") == "zn_t:idem:7:k1" == idempotency.redis_prefix() + "7:k1"
    assert hotsales.key(3, 4) == "zn_t:inv:hot:3:4" == hotsales.key_prefix() + "3:4"
    assert inventory.redis_prefix() == "zn_t:inv:"
    assert inventory.reservations_key() == "zn_t:inv:reservations"


def test_both_purchase_scripts_share_take_and_record():
    assert inventory._RESERVE.startswith(inventory.TAKE_AND_RECORD)
    assert fastpath._ATTEMPT.startswith(inventory.TAKE_AND_RECORD)
    # Neither writes stock, buyer counts or reservation records itself.
    for script in (inventory._RESERVE, fastpath._ATTEMPT):
        own = script[len(inventory.TAKE_AND_RECORD):]
        assert "DECRBY" not in own and "HINCRBY" not in own and "HSET" not in own

"""What the purchase fast path (fastpath.py) needs to know about a running flash sale, kept in Redis.

One hash per (stream, product) pair that has an open sale: `<prefix>:inv:hot:<stream>:<product>` with
    sid  the sale's id            st/en  its start and end (epoch seconds)    lim  per-buyer limit
    so   "1" once it is sold out  pid    product id                          sti  start, ISO 8601
    d    JSON with what an order line needs: sale price, product name, payee producer
The record says only what `pricing.price_lines` would decide from the database — the same sale
(`selectors.open_sale`), listed product, product on the stream's shelf, payee (`pricing.producer_for`) —
so both paths price alike. It is
rewritten after every commit that could change that answer (sale started, moved along its machine,
settled; product saved; shelf or producers changed) and by the minutely sale sweep; it expires by itself
when the sale ends. Without a record the fast path hands the request to Django, which is always right.
"""

from __future__ import annotations

import contextlib
import json
import logging

from django.conf import settings
from django.db import transaction
from django.db.models.signals import m2m_changed, post_save

from zhunong.catalog.models import ListingStatus, Product
from zhunong.core import redis
from zhunong.live.models import Stream

from . import pricing, selectors

log = logging.getLogger(__name__)


def enabled() -> bool:
    return bool(settings.REDIS_URL) and settings.INVENTORY_BACKEND == "redis" and settings.ORDERS_FAST_PATH


def key(stream_id: int, product_id: int) -> str:
    return redis.key(redis.INVENTORY, "hot", stream_id, product_id)


def key_prefix() -> str:
    """What `key` puts before `<stream>:<product>` (the fast path builds keys from it)."""
    return redis.prefix(redis.INVENTORY, "hot")


def _client():  # noqa: ANN202
    return redis.client()


def record_for(stream_id: int, product_id: int) -> dict[str, str] | None:
    """The record the database says this pair should have now, or None (no fast path for it)."""
    sale = selectors.open_sale(stream_id=stream_id, product_id=product_id)
    if sale is None:
        return None
    product = Product.objects.filter(pk=product_id, status=ListingStatus.LISTED).prefetch_related("producers").first()
    if product is None or not product.streams.filter(pk=stream_id).exists() or not product.producers.all():
        return None
    producer = pricing.producer_for(product)
    return {
        "sid": str(sale.pk),
        "st": repr(sale.starts_at.timestamp()),
        "en": repr(sale.ends_at.timestamp()),
        "lim": str(sale.per_buyer_limit),
        "so": "1" if sale.status == "sold_out" else "0",
        "pid": str(product_id),
        "sti": sale.starts_at.isoformat(),
        "d": json.dumps({"price": str(sale.sale_price), "name": product.name, "producer_id": producer.pk,
                         "ends_at": sale.ends_at.timestamp()}, ensure_ascii=False),
    }


def refresh(stream_id: int, product_id: int) -> bool:
    """Rewrite (or remove) the pair's record from the database now. Returns whether one is published."""
    if not enabled():
        return False
    record = record_for(stream_id, product_id)
    name = key(stream_id, product_id)
    pipe = _client().pipeline()
    pipe.delete(name)
    if record is not None:
        pipe.hset(name, mapping=record)
        pipe.expireat(name, int(float(record["en"])) + 5)
    pipe.execute()
    return record is not None


def refresh_on_commit(stream_id: int, product_id: int) -> None:
    if not enabled():
        return

    def _run() -> None:
        try:
            refresh(stream_id, product_id)
        except Exception:  # the fast path is an optimisation; without a record requests go through Django
            log.exception("could not refresh hot sale record %s/%s", stream_id, product_id)
            with contextlib.suppress(Exception):  # Redis is unreachable: the fast path cannot run either
                _client().delete(key(stream_id, product_id))

    transaction.on_commit(_run)


def _refresh_open_sales(**where: int) -> None:
    if not enabled():
        return
    pairs = set(selectors.open_sales(**where).values_list("stream_id", "product_id"))
    for stream_id, product_id in pairs:
        refresh_on_commit(stream_id, product_id)


def refresh_product(product_id: int) -> None:
    """After a product changed (status, name, producers): every stream it has an open sale in."""
    _refresh_open_sales(product_id=product_id)


def refresh_stream(stream_id: int) -> None:
    """After a stream's shelf changed: every product with an open sale in it."""
    _refresh_open_sales(stream_id=stream_id)


# Keep the records in step with what they were derived from (connected in OrdersConfig.ready).
def _product_saved(sender, instance, **kwargs) -> None:  # noqa: ANN001
    refresh_product(instance.pk)


def _producers_changed(sender, instance, action, pk_set, **kwargs) -> None:  # noqa: ANN001
    if not action.startswith("post_"):
        return
    if isinstance(instance, Product):
        refresh_product(instance.pk)
    else:  # a producer's products changed (the reverse side)
        for pk in pk_set or ():
            refresh_product(pk)


def _shelf_changed(sender, instance, action, pk_set, **kwargs) -> None:  # noqa: ANN001
    if not action.startswith("post_"):
        return
    if isinstance(instance, Stream):
        refresh_stream(instance.pk)
    else:  # a product's streams changed (the reverse side)
        for pk in pk_set or ():
            refresh_stream(pk)


def connect_signals() -> None:
    post_save.connect(_product_saved, sender=Product, dispatch_uid="orders.hot.product")
    m2m_changed.connect(_producers_changed, sender=Product.producers.through, dispatch_uid="orders.hot.producers")
    m2m_changed.connect(_shelf_changed, sender=Stream.products.through, dispatch_uid="orders.hot.shelf")

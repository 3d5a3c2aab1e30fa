"""The products sold from a batch, as the trace features need them; catalog supplies the reads.

The public trace page lists the listed products sold from a batch, the inspections API shows the
products an inspection lists or delists, and a GS1 Digital Link names a product's GTIN: all of this is
catalog's data, and catalog sits above quality. So quality asks through this module, and
`CatalogConfig.ready` hands over catalog's reads (`provide`). Until then (catalog not installed) a
batch sells no products.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from django.db.models import QuerySet

from zhunong.producers.models import HarvestBatch

_reads: dict[str, Callable[..., Any]] = {}


def provide(*, gtin_of_batch: Callable[[HarvestBatch], str | None],
            products_of_batch: Callable[[HarvestBatch], Sequence[Any]],
            listed_products_of_batch: Callable[[HarvestBatch], Sequence[Any]],
            batches_of_gtin: Callable[[Iterable[str]], QuerySet[HarvestBatch] | None]) -> None:
    _reads.update(gtin_of_batch=gtin_of_batch, products_of_batch=products_of_batch,
                  listed_products_of_batch=listed_products_of_batch, batches_of_gtin=batches_of_gtin)


def gtin_of_batch(batch: HarvestBatch) -> str | None:
    """The GTIN of the (first) product sold from this batch that has one."""
    reader = _reads.get("gtin_of_batch")
    return reader(batch) if reader else None


def products_of_batch(batch: HarvestBatch) -> Sequence[Any]:
    """Every product sold from this batch, whatever its listing status, oldest first."""
    reader = _reads.get("products_of_batch")
    return reader(batch) if reader else []


def listed_products_of_batch(batch: HarvestBatch) -> Sequence[Any]:
    """The listed products sold from this batch, oldest first."""
    reader = _reads.get("listed_products_of_batch")
    return reader(batch) if reader else []


def batches_of_gtin(candidates: Iterable[str]) -> QuerySet[HarvestBatch] | None:
    """The batches of the product with one of these GTINs; None if there is no such product."""
    reader = _reads.get("batches_of_gtin")
    return reader(candidates) if reader else None

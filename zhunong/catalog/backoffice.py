"""Back-office reads of products: every status, scoped like the rest of the back office.

Operators and regulators see products whose origin is in their region's subtree, producer managers the
products of the producers they manage, platform admins everything.
"""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet

from zhunong.accounts.models import User
from zhunong.accounts.selectors import scope
from zhunong.quality.models import Inspection

from .errors import ProductNotFound
from .models import ListingTransition, Product


def visible_products(user: User) -> QuerySet[Product]:
    qs = (Product.objects.select_related("origin__parent__parent__parent__parent")
          .prefetch_related("producers__village", "images",
                            Prefetch("batches__inspections",
                                     queryset=Inspection.objects.only("id", "batch_id", "sampled_on", "result")))
          .order_by("-updated_at", "-id"))
    return scope(qs, user, region_field="origin", producer_field="producers")


def get_visible_product(user: User, product_id: int, *, with_history: bool = False) -> Product:
    qs = visible_products(user)
    if with_history:
        qs = qs.prefetch_related(Prefetch("listing_history",
                                          queryset=ListingTransition.objects.select_related("actor")))
    try:
        return qs.get(pk=product_id)
    except (Product.DoesNotExist, ValueError, TypeError, OverflowError):
        raise ProductNotFound()

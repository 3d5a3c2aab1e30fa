"""Fulfilment's answers to orders' questions (orders sits below fulfilment and cannot read its rows).

Connected when this module is imported (FulfilmentConfig.ready).
"""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver

from zhunong.orders.signals import parcels_shipped

from .models import Shipment


@receiver(parcels_shipped, dispatch_uid="fulfilment.parcels_shipped")
def count_shipped_parcels(sender: type, *, order: Any, lock: bool = False, **kwargs: Any) -> int:  # noqa: ANN401
    """Parcels of the order that have left (shipped_at stays set if one then went astray)."""
    parcels = Shipment.objects.filter(order_id=order.pk)
    if lock:
        return sum(1 for s in parcels.select_for_update().only("pk", "shipped_at") if s.shipped_at is not None)
    return parcels.filter(shipped_at__isnull=False).count()

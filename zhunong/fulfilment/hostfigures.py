"""A host's commercial record for live's host record page (live.hooks.provide_host_figures): the orders
placed in the host's streams, what they sold, what was refunded, and the complaints about them.

Sales count the orders that were paid (whatever happened after: shipped, delivered, completed, refunds
requested or paid); unpaid, expired and cancelled-before-payment orders sold nothing. The refund rate the
page shows is `refunded / sales`.
"""

from __future__ import annotations

from decimal import Decimal

from django.db.models import Count, Sum

from zhunong.orders.models import Order

from .models import Complaint


def figures_of_streams(stream_ids: list[int]) -> dict:
    paid = Order.objects.filter(stream_id__in=stream_ids, paid_at__isnull=False)
    totals = paid.aggregate(orders=Count("pk"), sales=Sum("total"), refunded=Sum("refunded_total"))
    return {
        "orders": totals["orders"] or 0,
        "sales": totals["sales"] or Decimal("0"),
        "refunded": totals["refunded"] or Decimal("0"),
        "complaints": Complaint.objects.filter(order__stream_id__in=stream_ids).count(),
    }

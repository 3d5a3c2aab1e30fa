"""What payments does when an order changes (receivers of orders' signals, connected in PaymentsConfig.ready).

Orders sits below payments and never calls it: it sends its signals inside the transaction that changes
the order, and these receivers write in that same transaction.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from zhunong.orders.models import Order, OrderStatus

from . import services


def order_transitioned(sender: type, *, order: Order, from_status: str, to_status: str, **kwargs: Any) -> None:  # noqa: ANN401
    """A payment applied (reserved → paid): each line's paid amount to its producer's ledger."""
    if from_status == OrderStatus.RESERVED and to_status == OrderStatus.PAID:
        services.credit_producers(order=order)


def order_refunded(sender: type, *, order: Order, amounts: Mapping[int, Decimal], reason: str,
                   **kwargs: Any) -> None:  # noqa: ANN401
    """Money goes back from an order's lines: record the refund, debit the producers, ask the gateway."""
    services.start_refund(order=order, amounts=amounts, reason=reason, actor=kwargs.get("actor"))

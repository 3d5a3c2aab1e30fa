"""The cost-floor rule of in-room coupons (issue 10): a coupon never takes a line below its product's cost
floor, unless the host recorded a below-cost reason when releasing it — the rule catalog applies to prices
and flashsales to sale prices. Such an order raises a below-cost integrity flag.

`check_floor` is read-only (pricing.apply_coupon calls it); `flag_below_cost` writes, inside the order's
transaction (services.create_order).
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from zhunong.core.integrity import ConcernKind, report_concern

from .errors import CouponBelowCost
from .models import Coupon


def lines_below_cost(priced: Sequence[Any], shares: Sequence[Decimal]) -> list[tuple[Any, Decimal]]:
    """(priced line, what is paid for it) of each line the coupon's share takes below the cost floor."""
    out = []
    for line, share in zip(priced, shares, strict=True):
        paid = line.total - share
        if share > 0 and paid < line.product.cost_floor * line.quantity:
            out.append((line, paid))
    return out


def check_floor(priced: Sequence[Any], shares: Sequence[Decimal], coupon: Coupon) -> None:
    """Refuse (409 coupon_below_cost) when the coupon takes a line below cost without a recorded reason."""
    if coupon.below_cost_reason:
        return
    below = lines_below_cost(priced, shares)
    if below:
        line, paid = below[0]
        raise CouponBelowCost(details={"product_id": line.product.pk, "cost_floor": str(line.product.cost_floor),
                                       "line_paid": str(paid), "quantity": line.quantity})


def flag_below_cost(*, order: Any, priced: Sequence[Any], shares: Sequence[Decimal], coupon: Coupon | None,  # noqa: ANN401
                    buyer: Any) -> None:  # noqa: ANN401
    """Inside the order's transaction: one below-cost concern per line a reasoned coupon took below cost."""
    if coupon is None:
        return
    for line, paid in lines_below_cost(priced, shares):
        product = line.product
        report_concern(kind=ConcernKind.BELOW_COST,
                       summary=f"优惠券 {coupon.code}: {product.name} 实付 {paid} 低于成本底价 "
                               f"{product.cost_floor}×{line.quantity}",
                       subject=order, region=product.origin,
                       details={"order": order.number, "coupon_code": coupon.code, "product_id": product.pk,
                                "line_paid": str(paid), "quantity": line.quantity,
                                "cost_floor": str(product.cost_floor), "reason": coupon.below_cost_reason,
                                "stream_id": coupon.stream_id},
                       raised_by=buyer)

"""Demo fulfilment data for `zhunong seed_demo`: orders that went all the way to reviews.

Drawn from the seeds' after-sales complaints: the yak jerky's pack was too big (包装太大) and some
parcels were slow (送得太慢); a single bad review can undo a stream's goodwill (一条差评…). Every step
goes through the real services (orders.create_order / mark_paid, then this app's shipping, delivery,
review, after-sales and complaint services). Idempotent: orders are placed with fixed idempotency
keys, so a second run finds them and only completes steps that are still missing.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from zhunong.accounts import roles
from zhunong.accounts.models import User
from zhunong.catalog.models import ListingStatus, Product
from zhunong.demo import addresses as demo_addresses
from zhunong.fulfilment.errors import ReviewNotAllowed
from zhunong.fulfilment.models import AfterSalesRequest, Complaint, Review, ShipmentStatus
from zhunong.fulfilment.services import after_sales as after_sales_services
from zhunong.fulfilment.services import complaints as complaint_services
from zhunong.fulfilment.services import reviews as review_services
from zhunong.fulfilment.services import shipments as shipment_services
from zhunong.orders import services as orders
from zhunong.orders.models import OrderStatus
from zhunong.payments import services as payments
from zhunong.payments.providers import get_provider


@dataclass(frozen=True)
class Story:
    key: str
    buyer: str
    product: str
    quantity: int
    carrier: str = ""  # empty: the parcel is still waiting to be packed
    tracking: str = ""
    delivered: bool = False
    rating: int | None = None
    review: str = ""
    after_sales: tuple[str, str, str] | None = None  # (reason, evidence, amount)
    complaint: tuple[str, str] | None = None  # (category, text)


STORIES = [
    Story("demo-fulfil-1", "buyer", "安化黑茶·明前千两茶 500克饼", 1, "ems", "1180020200618", True, 5,
          "茶香醇厚，包装也很实在，支持家乡茶农。"),
    Story("demo-fulfil-2", "buyer-shanghai", "安化茯砖茶 1千克", 2, "sf", "SF1300200618", True, 4,
          "金花很多，冲泡耐泡。就是物流慢了两天。"),
    Story("demo-fulfil-3", "buyer-heilongjiang", "雪多牦牛肉干 500克", 1, "yto", "YT2020061801", True, 3,
          "肉干很香，可是包装太大了，一斤肉干装了一个大箱子。",
          after_sales=("over_packaged", "外箱比肉干大好几倍，填充物太多，希望改成小包装。", "5.00")),
    Story("demo-fulfil-4", "buyer", "洋河蓝莓 125克×4盒", 2, "zto", "ZT7300200618", True, 5, "很甜很新鲜，冷链到家还是凉的。"),
    Story("demo-fulfil-5", "buyer-shanghai", "柞水木耳 250克", 1, "jd", "JD0020200618", False),
    Story("demo-fulfil-6", "buyer-heilongjiang", "丰城富硒大米 5千克", 1,
          complaint=("delivery", "付款两天了还没有发货，直播间说当天发的。")),
]


def _handler(producer) -> User | None:  # noqa: ANN001
    """Who packs for this producer in the demo: its manager, else a county operator over its village."""
    manager = producer.managers.order_by("pk").first()
    if manager is not None:
        return manager
    for user in User.objects.filter(groups__name=roles.COUNTY_OPERATOR, region__isnull=False).select_related("region"):
        if producer.village.path.startswith(user.region.path):
            return user
    return None


def _play(story: Story, created: Counter) -> str | None:
    buyer = User.objects.filter(username=story.buyer).first()
    product = Product.objects.filter(name=story.product, status=ListingStatus.LISTED).first()
    if buyer is None or product is None:
        return f"{story.key}: skipped (no {story.buyer!r} or listed {story.product!r})"
    order = orders.create_order(buyer=buyer, lines=[{"product_id": product.pk, "quantity": story.quantity}],
                                idempotency_key=story.key, ship_to=demo_addresses.ship_to(buyer))
    if not getattr(order, "idempotent_replay", True):
        created["orders"] += 1
    if order.status == OrderStatus.RESERVED:
        # Paid through the sandbox gateway like a real buyer, so later refunds find the payment there.
        session = payments.start_checkout(order=order, actor=buyer)
        paid = get_provider("sandbox").confirm(session_ref=session.session_ref)
        payments.apply_payment(session=session, amount=paid.amount, payment_ref=paid.payment_ref)
        order.refresh_from_db()
    if order.status == OrderStatus.PAID and not order.shipments.exists():
        shipment_services.route_order(order=order)
    for shipment in order.shipments.select_related("producer__village"):
        actor = _handler(shipment.producer)
        if story.carrier and actor is not None and shipment.status in (ShipmentStatus.PENDING, ShipmentStatus.PACKED):
            shipment_services.ship_shipment(actor=actor, shipment=shipment, carrier=story.carrier,
                                            tracking_number=story.tracking)
            created["parcels shipped"] += 1
            shipment.refresh_from_db()
        if story.delivered and shipment.status == ShipmentStatus.SHIPPED:
            shipment_services.confirm_delivery(actor=buyer, shipment=shipment)
            created["deliveries confirmed"] += 1
    line = order.lines.first()
    if story.rating and not Review.objects.filter(line=line).exists():
        try:
            review_services.create_review(actor=buyer, line=line, rating=story.rating, text=story.review)
            created["reviews"] += 1
        except ReviewNotAllowed:
            pass
    if story.after_sales and not AfterSalesRequest.objects.filter(line=line).exists():
        reason, evidence, amount = story.after_sales
        request = after_sales_services.request_after_sales(actor=buyer, line=line, kind="refund_only", reason=reason,
                                                           evidence=evidence, amount=Decimal(amount))
        handler = _handler(line.producer)
        if handler is not None:
            after_sales_services.approve_after_sales(actor=handler, request=request, note="抱歉，已改用小号包装箱，退 5 元包装费。")
        created["after-sales refunds"] += 1
    if story.complaint and not Complaint.objects.filter(order=order).exists():
        category, text = story.complaint
        complaint_services.file_complaint(actor=buyer, order=order, category=category, text=text)
        created["complaints"] += 1
    return None


def seed(*, stdout: Any, dry_run: bool) -> Counter:
    """Play the demo stories (see module docstring); the caller's transaction handles --dry-run."""
    created: Counter = Counter()
    skipped = []
    for story in STORIES:
        note = _play(story, created)
        if note:
            skipped.append(note)
    verb = "Would create" if dry_run else "Created"
    if created:
        stdout.write(f"Fulfilment demo — {verb}: " + ", ".join(f"{n} {what}" for what, n in created.items()) + ".")
    else:
        stdout.write("Fulfilment demo already present: nothing changed.")
    for note in skipped:
        stdout.write(f"  {note}")
    return created

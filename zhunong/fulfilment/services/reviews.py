"""Reviews: a buyer rates one delivered line, once; county staff may hide abusive text."""

from __future__ import annotations

from django.db import IntegrityError, transaction

from zhunong.accounts import policy
from zhunong.accounts.models import User
from zhunong.core.errors import PermissionDenied
from zhunong.core.text import clean_text
from zhunong.orders.models import OrderLine

from .. import selectors
from ..errors import AlreadyReviewed, BadRating, ReviewNotAllowed, not_your_order
from ..models import Review, ShipmentStatus


@transaction.atomic
def create_review(*, actor: User, line: OrderLine, rating: object, text: str = "") -> Review:
    """A buyer reviews one delivered line, once."""
    line = OrderLine.objects.select_for_update().select_related("order").get(pk=line.pk)
    if actor is None or not actor.is_authenticated or line.order.buyer_id != actor.pk:
        raise not_your_order()
    if isinstance(rating, bool) or not isinstance(rating, int) or not 1 <= rating <= 5:
        raise BadRating(details={"field": "rating"})
    text = clean_text(text, field="text", max_length=500, required=False, multiline=True)
    shipment = selectors.line_shipment(line)
    if shipment is None or shipment.status != ShipmentStatus.DELIVERED:
        raise ReviewNotAllowed()
    if Review.objects.filter(line=line).exists():
        raise AlreadyReviewed()
    try:
        with transaction.atomic():
            return Review.objects.create(line=line, product_id=line.product_id, producer_id=line.producer_id,
                                         buyer=actor, rating=rating, text=text)
    except IntegrityError:
        raise AlreadyReviewed()


@transaction.atomic
def hide_review(*, actor: User, review: Review, reason: str) -> Review:
    """County staff hide abusive text (insults, personal data); the rating still counts."""
    review = Review.objects.select_for_update().select_related("producer__village").get(pk=review.pk)
    if not policy.can(actor, "review.hide", review.producer):
        raise PermissionDenied("Only county staff moderate reviews.")
    review.visible = False
    review.hidden_reason = clean_text(reason, field="reason", max_length=300)
    review.save(update_fields=["visible", "hidden_reason"])
    return review

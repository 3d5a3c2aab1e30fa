"""The sections of a buyer's data held by the apps above accounts (accounts.personal_data): registered from
NotificationsConfig.ready, since this app sits above orders, payments, fulfilment and live."""

from __future__ import annotations

from django.utils.translation import gettext as _

from zhunong.accounts.models import User
from zhunong.accounts.personal_data import Section, provide
from zhunong.fulfilment.models import AfterSalesRequest, Complaint, Review
from zhunong.live.models import ChatMessage
from zhunong.orders.models import Order, OrderStatus, ShippingAddress
from zhunong.payments.models import PaymentSession, Refund

from .models import Delivery, HostFollow, Notification, NotificationPreference, StreamReminder

# Orders in these states still need the buyer's address or may still be disputed.
_UNDER_WAY = (OrderStatus.RESERVED, OrderStatus.PAID, OrderStatus.SHIPPED, OrderStatus.DELIVERED,
              OrderStatus.REFUND_REQUESTED)
ANONYMISED_NAME = "（已注销）"


def _orders(user: User) -> list[dict]:
    rows = []
    for order in Order.objects.filter(buyer=user).prefetch_related("lines__product").order_by("pk"):
        rows.append({
            "number": order.number, "status": order.status, "total": order.total, "created_at": order.created_at,
            "ship_to_name": order.ship_to_name, "ship_to_phone": order.ship_to_phone,
            "ship_to_address": order.ship_to_address,
            "lines": [{"product": line.product.name, "quantity": line.quantity, "paid": line.paid_amount,
                       "refunded": line.refunded_amount} for line in order.lines.all()],
        })
    return rows


def _erase_orders(user: User) -> int:
    return Order.objects.filter(buyer=user).update(ship_to_name=ANONYMISED_NAME, ship_to_phone="",
                                                   ship_to_address="")


def _orders_under_way(user: User) -> list[str]:
    # Shown to the buyer on /accounts/my-data/ (and in the refusal's details), in their language.
    return [_("订单 %(number)s") % {"number": n} for n in Order.objects.filter(buyer=user, status__in=_UNDER_WAY)
            .order_by("pk").values_list("number", flat=True)]


def _payments(user: User) -> list[dict]:
    sessions = [{"order": s.order.number, "provider": s.provider, "amount": s.amount, "status": s.status,
                 "created_at": s.created_at}
                for s in PaymentSession.objects.filter(order__buyer=user).select_related("order").order_by("pk")]
    refunds = [{"order": r.order.number, "amount": r.amount, "status": r.status, "reason": r.reason,
                "created_at": r.created_at}
               for r in Refund.objects.filter(order__buyer=user).select_related("order").order_by("pk")]
    return [{"kind": "payment", **s} for s in sessions] + [{"kind": "refund", **r} for r in refunds]


def _addresses(user: User) -> list[dict]:
    return [{"name": a.name, "phone": a.phone, "address": a.address}
            for a in ShippingAddress.objects.filter(buyer=user)]


def _erase_addresses(user: User) -> int:
    return ShippingAddress.objects.filter(buyer=user).delete()[0]


def _reviews(user: User) -> list[dict]:
    return [{"product": r.product.name, "rating": r.rating, "text": r.text, "created_at": r.created_at}
            for r in Review.objects.filter(buyer=user).select_related("product").order_by("pk")]


def _erase_reviews(user: User) -> int:
    # The rating still counts towards the product's score; the words were the person's.
    return Review.objects.filter(buyer=user).exclude(text="").update(text="")


def _after_sales(user: User) -> list[dict]:
    requests = [{"kind": "after_sales", "order": r.order.number, "type": r.kind, "reason": r.reason,
                 "evidence": r.evidence, "amount": r.amount, "status": r.status, "created_at": r.created_at}
                for r in AfterSalesRequest.objects.filter(buyer=user).select_related("order").order_by("pk")]
    complaints = [{"kind": "complaint", "order": c.order.number, "category": c.category, "text": c.text,
                   "status": c.status, "resolution": c.resolution,
                   "created_at": c.created_at}
                  for c in Complaint.objects.filter(buyer=user).select_related("order").order_by("pk")]
    return requests + complaints


def _chat(user: User) -> list[dict]:
    return [{"stream": m.stream.title, "text": m.text, "at": m.created_at}
            for m in ChatMessage.objects.filter(user=user).select_related("stream").order_by("created_at", "pk")]


def _erase_chat(user: User) -> int:
    return ChatMessage.objects.filter(user=user).update(user_name=ANONYMISED_NAME)


def _follows(user: User) -> list[dict]:
    channels = [{"channel": c.name} for c in user.followed_channels.all()]
    hosts = [{"host": f.host.title or f"#{f.host_id}", "channel": f.host.channel.name}
             for f in HostFollow.objects.filter(user=user).select_related("host__channel")]
    bookings = [{"booked_stream": r.stream.title, "booked_at": r.created_at}
                for r in StreamReminder.objects.filter(user=user).select_related("stream").order_by("pk")]
    return channels + hosts + bookings


def _erase_follows(user: User) -> int:
    count = HostFollow.objects.filter(user=user).delete()[0] + user.followed_channels.count()
    count += StreamReminder.objects.filter(user=user).delete()[0]
    user.followed_channels.clear()
    return count


def _notifications(user: User) -> list[dict]:
    return [{"kind": n.kind, "title": n.title, "body": n.body, "created_at": n.created_at, "read_at": n.read_at}
            for n in Notification.objects.filter(user=user).order_by("pk")]


def _erase_notifications(user: User) -> int:
    Delivery.objects.filter(notification__user=user).delete()
    NotificationPreference.objects.filter(user=user).delete()
    return Notification.objects.filter(user=user).delete()[0]


def register() -> None:
    provide(Section("orders", _orders, erase=_erase_orders, blockers=_orders_under_way))
    provide(Section("payments", _payments))
    provide(Section("addresses", _addresses, erase=_erase_addresses))
    provide(Section("reviews", _reviews, erase=_erase_reviews))
    provide(Section("after_sales", _after_sales))
    provide(Section("chat", _chat, erase=_erase_chat))
    provide(Section("follows", _follows, erase=_erase_follows))
    provide(Section("notifications", _notifications, erase=_erase_notifications))

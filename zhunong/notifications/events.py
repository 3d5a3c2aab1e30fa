"""From an event's subject to its message: who hears about it, what they read, where the link goes.

Each builder takes the subject's id, loads it (raising SubjectGone if it no longer exists: a deleted order,
a purged stream) and returns the Message. Texts are Chinese; names of people never appear in them (a
buyer's parcel message names the carrier and waybill, not the address).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.apps import apps
from django.db.models import Q
from django.urls import reverse

from zhunong.accounts import roles
from zhunong.accounts.models import User
from zhunong.fulfilment.models import AfterSalesRequest, Shipment
from zhunong.live.models import Stream
from zhunong.orders.models import Order
from zhunong.payments.models import Refund

from .errors import SubjectGone
from .kinds import Kind
from .models import HostFollow, StreamReminder


@dataclass(frozen=True)
class Message:
    event_key: str
    users: list[User]
    title: str
    body: str
    url: str


def _get(model: type, pk: int, *, related: tuple[str, ...] = ()):  # noqa: ANN202
    obj = model.objects.select_related(*related).filter(pk=pk).first()
    if obj is None:
        raise SubjectGone(details={"subject": model._meta.label_lower, "id": pk})
    return obj


def _order_url(order: Order) -> str:
    return reverse("orders:detail", args=[order.pk])


def payment_confirmed(order_id: int) -> Message:
    order = _get(Order, order_id, related=("buyer",))
    return Message(f"order:{order.pk}:paid", [order.buyer], f"订单 {order.number} 支付成功",
                   f"已收到您支付的 ¥{order.total}，农户将尽快发货。", _order_url(order))


def shipped(shipment_id: int) -> Message:
    s = _get(Shipment, shipment_id, related=("order__buyer",))
    carrier = s.get_carrier_display() if s.carrier else "快递"
    return Message(f"shipment:{s.pk}:shipped", [s.order.buyer], f"订单 {s.order.number} 已发货",
                   f"{carrier} 运单号 {s.tracking_number or '—'}", _order_url(s.order))


def delivered(shipment_id: int) -> Message:
    s = _get(Shipment, shipment_id, related=("order__buyer",))
    return Message(f"shipment:{s.pk}:delivered", [s.order.buyer], f"订单 {s.order.number} 已签收",
                   "如有质量问题，可在订单页申请售后。", _order_url(s.order))


def after_sales_decided(request_id: int) -> Message:
    r = _get(AfterSalesRequest, request_id, related=("order", "buyer"))
    verdict = "已同意" if r.status in ("approved", "refunded") else "未同意"
    body = f"{verdict}您的售后申请（¥{r.amount}）。" + (f"说明：{r.decision_note}" if r.decision_note else "")
    return Message(f"after_sales:{r.pk}:decided", [r.buyer], f"订单 {r.order.number} 售后处理结果", body,
                   _order_url(r.order))


def refund_paid(refund_id: int) -> Message:
    refund = _get(Refund, refund_id, related=("order__buyer",))
    return Message(f"refund:{refund.pk}:paid", [refund.order.buyer], f"订单 {refund.order.number} 退款到账",
                   f"¥{refund.amount} 已原路退回。", _order_url(refund.order))


def _followers(stream: Stream) -> list[User]:
    users = User.objects.filter(
        Q(followed_channels=stream.channel_id)
        | Q(pk__in=HostFollow.objects.filter(host_id=stream.host_id).values("user_id"))
        | Q(pk__in=StreamReminder.objects.filter(stream_id=stream.pk).values("user_id")),
        is_active=True).exclude(pk=stream.host.user_id).distinct().order_by("pk")
    return list(users)


def stream_live(stream_id: int) -> Message:
    stream = _get(Stream, stream_id, related=("host", "channel"))
    return Message(f"stream:{stream.pk}:live", _followers(stream), f"{stream.channel.name} 正在直播",
                   stream.title, reverse("live:room", args=[stream.pk]))


def stream_reminder(stream_id: int) -> Message:
    stream = _get(Stream, stream_id, related=("host", "channel"))
    start = stream.planned_start.astimezone().strftime("%H:%M") if stream.planned_start else ""
    return Message(f"stream:{stream.pk}:reminder", _followers(stream), f"{stream.channel.name} 的直播即将开始",
                   f"{start} 开播：{stream.title}", reverse("live:room", args=[stream.pk]))


def _managers(shipment: Shipment) -> list[User]:
    return list(shipment.producer.managers.filter(is_active=True).order_by("pk"))


def new_order_to_ship(shipment_id: int) -> Message:
    s = _get(Shipment, shipment_id, related=("order", "producer"))
    deadline = s.deadline.astimezone().strftime("%m-%d %H:%M")
    return Message(f"shipment:{s.pk}:to_ship", _managers(s), f"新订单待发货：{s.order.number}",
                   f"请在 {deadline} 前发出。", reverse("fulfilment:packing_list"))


def parcel_late(shipment_id: int) -> Message:
    s = _get(Shipment, shipment_id, related=("order", "producer"))
    return Message(f"shipment:{s.pk}:late", _managers(s), f"订单 {s.order.number} 已超过发货期限",
                   "请尽快发货，或联系买家说明情况。", reverse("fulfilment:packing_list"))


def _county_staff(region, role_names: tuple[str, ...]) -> list[User]:  # noqa: ANN001
    """Staff of these roles whose region is the given region or one of its ancestors."""
    if region is None:
        return []
    return list(User.objects.filter(groups__name__in=role_names, is_active=True,
                                    region__path__in=_ancestor_paths(region.path))
                .distinct().order_by("pk"))


def _ancestor_paths(path: str) -> list[str]:
    parts = [p for p in path.split("/") if p]
    return ["/" + "/".join(parts[:i]) + "/" for i in range(1, len(parts) + 1)]


def integrity_flag(flag_id: int) -> Message:
    # By name: supervision shares this layer, so neither imports the other.
    flag = _get(apps.get_model("supervision", "IntegrityFlag"), flag_id, related=("region",))
    users = _county_staff(flag.region, (roles.COUNTY_OPERATOR, roles.DISCIPLINE_INSPECTOR))
    return Message(f"flag:{flag.pk}:raised", users, f"新的廉洁预警：{flag.get_kind_display()}", flag.summary[:500],
                   reverse("supervision:flag", args=[flag.pk]))


def refund_failed(refund_id: int) -> Message:
    refund = _get(Refund, refund_id, related=("order",))
    line = refund.order.lines.select_related("product__origin").first()
    users = _county_staff(line.product.origin if line else None, (roles.COUNTY_OPERATOR,))
    return Message(f"refund:{refund.pk}:failed", users, f"退款失败：订单 {refund.order.number}",
                   f"¥{refund.amount} 经 {refund.attempts} 次重试仍未退回，需人工处理。", _order_url(refund.order))


BUILDERS: dict[str, Callable[[int], Message]] = {
    Kind.PAYMENT_CONFIRMED: payment_confirmed,
    Kind.SHIPPED: shipped,
    Kind.DELIVERED: delivered,
    Kind.AFTER_SALES_DECIDED: after_sales_decided,
    Kind.REFUND_PAID: refund_paid,
    Kind.STREAM_LIVE: stream_live,
    Kind.STREAM_REMINDER: stream_reminder,
    Kind.NEW_ORDER_TO_SHIP: new_order_to_ship,
    Kind.PARCEL_LATE: parcel_late,
    Kind.INTEGRITY_FLAG: integrity_flag,
    Kind.REFUND_FAILED: refund_failed,
}

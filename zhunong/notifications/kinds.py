"""What people are told about, who is told, and over which channels by default.

A kind is one sort of event (payment confirmed, parcel shipped...). Users choose the channels of each kind
(NotificationPreference); without a choice the defaults below apply. The in-site channel can be turned off
too: the notification then exists only as a delivery record, not in the centre.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Kind(models.TextChoices):
    # buyers
    PAYMENT_CONFIRMED = "payment_confirmed", _("支付成功")
    SHIPPED = "shipped", _("已发货")
    DELIVERED = "delivered", _("已签收")
    AFTER_SALES_DECIDED = "after_sales_decided", _("售后处理结果")
    REFUND_PAID = "refund_paid", _("退款到账")
    STREAM_LIVE = "stream_live", _("关注的直播开播")
    STREAM_REMINDER = "stream_reminder", _("关注的直播即将开始")
    # producers
    NEW_ORDER_TO_SHIP = "new_order_to_ship", _("有新订单待发货")
    PARCEL_LATE = "parcel_late", _("包裹超时未发")
    # operators
    INTEGRITY_FLAG = "integrity_flag", _("新的廉洁预警")
    REFUND_FAILED = "refund_failed", _("退款失败")


class Channel(models.TextChoices):
    IN_SITE = "in_site", _("站内")
    EMAIL = "email", _("邮件")
    SMS = "sms", _("短信")


# Channels a kind uses when the user has not chosen: in-site always; SMS only where a missed message costs
# money or a sale (a refund that failed, a parcel about to be late), since each SMS is paid for.
DEFAULT_CHANNELS: dict[str, tuple[str, ...]] = {
    Kind.PAYMENT_CONFIRMED: (Channel.IN_SITE, Channel.EMAIL),
    Kind.SHIPPED: (Channel.IN_SITE, Channel.EMAIL),
    Kind.DELIVERED: (Channel.IN_SITE,),
    Kind.AFTER_SALES_DECIDED: (Channel.IN_SITE, Channel.EMAIL),
    Kind.REFUND_PAID: (Channel.IN_SITE, Channel.EMAIL),
    Kind.STREAM_LIVE: (Channel.IN_SITE,),
    Kind.STREAM_REMINDER: (Channel.IN_SITE,),
    Kind.NEW_ORDER_TO_SHIP: (Channel.IN_SITE, Channel.EMAIL),
    Kind.PARCEL_LATE: (Channel.IN_SITE, Channel.SMS),
    Kind.INTEGRITY_FLAG: (Channel.IN_SITE, Channel.EMAIL),
    Kind.REFUND_FAILED: (Channel.IN_SITE, Channel.SMS),
}

BUYER_KINDS = (Kind.PAYMENT_CONFIRMED, Kind.SHIPPED, Kind.DELIVERED, Kind.AFTER_SALES_DECIDED, Kind.REFUND_PAID,
               Kind.STREAM_LIVE, Kind.STREAM_REMINDER)
PRODUCER_KINDS = (Kind.NEW_ORDER_TO_SHIP, Kind.PARCEL_LATE)
OPERATOR_KINDS = (Kind.INTEGRITY_FLAG, Kind.REFUND_FAILED)

# A followed stream's reminder goes out this long before its planned start.
REMINDER_LEAD_MINUTES = 15

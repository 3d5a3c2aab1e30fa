"""The header's link to the notification centre with the unread count (kept live by notifications.js)."""

from __future__ import annotations

from django import template
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from ..selectors import booked_stream_ids, unread_count

register = template.Library()


@register.simple_tag(takes_context=True)
def notifications_link(context: template.Context) -> str:
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return ""
    count = unread_count(user)
    return format_html(
        '<a href="{}" class="notes-link" data-notes-socket="/ws/me/">{} '
        '<span class="badge live notes-unread"{} aria-label="{}">{}</span></a>',
        reverse("notifications:centre"), _("消息"), "" if count else mark_safe(" hidden"),  # noqa: S308 - a constant
        _("未读消息数"), count)


@register.simple_tag(takes_context=True)
def stream_booked(context: template.Context, stream: object) -> bool:
    """Whether the signed-in viewer has booked (预约) this stream (the room page for a signed-in viewer is
    rendered per viewer; the shared home page asks /following/bookings/ instead)."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return False
    return getattr(stream, "pk", None) in booked_stream_ids(user, [stream.pk])

"""`{{ t.reason|reason_label }}`: a history row's stored (English, machine) reason, as a person reads it."""

from __future__ import annotations

from django import template

from zhunong.core.reasons import reason_label as _reason_label

register = template.Library()


@register.filter
def reason_label(reason: str | None) -> str:
    return _reason_label(reason)

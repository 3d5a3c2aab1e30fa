"""The append-only audit log: every sensitive action, who did it, when, from where, before and after.

Services call `record_action` inside the transaction that performs the change, so the entry commits or
rolls back with it. A refused attempt that matters (a role change outside one's county, a bad verification)
is recorded with `outcome="refused"` where the refusal is decided and nothing else is written, so the entry is
not rolled back with the refusal (the caller records it outside the failing atomic block).

Nothing in the code updates or deletes an entry: the model refuses `save()` of an existing row and `delete()`,
its queryset refuses `update()` / `delete()`, the admin is read-only, and on PostgreSQL a trigger refuses
UPDATE and DELETE on the table (migration core 0002). Entries are kept at least `AUDIT_RETENTION_YEARS`
(three) years; there is no purge command. Who may read them is accounts.policy ("audit.view").

Action names are `<app>.<what>` (e.g. `catalog.price_changed`); `ACTIONS` lists the ones in use, with the
label the pages show.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

from django.db import models
from django.http import HttpRequest

from .clientaddr import client_address
from .models import AuditEntry

log = logging.getLogger(__name__)

AUDIT_RETENTION_YEARS = 3

DONE = AuditEntry.Outcome.DONE.value
REFUSED = AuditEntry.Outcome.REFUSED.value

# action -> the label the audit pages show.
ACTIONS: dict[str, str] = {
    "catalog.price_changed": "改价",
    "catalog.cost_floor_changed": "改成本底价",
    "catalog.stock_changed": "改库存",
    "catalog.listing_changed": "上下架",
    "catalog.product_changed": "改商品信息",
    "catalog.photos_changed": "改商品图片",
    "quality.inspection_recorded": "录入检测结果",
    "accounts.roles_changed": "改角色",
    "accounts.region_changed": "改所属地区",
    "accounts.personal_data_exported": "导出个人数据",
    "accounts.account_deleted": "注销账号",
    "live.host_verified": "主播实名核验",
    "live.host_identity_recorded": "登记/变更主播实名信息",
    "live.host_verification_revoked": "撤销主播实名认证",
    "live.host_id_number_viewed": "查看主播完整身份证号",
    "live.stream_key_rotated": "更换推流密钥",
    "payments.refund": "退款",
    "fulfilment.after_sales_decided": "售后处理",
    "supervision.flag_reviewed": "预警复核",
    # Integrity rules (supervision's "Rules"): the office's decisions and every refused attempt.
    "live.stream_approved": "公职人员直播审批",
    "live.stream_start_refused": "未经审批开播被拒",
    "live.gift_refused": "向公职人员送礼被拒",
    "catalog.below_cost_refused": "低于成本价未说明理由被拒",
    "orders.coupon_refused": "优惠券被拒",
    "fulfilment.pledge_refused": "赔付承诺或索赔被拒（主播、公职人员）",
    "supervision.review_refused": "预警复核被拒",
    "export.personal_data": "导出含个人信息的数据",
}

_MAX_LABEL = 200

# The request being served, so that services (which take no request) still record where an action came from.
_current_request: ContextVar[HttpRequest | None] = ContextVar("audit_request", default=None)


class RequestAddressMiddleware:
    """Makes the request being served known to record_action (settings.MIDDLEWARE)."""

    def __init__(self, get_response: Callable[[HttpRequest], Any]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> Any:  # noqa: ANN401
        token = _current_request.set(request)
        try:
            return self.get_response(request)
        finally:
            _current_request.reset(token)


def _subject_fields(subject: Any) -> dict[str, str]:  # noqa: ANN401
    if subject is None:
        return {"subject_type": "", "subject_id": "", "subject_label": ""}
    if isinstance(subject, models.Model):
        return {"subject_type": subject._meta.label_lower, "subject_id": str(subject.pk or ""),
                "subject_label": str(subject)[:_MAX_LABEL]}
    if isinstance(subject, tuple) and len(subject) == 2:
        # ("app.model", id) for a subject that is not a loaded row (a deleted one, a key).
        return {"subject_type": str(subject[0])[:100], "subject_id": str(subject[1])[:64],
                "subject_label": f"{subject[0]} #{subject[1]}"[:_MAX_LABEL]}
    raise TypeError(f"audit subject must be a model instance or (type, id), not {type(subject).__name__}")


def _region_of(subject: Any) -> Any:  # noqa: ANN401
    """The subject's region from its permission scope (the first region), if it has one."""
    scope_of = getattr(subject, "policy_scope", None)
    if scope_of is None:
        return None
    try:
        regions = scope_of().regions
    except Exception:  # a subject whose scope cannot be computed still gets its entry, without a region
        log.exception("could not find the region of %r for the audit log", subject)
        return None
    return regions[0] if regions else None


def record_action(*, actor: Any, action: str, subject: Any = None, before: dict | None = None,  # noqa: ANN401
                  after: dict | None = None, region: Any = None, request: HttpRequest | None = None,
                  outcome: str = "done") -> None:
    """Append one entry. `actor`: the user (None or anonymous: the system); `subject`: the model instance
    acted on, or ("app.model", id); `region`: a producers.Region (default: the subject's policy scope);
    `before` / `after`: the changed fields (JSON-serialisable, Decimals and dates allowed); `request`: gives
    the address (honouring TRUSTED_PROXY_COUNT; default: the request being served, through
    RequestAddressMiddleware; none in a task); `outcome`: "done" or "refused"."""
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}: add it to core.audit.ACTIONS")
    if outcome not in (DONE, REFUSED):
        raise ValueError(f"audit outcome must be 'done' or 'refused', not {outcome!r}")
    user = actor if actor is not None and getattr(actor, "is_authenticated", False) else None
    if request is None:
        request = _current_request.get()
    if region is None and subject is not None and isinstance(subject, models.Model):
        region = _region_of(subject)
    AuditEntry.objects.create(
        actor=user, actor_label=(user.get_username() if user is not None else "")[:150],
        address=client_address(request) if request is not None else None,
        action=action, region=region if getattr(region, "pk", None) else None,
        before=before, after=after, outcome=outcome, **_subject_fields(subject),
    )


"""A co-operative's members and how its income is shared (合作社成员与收益分配), under /insights/coops/<id>/.

The co-op's manager and its county's operator (and the platform admin) see every member with the dates of
their membership and their current share under the scheme in force (by supplied batch, by quantity
delivered, or fixed shares), every scheme the co-op has recorded with its date, and record a new member,
new shares or a new scheme. Reads are in selectors.py; writes go through producers.services (join_coop,
set_share_scheme), which check the permission and the input and change nothing when they refuse; the page
then shows the reason (422/403).
"""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from zhunong.accounts import policy
from zhunong.core.errors import DomainError, PermissionDenied, ValidationFailed
from zhunong.producers import services as producers
from zhunong.producers.models import Producer, ShareScheme

from . import selectors
from .errors import DashboardNotFound


def _coop(request: HttpRequest, coop_id: int) -> Producer:
    coop = selectors.coop_by_id(coop_id)
    if coop is None:
        raise DashboardNotFound()
    # The same rule as the services that change the co-op's records: admin, its county's operator, its manager.
    policy.require(request.user, "producer.change", coop,
                   error=PermissionDenied("你无权查看或修改这个合作社的成员与收益分配。"))
    return coop


def _date(value: str, field: str) -> dt.date:
    try:
        return dt.date.fromisoformat((value or "").strip())
    except ValueError:
        raise ValidationFailed(f"{field}: 请填写日期（YYYY-MM-DD）。", details={"field": field}) from None


def _apply(request: HttpRequest, coop: Producer) -> str:
    """Do what the form asks through the services; the message to show after."""
    action = request.POST.get("action", "")
    if action == "join":
        member_id = (request.POST.get("member") or "").strip()
        member = selectors.household_by_id(int(member_id)) if member_id.isdigit() and len(member_id) < 18 else None
        if member is None:
            raise ValidationFailed("请选择本县的一户农户。", details={"field": "member"})
        row = producers.join_coop(actor=request.user, coop=coop, member=member,
                                  joined_on=_date(request.POST.get("joined_on", ""), "joined_on"))
        return f"已记录：{row.member.name} 自 {row.joined_on} 起为社员。"
    if action == "scheme":
        basis = request.POST.get("basis", "")
        shares = None
        if basis == ShareScheme.Basis.FIXED:
            shares = {int(key[6:]): value.strip() for key, value in request.POST.items()
                      if key.startswith("share_") and key[6:].isdigit() and len(key) < 24 and value.strip()}
        scheme = producers.set_share_scheme(actor=request.user, coop=coop, basis=basis, shares=shares,
                                            effective_from=_date(request.POST.get("effective_from", ""),
                                                                 "effective_from"),
                                            note=request.POST.get("note", ""))
        return f"已记录：自 {scheme.effective_from} 起按「{scheme.get_basis_display()}」分配。"
    raise ValidationFailed("未知的操作。", details={"field": "action"})


@login_required
@require_http_methods(["GET", "POST"])
def coop_members_page(request: HttpRequest, coop_id: int) -> HttpResponse:
    try:
        coop = _coop(request, coop_id)
    except DomainError as exc:
        return render(request, "insights/error.html", {"error": exc}, status=exc.status)
    problem, status = "", 200
    if request.method == "POST":
        try:
            messages.success(request, _apply(request, coop))
            return redirect("insights:coop_members", coop_id=coop.pk)
        except DomainError as exc:
            if exc.status == 403:
                return render(request, "insights/error.html", {"error": exc}, status=403)
            problem, status = _explain(exc), exc.status
    context = selectors.coop_overview(coop, day=timezone.localdate())
    context.update({"coop": coop, "region": coop.village, "problem": problem, "posted": request.POST})
    return render(request, "insights/coop_members.html", context, status=status)


_WORDS = {
    "already_member": "这户农户已经是本社社员。",
    "not_a_member": "这户农户当天不是本社社员。",
    "share_scheme_exists": "这一天已经记录过分配方案，请换一个生效日期。",
    "invalid_shares": "固定份额与当天的社员不一致（每位社员一个大于零的份额）。",
    "not_a_cooperative": "这不是合作社。",
}


def _explain(exc: DomainError) -> str:
    """The refusal in words (the service's message and, for shares, which members are missing or not members)."""
    text = _WORDS.get(exc.code, str(exc.message))
    missing = exc.details.get("missing") or []
    extra = exc.details.get("not_members") or []
    names = selectors.producer_names([*missing, *extra])
    if missing:
        text += " 缺少这些社员的份额：" + "、".join(names.get(i, str(i)) for i in missing) + "。"
    if extra:
        text += " 这些农户当天不是社员：" + "、".join(names.get(i, str(i)) for i in extra) + "。"
    return f"没有保存（{exc.code}）：{text}"

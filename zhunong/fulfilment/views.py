"""Fulfilment pages: the producer's packing list, shipping form and packing slip; the buyer's parcels
and after-sales forms; the county office's complaints, late parcels and pledge claims.

Views parse the form, check who is asking, call one service and render. A refused action (any
DomainError) changes nothing: the page says why (htmx requests get the fragment back with the
message; plain form posts redirect with a message).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from zhunong.accounts import policy
from zhunong.core.errors import DomainError
from zhunong.payments import selectors as payments

from . import rules, selectors
from .models import (
    AfterSalesKind,
    Carrier,
    ComplaintCategory,
    ComplaintStatus,
    Shipment,
)
from .services import after_sales as after_sales_services
from .services import complaints as complaint_services
from .services import pledges as pledge_services
from .services import reviews as review_services
from .services import shipments as shipment_services
from .storage import photo_storage


def _is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


def _handler_or_403(user) -> None:  # noqa: ANN001
    if not policy.may_hold(user, "shipment.handle"):
        raise DjangoPermissionDenied(_("只有生产者/合作社管理人和县级运营可以查看发货单。"))


def _county_staff_or_403(user) -> None:  # noqa: ANN001
    # The county office's pages: for those who may read its complaints (admins, operators, regulators).
    if not policy.may_hold(user, "complaint.view"):
        raise DjangoPermissionDenied(_("只有县级运营可以查看。"))


def _run(request: HttpRequest, action: Callable[[], Any], *, success: str, back: str,
         fragment: Callable[[str], HttpResponse] | None = None, reload: bool = False) -> HttpResponse:
    """Call a service; on a DomainError nothing has changed and the user is told why.

    `reload`: the action changes more of the page than the fragment (a shipped parcel leaves the 待发货 list,
    a confirmed delivery changes the order's status and opens the review form), so after an htmx success
    the page reloads (HX-Refresh) and shows the success message; the fragment still answers plain clients."""
    try:
        action()
    except DomainError as exc:
        if fragment is not None and _is_htmx(request):
            return fragment(str(exc.message))
        messages.error(request, f"{exc.message} ({exc.code})")
        return redirect(back)
    if fragment is not None and _is_htmx(request):
        if not reload:
            return fragment("")
        messages.success(request, success)
        response = fragment("")
        response["HX-Refresh"] = "true"
        return response
    messages.success(request, success)
    return redirect(back)


def _field(request: HttpRequest, name: str, max_length: int = 2000) -> str:
    # Over-long input is cut here and refused by the service's own limits (which are shorter).
    return request.POST.get(name, "")[:max_length + 1]


# ---------------------------------------------------------------- producer: packing list, slip


@login_required
def packing_list(request: HttpRequest) -> HttpResponse:
    _handler_or_403(request.user)
    show_all = request.GET.get("all") == "1"
    # An order number or a part of one; anything else simply matches nothing.
    order_number = "".join(ch for ch in request.GET.get("q", "")[:40] if ch.isalnum()).upper()
    shipments = selectors.packing_list(request.user, include_done=show_all, order_number=order_number)
    page = Paginator(shipments, 50).get_page(request.GET.get("page"))
    return render(request, "fulfilment/packing_list.html", {
        "page": page, "show_all": show_all, "q": order_number, "carriers": Carrier.choices,
        "after_sales": selectors.open_after_sales_for(request.user)[:50],
    })


def _shipment_row(request: HttpRequest, shipment_id: int, error: str = "") -> HttpResponse:
    shipment = selectors.packing_list(request.user, include_done=True).get(pk=shipment_id)
    return render(request, "fulfilment/_shipment_row.html",
                  {"s": shipment, "carriers": Carrier.choices, "error": error})


def _handled_shipment(request: HttpRequest, shipment_id: int) -> Shipment:
    try:
        shipment = selectors.get_shipment(shipment_id)
    except DomainError:
        raise Http404(_("没有这个发货单。"))
    if not policy.can(request.user, "shipment.handle", shipment.producer):
        raise DjangoPermissionDenied(_("这是其他生产者的发货单。"))
    return shipment


@login_required
@require_POST
def ship(request: HttpRequest, shipment_id: int) -> HttpResponse:
    shipment = _handled_shipment(request, shipment_id)
    return _run(request, lambda: shipment_services.ship_shipment(
        actor=request.user, shipment=shipment, carrier=_field(request, "carrier", 10),
        tracking_number=_field(request, "tracking_number", 40)),
        success=_("已发货：%(n)s") % {"n": shipment.order.number}, back=reverse("fulfilment:packing_list"),
        fragment=lambda error: _shipment_row(request, shipment.pk, error), reload=True)


@login_required
@require_POST
def pack(request: HttpRequest, shipment_id: int) -> HttpResponse:
    shipment = _handled_shipment(request, shipment_id)
    return _run(request, lambda: shipment_services.pack_shipment(actor=request.user, shipment=shipment),
                success=_("已打包。"), back=reverse("fulfilment:packing_list"),
                fragment=lambda error: _shipment_row(request, shipment.pk, error))


@login_required
@require_POST
def report_exception(request: HttpRequest, shipment_id: int) -> HttpResponse:
    shipment = _handled_shipment(request, shipment_id)
    return _run(request, lambda: shipment_services.report_exception(actor=request.user, shipment=shipment,
                                                                    reason=_field(request, "reason", 300)),
                success=_("已登记物流异常。"), back=reverse("fulfilment:packing_list"),
                fragment=lambda error: _shipment_row(request, shipment.pk, error))


@login_required
def slip(request: HttpRequest, shipment_id: int) -> HttpResponse:
    """A printable packing slip: what goes in the parcel, from where, to whom (the phone in full: the producer
    copies it onto the courier's waybill; the packing list shows it masked, 138****5678)."""
    shipment = _handled_shipment(request, shipment_id)
    shipment = selectors.packing_list(request.user, include_done=True).get(pk=shipment.pk)
    items = []
    for item in shipment.items.all():
        batches = selectors.product_batches(item.line.product_id, shipment.producer)
        items.append({"item": item, "product": item.line.product, "batches": list(batches)})
    return render(request, "fulfilment/slip.html", {"s": shipment, "order": shipment.order, "items": items})


@login_required
@require_POST
def decide_after_sales(request: HttpRequest, request_id: int) -> HttpResponse:
    try:
        req = selectors.get_after_sales(request_id)
    except DomainError:
        raise Http404(_("没有这个售后申请。"))
    note = _field(request, "note", 300)
    if request.POST.get("decision") == "approve":
        action = lambda: after_sales_services.approve_after_sales(actor=request.user, request=req, note=note)  # noqa: E731
        success = _("已同意并退款。")
    else:
        action = lambda: after_sales_services.reject_after_sales(actor=request.user, request=req, note=note)  # noqa: E731
        success = _("已拒绝，买家会看到理由。")
    return _run(request, action, success=success, back=reverse("fulfilment:packing_list"))


# ---------------------------------------------------------------- buyer: parcels and after-sales


def _own_order(request: HttpRequest, order_id: int):  # noqa: ANN202
    try:
        order = selectors.get_order(order_id)
    except DomainError:
        raise Http404(_("没有这个订单。"))
    if order.buyer_id != request.user.pk:
        raise DjangoPermissionDenied(_("这不是你的订单。"))
    return order


@login_required
def order_aftersales(request: HttpRequest, order_id: int) -> HttpResponse:
    order = _own_order(request, order_id)
    shipments = list(selectors.order_shipments(order))
    requests = {r.line_id: r for r in selectors.order_after_sales(order)}
    lines = []
    for line in order.lines.select_related("product", "producer"):
        shipment = next((s for s in shipments if any(i.line_id == line.pk for i in s.items.all())), None)
        shipped = shipment is not None and shipment.status not in rules.NOT_SHIPPED
        lines.append({"line": line, "shipment": shipment, "request": requests.get(line.pk),
                      "reasons": rules.reasons_for(shipped=shipped), "shipped": shipped,
                      "review": getattr(line, "review", None),
                      "can_review": shipment is not None and shipment.status == "delivered"
                      and getattr(line, "review", None) is None})
    pledges = list(selectors.stream_pledges(order.stream)) if order.stream_id else []
    return render(request, "fulfilment/order_aftersales.html", {
        "order": order, "shipments": shipments, "lines": lines, "pledges": pledges,
        "claims": {c.pledge_id: c for c in order.pledge_claims.all()},
        "complaints": order.complaints.order_by("-created_at"),
        "kinds": AfterSalesKind.choices, "max_photos": rules.MAX_AFTER_SALES_PHOTOS,
        "categories": ComplaintCategory.choices,
    })


def _back_to_order(order_id: int) -> str:
    return reverse("fulfilment:order", args=[order_id])


def _order_parcels(request: HttpRequest, order, error: str = "") -> HttpResponse:  # noqa: ANN001
    return render(request, "fulfilment/_order_parcels.html",
                  {"order": order, "shipments": list(selectors.order_shipments(order)), "error": error})


@login_required
@require_POST
def confirm_order(request: HttpRequest, order_id: int) -> HttpResponse:
    order = _own_order(request, order_id)
    # The button also sits on the orders app's order page (fulfilment/_order_parcels.html); go back there.
    back = reverse("orders:detail", args=[order.pk]) if request.POST.get("next") == "order" \
        else _back_to_order(order.pk)
    return _run(request, lambda: shipment_services.confirm_order_delivery(actor=request.user, order=order),
                success=_("已确认收货，欢迎评价。"), back=back,
                fragment=lambda error: _order_parcels(request, order, error), reload=True)


@login_required
@require_POST
def confirm_shipment(request: HttpRequest, shipment_id: int) -> HttpResponse:
    try:
        shipment = selectors.get_shipment(shipment_id)
    except DomainError:
        raise Http404(_("没有这个包裹。"))
    if shipment.order.buyer_id != request.user.pk:
        raise DjangoPermissionDenied(_("这不是你的包裹。"))
    return _run(request, lambda: shipment_services.confirm_delivery(actor=request.user, shipment=shipment),
                success=_("已确认收货，欢迎评价。"), back=_back_to_order(shipment.order_id),
                fragment=lambda error: _order_parcels(request, shipment.order, error), reload=True)


def _own_line(request: HttpRequest, line_id: int):  # noqa: ANN202
    try:
        line = selectors.get_line(line_id)
    except DomainError:
        raise Http404(_("没有这个商品行。"))
    if line.order.buyer_id != request.user.pk:
        raise DjangoPermissionDenied(_("这不是你的订单。"))
    return line


@login_required
@require_POST
def request_after_sales(request: HttpRequest, line_id: int) -> HttpResponse:
    line = _own_line(request, line_id)
    return _run(request, lambda: after_sales_services.request_after_sales(
        actor=request.user, line=line, kind=_field(request, "kind", 20), reason=_field(request, "reason", 20),
        evidence=_field(request, "evidence", 1000), amount=_field(request, "amount", 20) or None,
        photos=request.FILES.getlist("photos")),
        success=_("售后申请已提交，生产者会尽快处理。"), back=_back_to_order(line.order_id))


@login_required
def after_sales_photo(request: HttpRequest, photo_id: int, size: str) -> HttpResponse:
    """One evidence photo (the master or its thumbnail) for the buyer or whoever decides the request; it is
    a WebP the platform wrote itself, sent with nosniff and kept out of shared caches."""
    try:
        photo = selectors.get_after_sales_photo(photo_id)
    except DomainError:
        raise Http404(_("没有这张图片。"))
    if size not in ("full", "thumb") or not selectors.may_see_after_sales(request.user, photo.request):
        raise Http404(_("没有这张图片。"))
    name = photo.thumbnail if size == "thumb" else photo.image
    try:
        handle = photo_storage().open(name, "rb")
    except OSError:
        raise Http404(_("没有这张图片。"))
    response = FileResponse(handle, content_type="image/webp")
    response["Cache-Control"] = "private, max-age=3600"
    response["X-Content-Type-Options"] = "nosniff"
    return response


@login_required
@require_POST
def review(request: HttpRequest, line_id: int) -> HttpResponse:
    line = _own_line(request, line_id)
    raw = request.POST.get("rating", "")
    rating: object = int(raw) if raw.isdigit() and len(raw) < 3 else raw
    return _run(request, lambda: review_services.create_review(actor=request.user, line=line, rating=rating,
                                                               text=_field(request, "text", 500)),
                success=_("谢谢你的评价！"), back=_back_to_order(line.order_id))


@login_required
@require_POST
def complain(request: HttpRequest, order_id: int) -> HttpResponse:
    order = _own_order(request, order_id)
    return _run(request, lambda: complaint_services.file_complaint(actor=request.user, order=order,
                                                                   category=_field(request, "category", 20),
                                                                   text=_field(request, "text", 2000)),
                success=_("投诉已提交给县里的运营办公室。"), back=_back_to_order(order.pk))


@login_required
@require_POST
def claim(request: HttpRequest, pledge_id: int) -> HttpResponse:
    try:
        pledge = selectors.get_pledge(pledge_id)
    except DomainError:
        raise Http404(_("没有这个承诺。"))
    raw_order = request.POST.get("order_id", "")
    order = _own_order(request, int(raw_order)) if raw_order.isdigit() and len(raw_order) < 19 else None
    if order is None:
        raise Http404(_("没有这个订单。"))
    return _run(request, lambda: pledge_services.submit_claim(actor=request.user, pledge=pledge, order=order,
                                                              amount=_field(request, "amount", 20),
                                                              text=_field(request, "text", 1000)),
                success=_("赔付申请已提交，县里会审核。"), back=_back_to_order(order.pk))


# ---------------------------------------------------------------- county office


@login_required
def complaints(request: HttpRequest) -> HttpResponse:
    _county_staff_or_403(request.user)
    status = request.GET.get("status", "")
    qs = selectors.complaints_for(request.user)
    if status in ComplaintStatus.values:
        qs = qs.filter(status=status)
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    return render(request, "fulfilment/complaints.html", {
        "page": page, "status": status, "statuses": ComplaintStatus.choices,
        # Regulators may read complaints (consumer protection); the county office handles them.
        "can_handle": policy.may_hold(request.user, "complaint.handle"),
    })


@login_required
@require_POST
def complaint_status(request: HttpRequest, complaint_id: int) -> HttpResponse:
    try:
        complaint = selectors.get_complaint(complaint_id)
    except DomainError:
        raise Http404(_("没有这个投诉。"))
    return _run(request, lambda: complaint_services.update_complaint(actor=request.user, complaint=complaint,
                                                                     status=_field(request, "status", 20),
                                                                     note=_field(request, "note", 500)),
                success=_("投诉状态已更新。"), back=reverse("fulfilment:complaints"))


@login_required
def county(request: HttpRequest) -> HttpResponse:
    """The county operator's view of fulfilment: late parcels, producers' records, pledge claims, and
    refunds the payment provider would not pay back after every retry (to finish by hand)."""
    _county_staff_or_403(request.user)
    return render(request, "fulfilment/county.html", {
        "late": selectors.late_shipments(request.user).filter(status__in=Shipment.OPEN_STATUSES)[:100],
        "records": selectors.producer_records(request.user)[:200],
        "claims": selectors.claims_for(request.user).exclude(claimant=request.user)
        .exclude(status__in=["rejected", "compensated"])[:100],
        "failed_refunds": payments.escalated_refunds(request.user)[:100],
    })


@login_required
@require_POST
def claim_action(request: HttpRequest, claim_id: int) -> HttpResponse:
    try:
        claim_obj = selectors.get_claim(claim_id)
    except DomainError:
        raise Http404(_("没有这个赔付申请。"))
    action = request.POST.get("action")
    reason = _field(request, "reason", 500)
    if action == "review":
        run = lambda: pledge_services.start_claim_review(actor=request.user, claim=claim_obj)  # noqa: E731
    elif action in ("uphold", "reject"):
        run = lambda: pledge_services.decide_claim(actor=request.user, claim=claim_obj,  # noqa: E731
                                                   upheld=action == "uphold", reason=reason)
    elif action == "compensate":
        run = lambda: pledge_services.compensate_claim(actor=request.user, claim=claim_obj,  # noqa: E731
                                                       amount=_field(request, "amount", 20),
                                                       reference=_field(request, "reference", 64))
    else:
        messages.error(request, _("未知操作。"))
        return redirect("fulfilment:county")
    return _run(request, run, success=_("已记录。"), back=reverse("fulfilment:county"))


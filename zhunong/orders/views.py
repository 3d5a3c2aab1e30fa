"""Buyer pages: my orders, one order (shipping address, pay, cancel), and the buy form's target."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.middleware.csrf import CsrfViewMiddleware
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from zhunong.core import redaction
from zhunong.core.errors import DomainError
from zhunong.live.selectors import current_pin

from . import addresses, selectors, services, services_checkout


@login_required
def order_list(request: HttpRequest) -> HttpResponse:
    page = Paginator(selectors.orders_of(request.user), 20).get_page(request.GET.get("page"))
    return render(request, "orders/order_list.html", {"page": page})


def _order(request: HttpRequest, order_id: int):  # noqa: ANN202
    try:
        return selectors.order_for(request.user, order_id)
    except DomainError:
        raise Http404()


def _checkout_context(request: HttpRequest, order, *, form: dict[str, str] | None = None,  # noqa: ANN001
                      error: str = "", saved: bool = False) -> dict:
    """What the order page's address-and-pay block (orders/_checkout.html) needs."""
    is_buyer = order.buyer_id == request.user.pk
    editable = is_buyer and addresses.is_editable(order)
    has_default = is_buyer and addresses.default_address(request.user) is not None
    return {
        "order": order,
        "is_buyer": is_buyer,
        "has_address": addresses.has_address(order),
        "address_editable": editable,
        # Pre-filled from the order's own address, else from the buyer's default (their last saved one).
        "address_form": form if form is not None else (addresses.prefill(order) if editable else {}),
        "address_error": error,
        "address_saved": saved,
        # The first address a buyer gives becomes their default unless they untick it.
        "save_default_checked": not has_default if form is None else bool(form.get("save_as_default")),
        "masked_phone": redaction.mask_phone(order.ship_to_phone),
        "masked_address": redaction.mask_address(order.ship_to_address),
    }


@login_required
def order_detail(request: HttpRequest, order_id: int) -> HttpResponse:
    order = _order(request, order_id)
    return render(request, "orders/order_detail.html", _checkout_context(request, order))


def _is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


@login_required
@require_POST
def shipping_address(request: HttpRequest, order_id: int) -> HttpResponse:
    """The address form on the order page: htmx swaps the address-and-pay block; a plain post redirects
    back to the order (or shows the page again with what was typed and why it was refused)."""
    order = _order(request, order_id)
    if request.POST.get("address_id"):
        # One of the buyer's saved addresses (the order page lists the book).
        try:
            entry = addresses.book_entry(request.user, request.POST["address_id"])
            order = addresses.ship_to_entry(order=order, actor=request.user, entry=entry)
        except DomainError as exc:
            messages.error(request, _address_error(exc))
        else:
            messages.success(request, _("收货地址已保存。"))
        return redirect("orders:detail", order.pk)
    # Over-long input is cut here and refused by the service's own limits (which are shorter).
    form = {name: request.POST.get(name, "")[:limit + 1] for name, limit in
            (("ship_to_name", 50), ("ship_to_phone", 40), ("ship_to_address", 200))}
    form["save_as_default"] = "1" if request.POST.get("save_as_default") else ""
    try:
        order = addresses.set_shipping_address(order=order, actor=request.user, name=form["ship_to_name"],
                                               phone=form["ship_to_phone"], address=form["ship_to_address"],
                                               save_as_default=bool(form["save_as_default"]))
    except DomainError as exc:
        error = _address_error(exc)
        if _is_htmx(request):
            return render(request, "orders/_checkout.html", _checkout_context(request, order, form=form, error=error))
        return render(request, "orders/order_detail.html",
                      _checkout_context(request, order, form=form, error=error), status=exc.status)
    order = _order(request, order.pk)
    if _is_htmx(request):
        return render(request, "orders/_checkout.html", _checkout_context(request, order, saved=True))
    messages.success(request, _("收货地址已保存。"))
    return redirect("orders:detail", order.pk)


def _back(request: HttpRequest, fallback: str) -> HttpResponse:
    target = request.META.get("HTTP_REFERER", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return redirect(target)
    return redirect(fallback)


def _buy_origin(request: HttpRequest) -> str:
    """The page the buy box was on: the referring page when it is ours, else the product's page, else home."""
    target = request.META.get("HTTP_REFERER", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        parts = urlsplit(target)
        return parts.path + (f"?{parts.query}" if parts.query else "")
    product_id = request.POST.get("product_id") or request.GET.get("product_id") or ""
    if product_id.isdigit():
        return reverse("storefront:product", args=[int(product_id)])
    return "/"


def csrf_failed(request: HttpRequest) -> bool:
    """Whether a POST fails Django's CSRF check (the view itself is csrf_exempt and decides what follows)."""
    return CsrfViewMiddleware(lambda r: HttpResponse()).process_view(request, _checked_view, (), {}) is not None


def _checked_view(request: HttpRequest) -> HttpResponse:  # what csrf_failed checks as: a view that is not exempt
    raise AssertionError("never called")


CONFIRM_FIELDS = ("product_id", "quantity", "stream_id", "idempotency_key", "coupon", "coupon_code", "next")


def confirm_step(request: HttpRequest, action: str) -> HttpResponse:
    """A POST from a cached public page without JavaScript carries no CSRF token (the page is the same for
    everyone; public-page.js adds the token when it runs). Instead of refusing it, show what it asks for
    with a fresh token: nothing changes until the buyer confirms, so a forged post achieves nothing."""
    fields = {name: request.POST.get(name, "")[:200] for name in CONFIRM_FIELDS if request.POST.get(name)}
    product = selectors.product_by_id(int(fields["product_id"])) if fields.get("product_id", "").isdigit() else None
    if product is None:
        raise Http404()
    return render(request, "orders/confirm.html", {"action": action, "fields": fields, "product": product,
                                                   "quantity": fields.get("quantity", "1"),
                                                   "to_cart": action == reverse("orders:cart_add")})


@csrf_exempt
def buy(request: HttpRequest) -> HttpResponse:
    """The buy box posts here: create the order (its hidden key makes a double submit harmless).

    A signed-out buyer is sent to log in with `next` = the page the buy box was on, not this POST-only
    URL (a GET after login would be a dead end); a GET (an old link, a bookmark) goes back to that page.

    CSRF: the product page is the same for everyone (the front caches it), so without JavaScript its form
    carries no token. A signed-out POST changes nothing (it only leads to sign-in), so it is let through;
    a signed-in POST without a valid token gets the confirmation step (`confirm_step`), never an order.
    """
    if not request.user.is_authenticated:
        return redirect_to_login(_buy_origin(request))
    if request.method != "POST":
        return redirect(_buy_origin(request))
    if csrf_failed(request):
        return confirm_step(request, reverse("orders:buy"))
    try:
        product_id = int(request.POST.get("product_id", ""))
        quantity = int(request.POST.get("quantity", ""))
    except ValueError:
        messages.error(request, _("请填写正确的数量。"))
        return _back(request, "/")
    stream = None
    if request.POST.get("stream_id"):
        stream = selectors.stream_by_id(int(request.POST["stream_id"])) \
            if request.POST["stream_id"].isdigit() else None
    try:
        # No code to type: the best of the buyer's claimed coupons that fits, unless they chose none; the
        # buyer's default address goes on the order at once (services_checkout, the one checkout path).
        order = services_checkout.place_order(
            buyer=request.user, lines=[{"product_id": product_id, "quantity": quantity}], stream=stream,
            idempotency_key=request.POST.get("idempotency_key", ""),
            coupon_code=request.POST.get("coupon_code") or None, best_coupon=request.POST.get("coupon") != "none")
    except DomainError as exc:
        messages.error(request, _friendly(exc))
        return _back(request, "/")
    return redirect("orders:detail", order.pk)


# Lazy: the table is built at import time, each message is rendered in its request's language.
_FRIENDLY = {
    "sold_out": gettext_lazy("手慢了，已经抢光了。"),
    "limit_exceeded": gettext_lazy("超过每人限购数量了。"),
    "invalid_quantity": gettext_lazy("数量需在 1 到 99 之间。"),
    "sale_not_started": gettext_lazy("秒杀还没开始，请等倒计时结束。"),
    "product_unavailable": gettext_lazy("这件商品暂时不能购买。"),
    "coupon_not_claimed": gettext_lazy("请先在直播间领取这张优惠券。"),
    "coupon_not_applicable": gettext_lazy("这张优惠券不适用于本订单。"),
    "coupon_expired": gettext_lazy("优惠券不在有效期内。"),
    "coupon_used": gettext_lazy("这张优惠券已经用过了。"),
    "coupon_not_found": gettext_lazy("没有这张优惠券。"),
    "not_host_of_stream": gettext_lazy("只有本场主播可以开秒杀。"),
    "stream_not_live": gettext_lazy("直播开始后才能开秒杀。"),
    "product_not_pinned": gettext_lazy("请先点“讲解”置顶要秒杀的商品。"),
    "below_cost_without_reason": gettext_lazy("秒杀价低于成本底价，请写明原因（会报县里备案）。"),
    "insufficient_stock": gettext_lazy("库存不够这么多件。"),
    "sale_already_running": gettext_lazy("这件商品的秒杀还在进行。"),
    "too_many_open_orders": gettext_lazy("待支付的订单太多了，请先支付或取消一单。"),
    "units_cap_exceeded": gettext_lazy("这件商品您待支付的数量已达上限，请先支付已下的订单。"),
    "inventory_unavailable": gettext_lazy("系统繁忙，暂时无法下单，请稍后重试。"),
}


def _address_error(exc: DomainError) -> str:
    """The address form's message for a refused address (built per call: each request has its language)."""
    return {
        "invalid_ship_to_name": _("请填写收货人姓名（1 到 50 个字，不含特殊字符）。"),
        "invalid_ship_to_phone": _("请填写正确的手机号码：11 位数字，以 1 开头。"),
        "invalid_ship_to_address": _("请填写详细收货地址（5 到 200 个字，不含特殊字符）。"),
        "shipping_address_locked": _("订单已发货或已关闭，收货地址不能再修改。"),
        "not_your_order": _("只有下单的买家可以填写收货地址。"),
    }.get(exc.code) or _friendly(exc)


def _friendly(exc: DomainError) -> str:
    if exc.code == "fake_discount":
        return _("秒杀价须低于近 30 天的最低价 ¥%(price)s，不能先涨后降。") % {
            "price": exc.details.get("lowest_30_days", "")}
    return str(_FRIENDLY.get(exc.code, exc.message))


@login_required
@require_POST
def start_sale(request: HttpRequest, stream_id: int) -> HttpResponse:
    """The host console's flash-sale form (orders/_console_sale.html): a sale of the product on top now."""
    stream = selectors.stream_by_id(stream_id)
    if stream is None:
        raise Http404()
    if stream.host.user_id != request.user.pk:
        raise DjangoPermissionDenied(_FRIENDLY["not_host_of_stream"])
    console = reverse("live:console", args=[stream.pk])
    pin = current_pin(stream)
    if pin is None:
        messages.error(request, _FRIENDLY["product_not_pinned"])
        return redirect(console)
    try:
        numbers = {name: int(request.POST.get(name, ""))
                   for name in ("quantity", "per_buyer_limit", "countdown_seconds", "duration_minutes")}
    except ValueError:
        messages.error(request, _("数量、每人限购、倒计时和持续时间请填整数。"))
        return redirect(console)
    try:
        sale = services.start_flash_sale(actor=request.user, stream=stream, product=pin.product,
                                         sale_price=request.POST.get("sale_price", ""),
                                         below_cost_reason=request.POST.get("below_cost_reason", ""), **numbers)
    except DomainError as exc:
        messages.error(request, _friendly(exc))
        return redirect(console)
    messages.success(request, _("秒杀倒计时开始：%(name)s ¥%(price)s，共 %(quantity)s 件，每人限购 %(limit)s 件。") % {
        "name": pin.product.name, "price": sale.sale_price, "quantity": sale.quantity,
        "limit": sale.per_buyer_limit})
    return redirect(console)


_COUPON_FIELDS = {
    "kind": gettext_lazy("请选择优惠券类型。"),
    "value": gettext_lazy("优惠额度：满减填金额（须小于最低消费），折扣填 1–90 的整数。"),
    "min_spend": gettext_lazy("最低消费请填金额。"),
    "total_quantity": gettext_lazy("张数须为 1–100000。"),
    "valid_minutes": gettext_lazy("有效期须为 1–1440 分钟。"),
}


@login_required
@require_POST
def release_coupon(request: HttpRequest, stream_id: int) -> HttpResponse:
    """The host console's coupon form (orders/_console_coupon.html): coupons viewers claim in the room."""
    stream = selectors.stream_by_id(stream_id)
    if stream is None:
        raise Http404()
    if stream.host.user_id != request.user.pk:
        raise DjangoPermissionDenied(_FRIENDLY["not_host_of_stream"])
    console = reverse("live:console", args=[stream.pk])
    try:
        numbers = {name: int(request.POST.get(name, "")) for name in ("total_quantity", "valid_minutes")}
    except ValueError:
        messages.error(request, _("张数和有效期请填整数。"))
        return redirect(console)
    try:
        coupon = services.release_coupon(actor=request.user, stream=stream, kind=request.POST.get("kind", ""),
                                         value=request.POST.get("value", ""),
                                         min_spend=request.POST.get("min_spend", "") or "0",
                                         below_cost_reason=request.POST.get("below_cost_reason", ""), **numbers)
    except DomainError as exc:
        field = (exc.details or {}).get("field")
        messages.error(request, str(_COUPON_FIELDS[field]) if exc.code == "invalid" and field in _COUPON_FIELDS
                       else _friendly(exc))
        return redirect(console)
    messages.success(request, _("优惠券已发放：券码 %(code)s，共 %(quantity)s 张。") % {
        "code": coupon.code, "quantity": coupon.total_quantity})
    return redirect(console)


@login_required
@require_POST
def cancel(request: HttpRequest, order_id: int) -> HttpResponse:
    order = _order(request, order_id)
    try:
        services.cancel_order(order=order, actor=request.user, reason=request.POST.get("reason", ""))
        messages.success(request, _("订单已取消，库存已释放。"))
    except DomainError as exc:
        messages.error(request, _friendly(exc))
    return redirect("orders:detail", order.pk)


@login_required
def producer_sales(request: HttpRequest, producer_id: int) -> HttpResponse:
    """A household's or co-op's sales: every paid line paid to it (货款直达), for it and its county staff."""
    producer = selectors.producer_by_id(producer_id)
    if producer is None:
        raise Http404()
    if not selectors.can_see_producer_sales(request.user, producer):
        raise DjangoPermissionDenied(_("只有生产者的管理人和所在县的工作人员可以查看销售记录。"))
    page = Paginator(selectors.producer_sales(producer), 50).get_page(request.GET.get("page"))
    return render(request, "orders/producer_sales.html", {
        "producer": producer, "page": page, "totals": selectors.producer_sales_totals(producer)})

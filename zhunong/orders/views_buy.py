"""Buyer pages around checkout: the cart (购物车), the address book (收货地址), the coupon wallet (我的优惠券)
and the purchase sheet the live room and replays open over the video (docs/decisions/0024)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from zhunong.core.errors import DomainError
from zhunong.core.redirects import local_path

from . import addresses, selectors, selectors_cart, selectors_wallet, services_cart, services_checkout
from .views import _address_error, _friendly, _is_htmx, confirm_step, csrf_failed

CART_ERRORS = {
    "price_changed": "价格有变动，请核对新的合计后再结算。",
    "cart_empty": "购物车是空的。",
    "cart_full": "购物车最多放 20 种商品，请先结算或移除一些。",
    "cart_item_not_found": "购物车里没有这件商品。",
    "address_book_full": "地址簿最多保存 20 个地址，请先删除一个。",
    "address_not_found": "没有这个收货地址。",
    "invalid_lines": "请填写正确的数量。",
}


def _message(exc: DomainError) -> str:
    text = CART_ERRORS.get(exc.code)
    if text:
        return _(text)
    if exc.code.startswith("invalid_ship_to") or exc.code == "shipping_address_locked":
        return _address_error(exc)
    return _friendly(exc)


def _int(value: object, default: int | None = None) -> int | None:
    text = str(value or "").strip()
    if not text.isdigit() or len(text) > 15:
        return default
    return int(text)


def _safe_next(request: HttpRequest, fallback: str) -> str:
    return local_path(request.POST.get("next") or request.GET.get("next"), fallback)


# ---------------------------------------------------------------------------------------------------
# cart


def _buyer(request: HttpRequest):  # noqa: ANN202
    return request.user if request.user.is_authenticated else None


def cart_page(request: HttpRequest) -> HttpResponse:
    page = selectors_cart.cart_page(buyer=_buyer(request), session=request.session)
    return render(request, "orders/cart.html", {
        "lines": page.lines, "total": page.total, "all_available": page.all_available,
        "default_address": page.default_address})


@csrf_exempt
@require_POST
def cart_add(request: HttpRequest) -> HttpResponse:
    """The buy box's 加入购物车 (and the sheet's): works signed out too (the session keeps the cart).

    From the cached product page without JavaScript the form has no CSRF token: such a post gets the
    confirmation step (views.confirm_step) with a token, and the cart changes only when it is confirmed."""
    if csrf_failed(request):
        return confirm_step(request, reverse("orders:cart_add"))
    user = _buyer(request)
    product_id = _int(request.POST.get("product_id"))
    quantity = _int(request.POST.get("quantity"), 1)
    back = _safe_next(request, reverse("orders:cart"))
    try:
        line = services_cart.add(buyer=user, session=request.session, product_id=product_id, quantity=quantity)
    except DomainError as exc:
        if _is_htmx(request):
            return render(request, "orders/_cart_added.html", {"error": _message(exc)}, status=exc.status)
        messages.error(request, _message(exc))
        return redirect(back)
    count = selectors_cart.count(buyer=user, session=request.session)
    if _is_htmx(request):
        return render(request, "orders/_cart_added.html", {"line": line, "count": count})
    messages.success(request, _("已加入购物车：%(name)s × %(n)s") % {"name": line.product.name, "n": line.quantity})
    return redirect(back)


@require_POST
def cart_update(request: HttpRequest, product_id: int) -> HttpResponse:
    user = _buyer(request)
    try:
        if request.POST.get("remove"):
            services_cart.remove(buyer=user, session=request.session, product_id=product_id)
        else:
            services_cart.set_quantity(buyer=user, session=request.session, product_id=product_id,
                              quantity=_int(request.POST.get("quantity"), 0))
    except DomainError as exc:
        messages.error(request, _message(exc))
    return redirect("orders:cart")


@require_POST
def cart_checkout(request: HttpRequest) -> HttpResponse:
    """One order for the whole cart. A visitor signs in first (their cart comes along) and is back here."""
    if not request.user.is_authenticated:
        return redirect_to_login(reverse("orders:cart"))
    try:
        order = services_cart.checkout(buyer=request.user, idempotency_key=request.POST.get("idempotency_key", ""),
                              expected_total=request.POST.get("expected_total", ""))
    except DomainError as exc:
        messages.error(request, _message(exc))
        return redirect("orders:cart")
    return redirect("orders:detail", order.pk)


# ---------------------------------------------------------------------------------------------------
# address book


def _address_form_from(data) -> dict[str, str]:  # noqa: ANN001
    return {name: data.get(name, "")[:limit + 1] for name, limit in
            (("ship_to_name", 50), ("ship_to_phone", 40), ("ship_to_address", 200))}


def _address_form(request: HttpRequest) -> dict[str, str]:
    return _address_form_from(request.POST)


@login_required
def address_book(request: HttpRequest) -> HttpResponse:
    """GET: the buyer's addresses and a form to add one; POST: add it."""
    form: dict[str, str] = {}
    error = ""
    status = 200
    if request.method == "POST":
        form = _address_form(request)
        try:
            addresses.add_address(buyer=request.user, name=form["ship_to_name"], phone=form["ship_to_phone"],
                                  address=form["ship_to_address"], make_default=bool(request.POST.get("is_default")))
        except DomainError as exc:
            error, status = _message(exc), exc.status
        else:
            messages.success(request, _("收货地址已保存。"))
            return redirect(_safe_next(request, reverse("orders:addresses")))
    return render(request, "orders/addresses.html", {
        "book": addresses.address_book(request.user), "form": form, "error": error,
        "book_max": addresses.BOOK_MAX, "next": _safe_next(request, "")}, status=status)


@login_required
def address_edit(request: HttpRequest, address_id: int) -> HttpResponse:
    try:
        entry = addresses.book_entry(request.user, address_id)
    except DomainError:
        raise Http404()
    form = {"ship_to_name": entry.name, "ship_to_phone": entry.phone, "ship_to_address": entry.address}
    error = ""
    status = 200
    if request.method == "POST":
        form = _address_form(request)
        try:
            addresses.update_address(buyer=request.user, address_id=address_id, name=form["ship_to_name"],
                                     phone=form["ship_to_phone"], address=form["ship_to_address"],
                                     make_default=bool(request.POST.get("is_default")))
        except DomainError as exc:
            error, status = _message(exc), exc.status
        else:
            messages.success(request, _("收货地址已保存。"))
            return redirect("orders:addresses")
    return render(request, "orders/address_edit.html", {"entry": entry, "form": form, "error": error},
                  status=status)


@login_required
@require_POST
def address_delete(request: HttpRequest, address_id: int) -> HttpResponse:
    try:
        addresses.delete_address(buyer=request.user, address_id=address_id)
    except DomainError:
        raise Http404()
    messages.success(request, _("收货地址已删除。"))
    return redirect("orders:addresses")


@login_required
@require_POST
def address_default(request: HttpRequest, address_id: int) -> HttpResponse:
    try:
        addresses.set_default_address(buyer=request.user, address_id=address_id)
    except DomainError:
        raise Http404()
    messages.success(request, _("已设为默认收货地址。"))
    return redirect("orders:addresses")


# ---------------------------------------------------------------------------------------------------
# coupon wallet


@login_required
def coupon_wallet(request: HttpRequest) -> HttpResponse:
    groups = selectors_wallet.wallet_groups(request.user)
    return render(request, "orders/coupons.html", {"groups": groups, "claims": any(groups.values())})


# ---------------------------------------------------------------------------------------------------
# the purchase sheet (over the live room and replays; htmx fragments)


def _sheet_stream(request: HttpRequest, data) -> object | None:  # noqa: ANN001
    stream_id = _int(data.get("stream_id"))
    return selectors.stream_by_id(stream_id) if stream_id else None


def _sheet_context(request: HttpRequest, *, product, stream, quantity: int, coupon: str,  # noqa: ANN001
                   error: str = "", form: dict[str, str] | None = None) -> dict:
    data = request.POST if request.method == "POST" else request.GET
    key = data.get("idempotency_key", "")[:64]
    ctx: dict = {"product": product, "stream": stream, "quantity": quantity, "coupon_choice": coupon,
                 "error": error, "form": form if form is not None else _address_form_from(data),
                 "next": _safe_next(request, "/"), "idempotency_key": key if key.isalnum() else ""}
    if not request.user.is_authenticated:
        return ctx
    offer = selectors_wallet.sheet_offer(buyer=request.user, product_id=product.pk, quantity=quantity, stream=stream,
                                         coupon=coupon)
    if offer.refusal is not None:
        ctx["error"] = ctx["error"] or _message(offer.refusal)
    ctx.update(quote=offer.quote, sale=offer.sale, book=offer.book)
    return ctx


@require_GET
def sheet(request: HttpRequest) -> HttpResponse:
    """The sheet's content for one product (quantity, address, coupon, price); re-rendered as they change."""
    product = selectors.product_by_id(_int(request.GET.get("product_id")) or 0)
    if product is None:
        raise Http404()
    quantity = min(max(_int(request.GET.get("quantity"), 1) or 1, 1), 99)
    return render(request, "orders/_sheet.html", _sheet_context(
        request, product=product, stream=_sheet_stream(request, request.GET), quantity=quantity,
        coupon=(request.GET.get("coupon") or "auto")[:16]))


@require_POST
def sheet_buy(request: HttpRequest) -> HttpResponse:
    """The sheet's 提交订单: the order (with the chosen coupon and address), then its pay step in the sheet."""
    if not request.user.is_authenticated:
        return redirect_to_login(_safe_next(request, "/"))
    product = selectors.product_by_id(_int(request.POST.get("product_id")) or 0)
    if product is None:
        raise Http404()
    stream = _sheet_stream(request, request.POST)
    quantity = _int(request.POST.get("quantity"), 0) or 0
    coupon = (request.POST.get("coupon") or "auto")[:16]
    form = _address_form(request)
    address_id = request.POST.get("address_id", "")

    def again(exc: DomainError) -> HttpResponse:
        ctx = _sheet_context(request, product=product, stream=stream, quantity=min(max(quantity, 1), 99),
                             coupon=coupon, error=_message(exc), form=form)
        return render(request, "orders/_sheet.html", ctx, status=200 if _is_htmx(request) else exc.status)

    try:
        order = services_checkout.place_order(
            buyer=request.user, lines=[{"product_id": product.pk, "quantity": quantity}], stream=stream,
            idempotency_key=request.POST.get("idempotency_key", ""),
            coupon_code=None if coupon in ("auto", "none") else coupon, best_coupon=coupon == "auto",
            address_id=address_id or None, typed_address=None if address_id else form)
    except DomainError as exc:
        return again(exc)
    order = selectors.order_for(request.user, order.pk)
    return render(request, "orders/_sheet_order.html", {"order": order, "stream": stream})


@login_required
@require_GET
def sheet_order(request: HttpRequest, order_id: int) -> HttpResponse:
    """The sheet's pay step, polled while the buyer pays in the other tab: shows the result when it comes."""
    try:
        order = selectors.order_for(request.user, order_id)
    except DomainError:
        raise Http404()
    if order.buyer_id != request.user.pk:
        raise Http404()
    return render(request, "orders/_sheet_order.html", {"order": order, "polled": True})


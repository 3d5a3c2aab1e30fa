"""Buying as people expect (issue 15): the address book, the cart, the coupon wallet and automatic coupon
choice, the purchase sheet (docs/decisions/0024)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from zhunong.core.errors import DomainError
from zhunong.live import streams
from zhunong.orders import addresses, flashsales, selectors_cart, selectors_wallet, services, services_cart
from zhunong.orders.models import CartItem, Order, OrderLine, ShippingAddress
from zhunong.testing import make_user, start_sale

pytestmark = pytest.mark.django_db

NAME, PHONE, ADDRESS = "王小明", "13800001234", "山东省青岛市市南区香港中路 1 号"


def signed_in(user) -> Client:  # noqa: ANN001
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def room(world):  # noqa: ANN001, ANN201
    product = world.listed_product(stock=100, price="39.90", cost_floor="20.00")
    return world.live_room([product], kind="county_head", pin=product)


def coupon(room, *, value: str = "5", min_spend: str = "0", kind: str = "amount", minutes: int = 60):  # noqa: ANN001, ANN201
    return flashsales.release_coupon(actor=room.host_user, stream=room.stream, kind=kind, value=value,
                                     min_spend=min_spend, total_quantity=10, valid_minutes=minutes)


# --- address book ------------------------------------------------------------------------------------


def test_address_book_one_default_and_successor(world, buyer):  # noqa: ANN001
    first = addresses.add_address(buyer=buyer, name=NAME, phone=PHONE, address=ADDRESS)
    assert first.is_default  # the first address is the default
    second = addresses.add_address(buyer=buyer, name="李四", phone="13900004321", address="湖南省长沙市岳麓区")
    assert not second.is_default and addresses.default_address(buyer) == first
    addresses.set_default_address(buyer=buyer, address_id=second.pk)
    assert addresses.default_address(buyer) == second
    assert ShippingAddress.objects.filter(buyer=buyer, is_default=True).count() == 1
    addresses.update_address(buyer=buyer, address_id=first.pk, name="王大明", phone=PHONE, address=ADDRESS)
    assert ShippingAddress.objects.get(pk=first.pk).name == "王大明"
    # Deleting the default hands it to the address left.
    addresses.delete_address(buyer=buyer, address_id=second.pk)
    assert addresses.default_address(buyer).pk == first.pk
    # Someone else's address is not found, and bad input changes nothing.
    other = make_user()
    for call in (lambda: addresses.set_default_address(buyer=other, address_id=first.pk),
                 lambda: addresses.delete_address(buyer=other, address_id=first.pk)):
        with pytest.raises(DomainError) as exc:
            call()
        assert exc.value.code == "address_not_found" and exc.value.status == 404
    with pytest.raises(DomainError) as exc:
        addresses.add_address(buyer=buyer, name=NAME, phone="123", address=ADDRESS)
    assert exc.value.code == "invalid_ship_to_phone"
    assert ShippingAddress.objects.filter(buyer=buyer).count() == 1


def test_address_book_is_limited(world, buyer):  # noqa: ANN001
    for i in range(addresses.BOOK_MAX):
        addresses.add_address(buyer=buyer, name=NAME, phone=PHONE, address=f"{ADDRESS} {i} 室")
    with pytest.raises(DomainError) as exc:
        addresses.add_address(buyer=buyer, name=NAME, phone=PHONE, address=ADDRESS + " 99 室")
    assert exc.value.code == "address_book_full"


def test_buy_box_order_takes_the_default_address(world, buyer):  # noqa: ANN001
    product = world.listed_product(stock=10)
    addresses.add_address(buyer=buyer, name=NAME, phone=PHONE, address=ADDRESS)
    client = signed_in(buyer)
    response = client.post("/orders/buy/", {"product_id": product.pk, "quantity": 1, "idempotency_key": "k-1"})
    order = Order.objects.get(buyer=buyer)
    assert response.status_code == 302 and response["Location"] == f"/orders/{order.pk}/"
    assert (order.ship_to_name, order.ship_to_phone, order.ship_to_address) == (NAME, PHONE, ADDRESS)
    page = client.get(f"/orders/{order.pk}/").content.decode()
    assert "去支付</button>" in page and "请先填写收货地址" not in page


def test_address_pages(world, buyer):  # noqa: ANN001
    client = signed_in(buyer)
    assert client.get("/orders/addresses/").status_code == 200
    bad = client.post("/orders/addresses/", {"ship_to_name": NAME, "ship_to_phone": "12", "ship_to_address": ADDRESS})
    assert bad.status_code == 422 and "手机号码" in bad.content.decode()
    assert client.post("/orders/addresses/", {"ship_to_name": NAME, "ship_to_phone": PHONE,
                                              "ship_to_address": ADDRESS}).status_code == 302
    entry = addresses.default_address(buyer)
    assert client.post(f"/orders/addresses/{entry.pk}/", {"ship_to_name": "王大明", "ship_to_phone": PHONE,
                                                          "ship_to_address": ADDRESS}).status_code == 302
    assert "王大明" in client.get("/orders/addresses/").content.decode()
    assert signed_in(make_user()).get(f"/orders/addresses/{entry.pk}/").status_code == 404
    assert client.post(f"/orders/addresses/{entry.pk}/delete/").status_code == 302
    assert not ShippingAddress.objects.filter(buyer=buyer).exists()


# --- cart ----------------------------------------------------------------------------------------------


def test_cart_checkout_makes_one_order_with_both_producers(world, buyer):  # noqa: ANN001
    a = world.listed_product(name="蓝莓", stock=10, price="39.90")
    b = world.listed_product(name="苹果", stock=10, price="22.50")
    services_cart.add(buyer=buyer, session=None, product_id=a.pk, quantity=2)
    services_cart.add(buyer=buyer, session=None, product_id=b.pk)
    services_cart.add(buyer=buyer, session=None, product_id=b.pk)
    assert selectors_cart.count(buyer=buyer, session=None) == 4
    lines = selectors_cart.items(buyer=buyer, session=None)
    assert selectors_cart.total(lines) == Decimal("124.80")
    addresses.add_address(buyer=buyer, name=NAME, phone=PHONE, address=ADDRESS)
    order = services_cart.checkout(buyer=buyer, idempotency_key="cart-1", expected_total="124.80")
    assert order.total == Decimal("124.80") and order.stream_id is None and order.ship_to_name == NAME
    assert sorted(OrderLine.objects.filter(order=order).values_list("product_id", "quantity")) == \
        sorted([(a.pk, 2), (b.pk, 2)])
    assert not CartItem.objects.filter(buyer=buyer).exists()
    # The same key again is the same order (a double submit orders once).
    services_cart.add(buyer=buyer, session=None, product_id=a.pk)
    assert services_cart.checkout(buyer=buyer, idempotency_key="cart-1", expected_total="124.80").pk == order.pk
    a.refresh_from_db()
    assert a.stock == 8


def test_cart_refusals_change_nothing(world, buyer):  # noqa: ANN001
    product = world.listed_product(stock=3, price="39.90")
    services_cart.add(buyer=buyer, session=None, product_id=product.pk, quantity=2)
    # A price change since the page was shown.
    type(product).objects.filter(pk=product.pk).update(price=Decimal("45.00"))
    with pytest.raises(DomainError) as exc:
        services_cart.checkout(buyer=buyer, idempotency_key="c-1", expected_total="79.80")
    assert exc.value.code == "price_changed" and exc.value.details["total"] == "90.00"
    # Not enough stock.
    CartItem.objects.filter(buyer=buyer).update(quantity=5)
    with pytest.raises(DomainError) as exc:
        services_cart.checkout(buyer=buyer, idempotency_key="c-2", expected_total="225.00")
    assert exc.value.code == "sold_out"
    # Unlisted.
    CartItem.objects.filter(buyer=buyer).update(quantity=1)
    type(product).objects.filter(pk=product.pk).update(status="unlisted")
    with pytest.raises(DomainError) as exc:
        services_cart.checkout(buyer=buyer, idempotency_key="c-3", expected_total="45.00")
    assert exc.value.code == "product_unavailable"
    assert not Order.objects.filter(buyer=buyer).exists()
    assert CartItem.objects.get(buyer=buyer).quantity == 1
    product.refresh_from_db()
    assert product.stock == 3
    with pytest.raises(DomainError) as exc:
        services_cart.add(buyer=buyer, session=None, product_id=product.pk)
    assert exc.value.code == "product_unavailable"


def test_cart_quantities_and_limits(world, buyer):  # noqa: ANN001
    product = world.listed_product(stock=200)
    services_cart.add(buyer=buyer, session=None, product_id=product.pk, quantity=98)
    with pytest.raises(DomainError) as exc:
        services_cart.add(buyer=buyer, session=None, product_id=product.pk, quantity=2)
    assert exc.value.code == "invalid_quantity"
    assert services_cart.set_quantity(buyer=buyer, session=None, product_id=product.pk, quantity=3).quantity == 3
    for bad in (0, 100, "2", True):
        with pytest.raises(DomainError):
            services_cart.set_quantity(buyer=buyer, session=None, product_id=product.pk, quantity=bad)
    services_cart.remove(buyer=buyer, session=None, product_id=product.pk)
    with pytest.raises(DomainError) as exc:
        services_cart.remove(buyer=buyer, session=None, product_id=product.pk)
    assert exc.value.code == "cart_item_not_found"


def test_visitor_cart_in_the_session_merges_at_login(world, buyer):  # noqa: ANN001
    product = world.listed_product(stock=10, price="39.90")
    client = Client()
    assert client.post("/cart/add/", {"product_id": product.pk, "quantity": 2}).status_code == 302
    page = client.get("/cart/").content.decode()
    assert product.name in page and "¥79.80" in page and "登录后结算" in page
    # Checkout asks to sign in first.
    assert client.post("/cart/checkout/", {"idempotency_key": "v-1", "expected_total": "79.80"})["Location"] \
        .startswith("/accounts/login/")
    services_cart.add(buyer=buyer, session=None, product_id=product.pk, quantity=1)
    buyer.set_password("pw-123456-x")
    buyer.save()
    assert client.login(username=buyer.username, password="pw-123456-x")
    assert CartItem.objects.get(buyer=buyer, product=product).quantity == 3
    # Kept in the database: another session sees it.
    assert "¥119.70" in signed_in(buyer).get("/cart/").content.decode()


def test_cart_pages_checkout_and_header_count(world, buyer):  # noqa: ANN001
    product = world.listed_product(stock=10, price="39.90")
    client = signed_in(buyer)
    client.post("/cart/add/", {"product_id": product.pk, "quantity": 2})
    assert 'data-role="cart-count">2<' in client.get("/orders/").content.decode()
    client.post(f"/cart/{product.pk}/", {"quantity": 3})
    assert CartItem.objects.get(buyer=buyer).quantity == 3
    stale = client.post("/cart/checkout/", {"idempotency_key": "p-1", "expected_total": "79.80"}, follow=True)
    assert "价格有变动" in stale.content.decode() and not Order.objects.exists()
    response = client.post("/cart/checkout/", {"idempotency_key": "p-2", "expected_total": "119.70"})
    order = Order.objects.get(buyer=buyer)
    assert response["Location"] == f"/orders/{order.pk}/" and order.total == Decimal("119.70")


# --- coupons -------------------------------------------------------------------------------------------


def test_wallet_states_and_best_coupon(room, buyer):  # noqa: ANN001
    product = room.products[0]
    small, big, far = coupon(room, value="3"), coupon(room, value="8"), coupon(room, value="50", min_spend="100")
    for c in (small, big, far):
        services.claim_coupon(buyer=buyer, coupon=c)
    now = timezone.now()
    quote = selectors_wallet.quote(buyer=buyer, lines=[(product.pk, 1)], stream=room.stream, now=now)
    assert [f.code for f in quote.fits] == [big.code, small.code]  # 满100 not reached: not offered
    assert quote.chosen.code == big.code and quote.total == Decimal("31.90")
    assert selectors_wallet.quote(buyer=buyer, lines=[(product.pk, 1)], stream=room.stream, coupon=small.code).total == \
        Decimal("36.90")
    assert selectors_wallet.quote(buyer=buyer, lines=[(product.pk, 1)], stream=room.stream, coupon="none").chosen is None
    # Three units reach 满100: the 50 off is best now.
    assert selectors_wallet.quote(buyer=buyer, lines=[(product.pk, 3)], stream=room.stream).chosen.code == far.code
    # The buy box applies the best one without a code.
    client = signed_in(buyer)
    client.post("/orders/buy/", {"product_id": product.pk, "quantity": 1, "stream_id": room.stream.pk,
                                 "idempotency_key": "auto-1"})
    order = Order.objects.get(buyer=buyer)
    assert order.coupon_id == big.pk and order.total == Decimal("31.90")
    states = {c.coupon_id: c.state for c in selectors_wallet.wallet(buyer)}
    assert states == {small.pk: "usable", big.pk: "used", far.pk: "usable"}
    page = client.get("/orders/coupons/").content.decode()
    assert big.code in page and "已使用" in page and "可使用" in page
    assert set(selectors_wallet.claimed_coupon_ids(buyer, room.stream.pk)) == {small.pk, big.pk, far.pk}


def test_flash_sale_checkout_takes_a_coupon_within_the_floor(room, buyer):  # noqa: ANN001
    product = room.products[0]
    start_sale(room, product, quantity=10, price="29.90", limit=2)
    fits = coupon(room, value="5")
    services.claim_coupon(buyer=buyer, coupon=fits)
    quote = selectors_wallet.quote(buyer=buyer, lines=[(product.pk, 1)], stream=room.stream)
    assert quote.priced[0].sale is not None and quote.chosen.code == fits.code and quote.total == Decimal("24.90")
    # A coupon that would take the sale line below the cost floor (20.00) does not fit.
    deep = coupon(room, value="15")
    services.claim_coupon(buyer=make_user(), coupon=deep)
    other = make_user()
    services.claim_coupon(buyer=other, coupon=deep)
    assert selectors_wallet.quote(buyer=other, lines=[(product.pk, 1)], stream=room.stream).chosen is None


def test_claim_after_the_end_is_refused(room, buyer, django_capture_on_commit_callbacks):  # noqa: ANN001
    c = coupon(room)
    with django_capture_on_commit_callbacks(execute=True):
        streams.end_stream(stream=room.stream, actor=None)
    with pytest.raises(DomainError) as exc:
        services.claim_coupon(buyer=buyer, coupon=c)
    assert exc.value.code == "stream_not_live" and exc.value.status == 409
    response = signed_in(buyer).post(f"/api/v1/coupons/{c.pk}/claim")
    assert response.status_code == 409 and response.json()["code"] == "stream_not_live"


# --- the purchase sheet --------------------------------------------------------------------------------


def test_sheet_shows_best_coupon_and_buys_with_an_address(room, buyer):  # noqa: ANN001
    product = room.products[0]
    c = coupon(room, value="5")
    services.claim_coupon(buyer=buyer, coupon=c)
    client = signed_in(buyer)
    url = f"/orders/sheet/?product_id={product.pk}&stream_id={room.stream.pk}&quantity=2&next=/live/{room.stream.pk}/"
    html = client.get(url, HTTP_HX_REQUEST="true").content.decode()
    assert 'data-role="purchase-sheet"' in html and "¥74.80" in html and "最优" in html
    # A typed address that is wrong refuses before anything is reserved.
    data = {"product_id": product.pk, "stream_id": room.stream.pk, "quantity": 2, "coupon": "auto",
            "idempotency_key": "sheet1", "ship_to_name": NAME, "ship_to_phone": "12", "ship_to_address": ADDRESS}
    bad = client.post("/orders/sheet/buy/", data, HTTP_HX_REQUEST="true")
    assert "手机号码" in bad.content.decode() and not Order.objects.exists()
    data["ship_to_phone"] = PHONE
    done = client.post("/orders/sheet/buy/", data, HTTP_HX_REQUEST="true").content.decode()
    order = Order.objects.get(buyer=buyer)
    assert order.coupon_id == c.pk and order.total == Decimal("74.80") and order.ship_to_phone == PHONE
    assert f"/orders/{order.pk}/pay/" in done and 'hx-trigger="every 2s"' in done
    # The typed address became the default; the next sheet offers the book.
    assert addresses.default_address(buyer).phone == PHONE
    assert 'name="address_id"' in client.get(url).content.decode()
    # Paid, the polled step shows the result.
    services.mark_paid(order=order, amount=order.total, payment_ref="pi_sheet_1")
    polled = client.get(f"/orders/sheet/orders/{order.pk}/").content.decode()
    assert 'data-role="sheet-result"' in polled and "支付成功" in polled and "every 2s" not in polled
    assert signed_in(make_user()).get(f"/orders/sheet/orders/{order.pk}/").status_code == 404


def test_sheet_for_a_visitor_offers_login_and_cart(room):  # noqa: ANN001
    product = room.products[0]
    html = Client().get(f"/orders/sheet/?product_id={product.pk}&next=/replays/").content.decode()
    assert "/accounts/login/?next=/replays/" in html and "加入购物车" in html


# --- API ------------------------------------------------------------------------------------------------


def test_cart_address_and_wallet_api(room, buyer):  # noqa: ANN001
    product = room.products[0]
    client = signed_in(buyer)
    js = "application/json"
    assert client.get("/api/v1/cart").json() == {"items": [], "count": 0, "total": "0.00"}
    body = client.post("/api/v1/cart/items", {"product_id": product.pk, "quantity": 2}, content_type=js).json()
    assert body["count"] == 2 and body["total"] == "79.80" and body["items"][0]["available"] is True
    assert client.put(f"/api/v1/cart/items/{product.pk}", {"quantity": 1}, content_type=js).json()["total"] == "39.90"
    assert client.put("/api/v1/cart/items/999999", {"quantity": 1}, content_type=js).json()["code"] == \
        "cart_item_not_found"
    refused = client.post("/api/v1/cart/checkout", {"expected_total": "79.80"}, content_type=js,
                          HTTP_IDEMPOTENCY_KEY="api-cart-1")
    assert refused.status_code == 409 and refused.json()["code"] == "price_changed"
    made = client.post("/api/v1/cart/checkout", {"expected_total": "39.90"}, content_type=js,
                       HTTP_IDEMPOTENCY_KEY="api-cart-2")
    assert made.status_code == 201 and made.json()["total"] == "39.90" and made.json()["stream_id"] is None
    assert client.get("/api/v1/cart").json()["count"] == 0
    assert client.post("/api/v1/cart/checkout", {"expected_total": "0.00"}, content_type=js,
                       HTTP_IDEMPOTENCY_KEY="api-cart-3").json()["code"] == "cart_empty"

    added = client.post("/api/v1/me/addresses", {"name": NAME, "phone": PHONE, "address": ADDRESS}, content_type=js)
    assert added.status_code == 201 and added.json()["is_default"] is True
    other = client.post("/api/v1/me/addresses", {"name": "李四", "phone": "13900004321", "address": "湖南省长沙市岳麓区",
                                                 "is_default": True}, content_type=js).json()
    assert [a["is_default"] for a in client.get("/api/v1/me/addresses").json()] == [True, False]
    assert client.post(f"/api/v1/me/addresses/{added.json()['id']}/default").json()["is_default"] is True
    assert client.delete(f"/api/v1/me/addresses/{other['id']}").status_code == 204
    assert signed_in(make_user()).delete(f"/api/v1/me/addresses/{added.json()['id']}").json()["code"] == \
        "address_not_found"

    c = coupon(room)
    assert client.post(f"/api/v1/coupons/{c.pk}/claim").status_code == 201
    mine = client.get(f"/api/v1/me/coupons?stream_id={room.stream.pk}").json()
    assert [(m["coupon"]["id"], m["state"]) for m in mine] == [(c.pk, "usable")]
    assert client.get("/api/v1/me/coupons?stream_id=999999").json() == []

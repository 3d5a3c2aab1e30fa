"""Orders pages that join the live room: the console's flash-sale form, the room shelf's buy box (?stream=),
the parcels on the order page, and a producer's sales page (who may see it, what counts as a sale)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from zhunong.accounts import roles
from zhunong.orders import services
from zhunong.orders.models import FlashSale
from zhunong.testing import make_user, start_sale

pytestmark = pytest.mark.django_db


def client_for(user=None) -> Client:  # noqa: ANN001
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def sale_form(**overrides) -> dict:  # noqa: ANN003
    data = {"quantity": "5", "sale_price": "29.90", "per_buyer_limit": "2", "countdown_seconds": "10",
            "duration_minutes": "5"}
    data.update(overrides)
    return data


def test_console_sale_form_starts_a_sale_of_the_pinned_product(world):  # noqa: ANN001
    product = world.listed_product(price="39.90")
    room = world.live_room([product], kind="county_head", pin=product)
    host = client_for(room.host_user)
    console = host.get(f"/live/{room.stream.pk}/console/").content.decode()
    assert "开始秒杀" in console
    response = host.post(f"/orders/streams/{room.stream.pk}/flash-sale/", sale_form(), follow=True)
    assert response.redirect_chain[-1][0] == f"/live/{room.stream.pk}/console/"
    assert "秒杀倒计时开始" in response.content.decode()
    sale = FlashSale.objects.get(stream=room.stream)
    assert (sale.product_id, sale.quantity, sale.per_buyer_limit, str(sale.sale_price)) == (product.pk, 5, 2, "29.90")


def test_console_sale_form_refusals_change_nothing(world):  # noqa: ANN001
    product = world.listed_product(price="39.90")
    room = world.live_room([product], kind="county_head", pin=product)
    url = f"/orders/streams/{room.stream.pk}/flash-sale/"
    # Not below the lowest price of 30 days, not a number, not the host: a clear message, no sale.
    page = client_for(room.host_user).post(url, sale_form(sale_price="39.90"), follow=True).content.decode()
    assert "近 30 天的最低价 ¥39.90" in page
    page = client_for(room.host_user).post(url, sale_form(quantity="五"), follow=True).content.decode()
    assert "请填整数" in page
    operator_page = client_for(world.operator).get(f"/live/{room.stream.pk}/console/").content.decode()
    assert "开始秒杀" not in operator_page  # the form is the host's
    for other in (world.operator, make_user()):
        assert client_for(other).post(url, sale_form()).status_code == 403
    assert client_for(room.host_user).post("/orders/streams/99999999/flash-sale/", sale_form()).status_code == 404
    assert not FlashSale.objects.exists()


def test_room_shelf_link_gives_the_flash_sale_price_and_countdown(world):  # noqa: ANN001
    product = world.listed_product(price="39.90")
    room = world.live_room([product], kind="county_head", pin=product)
    sale = services.start_flash_sale(actor=room.host_user, stream=room.stream, product=product, quantity=5,
                                     sale_price="29.90", per_buyer_limit=2, countdown_seconds=30,
                                     duration_minutes=5)
    buyer = client_for(make_user())
    plain = buyer.get(f"/p/{product.pk}/").content.decode()
    assert "立即购买" in plain and "29.90" not in plain
    from_room = buyer.get(f"/p/{product.pk}/?stream={room.stream.pk}").content.decode()
    assert "29.90" in from_room and "每人限购 2 件" in from_room
    assert "秒后开抢" in from_room and "即将开抢" in from_room and "立即抢购" not in from_room
    FlashSale.objects.filter(pk=sale.pk).update(starts_at=timezone.now() - dt.timedelta(seconds=1))
    services.sync_sale(sale_id=sale.pk)
    assert "立即抢购" in buyer.get(f"/p/{product.pk}/?stream={room.stream.pk}").content.decode()
    # A stream id that is not live with this product on its shelf is ignored, never an error.
    for bad in ("abc", "99999999", "1" * 40):
        page = buyer.get(f"/p/{product.pk}/?stream={bad}")
        assert page.status_code == 200 and "立即购买" in page.content.decode()


def test_order_page_shows_parcels_once_paid(world):  # noqa: ANN001
    buyer = make_user()
    product = world.listed_product()
    order = services.create_order(buyer=buyer, lines=[{"product_id": product.pk, "quantity": 1}],
                                  idempotency_key="k-parcels-1")
    page = client_for(buyer).get(f"/orders/{order.pk}/").content.decode()
    assert "物流" not in page  # nothing to ship before payment
    services.mark_paid(order=order, amount=order.total, payment_ref="pi_test_parcels")
    page = client_for(buyer).get(f"/orders/{order.pk}/").content.decode()
    assert "物流" in page and "售后、评价与投诉" in page


def test_producer_sales_page_for_its_people_only(world):  # noqa: ANN001
    product = world.listed_product(price="39.90")
    room = world.live_room([product], kind="county_head", pin=product)
    start_sale(room, product, quantity=5, price="29.90", limit=2)
    buyer = make_user()
    paid = services.create_order(buyer=buyer, lines=[{"product_id": product.pk, "quantity": 2}], stream=room.stream,
                                 idempotency_key="k-sales-1")
    services.mark_paid(order=paid, amount=paid.total, payment_ref="pi_test_sales")
    services.create_order(buyer=make_user(), lines=[{"product_id": product.pk, "quantity": 1}],
                          idempotency_key="k-sales-2")  # reserved, unpaid: not a sale
    url = f"/orders/sales/producers/{world.producer.pk}/"
    page = client_for(world.operator).get(url).content.decode()
    assert paid.number in page and "蓝莓专场" in page and "秒杀" in page
    assert "已付款订单 <strong>1</strong> 笔" in page and "¥59.80" in page
    producer_page = client_for(world.operator).get(f"/producers/{world.producer.pk}/").content.decode()
    assert url in producer_page
    manager = make_user(roles.PRODUCER_MANAGER)
    world.producer.managers.add(manager)
    assert client_for(manager).get(url).status_code == 200
    for outsider in (buyer, make_user(roles.PRODUCER_MANAGER)):
        assert client_for(outsider).get(url).status_code == 403
        assert url not in client_for(outsider).get(f"/producers/{world.producer.pk}/").content.decode()
    assert client_for().get(url).status_code == 302  # to sign in
    assert client_for(world.operator).get("/orders/sales/producers/99999999/").status_code == 404


def coupon_form(**overrides) -> dict:  # noqa: ANN003
    form = {"kind": "amount", "value": "5", "min_spend": "30", "total_quantity": "100", "valid_minutes": "30"}
    form.update(overrides)
    return form


def test_console_coupon_form_releases_coupons_and_refuses_bad_input(world):  # noqa: ANN001
    from zhunong.orders.models import Coupon

    product = world.listed_product(price="39.90")
    room = world.live_room([product], kind="county_head", pin=product)
    host = client_for(room.host_user)
    assert "发放优惠券" in host.get(f"/live/{room.stream.pk}/console/").content.decode()
    url = f"/orders/streams/{room.stream.pk}/coupons/"
    # A percent over 90, an amount not below the minimum spend, a count that is not a number, a stranger:
    # a clear message, no coupon.
    assert "1–90 的整数" in host.post(url, coupon_form(kind="percent", value="95"), follow=True).content.decode()
    assert "须小于最低消费" in host.post(url, coupon_form(value="30"), follow=True).content.decode()
    assert "请填整数" in host.post(url, coupon_form(total_quantity="一百"), follow=True).content.decode()
    for other in (world.operator, make_user()):
        assert client_for(other).post(url, coupon_form()).status_code == 403
    assert "发放优惠券" not in client_for(world.operator).get(f"/live/{room.stream.pk}/console/").content.decode()
    assert not Coupon.objects.exists()

    page = host.post(url, coupon_form(), follow=True)
    assert page.redirect_chain[-1][0] == f"/live/{room.stream.pk}/console/"
    coupon = Coupon.objects.get(stream=room.stream)
    assert f"券码 {coupon.code}" in page.content.decode()
    assert (coupon.kind, str(coupon.value), str(coupon.min_spend), coupon.total_quantity) == ("amount", "5.00", "30.00", 100)

"""The buyer's shipping address: the service (orders.addresses), the API, who may set it, bad input, and
the pages (order page form with htmx and plain posts, the sandbox pay page's refusal, the header link)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from zhunong.accounts import roles
from zhunong.core import redaction
from zhunong.core.errors import DomainError
from zhunong.orders import addresses, selectors, services
from zhunong.orders.models import Order, OrderTransition, ShippingAddress
from zhunong.testing import api_auth as bearer
from zhunong.testing import make_user, unique

pytestmark = pytest.mark.django_db

NAME, PHONE, ADDRESS = "王小明", "13812345678", "山东省青岛市市南区香港中路 1 号"


@pytest.fixture
def product(world):  # noqa: ANN001, ANN201
    return world.listed_product(stock=20, price="30.00")


def new_order(buyer, product, quantity: int = 1) -> Order:  # noqa: ANN001
    return services.create_order(buyer=buyer, lines=[{"product_id": product.pk, "quantity": quantity}],
                                 idempotency_key=unique("addr-"))


def give(order: Order, actor, **overrides) -> Order:  # noqa: ANN001, ANN003
    fields = {"name": NAME, "phone": PHONE, "address": ADDRESS, **overrides}
    return addresses.set_shipping_address(order=order, actor=actor, **fields)


def paid(order: Order) -> Order:
    services.mark_paid(order=order, amount=order.total, payment_ref=unique("pay-"))
    order.refresh_from_db()
    return order


def address_rows(order: Order) -> list[OrderTransition]:
    return [t for t in order.history.all() if t.details.get("event") == "shipping_address"]


def manager_of(producer):  # noqa: ANN001, ANN201
    manager = make_user(roles.PRODUCER_MANAGER)
    producer.managers.add(manager)
    return manager


# ---------------------------------------------------------------------------------------------------
# service


def test_buyer_sets_the_address_while_reserved_and_history_notes_it(world, product, buyer):  # noqa: ANN001
    order = new_order(buyer, product)
    assert not addresses.has_address(order) and addresses.is_editable(order)
    order = give(order, buyer)
    order.refresh_from_db()
    assert (order.ship_to_name, order.ship_to_phone, order.ship_to_address) == (NAME, PHONE, ADDRESS)
    assert order.status == "reserved" and addresses.has_address(order)
    [row] = address_rows(order)
    # A note in the history, not a status change: no step of the state machine, no address copied into it.
    assert (row.from_status, row.to_status, row.actor, row.reason) == ("reserved", "reserved", buyer,
                                                                        "shipping address set")
    assert row.details == {"event": "shipping_address",
                           "fields": ["ship_to_name", "ship_to_phone", "ship_to_address"]}
    assert PHONE not in str(row.details) and ADDRESS not in row.reason

    # The same address again changes nothing and records nothing.
    give(order, buyer)
    assert len(address_rows(order)) == 1
    # A change records which fields changed.
    give(order, buyer, phone="139 0000 4321")
    order.refresh_from_db()
    assert order.ship_to_phone == "13900004321"
    last = address_rows(order)[-1]
    assert last.reason == "shipping address changed" and last.details["fields"] == ["ship_to_phone"]


def test_paid_order_can_change_until_a_parcel_ships(world, product, buyer):  # noqa: ANN001
    from zhunong.fulfilment.services import shipments as fulfilment

    order = paid(give(new_order(buyer, product), buyer))
    assert order.status == "paid" and addresses.is_editable(order)
    give(order, buyer, address="湖南省长沙市岳麓区麓山南路 2 号")
    order.refresh_from_db()
    assert order.ship_to_address == "湖南省长沙市岳麓区麓山南路 2 号"
    assert address_rows(order)[-1].from_status == "paid"

    shipment = order.shipments.get()
    fulfilment.ship_shipment(actor=manager_of(world.producer), shipment=shipment, carrier="sf",
                             tracking_number="SF1234567890")
    order.refresh_from_db()
    assert order.status == "shipped" and not addresses.is_editable(order)
    with pytest.raises(DomainError) as exc:
        give(order, buyer, address="别的地址别的地址")
    assert exc.value.code == "shipping_address_locked" and exc.value.status == 409
    order.refresh_from_db()
    assert order.ship_to_address == "湖南省长沙市岳麓区麓山南路 2 号"


def _second_producer_product(world):  # noqa: ANN001, ANN202
    from zhunong.catalog import services as catalog
    from zhunong.producers import services as producers
    from zhunong.producers.models import Producer

    producer = producers.create_producer(actor=world.operator, name="山里茶园合作社", village=world.village,
                                         kind=Producer.Kind.COOPERATIVE, shipping_address="洋河镇山里村茶厂")
    plot = producers.create_plot(actor=world.operator, producer=producer, name="南山", area_mu="30", crop="茶")
    batch = producers.create_batch(actor=world.operator, plot=plot,
                                   harvested_on=timezone.localdate() - dt.timedelta(days=5), quantity="300",
                                   unit="jin", grade="明前茶")
    product = catalog.create_product(actor=world.operator, name="明前绿茶", price="88.00", cost_floor="40.00",
                                     origin=world.county, producers=[producer], batches=[batch], stock=10)
    catalog.submit_for_inspection(actor=world.operator, product=product)
    world.inspect(batch)
    product.refresh_from_db()
    return producer, product


def test_one_parcel_shipped_locks_the_address_of_a_still_paid_order(world, product, buyer):  # noqa: ANN001
    from zhunong.fulfilment.services import shipments as fulfilment

    producer2, product2 = _second_producer_product(world)
    order = services.create_order(buyer=buyer, lines=[{"product_id": product.pk, "quantity": 1},
                                                      {"product_id": product2.pk, "quantity": 1}],
                                  idempotency_key="two-parcels")
    order = paid(give(order, buyer))
    first = order.shipments.get(producer=world.producer)
    fulfilment.ship_shipment(actor=manager_of(world.producer), shipment=first, carrier="sf",
                             tracking_number="SF1234567891")
    order.refresh_from_db()
    assert order.status == "paid"  # the other parcel has not left yet
    assert not addresses.is_editable(order)
    with pytest.raises(DomainError) as exc:
        give(order, buyer, name="李四")
    assert exc.value.code == "shipping_address_locked" and exc.value.details["shipped_parcels"] == 1
    order.refresh_from_db()
    assert order.ship_to_name == NAME


def test_cancelled_order_is_locked(world, product, buyer):  # noqa: ANN001
    order = services.cancel_order(order=new_order(buyer, product), actor=buyer, reason="")
    with pytest.raises(DomainError) as exc:
        give(order, buyer)
    assert exc.value.code == "shipping_address_locked"
    order.refresh_from_db()
    assert order.ship_to_name == ""


@pytest.mark.parametrize(("typed", "stored"), [
    ("13812345678", "13812345678"),
    (" 138 1234 5678 ", "13812345678"),
    ("138-1234-5678", "13812345678"),
    ("+86 138 1234 5678", "13812345678"),
    ("008613812345678", "13812345678"),
    ("１３８１２３４５６７８", "13812345678"),  # full-width digits from a Chinese keyboard
])
def test_phone_is_normalised(typed: str, stored: str) -> None:
    assert addresses.clean_phone(typed) == stored


@pytest.mark.parametrize(("field", "value", "code"), [
    ("name", "", "invalid_ship_to_name"),
    ("name", "   ", "invalid_ship_to_name"),
    ("name", "王" * 51, "invalid_ship_to_name"),
    ("name", "王小\x00明", "invalid_ship_to_name"),
    ("name", "王小\u202e明", "invalid_ship_to_name"),
    ("name", "王\n小明", "invalid_ship_to_name"),
    ("name", None, "invalid_ship_to_name"),
    ("phone", "", "invalid_ship_to_phone"),
    ("phone", "1381234567", "invalid_ship_to_phone"),      # 10 digits
    ("phone", "138123456789", "invalid_ship_to_phone"),    # 12 digits
    ("phone", "23812345678", "invalid_ship_to_phone"),     # not starting with 1
    ("phone", "1381234567a", "invalid_ship_to_phone"),
    ("phone", "٠١٣٨١٢٣٤٥٦٧", "invalid_ship_to_phone"),     # Arabic-Indic digits are not a phone number here
    ("phone", "010-12345678", "invalid_ship_to_phone"),    # a landline
    ("phone", "1" * 5000, "invalid_ship_to_phone"),
    ("phone", 13812345678, "invalid_ship_to_phone"),
    ("address", "", "invalid_ship_to_address"),
    ("address", "青岛市", "invalid_ship_to_address"),      # under 5 characters
    ("address", "路" * 201, "invalid_ship_to_address"),
    ("address", "青岛市市南区\x07香港中路", "invalid_ship_to_address"),
    ("address", "青岛市市南区\u2066香港中路", "invalid_ship_to_address"),
])
def test_bad_input_has_a_code_and_changes_nothing(world, product, buyer, field, value, code):  # noqa: ANN001
    order = give(new_order(buyer, product), buyer)
    before = Order.objects.values("ship_to_name", "ship_to_phone", "ship_to_address").get(pk=order.pk)
    rows = OrderTransition.objects.filter(order=order).count()
    with pytest.raises(DomainError) as exc:
        give(order, buyer, **{"name": "李四", "phone": "13900004321", "address": "湖南省长沙市岳麓区", field: value},
             save_as_default=True)
    assert exc.value.code == code and exc.value.status == 422
    assert exc.value.details["field"] == {"name": "ship_to_name", "phone": "ship_to_phone",
                                          "address": "ship_to_address"}[field]
    assert Order.objects.values("ship_to_name", "ship_to_phone", "ship_to_address").get(pk=order.pk) == before
    assert OrderTransition.objects.filter(order=order).count() == rows
    assert not ShippingAddress.objects.filter(buyer=buyer).exists()


def test_address_edges_accepted(world, product, buyer):  # noqa: ANN001
    order = give(new_order(buyer, product), buyer, name="  阿" + " " * 3, address="  五个字地址  ")
    assert (order.ship_to_name, order.ship_to_address) == ("阿", "五个字地址")
    # A line break typed in the textarea becomes one space: the slip prints the address on one line.
    order = give(order, buyer, name="王" * 50, address="山东省青岛市\r\n  市南区香港中路 1 号")
    assert order.ship_to_name == "王" * 50 and order.ship_to_address == "山东省青岛市 市南区香港中路 1 号"
    assert give(order, buyer, address="路" * 200).ship_to_address == "路" * 200


def test_only_the_buyer_may_set_it(world, product, buyer):  # noqa: ANN001
    order = new_order(buyer, product)
    seller = manager_of(world.producer)
    assert selectors.is_seller(seller, order)
    for actor in (make_user(), seller, world.operator, None):
        with pytest.raises(DomainError) as exc:
            give(order, actor)
        assert exc.value.code == "not_your_order" and exc.value.status == 403
    order.refresh_from_db()
    assert order.ship_to_name == "" and not address_rows(order)


def test_default_address_saved_and_prefills_the_next_order(world, product, buyer):  # noqa: ANN001
    first = new_order(buyer, product)
    assert addresses.prefill(first) == {"ship_to_name": "", "ship_to_phone": "", "ship_to_address": ""}
    give(first, buyer)
    assert addresses.default_address(buyer) is None  # only when asked
    give(first, buyer, phone="+86 139 0000 4321", save_as_default=True)
    saved = ShippingAddress.objects.get(buyer=buyer)
    assert (saved.name, saved.phone, saved.address, saved.is_default) == (NAME, "13900004321", ADDRESS, True)

    second = new_order(buyer, product)
    # Every new order takes the default at once (both purchase paths, docs/decisions/0033), noted in history.
    assert (second.ship_to_name, second.ship_to_phone, second.ship_to_address) == (NAME, "13900004321", ADDRESS)
    assert [t.reason for t in second.history.all()] == ["order placed", "shipping address set"]
    assert addresses.prefill(second) == {"ship_to_name": NAME, "ship_to_phone": "13900004321",
                                         "ship_to_address": ADDRESS}
    # The order's own address wins over the default; a new default joins the book and takes over.
    give(second, buyer, name="李四", save_as_default=True)
    second.refresh_from_db()
    assert addresses.prefill(second)["ship_to_name"] == "李四"
    assert ShippingAddress.objects.filter(buyer=buyer).count() == 2
    assert addresses.default_address(buyer).name == "李四"
    assert ShippingAddress.objects.filter(buyer=buyer, is_default=True).count() == 1
    # Saving an address that is already in the book makes that entry the default again (no duplicate).
    give(second, buyer, name=NAME, phone="13900004321", save_as_default=True)
    assert ShippingAddress.objects.filter(buyer=buyer).count() == 2
    assert addresses.default_address(buyer).name == NAME
    # Another buyer's orders never see it.
    assert addresses.prefill(new_order(make_user(), product))["ship_to_name"] == ""
    with pytest.raises(DomainError) as exc:
        addresses.save_default_address(buyer=buyer, name="李四", phone="123", address=ADDRESS)
    assert exc.value.code == "invalid_ship_to_phone"


def test_mask_phone() -> None:
    assert redaction.mask_phone("13812345678") == "138****5678"
    assert redaction.mask_phone("") == "" and redaction.mask_phone("123") == "***"


# ---------------------------------------------------------------------------------------------------
# API


def put(client, order_id, body, auth):  # noqa: ANN001, ANN201
    return client.put(f"/api/v1/orders/{order_id}/shipping-address", body, content_type="application/json", **auth)


BODY = {"ship_to_name": NAME, "ship_to_phone": "138 1234 5678", "ship_to_address": ADDRESS}


def test_api_put_and_get(world, product, buyer):  # noqa: ANN001
    client, auth = Client(), bearer(buyer)
    order = new_order(buyer, product)
    detail = client.get(f"/api/v1/orders/{order.pk}", **auth).json()
    assert (detail["ship_to_name"], detail["ship_to_phone"], detail["ship_to_address"]) == ("", "", "")
    assert detail["shipping_address_editable"] is True

    r = put(client, order.pk, {**BODY, "save_as_default": True}, auth)
    assert r.status_code == 200, r.content
    body = r.json()
    assert (body["ship_to_name"], body["ship_to_phone"], body["ship_to_address"]) == (NAME, PHONE, ADDRESS)
    assert body["status"] == "reserved" and body["id"] == order.pk
    assert body["history"][-1]["reason"] == "shipping address set"
    assert body["history"][-1]["from_status"] == body["history"][-1]["to_status"] == "reserved"
    assert ShippingAddress.objects.get(buyer=buyer).phone == PHONE
    assert client.get(f"/api/v1/orders/{order.pk}", **auth).json()["ship_to_phone"] == PHONE
    # Paying through the API is unchanged (it never needed an address) and so is the address's editability.
    assert client.post(f"/api/v1/orders/{order.pk}/pay", **auth).status_code == 201

    # The selling side reads the order with the phone masked.
    seller_view = client.get(f"/api/v1/orders/{order.pk}", **bearer(manager_of(world.producer))).json()
    assert seller_view["ship_to_name"] == NAME and seller_view["ship_to_phone"] == "138****5678"


def test_api_pay_without_an_address_still_works(world, product, buyer):  # noqa: ANN001
    order = new_order(buyer, product)
    r = Client().post(f"/api/v1/orders/{order.pk}/pay", **bearer(buyer))
    assert r.status_code == 201 and r.json()["status"] == "open"


def test_api_errors(world, product, buyer):  # noqa: ANN001
    client, auth = Client(), bearer(buyer)
    order = new_order(buyer, product)
    for body, code in [({**BODY, "ship_to_name": ""}, "invalid_ship_to_name"),
                       ({**BODY, "ship_to_phone": "12345"}, "invalid_ship_to_phone"),
                       ({**BODY, "ship_to_address": "短地址"}, "invalid_ship_to_address")]:
        r = put(client, order.pk, body, auth)
        assert r.status_code == 422 and r.json()["code"] == code, r.content
    missing = put(client, order.pk, {"ship_to_name": NAME}, auth)
    assert missing.status_code == 422 and missing.json()["code"] == "invalid"
    assert put(client, order.pk, BODY, {}).status_code == 401
    stranger = put(client, order.pk, BODY, bearer(make_user()))
    assert stranger.status_code == 404 and stranger.json()["code"] == "order_not_found"  # outside their reach
    seller = put(client, order.pk, BODY, bearer(manager_of(world.producer)))
    assert seller.status_code == 403 and seller.json()["code"] == "not_your_order"
    assert put(client, 999_999_999, BODY, auth).json()["code"] == "order_not_found"
    order.refresh_from_db()
    assert order.ship_to_name == "" and not address_rows(order)

    services.cancel_order(order=order, actor=buyer, reason="")
    r = put(client, order.pk, BODY, auth)
    assert r.status_code == 409 and r.json()["code"] == "shipping_address_locked"
    assert client.get(f"/api/v1/orders/{order.pk}", **auth).json()["shipping_address_editable"] is False


def test_openapi_documents_the_endpoint(db):  # noqa: ANN001
    doc = Client().get("/api/v1/openapi.json").json()
    operation = doc["paths"]["/api/v1/orders/{order_id}/shipping-address"]["put"]
    assert set(operation["responses"]) >= {"200", "401", "403", "404", "409", "422"}
    assert "shipping_address_locked" in operation["description"]
    detail = doc["components"]["schemas"]["OrderDetailOut"]["properties"]
    assert {"ship_to_name", "ship_to_phone", "ship_to_address", "shipping_address_editable"} <= set(detail)


# ---------------------------------------------------------------------------------------------------
# pages


def browser(user) -> Client:  # noqa: ANN001
    client = Client()
    client.force_login(user)
    return client


FORM = {"ship_to_name": NAME, "ship_to_phone": PHONE, "ship_to_address": ADDRESS}


def test_order_page_asks_for_the_address_before_paying(world, product, buyer):  # noqa: ANN001
    client = browser(buyer)
    order = new_order(buyer, product)
    html = client.get(f"/orders/{order.pk}/").content.decode()
    assert 'name="ship_to_name"' in html and f'hx-post="/orders/{order.pk}/shipping-address/"' in html
    assert "请先填写收货地址" in html
    # The form comes before the pay button, and the pay button waits for the address.
    assert html.index('name="ship_to_address"') < html.index("去支付")
    assert f'action="/orders/{order.pk}/pay/"' not in html
    assert 'name="save_as_default" value="1" checked' in html  # a first address becomes the default

    r = client.post(f"/orders/{order.pk}/shipping-address/", {**FORM, "save_as_default": "1"})
    assert r.status_code == 302 and r["Location"] == f"/orders/{order.pk}/"
    page = client.get(r["Location"]).content.decode()
    assert "收货地址已保存" in page and NAME in page and PHONE in page and ADDRESS in page
    assert f'action="/orders/{order.pk}/pay/"' in page and "请先填写收货地址" not in page
    assert "修改收货地址" in page and "填写了收货地址" in page  # the edit form folds away; history notes it
    assert ShippingAddress.objects.filter(buyer=buyer).exists()


def test_order_page_htmx_swaps_the_block_with_the_pay_button(world, product, buyer):  # noqa: ANN001
    client = browser(buyer)
    order = new_order(buyer, product)
    r = client.post(f"/orders/{order.pk}/shipping-address/", FORM, headers={"HX-Request": "true"})
    html = r.content.decode()
    assert r.status_code == 200 and html.lstrip().startswith('<div id="checkout"')
    assert "<html" not in html and "收货地址已保存" in html and f'action="/orders/{order.pk}/pay/"' in html
    assert not ShippingAddress.objects.filter(buyer=buyer).exists()  # the box was not ticked

    bad = client.post(f"/orders/{order.pk}/shipping-address/", {**FORM, "ship_to_phone": "12345"},
                      headers={"HX-Request": "true"})
    html = bad.content.decode()
    # htmx swaps 200 answers only: the refusal comes back in the block, with what was typed.
    assert bad.status_code == 200 and 'role="alert"' in html and "11 位数字" in html and 'value="12345"' in html
    order.refresh_from_db()
    assert order.ship_to_phone == PHONE


def test_plain_post_refused_shows_the_form_again(world, product, buyer):  # noqa: ANN001
    client = browser(buyer)
    order = new_order(buyer, product)
    r = client.post(f"/orders/{order.pk}/shipping-address/", {**FORM, "ship_to_address": "太短"})
    html = r.content.decode()
    assert r.status_code == 422 and "请填写详细收货地址" in html and f'value="{NAME}"' in html and ">太短<" in html
    assert "<html" in html  # the whole order page
    order.refresh_from_db()
    assert order.ship_to_address == ""


def test_pages_refuse_other_people(world, product, buyer):  # noqa: ANN001
    order = new_order(buyer, product)
    assert browser(make_user()).post(f"/orders/{order.pk}/shipping-address/", FORM).status_code == 404
    seller = browser(manager_of(world.producer))
    page = seller.get(f"/orders/{order.pk}/").content.decode()
    assert 'name="ship_to_name"' not in page  # the seller sees the order, not the buyer's form
    r = seller.post(f"/orders/{order.pk}/shipping-address/", FORM)
    assert r.status_code == 403 and "只有下单的买家" in r.content.decode()
    assert Client().post(f"/orders/{order.pk}/shipping-address/", FORM).status_code == 302  # to the login
    assert browser(buyer).get(f"/orders/{order.pk}/shipping-address/").status_code == 405
    order.refresh_from_db()
    assert order.ship_to_name == ""
    give(order, buyer)
    page = seller.get(f"/orders/{order.pk}/").content.decode()
    assert NAME in page and "138****5678" in page and PHONE not in page


def test_new_order_page_prefills_from_the_default(world, product, buyer):  # noqa: ANN001
    client = browser(buyer)
    give(new_order(buyer, product), buyer, save_as_default=True)
    html = client.get(f"/orders/{new_order(buyer, product).pk}/").content.decode()
    assert f'value="{NAME}"' in html and f'value="{PHONE}"' in html and f">{ADDRESS}</textarea>" in html
    # The default already exists: the box is not ticked for them again.
    assert 'name="save_as_default" value="1">' in html
    # The new order took the default at once (docs/decisions/0033): nothing to confirm before paying.
    assert "请先填写收货地址" not in html


def test_paid_order_page_keeps_the_form_until_shipped(world, product, buyer):  # noqa: ANN001
    from zhunong.fulfilment.services import shipments as fulfilment

    client = browser(buyer)
    order = paid(give(new_order(buyer, product), buyer))
    html = client.get(f"/orders/{order.pk}/").content.decode()
    assert "修改收货地址" in html and "去支付" not in html
    r = client.post(f"/orders/{order.pk}/shipping-address/", {**FORM, "ship_to_name": "李四"})
    assert r.status_code == 302
    order.refresh_from_db()
    assert order.ship_to_name == "李四"
    fulfilment.ship_shipment(actor=manager_of(world.producer), shipment=order.shipments.get(), carrier="sf",
                             tracking_number="SF1234567892")
    html = client.get(f"/orders/{order.pk}/").content.decode()
    assert "李四" in html and 'name="ship_to_name"' not in html
    r = client.post(f"/orders/{order.pk}/shipping-address/", FORM)
    assert r.status_code == 409 and "不能再修改" in r.content.decode()


def test_sandbox_pay_page_waits_for_the_address(world, product, buyer):  # noqa: ANN001
    from zhunong.payments.models import SandboxPayment

    client = browser(buyer)
    order = new_order(buyer, product)
    # The shop's pay step still opens the checkout (the API and services pay without an address) ...
    r = client.post(f"/orders/{order.pk}/pay/")
    assert r.status_code == 302 and r["Location"].startswith("/pay/sandbox/")
    pay_page = r["Location"]
    html = client.get(pay_page).content.decode()
    assert "还没有收货地址" in html and f'href="/orders/{order.pk}/"' in html
    assert "disabled>确认支付" in html
    # ... but the checkout does not confirm until the order has an address.
    refused = client.post(pay_page + "confirm/", follow=True)
    assert "请先在订单页填写收货地址" in refused.content.decode()
    assert SandboxPayment.objects.get().status == "pending"
    order.refresh_from_db()
    assert order.status == "reserved"

    give(order, buyer)
    html = client.get(pay_page).content.decode()
    assert "还没有收货地址" not in html and "disabled>确认支付" not in html
    r = client.post(pay_page + "confirm/")
    assert r.status_code == 302 and r["Location"] == f"/orders/{order.pk}/"
    assert SandboxPayment.objects.get().status == "succeeded"


def test_header_links_my_orders_for_signed_in_users(world, product, buyer):  # noqa: ANN001
    # The home page is cached the same for everyone; its header's personal part comes from /me/nav/.
    assert 'href="/orders/">我的订单</a>' in browser(buyer).get("/me/nav/?next=/").content.decode()
    assert 'href="/orders/"' not in Client().get("/me/nav/?next=/").content.decode()
    assert 'href="/cart/"' in Client().get("/me/nav/?next=/").content.decode()

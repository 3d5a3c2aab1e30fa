"""The Alipay adapter (python-alipay-sdk), offline: RSA keys generated here stand for the app's key pair and
Alipay's; notifications are signed as Alipay signs them; the gateway's HTTP answers are mocked."""

from __future__ import annotations

import base64
import json
import uuid
from decimal import Decimal
from unittest import mock
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from django.test import Client

from zhunong.orders import services as orders
from zhunong.orders.addresses import set_shipping_address
from zhunong.orders.models import OrderStatus
from zhunong.payments import services
from zhunong.payments.models import LedgerEntry, PaymentEvent, PaymentSession, Refund
from zhunong.payments.providers import AlipayGateway, get_provider

APP_ID = "2021000000000001"
NOTIFY = "/payments/alipay/notify/"


def _pem_private(key: rsa.RSAPrivateKey) -> str:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


def _pem_public(key: rsa.RSAPrivateKey) -> str:
    return key.public_key().public_bytes(serialization.Encoding.PEM,
                                         serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def _sign(key: rsa.RSAPrivateKey, message: str) -> str:
    return base64.b64encode(key.sign(message.encode(), padding.PKCS1v15(), hashes.SHA256())).decode()


def _verify(public_key, message: str, signature: str) -> None:  # noqa: ANN001
    public_key.verify(base64.b64decode(signature), message.encode(), padding.PKCS1v15(), hashes.SHA256())


@pytest.fixture(scope="module")
def keys() -> dict[str, rsa.RSAPrivateKey]:
    return {"app": rsa.generate_private_key(public_exponent=65537, key_size=2048),
            "alipay": rsa.generate_private_key(public_exponent=65537, key_size=2048),
            "forger": rsa.generate_private_key(public_exponent=65537, key_size=2048)}


@pytest.fixture
def alipay(settings, tmp_path, keys):  # noqa: ANN001, ANN201
    (tmp_path / "app.pem").write_text(_pem_private(keys["app"]))
    (tmp_path / "alipay.pem").write_text(_pem_public(keys["alipay"]))
    settings.PAYMENT_PROVIDER = "alipay"
    settings.ALIPAY_APP_ID = APP_ID
    settings.ALIPAY_APP_PRIVATE_KEY_FILE = str(tmp_path / "app.pem")
    settings.ALIPAY_PUBLIC_KEY_FILE = str(tmp_path / "alipay.pem")
    settings.ALIPAY_DEBUG = False
    gateway = get_provider()
    assert isinstance(gateway, AlipayGateway)
    return gateway


@pytest.fixture
def order(world, buyer):  # noqa: ANN001, ANN201
    product = world.listed_product(stock=10, price="25.00")
    # A fresh key: idempotency records outlive a test's transaction in the cache.
    return orders.create_order(buyer=buyer, lines=[{"product_id": product.pk, "quantity": 2}],
                               idempotency_key=uuid.uuid4().hex)


def notification(key: rsa.RSAPrivateKey, session: PaymentSession, **overrides: str) -> dict[str, str]:
    """An async notify as Alipay sends it: every field but sign/sign_type, sorted, k=v joined by &, RSA2."""
    data = {"app_id": APP_ID, "notify_id": "2024notify" + session.session_ref[-6:], "notify_type": "trade_status_sync",
            "notify_time": "2026-12-04 21:00:00", "charset": "utf-8", "version": "1.0",
            "out_trade_no": session.session_ref, "trade_no": "2026120422001400001" + session.session_ref[-4:],
            "trade_status": "TRADE_SUCCESS", "total_amount": f"{session.amount:.2f}", "subject": "助农订单",
            "gmt_payment": "2026-12-04 20:59:58", "seller_id": "2088000000000001"}
    data.update(overrides)
    message = "&".join(f"{k}={v}" for k, v in sorted(data.items()))
    return {**data, "sign_type": "RSA2", "sign": _sign(key, message)}


def post_notify(data: dict[str, str]):  # noqa: ANN201
    return Client().post(NOTIFY, urlencode(data), content_type="application/x-www-form-urlencoded")


def test_checkout_is_a_signed_page_pay_request(alipay, order, buyer, keys):  # noqa: ANN001
    session = services.start_checkout(order=order, actor=buyer)
    assert session.provider == "alipay" and session.pay_url.endswith(f"/pay/alipay/{session.session_ref}/")
    url = alipay.page_pay_url(session_ref=session.session_ref, merchant_reference=order.number,
                              amount=session.amount, expires_at=session.expires_at,
                              notify_url=services.notify_url("alipay"), return_url=services.return_url(order))
    assert url.startswith("https://openapi.alipay.com/gateway.do?")
    params = dict(parse_qsl(urlsplit(url).query))
    signature = params.pop("sign")
    # Alipay checks the app's signature with the app's public key: over the sorted, unquoted fields.
    _verify(keys["app"].public_key(), "&".join(f"{k}={v}" for k, v in sorted(params.items())), signature)
    biz = json.loads(params["biz_content"])
    assert params["method"] == "alipay.trade.page.pay" and params["app_id"] == APP_ID
    assert params["notify_url"].endswith(NOTIFY) and params["sign_type"] == "RSA2"
    assert biz["out_trade_no"] == session.session_ref and biz["total_amount"] == "50.00"
    assert biz["product_code"] == "FAST_INSTANT_TRADE_PAY" and biz["time_expire"]


def test_pay_page_redirects_to_alipay_once_the_address_is_given(alipay, order, buyer):  # noqa: ANN001
    client = Client()
    client.force_login(buyer)
    r = client.post(f"/orders/{order.pk}/pay/")
    assert r.status_code == 302 and r["Location"].startswith("/pay/alipay/")
    assert client.get(r["Location"])["Location"] == f"/orders/{order.pk}/"  # no address yet
    set_shipping_address(order=order, actor=buyer, name="张三", phone="13800138000", address="湖南省安化县东坪镇1号")
    assert client.get(r["Location"])["Location"].startswith("https://openapi.alipay.com/gateway.do?")
    assert client.get("/pay/sandbox/whatever/").status_code == 404  # the sandbox is off with Alipay chosen


def test_genuine_notification_pays_once_and_replays_change_nothing(alipay, order, buyer, keys):  # noqa: ANN001
    session = services.start_checkout(order=order, actor=buyer)
    data = notification(keys["alipay"], session)
    r = post_notify(data)
    assert r.status_code == 200 and r.content == b"success"
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID and order.payment_ref == data["trade_no"]
    # The same notification again (Alipay retries until it reads "success"): a duplicate.
    assert post_notify(data).content == b"success"
    assert PaymentEvent.objects.get(provider="alipay").deliveries == 2
    # A new notify id for the trade already applied (e.g. TRADE_FINISHED later): applied once only.
    again = notification(keys["alipay"], session, notify_id="another-notify", trade_status="TRADE_FINISHED")
    assert post_notify(again).content == b"success"
    assert PaymentEvent.objects.get(event_id="another-notify").outcome == "already_applied"
    assert LedgerEntry.objects.filter(order_line__order=order).count() == 1
    assert order.history.filter(to_status=OrderStatus.PAID).count() == 1


@pytest.mark.parametrize("forgery", ["wrong_key", "tampered_amount", "other_app", "no_signature", "twice"])
def test_forged_notifications_change_nothing(alipay, order, buyer, keys, forgery, caplog):  # noqa: ANN001
    session = services.start_checkout(order=order, actor=buyer)
    if forgery == "wrong_key":
        data = notification(keys["forger"], session)
    elif forgery == "tampered_amount":  # signed for 50.00, then edited
        data = {**notification(keys["alipay"], session), "total_amount": "0.01"}
    elif forgery == "other_app":  # genuinely signed by Alipay, for another merchant's app
        data = notification(keys["alipay"], session, app_id="2021999999999999")
    elif forgery == "no_signature":
        data = {k: v for k, v in notification(keys["alipay"], session).items() if k != "sign"}
    else:
        data = notification(keys["alipay"], session)
    body = urlencode(data) + ("&trade_status=TRADE_SUCCESS" if forgery == "twice" else "")
    with caplog.at_level("WARNING", logger="zhunong.abuse"):
        r = Client().post(NOTIFY, body, content_type="application/x-www-form-urlencoded")
    assert r.status_code == 400 and r.content.startswith(b"fail")
    assert "refused alipay webhook" in caplog.text
    order.refresh_from_db()
    assert order.status == OrderStatus.RESERVED and not PaymentEvent.objects.exists()


def test_notification_for_a_different_amount_is_refused(alipay, order, buyer, keys):  # noqa: ANN001
    session = services.start_checkout(order=order, actor=buyer)
    data = notification(keys["alipay"], session, total_amount="0.01")  # genuinely signed, wrong amount
    r = post_notify(data)
    assert r.status_code == 400 and b"notify_amount_mismatch" in r.content
    order.refresh_from_db()
    assert order.status == OrderStatus.RESERVED and not PaymentEvent.objects.exists()


def alipay_answer(key: rsa.RSAPrivateKey, method: str, body: dict) -> mock.Mock:
    """What urlopen returns for a synchronous call: the response object, and Alipay's signature of it."""
    inner = json.dumps(body, separators=(",", ":"), ensure_ascii=False)
    raw = f'{{"{method}_response":{inner},"sign":"{_sign(key, inner)}"}}'
    answer = mock.Mock()
    answer.read.return_value = raw.encode()
    return answer


def test_refund_and_query_are_signed_calls_whose_answers_are_verified(alipay, order, buyer, keys, world,  # noqa: ANN001
                                                                      django_capture_on_commit_callbacks):
    session = services.start_checkout(order=order, actor=buyer)
    post_notify(notification(keys["alipay"], session))
    order.refresh_from_db()
    line = order.lines.get()
    ok = alipay_answer(keys["alipay"], "alipay_trade_refund",
                       {"code": "10000", "msg": "Success", "trade_no": order.payment_ref, "fund_change": "Y",
                        "refund_fee": "20.00"})
    with mock.patch("alipay.urlopen", return_value=ok) as urlopen, django_capture_on_commit_callbacks(execute=True):
        orders.refund(order=order, actor=world.operator, amounts={line.pk: Decimal("20.00")}, reason="坏果")
    refund = Refund.objects.get()
    assert refund.status == Refund.Status.SUCCEEDED and refund.attempts == 1
    params = dict(parse_qsl(urlsplit(urlopen.call_args.args[0]).query))
    biz = json.loads(params["biz_content"])
    assert params["method"] == "alipay.trade.refund" and biz == {
        "refund_amount": "20.00", "trade_no": order.payment_ref, "out_request_no": refund.reference}
    # An answer not signed by Alipay is not believed.
    forged = alipay_answer(keys["forger"], "alipay_trade_query",
                           {"code": "10000", "trade_status": "TRADE_SUCCESS", "trade_no": "x", "total_amount": "50.00"})
    with mock.patch("alipay.urlopen", return_value=forged), pytest.raises(Exception) as exc:
        alipay.query(session_ref=session.session_ref)
    assert getattr(exc.value, "code", "") == "gateway_error"
    # Refused by Alipay: the refund is failed and retried, never marked paid back.
    refused = alipay_answer(keys["alipay"], "alipay_trade_refund",
                            {"code": "40004", "msg": "Business Failed", "sub_code": "ACQ.TRADE_HAS_FINISHED"})
    with mock.patch("alipay.urlopen", return_value=refused), django_capture_on_commit_callbacks(execute=True):
        orders.refund(order=order, actor=world.operator, amounts={line.pk: Decimal("5.00")}, reason="少称")
    second = Refund.objects.exclude(pk=refund.pk).get()
    assert second.status == Refund.Status.FAILED and "ACQ.TRADE_HAS_FINISHED" in second.last_error


def test_reconciliation_asks_alipay_about_sessions_without_notification(alipay, order, buyer, keys):  # noqa: ANN001
    session = services.start_checkout(order=order, actor=buyer)
    paid = alipay_answer(keys["alipay"], "alipay_trade_query",
                         {"code": "10000", "msg": "Success", "trade_no": "2026120400001", "out_trade_no":
                          session.session_ref, "trade_status": "TRADE_SUCCESS", "total_amount": "50.00"})
    with mock.patch("alipay.urlopen", return_value=paid):
        assert services.reconcile_payments(older_than_seconds=0)["applied"] == 1
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID and order.payment_ref == "2026120400001"

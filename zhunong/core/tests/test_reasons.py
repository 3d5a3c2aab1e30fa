"""History reasons (stored in English for the machine) are shown translated; typed reasons stay as written."""

from __future__ import annotations

import pytest
from django.utils import translation

from zhunong.core.reasons import reason_label


@pytest.mark.parametrize(("stored", "shown"), [
    ("order placed", "下单"),
    ("payment pi_3Nx9", "支付成功（支付单号 pi_3Nx9）"),
    ("partial refund: after-sales #2: quality", "部分退款：售后申请 #2：质量问题"),
    ("partial refund: after-sales #2", "部分退款：售后申请 #2"),
    ("refund refused: 已发货，请走售后", "拒绝退款：已发货，请走售后"),
    ("cancelled by seller: 缺货", "卖家取消：缺货"),
    ("order cancelled", "订单已取消"),
    ("refunded 12.50", "已退款 ¥12.50"),
    ("auto-confirmed 10 days after shipping", "发货 10 天后自动确认收货"),
    ("damaged: 到货时压坏了", "破损/变质：到货时压坏了"),
    ("started by the media server", "推流开始，自动开播"),
    ("下播", "下播"),
    ("something new: kept", "something new: kept"),
    ("", ""),
])
def test_reason_labels_in_chinese(stored: str, shown: str) -> None:
    with translation.override("zh-hans"):
        assert reason_label(stored) == shown


def test_reason_labels_follow_the_language() -> None:
    with translation.override("en"):
        assert reason_label("order placed") == "Order placed"
        assert reason_label("payment pi_1") == "Paid (payment pi_1)"


@pytest.mark.django_db
def test_order_history_shows_no_english_machine_reasons(client, world) -> None:  # noqa: ANN001
    from zhunong.accounts import roles
    from zhunong.orders import services as orders
    from zhunong.testing import make_user, unique

    buyer = make_user(roles.BUYER)
    product = world.listed_product(stock=5)
    order = orders.create_order(buyer=buyer, lines=[{"product_id": product.pk, "quantity": 1}],
                                idempotency_key=unique("k"))
    orders.mark_paid(order=order, amount=order.total, payment_ref="pi_demo42")
    client.force_login(buyer)
    html = client.get(f"/orders/{order.pk}/").content.decode()
    assert "order placed" not in html and "— payment" not in html
    assert "— 下单" in html and "支付成功（支付单号 pi_demo42）" in html

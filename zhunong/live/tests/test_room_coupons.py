"""In-room coupons on the room page: the banner's claim button posts to the JSON API with the page's
session and CSRF token (room.js), and the frames it reads carry the fields it uses."""

from __future__ import annotations

import re

from django.test import Client

from zhunong.orders import flashsales
from zhunong.orders.models import CouponClaim
from zhunong.testing import PASSWORD, make_user


def test_a_viewer_claims_a_coupon_from_the_room_page_with_its_session(world, monkeypatch):  # noqa: ANN001
    frames = []
    monkeypatch.setattr(flashsales, "publish_room_event",
                        lambda stream_id, event, important=True: frames.append(event))
    product = world.listed_product(stock=20)
    room = world.live_room([product], kind="county_head", pin=product)
    coupon = flashsales.release_coupon(actor=room.host_user, stream=room.stream, kind="amount", value="5",
                                       min_spend="30", total_quantity=2, valid_minutes=30)
    # The frame room.js turns into a banner: a `sale` frame, event `coupon`, with what the banner shows.
    frame = frames[-1]
    assert frame["t"] == "sale" and frame["event"] == "coupon"
    assert {"coupon_id", "kind", "value", "min_spend", "remaining"} <= set(frame)

    viewer = make_user()
    browser = Client(enforce_csrf_checks=True)
    assert browser.login(username=viewer.username, password=PASSWORD)
    page = browser.get(f"/live/{room.stream.pk}/").content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    url = f"/api/v1/coupons/{coupon.pk}/claim"
    assert browser.post(url).status_code == 403  # no CSRF token: a forged cross-site post claims nothing
    assert not CouponClaim.objects.exists()
    claimed = browser.post(url, HTTP_X_CSRFTOKEN=token)
    assert claimed.status_code == 201 and claimed.json()["coupon"]["code"] == coupon.code
    again = browser.post(url, HTTP_X_CSRFTOKEN=token)
    assert again.status_code == 409 and again.json()["code"] == "coupon_already_claimed"
    assert CouponClaim.objects.filter(buyer=viewer).count() == 1
    # The newcomer's list (room.js loadCoupons) shows what is left.
    listed = Client().get(f"/api/v1/streams/{room.stream.pk}/coupons").json()
    assert [(c["id"], c["remaining"]) for c in listed] == [(coupon.pk, 1)]


def test_anonymous_viewers_are_sent_to_log_in(world):  # noqa: ANN001
    product = world.listed_product(stock=20)
    room = world.live_room([product], kind="county_head", pin=product)
    page = Client().get(f"/live/{room.stream.pk}/").content.decode()
    assert '<div hidden><input type="hidden" name="csrfmiddlewaretoken"' not in page  # the room's own token
    assert 'data-login-url="/accounts/login/?next=' in page  # where the claim button leads instead


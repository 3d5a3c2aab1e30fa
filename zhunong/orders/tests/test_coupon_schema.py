"""A coupon's value is what its kind says, in the schema (issue 17): a percent coupon takes a whole 1-90."""

from __future__ import annotations

import pytest
from django.test import Client

from zhunong.accounts.services import issue_token
from zhunong.orders.models import Coupon
from zhunong.testing import PASSWORD


@pytest.fixture
def release(world):  # noqa: ANN001, ANN201
    product = world.listed_product(stock=50, price="39.90")
    room = world.live_room([product], kind="county_head", pin=product)
    _, raw = issue_token(username=room.host_user.username, password=PASSWORD)
    client = Client()

    def post(**body):  # noqa: ANN003, ANN202
        body = {"total_quantity": 5, "valid_minutes": 10, **body}
        return client.post(f"/api/v1/streams/{room.stream.pk}/coupons", body, content_type="application/json",
                           HTTP_AUTHORIZATION=f"Bearer {raw}")
    return post


@pytest.mark.parametrize("value", [0, 91, "91", "12.5", "10.00", 12.5, True, " 10", "+5"])
def test_a_percent_the_schema_refuses_is_refused_and_nothing_is_made(release, value):  # noqa: ANN001
    answer = release(kind="percent", value=value)
    assert answer.status_code == 422, answer.content
    assert answer.json()["code"] == "invalid"
    assert not Coupon.objects.exists()


@pytest.mark.parametrize("value", [1, 90, "15", 10, 20.0])
def test_a_whole_percent_is_taken(release, value):  # noqa: ANN001
    answer = release(kind="percent", value=value)
    assert answer.status_code == 201, answer.content
    assert answer.json()["kind"] == "percent" and answer.json()["value"] == f"{int(value)}.00"


def test_an_amount_keeps_its_own_rules(release):  # noqa: ANN001
    assert release(kind="amount", value="12.50").status_code == 201
    assert release(kind="amount", value=120).status_code == 201
    # Below the minimum spend: a rule between two fields that the schema does not say (declared 422 invalid).
    answer = release(kind="amount", value="5", min_spend="5")
    assert answer.status_code == 422 and answer.json()["details"]["field"] == "value"
    assert release(kind="bogus", value=5).status_code == 422
    assert release(value=5).status_code == 422


def test_the_document_says_the_kind_decides(client):  # noqa: ANN001
    doc = client.get("/api/v1/openapi.json").json()
    body = doc["paths"]["/api/v1/streams/{stream_id}/coupons"]["post"]["requestBody"]["content"]["application/json"]
    assert body["schema"]["discriminator"]["propertyName"] == "kind"
    percent = doc["components"]["schemas"]["PercentCouponIn"]["properties"]["value"]
    assert {"type": "integer", "minimum": 1, "maximum": 90} in percent["anyOf"]

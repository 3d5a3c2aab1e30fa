"""Who reads a stream's full record (the record page) and its minute series (the API): `stream.audit`,
regulators over their own region only, like every other regulator read."""

from __future__ import annotations

import pytest

from zhunong.accounts import roles
from zhunong.testing import api_auth, build_world, make_user

pytestmark = pytest.mark.django_db

ROLES = ["platform_admin", "county_operator", "other_operator", "regulator", "other_regulator", "host", "buyer",
         "anonymous"]
# role -> (record page, minutes API)
EXPECTED = {
    "platform_admin": (200, 200),
    "county_operator": (200, 200),
    "other_operator": (403, 403),
    "regulator": (200, 200),
    "other_regulator": (403, 403),
    "host": (200, 200),
    "buyer": (403, 403),
    "anonymous": (302, 401),
}


@pytest.mark.parametrize("role", ROLES)
def test_record_and_minutes_per_role(client, world, role):
    room = world.live_room()
    other = build_world()
    user = {
        "platform_admin": make_user(roles.PLATFORM_ADMIN),
        "county_operator": world.operator,
        "other_operator": other.operator,
        "regulator": world.regulator,
        "other_regulator": other.regulator,
        "host": room.host_user,
        "buyer": make_user(roles.BUYER),
        "anonymous": None,
    }[role]
    if user is not None:
        client.force_login(user)
    page = client.get(f"/live/{room.stream.pk}/record/")
    client.logout()
    minutes = client.get(f"/api/v1/live/streams/{room.stream.pk}/minutes", **(api_auth(user) if user else {}))
    assert (page.status_code, minutes.status_code) == EXPECTED[role]
    if minutes.status_code == 403:
        assert minutes.json()["code"] == "permission_denied"

"""A co-op's members and share schemes page (/insights/coops/<id>/members/): who sees it, what it shows, and
that recording a member, new shares or a new scheme goes through the services (a refusal changes nothing)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from zhunong.accounts import roles
from zhunong.insights.tests.test_income import Coop
from zhunong.producers import services as producers
from zhunong.producers.models import FixedShare, Membership, ShareScheme
from zhunong.testing import make_regions, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def scene(world):  # noqa: ANN001, ANN201
    scene = Coop(world)
    scene.fixed_shares("2", "1", "1")
    scene.manager = make_user(roles.PRODUCER_MANAGER, region=world.county)
    scene.coop.managers.add(scene.manager)
    return scene


def url(scene) -> str:  # noqa: ANN001
    return reverse("insights:coop_members", args=[scene.coop.pk])


def test_operator_and_manager_see_members_with_their_current_share_and_the_history(client, scene):  # noqa: ANN001
    for user in (scene.world.operator, scene.manager):
        client.force_login(user)
        page = client.get(url(scene))
        html = page.content.decode()
        assert page.status_code == 200
        assert "固定份额" in html and scene.joined.isoformat() in html
        rows = {row.split("</td>")[0].split(">")[-1]: row for row in html.split("<tr")}
        for member, percent in ((scene.poor, "50.0%"), (scene.other, "25.0%"), (scene.poor2, "25.0%")):
            assert percent in rows[member.name], member.name
    # Linked from the co-op's board and from the produce-to-demand plans, not reachable only by URL.
    board = client.get(reverse("insights:producer", args=[scene.coop.pk])).content.decode()
    assert url(scene) in board


def test_other_county_operator_and_a_buyer_are_refused(client, scene):  # noqa: ANN001
    other = make_regions("OTHERCO")
    for user in (make_user(roles.COUNTY_OPERATOR, region=other["county"]), make_user(roles.BUYER)):
        client.force_login(user)
        assert client.get(url(scene)).status_code == 403
        response = client.post(url(scene), {"action": "scheme", "basis": "quantity",
                                            "effective_from": timezone.localdate().isoformat()})
        assert response.status_code == 403
    assert ShareScheme.objects.filter(coop=scene.coop).count() == 1


def test_record_a_member_change_shares_and_switch_the_scheme(client, scene):  # noqa: ANN001
    client.force_login(scene.manager)
    newcomer = producers.create_producer(actor=scene.world.operator, name="赵家果园", village=scene.world.village)
    today = timezone.localdate()
    response = client.post(url(scene), {"action": "join", "member": newcomer.pk, "joined_on": today.isoformat()})
    assert response.status_code == 302
    assert Membership.objects.filter(coop=scene.coop, member=newcomer, joined_on=today).exists()
    # New fixed shares from tomorrow, one for each member of that day.
    tomorrow = today + dt.timedelta(days=1)
    members = (scene.poor, scene.other, scene.poor2, newcomer)
    data = {"action": "scheme", "basis": "fixed", "effective_from": tomorrow.isoformat(), "note": "新社员入股"}
    data.update({f"share_{m.pk}": "1" for m in members})
    assert client.post(url(scene), data).status_code == 302
    scheme = ShareScheme.objects.get(coop=scene.coop, effective_from=tomorrow)
    assert dict(FixedShare.objects.filter(scheme=scheme).values_list("member_id", "share")) == {m.pk: 1 for m in members}
    # Switch to shares by quantity delivered.
    later = today + dt.timedelta(days=2)
    assert client.post(url(scene), {"action": "scheme", "basis": "quantity",
                                    "effective_from": later.isoformat()}).status_code == 302
    html = client.get(url(scene)).content.decode()
    assert "按交售数量" in html and "新社员入股" in html and later.isoformat() in html


def test_bad_input_is_explained_and_changes_nothing(client, scene):  # noqa: ANN001
    client.force_login(scene.world.operator)
    before = (ShareScheme.objects.count(), FixedShare.objects.count(), Membership.objects.count())
    today = timezone.localdate().isoformat()
    # A fixed scheme missing a member's share.
    response = client.post(url(scene), {"action": "scheme", "basis": "fixed", "effective_from": today,
                                        f"share_{scene.poor.pk}": "1"})
    assert response.status_code == 422
    html = response.content.decode()
    assert "invalid_shares" in html and scene.other.name in html
    # The same day as the scheme already recorded.
    response = client.post(url(scene), {"action": "scheme", "basis": "batch",
                                        "effective_from": scene.joined.isoformat()})
    assert response.status_code == 422 and "share_scheme_exists" in response.content.decode()
    # An unknown basis, a malformed date, a member already in, nobody chosen.
    assert client.post(url(scene), {"action": "scheme", "basis": "lottery", "effective_from": today}).status_code == 422
    assert client.post(url(scene), {"action": "scheme", "basis": "batch", "effective_from": "明天"}).status_code == 422
    response = client.post(url(scene), {"action": "join", "member": scene.poor.pk, "joined_on": today})
    assert response.status_code == 422 and "already_member" in response.content.decode()
    assert client.post(url(scene), {"action": "join", "member": "", "joined_on": today}).status_code == 422
    assert (ShareScheme.objects.count(), FixedShare.objects.count(), Membership.objects.count()) == before


def test_not_a_coop_is_404(client, scene):  # noqa: ANN001
    client.force_login(scene.world.operator)
    assert client.get(reverse("insights:coop_members", args=[scene.poor.pk])).status_code == 404

"""The demo's open cases (zhunong.demo.casework): made through the services, each in the state its decision
waits in, and a second run changes nothing."""

from __future__ import annotations

from io import StringIO

import pytest

from zhunong.demo import casework
from zhunong.demo import live as live_demo
from zhunong.demo import orders as orders_demo
from zhunong.demo import world as core_demo
from zhunong.fulfilment.models import AfterSalesRequest, Complaint, PledgeClaim, Review, Shipment
from zhunong.live import approvals
from zhunong.live.models import Stream, StreamStatus
from zhunong.notifications.models import Notification
from zhunong.supervision.models import IntegrityFlag

pytestmark = pytest.mark.django_db


def test_open_cases_through_the_services_and_idempotent():
    core_demo.seed()
    live_demo.seed(stdout=StringIO(), dry_run=False)
    orders_demo.seed(stdout=StringIO(), dry_run=False)  # its flash sale: the claims' orders avoid its product
    out = StringIO()
    created = casework.seed(stdout=out, dry_run=False)
    assert created["pledges"] == 1 and created["pledge claims"] == 3, out.getvalue()
    claims = PledgeClaim.objects.select_related("pledge__stream")
    assert sorted(claims.values_list("status", flat=True)) == ["submitted", "under_review", "upheld"]
    assert all(c.pledge.stream.status == StreamStatus.LIVE and c.order.stream_id == c.pledge.stream_id for c in claims)
    assert claims.first().pledge.funded_by == "platform_fund"  # the live stream's host is a public servant
    # `buyer` bought in the stream and has not claimed.
    assert casework.Order.objects.filter(buyer__username="buyer", stream__isnull=False).exists()
    assert sorted(AfterSalesRequest.objects.filter(buyer__username="buyer").values_list("status", flat=True)) == [
        "approved", "requested", "requested"]
    parcels = Shipment.objects.filter(order__buyer__username="buyer")
    assert parcels.filter(status="shipped").count() == 2
    delivered = parcels.filter(status="delivered", tracking_number="ZT7300200703").get()
    assert not Review.objects.filter(line__order=delivered.order).exists()
    assert Complaint.objects.filter(order__buyer__username="buyer", status="open").count() == 1
    waiting = Stream.objects.get(title="安化黑茶助农专场：县领导讲茶乡振兴")
    assert waiting.status == StreamStatus.SCHEDULED and approvals.needs_approval(waiting)
    assert approvals.latest_approval(waiting) is None
    villager = Stream.objects.get(title="茯砖茶作坊：看合作社压砖")
    assert villager.status == StreamStatus.LIVE and not villager.host.is_public_servant
    flag = IntegrityFlag.objects.get(status="open")
    assert flag.kind == "quota" and flag.region.code == casework.MAIN_COUNTY_CODE
    unread = Notification.objects.filter(read_at__isnull=True)
    for username in ("operator", "jijian", "coop", "buyer"):
        assert unread.filter(user__username=username).exists(), username

    counts = (PledgeClaim.objects.count(), AfterSalesRequest.objects.count(), Notification.objects.count(),
              Stream.objects.count(), IntegrityFlag.objects.count())
    again = StringIO()
    assert not casework.seed(stdout=again, dry_run=False)
    assert "open cases present" in again.getvalue()
    assert (PledgeClaim.objects.count(), AfterSalesRequest.objects.count(), Notification.objects.count(),
            Stream.objects.count(), IntegrityFlag.objects.count()) == counts

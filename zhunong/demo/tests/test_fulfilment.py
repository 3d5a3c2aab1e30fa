from io import StringIO

import pytest

from zhunong.demo import fulfilment as demo
from zhunong.demo import world as core_demo
from zhunong.fulfilment.models import AfterSalesRequest, Complaint, Review, Shipment
from zhunong.orders.models import Order, OrderStatus

pytestmark = pytest.mark.django_db


def test_demo_stories_through_the_services_and_idempotent():
    core_demo.seed()
    out = StringIO()
    created = demo.seed(stdout=out, dry_run=False)
    assert created["orders"] == len(demo.STORIES), out.getvalue()
    assert "skipped" not in out.getvalue()
    assert Review.objects.count() == 4
    assert Review.objects.filter(rating=3, text__contains="包装太大").exists()
    assert AfterSalesRequest.objects.get().status == "refunded"
    assert Complaint.objects.get().category == "delivery"
    assert Order.objects.filter(status=OrderStatus.DELIVERED).count() == 4
    assert Shipment.objects.filter(status="shipped").count() == 1
    assert Shipment.objects.filter(status="pending").count() == 1
    again = StringIO()
    assert not demo.seed(stdout=again, dry_run=False)
    assert "nothing changed" in again.getvalue()
    assert Review.objects.count() == 4 and Order.objects.count() == len(demo.STORIES)

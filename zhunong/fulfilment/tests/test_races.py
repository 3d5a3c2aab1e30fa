"""Two people pressing the same button at once: the row locks in the services let exactly one win."""

import threading

import pytest
from django.db import close_old_connections

from zhunong.core.errors import DomainError
from zhunong.fulfilment.models import Review, Shipment, ShipmentTransition
from zhunong.fulfilment.services import reviews as review_services
from zhunong.fulfilment.services import shipments as shipment_services

from .conftest import paid_order

pytestmark = pytest.mark.django_db(transaction=True)


def _together(*calls):  # noqa: ANN002, ANN202
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def run(i, call):  # noqa: ANN001, ANN202
        try:
            barrier.wait(timeout=10)
            results[i] = call()
        except DomainError as exc:
            results[i] = exc
        finally:
            close_old_connections()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    return results


def test_concurrent_shipping_and_reviews(fw):
    order = paid_order(fw.buyer, [(fw.product, 1)])
    shipment = order.shipments.get()
    results = _together(
        lambda: shipment_services.ship_shipment(actor=fw.manager, shipment=shipment, carrier="sf", tracking_number="SF00000001"),
        lambda: shipment_services.ship_shipment(actor=fw.operator, shipment=shipment, carrier="ems",
                                                tracking_number="EMS00000002"),
    )
    assert sum(isinstance(r, Shipment) for r in results) == 1, results
    assert sum(isinstance(r, DomainError) and r.code == "invalid_transition" for r in results) == 1
    assert ShipmentTransition.objects.filter(shipment=shipment, to_status="shipped").count() == 1
    shipment_services.confirm_delivery(actor=fw.buyer, shipment=shipment)
    line = order.lines.get()
    results = _together(*[lambda: review_services.create_review(actor=fw.buyer, line=line, rating=5)] * 3)
    assert sum(isinstance(r, Review) for r in results) == 1, results
    assert all(isinstance(r, Review) or r.code == "already_reviewed" for r in results)
    assert Review.objects.count() == 1

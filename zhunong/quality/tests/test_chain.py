"""Processing, packing, shipping and receiving: the services that extend a batch's chain."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from zhunong.accounts import roles
from zhunong.core.errors import PermissionDenied, ValidationFailed
from zhunong.producers import services as producers
from zhunong.quality import selectors, services
from zhunong.quality.errors import CannotRecordChain, InputExceedsBatch
from zhunong.quality.models import TraceEvent
from zhunong.testing import build_world, make_user

pytestmark = pytest.mark.django_db


def hours_ago(n: int) -> dt.datetime:
    return timezone.now() - dt.timedelta(hours=n)


def test_transformation_links_every_input_and_counts_what_is_used(world):
    other = world.new_batch(quantity="200", unit="jin")
    event = services.record_transformation(
        actor=world.operator, inputs=[services.InputUse(batch=world.batch, quantity="600"),
                                      services.InputUse(batch=other, quantity="100", unit="kg")],
        output_name="蓝莓果干", output_lot="GG-01", output_quantity="90", output_unit="jin", processed_at=hours_ago(2))
    assert event.event_type == "TransformationEvent" and event.action == ""
    assert set(event.linked_batches.all()) == {world.batch, other}
    assert event.payload["inputs"][1] == {"trace_code": other.trace_code, "quantity": "100", "unit": "kg"}
    assert selectors.consumed_quantity(world.batch) == 600
    assert selectors.consumed_quantity(other) == 200  # 100 kg is 200 jin: the whole batch
    # Neither batch can be used again beyond what is left.
    with pytest.raises(InputExceedsBatch):
        services.record_transformation(
            actor=world.operator, inputs=[services.InputUse(batch=other, quantity="1")], output_name="果酱",
            output_lot="GJ-01", output_quantity="1", output_unit="jin", processed_at=hours_ago(1))
    services.record_transformation(
        actor=world.operator, inputs=[services.InputUse(batch=world.batch, quantity="200")], output_name="果酱",
        output_lot="GJ-01", output_quantity="150", output_unit="jin", processed_at=hours_ago(1))
    assert selectors.consumed_quantity(world.batch) == 800
    assert set(selectors.transformation_outputs(world.batch)) == {"GG-01", "GJ-01"}


@pytest.mark.parametrize("change, field", [
    ({"output_lot": "含中文"}, "output_lot"),
    ({"output_lot": "X" * 21}, "output_lot"),
    ({"output_quantity": "-1"}, "output_quantity"),
    ({"output_quantity": "abc"}, "output_quantity"),
    ({"output_unit": "ton"}, "output_unit"),
    ({"output_name": "果\x00干"}, "output_name"),
    ({"processed_at": "2024-01-01"}, "processed_at"),
])
def test_transformation_rejects_bad_input_and_writes_nothing(world, change, field):
    before = TraceEvent.objects.count()
    kwargs = {"actor": world.operator, "inputs": [services.InputUse(batch=world.batch, quantity="10")],
              "output_name": "蓝莓果干", "output_lot": "GG-01", "output_quantity": "2", "output_unit": "jin",
              "processed_at": hours_ago(1), **change}
    with pytest.raises(ValidationFailed) as exc:
        services.record_transformation(**kwargs)
    assert exc.value.details.get("field") == field
    assert TraceEvent.objects.count() == before


def test_transformation_dates_units_and_duplicates(world):
    use = [services.InputUse(batch=world.batch, quantity="10")]
    common = {"actor": world.operator, "output_name": "果干", "output_quantity": "1", "output_unit": "jin"}
    before_harvest = timezone.make_aware(dt.datetime.combine(world.batch.harvested_on - dt.timedelta(days=1),
                                                             dt.time(9)))
    with pytest.raises(ValidationFailed, match="before the harvest"):
        services.record_transformation(inputs=use, output_lot="A1", processed_at=before_harvest, **common)
    with pytest.raises(ValidationFailed, match="future"):
        services.record_transformation(inputs=use, output_lot="A1", processed_at=timezone.now() + dt.timedelta(days=1),
                                       **common)
    with pytest.raises(ValidationFailed, match="does not convert"):
        services.record_transformation(inputs=[services.InputUse(batch=world.batch, quantity="1", unit="box")],
                                       output_lot="A1", processed_at=hours_ago(1), **common)
    with pytest.raises(ValidationFailed, match="at least one"):
        services.record_transformation(inputs=[], output_lot="A1", processed_at=hours_ago(1), **common)
    services.record_transformation(inputs=use, output_lot="A1", processed_at=hours_ago(1), **common)
    with pytest.raises(ValidationFailed, match="already recorded"):
        services.record_transformation(inputs=use, output_lot="A1", processed_at=hours_ago(1), **common)


def test_only_the_producers_manager_or_county_operator_records_processing(world):
    manager = make_user(roles.PRODUCER_MANAGER)
    world.producer.managers.add(manager)
    other_county = build_world()
    kwargs = {"inputs": [services.InputUse(batch=world.batch, quantity="1")], "output_name": "果干",
              "output_quantity": "1", "output_unit": "jin", "processed_at": hours_ago(1)}
    for actor in (make_user(roles.BUYER), world.regulator, other_county.operator, make_user(roles.PRODUCER_MANAGER)):
        with pytest.raises(CannotRecordChain):
            services.record_transformation(actor=actor, output_lot="N1", **kwargs)
    assert services.record_transformation(actor=manager, output_lot="M1", **kwargs).recorded_by == manager
    assert not TraceEvent.objects.filter(payload__output__lot="N1").exists()


def test_packing_of_a_batch_and_of_a_processed_lot(world):
    first = services.record_packing(actor=world.operator, batch=world.batch, packed_at=hours_ago(3), cases=2,
                                    packs_per_case=10, pack_unit="box")
    assert first.event_type == "AggregationEvent" and first.payload["first_case"] == 1
    second = services.record_packing(actor=world.operator, batch=world.batch, packed_at=hours_ago(2), cases=3,
                                     packs_per_case=10)
    assert second.payload["first_case"] == 3  # case numbers continue: every case id stays unique
    with pytest.raises(ValidationFailed, match="not a lot processed"):
        services.record_packing(actor=world.operator, batch=world.batch, packed_at=hours_ago(1), cases=1,
                                packs_per_case=1, lot="NOPE")
    services.record_transformation(actor=world.operator, inputs=[services.InputUse(batch=world.batch, quantity="100")],
                                   output_name="果干", output_lot="GG-01", output_quantity="20", output_unit="jin",
                                   processed_at=hours_ago(5))
    with pytest.raises(ValidationFailed, match="before the lot was processed"):
        services.record_packing(actor=world.operator, batch=world.batch, packed_at=hours_ago(6), cases=1,
                                packs_per_case=1, lot="GG-01")
    packed = services.record_packing(actor=world.operator, batch=world.batch, packed_at=hours_ago(1), cases=1,
                                     packs_per_case=40, pack_unit="bag", lot="GG-01")
    assert packed.payload["lot"] == "GG-01"


@pytest.mark.parametrize("cases, per_case", [(0, 1), (1, 0), (501, 1), (1, 201), (100, 100), ("2", 1), (True, 1)])
def test_packing_rejects_bad_counts(world, cases, per_case):
    with pytest.raises(ValidationFailed):
        services.record_packing(actor=world.operator, batch=world.batch, packed_at=hours_ago(1), cases=cases,
                                packs_per_case=per_case)
    assert not TraceEvent.objects.filter(event_type="AggregationEvent").exists()


def test_packing_needs_rights(world):
    with pytest.raises(PermissionDenied):
        services.record_packing(actor=make_user(roles.BUYER), batch=world.batch, packed_at=hours_ago(1), cases=1,
                                packs_per_case=1)


def test_shipment_and_receipt_keep_places_coarse_and_are_idempotent(world):
    regions = world.regions  # a second tree stands for the buyer's home
    buyer_village = build_world().village
    shipped = services.record_shipment(batch=world.batch, shipped_at=hours_ago(20), carrier="邮政EMS",
                                       region=regions["village"], destination=buyer_village, quantity="2",
                                       unit="box", reference="shipment-17")
    assert shipped.biz_step == "shipping" and shipped.payload["disposition"] == "in_transit"
    assert shipped.region == regions["village"]  # observed leaving the producer's village
    assert shipped.payload["destination"] == buyer_village.ancestor_at("city").code  # never the village
    assert shipped.payload["carrier"] == "邮政EMS"
    again = services.record_shipment(batch=world.batch, shipped_at=hours_ago(19), carrier="顺丰",
                                     region=None, reference="shipment-17")
    assert again.pk == shipped.pk
    received = services.record_receipt(batch=world.batch, received_at=hours_ago(1), region=buyer_village,
                                       quantity="2", unit="box", reference="shipment-17")
    assert received.biz_step == "receiving" and received.region == buyer_village.ancestor_at("city")
    assert TraceEvent.objects.filter(batch=world.batch, biz_step__in=["shipping", "receiving"]).count() == 2
    # Without a shipping point, the parcel is observed leaving the batch's county.
    plain = services.record_shipment(batch=world.batch, shipped_at=hours_ago(1), carrier="EMS", region=None)
    assert plain.region == regions["county"] and "destination" not in plain.payload and "quantity" not in plain.payload


def test_shipment_rejects_bad_input(world):
    with pytest.raises(ValidationFailed):
        services.record_shipment(batch=world.batch, shipped_at=timezone.now() + dt.timedelta(days=2), carrier="EMS",
                                 region=None)
    with pytest.raises(ValidationFailed):
        services.record_shipment(batch=world.batch, shipped_at=hours_ago(1), carrier="", region=None)
    with pytest.raises(ValidationFailed):
        services.record_shipment(batch=world.batch, shipped_at=hours_ago(1), carrier="EMS", region=None,
                                 quantity="-3")
    with pytest.raises(ValidationFailed):
        services.record_shipment(batch=world.batch, shipped_at=hours_ago(1), carrier="E" * 51, region=None)
    assert not TraceEvent.objects.filter(biz_step="shipping").exists()


def test_every_event_links_its_batch(world):
    batch = producers.create_batch(actor=world.operator, plot=world.plot, harvested_on=timezone.localdate(),
                                   quantity="5", unit="kg")
    world.inspect(batch)
    for event in TraceEvent.objects.filter(batch=batch):
        assert batch in event.linked_batches.all()
        assert event.event_uuid is not None

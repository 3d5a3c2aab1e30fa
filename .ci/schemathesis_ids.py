"""The demo county's own objects, for schemathesis to use as ids (issue 17: no operation left untested for want
of data).

    DJANGO_SETTINGS_MODULE=zhunong.settings python .ci/schemathesis_ids.py <role username> >> schemathesis.toml

Run against the seeded demo database (before the server starts). It prints schemathesis configuration: one
dictionary per kind of object (`[dictionaries.<name>]`, looked up by what the object is -- the open after-sales
requests, the claims under review, the role's unread notifications...) and, operation by operation, which
parameter draws from it (`parameters = {"path.request_id" = {dictionary = ..., probability = ...}}`). A drawn
value replaces a generated one with that probability, so the operations reach real objects in the state they
act on while the rest of the cases stay generated. Nothing here is a fixed number: the ids are whatever the
seed made. An operation whose objects the role cannot act on gets the values anyway; its answers are the
declared 403/404/409.
"""

from __future__ import annotations

import datetime as dt
import json
import sys

import django

django.setup()

from django.utils import timezone  # noqa: E402

from zhunong.accounts.models import User  # noqa: E402
from zhunong.catalog.models import ListingStatus, Product, ProductImage  # noqa: E402
from zhunong.demo.world import MAIN_COUNTY_CODE, PASSWORD, demo_identity  # noqa: E402
from zhunong.fulfilment.models import (  # noqa: E402
    AfterSalesRequest,
    AfterSalesStatus,
    ClaimStatus,
    Complaint,
    ComplaintStatus,
    Pledge,
    PledgeClaim,
    Review,
    Shipment,
    ShipmentStatus,
)
from zhunong.live.models import Host, Stream, StreamStatus  # noqa: E402
from zhunong.notifications.models import Notification  # noqa: E402
from zhunong.orders.models import Coupon, FlashSale, OrderLine, OrderStatus  # noqa: E402
from zhunong.producers.models import HarvestBatch as Batch  # noqa: E402
from zhunong.producers.models import Region  # noqa: E402
from zhunong.supervision.models import IntegrityFlag  # noqa: E402
from zhunong.video.models import Replay  # noqa: E402

PAID = (OrderStatus.PAID, OrderStatus.SHIPPED, OrderStatus.DELIVERED)


def ids(queryset, field: str = "pk", limit: int = 5) -> list:  # noqa: ANN001
    return list(queryset.order_by("pk").values_list(field, flat=True).distinct()[:limit])


def lookups(role: str) -> list[tuple[list[str], str, str, list, float]]:
    """(operationIds, parameter, dictionary name, values, probability) for this role's run."""
    county = Region.objects.get(code=MAIN_COUNTY_CODE)
    under = {"channel__county": county}
    user = User.objects.get(username=role)
    streams = Stream.objects.filter(**under)
    live = ids(streams.filter(status=StreamStatus.LIVE))
    scheduled = ids(streams.filter(status=StreamStatus.SCHEDULED))
    own_streams = ids(streams.filter(host__user=user, status__in=(StreamStatus.LIVE, StreamStatus.SCHEDULED)))
    shelf = ids(Product.objects.filter(streams__pk__in=live, status=ListingStatus.LISTED))
    products = Product.objects.filter(origin__path__startswith=county.path)
    requests = AfterSalesRequest.objects.filter(producer__village__path__startswith=county.path)
    asked = ids(requests.filter(status=AfterSalesStatus.REQUESTED))
    claims = PledgeClaim.objects.filter(pledge__stream__channel__county=county)
    buyer_lines = OrderLine.objects.filter(order__buyer=user)
    shipments = Shipment.objects.filter(order__buyer=user, status=ShipmentStatus.SHIPPED)
    images = ProductImage.objects.filter(product__origin__path__startswith=county.path)
    hosts = Host.objects.filter(channel__county=county, verified_at__isnull=False).select_related("user")
    host = hosts.order_by("pk").first()
    real_name, id_number = demo_identity(host.user.username, county.code, host.kind) if host else ("", "")
    start = timezone.now() + dt.timedelta(days=2)
    found = [
        # Sign-in with the demo's own login (the rest of the cases are generated names and passwords).
        (["zhunong_accounts_api_obtain_token"], "body.username", "username", [role], 0.5),
        (["zhunong_accounts_api_obtain_token"], "body.password", "password", [PASSWORD], 0.5),
        # The county's streams: live now, scheduled, the role's own.
        (["zhunong_live_api_hosts_mark_segment", "zhunong_live_api_pin_product", "zhunong_live_api_unpin_product",
          "zhunong_live_api_send_gift", "zhunong_orders_api_start_flash_sale", "zhunong_orders_api_release_coupon"],
         "path.stream_id", "live_streams", live, 0.5),
        (["zhunong_live_api_pin_product"], "body.product_id", "live_shelf", shelf, 0.5),
        (["zhunong_live_api_start_stream", "zhunong_supervision_api_decide_approval"], "path.stream_id",
         "scheduled_streams", scheduled, 0.5),
        (["zhunong_fulfilment_api_create_pledge"], "path.stream_id", "open_streams", live + scheduled, 0.5),
        (["zhunong_video_api_stream_key", "zhunong_video_api_rotate_stream_key"], "path.stream_id", "own_streams",
         own_streams or live, 0.5),
        (["zhunong_live_api_schedule_stream"], "body.host_id", "hosts", ids(hosts), 0.5),
        (["zhunong_live_api_schedule_stream"], "body.product_ids[*]", "listed", ids(
            products.filter(status=ListingStatus.LISTED)), 0.5),
        (["zhunong_live_api_schedule_stream"], "body.planned_start", "planned_start", [start.isoformat()], 0.5),
        (["zhunong_live_api_schedule_stream"], "body.planned_end", "planned_end",
         [(start + dt.timedelta(hours=2)).isoformat()], 0.5),
        (["zhunong_orders_api_cancel_flash_sale"], "path.sale_id", "flash_sales",
         ids(FlashSale.objects.filter(stream__channel__county=county)), 0.5),
        (["zhunong_orders_api_claim_coupon"], "path.coupon_id", "coupons",
         ids(Coupon.objects.filter(stream__channel__county=county)), 0.5),
        # A host's identity as recorded (the same number again keeps the verification).
        (["zhunong_live_api_hosts_put_identity"], "path.host_id", "identity_host", [host.pk] if host else [], 0.5),
        (["zhunong_live_api_hosts_put_identity"], "body.real_name", "real_name", [real_name] if host else [], 0.5),
        (["zhunong_live_api_hosts_put_identity"], "body.id_number", "id_number", [id_number] if host else [], 0.5),
        # Catalogue and trace.
        (["zhunong_catalog_api_list_product"], "path.product_id", "listable",
         ids(products.filter(status__in=(ListingStatus.AWAITING_INSPECTION, ListingStatus.DELISTED))), 0.5),
        (["zhunong_catalog_api_photos_update_photo", "zhunong_catalog_api_photos_delete_photo"], "path.product_id",
         "photo_product", ids(images, "product_id", 1), 1.0),
        (["zhunong_catalog_api_photos_update_photo", "zhunong_catalog_api_photos_delete_photo"], "path.image_id",
         "photos", ids(images.filter(product_id__in=ids(images, "product_id", 1))), 0.5),
        (["zhunong_producers_api_create_producer", "zhunong_producers_api_update_producer"], "body.village_id",
         "villages", ids(Region.objects.filter(path__startswith=county.path, level="village")), 0.5),
        (["zhunong_quality_api_trace", "zhunong_quality_api_trace_epcis"], "path.code", "trace_codes",
         ids(Batch.objects.filter(plot__producer__village__path__startswith=county.path), "trace_code"), 0.5),
        (["zhunong_quality_api_create_inspection"], "body.trace_code", "uninspected",
         ids(Batch.objects.filter(plot__producer__village__path__startswith=county.path, inspections__isnull=True),
             "trace_code"), 0.5),
        (["zhunong_video_api_replay"], "path.replay_id", "replays", ids(Replay.objects.filter(**{
            "stream__channel__county": county})), 0.5),
        # Cases waiting for a decision, each operation on the ones in the state it acts on.
        # Approving and rejecting both close a request: each gets its own.
        (["zhunong_fulfilment_api_approve"], "path.request_id", "requests_to_approve", asked[:1], 0.5),
        (["zhunong_fulfilment_api_reject"], "path.request_id", "requests_to_reject", asked[1:], 0.5),
        (["zhunong_fulfilment_api_refund"], "path.request_id", "requests_approved",
         ids(requests.filter(status=AfterSalesStatus.APPROVED)), 0.5),
        (["zhunong_fulfilment_api_review_claim"], "path.claim_id", "claims_submitted",
         ids(claims.filter(status=ClaimStatus.SUBMITTED)), 0.5),
        (["zhunong_fulfilment_api_decide_claim"], "path.claim_id", "claims_under_review",
         ids(claims.filter(status=ClaimStatus.UNDER_REVIEW)), 0.5),
        (["zhunong_fulfilment_api_compensate_claim"], "path.claim_id", "claims_upheld",
         ids(claims.filter(status=ClaimStatus.UPHELD)), 0.5),
        (["zhunong_fulfilment_api_complaint_status"], "path.complaint_id", "complaints_open",
         ids(Complaint.objects.filter(region__path__startswith=county.path,
                                      status__in=(ComplaintStatus.OPEN, ComplaintStatus.IN_PROGRESS))), 0.5),
        (["zhunong_supervision_api_get_flag", "zhunong_supervision_api_review_flag"], "path.flag_id", "flags_open",
         ids(IntegrityFlag.objects.filter(region=county, status=IntegrityFlag.Status.OPEN)), 0.5),
        (["zhunong_notifications_api_read_notification"], "path.notification_id", "unread",
         ids(Notification.objects.filter(user=user, read_at__isnull=True)), 0.5),
        # The buyer's own orders, lines, parcels and the pledge of the stream they bought in.
        (["zhunong_payments_api_pay_order", "zhunong_orders_api_put_shipping_address", "zhunong_orders_api_cancel"],
         "path.order_id", "orders_reserved", ids(user.orders.filter(status=OrderStatus.RESERVED)), 0.5),
        (["zhunong_fulfilment_api_confirm"], "path.shipment_id", "parcels_shipped", ids(shipments), 0.5),
        (["zhunong_fulfilment_api_confirm_order"], "path.order_id", "orders_shipped", ids(shipments, "order_id"), 0.5),
        (["zhunong_fulfilment_api_request_after_sales"], "body.order_line_id", "lines_paid",
         ids(buyer_lines.filter(order__status=OrderStatus.PAID, after_sales__isnull=True)), 0.5),
        (["zhunong_fulfilment_api_create_review"], "body.order_line_id", "lines_unreviewed",
         ids(buyer_lines.filter(order__status__in=(OrderStatus.DELIVERED, OrderStatus.COMPLETED))
             .exclude(pk__in=Review.objects.values("line_id"))), 0.5),
        (["zhunong_fulfilment_api_file_complaint"], "body.order_id", "orders_paid",
         ids(user.orders.filter(status__in=PAID)), 0.5),
        (["zhunong_fulfilment_api_submit_claim"], "path.pledge_id", "pledges",
         ids(Pledge.objects.filter(stream__channel__county=county)), 0.5),
        (["zhunong_fulfilment_api_submit_claim"], "body.order_id", "stream_orders",
         ids(user.orders.filter(stream__isnull=False, status__in=PAID, pledge_claims__isnull=True)), 0.5),
    ]
    return [entry for entry in found if entry[3]]


def fixed(role: str) -> dict[str, dict[str, object]]:
    """Operations that always act on one object, in every phase: ending and cancelling streams. Left to
    generated ids they end the demo's live stream early in the run (ids 1, 2... come first), and every
    later operation in its room answers 409 stream_not_live. They get the villager's live stream and the
    stream awaiting approval instead (the discipline office's own run is separate)."""
    county = Region.objects.get(code=MAIN_COUNTY_CODE)
    streams = Stream.objects.filter(channel__county=county).order_by("pk")
    villager = streams.filter(status=StreamStatus.LIVE, host__is_public_servant=False).first()
    waiting = streams.filter(status=StreamStatus.SCHEDULED, host__is_public_servant=True).first()
    out: dict[str, dict[str, object]] = {}
    if villager is not None:
        out["zhunong_live_api_end_stream"] = {"path.stream_id": villager.pk}
    if waiting is not None:
        out["zhunong_live_api_cancel_stream"] = {"path.stream_id": waiting.pk}
    return out


def toml(role: str) -> str:
    out = [f"# The demo county's objects for {role} (.ci/schemathesis_ids.py)"]
    entries = lookups(role)
    names: dict[str, list] = {}
    for _, _, name, values, _ in entries:
        names.setdefault(name, values)
    for name, values in names.items():
        out += [f"[dictionaries.{name}]", f"values = {json.dumps(values, ensure_ascii=False, default=str)}", ""]
    # One entry per operation with all its parameters: schemathesis takes an operation's `parameters` from
    # the first entry that matches it.
    by_operation: dict[str, list[str]] = {}
    for operations, parameter, name, _, probability in entries:
        for operation in operations:
            by_operation.setdefault(operation, []).append(
                f'"{parameter}" = {{ dictionary = "{name}", probability = {probability} }}')
    for operation, values in fixed(role).items():
        by_operation.setdefault(operation, []).extend(f'"{name}" = {json.dumps(value)}' for name, value in values.items())
    for operation, parameters in by_operation.items():
        out += ["[[operations]]", f'include-operation-id = "{operation}"', f"parameters = {{ {', '.join(parameters)} }}",
                ""]
    return "\n".join(out)


if __name__ == "__main__":
    print(toml(sys.argv[1]))

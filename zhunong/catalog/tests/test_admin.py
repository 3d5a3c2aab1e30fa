"""The product admin: saving goes through catalog.services, status moves only by the listing machine."""

import io
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from zhunong.catalog.models import ListingStatus, PriceChange, Product, ProductImage
from zhunong.producers.models import HarvestBatch, Plot, Producer
from zhunong.supervision.models import IntegrityFlag
from zhunong.testing import build_world

pytestmark = pytest.mark.django_db

ADD = "/admin/catalog/product/add/"


def inline_management(client, url: str, **totals: int) -> dict:  # noqa: ANN001
    resp = client.get(url)
    assert resp.status_code == 200, resp.status_code
    data = {}
    for inline in resp.context["inline_admin_formsets"]:
        prefix = inline.formset.prefix
        data.update({f"{prefix}-TOTAL_FORMS": str(totals.get(prefix, inline.formset.initial_form_count())),
                     f"{prefix}-INITIAL_FORMS": str(inline.formset.initial_form_count()),
                     f"{prefix}-MIN_NUM_FORMS": "0", f"{prefix}-MAX_NUM_FORMS": "1000"})
    return data


def product_form(world, **overrides) -> dict:  # noqa: ANN001
    data = {"name": "洋河蓝莓", "description": "鲜果", "unit": "box", "unit_size": "2斤装", "price": "39.90",
            "cost_floor": "20.00", "below_cost_reason": "", "origin": world.county.pk,
            "producers": [world.producer.pk], "batches": [world.batch.pk], "stock": "100", "gtin": ""}
    data.update(overrides)
    return data


def form_errors(resp) -> dict:  # noqa: ANN001
    return resp.context["adminform"].form.errors if resp.context else {}


def png() -> SimpleUploadedFile:
    buf = io.BytesIO()
    Image.new("RGB", (80, 80), (30, 90, 200)).save(buf, format="PNG")
    return SimpleUploadedFile("berry.png", buf.getvalue(), content_type="image/png")


def test_operator_adds_producer_plot_batch_and_product_in_the_admin(client, world, settings, tmp_path):
    """Issue 2's "done when": an operator adds a producer, plot, batch and product in the admin."""
    settings.MEDIA_ROOT = tmp_path
    client.force_login(world.operator)
    producer_url = "/admin/producers/producer/add/"
    data = inline_management(client, producer_url)
    data.update({"name": "洋河果蔬合作社", "kind": "cooperative", "village": world.village.pk})
    assert client.post(producer_url, data).status_code == 302
    producer = Producer.objects.get(name="洋河果蔬合作社")
    assert client.post("/admin/producers/plot/add/", {"producer": producer.pk, "name": "大棚一号",
                                                      "area_mu": "20", "crop": "蓝莓"}).status_code == 302
    plot = Plot.objects.get(name="大棚一号")
    assert client.post("/admin/producers/harvestbatch/add/", {
        "plot": plot.pk, "harvested_on": timezone.localdate().isoformat(), "quantity": "600", "unit": "jin",
        "grade": "一级"}).status_code == 302
    batch = HarvestBatch.objects.get(plot=plot)
    data = inline_management(client, ADD, images=1)
    data.update(product_form(world, name="合作社蓝莓", producers=[producer.pk], batches=[batch.pk]))
    data.update({"images-0-image": png(), "images-0-caption": "果园实拍", "images-0-position": "0"})
    resp = client.post(ADD, data)
    assert resp.status_code == 302, form_errors(resp)
    product = Product.objects.get(name="合作社蓝莓")
    assert product.status == ListingStatus.DRAFT
    assert list(product.batches.all()) == [batch]
    assert "蓝莓" in product.search_text  # indexed by the service
    assert PriceChange.objects.filter(product=product, reason="created").count() == 1
    assert list(ProductImage.objects.filter(product=product).values_list("caption", flat=True)) == ["果园实拍"]


@pytest.mark.parametrize(("overrides", "field"), [
    ({"price": "10.00"}, "below_cost_reason"),
    ({"price": "-5"}, "price"),
    ({"price": "abc"}, "price"),
    ({"stock": "-1"}, "stock"),
    ({"name": "蓝莓\x00"}, "name"),
    ({"gtin": "123"}, "gtin"),
])
def test_bad_product_in_admin_is_a_form_error_and_creates_nothing(client, world, overrides, field):
    client.force_login(world.operator)
    data = inline_management(client, ADD)
    data.update(product_form(world, **overrides))
    resp = client.post(ADD, data)
    assert resp.status_code == 200
    assert field in form_errors(resp), form_errors(resp)
    assert not Product.objects.exists()
    assert not IntegrityFlag.objects.exists()


def test_below_cost_with_reason_in_admin_is_saved_and_flagged(client, world):
    client.force_login(world.operator)
    data = inline_management(client, ADD)
    data.update(product_form(world, price="10.00", below_cost_reason="临期清仓"))
    assert client.post(ADD, data).status_code == 302
    product = Product.objects.get()
    assert product.below_cost_reason == "临期清仓"
    assert IntegrityFlag.objects.filter(kind="below_cost", subject_id=str(product.pk)).exists()


def test_price_change_in_admin_goes_through_change_price(client, world):
    product = world.listed_product()
    client.force_login(world.operator)
    url = f"/admin/catalog/product/{product.pk}/change/"
    data = inline_management(client, url)
    data.update(product_form(world, price="12.00"))
    resp = client.post(url, data)
    assert "below_cost_reason" in form_errors(resp)
    product.refresh_from_db()
    assert product.price == Decimal("39.90")
    data.update(product_form(world, price="45.00", status="draft"))  # status is not a form field
    assert client.post(url, data).status_code == 302
    product.refresh_from_db()
    assert product.price == Decimal("45.00")
    assert product.status == ListingStatus.LISTED
    assert list(product.price_history.values_list("price", flat=True)) == [Decimal("39.90"), Decimal("45.00")]


def test_new_batch_in_admin_sends_listed_product_back_to_inspection(client, world):
    product = world.listed_product()
    batch = world.new_batch()
    client.force_login(world.operator)
    url = f"/admin/catalog/product/{product.pk}/change/"
    data = inline_management(client, url)
    data.update(product_form(world, batches=[world.batch.pk, batch.pk]))
    assert client.post(url, data).status_code == 302
    product.refresh_from_db()
    assert product.status == ListingStatus.AWAITING_INSPECTION
    # ... and a listed product cannot drop its last batch.
    world.inspect(batch)
    data = inline_management(client, url)
    data.update(product_form(world, batches=[]))
    resp = client.post(url, data)
    assert resp.status_code == 200 and form_errors(resp)
    assert product.batches.count() == 2


def test_actions_submit_and_delist_use_the_state_machine(client, world):
    draft = world.draft_product()
    client.force_login(world.operator)
    resp = client.post("/admin/catalog/product/", {"action": "submit_for_inspection", "_selected_action": [draft.pk]})
    assert resp.status_code == 302
    draft.refresh_from_db()
    assert draft.status == ListingStatus.AWAITING_INSPECTION
    world.inspect()
    draft.refresh_from_db()
    assert draft.status == ListingStatus.LISTED
    client.post("/admin/catalog/product/", {"action": "delist", "_selected_action": [draft.pk]})
    draft.refresh_from_db()
    assert draft.status == ListingStatus.DELISTED
    assert draft.listing_history.last().reason.startswith("后台下架")
    # A refused transition is reported, not applied: a draft cannot be delisted.
    other = world.draft_product(name="另一款", batches=[world.new_batch()])
    resp = client.post("/admin/catalog/product/", {"action": "delist", "_selected_action": [other.pk]}, follow=True)
    assert any("cannot go from" in str(m) for m in resp.context["messages"])
    other.refresh_from_db()
    assert other.status == ListingStatus.DRAFT


def test_change_page_shows_status_and_history_read_only(client, world):
    product = world.listed_product()
    client.force_login(world.operator)
    resp = client.get(f"/admin/catalog/product/{product.pk}/change/")
    assert "status" not in resp.context["adminform"].form.fields
    html = resp.content.decode()
    assert "已上架" in html and "上架状态历史" in html


def test_regulator_views_and_delists_but_cannot_add_or_edit(client, world):
    product = world.listed_product()
    client.force_login(world.regulator)
    assert client.get("/admin/catalog/product/").status_code == 200
    assert client.get(ADD).status_code == 403
    data = product_form(world, price="99.00")
    assert client.post(f"/admin/catalog/product/{product.pk}/change/", data).status_code == 403
    client.post("/admin/catalog/product/", {"action": "delist", "_selected_action": [product.pk]})
    product.refresh_from_db()
    assert product.status == ListingStatus.DELISTED
    assert product.price == Decimal("39.90")


def test_product_lists_are_scoped_by_county(client, world):
    mine = world.draft_product()
    other = build_world()
    theirs = other.draft_product(name="别县蓝莓")
    client.force_login(world.operator)
    listing = client.get("/admin/catalog/product/")
    assert [p.pk for p in listing.context["cl"].result_list] == [mine.pk]
    assert client.get(f"/admin/catalog/product/{theirs.pk}/change/").status_code == 302
    client.post("/admin/catalog/product/", {"action": "submit_for_inspection", "_selected_action": [theirs.pk]})
    theirs.refresh_from_db()
    assert theirs.status == ListingStatus.DRAFT
    page = client.get(ADD)
    assert set(page.context["adminform"].form.fields["producers"].queryset) == {world.producer}
    assert set(page.context["adminform"].form.fields["batches"].queryset) == {world.batch}

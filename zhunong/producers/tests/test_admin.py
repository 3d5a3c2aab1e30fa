"""The admin back office for regions, producers, plots and batches: it writes through the services and
shows each user only their own region."""

import pytest
from django.utils import timezone

from zhunong.producers.models import HarvestBatch, Plot, Producer, Region
from zhunong.quality.models import TraceEvent
from zhunong.testing import build_world, make_admin

pytestmark = pytest.mark.django_db


def inline_management(client, url: str) -> dict:  # noqa: ANN001
    """Empty management-form data for every inline on an admin form page."""
    resp = client.get(url)
    assert resp.status_code == 200, resp.status_code
    data = {}
    for inline in resp.context["inline_admin_formsets"]:
        prefix = inline.formset.prefix
        data.update({f"{prefix}-TOTAL_FORMS": "0", f"{prefix}-INITIAL_FORMS": str(inline.formset.initial_form_count()),
                     f"{prefix}-MIN_NUM_FORMS": "0", f"{prefix}-MAX_NUM_FORMS": "1000"})
    return data


def test_admin_is_titled_in_chinese(client, world):
    client.force_login(world.operator)
    resp = client.get("/admin/")
    assert "助农直播 · 后台" in resp.content.decode()
    assert "生产者、地块与采收批次" in resp.content.decode()


def test_operator_adds_producer_with_a_plot_inline(client, world):
    client.force_login(world.operator)
    url = "/admin/producers/producer/add/"
    data = inline_management(client, url)
    data.update({"name": "才让家庭牧场", "kind": "household", "village": world.village.pk, "registered_poor": "on",
                 "payee_account": "6222020200005555", "plots-TOTAL_FORMS": "1",
                 "plots-0-name": "夏季草场", "plots-0-area_mu": "300", "plots-0-crop": "牦牛"})
    resp = client.post(url, data)
    assert resp.status_code == 302, resp.context["adminform"].form.errors if resp.context else resp
    producer = Producer.objects.get(name="才让家庭牧场")
    assert producer.registered_poor and producer.village == world.village
    assert list(producer.plots.values_list("name", "area_mu")) == [("夏季草场", 300)]


def test_operator_adds_plot_and_batch_through_their_add_forms(client, world):
    client.force_login(world.operator)
    resp = client.post("/admin/producers/plot/add/", {
        "producer": world.producer.pk, "name": "南坡", "area_mu": "8.5", "crop": "蓝莓", "variety": "蓝丰"})
    assert resp.status_code == 302
    plot = Plot.objects.get(name="南坡")
    resp = client.post("/admin/producers/harvestbatch/add/", {
        "plot": plot.pk, "harvested_on": timezone.localdate().isoformat(), "quantity": "250", "unit": "jin",
        "grade": "特级"})
    assert resp.status_code == 302
    batch = HarvestBatch.objects.get(plot=plot)
    assert len(batch.trace_code) == 10
    assert TraceEvent.objects.filter(batch=batch, biz_step="commissioning").exists()
    # A recorded batch is looked at, not edited.
    page = client.get(f"/admin/producers/harvestbatch/{batch.pk}/change/")
    assert page.status_code == 200 and batch.trace_code in page.content.decode()
    resp = client.post(f"/admin/producers/harvestbatch/{batch.pk}/change/", {"quantity": "1"})
    assert resp.status_code == 403


@pytest.mark.parametrize(("field", "value"), [
    ("name", "坏\x00名"), ("name", "x" * 101), ("contact_phone", "call-me"), ("payee_account", "62-22"),
])
def test_bad_producer_input_in_admin_is_a_form_error(client, world, field, value):
    client.force_login(world.operator)
    url = "/admin/producers/producer/add/"
    data = inline_management(client, url)
    data.update({"name": "新农户", "kind": "household", "village": world.village.pk, field: value})
    before = Producer.objects.count()
    resp = client.post(url, data)
    assert resp.status_code == 200
    assert resp.context["adminform"].form.errors
    assert Producer.objects.count() == before


def test_bad_plot_and_batch_input_in_admin_create_nothing(client, world):
    client.force_login(world.operator)
    for body in ({"area_mu": "-2"}, {"area_mu": "abc"}, {"crop": "蓝\x1b莓"}):
        resp = client.post("/admin/producers/plot/add/", {"producer": world.producer.pk, "name": "坏", "area_mu": "1",
                                                          "crop": "蓝莓", **body})
        assert resp.status_code == 200 and resp.context["adminform"].form.errors, body
    assert Plot.objects.count() == 1
    for body in ({"quantity": "-1"}, {"harvested_on": "1990-01-01"}, {"quantity": "many"}):
        resp = client.post("/admin/producers/harvestbatch/add/", {
            "plot": world.plot.pk, "harvested_on": timezone.localdate().isoformat(), "quantity": "1", "unit": "jin",
            **body})
        assert resp.status_code == 200 and resp.context["adminform"].form.errors, body
    assert HarvestBatch.objects.count() == 1


def test_producer_change_goes_through_the_service(client, world):
    client.force_login(world.operator)
    url = f"/admin/producers/producer/{world.producer.pk}/change/"
    data = inline_management(client, url)
    data.update({"name": "鲁家蓝莓合作园", "kind": "household", "village": world.village.pk,
                 "payee_name": "鲁某", "payee_account": "6222020200001234",
                 "plots-0-id": world.plot.pk, "plots-0-producer": world.producer.pk, "plots-0-name": "东坡",
                 "plots-0-area_mu": "13", "plots-0-crop": "蓝莓", "plots-0-variety": "北陆",
                 "plots-0-soil_type": "沙壤土", "plots-TOTAL_FORMS": "1"})
    resp = client.post(url, data)
    assert resp.status_code == 302, resp.context["adminform"].form.errors if resp.context else resp
    world.producer.refresh_from_db()
    world.plot.refresh_from_db()
    assert world.producer.name == "鲁家蓝莓合作园"
    assert world.plot.area_mu == 13


def test_operator_of_another_county_sees_none_of_it(client, world):
    other = build_world()
    client.force_login(other.operator)
    listing = client.get("/admin/producers/producer/")
    names = [p.name for p in listing.context["cl"].result_list]
    assert names == [other.producer.name]
    resp = client.get(f"/admin/producers/producer/{world.producer.pk}/change/")
    assert resp.status_code == 302  # "does not exist" for them
    # Villages of other counties are not offered, and posting one is refused.
    page = client.get("/admin/producers/producer/add/")
    village_choices = list(page.context["adminform"].form.fields["village"].queryset)
    assert village_choices == [other.village]
    data = inline_management(client, "/admin/producers/producer/add/")
    data.update({"name": "越界户", "kind": "household", "village": world.village.pk})
    resp = client.post("/admin/producers/producer/add/", data)
    assert "village" in resp.context["adminform"].form.errors
    assert not Producer.objects.filter(name="越界户").exists()


def test_platform_admin_adds_a_region_through_create_region(client, db):
    admin_user = make_admin()
    world = build_world()
    client.force_login(admin_user)
    resp = client.post("/admin/producers/region/add/", {"code": "V-NEW-1", "name": "新村", "level": "village",
                                                        "parent": world.regions["township"].pk})
    assert resp.status_code == 302
    region = Region.objects.get(code="V-NEW-1")
    assert region.path == world.regions["township"].path + "V-NEW-1/"
    resp = client.post("/admin/producers/region/add/", {"code": "BAD", "name": "错级", "level": "county",
                                                        "parent": world.village.pk})
    assert resp.status_code == 200 and "parent" in resp.context["adminform"].form.errors
    assert not Region.objects.filter(code="BAD").exists()


def test_manager_choices_are_the_operators_region(client, world):
    from zhunong.accounts import roles
    from zhunong.testing import make_user

    other = build_world()
    ours = make_user(roles.PRODUCER_MANAGER, region=world.county)
    make_user(roles.PRODUCER_MANAGER, region=other.county)
    make_user(roles.BUYER, region=world.county)
    client.force_login(world.operator)
    page = client.get("/admin/producers/producer/add/")
    assert list(page.context["adminform"].form.fields["managers"].queryset) == [ours]

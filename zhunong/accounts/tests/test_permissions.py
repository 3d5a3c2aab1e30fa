"""What each role may and may not do, through the API and through the admin.

The county in `world` is "ours"; `other` is a second county with its own operator. Each row says
what one role gets for each action; the actions run against fresh objects of our county.
"""

import json

import pytest
from django.contrib.auth.models import Group
from django.db.models import Q
from django.utils import timezone

from zhunong.accounts import roles
from zhunong.accounts.selectors import county_staff_q
from zhunong.catalog.models import ListingStatus, Product
from zhunong.catalog.services import change_price
from zhunong.producers.models import HarvestBatch, Plot, Producer
from zhunong.supervision.models import IntegrityFlag
from zhunong.testing import api_auth, build_world, make_admin, make_regions, make_user

pytestmark = pytest.mark.django_db

API = "/api/v1"
ROLES = ["platform_admin", "county_operator", "other_operator", "regulator", "producer_manager", "host", "buyer",
         "anonymous"]


@pytest.fixture
def scene(world):  # noqa: ANN001, ANN201
    other = build_world()
    manager = make_user(roles.PRODUCER_MANAGER)
    world.producer.managers.add(manager)
    users = {
        "platform_admin": make_user(roles.PLATFORM_ADMIN),  # the role alone, not a superuser
        "county_operator": world.operator,
        "other_operator": other.operator,
        "regulator": world.regulator,
        "producer_manager": manager,
        "host": make_user(roles.HOST),
        "buyer": make_user(roles.BUYER),
        "anonymous": None,
    }
    return world, other, users


def call(client, method: str, url: str, user, body=None):  # noqa: ANN001, ANN201
    auth = api_auth(user) if user is not None else {}
    kwargs = {"content_type": "application/json", "data": json.dumps(body or {})} if method != "get" else {}
    return getattr(client, method)(f"{API}{url}", **kwargs, **auth)


# role -> (status for each API write below); 2xx means it happened
API_WRITES = {
    #                   producer  plot  batch  product  submit  delist  price
    "platform_admin":   (201,     201,  201,   201,     200,    200,    200),
    "county_operator":  (201,     201,  201,   201,     200,    200,    200),
    "other_operator":   (403,     404,  404,   404,     404,    404,    404),
    "regulator":        (403,     403,  403,   403,     403,    200,    403),
    "producer_manager": (403,     201,  201,   403,     403,    403,    403),
    "host":             (403,     403,  403,   403,     403,    403,    403),
    "buyer":            (403,     403,  403,   403,     403,    403,    403),
    "anonymous":        (401,     401,  401,   401,     401,    401,    401),
}


@pytest.mark.parametrize("role", ROLES)
def test_api_writes_per_role(client, scene, role):
    world, _other, users = scene
    user = users[role]
    draft = world.draft_product(name="草稿蓝莓", batches=[world.new_batch()])
    listed = world.listed_product(name="上架蓝莓")
    counts = (Producer.objects.count(), Plot.objects.count(), HarvestBatch.objects.count(), Product.objects.count())
    results = (
        call(client, "post", "/producers", user, {"name": "新农户", "village_id": world.village.pk}),
        call(client, "post", "/plots", user, {"producer_id": world.producer.pk, "name": "新地", "area_mu": "1",
                                              "crop": "蓝莓"}),
        call(client, "post", "/batches", user, {"plot_id": world.plot.pk, "quantity": "5",
                                                "harvested_on": timezone.localdate().isoformat()}),
        call(client, "post", "/products", user, {"name": "新品", "price": "30", "cost_floor": "10",
                                                 "origin_id": world.county.pk, "producer_ids": [world.producer.pk],
                                                 "batch_ids": [world.batch.pk]}),
        call(client, "post", f"/products/{draft.pk}/submit", user),
        call(client, "post", f"/products/{listed.pk}/delist", user, {"reason": "复检"}),
        call(client, "patch", f"/products/{listed.pk}", user, {"price": "41.00"}),
    )
    assert tuple(r.status_code for r in results) == API_WRITES[role], [r.json() for r in results]
    for resp in results:
        assert set(resp.json()) <= {"code", "message", "details"} or resp.status_code < 300
    # A refusal changes nothing.
    allowed = [status < 300 for status in API_WRITES[role]]
    after = (Producer.objects.count(), Plot.objects.count(), HarvestBatch.objects.count(), Product.objects.count())
    assert after == tuple(c + int(ok) for c, ok in zip(counts, allowed[:4], strict=True))
    draft.refresh_from_db()
    listed.refresh_from_db()
    assert (draft.status != ListingStatus.DRAFT) == allowed[4]
    if not allowed[5]:
        assert listed.status == ListingStatus.LISTED
    if not allowed[6]:
        assert str(listed.price) == "39.90"


# role -> (producers visible, back-office products visible) in our county's data
API_READS = {
    "platform_admin": (2, 2), "county_operator": (1, 1), "other_operator": (1, 1), "regulator": (1, 1),
    "producer_manager": (1, 1), "host": (403, 403), "buyer": (403, 403), "anonymous": (401, 401),
}


@pytest.mark.parametrize("role", ROLES)
def test_api_reads_per_role(client, scene, role):
    world, other, users = scene
    mine, theirs = world.draft_product(), other.draft_product(name="别县")
    user = users[role]
    producers = call(client, "get", "/producers", user)
    products = call(client, "get", "/backoffice/products", user)
    expected = API_READS[role]
    for resp, want in zip((producers, products), expected, strict=True):
        if want >= 400:
            assert resp.status_code == want
        else:
            assert resp.json()["count"] == want
    if role in ("county_operator", "regulator", "producer_manager"):
        assert [p["id"] for p in products.json()["items"]] == [mine.pk]
    if role == "other_operator":
        assert [p["id"] for p in products.json()["items"]] == [theirs.pk]
        assert call(client, "get", f"/producers/{world.producer.pk}", user).status_code == 404
        assert call(client, "get", f"/backoffice/products/{mine.pk}", user).status_code == 404
    # The public catalogue is the same for everyone.
    assert call(client, "get", "/products", user).status_code == 200
    assert call(client, "get", "/regions", user).status_code == 200


def test_role_groups_have_their_permissions_after_migrate(db):
    operator = Group.objects.get(name=roles.COUNTY_OPERATOR)
    assert operator.permissions.filter(codename="add_producer").exists()
    assert not operator.permissions.filter(codename="add_inspection").exists()
    assert Group.objects.get(name=roles.PLATFORM_ADMIN).permissions.count() > 50
    assert not Group.objects.get(name=roles.BUYER).permissions.exists()


# role -> status of: admin index, producer list, producer add, product add, batch add, flags list, users list
ADMIN_PAGES = {
    "platform_admin":   (200, 200, 200, 200, 200, 200, 200),
    "county_operator":  (200, 200, 200, 200, 200, 403, 403),
    "other_operator":   (200, 200, 200, 200, 200, 403, 403),
    "regulator":        (200, 200, 403, 403, 403, 200, 403),
    "producer_manager": (200, 200, 403, 403, 200, 403, 403),
    "host":             (302, 302, 302, 302, 302, 302, 302),
    "buyer":            (302, 302, 302, 302, 302, 302, 302),
    "anonymous":        (302, 302, 302, 302, 302, 302, 302),
}


@pytest.mark.parametrize("role", ROLES)
def test_admin_pages_per_role(client, scene, role):
    _world, _other, users = scene
    if users[role] is not None:
        client.force_login(users[role])
    urls = ["/admin/", "/admin/producers/producer/", "/admin/producers/producer/add/", "/admin/catalog/product/add/",
            "/admin/producers/harvestbatch/add/", "/admin/supervision/integrityflag/", "/admin/accounts/user/"]
    got = tuple(client.get(url).status_code for url in urls)
    assert got == ADMIN_PAGES[role]
    if got[0] == 302:
        assert client.get("/admin/").url.startswith("/admin/login/")


# role -> producers (by world) listed in the admin
ADMIN_SCOPE = {"platform_admin": {"world", "other"}, "county_operator": {"world"}, "other_operator": {"other"},
               "regulator": {"world"}, "producer_manager": {"world"}}


@pytest.mark.parametrize("role", list(ADMIN_SCOPE))
def test_admin_lists_are_scoped(client, scene, role):
    world, other, users = scene
    extra = Producer.objects.create(name="无人管理户", village=world.village)  # not managed by the manager
    client.force_login(users[role])
    shown = set(client.get("/admin/producers/producer/").context["cl"].result_list)
    expected = {world.producer if name == "world" else other.producer for name in ADMIN_SCOPE[role]}
    if role in ("platform_admin", "county_operator", "regulator"):
        expected.add(extra)
    assert shown == expected
    batches = set(client.get("/admin/producers/harvestbatch/").context["cl"].result_list)
    assert batches == {b for b in HarvestBatch.objects.all() if b.plot.producer in expected}


def test_integrity_flags_are_scoped_to_the_regulators_region(client, scene):
    world, other, users = scene
    ours = world.draft_product()
    theirs = other.draft_product(name="别县蓝莓")
    change_price(actor=world.operator, product=ours, price="5", reason="清库")
    change_price(actor=other.operator, product=theirs, price="5", reason="清库")
    client.force_login(users["regulator"])
    shown = client.get("/admin/supervision/integrityflag/").context["cl"].result_list
    assert [f.subject_id for f in shown] == [str(ours.pk)]
    client.force_login(make_admin())
    assert len(client.get("/admin/supervision/integrityflag/").context["cl"].result_list) == 2
    assert IntegrityFlag.objects.count() == 2


def test_manager_adds_batches_only_on_own_plots_in_the_admin(client, scene):
    world, other, users = scene
    client.force_login(users["producer_manager"])
    page = client.get("/admin/producers/harvestbatch/add/")
    assert set(page.context["adminform"].form.fields["plot"].queryset) == {world.plot}
    resp = client.post("/admin/producers/harvestbatch/add/", {
        "plot": other.plot.pk, "harvested_on": timezone.localdate().isoformat(), "quantity": "3", "unit": "jin"})
    assert "plot" in resp.context["adminform"].form.errors
    assert not HarvestBatch.objects.filter(plot=other.plot).exclude(pk=other.batch.pk).exists()


def test_api_tokens_are_read_only_in_the_admin(client, scene):
    _world, _other, users = scene
    api_auth(users["county_operator"])
    client.force_login(make_admin())
    token = users["county_operator"].api_tokens.get()
    assert client.get("/admin/accounts/apitoken/add/").status_code == 403
    page = client.get(f"/admin/accounts/apitoken/{token.pk}/change/")
    assert page.status_code == 200
    assert token.key_hash not in page.content.decode()
    assert client.post(f"/admin/accounts/apitoken/{token.pk}/change/", {"prefix": "x"}).status_code == 403


def test_platform_admin_creates_a_county_operator_in_the_admin(client, world):
    from zhunong.accounts.models import User

    client.force_login(make_admin())
    resp = client.post("/admin/accounts/user/add/", {
        "username": "new_operator", "password1": "a-long-pass-2024!", "password2": "a-long-pass-2024!",
        "usable_password": "true", "display_name": "新运营", "groups": [Group.objects.get(name=roles.COUNTY_OPERATOR).pk],
        "region": world.county.pk, "is_staff": "on"})
    assert resp.status_code == 302, resp.context["adminform"].form.errors if resp.context else resp
    user = User.objects.get(username="new_operator")
    assert user.has_role(roles.COUNTY_OPERATOR) and user.region == world.county and user.is_staff
    client.force_login(user)
    listing = client.get("/admin/producers/producer/")
    assert list(listing.context["cl"].result_list) == [world.producer]


@pytest.mark.django_db
def test_county_staff_q_is_the_one_list_rule_for_county_staff(world):
    """Admin: every row, even combined with another grant by `|` (an empty Q() would vanish there);
    operator and regulator: their region's subtree; anyone else: no row."""
    elsewhere = make_regions()
    other_operator = make_user(roles.COUNTY_OPERATOR, region=elsewhere["county"])
    nobody = Q(pk__in=[])
    everyone = Producer.objects.count()
    assert Producer.objects.filter(county_staff_q(make_admin(), "village") | nobody).count() == everyone
    for staff in (world.operator, world.regulator):
        assert list(Producer.objects.filter(county_staff_q(staff, "village"))) == [world.producer]
    assert not Producer.objects.filter(county_staff_q(other_operator, "village")).exists()
    assert not Producer.objects.filter(county_staff_q(make_user(), "village")).exists()

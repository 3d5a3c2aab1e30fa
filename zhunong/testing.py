"""Test data built through the real services (Zulip style), shared by every app's tests and the benchmarks.

    world = build_world()              # a county with a village, operator, regulator, producer, batch
    product = world.listed_product()   # inspected and listed through the state machine
    room = world.live_room([product], pin=product)   # a verified host's stream, gone live
    sale = start_sale(room, product)   # a flash sale selling at once
"""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass, field

from django.utils import timezone

from zhunong.accounts import roles
from zhunong.accounts.idnumber import with_check_char
from zhunong.accounts.models import User
from zhunong.accounts.services import create_user, issue_token
from zhunong.catalog import services as catalog
from zhunong.catalog.models import Product
from zhunong.live import approvals
from zhunong.live import streams as live
from zhunong.live.models import Channel, Host, Stream, StreamStatus
from zhunong.live.store import forget_room
from zhunong.orders import flashsales
from zhunong.orders.models import FlashSale
from zhunong.producers import services as producers
from zhunong.producers.models import HarvestBatch, Plot, Producer, Region
from zhunong.quality import services as quality

PASSWORD = "zhunong-test-pass-2020"
_seq = itertools.count(1)
_id_seq = itertools.count(1)


def unique(prefix: str) -> str:
    return f"{prefix}{next(_seq)}"


def fake_id_number(region_code: str = "370281", *, born: dt.date = dt.date(1990, 1, 1)) -> str:
    """A resident ID number with a valid check character, different on every call (region, birth date, then a
    sequence counting up), for hosts in tests."""
    n = next(_id_seq)
    # Its own counter: the bench harness moves `_seq` far ahead, which would push the birth date past year 9999.
    birth = born + dt.timedelta(days=(n // 1000) % 7300)
    return with_check_char(f"{region_code}{birth:%Y%m%d}{n % 1000:03d}")


def make_user(role: str = roles.BUYER, *, region: Region | None = None, username: str | None = None) -> User:
    return create_user(username=username or unique(role + "_"), password=PASSWORD, role=role, region=region)


def api_auth(user: User) -> dict[str, str]:
    """Headers for Django's test client carrying a fresh bearer token of `user` (made with PASSWORD)."""
    _user, raw = issue_token(username=user.username, password=PASSWORD)
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


def make_admin() -> User:
    user = make_user(roles.PLATFORM_ADMIN)
    user.is_superuser = True
    user.save(update_fields=["is_superuser"])
    return user


def make_regions(prefix: str | None = None) -> dict[str, Region]:
    """province → city → county → township → village, with unique codes."""
    p = prefix or str(next(_seq))
    province = producers.create_region(code=f"P{p}", name="山东省", level="province")
    city = producers.create_region(code=f"C{p}", name="青岛市", level="city", parent=province)
    county = producers.create_region(code=f"X{p}", name="胶州市", level="county", parent=city)
    town = producers.create_region(code=f"T{p}", name="洋河镇", level="township", parent=county)
    village = producers.create_region(code=f"V{p}", name="山里村", level="village", parent=town)
    return {"province": province, "city": city, "county": county, "township": town, "village": village}


@dataclass
class World:
    regions: dict[str, Region]
    operator: User
    regulator: User
    producer: Producer
    plot: Plot
    batch: HarvestBatch
    extra: dict = field(default_factory=dict)

    @property
    def county(self) -> Region:
        return self.regions["county"]

    @property
    def village(self) -> Region:
        return self.regions["village"]

    @property
    def discipline_inspector(self) -> User:
        """The county's discipline-inspection office (纪检监察), made on first use."""
        if "discipline_inspector" not in self.extra:
            self.extra["discipline_inspector"] = make_user(roles.DISCIPLINE_INSPECTOR, region=self.county)
        return self.extra["discipline_inspector"]

    def new_batch(self, **kwargs) -> HarvestBatch:  # noqa: ANN003
        values = {"harvested_on": timezone.localdate() - dt.timedelta(days=3), "quantity": "500", "unit": "jin",
                  "grade": "一级"}
        values.update(kwargs)
        return producers.create_batch(actor=self.operator, plot=self.plot, **values)

    def draft_product(self, *, name: str = "洋河蓝莓", price: str = "39.90", cost_floor: str = "20.00",
                      stock: int = 100, batches: list[HarvestBatch] | None = None, **kwargs) -> Product:  # noqa: ANN003
        return catalog.create_product(
            actor=self.operator, name=name, price=price, cost_floor=cost_floor, origin=self.county,
            producers=[self.producer], batches=batches if batches is not None else [self.batch], stock=stock,
            **kwargs,
        )

    def inspect(self, batch: HarvestBatch | None = None, *, result: str = "pass"):  # noqa: ANN201
        batch = batch or self.batch
        return quality.record_inspection(
            actor=self.regulator, batch=batch, sample_code=unique("S"), lab="胶州市检验检测中心",
            sampled_on=timezone.localdate(), result=result,
            items=[quality.ItemInput(name="农药残留", value="0.01", limit="0.05", unit="mg/kg")]
            if result == "pass" else [quality.ItemInput(name="农药残留", value="0.09", limit="0.05", unit="mg/kg")],
        )

    def listed_product(self, **kwargs) -> Product:  # noqa: ANN003
        product = self.draft_product(**kwargs)
        catalog.submit_for_inspection(actor=self.operator, product=product)
        for batch in product.batches.all():
            if not batch.inspections.filter(result="pass").exists():
                self.inspect(batch)
        product.refresh_from_db()
        assert product.status == "listed", product.status
        return product

    def live_room(self, products: int | list[Product] = 2, *, status: str = StreamStatus.LIVE,
                  kind: str = Host.Kind.VILLAGER, verified: bool = True, pin: Product | None = None,
                  channel: Channel | None = None, title: str = "蓝莓专场", host_title: str = "主播",
                  starts_in: dt.timedelta = dt.timedelta(0), hours: float = 2) -> LiveRoom:
        """A stream in the county's channel (made if there is none) of a new host of `kind`, selling `products`
        (that many new listed products, or these), taken to `status` through the stream state machine:
        scheduled, live (then `pin` is pinned) or ended. An unverified host's stream can only be scheduled."""
        if channel is None:
            channel = Channel.objects.filter(county=self.county).first() or live.create_channel(
                actor=self.operator, county=self.county, name="胶州助农官方频道")
        user = make_user(roles.BUYER)
        host = live.create_host(actor=self.operator, user=user, channel=channel, kind=kind, title=host_title)
        if verified:
            live.verify_host(actor=self.operator, host=host, method="id_card_in_person", note="现场核验",
                             real_name="测试主播", id_number=fake_id_number())
        if isinstance(products, int):
            products = [self.listed_product(name=f"洋河蓝莓{i}号") for i in range(products)]
        start = timezone.now() + starts_in
        stream = live.schedule_stream(actor=self.operator, host=host, title=title, planned_start=start,
                                      planned_end=start + dt.timedelta(hours=hours), products=products)
        # Test databases reuse ids: a room kept in memory (or Redis) by an earlier test must not leak in.
        forget_room(stream.pk)
        if status in (StreamStatus.LIVE, StreamStatus.ENDED):
            if host.is_public_servant:  # the county's discipline-inspection office signs off first
                approvals.decide(actor=self.discipline_inspector, stream=stream, approve=True,
                                 reason="主播、商品和价格已核实")
            stream = live.start_stream(stream=stream, actor=user)
            if pin is not None:
                live.pin_product(actor=user, stream=stream, product=pin)
            if status == StreamStatus.ENDED:
                stream = live.end_stream(stream=stream, actor=user)
            stream.refresh_from_db()
        return LiveRoom(world=self, channel=channel, host=host, stream=stream, products=list(products))


@dataclass
class LiveRoom:
    world: World
    channel: Channel
    host: Host
    stream: Stream
    products: list[Product]

    @property
    def operator(self) -> User:
        return self.world.operator

    @property
    def host_user(self) -> User:
        return self.host.user


def build_world(prefix: str | None = None) -> World:
    regions = make_regions(prefix)
    operator = make_user(roles.COUNTY_OPERATOR, region=regions["county"])
    regulator = make_user(roles.REGULATOR, region=regions["county"])
    producer = producers.create_producer(actor=operator, name="鲁家蓝莓园", village=regions["village"],
                                         registered_poor=True, payee_name="鲁某", payee_account="6222020200001234")
    plot = producers.create_plot(actor=operator, producer=producer, name="东坡", area_mu="12.5", crop="蓝莓",
                                 variety="北陆", soil_type="沙壤土")
    batch = producers.create_batch(actor=operator, plot=plot, harvested_on=timezone.localdate() - dt.timedelta(days=2),
                                   quantity="800", unit="jin", grade="特级")
    return World(regions=regions, operator=operator, regulator=regulator, producer=producer, plot=plot, batch=batch)


def start_sale(room: LiveRoom, product: Product, *, quantity: int = 10, price: str = "29.90", limit: int = 2,
               running: bool = True, countdown_seconds: int = 10, duration_minutes: int = 5,
               **kwargs: object) -> FlashSale:
    """The room's host starts a flash sale of `product`; with `running`, its countdown is skipped (moved into
    the past) so it sells at once."""
    sale = flashsales.start_flash_sale(actor=room.host_user, stream=room.stream, product=product, quantity=quantity,
                                       sale_price=price, per_buyer_limit=limit, countdown_seconds=countdown_seconds,
                                       duration_minutes=duration_minutes, **kwargs)
    if running:
        now = timezone.now()
        FlashSale.objects.filter(pk=sale.pk).update(starts_at=now - dt.timedelta(seconds=1),
                                                    ends_at=now + dt.timedelta(minutes=duration_minutes))
        flashsales.sync_sale(sale_id=sale.pk)
        sale.refresh_from_db()
    return sale

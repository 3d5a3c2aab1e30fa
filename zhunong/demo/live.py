"""Demo streams for `zhunong seed-demo` (called after zhunong.demo.world has made counties, channels, hosts).

In the main demo county (安化县): one stream live now (pinned product, announcement, a few messages),
one upcoming, and one ended with a small record to browse. Everything goes through the services, so
the demo obeys the rules (verified hosts, listed products only). Idempotent: a stream is created only
when the channel has none in that state, so a second run changes nothing.
"""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from zhunong.accounts import roles
from zhunong.accounts.models import User
from zhunong.catalog.models import ListingStatus, Product
from zhunong.live import approvals, chat, moderation, thirds
from zhunong.live import streams as live_streams
from zhunong.live.models import Host, SegmentKind, SensitiveWord, Stream, StreamStatus
from zhunong.producers.models import Region

MAIN_COUNTY_CODE = "430923"  # 安化县 (zhunong.demo.world)
# Off-platform deals and order brushing are the frauds live-commerce chat is used for.
DEMO_WORDS = [
    ("加微信", "mask", "私下交易"),
    ("私下转账", "block", "私下交易"),
    ("刷单", "block", "刷单"),
    ("好评返现", "block", "刷单"),
    ("代开发票", "block", "违法"),
]


def _pick_host(channel, *, public_servant: bool | None, exclude: set[int], username: str = "") -> Host | None:  # noqa: ANN001
    hosts = Host.objects.filter(channel=channel, verified_at__isnull=False).exclude(pk__in=exclude)
    if username and hosts.filter(user__username=username).exists():
        return hosts.get(user__username=username)
    if public_servant is not None:
        preferred = hosts.filter(is_public_servant=public_servant).order_by("pk").first()
        if preferred is not None:
            return preferred
    return hosts.order_by("pk").first()


def _approve(stream: Stream, county: Region) -> None:
    """A public servant's stream goes live only with the county discipline-inspection office's approval."""
    if not approvals.needs_approval(stream):
        return
    office = User.objects.filter(groups__name=roles.DISCIPLINE_INSPECTOR, region=county).order_by("pk").first()
    if office is not None:
        approvals.decide(actor=office, stream=stream, approve=True,
                         reason="演示：已核实主播身份（公职人员，不取报酬）、上架商品与价格均不低于成本")


def seed(*, stdout, dry_run: bool) -> None:  # noqa: ANN001
    verb = "would create" if dry_run else "created"
    county = Region.objects.filter(code=MAIN_COUNTY_CODE).first()
    channel = getattr(county, "channel", None) if county else None
    if county is None or channel is None:
        stdout.write("live: the main demo county or its channel is missing; no demo streams")
        return
    operator = (User.objects.filter(groups__name=roles.COUNTY_OPERATOR, region=county).order_by("pk").first())
    products = list(Product.objects.filter(status=ListingStatus.LISTED, origin__path__startswith=county.path)
                    .order_by("-featured", "pk")[:4])
    if operator is None or not products:
        stdout.write("live: no operator or no listed products in the main demo county; no demo streams")
        return
    now = timezone.now()
    created: list[str] = []
    used: set[int] = set()
    streams = Stream.objects.filter(channel=channel)

    # Live now: the village first secretary in the tea garden (a public servant: no gifts in the room).
    live = streams.filter(status=StreamStatus.LIVE).first()
    if live is None:
        # The demo's `host` login (the village first secretary) runs it, so its console is one login away.
        host = _pick_host(channel, public_servant=True, exclude=used, username="host")
        if host is not None:
            live = live_streams.schedule_stream(
                actor=operator, host=host, title="茶园直播：明前千两茶开饼", planned_start=now - dt.timedelta(minutes=5),
                planned_end=now + dt.timedelta(hours=3), products=products,
                description="驻村第一书记带着承包户在唐溪茶场直播，货款直达茶农。")
            _approve(live, county)
            live_streams.start_stream(stream=live, actor=host.user)
            live_streams.pin_product(actor=host.user, stream=live, product=products[0])
            # The three thirds: the room starts on registered households' tea; the console switches the mark.
            thirds.mark_segment(actor=host.user, stream=live, kind=SegmentKind.HOUSEHOLD_PRODUCTS)
            live_streams.post_announcement(actor=host.user, stream=live, text="今晚下单的千两茶，合作社三天内统一发货。")
            chat.save_chat_batch(stream_id=live.pk, items=[
                chat.ChatIn(user_id=host.user_id, user_name=str(host.user), text="欢迎来到唐溪茶场！",
                            original="欢迎来到唐溪茶场！", is_host=True, blocked=False, hits=[], at=now),
            ])
            created.append("1 live stream")
    if live is not None:
        used.add(live.host_id)

    # Upcoming: the trained villager host, tomorrow evening.
    if not streams.filter(status=StreamStatus.SCHEDULED, planned_end__gte=now).exists():
        host = _pick_host(channel, public_servant=False, exclude=used)
        if host is not None:
            start = (timezone.localtime(now) + dt.timedelta(days=1)).replace(hour=20, minute=0, second=0,
                                                                           microsecond=0)
            live_streams.schedule_stream(actor=operator, host=host, title="茯砖茶的“金花”是怎么长出来的",
                                         planned_start=start, planned_end=start + dt.timedelta(hours=2),
                                         products=products[1:] or products,
                                         description="村民主播现场讲解茯砖茶发花工艺。")
            used.add(host.pk)
            created.append("1 upcoming stream")

    # Ended: a short stream with a record (pins, announcement, chat) to browse in the console and admin.
    if not streams.filter(status=StreamStatus.ENDED).exists():
        host = _pick_host(channel, public_servant=True, exclude=used) or _pick_host(channel, public_servant=None,
                                                                                     exclude=set())
        if host is not None:
            ended = live_streams.schedule_stream(actor=operator, host=host, title="副县长带你逛安化黑茶产业园",
                                                 planned_start=now - dt.timedelta(minutes=30),
                                                 planned_end=now + dt.timedelta(minutes=30), products=products,
                                                 description="挂职副县长介绍安化黑茶产业和扶贫政策。")
            _approve(ended, county)
            live_streams.start_stream(stream=ended, actor=host.user)
            for product in products[:2]:
                live_streams.pin_product(actor=host.user, stream=ended, product=product)
            for kind in (SegmentKind.HOUSEHOLD_PRODUCTS, SegmentKind.COACHING, SegmentKind.POLICY):
                thirds.mark_segment(actor=host.user, stream=ended, kind=kind)
            live_streams.post_announcement(actor=host.user, stream=ended, text="公益直播：县领导带货不取任何报酬。")
            chat.save_chat_batch(stream_id=ended.pk, items=[
                chat.ChatIn(user_id=host.user_id, user_name=str(host.user), text="感谢大家支持安化茶农！",
                            original="感谢大家支持安化茶农！", is_host=True, blocked=False, hits=[],
                            at=timezone.now()),
            ])
            live_streams.end_stream(stream=ended, actor=host.user, reason="演示直播结束")
            created.append("1 ended stream")

    # A starting word list for the room's filter (operators edit it in the admin).
    if not SensitiveWord.objects.exists():
        for word, action, category in DEMO_WORDS:
            moderation.save_sensitive_word(actor=operator, word=word, action=action, category=category)
        created.append(f"{len(DEMO_WORDS)} sensitive words")

    if created:
        stdout.write(f"live: {verb} {', '.join(created)} in {channel.name}")
    else:
        stdout.write("live: demo streams present")

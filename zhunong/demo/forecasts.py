"""Demo data of the data centre's forecasts for `zhunong seed_demo`: sales history, buyers' chat, forecasts.

- Sales history: each demo county's listed products also sell in a Douyin shop (抖音小店); their last 120
  days of orders come in as one Douyin order export, through the real import (insights.imports), with
  daily demand of a weekly rhythm: tea steady, blueberries only since the greenhouse harvest began (a
  month ago), yak meat now and then. Order numbers are fixed per product and day, so a second run, even
  on a later day, imports only the days it has not seen.
- Buyers' chat in the main county's ended stream: complaints, praise and product requests (能不能上点安化红茶…),
  dated over the last four weeks, saved through live's chat service.
- Then the comments are classified and every product forecast, so the data centre opens filled. The
  blueberry batches (1,060 斤 with a 15-day shelf life, zhunong.demo.world) in 胶州, and in the main county
  (安化) the smoked pork (600 斤 with 30 days of shelf life left, about one bag a day sold), are more than
  the forecast demand before they expire: the demo's over-stocked batches, each with its warning.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
import random
from typing import Any

from django.utils import timezone

from zhunong.accounts.models import User
from zhunong.catalog.models import ListingStatus, Product
from zhunong.insights import feedback, forecasting, imports
from zhunong.live import chat
from zhunong.live.models import ChatMessage, Stream, StreamStatus
from zhunong.producers.models import Region

from .world import MAIN_COUNTY_CODE

DAYS = 120
DOUYIN_HEADER = ["主订单编号", "子订单编号", "订单提交时间", "商家编码", "选购商品", "商品数量", "商品单价", "订单应付金额",
                 "退款金额", "订单状态"]

# (words in the product's name, mean orders a day, first day of sales counted back from today, Poisson or lumpy)
DEMAND = [
    ("千两茶", 3.0, DAYS, "steady"), ("茯砖", 2.0, DAYS, "steady"), ("云尖", 1.5, DAYS, "steady"),
    ("蓝莓", 9.0, 30, "steady"), ("牦牛肉干", 0.6, DAYS, "lumpy"), ("牦牛", 0.3, DAYS, "lumpy"),
    ("大米", 2.5, DAYS, "steady"), ("米礼盒", 0.4, DAYS, "lumpy"), ("小米", 1.5, DAYS, "steady"),
    ("腊肉", 1.0, DAYS, "steady"), ("木耳", 1.2, DAYS, "steady"), ("榛蘑", 0.5, DAYS, "lumpy"), ("辣白菜", 1.0, DAYS, "steady"),
]

CHAT = [
    ("buyer", 27, "千两茶多少钱一饼？"), ("buyer-shanghai", 26, "能不能上点安化红茶"),
    ("buyer-heilongjiang", 24, "茯砖茶的金花很多，回甘明显"), ("buyer", 20, "上次买的茯砖茶快递太慢了，等了一个星期才到"),
    ("buyer-shanghai", 19, "有没有小包装的茯砖茶"), ("buyer-heilongjiang", 15, "什么时候上擂茶"),
    ("buyer", 13, "千两茶包装很用心，送人很有面子"), ("buyer-shanghai", 11, "能不能上点安化红茶，想送人"),
    ("buyer-heilongjiang", 9, "千两茶是正宗的安化黑茶吗"), ("buyer", 8, "茯砖茶物流太慢了，催了好几次"),
    ("buyer-shanghai", 6, "求上安化红茶"), ("buyer-heilongjiang", 5, "茯砖茶物流一點也不慢，價格也不算貴"),
    ("buyer", 4, "能出茶叶礼盒装吗"), ("buyer-shanghai", 3, "茯砖茶快递还没到，太慢了"),
    ("buyer-heilongjiang", 2, "千两茶一点也不贵，回购了"), ("buyer", 1, "什么时候上擂茶？家里老人爱喝"),
    ("buyer-shanghai", 1, "茯砖茶发货很慢，包装还压坏了"),
]


def _units(kind: str, mean: float, rng: random.Random, weekday: int) -> int:
    rhythm = 1.3 if weekday >= 5 else 0.9  # weekends sell more
    if kind == "lumpy":
        return rng.choice([1, 2, 3, 5]) if rng.random() < mean / 2.5 else 0
    lam = mean * rhythm
    # Poisson by inversion: small means only.
    k, p, s, u = 0, math.exp(-lam), math.exp(-lam), rng.random()
    while u > s and k < 100:
        k += 1
        p *= lam / k
        s += p
    return k


def _export_rows(products: list[Product], today: dt.date) -> list[list[str]]:
    rows = []
    for product in products:
        spec = next((d for d in DEMAND if d[0] in product.name), None)
        if spec is None:
            continue
        _word, mean, first, kind = spec
        for back in range(min(first, DAYS), 0, -1):
            day = today - dt.timedelta(days=back)
            rng = random.Random(f"{product.pk}-{day.isoformat()}")  # the same day always gives the same orders
            units = _units(kind, mean, rng, day.weekday())
            for n in range(units):
                quantity = 2 if rng.random() < 0.15 else 1
                at = dt.datetime.combine(day, dt.time(hour=rng.randint(8, 22), minute=rng.randint(0, 59)))
                refunded = product.price * quantity if rng.random() < 0.03 else 0
                rows.append([f"DY{product.pk:05d}{day:%Y%m%d}{n:03d}", "1", at.strftime("%Y-%m-%d %H:%M:%S"),
                             f"ZN{product.pk}", product.name, str(quantity), f"{product.price:.2f}",
                             f"{product.price * quantity:.2f}", f"{refunded:.2f}", "已完成"])
    return rows


def _import_history(stdout: Any, today: dt.date) -> int:  # noqa: ANN401
    imported = 0
    for county in Region.objects.filter(level=Region.Level.COUNTY).order_by("code"):
        products = list(Product.objects.filter(origin__path__startswith=county.path, status=ListingStatus.LISTED)
                        .order_by("pk"))
        rows = _export_rows(products, today)
        if not rows:
            continue
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(DOUYIN_HEADER)
        writer.writerows(rows)
        result = imports.import_orders(user=None, county=county, source="douyin",
                                       filename=f"douyin-{county.code}-{today:%Y%m%d}.csv",
                                       content=buffer.getvalue().encode("utf-8"))
        imported += result.imported
    return imported


def _chat(stdout: Any) -> int:  # noqa: ANN401
    county = Region.objects.filter(code=MAIN_COUNTY_CODE).first()
    stream = (Stream.objects.filter(channel__county=county, status=StreamStatus.ENDED).order_by("pk").first()
              if county else None)
    buyers = {u.username: u for u in User.objects.filter(username__in={b for b, _, _ in CHAT})}
    if stream is None or not buyers:
        stdout.write("forecasts: no ended stream or demo buyers in the main county; no demo chat")
        return 0
    have = set(ChatMessage.objects.filter(stream=stream, is_host=False).values_list("text", flat=True))
    now = timezone.now()
    items = [chat.ChatIn(user_id=buyers[name].pk, user_name=name, text=text, original=text, is_host=False,
                         blocked=False, hits=[], at=now - dt.timedelta(days=days, hours=1))
             for name, days, text in CHAT if name in buyers and text not in have]
    chat.save_chat_batch(stream_id=stream.pk, items=items)
    return len(items)


def seed(*, stdout: Any, dry_run: bool) -> None:  # noqa: ANN401
    if dry_run:
        stdout.write(f"forecasts: would import {DAYS} days of Douyin orders per county, add {len(CHAT)} chat "
                     "messages, classify comments and forecast every product")
        return
    today = timezone.localdate()
    imported = _import_history(stdout, today)
    said = _chat(stdout)
    mined = feedback.mine_comments()
    summary = forecasting.run_forecasts(workers=1)
    stdout.write(f"forecasts: {imported} imported order lines, {said} chat messages, {mined['total']} comments "
                 f"classified, {summary.get('series', 0)} products forecast")

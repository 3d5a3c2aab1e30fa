"""Labelled scenarios for measuring the detectors (`zhunong simulate`, docs/supervision.md).

A county's livestreams over some days: audiences arrive (faster around pins and flash sales) and leave
after a heavy-tailed watch time, send heartbeats while watching, chat, like and click; viewers who click
buy, more at pins and flash sales; some orders go unpaid and are cancelled, a few are refunded days later.
Many honest viewers share an address (carrier NAT) and some households share a device, a payment account
or a delivery address, so that the signals the detectors use also occur innocently.

Abuse is injected on top, each abusive order, session and account labelled. `hard` abusers imitate
honest timing, spread over hours, mix with real buyers and use fresh devices; what they cannot avoid is
what makes them abuse (a quota has a threshold and a unit; brushing is undone after the stream by the
same few accounts; bots do not engage; a below-cost sale is below cost).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np

from zhunong.supervision.eventlog import iso

SCENARIOS = {
    "honest": "no abuse at all: for the false-flag rate",
    "quota": "staff ordered to spend at least a threshold during an official's stream (摊派)",
    "fake_order": "a ring of accounts orders in several streams of one host, then cancels or refunds (刷单)",
    "inflated_traffic": "view-bot sessions and an inflated displayed viewer count (流量注水)",
    "below_cost": "sales and coupons under the cost floor, some to the host's own organisation",
    "mixed": "every abuse at once, in their plain form",
    "hard": "every abuse at once, imitating honest timing, spread over hours, mixed with real buyers, fresh devices",
}

T0 = 1_780_000_000.0  # 2026-05-28: a fixed origin, so a seed gives the same log on every machine
DAY = 86_400.0
HEARTBEAT = 30.0


def _h(*parts: object) -> str:
    return hashlib.blake2b("|".join(map(str, parts)).encode(), digest_size=8).hexdigest()


@dataclass
class _Account:
    id: str
    created_at: float
    device: str
    address: str
    payment: str
    ship_to: str
    org: str | None = None

    def meta(self) -> dict:
        meta = {"id": self.id, "created_at": iso(self.created_at), "device_hash": self.device,
                "address_hash": self.address, "payment_hash": self.payment}
        if self.org:
            meta["org"] = self.org
        return meta


@dataclass
class _World:
    rng: np.random.Generator
    scale: float
    events: list[tuple[float, int, dict]] = field(default_factory=list)
    labels: list[dict] = field(default_factory=list)
    seq: int = 0
    accounts: list[_Account] = field(default_factory=list)
    products: dict[str, tuple[float, float]] = field(default_factory=dict)  # id -> (price, cost)
    nat_pool: list[str] = field(default_factory=list)

    def emit(self, ts: float, event: dict) -> None:
        self.seq += 1
        self.events.append((ts, self.seq, event))

    def label(self, kind: str, ident: str, abuse: str) -> None:
        self.labels.append({f"{kind}_id": ident, "abuse": abuse})

    def new_account(self, created_at: float, **overrides: str | None) -> _Account:
        n = len(self.accounts)
        home = _h("home", n)
        acc = _Account(id=f"a{n}", created_at=created_at, device=_h("dev", n), address=home,
                       payment=_h("pay", n), ship_to=_h("ship", n))
        for key, value in overrides.items():
            setattr(acc, key, value)
        self.accounts.append(acc)
        return acc

    def viewer_address(self, acc: _Account | None) -> str:
        # Two in three watch on a phone behind carrier NAT: many strangers share those addresses.
        if self.rng.random() < 0.65:
            return self.nat_pool[int(self.rng.zipf(1.6)) % len(self.nat_pool)]
        return acc.address if acc else _h("anon-home", self.rng.integers(1 << 40))


@dataclass
class _Stream:
    id: str
    host: str
    official: bool
    org: str | None
    start: float
    end: float
    products: list[str]
    pins: list[float]
    flash: list[float]
    present: list[tuple[float, float]] = field(default_factory=list)  # (join, leave) of every session
    reported_boost: float = 1.0


def _build_world(seed: int, scale: float) -> _World:
    rng = np.random.default_rng(seed)
    world = _World(rng=rng, scale=scale)
    for i in range(16):
        price = float(rng.choice([9.9, 19.9, 29.9, 39.9, 49.9, 59.0, 68.0, 88.0, 99.0, 128.0, 158.0, 199.0]))
        cost = round(price * float(rng.uniform(0.45, 0.8)), 2)
        world.products[f"p{i}"] = (price, cost)
    world.nat_pool = [_h("nat", seed, i) for i in range(max(40, int(1500 * scale)))]
    for _ in range(int(6000 * scale)):
        created = T0 - float(rng.uniform(30, 900)) * DAY
        acc = world.new_account(created)
        # Households: some share a device, a payment account or a delivery address with another account.
        if len(world.accounts) > 2 and rng.random() < 0.06:
            other = world.accounts[int(rng.integers(len(world.accounts) - 1))]
            attr = ["device", "payment", "ship_to", "address"][int(rng.integers(4))]
            setattr(acc, attr, getattr(other, attr))
    return world


def _streams(world: _World, n: int) -> list[_Stream]:
    rng = world.rng
    hosts = [("h0", True, "org-county-gov"), ("h1", True, "org-township-3"), ("h2", False, None),
             ("h3", False, None)]
    out = []
    for i in range(n):
        host, official, org = hosts[i % len(hosts)]
        start = T0 + i * DAY * 0.8 + float(rng.uniform(0, 3600))
        length = float(rng.uniform(1.5, 3.0)) * 3600
        products = list(rng.choice(sorted(world.products), size=6, replace=False))
        pins = sorted(start + float(x) for x in rng.uniform(300, length - 600, size=8))
        flash = sorted(start + float(x) for x in rng.uniform(600, length - 900, size=2))
        out.append(_Stream(id=f"s{i}", host=host, official=official, org=org, start=start, end=start + length,
                           products=products, pins=pins, flash=flash))
    return out


def _session(world: _World, stream: _Stream, sid: str, joined: float, watch: float, acc: _Account | None,
             *, device: str, address: str, heartbeats: bool = True, leave: bool = True,
             chat_rate: float = 0.0, like_rate: float = 0.0, click_rate: float = 0.0) -> float:
    """Emit one session's events; return when it ended."""
    rng = world.rng
    left = min(joined + watch, stream.end + 60)
    join = {"type": "join", "stream_id": stream.id, "session_id": sid, "device_hash": device,
            "address_hash": address}
    if acc is not None:
        join["account"] = acc.meta()
    world.emit(joined, join)
    if heartbeats:
        t = joined + HEARTBEAT * float(rng.uniform(0.3, 1.0))
        while t < left:
            world.emit(t, {"type": "heartbeat", "session_id": sid})
            # Phones in the background skip heartbeats now and then.
            t += HEARTBEAT * (3.0 if rng.random() < 0.03 else float(rng.uniform(0.95, 1.05)))
    minutes = (left - joined) / 60
    for kind, rate in (("chat", chat_rate), ("like", like_rate), ("click", click_rate)):
        for _ in range(int(rng.poisson(rate * minutes))):
            ev: dict = {"type": kind, "session_id": sid}
            if kind == "click":
                ev["product_id"] = str(rng.choice(stream.products))
            if kind == "like":
                ev["count"] = int(rng.integers(1, 8))
            if kind == "chat" and acc is not None:
                ev["account"] = {"id": acc.id}
            world.emit(joined + float(rng.uniform(0, left - joined)), ev)
    if leave:
        world.emit(left, {"type": "leave", "session_id": sid})
    stream.present.append((joined, left if leave else left + 120))  # a vanished client times out later
    return left


def _order(world: _World, stream: _Stream | None, oid: str, ts: float, acc: _Account, items: list[tuple[str, int]],
           *, unit_price: dict[str, float] | None = None, discount: float = 0.0, ship_to: str | None = None,
           payment: str | None = None, pay: bool = True, cancel_at: float | None = None,
           refund_at: float | None = None, reason: str = "", coupon: str | None = None) -> float:
    rng = world.rng
    lines = []
    for pid, qty in items:
        price, cost = world.products[pid]
        lines.append({"product_id": pid, "quantity": qty, "unit_price": (unit_price or {}).get(pid, price),
                      "unit_cost": cost})
    amount = round(sum(line["unit_price"] * line["quantity"] for line in lines) - discount, 2)
    ev = {"type": "order", "order_id": oid, "stream_id": stream.id if stream else None, "account": acc.meta(),
          "items": lines, "amount": amount, "ship_to_hash": ship_to or acc.ship_to}
    if discount:
        ev["discount"] = discount
        ev["coupon_id"] = coupon or "c-" + (stream.id if stream else "none")
    if reason:
        ev["below_cost_reason"] = reason
    world.emit(ts, ev)
    if pay:
        paid = ts + float(rng.uniform(10, 300))
        world.emit(paid, {"type": "payment", "order_id": oid, "amount": amount,
                          "payment_hash": payment or acc.payment})
        if refund_at is not None:
            world.emit(max(refund_at, paid + 60), {"type": "refund", "order_id": oid, "amount": amount})
    else:
        world.emit(cancel_at or ts + 900, {"type": "cancel", "order_id": oid})
    return amount


def _honest_stream(world: _World, stream: _Stream, counter: dict) -> None:
    rng = world.rng
    length = stream.end - stream.start
    n_sessions = int(rng.uniform(1800, 3200) * world.scale)
    # Arrivals: a base rate plus crowds drawn by pins and flash sales.
    attractors = stream.pins + stream.flash
    for _ in range(n_sessions):
        if rng.random() < 0.55:
            joined = stream.start + float(rng.beta(1.3, 1.6)) * length
        else:
            joined = float(rng.choice(attractors)) + float(rng.exponential(240)) - 60
        joined = min(max(joined, stream.start), stream.end - 30)
        counter["s"] += 1
        sid = f"v{counter['s']}"
        logged_in = rng.random() < 0.7
        # Newcomers: one logged-in viewer in twelve registered in the days before (the stream drew them).
        if logged_in and rng.random() < 0.08:
            acc = world.new_account(stream.start - float(rng.uniform(0, 10)) * DAY)
        elif logged_in:
            acc = world.accounts[int(rng.integers(len(world.accounts)))]
        else:
            acc = None
        watch = float(rng.lognormal(np.log(240), 1.2))
        lurker = rng.random() < 0.45
        device = acc.device if acc else _h("anon-dev", counter["s"])
        left = _session(world, stream, sid, joined, watch, acc, device=device,
                        address=world.viewer_address(acc), heartbeats=True, leave=rng.random() < 0.92,
                        chat_rate=0 if lurker else float(rng.uniform(0.02, 0.3)),
                        like_rate=0 if lurker else float(rng.uniform(0.05, 0.6)),
                        click_rate=0.02 if lurker else float(rng.uniform(0.05, 0.3)))
        if acc is None:
            continue
        # Buying: likelier near a pin or a flash sale, from viewers who stay a while.
        near = min((abs(joined - a) for a in attractors), default=1e9) < 600
        p_buy = (0.12 if near else 0.05) * min(1.0, (left - joined) / 300)
        if rng.random() < p_buy:
            ts = min(left, joined + float(rng.uniform(20, max(30, left - joined))))
            _honest_order(world, stream, acc, ts, counter)
    # A few buy from the product page without watching (a shared link, a repeat purchase).
    for _ in range(int(rng.poisson(8 * world.scale))):
        acc = world.accounts[int(rng.integers(len(world.accounts)))]
        _honest_order(world, stream, acc, stream.start + float(rng.uniform(0, length)), counter)


def _honest_order(world: _World, stream: _Stream, acc: _Account, ts: float, counter: dict) -> None:
    rng = world.rng
    counter["o"] += 1
    n_items = 1 if rng.random() < 0.8 else 2
    items = [(str(pid), int(min(rng.geometric(0.6), 5))) for pid in rng.choice(stream.products, size=n_items,
                                                                               replace=False)]
    pay = rng.random() < 0.93
    refund = pay and rng.random() < 0.05
    discount = 0.0
    if rng.random() < 0.15:  # a stream coupon that keeps every unit above its cost
        subtotal = sum(world.products[p][0] * q for p, q in items)
        cost = sum(world.products[p][1] * q for p, q in items)
        discount = round(min(10.0, (subtotal - cost) * 0.5), 2)
    _order(world, stream, f"o{counter['o']}", ts, acc, items, discount=discount, pay=pay,
           refund_at=ts + float(rng.uniform(1, 12)) * DAY if refund else None)


def _inject_quota(world: _World, stream: _Stream, counter: dict, hard: bool) -> None:
    rng = world.rng
    threshold = float(rng.choice([100.0, 200.0]))
    n_staff = int(rng.integers(50, 90) * max(world.scale, 0.35))
    workplaces = [_h("workplace", stream.id, i) for i in range(2 if hard else 1)]
    office_devices = [_h("office-pc", stream.id, i) for i in range(6)]
    office_ip = _h("office-ip", stream.id)
    shared_pay = [_h("office-pay", stream.id, i) for i in range(4)]
    anchor = float(rng.choice(stream.pins))
    for k in range(n_staff):
        created = stream.start - float(rng.uniform(0, 10 if hard else 2)) * DAY
        acc = world.new_account(created)
        if not hard:
            acc.device = office_devices[k % len(office_devices)]
            acc.address = office_ip
            if rng.random() < 0.5:
                acc.payment = shared_pay[k % len(shared_pay)]
        world.label("account", acc.id, "quota")
        if hard:
            ts = stream.start + float(rng.uniform(0, (stream.end - stream.start) + 6 * 3600))
            if rng.random() < 0.4:  # opens the stream for a few minutes first
                counter["s"] += 1
                joined = max(stream.start, min(ts, stream.end) - float(rng.uniform(120, 900)))
                _session(world, stream, f"v{counter['s']}", joined, float(rng.uniform(120, 900)), acc,
                         device=acc.device, address=world.viewer_address(acc), chat_rate=0.02, like_rate=0.1)
        else:
            ts = anchor + float(rng.uniform(0, 1200))
        # The cheapest basket of the stream's products that reaches the threshold.
        items: list[tuple[str, int]] = []
        total = 0.0
        while total < threshold:
            pid = str(rng.choice(stream.products))
            items.append((pid, 1))
            total += world.products[pid][0]
        merged: dict[str, int] = {}
        for pid, q in items:
            merged[pid] = merged.get(pid, 0) + q
        # Overshoot trimmed: drop the dearest item while the rest still reaches the threshold.
        for pid in sorted(merged, key=lambda p: -world.products[p][0]):
            price = world.products[pid][0]
            while merged[pid] > 0 and total - price >= threshold:
                merged[pid] -= 1
                total -= price
        basket = [(p, q) for p, q in merged.items() if q]
        ship = workplaces[k % len(workplaces)] if (not hard or rng.random() < 0.55) else None
        counter["o"] += 1
        oid = f"o{counter['o']}"
        _order(world, stream, oid, ts, acc, basket, ship_to=ship)
        world.label("order", oid, "quota")


def _inject_fake_orders(world: _World, streams: list[_Stream], counter: dict, hard: bool) -> None:
    rng = world.rng
    ring_size = int(rng.integers(14, 24))
    host_streams = [s for s in streams if s.host == streams[0].host][:6]
    ring_devices = [_h("ring-dev", i) for i in range(3)]
    ring = []
    for k in range(ring_size):
        acc = world.new_account(T0 - float(rng.uniform(60, 700)) * DAY)
        if not hard:
            acc.device = ring_devices[k % 3]
        world.label("account", acc.id, "fake_order")
        ring.append(acc)
    for stream in host_streams:
        members = [a for a in ring if rng.random() < (0.75 if hard else 1.0)]
        burst = float(rng.choice(stream.pins))
        for acc in members:
            for _ in range(int(rng.integers(1, 3))):
                if hard:
                    ts = stream.start + float(rng.uniform(0, stream.end - stream.start))
                    if rng.random() < 0.7:
                        counter["s"] += 1
                        _session(world, stream, f"v{counter['s']}", max(stream.start, ts - 300),
                                 float(rng.uniform(300, 1500)), acc, device=acc.device,
                                 address=world.viewer_address(acc), chat_rate=0.1, like_rate=0.3, click_rate=0.2)
                else:
                    ts = burst + float(rng.uniform(0, 600))
                counter["o"] += 1
                oid = f"o{counter['o']}"
                pid = str(rng.choice(stream.products[:2]))
                undo = stream.end + float(rng.uniform(0.2, 3.0 if hard else 1.0)) * DAY
                kept = hard and rng.random() < 0.15  # "signed again": some fake orders are never undone
                paid = kept or rng.random() < 0.7
                _order(world, stream, oid, ts, acc, [(pid, int(rng.integers(1, 4)))], pay=paid,
                       cancel_at=undo, refund_at=None if kept or not paid else undo)
                world.label("order", oid, "fake_order")


def _inject_bots(world: _World, stream: _Stream, counter: dict, hard: bool) -> None:
    rng = world.rng
    n_bots = int(rng.integers(500, 900) * world.scale)
    addresses = [_h("bot-ip", stream.id, i) for i in range(max(3, n_bots // (40 if hard else 150)))]
    devices = [_h("bot-dev", stream.id, i) for i in range(20)]
    step = stream.start + float(rng.uniform(0.2, 0.6)) * (stream.end - stream.start)
    for k in range(n_bots):
        counter["s"] += 1
        sid = f"v{counter['s']}"
        if hard:
            joined = stream.start + float(rng.beta(1.3, 1.6)) * (stream.end - stream.start - 60)
            watch = float(rng.lognormal(np.log(600), 0.9))
            _session(world, stream, sid, joined, watch, None, device=_h("bot-fresh", stream.id, k),
                     address=addresses[int(rng.integers(len(addresses)))], heartbeats=True,
                     leave=rng.random() < 0.9)
        else:
            joined = step + float(rng.uniform(0, 90))
            _session(world, stream, sid, joined, stream.end - joined, None, device=devices[k % len(devices)],
                     address=addresses[k % len(addresses)], heartbeats=False, leave=False)
        world.label("session", sid, "inflated_traffic")
    if not hard:
        stream.reported_boost = 1.6  # the displayed count is also multiplied beyond the sessions


def _inject_below_cost(world: _World, stream: _Stream, counter: dict, hard: bool) -> None:
    rng = world.rng
    pid = stream.products[0]
    price, cost = world.products[pid]
    staff = [world.new_account(T0 - float(rng.uniform(100, 800)) * DAY, org=stream.org or "org-host")
             for _ in range(int(rng.integers(6, 12)))]
    for acc in staff:
        world.label("account", acc.id, "below_cost")
    n = int(rng.integers(40, 80) * max(world.scale, 0.35))
    for k in range(n):
        linked = k < len(staff) * 2
        acc = staff[k % len(staff)] if linked else world.accounts[int(rng.integers(len(world.accounts)))]
        ts = stream.start + float(rng.uniform(0, stream.end - stream.start))
        qty = int(rng.integers(1, 4))
        counter["o"] += 1
        oid = f"o{counter['o']}"
        if hard and rng.random() < 0.5:
            # Listed at the honest price; a coupon takes it under the cost floor.
            floor_total = cost * qty
            discount = round(price * qty - floor_total * float(rng.uniform(0.9, 0.99)), 2)
            _order(world, stream, oid, ts, acc, [(pid, qty)], discount=discount, coupon=f"c-deep-{stream.id}")
        else:
            low = round(cost * float(rng.uniform(0.9, 0.99) if hard else rng.uniform(0.4, 0.7)), 2)
            _order(world, stream, oid, ts, acc, [(pid, qty)], unit_price={pid: low})
        world.label("order", oid, "below_cost")


def _reported_counts(world: _World, stream: _Stream) -> None:
    joins = np.array([p[0] for p in stream.present])
    leaves = np.array([p[1] for p in stream.present])
    t = stream.start + 60
    while t <= stream.end:
        online = int(np.count_nonzero((joins <= t) & (leaves > t)))
        world.emit(t, {"type": "viewers", "stream_id": stream.id, "reported": int(online * stream.reported_boost)})
        t += 60


def simulate(*, seed: int, scenario: str, scale: float = 1.0, n_streams: int = 10) -> tuple[list[dict], list[dict]]:
    """The events (sorted by time, with ids) and the labels of one scenario."""
    if scenario not in SCENARIOS:
        raise ValueError(f"unknown scenario {scenario!r}; choose from {', '.join(SCENARIOS)}")
    world = _build_world(seed, scale)
    streams = _streams(world, n_streams)
    counter = {"s": 0, "o": 0}
    for i, (price, cost) in enumerate(world.products.values()):
        world.emit(T0 - DAY + i, {"type": "product", "product_id": f"p{i}", "cost": cost, "price": price})
    hard = scenario == "hard"
    every = scenario in ("mixed", "hard")
    official = [s for s in streams if s.official]
    for stream in streams:
        world.emit(stream.start, {"type": "stream", "stream_id": stream.id, "host_id": stream.host,
                                  "official": stream.official, "host_org": stream.org,
                                  "title": f"助农直播 {stream.id}", "end_ts": iso(stream.end)})
        _honest_stream(world, stream, counter)
    if scenario == "quota" or every:
        for stream in official[:2]:
            _inject_quota(world, stream, counter, hard)
    if scenario == "fake_order" or every:
        _inject_fake_orders(world, streams, counter, hard)
    if scenario == "inflated_traffic" or every:
        for stream in streams[1:3]:
            _inject_bots(world, stream, counter, hard)
    if scenario == "below_cost" or every:
        _inject_below_cost(world, official[-1], counter, hard)
    for stream in streams:
        _reported_counts(world, stream)
    world.events.sort(key=lambda e: (e[0], e[1]))
    out = []
    for n, (ts, _, ev) in enumerate(world.events):
        ev = {"type": ev["type"], "event_id": f"e{n}", "ts": iso(ts), **{k: v for k, v in ev.items() if k != "type"}}
        out.append(ev)
    return out, world.labels


def iter_lines(events: list[dict]) -> Iterator[str]:
    from zhunong.supervision.eventlog import dumps

    for ev in events:
        yield dumps(ev) + "\n"

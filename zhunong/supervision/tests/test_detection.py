"""Detectors on small hand-written logs (each signal alone) and on simulated scenarios (precision/recall)."""

import json

import numpy as np
import pytest
import scipy.sparse as sp

from zhunong.supervision.detection import below_cost, fake_orders, quota, scan, traffic
from zhunong.supervision.detection.evaluate import evaluate
from zhunong.supervision.detection.fraudar import column_weights, dense_blocks, peel
from zhunong.supervision.detection.simulate import iter_lines, simulate
from zhunong.supervision.eventlog import iso, read_log

T = 1_780_000_000.0


class Log:
    """A hand-written log: events added in any order, written sorted with ids."""

    def __init__(self) -> None:
        self.events: list[tuple[float, int, dict]] = []

    def add(self, ts: float, **ev) -> None:  # noqa: ANN003
        self.events.append((ts, len(self.events), ev))

    def read(self):  # noqa: ANN201
        lines = [json.dumps({"event_id": f"e{n}", "ts": iso(ts), **ev}) + "\n"
                 for n, (ts, _, ev) in enumerate(sorted(self.events, key=lambda e: (e[0], e[1])))]
        log = read_log(lines)
        assert log.bad_lines == []
        return log


def acc(i: object, *, days_old: float = 400, **meta) -> dict:  # noqa: ANN003
    return {"id": f"a{i}", "created_at": iso(T - days_old * 86400), **meta}


# FRAUDAR ---------------------------------------------------------------------------------------------------

def test_peeling_finds_a_planted_dense_block_in_a_sparse_graph():
    rng = np.random.default_rng(0)
    n_rows, n_cols = 400, 300
    rows = rng.integers(0, n_rows, 1200)
    cols = rng.integers(0, n_cols, 1200)
    planted_rows, planted_cols = np.arange(380, 400), np.arange(280, 290)
    r2, c2 = np.meshgrid(planted_rows, planted_cols)
    keep = rng.random(r2.size) < 0.8
    matrix = sp.csr_matrix((np.ones(1200 + keep.sum()), (np.r_[rows, r2.ravel()[keep]], np.r_[cols, c2.ravel()[keep]])),
                           shape=(n_rows, n_cols))
    block = peel(column_weights(matrix))
    found_rows = set(block.rows.tolist())
    assert len(found_rows & set(planted_rows.tolist())) >= 18
    assert len(found_rows - set(planted_rows.tolist())) <= 2
    assert set(block.cols.tolist()) >= set(planted_cols.tolist()) - {285}


def test_camouflage_on_popular_columns_does_not_hide_the_block():
    # The ring also buys the best seller (column 0), as do 300 honest buyers: weighting by 1/log(d+5)
    # keeps the popular column from dominating, so the densest block is still the ring's cells.
    rows = list(range(300)) + [r for r in range(300, 315) for _ in range(1)]
    cols = [0] * 315
    for r in range(300, 315):
        for c in (5, 6, 7, 8):
            rows.append(r)
            cols.append(c)
    matrix = sp.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(315, 10))
    block = dense_blocks(matrix, blocks=1)[0]
    assert set(block.rows.tolist()) == set(range(300, 315))
    assert {5, 6, 7, 8} <= set(block.cols.tolist())


def test_peeling_an_empty_graph_finds_nothing():
    assert dense_blocks(sp.csr_matrix((5, 5))) == []


# Below cost ------------------------------------------------------------------------------------------------

def _stream(log: Log, sid: str = "s1", *, official: bool = True, org: str | None = "org1", at: float = T) -> None:
    log.add(at, type="stream", stream_id=sid, host_id="h1", official=official, host_org=org,
            end_ts=iso(at + 7200))


def test_a_coupon_that_takes_units_under_cost_is_flagged_and_a_buyer_of_the_hosts_org_named():
    log = Log()
    _stream(log)
    item = {"product_id": "p1", "quantity": 2, "unit_price": 20.0, "unit_cost": 15.0}
    log.add(T + 10, type="order", order_id="fine", stream_id="s1", account=acc(1), items=[item], amount=32.0)
    log.add(T + 20, type="order", order_id="deep", stream_id="s1", account=acc(2, org="org1"), items=[item],
            amount=28.0, discount=12.0)
    log.add(T + 30, type="order", order_id="cheap", stream_id="s1", account=acc(3),
            items=[{**item, "unit_price": 9.0}], amount=18.0)
    [flag] = below_cost.detect(log.read())
    assert flag["order_ids"] == ["cheap", "deep"] and flag["account_ids"] == ["a2"]
    assert flag["evidence"]["buyers_in_host_org"] == 1 and flag["evidence"]["loss_below_cost"] == 14.0


def test_below_cost_without_a_known_cost_is_not_judged():
    log = Log()
    _stream(log)
    log.add(T + 10, type="order", order_id="o1", stream_id="s1", account=acc(1),
            items=[{"product_id": "p9", "quantity": 1, "unit_price": 0.5}], amount=0.5)
    assert below_cost.detect(log.read()) == []


# Quota -----------------------------------------------------------------------------------------------------

def _honest_buyers(log: Log, n: int, *, sid: str = "s1", start: int = 0, rng=None) -> None:  # noqa: ANN001
    rng = rng or np.random.default_rng(1)
    prices = [19.9, 39.9, 68.0, 128.0]
    for i in range(start, start + n):
        price = float(rng.choice(prices))
        q = int(rng.integers(1, 4))
        young = rng.random() < 0.1
        log.add(T + 60 + i, type="order", order_id=f"h{i}", stream_id=sid,
                account=acc(f"h{i}", days_old=3 if young else 500),
                items=[{"product_id": f"p{price}", "quantity": q, "unit_price": price}], amount=round(price * q, 2),
                ship_to_hash=f"home{i}")


def test_new_accounts_with_baskets_just_over_a_threshold_are_a_quota():
    log = Log()
    _stream(log)
    _honest_buyers(log, 150)
    for i in range(30):  # staff told to spend at least 100: 39.9 x 3 = 119.7 or 68 + 39.9 = 107.9
        items = ([{"product_id": "p39.9", "quantity": 3, "unit_price": 39.9}] if i % 2 else
                 [{"product_id": "p68.0", "quantity": 1, "unit_price": 68.0},
                  {"product_id": "p39.9", "quantity": 1, "unit_price": 39.9}])
        log.add(T + 3000 + i * 200, type="order", order_id=f"q{i}", stream_id="s1",
                account=acc(f"q{i}", days_old=2), items=items, amount=round(sum(x["unit_price"] * x["quantity"]
                                                                               for x in items), 2))
    flags = quota.detect(log.read())
    assert len(flags) == 1
    flag = flags[0]
    assert flag["evidence"]["threshold"] in (80, 100)  # every basket is also a minimal one above 80
    assert {f"q{i}" for i in range(30)} <= set(flag["order_ids"])
    # New honest buyers whose basket happens to fall in the band cannot be told apart order by order
    # (10% of these buyers are new, and many baskets are in the band): a few ride along.
    assert len(set(flag["order_ids"]) - {f"q{i}" for i in range(30)}) <= 7
    assert flag["evidence"]["bought_without_watching"] == len(flag["order_ids"])


def test_many_buyers_shipping_to_one_workplace_are_linked_even_with_old_accounts():
    log = Log()
    _stream(log)
    _honest_buyers(log, 150)
    for i in range(25):
        log.add(T + 3000 + i * 100, type="order", order_id=f"q{i}", stream_id="s1", account=acc(f"q{i}"),
                items=[{"product_id": "p68.0", "quantity": 3, "unit_price": 68.0}], amount=204.0,
                ship_to_hash="county-office")
    [flag] = quota.detect(log.read())
    assert flag["evidence"]["threshold"] == 200 and "county-office" in flag["evidence"]["shared_delivery_addresses"]
    assert {f"q{i}" for i in range(25)} <= set(flag["order_ids"])


def test_honest_buyers_alone_raise_no_quota():
    log = Log()
    _stream(log)
    _honest_buyers(log, 400, rng=np.random.default_rng(5))
    assert quota.detect(log.read()) == []


# Fake orders -----------------------------------------------------------------------------------------------

def _ring_log(*, refund: bool) -> Log:
    log = Log()
    rng = np.random.default_rng(3)
    for s in range(4):
        start = T + s * 86400
        _stream(log, f"s{s}", at=start)
        for i in range(120):  # honest buyers: 8% cancel unpaid, a few refund much later
            oid = f"h{s}-{i}"
            log.add(start + 100 + i, type="order", order_id=oid, stream_id=f"s{s}", account=acc(f"h{s}-{i}"),
                    items=[{"product_id": f"p{i % 6}", "quantity": 1, "unit_price": 30}], amount=30)
            if rng.random() < 0.08:
                log.add(start + 1100 + i, type="cancel", order_id=oid)
            else:
                log.add(start + 400 + i, type="payment", order_id=oid, amount=30)
        for r in range(15):  # the ring: the same accounts in every stream, on the same two products
            oid = f"r{s}-{r}"
            log.add(start + 2000 + r * 60, type="order", order_id=oid, stream_id=f"s{s}", account=acc(f"r{r}"),
                    items=[{"product_id": f"p{r % 2}", "quantity": 1, "unit_price": 30}], amount=30)
            log.add(start + 2300 + r * 60, type="payment", order_id=oid, amount=30)
            if refund:
                log.add(start + 7200 + 3600 + r, type="refund", order_id=oid, amount=30)
    return log


def test_a_ring_that_refunds_after_each_stream_is_flagged_with_fraudars_block():
    flags = fake_orders.detect(_ring_log(refund=True).read())
    assert len(flags) == 1
    flag = flags[0]
    assert set(flag["account_ids"]) == {f"a{'r'}{r}" for r in range(15)}
    assert set(flag["order_ids"]) == {f"r{s}-{r}" for s in range(4) for r in range(15)}
    assert flag["evidence"]["undone_rate"] == 1.0 and flag["evidence"]["normal_undone_rate"] < 0.2
    assert flag["evidence"]["streams"] == ["s0", "s1", "s2", "s3"]


def test_loyal_buyers_who_keep_their_orders_are_not_fake():
    assert fake_orders.detect(_ring_log(refund=False).read()) == []


def test_shopee_baseline_sees_only_repeated_orders_within_an_hour():
    log = Log()
    _stream(log)
    for i in range(6):
        log.add(T + 100 + i, type="order", order_id=f"o{i}", stream_id="s1", account=acc(1),
                items=[{"product_id": "p1", "quantity": 1, "unit_price": 5}], amount=5)
    [flag] = fake_orders.shopee_rule(log.read())
    assert flag["evidence"] == {"detector": "baseline.shopee_orders_per_buyer", "stream_id": "s1", "orders": 6,
                                "buyers": 1}


# Inflated traffic ------------------------------------------------------------------------------------------

def _audience(log: Log, n: int, *, rng) -> None:  # noqa: ANN001
    for i in range(n):
        joined = T + float(rng.uniform(0, 6000))
        length = float(rng.lognormal(np.log(300), 1))
        log.add(joined, type="join", stream_id="s1", session_id=f"v{i}", address_hash=f"nat{int(rng.integers(40))}",
                device_hash=f"d{i}")
        t = joined + 30
        while t < joined + length:
            log.add(t, type="heartbeat", session_id=f"v{i}")
            t += 30
        if rng.random() < 0.5:
            log.add(joined + length / 2, type="chat", session_id=f"v{i}")
        log.add(joined + length + 1, type="leave", session_id=f"v{i}")


def test_silent_sessions_from_a_few_addresses_are_bots_and_busy_nat_addresses_are_not():
    rng = np.random.default_rng(2)
    log = Log()
    _stream(log)
    _audience(log, 600, rng=rng)
    for b in range(80):
        joined = T + float(rng.uniform(0, 6000))
        log.add(joined, type="join", stream_id="s1", session_id=f"bot{b}", address_hash=f"dc{b % 3}",
                device_hash=f"fresh{b}")
        for k in range(1, 20):
            log.add(joined + 30 * k, type="heartbeat", session_id=f"bot{b}")
    [flag] = traffic.detect(log.read())
    assert set(flag["session_ids"]) == {f"bot{b}" for b in range(80)}
    assert {g["key"] for g in flag["evidence"]["groups"]} == {"dc0", "dc1", "dc2"}


def test_a_displayed_count_above_the_live_sessions_is_flagged_for_the_stream():
    rng = np.random.default_rng(4)
    log = Log()
    _stream(log)
    _audience(log, 300, rng=rng)
    read = log.read()
    sessions = list(read.sessions.values())
    honest = Log()
    honest.events = list(log.events)
    for m in range(1, 100):
        t = T + 60 * m
        alive = sum(1 for s in sessions if s.joined <= t <= s.last_seen)
        log.add(t, type="viewers", stream_id="s1", reported=alive * 3)
        honest.add(t, type="viewers", stream_id="s1", reported=alive)
    flags = traffic.detect(log.read())
    assert [f["evidence"]["detector"] for f in flags] == ["inflated_traffic.displayed_count"]
    assert flags[0]["evidence"]["displayed_over_alive"] > 2.5 and flags[0]["session_ids"] == []
    assert traffic.detect(honest.read()) == []


# Simulated scenarios: unseen seeds (the seeds tuned on were 1, 2, 3 and 7) --------------------------------

def _measure(scenario: str, seed: int) -> dict:
    events, labels = simulate(seed=seed, scenario=scenario, scale=0.5)
    log = read_log(iter_lines(events))
    assert log.bad_lines == []
    return evaluate(scan(log), labels, totals={"order": len(log.orders), "session": len(log.sessions)})


@pytest.mark.parametrize("seed", [41])
def test_hard_scenario_meets_the_goals(seed):
    result = _measure("hard", seed)
    for abuse in ("quota", "fake_order", "inflated_traffic", "below_cost"):
        assert result[abuse]["precision"] >= 0.9, (abuse, result[abuse])
        assert result[abuse]["recall"] >= 0.8, (abuse, result[abuse])


def test_honest_scenario_flags_under_one_percent():
    result = _measure("honest", 43)
    assert result["honest_orders_flagged"]["share"] < 0.01
    assert result["honest_sessions_flagged"]["share"] < 0.01


def test_a_log_with_only_the_required_fields_scans_and_invents_nothing():
    # No account metadata, no addresses or devices, no stream end, no costs: detectors that need them
    # have nothing to go on, and one cell of orders all cancelled gives no normal rate to compare with.
    log = Log()
    log.add(T, type="stream", stream_id="s", host_id="h", official=False)
    for i in range(300):
        log.add(T + 10 + i, type="join", stream_id="s", session_id=f"v{i}")
    for i in range(300):
        log.add(T + 400 + i, type="order", order_id=f"x{i}", stream_id="s" if i % 2 else None,
                account={"id": f"a{i % 50}"}, items=[{"product_id": "p", "quantity": 1, "unit_price": "9.9"}],
                amount="9.9")
    for i in range(300):
        log.add(T + 800 + i, type="cancel", order_id=f"x{i}")
    read = log.read()
    assert read.accounts["a1"].created_at is None and read.sessions["v1"].address_hash is None
    assert scan(read) == []

"""`zhunong simulate`: reproducible labelled logs, readable by the documented reader."""

import json

import pytest
from django.core.management import CommandError, call_command

from zhunong.supervision.detection.simulate import SCENARIOS, simulate
from zhunong.supervision.eventlog import read_log


def test_the_same_seed_gives_the_same_log_and_another_seed_another():
    a, la = simulate(seed=5, scenario="quota", scale=0.1, n_streams=4)
    b, lb = simulate(seed=5, scenario="quota", scale=0.1, n_streams=4)
    c, _ = simulate(seed=6, scenario="quota", scale=0.1, n_streams=4)
    assert a == b and la == lb
    assert a != c


def test_honest_has_no_labels_and_each_abuse_labels_its_own_kind():
    _, honest = simulate(seed=1, scenario="honest", scale=0.1, n_streams=4)
    assert honest == []
    for abuse in ("quota", "fake_order", "inflated_traffic", "below_cost"):
        _, labels = simulate(seed=1, scenario=abuse, scale=0.1, n_streams=4)
        assert labels and {lab["abuse"] for lab in labels} == {abuse}


def test_the_log_has_every_event_type_in_time_order_and_reads_without_a_bad_line():
    events, labels = simulate(seed=2, scenario="hard", scale=0.1, n_streams=4)
    assert {e["type"] for e in events} == {"stream", "viewers", "product", "join", "heartbeat", "leave", "chat",
                                          "like", "click", "order", "payment", "cancel", "refund"}
    assert [e["ts"] for e in events] == sorted(e["ts"] for e in events)
    log = read_log(json.dumps(e) + "\n" for e in events)
    assert log.bad_lines == []
    labelled_orders = {lab["order_id"] for lab in labels if "order_id" in lab}
    assert labelled_orders <= set(log.orders)
    # Honest viewers share carrier-NAT addresses: the signal bots use also occurs innocently.
    sessions_per_address: dict = {}
    for s in log.sessions.values():
        sessions_per_address[s.address_hash] = sessions_per_address.get(s.address_hash, 0) + 1
    assert max(sessions_per_address.values()) > 50


def test_the_command_writes_the_log_and_the_labels_beside_it_and_evaluates(tmp_path, capsys):
    out = tmp_path / "events.jsonl"
    call_command("simulate", "--seed", "3", "--scenario", "below_cost", "--scale", "0.1", "--streams", "4",
                 "--out", str(out), "--evaluate")
    labels = [json.loads(line) for line in (tmp_path / "events.labels.jsonl").read_text().splitlines()]
    assert labels and all(set(lab) in ({"order_id", "abuse"}, {"account_id", "abuse"}) for lab in labels)
    result = json.loads(capsys.readouterr().out)
    assert result["below_cost"]["recall"] == 1.0 and result["below_cost"]["precision"] == 1.0
    assert out.read_text().count("\n") > 1000


def test_bad_arguments_are_refused(tmp_path):
    with pytest.raises(CommandError):
        call_command("simulate", "--seed", "1", "--scenario", "hard", "--scale", "50", "--out", str(tmp_path / "x"))
    with pytest.raises(CommandError):
        call_command("simulate", "--seed", "1", "--scenario", "nope", "--out", str(tmp_path / "x"))
    with pytest.raises(ValueError, match="unknown scenario"):
        simulate(seed=1, scenario="nope")
    assert {"honest", "hard"} <= set(SCENARIOS)

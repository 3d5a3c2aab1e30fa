"""The room benchmark's bookkeeping (the load itself runs only under `zhunong bench room`)."""

from zhunong.bench.room import _merge

OPTIONS = {"viewers": 3, "chat_rate": 10.0, "load_processes": 2}


def _result(**kw):  # noqa: ANN003, ANN202
    base = {"latency_hist": {}, "important_sent": [], "important_received": {}, "sent": 0, "delivered": 0,
            "closed_by_server": {}, "measure_seconds": 10.0, "sampled_out_reported": 0, "connect_failures": 0,
            "connect_seconds": 1.0, "frames_received": 0, "load_cpu_seconds": 0.5, "host_errors": []}
    base.update(kw)
    return base


def test_merge_adds_processes_and_counts_system_messages_missed_by_anyone():
    a = _result(latency_hist={"10": 50, "100": 49, "900": 1}, important_sent=["pin:1", "pin:2", "chat:7"],
                important_received={"pin:1": 2, "pin:2": 2, "chat:7": 1}, sent=5, delivered=10)
    b = _result(important_received={"pin:1": 1, "pin:2": 1}, delivered=4, closed_by_server={"4429": 1})
    out = _merge([a, b], OPTIONS, chatters=2, connected=3, server_cpu=55.0, server_rss=100.0, servers=1)
    assert out["latency_ms"] == {"p50": 10, "p95": 100, "p99": 100}
    # chat:7 reached 1 of 3 viewers: one system message lost, two deliveries missed.
    assert out["system_lost"] == 1 and out["system_missed_deliveries"] == 2
    assert out["sent"] == 5 and out["delivered"] == 14 and out["expected_chat_deliveries"] == 15
    assert out["closed_by_server"] == {"4429": 1}


def test_merge_without_latency_samples():
    out = _merge([_result()], OPTIONS, chatters=1, connected=1, server_cpu=None, server_rss=None, servers=0)
    assert out["latency_ms"] == {"p50": None, "p95": None, "p99": None} and out["system_lost"] == 0

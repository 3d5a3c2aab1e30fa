"""The room benchmark's bookkeeping (the load itself runs only under `zhunong bench room`)."""

from zhunong.bench.room import _merge, _merge_arrival
from zhunong.bench.room_loadgen import HIST_MS, percentiles, source_address

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


def _arrival(**kw):  # noqa: ANN003, ANN202
    base = {"arrivals": 0, "welcomed": 0, "refusals": {}, "first_tap": 100.0, "last_tap": 105.0, "welcome_hist": {},
            "page_hist": {}, "start_lag_hist": {}, "chat_hist": {}}
    base.update(kw)
    return base


def test_every_anonymous_client_has_its_own_loopback_address():
    # Load process i numbers its clients from i * 1,000,000, arrivals from + 500,000 (room._drive).
    numbers = [*range(0, 6000), *range(500_000, 506_000), *range(1_000_000, 1_006_000), *range(1_500_000, 1_506_000)]
    addresses = [source_address(n) for n in numbers]
    assert len(set(addresses)) == len(addresses)
    for a in addresses:
        octets = [int(x) for x in a.split(".")]
        assert octets[0] == 127 and 0 < octets[3] < 255 and a != "127.0.0.1"


def test_percentiles_of_a_histogram():
    hist = [0] * (HIST_MS + 1)
    hist[5], hist[700], hist[HIST_MS] = 98, 1, 1
    assert percentiles(hist) == {"p50": 5, "p95": 5, "p99": 700}
    assert percentiles([0] * 10) == {"p50": None, "p95": None, "p99": None}


def test_merge_arrival_adds_load_processes():
    a = _result(arrival=_arrival(welcomed=2, refusals={"page_http_503": 1}, welcome_hist={"300": 1, "1200": 1},
                                 page_hist={"100": 3}, chat_hist={"40": 10}, first_tap=100.0, last_tap=104.9))
    b = _result(arrival=_arrival(welcomed=1, welcome_hist={"400": 1}, page_hist={"90": 1}, first_tap=100.1,
                                 last_tap=105.0))
    out = _merge_arrival([a, b], {"arrivals": 5, "arrival_seconds": 5.0})
    assert out["welcomed"] == 3 and out["refused"] == 1 and out["refusals"] == {"page_http_503": 1}
    # One of the five taps neither welcomed nor refused (still waiting when the run ended).
    assert out["unanswered"] == 1
    assert out["welcome_ms"] == {"p50": 400, "p95": 1200, "p99": 1200}
    assert out["joins_per_second"] == 0.6 and out["tap_seconds"] == 5.0
    assert out["chat_during_arrival_ms"]["p99"] == 40


def test_http_get_reads_status_and_body_from_its_own_source_address():
    import asyncio

    from zhunong.bench.room_loadgen import http_get

    peers = []

    async def handle(reader, writer):  # noqa: ANN001, ANN202
        head = await reader.readuntil(b"\r\n\r\n")
        peers.append((writer.get_extra_info("peername")[0], head.split(b"\r\n", 1)[0]))
        writer.write(b"HTTP/1.1 404 Not Found\r\nContent-Length: 5\r\nConnection: close\r\n\r\nnope!")
        await writer.drain()
        writer.close()

    async def main():  # noqa: ANN202
        server = await asyncio.start_server(handle, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        async with server:
            return await http_get(f"http://127.0.0.1:{port}/live/7/", source_address(1234))

    assert asyncio.run(main()) == (404, 5)
    assert peers == [(source_address(1234), b"GET /live/7/ HTTP/1.1")]

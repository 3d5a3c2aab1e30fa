"""Load generator for flash-sale purchase attempts: a separate process, raw HTTP/1.1 over keep-alive.

Run as `python -m zhunong.bench.flash_sale_loadgen` with a JSON job on stdin:
    {"host": "127.0.0.1", "port": 18510, "path": "/api/v1/orders", "connections": 64,
     "attempts": [{"token": "...", "key": "...", "body": {...}}, ...]}
It prints one JSON object: elapsed seconds, per-attempt latency percentiles and counts of statuses and
error codes. It imports nothing from Django, so it starts fast and measures only the server.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections import Counter


def percentile(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return 0.0
    index = min(len(sorted_values) - 1, max(0, round(q / 100 * (len(sorted_values) - 1))))
    return sorted_values[index]


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError as exc:
        if not exc.partial:
            raise ConnectionError("closed")
        raise
    status = int(head[9:12])
    length = 0
    chunked = False
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value.strip())
        elif name == b"transfer-encoding" and b"chunked" in value.lower():
            chunked = True
    if chunked:
        body = b""
        while True:
            size = int((await reader.readline()).strip(), 16)
            if size == 0:
                await reader.readline()
                break
            body += await reader.readexactly(size)
            await reader.readline()
        return status, body
    return status, await reader.readexactly(length) if length else b""


def _request(host: str, port: int, path: str, attempt: dict) -> bytes:
    body = json.dumps(attempt["body"]).encode()
    return (
        f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\nAuthorization: Bearer {attempt['token']}\r\n"
        f"Idempotency-Key: {attempt['key']}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode() + body


async def run(job: dict) -> dict:
    host, port, path = job["host"], job["port"], job.get("path", "/api/v1/orders")
    queue: asyncio.Queue = asyncio.Queue()
    # Requests are encoded before the clock starts: the generator should spend its CPU on the wire only.
    for attempt in job["attempts"]:
        queue.put_nowait((attempt["key"], _request(host, port, path, attempt)))
    latencies: list[float] = []
    statuses: Counter = Counter()
    codes: Counter = Counter()
    transport_errors = 0
    results: list[list] = []
    detail = bool(job.get("detail"))

    async def worker() -> None:
        nonlocal transport_errors
        reader = writer = None
        while True:
            try:
                key, request = queue.get_nowait()
            except asyncio.QueueEmpty:
                break
            for _try in range(2):
                try:
                    if writer is None:
                        reader, writer = await asyncio.open_connection(host, port)
                    started = time.perf_counter()
                    writer.write(request)
                    await writer.drain()
                    status, payload = await _read_response(reader)
                    latencies.append((time.perf_counter() - started) * 1000)
                    statuses[status] += 1
                    data = {}
                    try:
                        data = json.loads(payload) if payload else {}
                    except ValueError:
                        codes["non_json"] += 1
                    if status >= 400:
                        codes[data.get("code", "?")] += 1
                    if detail:
                        results.append([key, status, data.get("id"), data.get("code")])
                    break
                except (ConnectionError, asyncio.IncompleteReadError, OSError, ValueError):
                    transport_errors += 1
                    if writer is not None:
                        writer.close()
                    reader = writer = None
        if writer is not None:
            writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(job.get("connections", 64))))
    elapsed = time.perf_counter() - started
    latencies.sort()
    out = {
        "attempts": len(latencies),
        "elapsed_s": round(elapsed, 3),
        "attempts_per_s": round(len(latencies) / elapsed, 1) if elapsed else 0.0,
        "latency_ms": {"p50": round(percentile(latencies, 50), 2), "p90": round(percentile(latencies, 90), 2),
                       "p99": round(percentile(latencies, 99), 2), "max": round(latencies[-1], 2) if latencies else 0},
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
        "codes": dict(codes),
        "transport_errors": transport_errors,
    }
    if detail:
        out["results"] = results
    return out


def main() -> None:
    job = json.load(sys.stdin)
    try:  # uvloop is optional: a faster event loop when it is installed
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    print(json.dumps(asyncio.run(run(job))))


if __name__ == "__main__":
    main()

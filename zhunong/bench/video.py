"""`zhunong bench video`: glass-to-glass latency of the live pipeline, measured on what nginx serves.

The whole pipeline runs for real on loopback, in a scratch directory (its own SQLite database, storage and
ports): the platform (uvicorn) answers nginx-rtmp's callbacks, nginx relays the stream and writes HLS.
The publisher is ffmpeg reading raw frames from this process: frame n carries n as a row of black and
white blocks (plus the wall clock drawn as text for people), and the wall-clock time each frame was
handed to the encoder is recorded — that is the "glass". The reader polls the playlist as it is served,
decodes the frames of each new segment and reads their numbers back exactly (no OCR), giving:

- newest-frame latency: when a new segment appears in the playlist, now − capture time of its last frame
  (the freshest picture any HLS player could fetch; a lower bound);
- player latency: now − capture time of the frame at the position a standard player holds back from the
  live edge (hold-back of 3 target durations: the HLS spec's minimum, hls.js' and Safari's default).
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

from django.conf import settings

from zhunong.video.media import missing_programs

WIDTH, HEIGHT = 640, 368  # a multiple of 16, so no cropping anywhere
BITS = 24                 # 20 bits of frame number + 4 bits of checksum
BLOCK = 32
ORIGIN = (16, 16)
PER_ROW = 12


def add_arguments(parser) -> None:  # noqa: ANN001
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of measurement (default 60)")
    parser.add_argument("--fragment", type=int, default=2, help="hls_fragment in seconds (default 2)")
    parser.add_argument("--playlist-length", type=int, default=12, help="hls_playlist_length in seconds")
    parser.add_argument("--keyframe", type=float, default=None,
                        help="encoder keyframe interval in seconds (default: the fragment length)")
    parser.add_argument("--fps", type=int, default=25)
    parser.add_argument("--hold-back", type=float, default=3.0,
                        help="target durations a player stays behind the live edge (HLS spec minimum: 3)")
    parser.add_argument("--rtmp-port", type=int, default=19352)
    parser.add_argument("--http-port", type=int, default=18652)
    parser.add_argument("--platform-port", type=int, default=18653)
    parser.add_argument("--keep", action="store_true", help="keep the scratch directory (var/bench-video)")
    parser.add_argument("--trace", default="", help="write every sample (time, kind, latency, frame) to this file")


# --- the frame number code ---------------------------------------------------------------------------------

def _checksum(n: int) -> int:
    return bin(n).count("1") % 16


def encode_frame(n: int, fps: int) -> bytes:
    """A gray frame with n in blocks (white = 1) and a moving bar, so the encoder has real work."""
    frame = bytearray(b"\x60" * (WIDTH * HEIGHT))
    value = (n % (1 << 20)) | (_checksum(n % (1 << 20)) << 20)
    x0, y0 = ORIGIN
    for bit in range(BITS):
        if not (value >> bit) & 1:
            shade = b"\x00" * BLOCK
        else:
            shade = b"\xff" * BLOCK
        bx = x0 + (bit % PER_ROW) * BLOCK
        by = y0 + (bit // PER_ROW) * BLOCK
        for y in range(by, by + BLOCK):
            frame[y * WIDTH + bx: y * WIDTH + bx + BLOCK] = shade
    bar = (n * 8) % (WIDTH - 24)
    for y in range(120, HEIGHT):
        frame[y * WIDTH + bar: y * WIDTH + bar + 24] = b"\xc8" * 24
    return bytes(frame)


def decode_frame(frame: bytes) -> int | None:
    """The frame number, or None if the blocks do not read back with a valid checksum."""
    x0, y0 = ORIGIN
    value = 0
    for bit in range(BITS):
        bx = x0 + (bit % PER_ROW) * BLOCK + BLOCK // 2 - 4
        by = y0 + (bit // PER_ROW) * BLOCK + BLOCK // 2 - 4
        total = sum(sum(frame[(by + dy) * WIDTH + bx: (by + dy) * WIDTH + bx + 8]) for dy in range(8))
        if total / 64 > 127:
            value |= 1 << bit
    n = value & ((1 << 20) - 1)
    return n if (value >> 20) == _checksum(n) else None


# --- helpers --------------------------------------------------------------------------------------------------

def _wait_port(port: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.3):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port}")


def _get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=3) as resp:  # noqa: S310 (loopback)
            return resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, b""
    except (urllib.error.URLError, OSError):
        return 0, b""


def parse_playlist(body: bytes) -> tuple[float, list[tuple[float, str]]]:
    target = 0.0
    entries: list[tuple[float, str]] = []
    duration = None
    for raw in body.decode(errors="replace").splitlines():
        line = raw.strip()
        if line.startswith("#EXT-X-TARGETDURATION:"):
            target = float(line.split(":", 1)[1])
        elif line.startswith("#EXTINF:"):
            duration = float(line.split(":", 1)[1].split(",", 1)[0])
        elif line and not line.startswith("#") and duration is not None:
            entries.append((duration, line))
            duration = None
    return target, entries


def _summary(values: list[float]) -> dict:
    if not values:
        return {"samples": 0}
    p90 = statistics.quantiles(values, n=10)[-1] if len(values) >= 2 else values[0]
    return {"samples": len(values), "median_s": round(statistics.median(values), 3), "p90_s": round(p90, 3),
            "worst_s": round(max(values), 3), "best_s": round(min(values), 3)}


def _machine() -> dict:
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"cpus": os.cpu_count(), "cpu": model or platform.processor(), "os": platform.platform()}


def _child_prepare() -> None:
    """Run inside the scratch environment: a county, a verified host, a stream scheduled now; print its key."""
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "zhunong.settings")
    django.setup()
    # This child imports the module before Django is set up (`python -c`); models only after setup().
    from zhunong.testing import build_world
    from zhunong.video.services import ensure_ingest

    room = build_world("BENCH").live_room(status="scheduled", products=1, title="延迟测试")
    print(json.dumps({"stream_id": room.stream.pk, "key": ensure_ingest(stream=room.stream).stream_key}))


# --- the run ---------------------------------------------------------------------------------------------------

class _Publisher:
    def __init__(self, cmd: list[str], fps: int) -> None:
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        self.fps = fps
        self.sent: list[float] = []
        self.stop_event = threading.Event()
        self.thread = threading.Thread(target=self._run, name="bench-publisher", daemon=True)
        self.error = ""

    def start(self) -> _Publisher:
        self.thread.start()
        return self

    def _run(self) -> None:
        t0 = time.time() + 0.2
        n = 0
        try:
            while not self.stop_event.is_set():
                frame = encode_frame(n, self.fps)
                delay = t0 + n / self.fps - time.time()
                if delay > 0:
                    time.sleep(delay)
                self.sent.append(time.time())  # the frame leaves the "camera" now
                self.proc.stdin.write(frame)
                n += 1
        except (BrokenPipeError, OSError) as exc:
            self.error = f"publisher pipe closed: {exc}"

    def stop(self) -> None:
        self.stop_event.set()
        self.thread.join(timeout=5)
        with contextlib.suppress(OSError):
            self.proc.stdin.close()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def _decode_segment(ffmpeg: str, path: Path) -> list[int | None]:
    proc = subprocess.run([ffmpeg, "-v", "error", "-i", str(path), "-f", "rawvideo", "-pix_fmt", "gray",
                           "-s", f"{WIDTH}x{HEIGHT}", "-"], capture_output=True, timeout=60)
    size = WIDTH * HEIGHT
    data = proc.stdout
    return [decode_frame(data[i:i + size]) for i in range(0, len(data) - size + 1, size)]


def run(options: dict, stdout) -> dict:  # noqa: ANN001, C901, ARG001
    # Progress goes to stderr: with --json, stdout carries exactly one JSON object.
    stdout = sys.stderr
    missing = missing_programs()
    if missing:
        raise SystemExit(f"bench video needs nginx, libnginx-mod-rtmp and ffmpeg; missing: {', '.join(missing)}")
    fps, fragment = options["fps"], options["fragment"]
    keyframe = options["keyframe"] or float(fragment)
    gop = max(1, round(keyframe * fps))
    workdir = Path(settings.VAR_DIR) / "bench-video"
    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(parents=True)
    rtmp, http, plat = options["rtmp_port"], options["http_port"], options["platform_port"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("VIDEO_") and k not in ("REDIS_URL",)}
    env.update({
        "DJANGO_SETTINGS_MODULE": "zhunong.settings", "ZHUNONG_VAR": str(workdir),
        "DATABASE_URL": f"sqlite:///{workdir / 'db.sqlite3'}", "VIDEO_ROOT": str(workdir / "video"),
        "VIDEO_MEDIA_DIR": str(workdir / "media"), "VIDEO_RTMP_PORT": str(rtmp), "VIDEO_HTTP_PORT": str(http),
        "VIDEO_CALLBACK_BASE_URL": f"http://127.0.0.1:{plat}", "VIDEO_HLS_FRAGMENT": str(fragment),
        "VIDEO_HLS_PLAYLIST_LENGTH": str(options["playlist_length"]), "LOG_LEVEL": "WARNING",
    })
    py = sys.executable
    children: list[subprocess.Popen] = []
    publisher: _Publisher | None = None
    log = (workdir / "children.log").open("wb")
    try:
        stdout.write(f"bench video: preparing a scratch platform in {workdir}\n")
        subprocess.run([py, "-m", "zhunong.cli", "migrate", "--noinput"], env=env, check=True, stdout=log,
                       stderr=log, timeout=600)
        prepared = subprocess.run([py, "-c", "from zhunong.bench.video import _child_prepare; _child_prepare()"],
                                  env=env, check=True, capture_output=True, text=True, timeout=120)
        info = json.loads(prepared.stdout.strip().splitlines()[-1])
        children.append(subprocess.Popen(
            [py, "-m", "uvicorn", "zhunong.asgi:application", "--host", "127.0.0.1", "--port", str(plat),
             "--lifespan", "off", "--no-access-log", "--log-level", "warning"], env=env, stdout=log, stderr=log))
        children.append(subprocess.Popen([py, "-m", "zhunong.cli", "media", "run", "--platform-url",
                                          f"http://127.0.0.1:{plat}"], env=env, stdout=log, stderr=log))
        for port in (plat, rtmp, http):
            _wait_port(port, 30)

        ffmpeg = shutil.which("ffmpeg") or "ffmpeg"
        drawtext = " drawtext " in subprocess.run([ffmpeg, "-hide_banner", "-filters"], capture_output=True,
                                                  text=True).stdout
        vf = ["-vf", "format=yuv420p,drawtext=text='%{localtime\\:%H\\\\\\:%M\\\\\\:%S}':x=440:y=h-50:"
                     "fontsize=32:fontcolor=white:box=1:boxcolor=black@0.6"] if drawtext else []
        cmd = [ffmpeg, "-hide_banner", "-loglevel", "error", "-f", "rawvideo", "-pix_fmt", "gray",
               "-s", f"{WIDTH}x{HEIGHT}", "-r", str(fps), "-i", "pipe:0",
               "-re", "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100", *vf,
               "-c:v", "libx264", "-preset", "veryfast", "-tune", "zerolatency", "-pix_fmt", "yuv420p",
               "-g", str(gop), "-keyint_min", str(gop), "-sc_threshold", "0", "-b:v", "1500k", "-maxrate", "1500k",
               "-bufsize", "1500k", "-c:a", "aac", "-b:a", "64k", "-f", "flv",
               f"rtmp://127.0.0.1:{rtmp}/ingest/{info['key']}"]
        publisher = _Publisher(cmd, fps).start()
        started = time.time()
        playlist_url = f"http://127.0.0.1:{http}/hls/{info['stream_id']}.m3u8"
        segments: dict[str, list[int | None]] = {}
        warmup = 5.0
        newest_age: list[float] = []
        trace: list[tuple] = []
        load_before = os.getloadavg()[0]
        player: list[float] = []
        startup = None
        newest = None
        target = 0.0
        stdout.write(f"bench video: measuring for {options['duration']:.0f} s "
                     f"(fragment {fragment} s, keyframe {keyframe:g} s)\n")
        measure_from = None
        while True:
            now = time.time()
            if measure_from is not None and now - measure_from >= options["duration"]:
                break
            if measure_from is None and now - started > 90:
                raise RuntimeError("no playable HLS appeared; see " + str(workdir / "children.log"))
            if publisher.proc.poll() is not None:
                raise RuntimeError("the publisher stopped: " + publisher.proc.stderr.read().decode()[-300:])
            status, body = _get(playlist_url)
            if status == 200:
                target, entries = parse_playlist(body)
                if entries and entries[-1][1] != newest:
                    newest = entries[-1][1]
                    status, data = _get(playlist_url.rsplit("/", 1)[0] + "/" + newest)
                    if status == 200:
                        path = workdir / "segment.ts"
                        path.write_bytes(data)
                        segments[newest] = _decode_segment(ffmpeg, path)
                        numbers = [n for n in segments[newest] if n is not None and n < len(publisher.sent)]
                        if startup is None and numbers:
                            startup = now - started
                        if numbers and measure_from is not None and publisher.sent[numbers[-1]] >= started + startup:
                            newest_age.append(now - publisher.sent[numbers[-1]])
                            trace.append((round(now - started, 3), "newest", round(newest_age[-1], 3),
                                          numbers[-1], newest))
                total = sum(d for d, _ in entries)
                hold = options["hold_back"] * target
                # Frames handed over while RTMP was still connecting waited in the pipe: only frames captured
                # after the first segment was served count, so the figures describe a running stream.
                if measure_from is None and startup is not None and total >= hold \
                        and now - started >= startup + warmup:
                    measure_from = now
                steady = started + (startup or 0.0)
                if measure_from is not None and entries and total >= hold:
                    pos = total - hold
                    uri = entries[-1][1]
                    for duration, candidate in entries:
                        if pos <= duration:
                            uri = candidate
                            break
                        pos -= duration
                    frames = segments.get(uri)
                    if frames is None:
                        status, data = _get(playlist_url.rsplit("/", 1)[0] + "/" + uri)
                        if status == 200:
                            path = workdir / "segment.ts"
                            path.write_bytes(data)
                            frames = segments[uri] = _decode_segment(ffmpeg, path)
                    if frames:
                        idx = min(int(pos * fps), len(frames) - 1)
                        n = next((frames[i] for i in range(idx, -1, -1) if frames[i] is not None), None)
                        if n is not None and n < len(publisher.sent) and publisher.sent[n] >= steady:
                            player.append(now - publisher.sent[n])
                            trace.append((round(now - started, 3), "player", round(player[-1], 3), n, uri))
                for uri in [u for u in segments if u not in {e[1] for e in entries}]:
                    del segments[uri]
            time.sleep(max(0.0, 0.2 - (time.time() - now)))
        if options.get("trace"):
            Path(options["trace"]).write_text("\n".join(json.dumps(row) for row in trace) + "\n")
        return {
            "benchmark": "video",
            "what": "glass-to-glass latency: frame handed to the encoder → the same frame served in HLS by nginx",
            "settings": {"hls_fragment_s": fragment, "hls_playlist_length_s": options["playlist_length"],
                         "keyframe_interval_s": keyframe, "fps": fps, "resolution": f"{WIDTH}x{HEIGHT}",
                         "encoder": "libx264 veryfast zerolatency, CBR 1500 kbit/s, AAC 64 kbit/s",
                         "path": "ffmpeg → RTMP ingest (key check, rename) → push to live app → HLS over HTTP",
                         "player_hold_back_target_durations": options["hold_back"], "poll_interval_s": 0.2},
            "measured_s": options["duration"],
            "startup_s": round(startup, 3) if startup is not None else None,
            "warmup_s": warmup,
            "target_duration_s": target,
            # The freshest frame anyone could fetch when its segment appeared (lower bound for any HLS player).
            "newest_frame_latency": _summary(newest_age),
            # What a standard player shows: 3 target durations behind the end of the playlist.
            "player_latency": _summary(player),
            "machine": {**_machine(), "load_avg_1m_before": round(load_before, 2),
                        "load_avg_1m_after": round(os.getloadavg()[0], 2)},
        }
    finally:
        if publisher is not None:
            publisher.stop()
        for child in reversed(children):
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
                try:
                    child.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    child.kill()
        log.close()
        if not options.get("keep"):
            shutil.rmtree(workdir, ignore_errors=True)



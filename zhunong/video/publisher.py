"""A synthetic publisher for `make demo`: `zhunong serve --demo-video` (see media.run_media) pushes a test
pattern with a burned-in clock and a 440 Hz tone into the demo county's live room, through the same RTMP
ingest and key check a host uses. (The demo streams' keys are made by zhunong.demo.video.)
"""

from __future__ import annotations

import shutil
import subprocess
import threading
import time

from django.db import close_old_connections
from django.utils import timezone

from zhunong.live.models import Stream, StreamStatus

from .conf import video_settings
from .selectors import in_publish_window
from .services import ensure_ingest

MAIN_COUNTY_CODE = "430923"  # 安化县, the demo's main county (zhunong.demo.world)


def demo_stream() -> Stream | None:
    """The demo room to feed: the main county's live stream, else one whose publish window is open now."""
    now = timezone.now()
    candidates = (Stream.objects.filter(status__in=[StreamStatus.LIVE, StreamStatus.SCHEDULED],
                                        host__verified_at__isnull=False)
                  .select_related("channel__county").order_by("planned_start", "id"))
    usable = [s for s in candidates if s.status == StreamStatus.LIVE or in_publish_window(s, now)]
    usable.sort(key=lambda s: (s.channel.county.code != MAIN_COUNTY_CODE, s.status != StreamStatus.LIVE))
    return usable[0] if usable else None


def _has_drawtext(ffmpeg: str) -> bool:
    try:
        out = subprocess.run([ffmpeg, "-hide_banner", "-filters"], capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.TimeoutExpired):
        return False
    return " drawtext " in out


def publisher_command(*, url: str, clock: bool, size: str = "640x360", rate: int = 25,
                      seconds: float | None = None) -> list[str]:
    """ffmpeg publishing a test pattern + tone, keyframe every 2 s (the HLS fragment), as hosts are told."""
    s = video_settings()
    video = f"testsrc2=size={size}:rate={rate}"
    vf = ["-vf", "drawtext=text='%{localtime\\:%H\\\\\\:%M\\\\\\:%S}':x=20:y=40:fontsize=36:fontcolor=white:"
                 "box=1:boxcolor=black@0.6"] if clock else []
    duration = ["-t", f"{seconds:.2f}"] if seconds else []
    return [s.ffmpeg_bin, "-hide_banner", "-loglevel", "error", "-nostdin", "-re",
            "-f", "lavfi", "-i", video, "-re", "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100",
            *duration, *vf, "-c:v", "libx264", "-preset", "veryfast", "-tune", "zerolatency", "-pix_fmt", "yuv420p",
            "-g", str(rate * s.hls_fragment), "-b:v", "800k", "-c:a", "aac", "-b:a", "64k", "-f", "flv", url]


def local_ingest_url() -> str:
    """The ingest as seen from the media server's own machine (the demo runs next to nginx)."""
    s = video_settings()
    host = "127.0.0.1" if s.rtmp_listen in ("0.0.0.0", "*", "127.0.0.1", "") else s.rtmp_listen
    return f"rtmp://{host}:{s.rtmp_port}/{s.ingest_app}"


class DemoPublisher:
    """Keeps the synthetic stream going: restarts ffmpeg when it stops (e.g. before the platform was up)."""

    def __init__(self, *, stdout) -> None:  # noqa: ANN001
        self.stdout = stdout
        self.stop_event = threading.Event()
        self.proc: subprocess.Popen | None = None
        self.thread = threading.Thread(target=self._run, name="demo-publisher", daemon=True)

    def start(self) -> DemoPublisher:
        self.thread.start()
        return self

    def _run(self) -> None:
        s = video_settings()
        ffmpeg = shutil.which(s.ffmpeg_bin)
        if ffmpeg is None:
            self.stdout.write("video demo: ffmpeg is not installed\n")
            return
        clock = _has_drawtext(ffmpeg)
        announced = None
        while not self.stop_event.is_set():
            close_old_connections()
            stream = demo_stream()
            if stream is None:
                if announced != "none":
                    self.stdout.write("video demo: no demo stream is live or scheduled for now; waiting\n")
                    announced = "none"
                self.stop_event.wait(30)
                continue
            key = ensure_ingest(stream=stream).stream_key
            if announced != stream.pk:
                self.stdout.write(f"video demo: publishing a test pattern into stream {stream.pk} "
                                  f"({stream.title}); watch it at /live/{stream.pk}/\n")
                announced = stream.pk
            self.proc = subprocess.Popen(publisher_command(url=f"{local_ingest_url()}/{key}", clock=clock),
                                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                         stderr=subprocess.DEVNULL)
            started = time.monotonic()
            while self.proc.poll() is None and not self.stop_event.is_set():
                self.stop_event.wait(1)
            # Refused or cut: try again soon, but do not spin if the platform keeps refusing.
            self.stop_event.wait(3 if time.monotonic() - started > 30 else 10)

    def stop(self) -> None:
        self.stop_event.set()
        proc = self.proc
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
        self.thread.join(timeout=5)


def start_demo_publisher(*, stdout) -> DemoPublisher:  # noqa: ANN001
    return DemoPublisher(stdout=stdout).start()

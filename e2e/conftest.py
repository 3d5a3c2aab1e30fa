"""The end-to-end harness: a real `zhunong serve` (ASGI server, Huey worker, media server when installed) on a
fresh SQLite database migrated and loaded with `zhunong seed_demo`, driven by Debian's chromium through
Playwright. `make e2e` runs it; the root suite never collects this folder (pyproject's testpaths).

Every page a test opens is registered under a label (`pages.open(...)`); when a test fails, each open page's
screenshot and HTML are kept in var/e2e/ as FAILED-<test>-<label>.png/.html, and the report names the step.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "var" / "e2e"
# helper port range 18800-18899 (HTTP) and 19360-19369 (RTMP); overridable where those are taken.
PORT = int(os.environ.get("ZHUNONG_E2E_PORT", "18800"))
MEDIA_HTTP_PORT = int(os.environ.get("ZHUNONG_E2E_MEDIA_PORT", str(PORT + 1)))
RTMP_PORT = int(os.environ.get("ZHUNONG_E2E_RTMP_PORT", "19360"))
PASSWORD = "zhunong-demo"  # zhunong.demo.world.PASSWORD: every demo login uses it
CHROMIUM = os.environ.get("ZHUNONG_E2E_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
# Variables of the developer's shell that must not leak into the e2e server (it runs the embedded default).
_SCRUB = ("DATABASE_URL", "REDIS_URL", "ZHUNONG_REDIS_PREFIX", "HUEY_IMMEDIATE", "PUBLIC_BASE_URL", "DEBUG",
          "MEDIA_ROOT", "ZHUNONG_INVENTORY_BACKEND")


def wait_for(predicate: Callable[[], object], *, timeout: float, what: str, every: float = 0.2) -> object:
    """Poll until `predicate` returns something truthy (a condition, never a fixed sleep)."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(every)


def _http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as resp:  # noqa: S310 (loopback)
            return resp.status == 200
    except (urllib.error.URLError, OSError):
        return False


def _port_open(port: int) -> bool:
    with contextlib.closing(socket.socket()) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _media_missing() -> list[str]:
    missing = [name for name in ("nginx", "ffmpeg", "ffprobe") if not shutil.which(name)]
    if not Path("/usr/lib/nginx/modules/ngx_rtmp_module.so").is_file():
        missing.append("libnginx-mod-rtmp")
    return missing


@dataclass
class Server:
    url: str
    var: Path
    env: dict[str, str]
    video: bool
    rtmp_url: str
    log: Path
    proc: subprocess.Popen = field(repr=False)

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


def _run(cmd: list[str], *, env: dict[str, str], log: Path, timeout: float) -> None:
    started = time.monotonic()
    with log.open("ab") as out:
        done = subprocess.run(cmd, env=env, cwd=ROOT, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                              timeout=timeout, check=False)
    with log.open("a") as out:
        out.write(f"== {' '.join(cmd[1:])}: exit {done.returncode} after {time.monotonic() - started:.1f} s\n")
    if done.returncode:
        tail = "\n".join(log.read_text(errors="replace").splitlines()[-30:])
        raise RuntimeError(f"{' '.join(cmd[1:3])} failed with exit code {done.returncode}:\n{tail}")


@pytest.fixture(scope="session")
def artifacts() -> Path:
    # Screenshots of this run only: a stale picture from an earlier run must not pass for today's.
    if ARTIFACTS.exists():
        shutil.rmtree(ARTIFACTS)
    ARTIFACTS.mkdir(parents=True)
    return ARTIFACTS


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory, artifacts: Path) -> Iterator[Server]:
    for port in (PORT, MEDIA_HTTP_PORT, RTMP_PORT):
        if _port_open(port):
            pytest.fail(f"port {port} on 127.0.0.1 is already in use; set ZHUNONG_E2E_PORT / ZHUNONG_E2E_RTMP_PORT")
    var = tmp_path_factory.mktemp("zhunong-e2e")
    url = f"http://127.0.0.1:{PORT}"
    on_ci = os.environ.get("CI") == "true"
    if _media_missing() and on_ci:
        pytest.fail(f"CI must install the media packages; missing: {', '.join(_media_missing())}")
    # ZHUNONG_E2E_VIDEO=0 runs the story without video (no replay steps) on a developer's machine.
    video = not _media_missing() and (on_ci or os.environ.get("ZHUNONG_E2E_VIDEO", "1") != "0")
    env = {k: v for k, v in os.environ.items() if k not in _SCRUB and not k.startswith("VIDEO_")}
    env.update({
        "ZHUNONG_VAR": str(var),
        "DATABASE_URL": f"sqlite:///{var / 'e2e.sqlite3'}",
        "DJANGO_SETTINGS_MODULE": "e2e.settings",
        "PYTHONPATH": os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p),
        "PUBLIC_BASE_URL": url,  # the sandbox gateway posts its webhooks here
        "ZHUNONG_DEMO": "1",  # the sandbox payment gateway runs with DEBUG off only in demo mode
        "VIDEO_RTMP_PORT": str(RTMP_PORT),
        "VIDEO_HTTP_PORT": str(MEDIA_HTTP_PORT),
        # A stopped publisher ends the stream after this many seconds (production: 15).
        "VIDEO_GRACE_SECONDS": "3",
        "VIDEO_UPDATE_SECONDS": "2",
        "PYTHONUNBUFFERED": "1",
    })
    zhunong = str(Path(sys.executable).with_name("zhunong"))
    log = artifacts / "server.log"
    _run([zhunong, "migrate", "--noinput", "--skip-checks"], env=env, log=artifacts / "setup.log", timeout=300)
    _run([zhunong, "seed_demo", "--skip-checks"], env=env, log=artifacts / "setup.log", timeout=300)
    with log.open("ab") as out:
        serve = [zhunong, "serve", "--host", "127.0.0.1", "--port", str(PORT)] + ([] if video else ["--no-media"])
        proc = subprocess.Popen(serve, env=env, cwd=ROOT,
                                stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)
    srv = Server(url=url, var=var, env=env, video=video, rtmp_url=f"rtmp://127.0.0.1:{RTMP_PORT}/ingest", log=log,
                 proc=proc)
    try:
        def up() -> bool:
            if proc.poll() is not None:
                raise RuntimeError(f"zhunong serve exited with {proc.returncode}:\n{srv.log_tail()}")
            return _http_ok(url + "/")

        wait_for(up, timeout=90, what=f"zhunong serve to answer on {url}")
        if video:
            wait_for(lambda: _port_open(RTMP_PORT), timeout=30, what=f"the media server's RTMP port {RTMP_PORT}")
        yield srv
    finally:
        _stop(proc)


def _stop(proc: subprocess.Popen) -> None:
    """SIGTERM to `zhunong serve` (it stops its worker and media server); then its own process group."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=20)
    # Whatever it started and left behind (its session is ours alone: start_new_session above).
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=5)


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    from playwright.sync_api import expect, sync_playwright

    if not Path(CHROMIUM).is_file():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install chromium fonts-wqy-microhei (never a downloaded browser)")
    expect.set_options(timeout=15_000)
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


class Pages:
    """Browser contexts (one per person) and their pages under readable labels, for screenshots."""

    def __init__(self, browser, server: Server, artifacts: Path) -> None:  # noqa: ANN001
        self.browser = browser
        self.server = server
        self.artifacts = artifacts
        self.open_pages: dict[str, object] = {}
        self.contexts: list[object] = []

    def open(self, label: str, *, phone: bool = False, javascript: bool = True):  # noqa: ANN201
        context = self.browser.new_context(
            base_url=self.server.url, viewport=PHONE if phone else DESKTOP, locale="zh-CN",
            timezone_id="Asia/Shanghai", java_script_enabled=javascript, is_mobile=phone, has_touch=phone,
            device_scale_factor=1,
        )
        context.set_default_timeout(15_000)
        self.contexts.append(context)
        page = context.new_page()
        self.open_pages[label] = page
        return page

    def shot(self, page, name: str) -> Path:  # noqa: ANN001
        path = self.artifacts / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    def keep_failure(self, test_name: str) -> list[Path]:
        kept = []
        for label, page in self.open_pages.items():
            if page.is_closed():
                continue
            base = self.artifacts / f"FAILED-{test_name}-{label}"
            with contextlib.suppress(Exception):
                page.screenshot(path=f"{base}.png", full_page=True, timeout=10_000)
                kept.append(base.with_suffix(".png"))
            with contextlib.suppress(Exception):
                base.with_suffix(".html").write_text(page.content(), encoding="utf-8")
                kept.append(base.with_suffix(".html"))
        return kept

    def close(self) -> None:
        for context in self.contexts:
            with contextlib.suppress(Exception):
                context.close()
        self.contexts.clear()
        self.open_pages.clear()


@pytest.fixture
def pages(request: pytest.FixtureRequest, browser, server: Server, artifacts: Path) -> Iterator[Pages]:  # noqa: ANN001
    """Fresh browser contexts for one test (closed after it)."""
    opened = Pages(browser, server, artifacts)
    request.node._e2e_pages = opened
    yield opened
    opened.close()


@pytest.fixture(scope="session")
def journal() -> dict[str, str]:
    """What the story leaves for the visitor checks (its room, its replay, the pinned product)."""
    return {}


def login(page, username: str, password: str = PASSWORD) -> None:  # noqa: ANN001
    """Sign in through the login form, as a person does."""
    from playwright.sync_api import expect

    page.goto("/accounts/login/")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()
    expect(page.locator(".site-header .who")).to_be_visible()


def reload_until(page, check: Callable[[], bool], *, timeout: float, what: str) -> None:  # noqa: ANN001
    """For pages that do not update themselves: reload until what a person waits for is there."""
    def ready() -> bool:
        if check():
            return True
        page.reload()
        return check()

    wait_for(ready, timeout=timeout, what=what, every=0.5)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):  # noqa: ANN201
    outcome = yield
    report = outcome.get_result()
    if report.when != "call" or not report.failed:
        return
    pages: Pages | None = getattr(item, "_e2e_pages", None)
    step = (item.function.__doc__ or item.name).strip().splitlines()[0]
    kept = pages.keep_failure(item.name) if pages is not None else []
    on_fail = getattr(item, "_e2e_on_fail", None)
    if on_fail is not None:
        on_fail(step)
    where = ", ".join(str(p.relative_to(ROOT)) for p in kept) or "no page was open"
    report.sections.append(("e2e step failed", f"STEP FAILED: {step}\nkept: {where}"))

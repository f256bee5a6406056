"""Real-browser checks of the human pages: Debian's chromium driven by Playwright, a live server on loopback.

Never `playwright install`: the browser is the system's (/usr/bin/chromium, from the Makefile's APT list), and
axe-core comes from npm (tools/axe, installed by `make node-tools`).
"""

import os
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import msgspec
from playwright.async_api import Browser, Page

from service.__main__ import granian_command
from service.settings import Settings

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
AXE = REPO / "tools" / "axe" / "node_modules" / "axe-core" / "axe.min.js"
ARTIFACTS = REPO / "tests" / "artifacts"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PHONE = {"width": 360, "height": 740}
PAGE_BUDGET = 30_000  # bytes of HTML before images


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def live_server(settings: Settings) -> Iterator[str]:
    """The production server (granian, one worker) on a free loopback port, on the test's own database."""
    port = free_port()
    origin = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "ENV": "test",
        "DATABASE_URL": settings.database_url,
        "MEDIA_DIR": settings.media_dir,
        "JWT_SECRET": settings.jwt_secret,
        "PUBLIC_BASE_URL": origin,
        "JOBS_IN_SERVER": "false",
        "DB_POOL_MIN": "0",
        "DB_POOL_MAX": "4",
    }
    command = granian_command("service.asgi:build", "127.0.0.1", port, 1)
    server = subprocess.Popen(command, env=env, cwd=REPO, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{origin}/health/live", timeout=2) as answer:  # noqa: S310 - loopback
                    if answer.status == 200:
                        break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("the live server did not start") from None
                time.sleep(0.3)
        yield origin
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


class PageReport(msgspec.Struct, kw_only=True):
    url: str
    status: int
    html_bytes: int
    scroll_width: int
    errors: list[str]
    serious_violations: list[str]
    screenshot: str


async def check_page(
    browser: Browser, url: str, name: str, headers: dict[str, str] | None = None
) -> tuple[PageReport, Page]:
    """Open url at 360x740 with the page's own CSP; record errors, width, size, a screenshot; then run axe.

    axe is injected in a second context that bypasses CSP (the pages allow no script at all, rightly).
    `headers` go with every request (a signed-in page's bearer token).
    """
    ARTIFACTS.mkdir(exist_ok=True)
    context = await browser.new_context(
        viewport=PHONE, device_scale_factor=1, locale="vi-VN", extra_http_headers=headers or {}
    )
    page = await context.new_page()
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(f"console {msg.type}: {msg.text}") if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(f"page error: {exc}"))
    response = await page.goto(url, wait_until="load")
    assert response is not None
    body = await response.body()
    scroll_width = int(await page.evaluate("document.documentElement.scrollWidth"))
    shot = ARTIFACTS / f"{name}.png"
    await page.screenshot(path=str(shot), full_page=True)

    audit = await browser.new_context(viewport=PHONE, bypass_csp=True, locale="vi-VN", extra_http_headers=headers or {})
    audited = await audit.new_page()
    await audited.goto(url, wait_until="load")
    await audited.add_script_tag(path=str(AXE))
    results: dict[str, Any] = await audited.evaluate(
        "async () => await axe.run(document, {resultTypes: ['violations']})"
    )
    serious = [
        f"{v['id']} ({v['impact']}): {v['help']} – {[n['target'] for n in v['nodes']][:3]}"
        for v in results["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    await audit.close()
    report = PageReport(
        url=url,
        status=response.status,
        html_bytes=len(body),
        scroll_width=scroll_width,
        errors=errors,
        serious_violations=serious,
        screenshot=str(shot),
    )
    return report, page

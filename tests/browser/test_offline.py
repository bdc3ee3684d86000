"""Nothing the app shows needs the internet: every page, loaded in Debian's chromium, asks only
the local server (a `:material/...` page icon once made the browser fetch an SVG from a font host,
which fails offline)."""

from urllib.parse import urlsplit

import pytest
from playwright.sync_api import sync_playwright

from browser_util import launch_browser, running_app, wait_idle

pytestmark = pytest.mark.browser

LOCAL_SCHEMES = {"data", "blob", "about"}  # inline content: no network
# What the page links to, whether or not this browser fetched it yet (headless chromium may skip a
# favicon; another browser would fetch it).
LINKED = """() => [...document.querySelectorAll('link[href], img[src], script[src], iframe[src]')]
    .map(e => e.href || e.src)"""


def foreign(urls: list[str], server: str) -> list[str]:
    """The URLs in ``urls`` that go anywhere but ``server`` (scheme://host:port)."""
    here = urlsplit(server)
    out = []
    for url in urls:
        parts = urlsplit(url)
        if parts.scheme in LOCAL_SCHEMES:
            continue
        if (parts.hostname, parts.port) != (here.hostname, here.port):
            out.append(url)
    return out


def test_foreign_flags_other_hosts_only():
    server = "http://127.0.0.1:8501"
    assert foreign([f"{server}/static/x.js", "ws://127.0.0.1:8501/_stcore/stream",
                    "data:image/svg+xml,<svg/>", "blob:http://127.0.0.1:8501/abc"], server) == []
    assert foreign(["https://fonts.gstatic.com/s/i/x.svg", "http://127.0.0.1:9999/",
                    "http://localhost:8501/"], server) == [
        "https://fonts.gstatic.com/s/i/x.svg", "http://127.0.0.1:9999/", "http://localhost:8501/"]


def test_every_page_asks_only_the_local_server():
    with running_app() as url, sync_playwright() as p:
        browser = launch_browser(p)
        try:
            context = browser.new_context(viewport={"width": 1400, "height": 2400})
            requested: list[str] = []
            context.on("request", lambda request: requested.append(request.url))
            page = context.new_page()
            page.on("websocket", lambda ws: requested.append(ws.url))
            page.goto(url)
            wait_idle(page)
            nav = page.locator("[data-testid='stSidebarNav'] a")
            nav.first.wait_for()
            links = [nav.nth(i).get_attribute("href") for i in range(nav.count())]
            assert len(links) >= 4, links  # Architecture, Gradient flow, Grad-CAM, Training, ...
            for link in links:
                page.goto(link if "://" in link else f"{url}/{link.lstrip('/')}")
                wait_idle(page)
                page.wait_for_timeout(500)  # late fetches: favicon, fonts, images
                requested.extend(page.evaluate(LINKED))
            assert any(r.startswith(url) for r in requested)  # the listener did see the traffic
            assert foreign(requested, url) == []
        finally:
            browser.close()

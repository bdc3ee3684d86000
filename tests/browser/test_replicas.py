"""Two server processes behind nginx, as README's "Several replicas" says: each visitor stays on one.

nginx runs ``docs/nginx-replicas.conf`` as shipped (only its ports are replaced). A visitor's
uploads are HTTP requests separate from its WebSocket; they reach its session only if the proxy
sends them to the same process. So visitors are opened until both processes serve one, and each
uploads an image on Grad-CAM and must see it analysed.
"""

import re
import shutil
import subprocess
from contextlib import ExitStack
from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import expect, sync_playwright

from browser_util import (ROOT, answers_health, free_port, launch_browser, running_app,
                          wait_idle)

pytestmark = pytest.mark.browser

CONFIG = ROOT / "docs" / "nginx-replicas.conf"
BASE = "resnet"
TINY_QUERY = "?layers=1,1,1&base_width=8&stem=cifar&shortcut=A&num_classes=10&image_size=32"
MAX_VISITORS = 10  # a new visitor lands on either process at random: 2⁻⁹ to miss one


def nginx_config(folder: Path, listen: int, backends: list[int]) -> Path:
    """The shipped config with this test's ports, inside a minimal foreground nginx.conf."""
    shipped = CONFIG.read_text()
    assert "server 127.0.0.1:8501;" in shipped and "listen 80;" in shipped
    servers = "".join(f"    server 127.0.0.1:{port};\n" for port in backends)
    site = re.sub(r"(    server 127\.0\.0\.1:\d+;\n)+", servers, shipped)
    site = site.replace("listen 80;", f"listen 127.0.0.1:{listen};")
    temp_paths = ""
    for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (folder / kind).mkdir()
        temp_paths += f"    {kind}_temp_path {folder / kind};\n"
    conf = folder / "nginx.conf"
    conf.write_text(
        f"daemon off;\nmaster_process off;\npid {folder / 'nginx.pid'};\n"
        f"error_log {folder / 'error.log'};\nevents {{}}\n"
        f"http {{\n    access_log {folder / 'access.log'};\n{temp_paths}{site}\n}}\n")
    return conf


def running_nginx(stack: ExitStack, conf: Path, url: str) -> None:
    proc = subprocess.Popen([shutil.which("nginx"), "-p", str(conf.parent), "-c", str(conf)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    stack.callback(proc.wait, 15)
    stack.callback(proc.terminate)
    if not answers_health(url, 30, proc):
        raise RuntimeError(f"nginx did not answer: {(conf.parent / 'error.log').read_text()}")


def served_by(response) -> int:
    """The port of the process nginx passed this request to."""
    return int(response.headers["x-explorer-replica"].rsplit(":", 1)[1])


def test_two_processes_behind_nginx_keep_each_visitor_and_its_uploads_on_one(tmp_path):
    assert shutil.which("nginx"), "nginx is part of the test set-up (apt-get install nginx-light)"
    picture = tmp_path / "red square.png"
    image = Image.new("RGB", (64, 64), (30, 30, 30))
    image.paste((220, 30, 30), (20, 20, 44, 44))
    image.save(picture)
    env = {"STREAMLIT_SERVER_COOKIE_SECRET": "one secret for every replica",
           "OMP_NUM_THREADS": "1"}  # two processes on two cores
    with ExitStack() as stack:
        backends = [stack.enter_context(running_app(env, base_path=BASE)) for _ in range(2)]
        ports = [int(re.search(r":(\d+)/", url).group(1)) for url in backends]
        listen = free_port()
        proxy = f"http://127.0.0.1:{listen}/{BASE}"
        running_nginx(stack, nginx_config(tmp_path, listen, ports), proxy)
        playwright = stack.enter_context(sync_playwright())
        browser = launch_browser(playwright)
        stack.callback(browser.close)

        visitors = {}  # the process's port -> a page served by it
        for _ in range(MAX_VISITORS):
            page = browser.new_context(viewport={"width": 1400, "height": 1600}).new_page()
            replica = served_by(page.goto(f"{proxy}/grad_cam{TINY_QUERY}", timeout=180_000))
            assert replica in ports
            wait_idle(page)
            assert served_by(page.reload()) == replica  # its cookie brings it back
            wait_idle(page)
            if replica in visitors:
                page.context.close()
            else:
                visitors[replica] = page
            if len(visitors) == len(ports):
                break
        assert sorted(visitors) == sorted(ports), "every visitor landed on the same process"

        for page in visitors.values():
            page.locator("[data-testid='stFileUploader']").filter(has_text="Your images") \
                .locator("input[type='file']").set_input_files(str(picture))
            wait_idle(page)
            expect(page.get_by_role("heading", name="red square.png")).to_be_visible(
                timeout=120_000)
            expect(page.get_by_text("Overlay (.png)").first).to_be_visible()

"""Load test: many concurrent visitors on one real server, each checking its own numbers.

Starts ``streamlit run app.py`` (``bench.harness.serving``; ``--url`` uses a running server
instead), warms it up with one visitor,
then lets N visitors in at once: tabs of one headless chromium (``--tabs-per-context`` share a
browser context and its HTTP cache; every tab has its own websocket, so its own Streamlit
session). Every visitor has its own CIFAR-style network (different stages and widths) in its
URL and:

1. opens the Architecture page: the parameter metric must equal ``stage_table(spec)``'s total;
2. toggles the skip connections: the metric must equal the plain twin's total;
3. opens Gradient flow: the summary sentence must equal ``explorer.gradient_flow``'s for its
   spec, including the conv1 ratio formatted the same way;
4. opens Grad-CAM with random weights and the default sample photo: the caption must name the
   class ``explorer.grad_cam`` predicts for its own network.

No exception element may appear. The server's RSS (``/proc/<pid>/status`` VmRSS) is sampled
throughout: baseline after the warm-up visitor left, peak under load, and after each round, once
every visitor left and Streamlit dropped their sessions (``server.disconnectedSessionTTL`` is set
short, and a tiny probe visit makes Streamlit expire them: it does so lazily). ``--rounds 2``
repeats the same visitors, so growth after round 1 (caches are full by then) would be a leak.
``--wide 384`` gives the visitors heavier nets, so what a session holds shows in the RSS;
``--malloc-mmap-threshold 131072`` starts the server with glibc's MALLOC_MMAP_THRESHOLD_, without
which glibc keeps most freed tensor memory mapped.

From the repository root:

    OMP_NUM_THREADS=1 python -m bench.load --sessions 16
    OMP_NUM_THREADS=1 python -m bench.load --sessions 8 --rounds 1 --wide 384 \
        [--malloc-mmap-threshold 131072]
    python -m bench.load --quick     # one visitor, one round, no waits: a check, not a figure

Latency percentiles interpolate linearly between ranks (``bench.harness.percentile``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

from bench.harness import (CHROMIUM, CHROMIUM_FLAGS, ROOT, RssSampler, cpu_seconds, percentile,
                           rss_mb, serving)
from explorer import NetSpec, build, gradient_flow, stage_table
from explorer.analysis.cam_methods import CAM_LABELS
from explorer.analysis.gradcam import cam_layers, grad_cam
from explorer.io.images import load_image, preprocess
from explorer.io.labels import dataset_classes, guess_dataset
from explorer.units import format_count, times

SESSION_TTL_S = 2  # how long Streamlit keeps a disconnected session (default 120 s)
# After the TTL the server drops the sessions and collects what they held (pages/widgets/memory.py);
# on a loaded machine that takes a few seconds more.
SETTLE_S = SESSION_TTL_S + 10
ACTIONS = ("open", "skip toggle", "gradient flow", "grad-cam")
LAYOUTS = [(1, 1), (1, 2), (2, 1), (2, 2), (1, 1, 1), (1, 2, 1), (2, 1, 1), (1, 1, 2)]
STATUS = "[data-testid='stStatusWidget']"
PROBE = NetSpec(layers=(1,), base_width=1, stem="cifar", num_classes=1, image_size=8)
TIMEOUT_MS = 600_000


def session_spec(i: int, wide: int = 0) -> NetSpec:
    """A different network for every visitor (two or three stages, so skips cost params).

    Tiny by default. ``wide`` > 0 gives two-stage nets of about that base width at 8 px: tens of
    MB of weights per model (each visitor holds three: Architecture's and Grad-CAM's pair) for
    little compute, so the memory a session keeps, and gives back, is visible in the RSS.
    """
    if wide:
        return NetSpec(layers=LAYOUTS[i % 4], base_width=wide + 8 * (i // 4), stem="cifar",
                       num_classes=10, image_size=8)
    return NetSpec(layers=LAYOUTS[i % len(LAYOUTS)], base_width=4 + 4 * (i // len(LAYOUTS)),
                   stem="cifar", num_classes=10, image_size=16)


@dataclass
class Expected:
    """What a visitor must see, computed here with explorer (not read from the app)."""

    spec: NetSpec
    params: str
    plain_params: str
    live_params: str
    flow_summary: str
    conv1_ratio: str
    cam_caption: str


def expected_for(spec: NetSpec) -> Expected:
    plain = spec.replace(skip=False)
    flow = gradient_flow(plain, seed=0, batch_size=8)
    ratio = flow.plain.conv1_grad_norm / flow.residual.conv1_grad_norm
    model = build(plain, seed=0).eval()
    layer = [name for name in cam_layers(model) if "." not in name][-1]
    photo = load_image((ROOT / "samples" / "astronaut.jpg").read_bytes())
    result = grad_cam(model, preprocess(photo, plain, "imagenet"), layer, None)
    classes = dataset_classes(guess_dataset(plain))
    total = stage_table(spec).total_params
    return Expected(spec, format_count(total), format_count(stage_table(plain).total_params),
                    f"{total:,} parameters", flow.summary(), times(ratio),
                    f"this net: {CAM_LABELS['gradcam']} at {layer}, "
                    f"class “{classes[result.target]}”")


@dataclass
class Visit:
    index: int
    seconds: dict[str, float] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)


async def settle(page) -> None:
    """Wait until no script run is in progress (the status widget is gone)."""
    await page.wait_for_selector(STATUS, state="detached", timeout=TIMEOUT_MS)


async def check(visit: Visit, what: str, locator, text: str, exact: bool = True) -> None:
    from playwright.async_api import expect

    try:
        if exact:
            await expect(locator).to_have_text(text, timeout=TIMEOUT_MS)
        else:
            await expect(locator).to_contain_text(text, timeout=TIMEOUT_MS)
    except AssertionError as exc:
        visit.failures.append(f"{what}: wanted {text!r}; {str(exc).splitlines()[0]}")


async def visitor(context, url: str, visit: Visit, want: Expected) -> None:
    """One visitor in its own tab: its own websocket, so its own Streamlit session."""
    from playwright.async_api import expect

    page = await context.new_page()
    metric = page.locator("[data-testid='stMetric']").filter(has_text="Parameters").first \
        .locator("[data-testid='stMetricValue']")
    try:
        start = time.perf_counter()
        await page.goto(f"{url}/?{urlencode(want.spec.to_query())}")
        await check(visit, "parameters", metric, want.params)
        await page.get_by_role("button", name="Build it live").click()  # built on demand
        await check(visit, "live model", page.locator("[data-testid='stCaptionContainer']")
                    .filter(has_text="Built live on"), want.live_params, exact=False)
        await settle(page)
        visit.seconds["open"] = time.perf_counter() - start

        start = time.perf_counter()
        await page.locator("[data-testid='stSidebar']").get_by_text("Skip connections").click()
        await check(visit, "plain parameters", metric, want.plain_params)
        await settle(page)
        visit.seconds["skip toggle"] = time.perf_counter() - start

        start = time.perf_counter()
        await page.get_by_role("link", name="Gradient flow").click()
        summary = page.locator("[data-testid='stAlertContentInfo']").first
        await check(visit, "gradient flow", summary, want.flow_summary)
        await check(visit, "conv1 ratio", summary, want.conv1_ratio, exact=False)
        await settle(page)
        visit.seconds["gradient flow"] = time.perf_counter() - start

        start = time.perf_counter()
        await page.get_by_role("link", name="Grad-CAM").click()
        weights = page.locator("[data-testid='stSelectbox']").filter(has_text="Weights")
        await expect(weights).to_be_visible(timeout=TIMEOUT_MS)
        await settle(page)
        await weights.locator("input").click()
        await page.get_by_role("option", name="random init of the sidebar's network",
                               exact=True).click()
        caption = page.locator("[data-testid='stImageCaption']").filter(has_text="this net:")
        await check(visit, "grad-cam", caption.first, want.cam_caption)
        await settle(page)
        visit.seconds["grad-cam"] = time.perf_counter() - start

        if await page.locator("[data-testid='stException']").count():
            visit.failures.append("an exception element is shown")
    except Exception as exc:  # noqa: BLE001  (a timeout is a failed visit, reported below)
        visit.failures.append(f"{type(exc).__name__}: {str(exc).splitlines()[0]}")
    finally:
        await page.close()


def server_pid(url: str) -> int:
    """The pid of the ``streamlit run`` serving ``url`` (found by its --server.port)."""
    port = url.rsplit(":", 1)[1]
    for proc in Path("/proc").iterdir():
        try:
            args = (proc / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"streamlit" in b" ".join(args) and port.encode() in args:
            return int(proc.name)
    raise RuntimeError(f"no streamlit process serves {url}")


def browser_cpu_seconds() -> float:
    """CPU time of every chromium process so far (they share the server's cores here)."""
    total = 0.0
    for proc in Path("/proc").iterdir():
        try:
            if b"chromium" in (proc / "cmdline").read_bytes()[:200]:
                total += cpu_seconds(int(proc.name))
        except (OSError, ValueError):
            continue
    return total


async def settled_rss(pid: int, wait_s: float, down_to: float | None = None,
                      patience_s: float = 60.0) -> float:
    """RSS once the server has had ``wait_s`` seconds to drop closed sessions: the lowest of a
    few samples (ignore a momentary spike), or, with ``down_to``, the lowest seen until it gets
    there or ``patience_s`` more seconds pass (a loaded machine frees memory later)."""
    await asyncio.sleep(wait_s)
    samples = []
    deadline = time.monotonic() + (patience_s if down_to is not None else 0.0)
    while len(samples) < 8 or time.monotonic() < deadline:
        samples.append(rss_mb(pid))
        if len(samples) >= 8 and down_to is not None and min(samples) <= down_to:
            break
        await asyncio.sleep(0.25)
    return min(samples)


@dataclass(frozen=True)
class Waits:
    """How long the RSS readings wait: for the server to drop closed sessions and collect
    (``settle_s``), then, after a round, up to ``patience_s`` more for RSS to come back within
    50 MB of the baseline."""

    settle_s: float = SETTLE_S
    patience_s: float = 60.0


QUICK_WAITS = Waits(settle_s=0.0, patience_s=0.0)


@dataclass
class Round:
    visits: list[Visit]
    wall_s: float
    server_cpu_s: float
    browser_cpu_s: float
    rss_after_mb: float = 0.0


async def new_context(browser):
    context = await browser.new_context(viewport={"width": 1280, "height": 1000})
    context.set_default_timeout(TIMEOUT_MS)
    return context


async def one_round(browser, url: str, pid: int, wants: list[Expected],
                    tabs_per_context: int, settle_to: float | None = None,
                    waits: Waits = Waits()) -> Round:
    """Every visitor at once; then they all leave and the server drops their sessions."""
    visits = [Visit(i) for i in range(len(wants))]
    contexts = [await new_context(browser) for _ in range(0, len(wants), tabs_per_context)]
    start, cpu, browser_cpu = time.perf_counter(), cpu_seconds(pid), browser_cpu_seconds()
    await asyncio.gather(*(visitor(contexts[v.index // tabs_per_context], url, v, w)
                           for v, w in zip(visits, wants)))
    result = Round(visits, time.perf_counter() - start, cpu_seconds(pid) - cpu,
                   browser_cpu_seconds() - browser_cpu)
    for context in contexts:
        await context.close()
    await asyncio.sleep(SESSION_TTL_S + 1)
    # Streamlit expires disconnected sessions lazily, when its session store is next touched:
    # one tiny visit does that, as the next real visitor would.
    probe = await browser.new_page()
    await probe.goto(f"{url}/?{urlencode(PROBE.to_query())}")
    await settle(probe)
    await probe.close()
    result.rss_after_mb = await settled_rss(pid, waits.settle_s, down_to=settle_to,
                                            patience_s=waits.patience_s)
    return result


async def drive(url: str, pid: int, wants: list[Expected], warm_up: Expected | None,
                tabs_per_context: int, rounds: int, waits: Waits = Waits()
                ) -> tuple[float, float, list[Round]]:
    """Warm up with one visitor (unless ``warm_up`` is None), measure the baseline, then run
    the rounds.

    Returns the baseline and peak RSS (MB) and each round's results.
    """
    from playwright.async_api import async_playwright

    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        page = await browser.new_page()  # the server's first run takes Streamlit's legacy path
        await page.goto(url)
        await settle(page)
        await page.close()
        if warm_up is not None:
            warm, context = Visit(-1), await new_context(browser)
            await visitor(context, url, warm, warm_up)
            await context.close()
            if warm.failures:
                raise RuntimeError(f"the warm-up visitor failed: {warm.failures}")
        baseline = await settled_rss(pid, waits.settle_s)
        # Each round's "after" waits up to a minute for RSS to come within 50 MB of baseline.
        with RssSampler([pid], interval=0.25) as sampler:
            results = [await one_round(browser, url, pid, wants, tabs_per_context,
                                       baseline + 50, waits) for _ in range(rounds)]
        peak = sampler.peak[pid]
        await browser.close()
    return baseline, peak, results


@contextmanager
def _server(url: str | None, pid: int | None, env: dict[str, str]):
    """``(url, pid)`` of the server to load: a new one (``bench.harness.serving``), or the one
    running at ``url`` (its pid found by its port unless given)."""
    if url is not None:
        yield url.rstrip("/"), pid or server_pid(url.rstrip("/"))
        return
    with serving(env) as server:
        yield server.url, server.pid


def run_load(sessions: int = 16, tabs_per_context: int = 1, rounds: int = 1,
             wide: int = 0, mmap_threshold: int = 0, url: str | None = None,
             pid: int | None = None, waits: Waits = Waits(), warm_up: bool = True) -> dict:
    """Run the load test; return per-action latencies, RSS figures and every failure.

    Round 1 fills the app's caches (figures and summaries per spec); a second round with the
    same specs shows whether the sessions themselves leave memory behind. ``url`` (and ``pid``)
    load a running server instead of starting one: its RSS figures mean something only if it
    was started with ``STREAMLIT_SERVER_DISCONNECTED_SESSION_TTL=2``. ``warm_up=False`` lets
    the visitors in without a warm-up visitor first (the baseline is then a cold server's).
    """
    wants = [expected_for(session_spec(i, wide)) for i in range(sessions)]
    first = expected_for(session_spec(sessions, wide)) if warm_up else None
    env = {"STREAMLIT_SERVER_DISCONNECTED_SESSION_TTL": str(SESSION_TTL_S)}
    if mmap_threshold:  # glibc: allocations above this are mmapped, so freeing returns them
        env["MALLOC_MMAP_THRESHOLD_"] = str(mmap_threshold)
    with _server(url, pid, env) as (url, pid):
        baseline, peak, results = asyncio.run(
            drive(url, pid, wants, first, tabs_per_context, rounds, waits))
    visits = [v for r in results for v in r.visits]
    latency = {}
    for action in ACTIONS:
        seconds = [v.seconds[action] for v in visits if action in v.seconds]
        if seconds:
            latency[action] = {"n": len(seconds), "p50_s": round(percentile(seconds, 0.5), 2),
                               "p95_s": round(percentile(seconds, 0.95), 2),
                               "max_s": round(max(seconds), 2)}
    return {
        "sessions": sessions, "tabs_per_context": tabs_per_context, "wide": wide,
        "malloc_mmap_threshold": mmap_threshold or None,
        "load_average": os.getloadavg()[0],
        "rounds": [{"wall_s": round(r.wall_s, 1), "server_cpu_s": round(r.server_cpu_s, 1),
                    "browser_cpu_s": round(r.browser_cpu_s, 1),
                    "rss_after_mb": round(r.rss_after_mb)} for r in results],
        "latency": latency,
        "rss_mb": {"baseline": round(baseline), "peak": round(peak),
                   "after": round(results[-1].rss_after_mb),
                   "after_minus_baseline": round(results[-1].rss_after_mb - baseline)},
        "failures": [f"round {n + 1}, visitor {v.index}: {f}"
                     for n, r in enumerate(results) for v in r.visits for f in v.failures],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sessions", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--tabs-per-context", type=int, default=4,
                        help="visitors sharing one browser context (and its HTTP cache); each "
                             "tab is still its own Streamlit session")
    parser.add_argument("--wide", type=int, default=0,
                        help="base width of heavier two-stage nets (e.g. 384); 0: tiny nets")
    parser.add_argument("--malloc-mmap-threshold", type=int, default=0,
                        help="start the server with MALLOC_MMAP_THRESHOLD_ set to this (bytes)")
    parser.add_argument("--url", help="load this running server instead of starting one (the "
                                      "environment options then do not apply)")
    parser.add_argument("--pid", type=int, help="the --url server's pid, for its RSS (default: "
                                                "found by its port)")
    parser.add_argument("--quick", action="store_true",
                        help="a check that the benchmark runs, in seconds: one visitor, one "
                             "round, no warm-up visitor, no settling (its RSS figures mean "
                             "nothing)")
    args = parser.parse_args()
    waits, warm_up = Waits(), True
    if args.quick:
        args.sessions, args.rounds, args.tabs_per_context = 1, 1, 1
        waits, warm_up = QUICK_WAITS, False
    report = run_load(args.sessions, args.tabs_per_context, args.rounds, args.wide,
                      args.malloc_mmap_threshold, args.url, args.pid, waits, warm_up)
    print(json.dumps(report, indent=2))
    sys.exit(1 if report["failures"] else 0)


if __name__ == "__main__":
    main()

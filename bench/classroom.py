"""A classroom on one server: N protocol-level students follow one lesson, alone vs at once.

Every student is a Streamlit session driven over the websocket protocol by ``bench/stclient.py``
(no browser), in this process, separate from the server's. The lesson, one request per step:

1. ``open``: load the Architecture page with the student's network in the URL query;
2. ``toggle skips``: flip the sidebar's "Skip connections" toggle;
3. ``gradient flow``: open the Gradient flow page (one forward and backward, net and twin);
4. ``grad-cam``: open Grad-CAM (its defaults: the shipped resnet20 weights, two shape samples);
5. ``back to architecture``: open Architecture again.

A step's time is the server's response: request sent → the run's ``script_finished``. Every step
must finish without an exception element, and the Parameters metric must be the student's own
network's (checked against ``explorer.stage_table``).

The phases, on one warm server (a warm-up lesson on another network has loaded every import):
``alone`` (student 0), ``one by one`` (all N, each after the previous left), then ``at once``
(all N connect together), once per process count in ``--processes`` (students split over the
servers round-robin, as sticky sessions behind a proxy would). Before each phase the Streamlit
caches are cleared (``BackMsg.clear_cache``) on every server, so each phase starts from the
same cache state; with distinct networks each phase also gets its own networks (one more class
in the head: the same cost, other cache keys), because ``explorer``'s own ``lru_cache`` on the
stage table is not cleared. ``--same``: everybody uses resnet20; otherwise student i gets a CIFAR
ResNet with 3 stages of 2–4 blocks (depth 14/20/26) and base width 8–28.

RSS (``/proc/<pid>/status`` VmRSS, summed over the servers) is read before each phase, sampled
every 0.1 s for the peak, and read after, once the students' sessions are gone (the server is
started with ``server.disconnectedSessionTTL`` = 2 s and a tiny probe visit makes it expire them).

From the repository root:

    python -m bench.classroom --clients 16 --same
    python -m bench.classroom --clients 16
    python -m bench.classroom --clients 16 --processes 1,2 --skip-one-by-one
    python -m bench.classroom --clients 4 --url http://127.0.0.1:8501   # a running server
    python -m bench.classroom --app-dir /tmp/snapshot ...              # serve another checkout
    python -m bench.classroom --quick      # two students, only 'at once': a check, not a figure

``--json PATH`` writes every step's timing. Percentiles interpolate linearly between ranks
(``bench.harness.percentile``). ``--profile DIR`` records every phase with py-spy (``pip install
py-spy``); rank the samples with ``python -m bench.profile_summary``. ``--env KEY=VALUE`` starts
the servers with extra environment, for what-ifs such as ``STREAMLIT_RUNNER_POST_SCRIPT_GC=false``.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import math
import re
import signal
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from bench.harness import ROOT, RssSampler, Server, cpu_seconds, load_average, percentile
from bench.stclient import Step, StreamlitSession

STEPS = ("open", "toggle skips", "gradient flow", "grad-cam", "back to architecture")
SESSION_TTL_S = 2


def spec_for(student: int, same: bool, phase: int = 0):
    """The student's network: resnet20 for all, or a distinct CIFAR net per student and phase."""
    from explorer import PRESETS, NetSpec

    if same:
        return PRESETS["resnet20"]
    blocks = 2 + student % 3
    width = 8 + 4 * (student // 3)
    return NetSpec(layers=(blocks,) * 3, base_width=width, stem="cifar", shortcut="A",
                   num_classes=10 + phase, image_size=32)


def warmup_spec():
    from explorer import NetSpec

    return NetSpec(layers=(1, 1, 1), base_width=6, stem="cifar", shortcut="A", num_classes=7,
                   image_size=32)


def probe_spec():
    from explorer import NetSpec

    return NetSpec(layers=(1,), base_width=1, stem="cifar", num_classes=1, image_size=8)


def expected_params(spec) -> str:
    """The Parameters metric the Architecture page must show for ``spec``."""
    from explorer import stage_table
    from explorer.units import format_count

    return format_count(stage_table(spec, 1).total_params)


@dataclass
class Lesson:
    """One student's lesson: its steps, and whether it saw its own network every time."""

    student: int
    server: int
    spec: str
    steps: list[Step] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    wall: float = 0.0


async def lesson(url: str, spec, student: int = 0, server: int = 0,
                 timeout: float = 600.0, steps: tuple[str, ...] = STEPS) -> Lesson:
    """Follow the lesson (or the ``steps`` of it) as one student; never raises for an app
    problem (it is recorded)."""
    result = Lesson(student, server, repr(spec))
    twin = spec.replace(skip=not spec.skip)
    wanted = {"open": expected_params(spec), "toggle skips": expected_params(twin),
              "back to architecture": expected_params(twin)}
    start = time.perf_counter()
    try:
        async with StreamlitSession(url, spec.to_query(), timeout) as session:
            actions = {"open": lambda: session.open("open"),
                       "toggle skips": lambda: session.toggle("w_skip", "toggle skips"),
                       "gradient flow": lambda: session.switch_page("Gradient flow",
                                                                    "gradient flow"),
                       "grad-cam": lambda: session.switch_page("Grad-CAM", "grad-cam"),
                       "back to architecture": lambda: session.switch_page(
                           "Architecture", "back to architecture")}
            for name in steps:
                step = await actions[name]()
                result.steps.append(step)
                for text in step.exceptions:
                    result.problems.append(f"{step.name}: exception {text}")
                if step.name in wanted and step.metric("Parameters") != wanted[step.name]:
                    result.problems.append(
                        f"{step.name}: Parameters {step.metric('Parameters')!r}, "
                        f"expected {wanted[step.name]!r} for {spec}")
                if step.name == "grad-cam" and not any("shipped checkpoint" in t
                                                       for t in step.texts):
                    result.problems.append("grad-cam: the shipped weights were not used")
    except Exception as exc:  # noqa: BLE001  (a dropped connection or a timeout is a finding)
        result.problems.append(f"{type(exc).__name__}: {exc}")
    result.wall = time.perf_counter() - start
    return result


async def visit(url: str, spec, timeout: float = 600.0) -> Step:
    """Open the Architecture page once and leave."""
    async with StreamlitSession(url, spec.to_query(), timeout) as session:
        return await session.open("probe")


async def clear_caches(urls: list[str]) -> None:
    for url in urls:
        async with StreamlitSession(url) as session:
            await session.clear_caches()


@dataclass
class Phase:
    name: str
    processes: int
    concurrent: bool
    wall: float
    lessons: list[Lesson]
    rss_before: float = 0.0
    rss_peak: float = 0.0
    rss_after: float = 0.0
    server_cpu: float = math.nan  # CPU seconds the servers used during the phase
    client_cpu: float = 0.0  # CPU seconds this (client) process used
    load: tuple[float, float] = (math.nan, math.nan)  # machine load average at start, end

    def times(self, step: str) -> list[float]:
        return [s.seconds for les in self.lessons for s in les.steps if s.name == step]

    @property
    def problems(self) -> list[str]:
        return [f"student {les.student}: {p}" for les in self.lessons for p in les.problems]


def start_profiler(name: str, pids: list[int], folder: str | None) -> list[subprocess.Popen]:
    """py-spy sampling the servers' busy threads at 50 Hz, one raw file per phase and server."""
    if not folder:
        return []
    Path(folder).mkdir(parents=True, exist_ok=True)
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    spies = [subprocess.Popen(["py-spy", "record", "--pid", str(pid), "--rate", "50",
                               "--format", "raw", "--nonblocking",
                               "-o", str(Path(folder) / f"{slug}-{n}.raw")],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
             for n, pid in enumerate(pids)]
    time.sleep(1.5)  # attached
    return spies


def stop_profiler(spies: list[subprocess.Popen]) -> None:
    for spy in spies:
        spy.send_signal(signal.SIGINT)
    for spy in spies:
        spy.wait(timeout=120)


async def run_phase(name: str, urls: list[str], students: list[tuple[int, object]],
                    concurrent: bool, sampler: RssSampler | None, timeout: float,
                    settle: bool = True, profile: str | None = None,
                    pids: list[int] | None = None) -> Phase:
    """Students ``(index, spec)`` follow the lesson; student k uses server k % len(urls).

    ``pids`` are the processes behind ``urls`` (default: the sampler's first ones), whose RSS
    and CPU time the phase reports.
    """
    await clear_caches(urls)
    if pids is None:
        pids = sampler.pids[:len(urls)] if sampler else []
    before = sum(sampler.now()[p] for p in pids) if sampler else math.nan
    if sampler:
        sampler.reset_peak()
    spies = start_profiler(name, pids, profile)
    load_start, cpu_start, own_start = load_average(), sum(map(cpu_seconds, pids)), \
        time.process_time()
    start = time.perf_counter()
    if concurrent:
        lessons = await asyncio.gather(*(
            lesson(urls[k % len(urls)], spec, i, k % len(urls), timeout)
            for k, (i, spec) in enumerate(students)))
    else:
        lessons = [await lesson(urls[0], spec, i, 0, timeout) for i, spec in students]
    wall = time.perf_counter() - start
    phase = Phase(name, len(urls), concurrent, wall, list(lessons), before)
    phase.server_cpu = sum(map(cpu_seconds, pids)) - cpu_start if pids else math.nan
    phase.client_cpu = time.process_time() - own_start
    phase.load = (load_start, load_average())
    stop_profiler(spies)
    if sampler:
        phase.rss_peak = sum(sampler.peak[p] for p in pids)
        if settle:
            phase.rss_after = await settled_rss(urls, sampler, pids, timeout)
    return phase


async def settled_rss(urls: list[str], sampler: RssSampler, pids: list[int],
                      timeout: float) -> float:
    """RSS once the phase's sessions are gone (TTL passed, expired by a probe visit)."""
    await asyncio.sleep(SESSION_TTL_S + 1)
    for url in urls:
        await visit(url, probe_spec(), timeout)
    await asyncio.sleep(SESSION_TTL_S + 1)
    return sum(sampler.now()[p] for p in pids)


def report(phases: list[Phase], same: bool, clients: int) -> str:
    lines = [f"# classroom: {clients} students, "
             f"{'same network (resnet20)' if same else 'distinct networks'}", ""]
    lines.append("| phase | wall s | server CPU s (cores) | " + " | ".join(
        f"{s} p50 / p95 / max" for s in STEPS) + " | RSS MiB before / peak / after | load |")
    lines.append("|---" * (len(STEPS) + 5) + "|")
    for ph in phases:
        cells = []
        for step in STEPS:
            t = ph.times(step)
            cells.append(f"{percentile(t, .5):.2f} / {percentile(t, .95):.2f} / {max(t):.2f}"
                         if t else "–")
        lines.append(f"| {ph.name} | {ph.wall:.1f} | {ph.server_cpu:.1f} "
                     f"({ph.server_cpu / ph.wall:.2f}) | " + " | ".join(cells)
                     + f" | {ph.rss_before:.0f} / {ph.rss_peak:.0f} / {ph.rss_after:.0f} | "
                     f"{ph.load[0]:.1f}→{ph.load[1]:.1f} |")
    by_name = {ph.name: ph for ph in phases}
    seq = by_name.get("one by one")
    lines.append("")
    for ph in phases:
        if ph.concurrent and seq is not None:
            lines.append(f"- {ph.name}: wall {ph.wall:.1f} s = {ph.wall / seq.wall:.2f} × one by "
                         f"one ({seq.wall:.1f} s); server CPU {ph.server_cpu:.1f} s = "
                         f"{ph.server_cpu / seq.server_cpu:.2f} × one by one's "
                         f"({seq.server_cpu:.1f} s)")
    at_once = collections.defaultdict(list)
    for ph in phases:
        if ph.concurrent:
            at_once[ph.name].append(ph.wall)
    if len(at_once) > 1:
        (base, base_walls), *others = at_once.items()
        for name, walls in others:
            lines.append(f"- {name}: throughput {sum(base_walls) / sum(walls):.2f} × {base!r} "
                         f"(walls {', '.join(f'{w:.1f}' for w in walls)} s vs "
                         f"{', '.join(f'{w:.1f}' for w in base_walls)} s)")
    lines.append("- client process CPU s per phase: " + ", ".join(
        f"{ph.name} {ph.client_cpu:.1f}" for ph in phases))
    problems = [f"{ph.name}: {p}" for ph in phases for p in ph.problems]
    lines.append(f"- problems: {len(problems)}")
    lines += [f"  - {p}" for p in problems[:40]]
    return "\n".join(lines)


async def main_async(args) -> list[Phase]:
    process_counts = [int(x) for x in args.processes.split(",")]
    servers: list[Server] = []
    if args.url:
        urls, pids = [args.url], ([args.pid] if args.pid else [])
    else:
        env = {"STREAMLIT_SERVER_DISCONNECTED_SESSION_TTL": str(SESSION_TTL_S)}
        if args.omp_threads:
            env["OMP_NUM_THREADS"] = str(args.omp_threads)
        env.update(item.split("=", 1) for item in args.env)
        envs = [env] * max(process_counts)
        if args.compare_env:  # a baseline server and one with the what-if environment
            envs = [env, {**env, **dict(item.split("=", 1) for item in args.compare_env)}]
        servers = [Server(e, app_dir=Path(args.app_dir)) for e in envs]
        for server in servers:
            server.wait_healthy()
        urls, pids = [s.url for s in servers], [s.pid for s in servers]
    try:
        with RssSampler(pids) as sampler:
            use = sampler if pids else None
            for url in urls:  # every import, page and the shipped weights loaded once
                for _ in range(args.warmup):
                    warm = await lesson(url, warmup_spec(), -1, 0, args.timeout)
                    print(f"warm-up {url}: {warm.wall:.1f} s"
                          + (f" PROBLEMS {warm.problems}" if warm.problems else ""), flush=True)
            phases: list[Phase] = []
            n = args.clients
            phase_no = 0

            def students():
                nonlocal phase_no
                phase_no += 1
                return [(i, spec_for(i, args.same, phase_no)) for i in range(n)]

            if not args.skip_one_by_one:
                alone = await run_phase("alone", urls[:1], students()[:1], False, use,
                                        args.timeout, profile=args.profile)
                phases.append(alone)
                print(f"alone: {alone.wall:.1f} s", flush=True)
                seq = await run_phase("one by one", urls[:1], students(), False, use,
                                      args.timeout, profile=args.profile)
                phases.append(seq)
                print(f"one by one: {seq.wall:.1f} s", flush=True)
            plan = []  # (name, server indices) of the 'at once' phases
            for _ in range(args.repeat):
                if args.compare_env:
                    plan += [("at once, baseline", [0]),
                             ("at once, " + " ".join(args.compare_env), [1])]
                else:
                    plan += [("at once" + (f", {k} processes" if len(process_counts) > 1
                                           or k > 1 else ""), list(range(k)))
                             for k in process_counts]
            for name, which in plan:
                ph = await run_phase(name, [urls[i] for i in which], students(), True, use,
                                     args.timeout, profile=args.profile,
                                     pids=[pids[i] for i in which] if pids else None)
                phases.append(ph)
                print(f"{name}: {ph.wall:.1f} s", flush=True)
        return phases
    finally:
        for server in servers:
            server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--same", action="store_true", help="resnet20 for every student")
    parser.add_argument("--processes", default="1",
                        help="comma-separated server process counts for the 'at once' phase")
    parser.add_argument("--skip-one-by-one", action="store_true",
                        help="only the 'at once' phase(s)")
    parser.add_argument("--url", help="use this running server instead of starting one")
    parser.add_argument("--pid", type=int, help="the --url server's pid, for its RSS")
    parser.add_argument("--app-dir", default=str(ROOT), help="the checkout to serve")
    parser.add_argument("--warmup", type=int, default=1, help="warm-up lessons per server")
    parser.add_argument("--omp-threads", type=int, help="OMP_NUM_THREADS for the server")
    parser.add_argument("--env", action="append", default=[], metavar="KEY=VALUE",
                        help="extra environment for the servers, e.g. "
                             "STREAMLIT_RUNNER_POST_SCRIPT_GC=false (a what-if)")
    parser.add_argument("--compare-env", action="append", default=[], metavar="KEY=VALUE",
                        help="start a second server with this extra environment and run the "
                             "'at once' phase on each in turn (a what-if in one run)")
    parser.add_argument("--repeat", type=int, default=1,
                        help="run the 'at once' phase(s) this many times, interleaved")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds per step")
    parser.add_argument("--json", help="write every step's timing here")
    parser.add_argument("--profile", metavar="DIR",
                        help="record each phase with py-spy (raw files; summarise them with "
                             "python -m bench.profile_summary)")
    parser.add_argument("--quick", action="store_true",
                        help="a check that the benchmark runs, in seconds: two students, only "
                             "the 'at once' phase, one server")
    args = parser.parse_args()
    if args.quick:
        args.clients, args.skip_one_by_one, args.processes, args.repeat = 2, True, "1", 1
    if Path(args.app_dir).resolve() != ROOT:  # its explorer: the specs it serves
        sys.path.insert(0, str(Path(args.app_dir).resolve()))
    phases = asyncio.run(main_async(args))
    print(report(phases, args.same, args.clients))
    if args.json:
        Path(args.json).write_text(json.dumps(
            {"args": vars(args), "phases": [asdict(ph) for ph in phases]}, indent=1))
    if any(ph.problems for ph in phases):
        sys.exit(1)


if __name__ == "__main__":
    main()

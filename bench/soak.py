"""Soak: students come and go for a while; at the end nothing they started may be left behind.

Runs ``--students`` protocol-level sessions (``bench/stclient.py``, no browser) against one server
(``bench.harness.Server``, or ``--url`` a running one) for ``--minutes`` (default 10; the
documented long run is ``--minutes 60``). Each student, in a loop until the time is up: connects
with one of a few small networks in the URL, opens Architecture, sometimes toggles the skips or
looks at Gradient flow / Grad-CAM, opens Training, presses "Start training", watches it for a few
seconds (answering the page's once-a-second fragment reruns, as a browser tab does) and then either
**abandons it mid-run** (closes the websocket: the tab is gone) or presses Stop; then waits a
little and comes back as a new session.

Everything about the server is observed from outside, read-only:

- training jobs run in Python threads named ``training-job``, listed with ``py-spy dump``
  (read-only; Python 3.11 leaves every OS thread named "python", so ``/proc/<pid>/task/*/comm``
  cannot tell them apart; ``pip install py-spy``);
- RSS is ``/proc/<pid>/status`` VmRSS.

At the end all students have left; after ``server.disconnectedSessionTTL`` (set to 2 s here) a
probe visit makes Streamlit drop their sessions. The soak then waits up to ``--drain`` seconds for
the ``training-job`` threads to end and reports:

- jobs started, jobs abandoned mid-run, the most ``training-job`` threads alive at once;
- ``training-job`` threads still alive after the drain (goal: 0 — a gone session's job ends);
- the gates: a fresh session must be able to start a training that makes progress (it takes
  the GPU slot on a GPU; on a CPU the gate is a no-op) and a Gradient flow run must finish
  (it takes the same gate), then its Stop must end the job;
- RSS after warm-up (every page visited once, sessions expired), at the peak and at the end
  (goal: within 10 % of the warm-up level).

From the repository root:

    python -m bench.soak                      # 10 minutes, 4 students
    python -m bench.soak --minutes 60         # the hour-long run
    python -m bench.soak --minutes 2 --students 3 --drain 120
    python -m bench.soak --quick              # one student for ~6 s: a check, not a soak

Exit status 1 when a goal is missed (``--quick``: when a request failed, a job was left running
or the gates were not free; its RSS figures are printed but not judged).
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import random
import re
import sys
import time
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

from bench.harness import ROOT, RssSampler, Server, rss_mb, thread_names
from bench.stclient import StreamlitSession

SESSION_TTL_S = 2
JOB_THREAD = "training-job"


def soak_specs():
    """Small CIFAR nets: training is slow enough to abandon mid-run, quick to draw."""
    from explorer import NetSpec

    return [NetSpec(layers=(n,) * 3, base_width=w, stem="cifar", shortcut="A", num_classes=10,
                    image_size=16) for n, w in ((1, 4), (1, 8), (2, 4), (2, 8), (3, 4))]


@dataclass
class Tally:
    visits: int = 0
    jobs_started: int = 0
    abandoned: int = 0
    stopped: int = 0
    steps: int = 0
    problems: list[str] = field(default_factory=list)
    max_jobs: int = 0
    job_samples: list[tuple[float, int]] = field(default_factory=list)


def job_threads(pid: int) -> int:
    return sum(1 for name in thread_names(pid) if name == JOB_THREAD)


def record(tally: Tally, who: str, step) -> None:
    tally.steps += 1
    for text in step.exceptions:
        tally.problems.append(f"{who} {step.name}: exception {text[:200]}")


async def student(n: int, url: str, end: float, tally: Tally, rng: random.Random,
                  args) -> None:
    specs = soak_specs()
    while time.monotonic() < end:
        who = f"student {n} visit {tally.visits}"
        tally.visits += 1
        spec = rng.choice(specs)
        try:
            async with StreamlitSession(url, spec.to_query(), args.timeout) as s:
                record(tally, who, await s.open("open"))
                if rng.random() < 0.5:
                    record(tally, who, await s.toggle("w_skip", "toggle skips"))
                if rng.random() < 0.3:
                    record(tally, who, await s.switch_page("Gradient flow", "gradient flow"))
                if rng.random() < 0.2:
                    record(tally, who, await s.switch_page("Grad-CAM", "grad-cam"))
                record(tally, who, await s.switch_page("Training", "training"))
                if args.train_images and "train_n" in s.widgets:
                    record(tally, who, await s.set_widget("train_n", args.train_images))
                step = await s.click("train_start", "start training")
                record(tally, who, step)
                tally.jobs_started += 1
                for watch in await s.watch(rng.uniform(*args.watch)):
                    record(tally, who, watch)
                if rng.random() < args.abandon:
                    tally.abandoned += 1  # close the tab mid-run: the websocket just goes away
                elif "train_stop" in s.widgets:
                    record(tally, who, await s.click("train_stop", "stop training"))
                    tally.stopped += 1
        except Exception as exc:  # noqa: BLE001  (recorded: a dropped session is a finding)
            tally.problems.append(f"{who}: {type(exc).__name__}: {exc}"[:300])
        await asyncio.sleep(rng.uniform(*args.away))


async def sample_jobs(pid: int, tally: Tally, start: float, stop: asyncio.Event,
                      rss_every_s: float = 300.0) -> None:
    """Count the job threads every 2 s; print RSS every ``rss_every_s`` (a leak grows, a
    filling cache levels off: the end figure alone cannot tell them apart)."""
    next_rss = rss_every_s
    while not stop.is_set():
        count = await asyncio.to_thread(job_threads, pid)  # py-spy takes a moment
        tally.max_jobs = max(tally.max_jobs, count)
        elapsed = time.monotonic() - start
        tally.job_samples.append((elapsed, count))
        if elapsed >= next_rss:
            print(f"{elapsed / 60:.0f} min: RSS {rss_mb(pid):.0f} MiB, {tally.visits} visits, "
                  f"{count} job threads", flush=True)
            next_rss += rss_every_s
        try:
            await asyncio.wait_for(stop.wait(), 2.0)
        except asyncio.TimeoutError:
            pass


async def expire_sessions(url: str) -> None:
    """Let the TTL pass, then visit once so Streamlit drops the disconnected sessions."""
    from explorer import NetSpec

    await asyncio.sleep(SESSION_TTL_S + 1)
    probe = NetSpec(layers=(1,), base_width=1, stem="cifar", num_classes=1, image_size=8)
    async with StreamlitSession(url, probe.to_query()) as s:
        await s.open("probe")
    await asyncio.sleep(1)


async def gates_free(url: str, pid: int, timeout: float) -> tuple[bool, str]:
    """A fresh session's training makes progress, a gradient flow finishes, Stop ends the job."""
    spec = soak_specs()[0]
    before = job_threads(pid)
    async with StreamlitSession(url, spec.to_query(), timeout) as s:
        await s.open()
        flow = await s.switch_page("Gradient flow", "gradient flow")
        if flow.exceptions:
            return False, f"gradient flow failed: {flow.exceptions[0][:200]}"
        await s.switch_page("Training")
        await s.click("train_start", "start training")
        deadline = time.monotonic() + timeout
        progressed = False
        while time.monotonic() < deadline and not progressed:
            for step in await s.watch(1.5):
                progressed |= any(int(m.group(1)) > 0 for t in step.texts
                                  if (m := re.search(r"Training on .*?(\d+)%", t)))
            if not s.auto_rerun:  # the run already finished
                progressed = True
        if not progressed:
            return False, f"a fresh training made no progress within {timeout:.0f} s"
        if "train_stop" in s.widgets and s.auto_rerun:
            await s.click("train_stop", "stop")
    for _ in range(60):
        if job_threads(pid) <= before:
            return True, "a fresh training made progress and its Stop ended it; gradient flow ran"
        await asyncio.sleep(1)
    return False, "the fresh training's thread did not end after Stop"


@asynccontextmanager
async def server_for(args):
    """``(url, pid)``: a new server for the soak, or the running one at ``--url``."""
    if args.url:
        if not args.pid:
            raise SystemExit("--url needs --pid (the server's RSS and threads are read)")
        yield args.url.rstrip("/"), args.pid
        return
    env = {"STREAMLIT_SERVER_DISCONNECTED_SESSION_TTL": str(SESSION_TTL_S)}
    server = Server(env, app_dir=Path(args.app_dir))
    try:
        server.wait_healthy()
        yield server.url, server.pid
    finally:
        server.stop()


async def soak(args) -> int:
    async with server_for(args) as (url, pid):
        with RssSampler([pid], interval=0.5) as sampler:
            warm = Tally()
            async with StreamlitSession(url, soak_specs()[2].to_query(), args.timeout) as s:
                for step in [await s.open(), await s.toggle("w_skip"),
                             await s.switch_page("Gradient flow"),
                             await s.switch_page("Grad-CAM"), await s.switch_page("Training")]:
                    record(warm, "warm-up", step)
            await expire_sessions(url)
            baseline = sampler.now()[pid]
            threads_before = collections.Counter(thread_names(pid))
            print(f"warm-up done: RSS {baseline:.0f} MiB, threads {dict(threads_before)}",
                  flush=True)
            sampler.reset_peak()

            tally = Tally(problems=list(warm.problems))
            start = time.monotonic()
            end = start + args.minutes * 60
            stop = asyncio.Event()
            watcher = asyncio.create_task(sample_jobs(pid, tally, start, stop))
            rng = random.Random(args.seed)
            await asyncio.gather(*(student(i, url, end, tally, random.Random(rng.random()), args)
                                   for i in range(args.students)))
            left_at = time.monotonic()
            peak = sampler.peak[pid]
            print(f"students left after {left_at - start:.0f} s: {tally.jobs_started} jobs, "
                  f"{tally.abandoned} abandoned, {job_threads(pid)} job threads alive", flush=True)

            await expire_sessions(url)
            drained_after = None
            while time.monotonic() - left_at < args.drain:
                if job_threads(pid) == 0:
                    drained_after = time.monotonic() - left_at
                    break
                await asyncio.sleep(1)
            alive = job_threads(pid)
            stop.set()
            await watcher
            rss_end = sampler.now()[pid]
            gates_ok, gates_note = await gates_free(url, pid, args.timeout)
            await expire_sessions(url)
            threads_after = collections.Counter(thread_names(pid))

    growth = rss_end / baseline - 1
    ok = alive == 0 and gates_ok and (args.quick or abs(growth) <= 0.10) and not tally.problems
    print(f"\n# soak: {args.minutes:g} min, {args.students} students\n")
    print("| figure | value |\n|---|---|")
    print(f"| visits (sessions) | {tally.visits} |")
    print(f"| requests answered | {tally.steps} |")
    print(f"| trainings started | {tally.jobs_started} |")
    print(f"| abandoned mid-run (tab closed) | {tally.abandoned} |")
    print(f"| stopped with Stop | {tally.stopped} |")
    print(f"| most training-job threads at once | {tally.max_jobs} |")
    print(f"| training-job threads alive {args.drain:.0f} s after the last student left | "
          f"{alive}" + (f" (0 after {drained_after:.0f} s)" if drained_after is not None else "")
          + " |")
    print(f"| gates free | {'yes' if gates_ok else 'NO'}: {gates_note} |")
    print(f"| RSS after warm-up / peak / end (MiB) | {baseline:.0f} / {peak:.0f} / "
          f"{rss_end:.0f} ({growth:+.1%}) |")
    changed = {k: threads_after[k] - threads_before[k]
               for k in threads_before | threads_after if threads_after[k] != threads_before[k]}
    print(f"| threads vs after warm-up | {changed or 'same'} |")
    print(f"| problems | {len(tally.problems)} |")
    for problem in tally.problems[:30]:
        print(f"  - {problem}")
    print("\nGoals: no training-job thread left, gates free, "
          + ("(--quick: RSS not judged)" if args.quick else "RSS within 10 % of warm-up")
          + ": " + ("MET" if ok else "NOT MET"))
    return 0 if ok else 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--students", type=int, default=4)
    parser.add_argument("--abandon", type=float, default=0.7,
                        help="chance a student closes the tab mid-run instead of pressing Stop")
    parser.add_argument("--watch", type=float, nargs=2, default=(3.0, 12.0),
                        help="seconds a student watches the run (uniform between the two)")
    parser.add_argument("--away", type=float, nargs=2, default=(1.0, 5.0),
                        help="seconds between a student's visits")
    parser.add_argument("--train-images", type=int, default=0,
                        help="set the Training page's image count (0: the page's default)")
    parser.add_argument("--drain", type=float, default=60.0,
                        help="seconds the jobs of gone sessions get to end")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds per request")
    parser.add_argument("--app-dir", default=str(ROOT), help="the checkout to serve")
    parser.add_argument("--url", help="soak this running server instead of starting one (start "
                                      "it with STREAMLIT_SERVER_DISCONNECTED_SESSION_TTL=2)")
    parser.add_argument("--pid", type=int, help="the --url server's pid (RSS, threads)")
    parser.add_argument("--quick", action="store_true",
                        help="a check that the soak runs, in seconds: one student for ~6 s, "
                             "short watches and drain, few training images")
    args = parser.parse_args()
    if args.quick:
        args.minutes, args.students, args.drain = 0.1, 1, 30.0
        args.watch, args.away, args.train_images = (0.5, 1.0), (0.2, 0.5), 64
    if Path(args.app_dir).resolve() != ROOT:  # its explorer: the specs it serves
        sys.path.insert(0, str(Path(args.app_dir).resolve()))
    sys.exit(asyncio.run(soak(args)))


if __name__ == "__main__":
    main()

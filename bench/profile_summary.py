"""Rank where a Streamlit server's threads spent their samples, from a py-spy raw profile.

``python -m bench.classroom --profile DIR`` records one ``py-spy record --format raw`` file per
phase (``pip install py-spy``; sampling the server's threads at 50 Hz, idle threads left out). This
script attributes every sample to the innermost line of our page code (``app.py``, ``pages/...``)
on its stack and to the function that line called, or, outside page code, to Streamlit's post-run
work (its ``gc.collect(2)`` after every run: ``runner.postScriptGC``), the rest of the script
runner, the websocket/event loop, and training jobs. Samples in ``time.sleep`` / ``select`` (py-spy
counts a few waits as busy) are dropped.

From the repository root:

    python -m bench.profile_summary /tmp/prof/at-once.raw [--app-dir DIR] [--top 25]
    python -m bench.profile_summary FILE --under "grad_cam_grid (explorer" --depth 2
    python -m bench.profile_summary --quick    # a small made-up profile: a check that it runs
"""

from __future__ import annotations

import argparse
import collections
import linecache
import re
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FRAME = re.compile(r"(.*) \((.*):(\d+)\)$")
IDLE = ("polling_path_watcher.py:90", "EpollSelector.select", "Event.wait", "Condition.wait",
        "concurrent/futures/thread.py:81")
# A made-up raw profile in py-spy's format (``frame;frame;... count``, outermost first) with a
# sample of every kind the summary tells apart, for ``--quick``.
SAMPLE_PROFILE = """\
_run_script (streamlit/runtime/scriptrunner/script_runner.py:600);<module> (app.py:30);\
<module> (pages/views/architecture.py:20);stage_table (explorer/nets/measure.py:180) 40
_run_script (streamlit/runtime/scriptrunner/script_runner.py:600);<module> (app.py:30);\
<module> (pages/views/gradient_flow.py:40);CachedFunc.__call__ (streamlit/cache.py:10);\
CachedFunc._handle_cache_miss (streamlit/cache.py:20);gradient_flow (explorer/gradflow.py:9) 25
_run_script (streamlit/runtime/scriptrunner/script_runner.py:600);\
_on_script_finished (streamlit/runtime/scriptrunner/script_runner.py:1055) 15
run (threading.py:975);_run (explorer/training/jobs.py:120) 10
_run_once (asyncio/base_events.py:1900);send (tornado/websocket.py:300) 5
_worker (concurrent/futures/thread.py:81);Event.wait (threading.py:600) 99
"""


def parse(path: Path):
    for row in path.read_text().splitlines():
        stack, _, count = row.rpartition(" ")
        if stack and count.isdigit():
            yield stack.split(";"), int(count)


def is_page(frame: str) -> bool:
    m = FRAME.match(frame)
    return bool(m) and (m.group(2).startswith("pages/") or m.group(2) == "app.py")


def callee_of(below: list[str]) -> str:
    """What a page line called; st.cache_data calls split into misses (the function ran) and
    hits (the cached value was read: unpickled, i.e. copied for this session)."""
    if not below:
        return "(itself)"
    names = [FRAME.match(f).group(1) if FRAME.match(f) else f for f in below]
    if names[0] == "CachedFunc.__call__":
        if "CachedFunc._handle_cache_miss" in names:
            after = names[names.index("CachedFunc._handle_cache_miss") + 1:]
            inner = next((n for n in after if not n.startswith(("Cache", "_"))), "?")
            return f"st.cache_data miss: {inner} ran"
        if any("read_result" in n for n in names):
            return "st.cache_data hit: the cached value unpickled (a copy per session)"
        return "st.cache_data: hashing the arguments, locks"
    m = FRAME.match(below[0])
    return f"{m.group(1)} ({m.group(2)})" if m else below[0]


def category(frames: list[str]) -> str:
    text = ";".join(frames)
    if "_on_script_finished (streamlit/runtime/scriptrunner/script_runner.py:1055)" in text \
            or ("_on_script_finished" in text and frames[-1].startswith("_on_script_finished")):
        return "Streamlit's gc.collect(2) after every run (runner.postScriptGC)"
    if "jobs.py" in text:
        return "training jobs"
    if "ScriptRunner" in text:
        return "Streamlit script runner, outside page code"
    if any(k in text for k in ("starlette", "uvicorn", "websocket")):
        return "websocket / HTTP"
    return "event loop and other threads"


def summarise(path: Path, app_dir: Path, top: int) -> str:
    by_kind, by_line, by_call = collections.Counter(), collections.Counter(), collections.Counter()
    total = 0
    for frames, count in parse(path):
        if any(idle in frames[-1] for idle in IDLE):
            continue
        total += count
        pages = [i for i, f in enumerate(frames) if is_page(f)]
        if not pages:
            by_kind[category(frames)] += count
            continue
        i = pages[-1]
        m = FRAME.match(frames[i])
        source = linecache.getline(str(app_dir / m.group(2)), int(m.group(3))).strip()
        line = f"{m.group(2)}:{m.group(3)}  {source[:72]}"
        by_kind["page code (app.py, pages/)"] += count
        by_line[line] += count
        by_call[(line, callee_of(frames[i + 1:]))] += count
    out = [f"{path.name}: {total} samples (busy threads, 50 Hz: ~{total / 50:.0f} thread-seconds)",
           "", "| where | samples | share |", "|---|---|---|"]
    out += [f"| {k} | {v} | {v / total:.1%} |" for k, v in by_kind.most_common()]
    out += ["", "| page-code line → what it called | samples | share |", "|---|---|---|"]
    for (line, callee), v in by_call.most_common(top):
        out.append(f"| `{line}` → {callee} | {v} | {v / total:.1%} |")
    return "\n".join(out)


def under(path: Path, target: str, depth: int, top: int) -> str:
    counts, total = collections.Counter(), 0
    for frames, count in parse(path):
        for i, frame in enumerate(frames):
            if target in frame:
                total += count
                counts[" → ".join(frames[i + 1:i + 1 + depth]) or "(itself)"] += count
                break
    return "\n".join([f"under {target!r}: {total} samples"]
                     + [f"{v:6d}  {k[:240]}" for k, v in counts.most_common(top)])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("raw", nargs="*", type=Path, help="py-spy raw profiles")
    parser.add_argument("--app-dir", type=Path, default=ROOT, help="for the source lines")
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--under", help="break down the samples below this frame instead")
    parser.add_argument("--depth", type=int, default=1)
    parser.add_argument("--quick", action="store_true",
                        help="summarise a small made-up profile (no files needed), both ways")
    args = parser.parse_args()
    if args.quick:
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "sample.raw"
            path.write_text(SAMPLE_PROFILE)
            print(summarise(path, args.app_dir, args.top))
            print()
            print(under(path, "_run_script", args.depth, args.top))
        return
    if not args.raw:
        parser.error("give at least one py-spy raw profile (or --quick)")
    for path in args.raw:
        print(under(path, args.under, args.depth, args.top) if args.under
              else summarise(path, args.app_dir, args.top))
        print()


if __name__ == "__main__":
    main()

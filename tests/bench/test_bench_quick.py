"""Every benchmark in ``bench/`` runs: its quick mode, as a reader would start it.

Each script runs as ``python -m bench.<name> --quick`` in its own process from the repository
root (tiny sizes, the same code path as the full run) and must exit 0 and print its result
lines, so a change that breaks a benchmark fails here like any other. Nothing is timed: a quick
run's figures mean nothing and machines are noisy. The full runs stay manual (each script's
docstring says how).

The runs are mostly waiting (for a server to drop its sessions, for a soak to end, for chromium),
so the selected ones start together, a few at a time, when the first test asks; each test then
checks its own. The scripts that drive a server (classroom, soak, load) share one warm server
started here and reach it with ``--url``: a server each would start and warm up three more
times. bench_start starts its own, a cold start being what it measures. Every run has
``OMP_NUM_THREADS=1``: torch's threads spinning on a loaded two-core machine make tiny models a
hundred times slower.
"""

import os
import subprocess
import sys
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import ExitStack

import pytest

from bench.harness import ROOT, serving
from browser_util import ARTIFACTS

ENV = {**os.environ, "OMP_NUM_THREADS": "1"}
TIMEOUT_S = 300
AT_ONCE = 3  # runs in flight together (each imports torch: memory, and two cores)
SERVED = ("classroom", "soak", "load")  # these get the shared server's --url and --pid

def quick(name: str, *lines, marks=()):
    """A script and the lines its output must contain (a tuple of lines: any one of them)."""
    return pytest.param(name, lines, marks=marks, id=name)


QUICK = [  # the longest first
    quick("load", '"open": {', '"skip toggle": {', '"gradient flow": {', '"grad-cam": {',
          '"failures": []', marks=pytest.mark.browser),
    quick("soak", "| trainings started |", "| gates free | yes", "| problems | 0 |",
          "(--quick: RSS not judged): MET", marks=pytest.mark.slow),
    quick("classroom", "# classroom: 2 students", "| at once |", "- problems: 0",
          marks=pytest.mark.slow),
    quick("bench_start", 'python -c "import explorer"', "python -m explorer --help",
          "streamlit run → server health check", "streamlit run → stage table in chromium",
          marks=pytest.mark.browser),
    quick("bench_app", "rerun after a no-rebuild widget change (AppTest): median",
          "first build on CPU: explorer.build"),
    quick("bench_gradcam", "grad_cam (ours)", "forward, grad enabled", "goal grad_cam ≤ 1.2×"),
    quick("bench_cams", "goal gradcam++ ≤ 1.1× gradcam", "goal layercam ≤ 1.1× gradcam",
          "goal cascade ≤ 1.2×"),
    quick("bench_train", "bare loop", "explorer.training.train", "ratio train/bare"),
    quick("bench_stage_table", "stage_table, cold (cache cleared)",
          "torchinfo.summary, real CPU model", "torchinfo CPU / stage_table"),
    quick("bench_analyses", '"lesion": {', '"landscape": {', '"erf": {', '"ratio_cpu"'),
    quick("bench_gradflow", "[wall] ratio gradient_flow / bare passes",
          "[CPU] ratio gradient_flow / (build + bare passes)"),
    quick("bench_designs", "[CPU] ratio compare_designs / bare passes",
          "goal compare_designs ≤ 1.15× six bare passes"),
    quick("bench_compare", "page ms/img", "resnet32           forward+backward",
          "goal every page/bare ratio within 10%"),
    quick("bench_family_table", "stage_table, cold", "torchinfo, meta",
          "goal stage_table ≤ 0.5× torchinfo's summary (meta)"),
    # without a GPU it says so and exits 0; with one, it runs its checks at the small sizes
    quick("gpu_check", ("no CUDA device", "budget refuses")),
    quick("profile_summary", "| page code (app.py, pages/) |", "page-code line → what it called",
          "under '_run_script'"),
]


def run_quick(name: str, *args: str) -> subprocess.CompletedProcess:
    """``python -m bench.<name> --quick [args]`` from the repository root, to the end."""
    cmd = [sys.executable, "-m", f"bench.{name}", "--quick", *args]
    try:
        return subprocess.run(cmd, cwd=ROOT, env=ENV, capture_output=True, text=True,
                              timeout=TIMEOUT_S)
    except subprocess.TimeoutExpired as exc:
        return subprocess.CompletedProcess(cmd, f"timed out after {TIMEOUT_S} s",
                                           exc.stdout or "", exc.stderr or "")


@pytest.fixture(scope="module")
def quick_runs(request):
    """Script name → the future of its quick run, for every test of this module selected."""
    selected = [item.callspec.params["name"] for item in request.session.items
                if item.module is request.module and hasattr(item, "callspec")]
    runs, served = {}, [name for name in selected if name in SERVED]
    with ExitStack() as stack:
        args = ()
        if served:
            env = {"STREAMLIT_SERVER_DISCONNECTED_SESSION_TTL": "2", "OMP_NUM_THREADS": "1"}
            try:
                server = stack.enter_context(serving(env, log_dir=ARTIFACTS))
                args = ("--url", server.url, "--pid", str(server.pid))
            except Exception as exc:  # noqa: BLE001  (those runs fail with it; the others run)
                for name in served:
                    runs[name] = Future()
                    runs[name].set_exception(exc)
        pool = stack.enter_context(ThreadPoolExecutor(AT_ONCE))  # shut down before the server
        for name in selected:
            if name not in runs:
                runs[name] = pool.submit(run_quick, name, *(args if name in SERVED else ()))
        yield runs


@pytest.mark.parametrize("name, lines", QUICK)
def test_quick_run_exits_0_and_prints_its_results(quick_runs, name, lines):
    run = quick_runs[name].result()
    out = run.stdout or ""
    assert run.returncode == 0, (f"python -m bench.{name} --quick: exit {run.returncode}\n"
                                 f"stdout:\n{out[-4000:]}\nstderr:\n{(run.stderr or '')[-4000:]}")
    missing = [line for line in lines
               if not any(one in out for one in (line if isinstance(line, tuple) else (line,)))]
    assert not missing, f"bench.{name} --quick did not print {missing}:\n{out[-4000:]}"

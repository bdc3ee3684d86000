"""Benchmarks and load tools for ResNet Explorer.

Run each from the repository root as a module, e.g. ``python -m bench.classroom --clients 16``;
``--quick`` runs any of them at tiny sizes in seconds (``tests/bench/test_bench_quick.py`` does,
so a change that breaks a benchmark fails the suite). ``bench.harness`` is what the benchmarks
and the tests share: the server process, health checks, chromium, AppTest, ``percentile``.
"""

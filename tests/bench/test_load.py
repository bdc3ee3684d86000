"""A small load test in the suite: concurrent visitors on one real server (``bench.load``)."""

import pytest

from bench.load import run_load

pytestmark = pytest.mark.browser

GLIBC_MMAP_THRESHOLD = 128 * 1024


def test_concurrent_visitors_each_see_their_own_numbers_and_memory_comes_back():
    # Two-stage nets with ~11-24 M weights: each visitor holds three models (~130-290 MB), so
    # sessions that were not freed would show; glibc hands big freed blocks back to the OS only
    # with a fixed mmap threshold (otherwise ~400 MB stays mapped as free heap, measured).
    report = run_load(sessions=4, tabs_per_context=4, rounds=1, wide=384,
                      mmap_threshold=GLIBC_MMAP_THRESHOLD)
    assert report["failures"] == []
    assert all(action["n"] == 4 for action in report["latency"].values())
    assert len(report["latency"]) == 4
    rss = report["rss_mb"]
    assert rss["peak"] - rss["baseline"] > 300  # the visitors' models were really there
    assert rss["after"] - rss["baseline"] < 100, rss

"""A small classroom in the suite: four protocol-level students at once on a real server.

The full benchmark (sixteen students, alone vs one by one vs at once) is ``python -m
bench.classroom``; here four students with four different networks follow a short lesson
together (the full one without Grad-CAM, whose captum runs cost most of the time: the browser
tests cover that page), and every step must finish without an exception while each student sees
its own network's parameter count.
"""

import asyncio

import pytest

from bench.classroom import SESSION_TTL_S, STEPS, expected_params, lesson, spec_for
from bench.harness import Server

pytestmark = pytest.mark.slow

STUDENTS = 4
SHORT = tuple(step for step in STEPS if step != "grad-cam")


async def _class(url: str):
    specs = [spec_for(i, same=False) for i in range(STUDENTS)]
    return specs, await asyncio.gather(*(lesson(url, spec, i, timeout=120, steps=SHORT) for i, spec in
                                         enumerate(specs)))


def test_four_students_at_once_each_see_their_own_network():
    env = {"STREAMLIT_SERVER_DISCONNECTED_SESSION_TTL": str(SESSION_TTL_S)}
    with Server(env) as server:
        specs, lessons = asyncio.run(_class(server.url))
    assert len({expected_params(s) for s in specs}) == STUDENTS  # four different networks
    for spec, les in zip(specs, lessons):
        assert les.problems == [], les.problems  # exceptions, wrong parameter counts
        assert [s.name for s in les.steps] == list(SHORT)
        assert all(s.exceptions == [] and s.errors == [] for s in les.steps)
        assert les.steps[0].metric("Parameters") == expected_params(spec)

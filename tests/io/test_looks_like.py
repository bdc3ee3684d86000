"""`looks_like` names every preset from its own weight names and shapes, and caches the work."""

from __future__ import annotations

import pytest
import torch

from explorer.io import checkpoints
from explorer.io.checkpoints import looks_like
from explorer.nets.measure import meta_model
from explorer.nets.presets import PRESETS


@pytest.mark.parametrize("name", list(PRESETS))
def test_every_preset_reads_as_itself(name):
    state_dict = meta_model(PRESETS[name]).state_dict()
    assert looks_like(state_dict) == name


def test_a_second_call_builds_nothing(monkeypatch):
    state_dict = meta_model(PRESETS["preact_resnet164"].replace(base_width=8)).state_dict()
    assert looks_like(state_dict) is None  # same blocks per stage as preact_resnet164: built once

    def refuse(spec):
        raise AssertionError(f"built {spec} again")

    monkeypatch.setattr(checkpoints, "meta_model", refuse)
    assert looks_like(state_dict) is None
    assert looks_like({"conv.weight": torch.zeros(3, 3)}) is None

"""He et al. Fig. 1, recorded and shipped: four complete runs of one recipe, the 56-layer pair
loads and reaches its bar, the recorded command reproduces the record's first steps, and the
Training page draws the record at once with sentences that follow from it."""

import json
from pathlib import Path

import pytest
import torch

from explorer import load_saved
from explorer.nets.presets import preset
from explorer.training.config import TrainConfig
from explorer.training.recorded import FIGURE1_RECORD, load_recorded
from explorer.training.runner import spec_for
from explorer.data.shapes import ShapesDataset
from explorer.training.train import train
from explorer.training.verdicts import verdicts

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def record():
    return load_recorded(FIGURE1_RECORD)


def test_four_complete_runs_of_one_recipe(record):
    assert sorted(c.label for c in record.curves) == ["ResNet-20", "ResNet-56", "plain-20",
                                                     "plain-56"]
    assert {c.total_steps for c in record.curves} == {TrainConfig.from_dict(record.config).total_steps}
    assert all(len(c.losses) == len(c.accuracies) == c.total_steps for c in record.curves)
    assert all(len(c.val_accuracies) == TrainConfig.from_dict(record.config).epochs
               for c in record.curves)
    raw = json.loads(FIGURE1_RECORD.read_text())
    assert raw["device"] and raw["threads"] >= 1 and raw["minutes"] > 0
    assert {e["depth"] for e in raw["runs"].values()} == {20, 56}


def test_the_56_layer_pair_is_shipped_and_resnet56_reaches_95_percent(record):
    model, spec = load_saved(ROOT / "checkpoints" / "resnet56")
    plain, plain_spec = load_saved(ROOT / "checkpoints" / "resnet56-plain")
    assert spec == preset("resnet56").replace(num_classes=8) and plain_spec == spec.replace(skip=False)
    assert record.test_accuracy["ResNet-56"] >= 0.95
    metrics = json.loads((ROOT / "checkpoints" / "resnet56" / "metrics.json").read_text())
    assert metrics["test_accuracy"] == record.test_accuracy["ResNet-56"]
    assert "python -m explorer train --preset resnet56" in metrics["command"]


def test_the_recorded_command_reproduces_the_first_steps(record):
    config = TrainConfig.from_dict(record.config)
    spec = spec_for("resnet20", config)
    steps, seen = 3, []

    def count(event):
        if event.kind == "step" and event.variant == "plain":
            seen.append(event)

    result = train(spec, ShapesDataset(config.train_size, 32, config.seed, "train"), config,
                   device="cpu", should_stop=lambda: len(seen) >= steps, on_progress=count)
    for curve in (c for c in record.curves if c.depth == 20):
        mine = [s["loss"] for s in result.histories[curve.variant].steps]
        assert mine == pytest.approx(curve.losses[:steps], rel=1e-4, abs=1e-5)


def test_the_training_page_draws_the_record_at_once(record):
    from apptest_util import fresh_app, widget

    at = fresh_app()
    at.switch_page("pages/views/training.py").run()
    widget(at, "train_experiment").set_value("figure1").run()
    assert not at.exception
    assert any(c.value.startswith("Recorded, not live") for c in at.caption)
    assert at.code[0].value == record.command  # how to reproduce it, word for word
    shown = [m.value.removeprefix("- ") for m in at.markdown]
    for line in verdicts([c.outcome() for c in record.curves]):
        assert line in shown
    assert "training_job" not in at.session_state  # nothing was started to draw it

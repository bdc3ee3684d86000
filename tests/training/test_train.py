"""Training: it learns, twins start equal, it stops when asked, checkpoints round-trip, and the
shipped checkpoints reach the accuracy their metrics.json records."""

import json
import math
import shlex
from pathlib import Path

import pytest
import torch
from torch import nn
from torch.utils.data import Dataset

from explorer import NetSpec, build
from explorer.io.checkpoints import load_saved, save_checkpoint
from explorer.cli.main import main, make_parser
from explorer.data.shapes import CLASSES, ShapesDataset
from explorer.training.config import TrainConfig
from explorer.training.train import evaluate, lr_factor, train

TINY = NetSpec(layers=(1, 1), base_width=8, stem="cifar", num_classes=4, image_size=16)
CHECKPOINTS = Path(__file__).resolve().parents[2] / "checkpoints"


def recipe(**changes) -> TrainConfig:
    """A small recipe for one net (no twin) unless ``changes`` say otherwise."""
    return TrainConfig(**{"epochs": 1, "batch_size": 32, "twin": False, **changes})


class Colours(Dataset):
    """Noise with a 4x4 square at a random place; its colour (red, green, blue or dark) is
    the label. Deliberately not a ``get_batch`` dataset, so the item-by-item path runs too."""

    def __init__(self, n: int, seed: int) -> None:
        gen = torch.Generator().manual_seed(seed)
        self.labels = torch.randint(0, 4, (n,), generator=gen)
        self.images = torch.randn(n, 3, 16, 16, generator=gen) * 0.5
        corners = torch.randint(0, 12, (n, 2), generator=gen).tolist()
        for i, (k, (top, left)) in enumerate(zip(self.labels.tolist(), corners)):
            patch = self.images[i, :, top:top + 4, left:left + 4]
            if k < 3:
                patch[k] += 2.0
            else:
                patch -= 2.0

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, i):
        return self.images[i], int(self.labels[i])


def test_short_run_lowers_the_loss_and_beats_chance_on_held_out_data():
    events = []
    result = train(TINY, Colours(256, seed=0), recipe(epochs=3, lr=0.05),
                   val_dataset=Colours(128, seed=1), on_progress=events.append)
    history = result.histories["residual"]
    assert len(history.steps) == 3 * 8 and not result.stopped
    first, last = history.epochs[0], history.epochs[-1]
    assert last["loss"] < 0.7 * first["loss"]
    assert last["val_accuracy"] > 0.6  # chance is 0.25
    assert evaluate(result.models["residual"], Colours(128, seed=1)) == last["val_accuracy"]
    steps = [e for e in events if e.kind == "step"]
    assert [e.step for e in steps] == list(range(1, 25))
    assert all(e.total_steps == 24 for e in steps)
    assert [e.epoch for e in events if e.kind == "epoch"] == [1, 2, 3]


def test_shapes_training_fits_its_batches():
    spec = TINY.replace(num_classes=len(CLASSES))
    result = train(spec, ShapesDataset(128, 16, seed=0), recipe(epochs=4, lr=0.05))
    epochs = result.histories["residual"].epochs
    assert epochs[-1]["loss"] < epochs[0]["loss"]
    assert all(math.isfinite(e["loss"]) and e["images_per_s"] > 0 for e in epochs)


def test_twins_start_from_identical_weights_and_train_in_lockstep():
    stopped = train(TINY, Colours(64, 0), recipe(twin=True, seed=3), should_stop=lambda: True)
    assert stopped.stopped and set(stopped.models) == {"residual", "plain"}
    assert all(not h.steps for h in stopped.histories.values())
    reference = build(TINY, seed=3).state_dict()
    residual = stopped.models["residual"].state_dict()
    plain = stopped.models["plain"].state_dict()
    assert set(plain) <= set(residual)
    for name, tensor in plain.items():
        assert torch.equal(tensor, residual[name]) and torch.equal(tensor, reference[name])
    assert not stopped.models["plain"].spec.skip

    twins = train(TINY, Colours(64, 0), recipe(twin=True, seed=3))
    solo = train(TINY, Colours(64, 0), recipe(seed=3))
    # Same batches in the same order: the twin run's residual net is the solo run's, exactly.
    for name, tensor in solo.models["residual"].state_dict().items():
        assert torch.equal(tensor, twins.models["residual"].state_dict()[name])
    assert len(twins.histories["plain"].steps) == len(twins.histories["residual"].steps) == 2


def test_should_stop_cancels_mid_epoch_and_keeps_the_partial_history():
    calls = []
    result = train(TINY, Colours(256, 0), recipe(epochs=5, batch_size=16),
                   should_stop=lambda: len(calls) >= 3, on_progress=calls.append)
    assert result.stopped and result.steps_done == 3
    assert result.epochs_done == pytest.approx(3 / 16)  # 256 images / 16 = 16 steps an epoch
    history = result.histories["residual"]
    assert [s["step"] for s in history.steps] == [1, 2, 3]
    assert history.epochs == []  # a cut epoch is no epoch: no fake point
    assert history.final["steps"] == 3 and history.final["epochs_done"] == pytest.approx(3 / 16)
    assert not result.models["residual"].training


def test_lr_schedule_against_hand_computed_values():
    assert [lr_factor(s, 10, 2) for s in (0, 1, 2)] == [0.5, 1.0, 1.0]
    assert lr_factor(6, 10, 2) == pytest.approx(0.5)  # half way through the cosine
    assert lr_factor(9, 10, 2) == pytest.approx(0.5 * (1 + math.cos(math.pi * 7 / 8)))


class AlwaysZero(nn.Module):
    def __init__(self):
        super().__init__()
        self.bias = nn.Parameter(torch.tensor([1.0] + [0.0] * (len(CLASSES) - 1)))

    def forward(self, x):
        return self.bias.expand(len(x), -1)


def test_evaluate_counts_correct_answers_and_restores_the_mode():
    model = AlwaysZero().train()
    # Labels cycle through the classes, so class 0 is 3 of 24.
    assert evaluate(model, ShapesDataset(3 * len(CLASSES), 8), batch_size=5) == 3 / 24
    assert model.training and model.bias.grad is None


def test_checkpoint_round_trip_gives_identical_logits(tmp_path):
    result = train(TINY, Colours(64, 0), recipe())
    model = result.models["residual"]
    save_checkpoint(model, TINY, tmp_path / "tiny")
    loaded, spec = load_saved(tmp_path / "tiny")
    assert spec == TINY
    x = Colours(8, 5).images
    with torch.no_grad():
        assert torch.equal(model(x), loaded(x))


def test_cli_trains_a_twin_pair_and_records_a_reproducing_command(tmp_path, capsys):
    out = tmp_path / "r"
    argv = ["train", "--preset", "resnet20", "--layers", "1,1,1", "--base-width", "4",
            "--image-size", "16", "--train-size", "64", "--val-size", "16", "--test-size", "24",
            "--epochs", "1", "--batch-size", "32", "--twin", "--out", str(out)]
    assert main(argv) == 0
    for folder, skip in ((out, True), (tmp_path / "r-plain", False)):
        model, spec = load_saved(folder)
        assert spec.skip is skip and spec.layers == (1, 1, 1) and spec.num_classes == len(CLASSES)
        metrics = json.loads((folder / "metrics.json").read_text())
        test_set = ShapesDataset(24, 16, seed=0, split="test")
        assert metrics["test_accuracy"] == evaluate(model, test_set)
        assert metrics["test_size"] == 24 and metrics["check_size"] == 24
        again = make_parser().parse_args(shlex.split(metrics["command"])[3:])
        assert vars(again) == vars(make_parser().parse_args(argv))
    assert "test accuracy" in capsys.readouterr().out


def _shipped():
    return sorted(p.parent for p in CHECKPOINTS.glob("*/metrics.json"))


def test_the_resnet20_pair_is_shipped():
    names = {p.name for p in _shipped()}
    assert {"resnet20", "resnet20-plain"} <= names


@pytest.mark.parametrize("folder", _shipped(), ids=lambda p: p.name)
def test_shipped_checkpoint_reaches_its_recorded_accuracy(folder):
    metrics = json.loads((folder / "metrics.json").read_text())
    model, spec = load_saved(folder)
    assert metrics["dataset"] == "shapes" and spec.num_classes == len(CLASSES)
    held_out = ShapesDataset(metrics["check_size"], spec.image_size, metrics["seed"], "test")
    accuracy = evaluate(model, held_out)
    assert accuracy == pytest.approx(metrics["check_accuracy"], abs=0.02)
    assert accuracy > 3 / len(CLASSES)  # far above chance
    assert (folder / "model.safetensors").stat().st_size < 8 * 2**20


def test_early_held_out_estimates_are_reported_and_change_nothing():
    """Issue 19: a running training shows held-out accuracy before its first epoch ends; the
    estimates (first EARLY_IMAGES held-out images) must not change what the run learns."""
    from explorer.training.curves import curves_from_events
    from explorer.training.jobs import RunEvent
    from explorer.training.train import EARLY_IMAGES, evaluate

    spec = NetSpec(layers=(1, 1), base_width=4, stem="cifar", num_classes=8, image_size=16)
    config = TrainConfig(epochs=1, batch_size=8, train_size=96, twin=True)
    data, val = ShapesDataset(96, 16, 0), ShapesDataset(300, 16, 0, "val")
    events = []
    with_estimates = train(spec, data, config, val_dataset=val, on_progress=events.append,
                           estimate_every=4)
    plain_run = train(spec, data, config, val_dataset=val, on_progress=lambda e: None)
    estimates = [e for e in events if e.kind == "estimate"]
    assert [e.step for e in estimates if e.variant == "residual"] == [4, 8]  # not at step 12
    for name in ("residual", "plain"):
        torch.testing.assert_close(with_estimates.models[name].state_dict(),
                                   plain_run.models[name].state_dict(), rtol=0, atol=0)
    assert EARLY_IMAGES < len(val)
    curves = curves_from_events([RunEvent("tiny", e) for e in events], {"tiny": spec}, 12)
    residual = next(c for c in curves if c.variant == "residual")
    assert residual.estimate_steps == [4, 8] and all(0 <= a <= 1 for a in residual.estimate_accuracies)
    model = with_estimates.models["residual"]
    assert evaluate(model, val, limit=EARLY_IMAGES) == evaluate(
        model, torch.utils.data.Subset(val, range(EARLY_IMAGES)))

"""The results table reports what the runs did: a stopped run's fractional epochs, where it
ended, each variant's own throughput, one accuracy unit."""

import pytest

from explorer import PRESETS
from explorer.training.config import TrainConfig
from explorer.training.report import results_table
from explorer.training.train import History, TrainResult


def result(stopped: bool, steps_done: int) -> TrainResult:
    spec = PRESETS["resnet20"]
    histories = {
        "residual": History(epochs=[{"epoch": 1, "loss": 0.5, "train_accuracy": 0.8,
                                     "val_accuracy": 0.85, "images_per_s": 120.0, "seconds": 1}],
                            final={"steps": steps_done, "train_loss": 0.4, "val_accuracy": 0.9}),
        "plain": History(epochs=[{"epoch": 1, "loss": 0.9, "train_accuracy": 0.6,
                                  "val_accuracy": 0.62, "images_per_s": 95.0, "seconds": 1}],
                         final={"steps": steps_done, "train_loss": 0.8, "val_accuracy": 0.625}),
    }
    return TrainResult({"residual": spec, "plain": spec.replace(skip=False)}, {}, histories,
                       stopped, 1.0, TrainConfig(epochs=3), steps_done=steps_done, total_steps=300)


def test_a_stopped_run_reports_its_fractional_epochs_and_where_it_ended():
    table = results_table({"sidebar": result(stopped=True, steps_done=135)})
    row = table.set_index("net").loc["residual"]
    assert row["epochs done"] == pytest.approx(1.35) and row["stopped early"]
    assert row["held-out accuracy"] == "90.0 %" and row["final training loss"] == 0.4
    plain = table.set_index("net").loc["plain"]
    assert plain["images/s"] == 95.0 and row["images/s"] == 120.0  # each its own
    assert plain["held-out accuracy"] == "62.5 %"


def test_a_run_stopped_within_its_first_epoch_still_reports_its_speed():
    # Issue 19: the table showed a literal None when no epoch had ended.
    import torch

    from explorer import NetSpec
    from explorer.data.shapes import ShapesDataset
    from explorer.training.train import train

    spec = NetSpec(layers=(1, 1), base_width=4, stem="cifar", num_classes=8, image_size=16)
    calls = []
    stopped = train(spec, ShapesDataset(64, 16, 0), TrainConfig(epochs=2, batch_size=8, train_size=64),
                    should_stop=lambda: calls.append(1) or len(calls) > 3)
    table = results_table({"tiny": stopped})
    assert stopped.stopped and (table["images/s"] > 0).all()
    assert table["images/s"].dtype.kind == "f" and torch.isfinite(torch.tensor(list(table["images/s"]))).all()


def test_one_epochs_held_out_points_stay_apart_and_share_the_step_axis():
    from explorer.figures.training import training_figure
    from explorer.training.curves import Curve

    curves = [Curve("resnet20", variant, 20, 10, steps=[1, 2, 3], losses=[2.3, 2.2, 2.1],
                    val_steps=[3], val_accuracies=[0.1]) for variant in ("residual", "plain")]
    fig = training_figure(curves)
    held_out = [t for t in fig.data if t.xaxis == "x2"]
    assert [t.y for t in held_out] == [(0.1,), (0.1,)]  # the same point, twice
    assert held_out[0].marker.symbol != held_out[1].marker.symbol  # yet both can be seen
    assert fig.layout.xaxis2.matches == "x"  # at step 3 of the loss panel's axis, not alone

"""The skip-design study's figure: one loss curve and one accuracy curve per recorded variant,
designs and orders told apart by colour and dash."""

import math

import pytest
from skip_study_util import write_run

from explorer.figures.skip_study import LOSS_CHART_TOP, skip_study_figure
from explorer.figures.training import smooth
from explorer.training.skip_study import load_study

VARIANTS = ("identity", "scaled", "dropout", "order-pre", "order-bn_after_add")


def test_one_loss_trace_and_one_accuracy_trace_per_variant(tmp_path):
    for i, variant in enumerate(VARIANTS):
        write_run(tmp_path, variant, 0.9 - 0.1 * i, 0.05 * (i + 1))
    study = load_study(tmp_path)
    fig = skip_study_figure(study)
    losses = [t for t in fig.data if t.xaxis == "x"]
    accuracies = [t for t in fig.data if t.xaxis == "x2"]
    assert sorted(r.variant for r in study.runs) == sorted(VARIANTS)
    assert [t.legendgroup for t in losses] == [r.variant for r in study.runs]
    assert [t.legendgroup for t in accuracies] == [r.variant for r in study.runs]
    assert all(t.showlegend is not False for t in losses)
    assert not any(t.showlegend for t in accuracies)  # one legend entry per variant
    for trace, run in zip(losses, study.runs):
        assert list(trace.y) == smooth(list(run.losses))  # few steps: nothing thinned
    for trace, run in zip(accuracies, study.runs):
        assert list(trace.x) == list(run.val_steps) and list(trace.y) == list(run.val_accuracies)
    dashes = {t.legendgroup: t.line.dash for t in losses}
    assert {dashes[v] for v in ("identity", "scaled", "dropout")} == {"solid"}
    assert {dashes[v] for v in ("order-pre", "order-bn_after_add")} == {"dash"}
    assert len({t.line.color for t in losses}) == len(VARIANTS)
    assert fig.layout.yaxis.type == "log"


def test_a_diverged_run_leaves_the_loss_axis_to_the_others_and_says_how_high_it_went(tmp_path):
    write_run(tmp_path, "identity", 0.98, 0.01)
    write_run(tmp_path, "dropout", 0.12, 8.1e13)
    fig = skip_study_figure(load_study(tmp_path))
    low, high = fig.layout.yaxis.range
    assert high == pytest.approx(math.log10(LOSS_CHART_TOP))
    identity, dropout = [t for t in fig.data if t.xaxis == "x"]
    assert 10 ** low <= min(identity.y)  # the identity run's whole curve stays on the chart
    assert "above the chart" not in identity.name
    assert dropout.name.endswith(f"(diverged: its smoothed loss peaks at {max(dropout.y):.0e}, "
                              f"above the chart)")

"""Gradient-flow figures say what they show: shared weights at init, or trained twins."""

from explorer import NetSpec, gradient_flow
from explorer.figures.gradflow import flow_figure, response_std_figure

TINY = NetSpec(layers=(1, 1), base_width=4, stem="cifar", num_classes=4, image_size=8)


def subtitle(fig) -> str:
    return fig.layout.title.subtitle.text


def test_each_branch_of_the_subtitles():
    flow = gradient_flow(TINY, seed=0, batch_size=4)
    assert "same weights and batch" in subtitle(flow_figure(flow))
    trained = subtitle(flow_figure(flow, trained=True))
    assert "same weights" not in trained and "differ" in trained
    assert "by construction" in subtitle(response_std_figure(flow, "response"))
    assert "by construction" not in subtitle(response_std_figure(flow, "response", trained=True))
    assert "trained weights" in subtitle(response_std_figure(flow, "response", trained=True))
    assert "by construction" not in subtitle(response_std_figure(flow, "prenorm"))
    no_norm = gradient_flow(TINY.replace(norm="none"), seed=0, batch_size=4)
    assert "by construction" not in subtitle(response_std_figure(no_norm, "response"))
    for other in (TINY.replace(order="pre"), TINY.replace(attention="se")):  # no BN at the end
        flow = gradient_flow(other, seed=0, batch_size=4)
        assert "by construction" not in subtitle(response_std_figure(flow, "response"))


def test_the_live_training_chart_draws_early_estimates_as_open_circles():
    from explorer.figures.training import training_figure
    from explorer.training.curves import Curve

    curve = Curve("resnet20", "residual", 20, 8, steps=[1, 2, 3], losses=[2.1, 2.0, 1.9],
                  estimate_steps=[100, 200], estimate_accuracies=[0.2, 0.4])
    fig = training_figure([curve])
    (early,) = [t for t in fig.data if t.name.endswith("(early estimate)")]
    assert list(early.x) == [100, 200] and early.marker.symbol == "circle-open"

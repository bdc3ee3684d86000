"""The cascading randomisation test (Adebayo et al. 2018): its order, its first step and that
each step puts the builder's own initial weights in place, top down."""

import pytest
import torch

from explorer import NetSpec, build
from explorer.analysis.gradcam import cam_batch
from explorer.analysis.sanity import cascade_order, sanity_cascade, sanity_json

SPEC = NetSpec(layers=(2, 1, 1), base_width=4, stem="cifar", num_classes=4, image_size=16)


def data(n=3):
    gen = torch.Generator().manual_seed(1)
    return torch.randn(n, 3, 16, 16, generator=gen), torch.randint(0, 4, (n,), generator=gen)


def test_order_is_top_down():
    model = build(SPEC, seed=0)
    assert cascade_order(model) == ["fc", "layer3.0", "layer2.0", "layer1.1", "layer1.0", "stem"]


def test_first_step_is_the_trained_model_and_similarity_falls():
    model = build(SPEC, seed=0)
    x, y = data()
    curves = sanity_cascade(model, x, y, "layer3", ("gradcam", "layercam"), seed=5)
    assert [c.method for c in curves] == ["gradcam", "layercam"]
    for curve in curves:
        assert [s.randomized for s in curve.steps] == [None, *cascade_order(model)]
        assert curve.steps[0].spearman == curve.steps[0].ssim == 1.0
        assert min(s.ssim for s in curve.steps[1:]) < 0.9  # new weights, new maps
    shape = sanity_json(curves)
    assert shape["methods"][0]["steps"][0] == {"randomized": None, "spearman": 1.0, "ssim": 1.0}
    assert shape["methods"][0]["steps"][1]["randomized"] == "fc"


def test_randomising_to_the_same_weights_changes_nothing():
    # The "random" weights are build(spec, seed)'s: a model that *is* those weights keeps
    # identical maps at every step, so each step puts exactly the builder's weights in place.
    model = build(SPEC, seed=5)
    x, y = data()
    for step in sanity_cascade(model, x, y, "layer2", ("gradcam",), seed=5)[0].steps:
        assert step.spearman == pytest.approx(1.0) and step.ssim == pytest.approx(1.0)


def test_the_last_step_is_the_fresh_network():
    trained, fresh = build(SPEC, seed=0), build(SPEC, seed=9)
    x, y = data()
    last = sanity_cascade(trained, x, y, "layer2", ("layercam",), seed=9)[0].steps[-1]
    expected = cam_batch(fresh, x, "layer2", y, "layercam").heatmaps[0]
    torch.testing.assert_close(last.example, expected)


def test_pre_activation_head_is_randomised_with_fc():
    spec = SPEC.replace(order="pre")
    model = build(spec, seed=0)
    with torch.no_grad():
        model.final_norm.weight.mul_(3.0)
    x, y = data()
    # Only the head differs from build(spec, 0): once "fc" is randomised, the maps are back.
    steps = sanity_cascade(model, x, y, "layer3", ("gradcam",), seed=0)[0].steps
    assert steps[1].randomized == "fc" and steps[1].ssim == pytest.approx(1.0)


def test_refuses_a_network_it_cannot_rebuild():
    import torchvision

    model = torchvision.models.resnet18(num_classes=4)
    x, y = data(1)
    with pytest.raises(ValueError, match="explorer's networks"):
        sanity_cascade(model, x, y, "layer4")

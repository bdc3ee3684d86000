"""The shipped trained pairs are offered wherever trained weights are: Gradient flow measures the
pair itself (compared with explorer's own numbers on the same batch)."""

from apptest_util import fresh_app, widget

from explorer.analysis.batches import analysis_batch
from explorer.analysis.gradflow import compare_models
from explorer.io.weights import load_shipped, shipped_pair_names


def test_every_shipped_pair_is_listed_shallow_first():
    names = shipped_pair_names()
    assert names[0] == "resnet20" and "resnet20-plain" not in names
    assert all(load_shipped(n)[1].skip for n in names)


def test_gradient_flow_measures_a_shipped_trained_pair():
    at = fresh_app()
    at.switch_page("pages/views/gradient_flow.py").run()
    widget(at, "gf_weights").set_value("shipped resnet20 pair (trained)").run()
    assert not at.exception
    residual, spec = load_shipped("resnet20")
    plain, _ = load_shipped("resnet20-plain")
    assert widget(at, "gf_source").value == "shapes"  # trained nets see held-out images first
    inputs, targets = analysis_batch(spec, "shapes", 8, 0)
    assert at.info[0].value == compare_models(residual, plain, inputs, targets).summary()
    # Issue 19: every caption says what is shown, trained weights that differ between the twins
    captions = " ".join(c.value for c in at.caption)
    assert "trained weights" in captions and "at initialisation its scale γ is 1" not in captions
    widget(at, "gf_weights").set_value("at initialisation (seeded)").run()
    assert widget(at, "gf_source").value == "random"
    assert "at initialisation its scale γ is 1" in " ".join(c.value for c in at.caption)

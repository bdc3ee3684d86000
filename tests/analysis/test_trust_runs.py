"""What the "Trust the map" page runs: which weights, which classes, which seed, what it costs."""

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from torchvision.models import resnet18

from explorer import NetSpec, build
from explorer.analysis import trust_runs as runs
from explorer.analysis.cam_methods import SCORE_CAM_BATCH
from explorer.analysis.sanity import cascade_order
from explorer.data.heldout import heldout_for
from explorer.data.shapes import denormalize
from explorer.io.twins import Twins, random_twins, shipped_twins

from why_util import assert_unchanged, snapshot

TINY = NetSpec(layers=(1, 1), base_width=4, stem="cifar", shortcut="A", num_classes=4,
               image_size=16)
ROOT = Path(__file__).resolve().parents[2]


def pair(dataset="shapes", source="session", model=None, seed=0):
    model = model if model is not None else build(TINY, seed=0).eval()
    return Twins(model, TINY, source, "test weights", None, dataset=dataset, seed=seed)


def test_the_cascade_refuses_random_weights_and_other_libraries_models():
    assert runs.sanity_refusal(pair()) is None
    assert "nothing learned" in runs.sanity_refusal(random_twins(TINY, 0, torch.device("cpu")))
    assert "another library's model" in runs.sanity_refusal(pair(model=resnet18(num_classes=4)))


@pytest.mark.parametrize("dataset, source, said", [
    ("cifar10", "session", "weights that learned cifar10"),
    (None, "upload", "training data is not recorded"),
    (None, "random", "random weights, which learned nothing"),
])
def test_only_shapes_networks_are_scored_against_masks(dataset, source, said):
    assert runs.localisation_refusal(pair("shapes")) is None
    assert said in runs.localisation_refusal(pair(dataset, source))


def test_the_random_weights_never_reuse_the_training_seed():
    recorded = json.loads((ROOT / "checkpoints/resnet56/metrics.json").read_text())["seed"]
    shipped = shipped_twins("resnet56")
    assert runs.training_seed(shipped) == recorded
    assert runs.cascade_seed(shipped) == recorded + 1
    assert runs.cascade_seed(pair(seed=7)) == 8


def test_a_shapes_net_explains_the_true_class_another_its_own_prediction():
    model = build(TINY, seed=0).eval()
    images, labels = heldout_for(TINY, 6)
    assert torch.equal(runs.explained_classes(model, images, labels, "shapes"), labels)
    before = snapshot(model)
    with torch.no_grad():
        predicted = model(images).argmax(1)
    assert torch.equal(runs.explained_classes(model, images, labels, "cifar10"), predicted)
    assert_unchanged(model, before)


def test_bad_image_counts_and_methods_are_refused_in_words():
    for bad in (0, -1, runs.MAX_SANITY_IMAGES + 1, True, 2.5):
        with pytest.raises(ValueError, match="needs from 1 to 64 images"):
            runs.check_images(bad, runs.MAX_SANITY_IMAGES, "The sanity check")
    with pytest.raises(ValueError, match="at least one method"):
        runs.check_methods([])
    with pytest.raises(ValueError, match="Unknown CAM method"):
        runs.check_methods(["guided"])


def test_the_layer_is_random_after_its_first_block_in_the_cascade():
    model = build(TINY, seed=0)
    curves = runs.sanity_for(model, "shapes", 2, "layer2", ["gradcam"], seed=1)
    labels = [runs.step_label(s.randomized) for s in curves[0].steps]
    assert labels == ["trained", *cascade_order(model)] == ["trained", "fc", "layer2.0",
                                                            "layer1.0", "stem"]
    assert runs.layer_randomised_index(curves[0]) == 2
    block = runs.sanity_for(model, "shapes", 2, "layer1.0", ["gradcam"], seed=1)[0]
    assert runs.layer_randomised_index(block) == 3


def test_work_counts_forwards_per_step_method_and_channel():
    model = build(TINY, seed=0)
    assert runs.layer_channels(model, "layer2") == 8  # base width 4, doubled
    # 5 steps × (Grad-CAM: 2 images × 3 passes + Score-CAM: 2 images × (1 + 8 channels))
    assert runs.sanity_work(model, "layer2", ["gradcam", "scorecam"], 2) == 5 * (6 + 18)
    # every stage: layer1 has 4 channels, layer2 8
    assert runs.localisation_work(model, ["scorecam"], 3) == 3 * 5 + 3 * 9
    assert runs.largest_batch(["gradcam"], 8) == 8
    assert runs.largest_batch(["gradcam", "scorecam"], 8) == SCORE_CAM_BATCH


def test_rows_hold_every_step_and_score():
    model = build(TINY, seed=0)
    curves = runs.sanity_for(model, "shapes", 2, "layer2", ["gradcam", "layercam"], seed=1)
    rows = runs.sanity_rows({"residual": curves})
    assert len(rows) == 2 * 5
    assert (rows[0]["method"], rows[5]["method"]) == ("Grad-CAM", "Layer-CAM")  # labels shown
    assert (rows[0]["method_id"], rows[5]["method_id"]) == ("gradcam", "layercam")  # ids kept
    assert rows[6]["randomised"] == "fc" and rows[6]["spearman"] == curves[1].steps[1].spearman
    found = runs.localisation_for(model, 3, ["gradcam"])
    loc = runs.localisation_rows({"plain": found}, {"plain": 0.25})
    assert [r["stage"] for r in loc] == ["layer1", "layer2"]
    assert {(r["method"], r["method_id"]) for r in loc} == {("Grad-CAM", "gradcam")}
    assert loc[1]["energy"] == found.scores[1].energy and loc[0]["chance"] == found.chance
    assert loc[0]["accuracy"] == loc[1]["accuracy"] == 0.25


def test_accuracy_is_on_the_images_the_maps_explain():
    model = build(TINY, seed=0).eval()
    images, labels = heldout_for(TINY, 40)
    with torch.no_grad():
        want = (model(images).argmax(1) == labels).float().mean().item()
    assert runs.heldout_accuracy(model, 40) == pytest.approx(want)
    with pytest.raises(ValueError, match="needs from 1 to 1,000 images"):
        runs.heldout_accuracy(model, 0)


def test_the_example_picture_is_the_first_held_out_image_in_colour():
    picture = runs.example_picture(TINY.replace(in_channels=1))
    images, _ = heldout_for(TINY, 1)
    want = (denormalize(images[0]).permute(1, 2, 0).numpy() * 255).round()
    assert picture.dtype == np.uint8 and picture.shape == (16, 16, 3)
    assert np.array_equal(picture, want.astype(np.uint8))

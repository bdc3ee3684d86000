"""``python -m explorer sanity|localize``: the JSON shapes of issue 22, on a shipped checkpoint."""

import json

import pytest

from explorer.analysis.localize import localization_scores
from explorer.cli.main import main
from explorer.data.heldout import heldout_for, heldout_masks
from explorer.io.weights import CHECKPOINT_DIR, load_shipped


def run_json(capsys, *argv):
    assert main(list(argv) + ["--json", "--device", "cpu"]) == 0
    return json.loads(capsys.readouterr().out)


def test_sanity_json_shape(capsys):
    data = run_json(capsys, "sanity", "--checkpoint", str(CHECKPOINT_DIR / "resnet20"),
                    "--images", "2", "--methods", "gradcam,layercam")
    assert [m["method"] for m in data["methods"]] == ["gradcam", "layercam"]
    steps = data["methods"][0]["steps"]
    assert steps[0] == {"randomized": None, "spearman": 1.0, "ssim": 1.0}
    assert [s["randomized"] for s in steps[1:]] == [
        "fc", "layer3.2", "layer3.1", "layer3.0", "layer2.2", "layer2.1", "layer2.0",
        "layer1.2", "layer1.1", "layer1.0", "stem"]
    assert data["methods"][0]["layer"] == "layer3"  # the last stage by default
    assert data["seed"] == 1  # resnet20 was trained from seed 0: never redraw those weights
    assert all(set(s) == {"randomized", "spearman", "ssim"} for s in steps)


def test_localize_json_equals_the_analysis(capsys):
    data = run_json(capsys, "localize", "--checkpoint", str(CHECKPOINT_DIR / "resnet20"),
                    "--images", "6", "--methods", "gradcam,scorecam")
    assert set(data) == {"chance", "images", "methods"}
    assert [(m["method"], m["layer"]) for m in data["methods"]] == [
        (method, layer) for method in ("gradcam", "scorecam")
        for layer in ("layer1", "layer2", "layer3")]
    model, spec = load_shipped("resnet20")
    x, y = heldout_for(spec, 6)
    expected = localization_scores(model, x, y, heldout_masks(spec, 6), ("gradcam", "scorecam"))
    assert data == json.loads(json.dumps(expected.as_json()))


def test_bad_input_is_one_line_not_a_traceback(capsys):
    checkpoint = ["--checkpoint", str(CHECKPOINT_DIR / "resnet20")]
    with pytest.raises(SystemExit):  # argparse refuses it
        main(["sanity", *checkpoint, "--methods", "eigencam"])
    assert "choose methods from gradcam, gradcam++" in capsys.readouterr().err
    assert main(["sanity", *checkpoint, "--layer", "layer9"]) == 2
    assert "Unknown layer 'layer9'" in capsys.readouterr().err
    assert main(["localize", *checkpoint, "--images", "0"]) == 2
    assert "--images must be at least 1" in capsys.readouterr().err


def test_the_random_weights_are_not_the_training_seeds(capsys, tmp_path):
    from explorer.cli.attributions import cascade_seed
    from types import SimpleNamespace

    (tmp_path / "metrics.json").write_text(json.dumps({"seed": 7}))
    assert cascade_seed(SimpleNamespace(seed=None, checkpoint=str(tmp_path))) == 8
    assert cascade_seed(SimpleNamespace(seed=3, checkpoint=str(tmp_path))) == 3
    assert cascade_seed(SimpleNamespace(seed=None, checkpoint=str(tmp_path / "none"))) == 1

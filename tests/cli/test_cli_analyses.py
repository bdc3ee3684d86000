"""``python -m explorer lesion|landscape|erf``: exactly the JSON shapes of the issue."""

import json
import subprocess
import sys

import pytest

from explorer import NetSpec, build
from explorer.data.heldout import heldout_shapes
from explorer.analysis.lesion import lesion_study
from explorer.cli.main import main
from explorer.io.checkpoints import save_checkpoint
from explorer.io.weights import CHECKPOINT_DIR

SMALL = NetSpec(layers=(1, 1), base_width=4, stem="cifar", shortcut="A", num_classes=8,
                image_size=32)


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    folder = tmp_path_factory.mktemp("ckpt")
    save_checkpoint(build(SMALL, seed=0).eval(), SMALL, folder)
    return folder


def run_json(capsys, *argv):
    assert main(list(argv) + ["--json", "--device", "cpu"]) == 0
    return json.loads(capsys.readouterr().out)


def test_lesion_json_shape_and_numbers(checkpoint, capsys):
    data = run_json(capsys, "lesion", "--checkpoint", str(checkpoint), "--images", "40",
                    "--draws", "2")
    assert set(data) == {"baseline", "chance", "blocks", "random"}
    assert data["chance"] == 1 / 8
    assert [b["block"] for b in data["blocks"]] == ["layer1.0", "layer2.0"]
    assert all(set(b) == {"block", "deletable", "accuracy"} for b in data["blocks"])
    assert [r["k"] for r in data["random"]] == [1, 2]
    assert all(set(r) == {"k", "mean", "min", "max"} for r in data["random"])
    want = lesion_study(build(SMALL, seed=0).eval(), heldout_shapes(40), draws=2)
    assert data == json.loads(json.dumps(want.to_dict()))


def test_landscape_json_shapes_1d_and_2d(checkpoint, capsys):
    two = run_json(capsys, "landscape", "--checkpoint", str(checkpoint), "--images", "16",
                   "--steps", "3")
    assert set(two) == {"alphas", "betas", "loss", "center_loss"}
    assert two["alphas"] == two["betas"] == [-1.0, 0.0, 1.0]
    assert len(two["loss"]) == 3 and all(len(row) == 3 for row in two["loss"])
    assert two["loss"][1][1] == two["center_loss"]
    one = run_json(capsys, "landscape", "--checkpoint", str(checkpoint), "--images", "16",
                   "--steps", "5", "--dims", "1")
    assert one["betas"] is None and len(one["loss"]) == 5 and one["loss"][2] == one["center_loss"]


def test_erf_json_shape(checkpoint, capsys):
    data = run_json(capsys, "erf", "--checkpoint", str(checkpoint), "--layer", "layer2",
                    "--images", "4")
    assert set(data) == {"layer", "theoretical", "erf"}
    assert data["layer"] == "layer2" and data["theoretical"] == 13
    assert len(data["erf"]) == 32 and all(len(row) == 32 for row in data["erf"])


@pytest.mark.parametrize("argv, message", [
    (["erf", "--layer", "layer9"], "No layer"),
    (["landscape", "--steps", "1"], "steps"),
    (["lesion", "--images", "0"], "at least 1"),
    (["lesion", "--draws", "0"], "draws"),
])
def test_bad_input_is_one_line_and_exit_2(checkpoint, capsys, argv, message):
    assert main([argv[0], "--checkpoint", str(checkpoint), *argv[1:], "--device", "cpu"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err and err.count("\n") == 1


def test_not_a_checkpoint(tmp_path, capsys):
    assert main(["lesion", "--checkpoint", str(tmp_path)]) == 2
    assert "not a checkpoint folder" in capsys.readouterr().err


def test_help_does_not_import_torch():
    code = ("import sys; from explorer.cli.main import make_parser; make_parser(); "
            "print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=60, cwd=CHECKPOINT_DIR.parent).stdout
    assert out.strip() == "False"


def test_shipped_checkpoint_runs(capsys):
    data = run_json(capsys, "erf", "--checkpoint", str(CHECKPOINT_DIR / "resnet20"), "--layer",
                    "layer1", "--images", "2")
    assert data["theoretical"] == 15

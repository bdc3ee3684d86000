"""The command line takes any skip design and order (issue 21): ``train`` and ``summary`` with
``--skip-design``, ``--skip-scale``, ``--gate-bias``, ``--order`` or a ``--spec`` file, and a
recorded command that reproduces the run's arguments."""

from __future__ import annotations

import json
import shlex

from explorer.cli.main import main, make_parser
from explorer.io.checkpoints import load_saved
from explorer.nets.measure import stage_table
from explorer.nets.presets import preset

TINY_RUN = ["--layers", "1,1,1", "--base-width", "4", "--image-size", "16", "--train-size",
            "32", "--val-size", "16", "--test-size", "16", "--epochs", "1", "--batch-size", "16",
            "--device", "cpu"]


def test_train_any_design_and_order_with_a_reproducing_command(tmp_path, capsys):
    out = tmp_path / "scaled"
    argv = ["train", "--preset", "resnet20", "--skip-design", "scaled", "--skip-scale", "0.3",
            "--order", "relu_preact", *TINY_RUN, "--twin", "--out", str(out)]
    assert main(argv) == 0
    model, spec = load_saved(out)
    assert (spec.skip_design, spec.skip_scale, spec.order) == ("scaled", 0.3, "relu_preact")
    _, plain = load_saved(tmp_path / "scaled-plain")  # the twin: the same net without skips
    assert not plain.skip and plain.order == "relu_preact"
    command = json.loads((out / "metrics.json").read_text())["command"]
    assert "--order relu_preact --skip-design scaled --skip-scale 0.3" in command
    again = make_parser().parse_args(shlex.split(command)[3:])
    assert vars(again) == vars(make_parser().parse_args(argv))
    assert "test accuracy" in capsys.readouterr().out


def test_train_from_a_spec_file_with_a_gate(tmp_path):
    spec_file = tmp_path / "spec.json"
    spec_file.write_text(preset("resnet20").replace(skip_design="exclusive_gate",
                                                    gate_bias=-7.0).to_json())
    out = tmp_path / "gated"
    assert main(["train", "--spec", str(spec_file), *TINY_RUN, "--no-twin", "--out",
                 str(out)]) == 0
    model, spec = load_saved(out)
    assert (spec.skip_design, spec.gate_bias, spec.layers) == ("exclusive_gate", -7.0, (1, 1, 1))
    assert all(hasattr(block, "gate") for _, block in model.blocks())
    assert f"--spec {spec_file}" in json.loads((out / "metrics.json").read_text())["command"]


def test_summary_takes_the_design_flags_and_a_spec_file(tmp_path, capsys):
    assert main(["summary", "--preset", "resnet20", "--skip-design", "conv", "--order",
                 "bn_after_add", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    want = stage_table(preset("resnet20").replace(skip_design="conv", order="bn_after_add"))
    assert data["total"]["params"] == want.total_params
    spec_file = tmp_path / "spec.json"
    spec_file.write_text(preset("resnet20").replace(skip_design="shortcut_gate").to_json())
    assert main(["summary", "--spec", str(spec_file), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["spec"]["skip_design"] == "shortcut_gate"


def test_refused_designs_are_one_line_in_the_sidebars_words(capsys):
    assert main(["summary", "--preset", "resnet20", "--skip-scale", "0.3"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: 'Skip scale' applies to the scaled 'Skip design' only")
    assert err.count("\n") == 1
    assert main(["summary", "--spec", "/nonexistent/spec.json"]) == 2
    assert "No such file" in capsys.readouterr().err

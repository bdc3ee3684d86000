"""``python -m explorer summary``: the table, its JSON, flag overrides and one-line errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torchvision

from explorer.cli.main import main
from explorer.nets.presets import preset
from explorer.nets.measure import stage_table

ROOT = Path(__file__).resolve().parents[2]


def run_cli(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    return subprocess.run([sys.executable, "-m", "explorer", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


def test_subprocess_table_and_json():
    table = run_cli("summary", "--preset", "resnet50")
    assert table.returncode == 0, table.stderr
    lines = table.stdout.splitlines()
    assert lines[0].split()[:3] == ["stage", "blocks", "output"]
    assert [line.split()[0] for line in lines[1:]] == ["stem", "layer1", "layer2", "layer3",
                                                      "layer4", "head", "total"]
    tv_params = sum(p.numel() for p in torchvision.models.resnet50().parameters())
    assert str(tv_params) in lines[-1]

    as_json = run_cli("summary", "--preset", "resnet20", "--json", "--batch-size", "4")
    assert as_json.returncode == 0, as_json.stderr
    data = json.loads(as_json.stdout)
    assert data["total"]["params"] == 269_722  # the paper's ResNet-20 (0.27M), see test_model
    assert data["stages"][-1]["output_shape"] == [4, 10]


def test_subprocess_bad_argument_is_one_line_and_exit_2():
    result = run_cli("summary", "--layers", "2,x")  # the rest go through main() below
    assert result.returncode == 2
    assert result.stdout == ""
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert result.stderr.startswith("error: ") and "2,x" in result.stderr


def test_json_totals_match_stage_table(capsys):
    assert main(["summary", "--preset", "resnet18", "--json", "--batch-size", "3"]) == 0
    data = json.loads(capsys.readouterr().out)
    table = stage_table(preset("resnet18"), 3)
    assert data["total"] == {"params": table.total_params, "mult_adds": table.total_mult_adds,
                             "activation_bytes": table.total_activation_bytes}
    assert [s["name"] for s in data["stages"]] == [r.name for r in table.rows]
    assert data["spec"] == preset("resnet18").to_dict() and data["batch_size"] == 3


def summary_json(capsys, *args: str) -> dict:
    assert main(["summary", *args, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_flags_override_the_preset(capsys):
    base = preset("resnet34")
    cases = {
        ("--no-skip",): base.replace(skip=False),
        ("--layers", "1,1,1,1"): base.replace(layers=(1, 1, 1, 1)),
        ("--shortcut", "C"): base.replace(shortcut="C"),
        ("--block", "bottleneck", "--stride-on", "1x1"): base.replace(block="bottleneck",
                                                                      stride_on="1x1"),
        ("--image-size", "64", "--num-classes", "10", "--in-channels", "1"):
            base.replace(image_size=64, num_classes=10, in_channels=1),
        ("--widths", "8,16,32,64", "--norm", "none"): base.replace(widths=(8, 16, 32, 64),
                                                                  norm="none"),
    }
    for flags, expected in cases.items():
        data = summary_json(capsys, "--preset", "resnet34", *flags)
        assert data["spec"] == expected.to_dict(), flags
        assert data["total"]["params"] == stage_table(expected).total_params
    plain = summary_json(capsys, "--preset", "resnet18", "--no-skip")
    resnet = summary_json(capsys, "--preset", "resnet18", "--skip")
    # The plain net drops exactly torchvision's three projection shortcuts.
    tv = torchvision.models.resnet18()
    projections = sum(p.numel() for name, p in tv.named_parameters() if "downsample" in name)
    assert resnet["total"]["params"] - plain["total"]["params"] == projections
    # No preset: the defaults (ResNet-18's shape).
    assert summary_json(capsys)["total"]["params"] == resnet["total"]["params"]


def test_table_output_via_main(capsys):
    assert main(["summary", "--preset", "resnet110", "--batch-size", "2"]) == 0
    out = capsys.readouterr().out
    rows = {line.split()[0]: line.split() for line in out.splitlines()[1:]}
    assert set(rows) == {"stem", "layer1", "layer2", "layer3", "head", "total"}
    assert rows["layer1"][1:3] == ["18", "2×16×32×32"]
    assert rows["total"][1] == "54"


VALUE_ERRORS = [
    ["summary", "--preset", "resnet19"],
    ["summary", "--layers", "0,0"],
    ["summary", "--layers", "1,1,1,1,1,1,1"],
    ["summary", "--image-size", "16"],
    ["summary", "--batch-size", "0"],
    ["summary", "--norm", "none", "--zero-init-residual"],
    ["summary", "--preset", "resnet20", "--widths", "16,8,64"],
    ["summary", "--base-width", "-3"],
]


@pytest.mark.parametrize("argv", VALUE_ERRORS, ids=[" ".join(a[1:]) for a in VALUE_ERRORS])
def test_invalid_specs_print_one_line_and_return_2(argv, capsys):
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("error: ") and captured.err.count("\n") == 1


PARSE_ERRORS = [
    [],
    ["frobnicate"],
    ["summary", "--layers", "2,x"],
    ["summary", "--image-size", "big"],
    ["summary", "--block", "dense"],
    ["summary", "--shortcut", "D"],
    ["summary", "--unknown-flag"],
]


@pytest.mark.parametrize("argv", PARSE_ERRORS, ids=[" ".join(a) or "nothing" for a in PARSE_ERRORS])
def test_bad_arguments_print_one_line_and_exit_2(argv, capsys):
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("error: ") and captured.err.count("\n") == 1, captured.err

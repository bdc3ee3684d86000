"""The standalone PyTorch file (issue 19, "code that runs anywhere"): written for a spec, imported
from a folder where ``explorer`` cannot be imported, and compared with the explorer's model: the
same state_dict keys (in order) and shapes, the same seeded initial weights, the same logits with
the same weights. torchvision's own models check the one-line torchvision equivalents."""

from __future__ import annotations

import ast
import dataclasses
import json
import subprocess
import sys
import textwrap

import pytest
import torch
import torchvision
from torch import nn

from explorer import PRESETS, NetSpec, build, standalone_code
from explorer.nets import standalone
from explorer.nets.presets import FAMILIES
from explorer.nets.spec import _CHOICES

SEED = 7
_R20 = PRESETS["resnet20"]
_BOTTLENECK = NetSpec(block="bottleneck", layers=(1, 1, 1, 1), base_width=8, num_classes=10,
                      image_size=32)
_PREACT_BOTTLENECK = PRESETS["preact_resnet164"].replace(layers=(1, 1, 1), base_width=8)
CASES = {
    "resnet20 (option A)": _R20,
    "resnet20 plain twin": _R20.replace(skip=False),
    "bottleneck (resnet50-like, 32 px)": _BOTTLENECK,
    "bottleneck, stride on the 1x1, zero-init": _BOTTLENECK.replace(stride_on="1x1",
                                                                    zero_init_residual=True),
    "bottleneck, no norm": _BOTTLENECK.replace(norm="none", shortcut="C"),
    "d2l": NetSpec(block="d2l", layers=(1, 1, 1, 1), base_width=8, in_channels=1,
                   num_classes=10, image_size=32),
    "d2l plain, option C": NetSpec(block="d2l", layers=(1, 1), base_width=8, shortcut="C",
                                   skip=False, num_classes=5, image_size=16),
    "resnet20, no norm": _R20.replace(layers=(1, 1, 1), norm="none"),
    "pre-activation, option A": _R20.replace(layers=(1, 2, 1), order="pre"),
    "pre-activation bottleneck (preact_resnet164-like)": _PREACT_BOTTLENECK,
    "pre-activation, option C, zero-init, SE": _PREACT_BOTTLENECK.replace(
        shortcut="C", zero_init_residual=True, attention="se"),
    "pre-activation plain twin": _PREACT_BOTTLENECK.replace(skip=False),
    "SE basic (seresnet18-like)": PRESETS["seresnet18"].replace(
        layers=(1, 1, 1, 1), base_width=16, num_classes=10, image_size=32),
    "SE plain twin": _R20.replace(layers=(1, 1, 1), attention="se", skip=False),
    "ResNeXt groups": _BOTTLENECK.replace(base_width=16, groups=4, width_per_group=8),
    "wide (width per group 128)": _BOTTLENECK.replace(width_per_group=128),
    "deep stem, shortcut D (resnet50d-like)": _BOTTLENECK.replace(stem="deep", shortcut="D"),
    "deep stem, shortcut D, plain, no norm": NetSpec(
        layers=(1, 1), base_width=8, stem="deep", shortcut="D", norm="none", skip=False,
        num_classes=3, image_size=16),
    "custom widths, an empty stage": NetSpec(layers=(1, 0, 2), widths=(8, 16, 24), stem="cifar",
                                             num_classes=4, image_size=8),
    # He et al. 2016's orders (Fig. 4) and skip designs (Fig. 2).
    "BN after addition, exclusive gate (bias -3)": _R20.replace(
        layers=(1, 2, 1), order="bn_after_add", skip_design="exclusive_gate", gate_bias=-3.0),
    "ReLU before addition, bottleneck, shortcut-only gate": _BOTTLENECK.replace(
        order="relu_before_add", skip_design="shortcut_gate"),
    "ReLU-only pre-activation, scaled 0.3": _R20.replace(
        layers=(1, 1, 1), order="relu_preact", skip_design="scaled", skip_scale=0.3),
    "pre-activation, conv shortcut on option A": _R20.replace(layers=(1, 2, 1), order="pre",
                                                              skip_design="conv"),
    "pre-activation bottleneck, option C, exclusive gate": _PREACT_BOTTLENECK.replace(
        shortcut="C", skip_design="exclusive_gate"),
    "dropout shortcut, deep stem, shortcut D": _BOTTLENECK.replace(stem="deep", shortcut="D",
                                                                   skip_design="dropout"),
    "conv shortcut, shortcut D, ReLU-only pre-activation": _BOTTLENECK.replace(
        shortcut="D", skip_design="conv", order="relu_preact"),
    "d2l, scaled": NetSpec(block="d2l", layers=(1, 1), base_width=8, skip_design="scaled",
                           num_classes=5, image_size=16),
    "exclusive gate plain twin, BN after addition": _R20.replace(
        layers=(1, 1, 1), skip_design="exclusive_gate", order="bn_after_add", skip=False),
}
ALLOWED_IMPORTS = {"math", "zlib", "torch", "torch.nn", "torch.nn.functional"}

# Runs in the temporary folder with `python -I` (no PYTHONPATH, no current folder on the path)
# and `explorer` blocked, so a file that needed this repository fails here.
CHILD = textwrap.dedent("""
    import contextlib, importlib, importlib.util, io, json, runpy, sys
    assert importlib.util.find_spec("explorer") is None, "explorer is importable here"
    sys.modules["explorer"] = None
    sys.path.insert(0, ".")
    import torch
    out = {}
    for i in range(int(sys.argv[1])):
        net = importlib.import_module(f"net{i}")
        model = net.build_model()
        torch.save(model.state_dict(), f"init{i}.pt")
        model.load_state_dict(torch.load(f"weights{i}.pt", weights_only=True), strict=True)
        x = torch.load(f"x{i}.pt", weights_only=True)
        with torch.no_grad():
            torch.save(model.eval()(x), f"logits{i}.pt")
            torch.save(model.train()(x), f"train{i}.pt")  # batch statistics, dropout masks
        with contextlib.redirect_stdout(io.StringIO()) as printed:
            runpy.run_path(f"net{i}.py", run_name="__main__")
        out[i] = printed.getvalue()
    print(json.dumps(out))
""")


def randomise(model: nn.Module, seed: int) -> None:
    """Every parameter and BatchNorm statistic away from its init (zeros, ones, a zeroed last
    BN), so that a misplaced layer or a wrong order changes the logits."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for tensor in model.state_dict().values():
            if tensor.is_floating_point():
                tensor.copy_(tensor + 0.2 * torch.randn(tensor.shape, generator=gen))
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.running_var.copy_(torch.rand(m.running_var.shape, generator=gen) + 0.5)


def imported_modules(source: str) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            found.update(f"{node.module}.{alias.name}" if node.module == "torch" else node.module
                         for alias in node.names)
    return found


@pytest.fixture(scope="module")
def outcome(tmp_path_factory):
    """Each case written out and run in one isolated child process; the explorer's side."""
    folder = tmp_path_factory.mktemp("standalone")
    want = {}
    for i, spec in enumerate(CASES.values()):
        (folder / f"net{i}.py").write_text(standalone_code(spec, seed=SEED))
        model = build(spec, seed=SEED)
        init = {k: v.clone() for k, v in model.state_dict().items()}
        randomise(model, seed=i)
        torch.save(model.state_dict(), folder / f"weights{i}.pt")
        x = torch.randn(2, spec.in_channels, spec.image_size, spec.image_size,
                        generator=torch.Generator().manual_seed(i))
        torch.save(x, folder / f"x{i}.pt")
        with torch.no_grad():
            want[i] = (init, model.eval()(x), model.train()(x))
    done = subprocess.run([sys.executable, "-I", "-c", CHILD, str(len(CASES))], cwd=folder,
                          env={"PATH": "/usr/bin:/bin"}, capture_output=True, text=True,
                          timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    return folder, want, json.loads(done.stdout)


@pytest.mark.parametrize("i, name", list(enumerate(CASES)), ids=list(CASES))
def test_the_file_builds_the_explorers_network_without_explorer(outcome, i, name):
    folder, want, printed = outcome
    spec = CASES[name]
    assert imported_modules(standalone_code(spec)) <= ALLOWED_IMPORTS
    init, logits, train_logits = want[i]
    got = torch.load(folder / f"init{i}.pt", weights_only=True)
    assert list(got) == list(init)  # the same names, in the same order
    assert {k: v.shape for k, v in got.items()} == {k: v.shape for k, v in init.items()}
    # The same seed gives the same initial weights, bit for bit.
    assert all(torch.equal(got[k], init[k]) for k in init), name
    torch.testing.assert_close(torch.load(folder / f"logits{i}.pt", weights_only=True), logits)
    torch.testing.assert_close(torch.load(folder / f"train{i}.pt", weights_only=True),
                               train_logits)
    assert f"logits of shape (2, {spec.num_classes})" in printed[str(i)]


def test_the_cases_use_every_choice_of_every_field():
    for field, choices in _CHOICES.items():
        used = {getattr(spec, field) for spec in CASES.values()}
        assert used == set(choices), field
    for field in ("skip", "zero_init_residual"):
        assert {getattr(spec, field) for spec in CASES.values()} == {True, False}, field
    default = NetSpec()
    for field in ("skip_scale", "gate_bias"):  # a value other than the default is written out
        assert any(getattr(spec, field) != getattr(default, field) for spec in CASES.values())


def test_every_spec_field_is_covered():
    # A new NetSpec field must be written out (and added to the cases above) before it counts.
    assert {f.name for f in dataclasses.fields(NetSpec)} == standalone.FIELDS


def test_a_field_it_does_not_cover_is_refused(monkeypatch):
    monkeypatch.setattr(standalone, "FIELDS", standalone.FIELDS - {"attention"})
    standalone_code(_R20)  # at its default, the field changes nothing
    with pytest.raises(ValueError, match="'Attention'"):
        standalone_code(_R20.replace(attention="se"))


def test_the_seed_defaults_to_builds_and_the_spec_heads_the_file():
    code = standalone_code(_R20)
    assert "SEED = 0" in code and "seed=0" in code
    assert "SEED = 42" in standalone_code(_R20, seed=42)
    spec_text = code.split("SPEC = ", 1)[1].split("\nSEED", 1)[0]
    assert NetSpec.from_dict(eval(spec_text)) == _R20
    assert "# torchvision:" not in code  # resnet20 is not a torchvision model


@pytest.mark.parametrize("name", FAMILIES["torchvision"])
def test_torchvision_presets_name_a_torchvision_call_with_the_same_layers(name):
    spec = PRESETS[name].replace(num_classes=10)
    code = standalone_code(spec)
    call = f"torchvision.models.{name}(weights=None, num_classes=10)"
    assert f"# torchvision: {call}\n" in code
    scope: dict = {}
    exec(compile(code, f"{name}.py", "exec"), scope)  # noqa: S102 - our generated code
    with torch.device("meta"):  # shapes only: no memory, no init
        ours = scope["ResNet"](scope["Bottleneck" if spec.block == "bottleneck" else
                                     "BasicBlock"], list(spec.layers), list(spec.stage_widths),
                               num_classes=10)
        theirs = eval(call, {"torchvision": torchvision})
    assert {k: v.shape for k, v in ours.state_dict().items()} == {
        k: v.shape for k, v in theirs.state_dict().items()}


def test_only_the_torchvision_presets_name_torchvision():
    assert "zero_init_residual=True" in standalone_code(
        PRESETS["resnet18"].replace(zero_init_residual=True))
    for changed in (PRESETS["resnet18"].replace(skip=False),
                    PRESETS["resnet50"].replace(stem="deep"), PRESETS["resnet50d"]):
        assert "# torchvision:" not in standalone_code(changed)

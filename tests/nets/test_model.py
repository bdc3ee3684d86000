"""The builder against trusted references: torchvision, the paper's and d2l's numbers by hand."""

from __future__ import annotations

import itertools

import pytest
import torch
import torchvision
from torch import nn

from explorer.nets.blocks import ZeroPadShortcut
from explorer.nets.model import build
from explorer.nets.spec import NetSpec
from explorer.nets.presets import preset


def n_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def randn(*shape: int, seed: int = 0) -> torch.Tensor:
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed))


def stage_outputs(model: nn.Module, x: torch.Tensor, names: list[str]) -> dict[str, tuple]:
    """Output shape of each named submodule during one real forward (hooks removed after)."""
    shapes: dict[str, tuple] = {}
    handles = [
        model.get_submodule(n).register_forward_hook(
            lambda _m, _i, out, n=n: shapes.__setitem__(n, tuple(out.shape)))
        for n in names
    ]
    try:
        with torch.no_grad():
            model(x)
    finally:
        for h in handles:
            h.remove()
    return shapes


# ---- torchvision parity -----------------------------------------------------------------
@pytest.mark.parametrize("name", ["resnet18", "resnet34", "resnet50", "resnet101", "resnet152"])
def test_imagenet_presets_match_torchvision(name):
    tv = getattr(torchvision.models, name)(weights=None).eval()
    ours = build(preset(name), seed=0).eval()
    assert n_params(ours) == n_params(tv)
    assert [k for k, _ in ours.named_parameters()] == [k for k, _ in tv.named_parameters()]
    ours_weights = {k: v.clone() for k, v in ours.state_dict().items()}
    x = randn(1, 3, 64, 64)

    ours.load_state_dict(tv.state_dict(), strict=True)
    with torch.no_grad():
        torch.testing.assert_close(ours(x), tv(x))

    tv.load_state_dict(ours_weights, strict=True)
    ours.load_state_dict(ours_weights, strict=True)
    with torch.no_grad():
        torch.testing.assert_close(ours(x), tv(x))


def test_shortcut_b_projects_exactly_where_torchvision_does():
    for name in ("resnet34", "resnet50"):
        tv = getattr(torchvision.models, name)(weights=None)
        ours = build(preset(name))
        tv_blocks = [(f"layer{i}.{j}", blk) for i in range(1, 5)
                     for j, blk in enumerate(getattr(tv, f"layer{i}"))]
        assert [n for n, _ in ours.blocks()] == [n for n, _ in tv_blocks]
        for (_, ob), (_, tb) in zip(ours.blocks(), tv_blocks):
            assert (ob.downsample is None) == (tb.downsample is None)
        projections = sum(b.downsample is not None for _, b in ours.blocks())
        assert projections == (4 if name == "resnet50" else 3)


def test_shortcut_a_has_no_parameters_and_c_projects_every_block():
    b = preset("resnet34")
    tv = torchvision.models.resnet34(weights=None)
    tv_projection_params = sum(n_params(getattr(tv, f"layer{i}")[0].downsample or nn.Identity())
                               for i in range(1, 5))
    model_a = build(b.replace(shortcut="A"))
    assert n_params(model_a) == n_params(tv) - tv_projection_params
    pads = [blk.downsample for _, blk in model_a.blocks() if blk.downsample is not None]
    assert len(pads) == 3 and all(isinstance(p, ZeroPadShortcut) for p in pads)
    assert all(n_params(p) == 0 and not list(p.buffers()) for p in pads)

    model_c = build(b.replace(shortcut="C"))
    extra = 0
    for _, blk in model_c.blocks():
        proj_conv, proj_bn = blk.downsample
        assert isinstance(proj_conv, nn.Conv2d) and proj_conv.kernel_size == (1, 1)
        assert isinstance(proj_bn, nn.BatchNorm2d)
        extra += n_params(blk.downsample)
    # Identity blocks gain a cin*cout 1x1 conv and a BatchNorm; projection blocks are unchanged.
    by_hand = sum(w * w + 2 * w for w, n in zip((64, 128, 256, 512), (3, 4, 6, 3))
                  for _ in range(n - 1)) + tv_projection_params + 64 * 64 + 2 * 64
    assert extra == by_hand
    assert n_params(model_c) == n_params(tv) + by_hand - tv_projection_params


def test_option_a_pads_with_zeros_and_subsamples():
    pad = ZeroPadShortcut(stride=2, extra_channels=3)
    x = randn(2, 2, 5, 5)
    out = pad(x)
    assert out.shape == (2, 5, 3, 3)
    torch.testing.assert_close(out[:, :2], x[:, :, ::2, ::2], rtol=0, atol=0)
    assert torch.count_nonzero(out[:, 2:]) == 0


@pytest.mark.parametrize("stride_on, strided", [("3x3", "conv2"), ("1x1", "conv1")])
def test_bottleneck_stride_placement(stride_on, strided):
    spec = NetSpec(block="bottleneck", layers=(1, 2, 1), base_width=4, stem="cifar",
                   stride_on=stride_on, image_size=16)
    model = build(spec)
    for name, blk in model.blocks():
        first_of_later_stage = name in ("layer2.0", "layer3.0")
        for conv_name in ("conv1", "conv2", "conv3"):
            expected = 2 if first_of_later_stage and conv_name == strided else 1
            assert getattr(blk, conv_name).stride == (expected, expected), (name, conv_name)
    assert model(randn(2, 3, 16, 16)).shape == (2, 1000)
    if stride_on == "3x3":  # torchvision's "V1.5" places it on conv2 too
        tv = torchvision.models.resnet50(weights=None)
        assert tv.layer2[0].conv2.stride == (2, 2) and tv.layer2[0].conv1.stride == (1, 1)


def test_norm_none_has_no_batchnorm_and_biased_convs():
    for block in ("basic", "bottleneck", "d2l"):
        spec = NetSpec(block=block, layers=(1, 1), base_width=4, stem="cifar", norm="none",
                       shortcut="C", image_size=16)
        model = build(spec)
        assert not any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in model.modules())
        convs = [m for m in model.modules() if isinstance(m, nn.Conv2d)]
        assert convs and all(c.bias is not None for c in convs)
        assert all(isinstance(blk.last_norm, nn.Identity) for _, blk in model.blocks())


# ---- the paper's CIFAR nets, counted by hand --------------------------------------------
def cifar_params_by_hand(n: int) -> int:
    """He et al. 2015 §4.2: 3x3 convs without bias, BN (gamma, beta), option A, fc 64->10."""
    total = 9 * 3 * 16 + 2 * 16  # stem conv + BN
    cin = 16
    for width in (16, 32, 64):
        for _ in range(n):
            total += 9 * cin * width + 2 * width + 9 * width * width + 2 * width
            cin = width  # option A shortcuts add nothing
    return total + 64 * 10 + 10


@pytest.mark.parametrize("depth, paper", [(20, "0.27"), (32, "0.46"), (44, "0.66"),
                                          (56, "0.85"), (110, "1.7")])
def test_cifar_parameter_counts_match_the_paper(depth, paper):
    model = build(preset(f"resnet{depth}"))
    expected = cifar_params_by_hand((depth - 2) // 6)
    assert n_params(model) == expected
    # Table 6 rounds to the digits it prints (269,722 reads 0.27M; 1,727,962 reads 1.7M).
    digits = len(paper.split(".")[1])
    assert f"{expected / 1e6:.{digits}f}" == paper
    assert model(randn(2, 3, 32, 32)).shape == (2, 10)


# ---- the d2l book's net -----------------------------------------------------------------
def test_d2l_preset_matches_the_book():
    spec = preset("d2l-resnet18")
    model = build(spec).eval()
    names = ["maxpool", "layer1", "layer2", "layer3", "layer4", "fc"]
    shapes = stage_outputs(model, randn(2, 1, 96, 96), names)
    assert shapes == {"maxpool": (2, 64, 24, 24), "layer1": (2, 64, 24, 24),
                      "layer2": (2, 128, 12, 12), "layer3": (2, 256, 6, 6),
                      "layer4": (2, 512, 3, 3), "fc": (2, 10)}

    # By hand: every conv has a bias; the shortcut is a bare 1x1 conv (with bias, no BN).
    total = 1 * 64 * 49 + 64 + 2 * 64
    cin = 64
    for i, width in enumerate((64, 128, 256, 512)):
        for j in range(2):
            total += 9 * cin * width + width + 2 * width + 9 * width * width + width + 2 * width
            if i > 0 and j == 0:
                total += cin * width + width
            cin = width
    total += 512 * 10 + 10
    assert n_params(model) == total
    for name, blk in model.blocks():
        if blk.downsample is not None:
            assert [type(m) for m in blk.downsample] == [nn.Conv2d], name
            assert blk.downsample[0].bias is not None


# ---- every parameter learns -------------------------------------------------------------
COMBOS = list(itertools.product(("basic", "bottleneck", "d2l"), (True, False), ("batch", "none"),
                                ("A", "B", "C")))


@pytest.mark.parametrize("block, skip, norm, shortcut", COMBOS,
                         ids=["-".join(map(str, c)) for c in COMBOS])
def test_every_parameter_gets_a_gradient(block, skip, norm, shortcut):
    stride_ons = ("3x3", "1x1") if block == "bottleneck" else ("3x3",)
    for stride_on in stride_ons:
        spec = NetSpec(block=block, layers=(1, 1), base_width=4, stem="cifar", skip=skip,
                       norm=norm, shortcut=shortcut, stride_on=stride_on, image_size=16,
                       num_classes=5)
        model = build(spec)
        x = randn(4, 3, 16, 16)
        target = torch.tensor([0, 1, 2, 3])
        nn.functional.cross_entropy(model(x), target).backward()
        for name, p in model.named_parameters():
            assert p.grad is not None, name
            assert torch.isfinite(p.grad).all(), name
            assert p.grad.abs().sum() > 0, name


def test_zero_init_residual_zeroes_last_norms_and_still_gets_gradients():
    spec = NetSpec(block="bottleneck", layers=(1, 1), base_width=4, stem="cifar",
                   zero_init_residual=True, image_size=16)
    model = build(spec)
    for _, blk in model.blocks():
        assert blk.last_norm is blk.bn3 and torch.count_nonzero(blk.bn3.weight) == 0
    assert torch.count_nonzero(model.layer1[0].bn2.weight) == 4
    model(randn(2, 3, 16, 16)).sum().backward()
    for name, p in model.named_parameters():  # zeroed gammas leave some grads legitimately 0
        assert p.grad is not None and torch.isfinite(p.grad).all(), name


# ---- shapes -----------------------------------------------------------------------------
@pytest.mark.parametrize("stages", range(1, 7))
def test_stage_shapes_for_one_to_six_stages(stages):
    spec = NetSpec(layers=(1,) * stages, base_width=2, stem="cifar", image_size=32,
                   num_classes=3)
    model = build(spec)
    names = [f"layer{i + 1}" for i in range(stages)]
    shapes = stage_outputs(model, randn(2, 3, 32, 32), names + ["fc"])
    for i, name in enumerate(names):
        assert shapes[name] == (2, 2 * 2**i, 32 // 2**i, 32 // 2**i)
    assert shapes["fc"] == (2, 3)


def test_empty_stage_passes_its_input_through():
    spec = NetSpec(layers=(1, 0, 1), base_width=4, stem="cifar", image_size=16, num_classes=3)
    model = build(spec)
    assert len(model.layer2) == 0 and [n for n, _ in model.blocks()] == ["layer1.0", "layer3.0"]
    shapes = stage_outputs(model, randn(2, 3, 16, 16), ["layer1", "layer2", "layer3", "fc"])
    assert shapes == {"layer1": (2, 4, 16, 16), "layer2": (2, 4, 16, 16),
                      "layer3": (2, 16, 8, 8), "fc": (2, 3)}
    # The only weights are stem, two blocks (the second projects 4 -> 16 channels) and fc.
    by_hand = (27 * 4 + 8) + (2 * (9 * 16 + 8)) + (9 * 4 * 16 + 32 + 9 * 256 + 32 + 4 * 16 + 32) \
        + (16 * 3 + 3)
    assert n_params(model) == by_hand


def test_odd_image_sizes_keep_shortcut_and_branch_aligned():
    for shortcut in ("A", "B"):
        for block, stride_on in (("basic", "3x3"), ("bottleneck", "1x1"), ("bottleneck", "3x3")):
            spec = NetSpec(block=block, layers=(1, 1, 1), base_width=4, stem="cifar",
                           shortcut=shortcut, stride_on=stride_on, image_size=13)
            assert build(spec)(randn(1, 3, 13, 13)).shape == (1, 1000)


# ---- seeds and the skip twin ------------------------------------------------------------
TWIN_SPECS = [
    preset("resnet20"),
    NetSpec(layers=(1, 2), base_width=8, stem="cifar", image_size=16),
    NetSpec(block="bottleneck", layers=(2, 1), base_width=4, stem="cifar", shortcut="C",
            image_size=16),
    NetSpec(block="d2l", layers=(1, 1), base_width=4, norm="batch", image_size=32),
]


@pytest.mark.parametrize("spec", TWIN_SPECS, ids=["cifarA", "basicB", "bottleneckC", "d2l"])
def test_skip_twins_share_every_common_weight(spec):
    residual = build(spec, seed=7).state_dict()
    plain = build(spec.replace(skip=False), seed=7).state_dict()
    assert set(plain) <= set(residual)
    assert len(plain) > 0.5 * len(residual)
    for name, tensor in plain.items():
        assert torch.equal(tensor, residual[name]), name
    if spec.shortcut == "C":
        assert set(residual) - set(plain)  # the projections exist only in the residual net


@pytest.mark.parametrize("spec", TWIN_SPECS[1:], ids=["basicB", "bottleneckC", "d2l"])
def test_seed_decides_the_weights(spec):
    a, b, c = (build(spec, seed=s).state_dict() for s in (3, 3, 4))
    assert a.keys() == b.keys() == c.keys()
    assert all(torch.equal(a[k], b[k]) for k in a)
    weights = [k for k in a if k.endswith("weight") and a[k].dim() > 1]
    assert weights and all(not torch.equal(a[k], c[k]) for k in weights)


def test_build_returns_a_train_mode_model_on_the_requested_device():
    model = build(preset("resnet20"), device="meta")
    assert model.training and all(p.device.type == "meta" for p in model.parameters())


def test_weights_do_not_depend_on_how_many_threads_draw_them(monkeypatch):
    from explorer.nets import model as model_module

    spec = NetSpec(block="bottleneck", layers=(1, 1), base_width=16, image_size=32)
    monkeypatch.setattr(model_module, "PARALLEL_DRAW", 1)  # every conv on the threads
    threads = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        serial = build(spec, seed=5).state_dict()
        torch.set_num_threads(3)
        parallel = build(spec, seed=5).state_dict()
    finally:
        torch.set_num_threads(threads)
    assert list(serial) == list(parallel)
    assert all(torch.equal(serial[k], parallel[k]) for k in serial)

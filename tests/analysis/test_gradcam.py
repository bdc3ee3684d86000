"""Grad-CAM: exact numbers on a hand-weighted model, equality with captum, and no side effects."""

import math

import numpy as np
import pytest
import torch
from captum.attr import IntegratedGradients, LayerAttribution, LayerGradCam, Occlusion
from PIL import Image
from torch import nn
from torch.nn.modules import module as module_globals

from explorer import NetSpec, build
from explorer.analysis.gradcam import attribute, cam_layers, grad_cam, grad_cam_grid
from explorer.analysis.overlay import cam_overlay, colormap

X = [[1.0, 2.0, 0.0], [0.0, 1.0, 3.0], [2.0, 0.0, 1.0]]
KERNELS = [[[1.0, 0.0], [0.0, 1.0]], [[0.0, 1.0], [-1.0, 0.0]]]
FC = [[1.0, -2.0], [0.5, 1.0], [-1.0, 0.5]]


class Tiny(nn.Module):
    """One 2x2 conv (3x3 input -> two 2x2 maps), global mean, a bias-free linear head."""

    def __init__(self) -> None:
        super().__init__()
        self.layer1 = nn.Conv2d(1, 2, kernel_size=2, bias=False)
        self.fc = nn.Linear(2, 3, bias=False)
        with torch.no_grad():
            self.layer1.weight.copy_(torch.tensor(KERNELS).unsqueeze(1))
            self.fc.weight.copy_(torch.tensor(FC))

    def forward(self, x):
        return self.fc(self.layer1(x).mean(dim=(2, 3)))


def hand_cam(target):
    """Grad-CAM of Tiny by plain arithmetic: A_k, alpha_k = mean dy/dA_k, sum_k alpha_k A_k."""
    maps = [[[sum(k[u][v] * X[i + u][j + v] for u in range(2) for v in range(2))
              for j in range(2)] for i in range(2)] for k in KERNELS]
    pooled = [sum(sum(row) for row in a) / 4 for a in maps]
    logits = [sum(w * p for w, p in zip(row, pooled)) for row in FC]
    if target is None:
        target = max(range(3), key=lambda c: logits[c])
    # y = sum_k W[c][k] * mean(A_k), so dy/dA_k[i][j] = W[c][k] / 4 everywhere, and so is alpha_k.
    alphas = [FC[target][k] / 4 for k in range(2)]
    cam = [[sum(alphas[k] * maps[k][i][j] for k in range(2)) for j in range(2)] for i in range(2)]
    return cam, logits, target


def hand_bilinear(grid, out_size):
    """Bilinear resize with align_corners=False (half-pixel centres, clamped at the border)."""
    n = len(grid)

    def taps(d):
        src = max((d + 0.5) * n / out_size - 0.5, 0.0)
        i0 = int(math.floor(src))
        return i0, min(i0 + 1, n - 1), src - i0

    out = []
    for r in range(out_size):
        r0, r1, fr = taps(r)
        row = []
        for c in range(out_size):
            c0, c1, fc = taps(c)
            top = grid[r0][c0] * (1 - fc) + grid[r0][c1] * fc
            bottom = grid[r1][c0] * (1 - fc) + grid[r1][c1] * fc
            row.append(top * (1 - fr) + bottom * fr)
        out.append(row)
    return out


@pytest.mark.parametrize("target", [None, 0])
def test_exact_numbers_on_a_hand_weighted_model(target):
    cam, logits, chosen = hand_cam(target)
    result = grad_cam(Tiny(), torch.tensor(X).view(1, 1, 3, 3), "layer1", target=target, top_k=2)
    assert result.target == chosen == (1 if target is None else 0)
    torch.testing.assert_close(result.raw, torch.tensor(cam), rtol=0, atol=1e-6)

    relu = [[max(v, 0.0) for v in row] for row in cam]
    up = hand_bilinear(relu, 3)
    peak = max(max(row) for row in up)
    torch.testing.assert_close(result.heatmap, torch.tensor(up) / peak, rtol=0, atol=1e-6)

    exps = [math.exp(v) for v in logits]
    probs = sorted(((e / sum(exps), c) for c, e in enumerate(exps)), reverse=True)[:2]
    assert result.top_classes == tuple(c for _, c in probs)
    assert result.top_probs == pytest.approx([p for p, _ in probs], abs=1e-6)


def test_hand_weighted_example_has_mixed_signs():
    """The raw map keeps captum's sign; only the heatmap is ReLU'd (guards the test above)."""
    cam, _, _ = hand_cam(0)
    assert min(min(r) for r in cam) < 0 < max(max(r) for r in cam)
    result = grad_cam(Tiny(), torch.tensor(X).view(1, 1, 3, 3), "layer1", target=0)
    assert result.raw.min() < 0 and result.heatmap.min() == 0 and result.heatmap.max() == 1


SPEC = NetSpec(layers=(1, 1), base_width=8, stem="cifar", num_classes=10, image_size=32)


@pytest.fixture
def model():
    return build(SPEC, seed=0)


@pytest.fixture
def x():
    return torch.randn(1, 3, 32, 32, generator=torch.Generator().manual_seed(1))


@pytest.mark.parametrize("layer", ["layer2", "layer1.0"])
@pytest.mark.parametrize("target", [None, 3])
def test_equals_captum_layer_grad_cam(model, x, layer, target):
    result = grad_cam(model, x, layer, target=target)

    model.eval()  # the reference: captum's own call on the model in eval mode
    with torch.no_grad():
        logits = model(x)
    expected_target = int(logits.argmax()) if target is None else target
    reference = LayerGradCam(model, model.get_submodule(layer)).attribute(
        x, target=expected_target)
    upsampled = LayerAttribution.interpolate(
        reference.clamp_min(0), (32, 32), interpolate_mode="bilinear")

    assert result.target == expected_target and result.layer == layer
    torch.testing.assert_close(result.raw, reference[0, 0], rtol=0, atol=0)
    torch.testing.assert_close(result.heatmap, upsampled[0, 0] / upsampled.max())
    top = torch.softmax(logits, 1)[0].topk(5)
    assert result.top_classes == tuple(top.indices.tolist())
    assert result.top_probs == pytest.approx(top.values.tolist(), abs=1e-6)


def hook_count(model):
    per_module = sum(
        len(m._forward_hooks) + len(m._forward_pre_hooks) + len(m._backward_hooks)
        + len(m._backward_pre_hooks) for m in model.modules()
    )
    global_hooks = (module_globals._global_forward_hooks, module_globals._global_forward_pre_hooks,
                    module_globals._global_backward_hooks,
                    module_globals._global_backward_pre_hooks)
    return per_module + sum(len(h) for h in global_hooks)


@pytest.mark.parametrize("training", [True, False])
def test_leaves_no_trace_on_the_model_or_input(model, x, training):
    model.train(training)
    model.layer1.requires_grad_(False)  # a partly frozen model keeps its exact flags
    earlier = torch.full_like(model.fc.bias, 7.0)
    model.fc.bias.grad = earlier.clone()  # a .grad the caller already had stays untouched
    flags = {n: p.requires_grad for n, p in model.named_parameters()}
    state = {k: v.clone() for k, v in model.state_dict().items()}
    x_before = x.clone()

    for layer in ("layer1", "layer2.0"):
        grad_cam(model, x, layer)

    assert model.training is training
    assert all(m.training is training for m in model.modules())
    assert {n: p.requires_grad for n, p in model.named_parameters()} == flags
    assert all(p.grad is None for n, p in model.named_parameters() if n != "fc.bias")
    torch.testing.assert_close(model.fc.bias.grad, earlier)
    assert hook_count(model) == 0
    for k, v in model.state_dict().items():  # BatchNorm statistics did not move
        torch.testing.assert_close(v, state[k], rtol=0, atol=0)
    assert torch.equal(x, x_before) and not x.requires_grad and x.grad is None


def test_input_that_requires_grad_gets_no_grad(model, x):
    x.requires_grad_(True)
    grad_cam(model, x, "layer2")
    assert x.requires_grad and x.grad is None


def test_state_is_restored_when_it_fails_midway(model, x):
    model.train()
    with pytest.raises(ValueError, match="target class"):
        grad_cam(model, x, "layer2", target=10)  # this net has classes 0..9
    assert model.training and all(p.requires_grad for p in model.parameters())
    assert hook_count(model) == 0


def test_works_inside_no_grad(model, x):
    with torch.no_grad():
        inside = grad_cam(model, x, "layer2")
    torch.testing.assert_close(inside.raw, grad_cam(model, x, "layer2").raw)


def test_unknown_layer_lists_the_valid_names(model, x):
    assert cam_layers(model) == ["layer1", "layer1.0", "layer2", "layer2.0"]
    with pytest.raises(ValueError, match="layer1, layer1.0, layer2, layer2.0"):
        grad_cam(model, x, "layer4")
    with pytest.raises(ValueError):
        grad_cam(model, x, "fc")


def test_empty_stages_are_not_offered():
    spec = NetSpec(layers=(1, 0, 1), base_width=8, stem="cifar", num_classes=10, image_size=32)
    assert cam_layers(build(spec)) == ["layer1", "layer1.0", "layer3", "layer3.0"]


def test_one_image_at_a_time(model):
    with pytest.raises(ValueError, match="one image"):
        grad_cam(model, torch.zeros(2, 3, 32, 32), "layer2")


def test_grid_explains_one_class_at_every_stage(model, x):
    grid = grad_cam_grid(model, x)
    assert [r.layer for r in grid] == ["layer1", "layer2"]
    assert len({r.target for r in grid}) == 1
    for result in grid:
        single = grad_cam(model, x, result.layer, target=result.target)
        torch.testing.assert_close(result.raw, single.raw)
        assert result.heatmap.shape == (32, 32)
    forced = grad_cam_grid(model, x, ["layer2.0", "layer1.0"], target=4)
    assert [r.target for r in forced] == [4, 4]


@pytest.mark.parametrize("method", ["gradcam++", "layercam", "scorecam"])
def test_grid_draws_every_stage_with_the_method_asked(model, x, method):
    reports = []
    grid = grad_cam_grid(model, x, target=3, method=method,
                         on_progress=lambda done, total, message: reports.append((done, total)))
    plain = grad_cam_grid(model, x, target=3)
    for result, gradcam_panel in zip(grid, plain):
        single = grad_cam(model, x, result.layer, target=3, method=method)
        torch.testing.assert_close(result.raw, single.raw)
        assert not torch.allclose(result.raw, gradcam_panel.raw)  # the method was not ignored
    if method == "scorecam":  # one masked image per channel of each stage, reported as it goes
        channels = [model.get_submodule(r.layer)[-1].conv2.out_channels for r in grid]
        assert [total for done, total in reports if done == total] == channels
    else:
        assert reports == []


def test_grid_refuses_an_unknown_method_before_any_work(model, x):
    calls = []
    model.register_forward_hook(lambda *args: calls.append(1))
    with pytest.raises(ValueError, match=r"Unknown CAM method 'gradcam\+'; choose one of"):
        grad_cam_grid(model, x, method="gradcam+")
    assert calls == []


# ---- other captum methods on the same path ---------------------------------------------
@pytest.mark.parametrize("method", ["integrated_gradients", "occlusion"])
def test_attribute_equals_captum(model, x, method):
    model.train()
    result = attribute(model, x, method, target=2, n_steps=8, window=8, stride=8)
    assert model.training and hook_count(model) == 0
    assert all(p.grad is None and p.requires_grad for p in model.parameters())

    model.eval()
    if method == "integrated_gradients":
        reference = IntegratedGradients(model).attribute(x, target=2, n_steps=8)
    else:
        reference = Occlusion(model).attribute(
            x, target=2, sliding_window_shapes=(3, 8, 8), strides=(3, 8, 8))
    summed = reference.sum(dim=1)[0]
    assert result.target == 2 and result.layer == "input"
    torch.testing.assert_close(result.raw, summed, rtol=1e-4, atol=1e-6)
    torch.testing.assert_close(result.heatmap, summed.clamp_min(0) / summed.max())


def test_attribute_picks_the_top_class_and_rejects_unknown_methods(model, x):
    model.eval()
    with torch.no_grad():
        top = int(model(x).argmax())
    assert attribute(model, x, "integrated_gradients", n_steps=2).target == top
    assert attribute(model, x, "grad_cam", layer="layer2").raw.shape == (16, 16)
    with pytest.raises(ValueError, match="Unknown method"):
        attribute(model, x, "lime")
    with pytest.raises(ValueError, match="target class"):
        attribute(model, x, "occlusion", target=-1)


def test_numpy_and_tensor_targets_are_accepted(model, x):
    assert grad_cam(model, x, "layer2", target=np.int64(3)).target == 3
    assert grad_cam(model, x, "layer2", target=torch.tensor(4)).target == 4
    with pytest.raises(ValueError, match="target class"):
        grad_cam(model, x, "layer2", target=1.5)
    with pytest.raises(ValueError, match="top_k"):
        grad_cam(model, x, "layer2", top_k=0)


# ---- colours ----------------------------------------------------------------------------
def test_jet_colormap_by_hand():
    # jet: r, g, b = clip(1.5 - |4v - 3|), clip(1.5 - |4v - 2|), clip(1.5 - |4v - 1|)
    got = colormap(np.array([0.0, 0.25, 0.5, 1.0]), "jet")
    assert got.tolist() == [[0, 0, 128], [0, 128, 255], [128, 255, 128], [128, 0, 0]]


def test_turbo_colormap_runs_from_dark_blue_to_dark_red():
    lut = colormap(np.linspace(0, 1, 256))
    assert lut.shape == (256, 3) and lut.dtype == np.uint8
    low, mid, high = lut[40].astype(int), lut[128].astype(int), lut[230].astype(int)
    assert low[2] > low[0] and mid[1] > 200 and high[0] > high[2]
    with pytest.raises(ValueError, match="colormap"):
        colormap(np.zeros(3), "viridis")


def test_overlay_blends_image_and_colours():
    image = Image.new("RGB", (4, 2), (200, 100, 50))
    heat = torch.tensor([[0.0, 0.25, 0.5, 1.0]] * 2)
    assert cam_overlay(image, heat, alpha=0.0).tobytes() == image.tobytes()
    full = np.asarray(cam_overlay(image, heat, alpha=1.0, cmap="jet"))
    assert full[0].tolist() == colormap(heat[0].numpy(), "jet").tolist()
    half = np.asarray(cam_overlay(image, heat, alpha=0.5, cmap="jet")).astype(int)
    assert half[0, 0].tolist() == [100, 50, 89]  # (200+0)/2, (100+0)/2, (50+128)/2


def test_overlay_resizes_the_heatmap_and_checks_alpha():
    image = Image.new("RGB", (64, 32))
    assert cam_overlay(image, torch.rand(8, 8), 0.4).size == (64, 32)
    with pytest.raises(ValueError, match="alpha"):
        cam_overlay(image, torch.rand(8, 8), 1.5)


# ---- class names for the top-k list -----------------------------------------------------
def test_class_names_come_from_torchvision():
    from torchvision.datasets import FashionMNIST
    from torchvision.models import ResNet50_Weights

    from explorer import preset
    from explorer.io.labels import CIFAR10, class_names

    assert class_names("resnet50") == ResNet50_Weights.IMAGENET1K_V2.meta["categories"]
    assert class_names("d2l-resnet18") == FashionMNIST.classes
    assert class_names(preset("resnet20")) == list(CIFAR10)
    assert class_names("fashion-mnist") == FashionMNIST.classes


def test_class_names_for_shapes_custom_and_unknown_heads():
    from explorer.data import shapes as data
    from explorer.io.labels import class_names

    shapes = NetSpec(layers=(1,), stem="cifar", image_size=32, num_classes=len(data.CLASSES))
    assert class_names(shapes) == list(data.CLASSES) == class_names("shapes")
    assert class_names(SPEC, names=[f"n{i}" for i in range(10)])[9] == "n9"
    assert class_names(SPEC.replace(num_classes=3)) == ["class 0", "class 1", "class 2"]
    assert class_names(SPEC, dataset="fashion-mnist")[0] == "T-shirt/top"
    with pytest.raises(ValueError, match="10 classes but 2 names"):
        class_names(SPEC, names=["a", "b"])
    with pytest.raises(ValueError, match="Unknown dataset"):
        class_names("mnist")

"""Every function handed a model gives it back exactly: each module's mode (a model in eval mode
with one stage training), requires_grad, hooks, .grad tensors, weights and BatchNorm buffers."""

import pytest
import torch

from explorer import NetSpec, build
from explorer.analysis.cam_methods import CAM_METHODS
from explorer.nets.preserved import preserved

SPEC = NetSpec(layers=(1, 1, 1), base_width=4, stem="cifar", num_classes=4, image_size=16)


def mixed_model():
    """Eval mode except layer1 (training); one frozen parameter; a hook; a stale .grad."""
    model = build(SPEC, seed=0).eval()
    model.layer1.train()
    model.fc.bias.requires_grad_(False)
    calls = []
    handle = model.layer2.register_forward_hook(lambda *a: calls.append(1))
    marker = torch.full_like(model.conv1.weight, 7.0)
    model.conv1.weight.grad = marker
    return model, handle, calls, marker


def snapshot(model):
    return {
        "modes": {name: m.training for name, m in model.named_modules()},
        "flags": {name: p.requires_grad for name, p in model.named_parameters()},
        "grads": {name: p.grad for name, p in model.named_parameters()},
        "hooks": {name: (dict(m._forward_hooks), dict(m._forward_pre_hooks),
                         dict(m._backward_hooks)) for name, m in model.named_modules()},
        "state": {k: v.clone() for k, v in model.state_dict().items()},
    }


def data(n=8):
    gen = torch.Generator().manual_seed(1)
    return torch.randn(n, 3, 16, 16, generator=gen), torch.randint(0, 4, (n,), generator=gen)


def calls_of_every_function():
    from explorer.analysis import gradcam, gradflow, landscape, lesion, receptive_field
    from explorer.analysis import deletion, feature_maps, localize, sanity
    from explorer.training.train import evaluate

    x, y = data()

    class Pairs(torch.utils.data.Dataset):
        def __len__(self):
            return len(y)

        def __getitem__(self, i):
            return x[i], int(y[i])

    twin = build(SPEC.replace(skip=False), seed=0)
    return {
        "grad_cam": lambda m: gradcam.grad_cam(m, x[:1], layer="layer3"),
        "grad_cam_grid": lambda m: gradcam.grad_cam_grid(m, x[:1]),
        "attribute": lambda m: gradcam.attribute(m, x[:1], "integrated_gradients", n_steps=4),
        "evaluate": lambda m: evaluate(m, Pairs()),
        "measure_flow": lambda m: gradflow.measure_flow(m, x, y),
        "compare_models": lambda m: gradflow.compare_models(m, twin, x, y),
        "lesion_study": lambda m: lesion.lesion_study(m, (x, y), draws=1),
        "loss_landscape": lambda m: landscape.loss_landscape(m, (x, y), steps=3, dims=2),
        "effective_receptive_field": lambda m: receptive_field.effective_receptive_field(
            m, (x, y), "layer2"),
        "stage_feature_maps": lambda m: feature_maps.stage_feature_maps(m, x[:1], top_k=2),
        "skip_parts": lambda m: feature_maps.skip_parts(m, x[:1], "layer2.0"),
        **{f"cam_batch[{method}]": (lambda method: lambda m: gradcam.cam_batch(
            m, x[:2], "layer2", y[:2], method))(method) for method in CAM_METHODS},
        "sanity_cascade": lambda m: sanity.sanity_cascade(m, x[:2], y[:2], "layer2",
                                                          ("gradcam", "scorecam")),
        "localization_scores": lambda m: localize.localization_scores(
            m, x[:2], y[:2], x[:2, 0] > 0, ("layercam",), ("layer3",)),
        "deletion_curve": lambda m: deletion.deletion_curve(m, x[:1], x[0, 0], int(y[0]), 4),
    }


@pytest.mark.parametrize("name", list(calls_of_every_function()))
def test_a_model_comes_back_exactly_as_it_was(name):
    model, handle, calls, marker = mixed_model()
    before = snapshot(model)
    calls_of_every_function()[name](model)
    after = snapshot(model)
    assert after["modes"] == before["modes"]
    assert model.layer1.training and not model.training and not model.layer2.training
    assert after["flags"] == before["flags"]
    assert all(after["grads"][k] is before["grads"][k] for k in before["grads"])
    assert model.conv1.weight.grad is marker and torch.equal(marker, torch.full_like(marker, 7.0))
    assert after["hooks"] == before["hooks"]
    for key, value in before["state"].items():
        assert torch.equal(after["state"][key], value), key
    calls.clear()
    handle.remove()  # the caller's handle still works on the restored hooks
    model(data(2)[0])
    assert calls == []


def test_preserved_restores_after_an_exception_and_can_restore_weights():
    model, _, _, marker = mixed_model()
    before = snapshot(model)
    with pytest.raises(RuntimeError):
        with preserved(model, weights=True, buffers=True):
            model.train()
            model.fc.bias.requires_grad_(True)
            with torch.no_grad():
                model.conv1.weight.add_(1.0)
            model.layer3.register_forward_hook(lambda *a: None)
            model(data(4)[0]).sum().backward()
            raise RuntimeError("boom")
    after = snapshot(model)
    assert after["modes"] == before["modes"] and after["flags"] == before["flags"]
    assert after["hooks"] == before["hooks"] and model.conv1.weight.grad is marker
    for key, value in before["state"].items():
        assert torch.equal(after["state"][key], value), key


def test_a_shortcut_dropouts_next_mask_is_what_it_would_have_been():
    from explorer.analysis.gradflow import measure_flow

    spec = SPEC.replace(skip_design="dropout")
    model, twin = build(spec, seed=0).train(), build(spec, seed=0).train()
    x, y = data()
    measure_flow(model, x, y)  # training-mode passes inside
    torch.manual_seed(0)
    ours = model(x)
    torch.manual_seed(0)
    assert torch.equal(ours, twin(x))  # the same mask as a model the analysis never saw

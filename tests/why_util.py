"""Tiny nets and snapshots shared by the tests of the "why skips work" analyses."""

from __future__ import annotations

import torch
from torch import nn

from explorer import NetSpec, build

TINY = NetSpec(layers=(2, 1), base_width=4, stem="cifar", shortcut="A", num_classes=4,
               image_size=16)


def tiny_pair(seed: int = 0, spec: NetSpec = TINY) -> tuple[nn.Module, nn.Module]:
    """A residual tiny net and its plain twin, in eval mode, with some trained-looking BN stats."""
    nets = []
    for skip in (True, False):
        model = build(spec.replace(skip=skip), seed=seed)
        with torch.no_grad():  # non-trivial running statistics, so eval mode is really tested
            model.train()
            model(torch.randn(8, spec.in_channels, spec.image_size, spec.image_size,
                              generator=torch.Generator().manual_seed(seed)))
        nets.append(model.eval())
    return nets[0], nets[1]


def batch(spec: NetSpec = TINY, n: int = 12, seed: int = 1):
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(n, spec.in_channels, spec.image_size, spec.image_size, generator=gen)
    y = torch.randint(0, spec.num_classes, (n,), generator=gen)
    return x, y


def snapshot(model: nn.Module) -> dict:
    """Everything `preserved` promises to restore, to compare before and after an analysis."""
    return {
        "state": {k: v.clone() for k, v in model.state_dict().items()},
        "modes": [m.training for m in model.modules()],
        "flags": [p.requires_grad for p in model.parameters()],
        "grads": [p.grad for p in model.parameters()],
        "hooks": [len(m._forward_hooks) + len(m._forward_pre_hooks) for m in model.modules()],
        "forwards": ["forward" in m.__dict__ for m in model.modules()],
    }


def assert_unchanged(model: nn.Module, before: dict) -> None:
    after = snapshot(model)
    assert before["state"].keys() == after["state"].keys()
    for key, value in before["state"].items():
        assert torch.equal(value, after["state"][key]), key
    for name in ("modes", "flags", "hooks", "forwards"):
        assert before[name] == after[name], name
    assert all(a is b for a, b in zip(before["grads"], after["grads"]))

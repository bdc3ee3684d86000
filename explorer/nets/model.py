"""The network builder: one `ResNet` class fed by a `NetSpec`, like torchvision's resnet.py.

Initialisation is seeded per parameter *name* (``layer2.0.conv1.weight``), not by the order in
which modules happen to be created. That is what makes the residual net and its plain twin (which
lacks the shortcut projections) share bit-identical weights in every layer they have in common.
"""

from __future__ import annotations

import math
import zlib

import torch
from torch import nn

from explorer.nets.blocks import BLOCKS, ResidualBlock
from explorer.nets.spec import NetSpec


class ResNet(nn.Module):
    """Stem, ``layer1..N`` of residual blocks, global average pool, ``fc``."""

    def __init__(self, spec: NetSpec) -> None:
        super().__init__()
        self.spec = spec
        block = BLOCKS[spec.block]
        bias = spec.norm == "none" or spec.block == "d2l"
        if spec.stem == "imagenet":
            self.conv1 = nn.Conv2d(spec.in_channels, spec.stem_width, 7, 2, 3, bias=bias)
            self.maxpool: nn.Module = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        else:
            self.conv1 = nn.Conv2d(spec.in_channels, spec.stem_width, 3, 1, 1, bias=bias)
            self.maxpool = nn.Identity()
        self.bn1 = nn.BatchNorm2d(spec.stem_width) if spec.norm == "batch" else nn.Identity()
        self.relu = nn.ReLU()

        channels = spec.stem_width
        self.stage_names: list[str] = []
        for i, (blocks, width, stride) in enumerate(
            zip(spec.layers, spec.stage_widths, spec.stage_strides)
        ):
            stage = []
            for j in range(blocks):
                stage.append(block(spec, channels, width, stride if j == 0 else 1))
                channels = width * spec.expansion
            name = f"layer{i + 1}"
            self.add_module(name, nn.Sequential(*stage))
            self.stage_names.append(name)
        self.out_channels = channels
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(channels, spec.num_classes)

    def stages(self) -> list[tuple[str, nn.Sequential]]:
        return [(name, getattr(self, name)) for name in self.stage_names]

    def blocks(self) -> list[tuple[str, ResidualBlock]]:
        """Every residual block in depth order, named like ``layer2.3``."""
        return [(f"{name}.{j}", blk) for name, stage in self.stages() for j, blk in enumerate(stage)]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        for _, stage in self.stages():
            x = stage(x)
        x = torch.flatten(self.avgpool(x), 1)
        return self.fc(x)


def build(spec: NetSpec, seed: int = 0, device: str | torch.device = "cpu") -> ResNet:
    """Build the network a spec describes, with deterministic seeded weights.

    Args:
        spec: the architecture.
        seed: weights depend only on (spec's shapes, seed, parameter name), so the same seed gives
            bit-identical weights, and the skip-off twin shares every common parameter.
        device: where the model lives. Weights are drawn on the CPU first so that they are the
            same on every device.

    Returns:
        The model, in train mode.
    """
    with torch.device("meta"):
        model = ResNet(spec)
    model = model.to_empty(device="cpu")
    init_weights(model, seed)
    return model.to(device)


def init_weights(model: ResNet, seed: int) -> None:
    """torchvision's initialisation, each tensor drawn from its own name-seeded generator."""
    with torch.no_grad():
        for name, module in model.named_modules():
            if isinstance(module, nn.Conv2d):
                gen = _generator(seed, f"{name}.weight")
                std = math.sqrt(2.0 / (module.out_channels * math.prod(module.kernel_size)))
                module.weight.normal_(0.0, std, generator=gen)  # kaiming_normal_, fan_out, relu
                if module.bias is not None:
                    module.bias.zero_()
            elif isinstance(module, nn.BatchNorm2d):
                module.weight.fill_(1.0)
                module.bias.zero_()
                module.reset_running_stats()
            elif isinstance(module, nn.Linear):
                bound = 1.0 / math.sqrt(module.in_features)  # nn.Linear's default range
                module.weight.uniform_(-bound, bound, generator=_generator(seed, f"{name}.weight"))
                module.bias.uniform_(-bound, bound, generator=_generator(seed, f"{name}.bias"))
        if model.spec.zero_init_residual:
            for _, block in model.blocks():
                block.last_norm.weight.zero_()


def _generator(seed: int, name: str) -> torch.Generator:
    # crc32 is stable across processes (unlike hash()), so weights are reproducible anywhere.
    return torch.Generator().manual_seed((seed * 1_000_003 + zlib.crc32(name.encode())) % 2**63)

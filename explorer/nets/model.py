"""The network builder: one `ResNet` class fed by a `NetSpec`, like torchvision's resnet.py.

Initialisation is seeded per parameter *name* (``layer2.0.conv1.weight``), not by the order in
which modules happen to be created. That is what makes the residual net and its plain twin (which
lacks the shortcut projections) share bit-identical weights in every layer they have in common.
"""

from __future__ import annotations

import math
import zlib
from concurrent.futures import ThreadPoolExecutor

import torch
from torch import nn

from explorer.nets.blocks import ResidualBlock
from explorer.nets.layers import norm_layer
from explorer.nets.orders import ORDERS
from explorer.nets.skips import ShortcutDropout, SkipGate
from explorer.nets.spec import NetSpec
from explorer.nets.stems import make_stem


class ResNet(nn.Module):
    """Stem, ``layer1..N`` of residual blocks, global average pool, ``fc``.

    A pre-activation net (``order="pre"``) also has ``final_norm`` and ``final_relu`` between
    the last stage and the pool (He et al. 2016; timm's ResNetV2 ``norm``).
    """

    def __init__(self, spec: NetSpec) -> None:
        super().__init__()
        self.spec = spec
        for name, module in make_stem(spec).items():
            self.add_module(name, module)

        channels = spec.stem_width
        self.stage_names: list[str] = []
        for i, (blocks, width, stride) in enumerate(
            zip(spec.layers, spec.stage_widths, spec.stage_strides)
        ):
            stage = []
            for j in range(blocks):
                stage.append(ResidualBlock(spec, channels, width, stride if j == 0 else 1))
                channels = width * spec.expansion
            name = f"layer{i + 1}"
            self.add_module(name, nn.Sequential(*stage))
            self.stage_names.append(name)
        self.out_channels = channels
        self.head_activated = ORDERS[spec.order].head_activated
        if self.head_activated:
            self.final_norm = norm_layer(spec, channels)
            self.final_relu = nn.ReLU()
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
        if self.head_activated:
            x = self.final_relu(self.final_norm(x))
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
    allocate(model, "cpu")
    init_weights(model, seed)
    return model if torch.device(device).type == "cpu" else model.to(device)


def allocate(model: nn.Module, device: str | torch.device) -> nn.Module:
    """``model.to_empty(device)`` for a model built on the meta device: every parameter and
    buffer becomes an uninitialised tensor of its shape on ``device``, in place.

    The same result as ``to_empty`` at a fraction of its cost: ``Module._apply``'s generality
    (a ResNet-110 has 1,100 tensors) took a third of a build, measured.
    """
    for module in model.modules():
        for name, p in module._parameters.items():
            if p is not None:
                module._parameters[name] = nn.Parameter(
                    torch.empty(p.shape, dtype=p.dtype, device=device), p.requires_grad)
        for name, b in module._buffers.items():
            if b is not None:
                module._buffers[name] = torch.empty(b.shape, dtype=b.dtype, device=device)
    return model


def init_weights(model: ResNet, seed: int) -> None:
    """torchvision's initialisation, each tensor drawn from its own name-seeded generator.

    A skip gate's 1×1 conv is a conv like any other, its bias then set to the spec's
    ``gate_bias``; a shortcut dropout's masks are seeded the same way, by its name. The large
    conv weights are drawn on torch's intra-op threads, one tensor per thread at a time: each has
    its own generator, so the values do not depend on the order (a random draw is serial in torch,
    and was the longest serial step of a ResNet-50's build).
    """
    draws = []  # (weight, std, generator) of every conv
    with torch.no_grad():
        for name, module in model.named_modules():
            if isinstance(module, nn.Conv2d):
                std = math.sqrt(2.0 / (module.out_channels * math.prod(module.kernel_size)))
                # kaiming_normal_, fan_out, relu
                draws.append((module.weight, std, _generator(seed, f"{name}.weight")))
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
            elif isinstance(module, ShortcutDropout):
                module.seed, module.calls = int(_generator(seed, name).initial_seed()), 0
        _draw_normal(draws)
        for module in model.modules():
            if isinstance(module, SkipGate):
                module.conv.bias.fill_(model.spec.gate_bias)
        if model.spec.zero_init_residual:
            for _, block in model.blocks():
                block.last_norm.weight.zero_()


PARALLEL_DRAW = 1 << 18  # elements: smaller draws take less time than handing them to a thread


def _draw_normal(draws: list[tuple[torch.Tensor, float, torch.Generator]]) -> None:
    def draw(item: tuple[torch.Tensor, float, torch.Generator]) -> None:
        weight, std, gen = item
        with torch.no_grad():  # grad mode is per thread
            weight.normal_(0.0, std, generator=gen)

    large = [d for d in draws if d[0].numel() >= PARALLEL_DRAW]
    threads = min(torch.get_num_threads(), len(large))
    if threads < 2:
        large = []
    else:  # largest first, so that the threads end together
        with ThreadPoolExecutor(threads) as pool:
            list(pool.map(draw, sorted(large, key=lambda d: -d[0].numel())))
    done = {id(weight) for weight, _, _ in large}
    for item in draws:
        if id(item[0]) not in done:
            draw(item)


def _generator(seed: int, name: str) -> torch.Generator:
    # crc32 is stable across processes (unlike hash()), so weights are reproducible anywhere.
    return torch.Generator().manual_seed((seed * 1_000_003 + zlib.crc32(name.encode())) % 2**63)

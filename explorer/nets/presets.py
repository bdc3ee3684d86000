"""The presets: published networks as `NetSpec` data, grouped by family for the sidebar.

Every preset is exact against its reference (tests/nets/test_family.py, tests/nets/test_model.py):
torchvision's and timm's models built without weights, or the papers' parameter counts.
"""

from __future__ import annotations

from explorer.nets.spec import Block, NetSpec

_R50, _R101 = (3, 4, 6, 3), (3, 4, 23, 3)


def _imagenet(block: Block, layers: tuple[int, ...], **changes) -> NetSpec:
    return NetSpec(block=block, layers=layers, **changes)


def _cifar(n: int) -> NetSpec:
    # He et al. 2015 §4.2: 6n+2 layers, 3 stages of 16/32/64 channels, option A shortcuts.
    return NetSpec(
        block="basic", layers=(n, n, n), base_width=16, stem="cifar", shortcut="A",
        num_classes=10, image_size=32,
    )


def _preact_cifar_bottleneck(n: int) -> NetSpec:
    # He et al. 2016 (KaimingHe/resnet-1k-layers): 9n+2 layers, bottlenecks of 16/32/64 inner
    # channels (64/128/256 out), a bare 3x3 stem conv, projections only where the shape changes,
    # the stride on the first 1x1 conv.
    return NetSpec(
        block="bottleneck", layers=(n, n, n), base_width=16, stem="cifar", shortcut="B",
        stride_on="1x1", order="pre", num_classes=10, image_size=32,
    )


# (family, preset, spec, one-line help: what it changes and where it comes from)
_TABLE: list[tuple[str, str, NetSpec, str]] = [
    ("torchvision", "resnet18", _imagenet("basic", (2, 2, 2, 2)),
     "He et al. 2015 ResNet-18: BasicBlocks, 2-2-2-2 (torchvision)."),
    ("torchvision", "resnet34", _imagenet("basic", (3, 4, 6, 3)),
     "He et al. 2015 ResNet-34: BasicBlocks, 3-4-6-3 (torchvision)."),
    ("torchvision", "resnet50", _imagenet("bottleneck", _R50),
     "He et al. 2015 ResNet-50: Bottlenecks, stride on the 3×3 (torchvision's V1.5)."),
    ("torchvision", "resnet101", _imagenet("bottleneck", _R101),
     "He et al. 2015 ResNet-101: 23 Bottlenecks in stage 3 (torchvision)."),
    ("torchvision", "resnet152", _imagenet("bottleneck", (3, 8, 36, 3)),
     "He et al. 2015 ResNet-152: 3-8-36-3 Bottlenecks (torchvision)."),
    ("torchvision", "resnext50_32x4d", _imagenet("bottleneck", _R50, groups=32,
                                                 width_per_group=4),
     "ResNeXt-50 (Xie et al. 2017): the 3×3 split into 32 groups of 4 channels (torchvision)."),
    ("torchvision", "resnext101_32x8d", _imagenet("bottleneck", _R101, groups=32,
                                                  width_per_group=8),
     "ResNeXt-101 32×8d (Xie et al. 2017): 32 groups of 8 channels (torchvision)."),
    ("torchvision", "resnext101_64x4d", _imagenet("bottleneck", _R101, groups=64,
                                                  width_per_group=4),
     "ResNeXt-101 64×4d: 64 groups of 4 channels (torchvision)."),
    ("torchvision", "wide_resnet50_2", _imagenet("bottleneck", _R50, width_per_group=128),
     "Wide ResNet-50-2 (Zagoruyko & Komodakis 2016): the Bottleneck's inner convs twice as "
     "wide (torchvision)."),
    ("torchvision", "wide_resnet101_2", _imagenet("bottleneck", _R101, width_per_group=128),
     "Wide ResNet-101-2: ResNet-101 with inner convs twice as wide (torchvision)."),
    ("He 2015 CIFAR", "resnet20", _cifar(3),
     "He et al. 2015 §4.2 CIFAR-10 net, 6n+2 = 20 layers, option A shortcuts."),
    ("He 2015 CIFAR", "resnet32", _cifar(5), "He et al. 2015 CIFAR-10 net, 32 layers."),
    ("He 2015 CIFAR", "resnet44", _cifar(7), "He et al. 2015 CIFAR-10 net, 44 layers."),
    ("He 2015 CIFAR", "resnet56", _cifar(9), "He et al. 2015 CIFAR-10 net, 56 layers."),
    ("He 2015 CIFAR", "resnet110", _cifar(18), "He et al. 2015 CIFAR-10 net, 110 layers."),
    ("He 2016 pre-activation", "preact_resnet110", _cifar(18).replace(order="pre"),
     "He et al. 2016 ResNet-110 with full pre-activation (BN → ReLU → conv), 1.7 M params."),
    ("He 2016 pre-activation", "preact_resnet164", _preact_cifar_bottleneck(18),
     "He et al. 2016 ResNet-164: pre-activation Bottlenecks on CIFAR-10, 1.7 M params."),
    ("He 2016 pre-activation", "preact_resnet1001", _preact_cifar_bottleneck(111),
     "He et al. 2016 ResNet-1001: 333 pre-activation Bottlenecks on CIFAR-10, 10.2 M params."),
    ("He 2016 pre-activation", "resnetv2_50", _imagenet("bottleneck", _R50, order="pre"),
     "timm's ResNetV2-50: ResNet-50 with full pre-activation blocks and BN → ReLU before "
     "the pool."),
    ("Bag of Tricks", "resnet18d", _imagenet("basic", (2, 2, 2, 2), stem="deep", shortcut="D"),
     "ResNet-18-D (He et al. 2019): a deep stem of three 3×3 convs and an average pool before "
     "each projection (timm)."),
    ("Bag of Tricks", "resnet50d", _imagenet("bottleneck", _R50, stem="deep", shortcut="D"),
     "ResNet-50-D (He et al. 2019): deep stem, average-pool downsampling (timm)."),
    ("squeeze-and-excitation", "seresnet18", _imagenet("basic", (2, 2, 2, 2), attention="se"),
     "SE-ResNet-18 (Hu et al. 2018): each branch rescales its channels by a learned gate "
     "(timm)."),
    ("squeeze-and-excitation", "seresnet50", _imagenet("bottleneck", _R50, attention="se"),
     "SE-ResNet-50 (Hu et al. 2018): squeeze-and-excitation on every Bottleneck (timm)."),
    # d2l.ai §8.6: Fashion-MNIST resized to 96 px, 1 channel, 10 classes.
    ("d2l", "d2l-resnet18", NetSpec(block="d2l", layers=(2, 2, 2, 2), in_channels=1,
                                    num_classes=10, image_size=96),
     "The d2l.ai book's ResNet-18 (§8.6): conv biases, 1×1 shortcut without BN, 96 px "
     "Fashion-MNIST."),
]

PRESETS: dict[str, NetSpec] = {name: spec for _, name, spec, _ in _TABLE}
PRESET_HELP: dict[str, str] = {name: text for _, name, _, text in _TABLE}
FAMILIES: dict[str, tuple[str, ...]] = {}
for _family, _name, _, _ in _TABLE:
    FAMILIES[_family] = (*FAMILIES.get(_family, ()), _name)


def family_of(name: str) -> str:
    """The family a preset is listed under (``torchvision``, ``Bag of Tricks``...)."""
    return next(family for family, names in FAMILIES.items() if name in names)


def preset(name: str) -> NetSpec:
    """Look up a preset by name, with a readable error for unknown names."""
    try:
        return PRESETS[name]
    except KeyError:
        raise ValueError(
            f"Unknown preset {name!r}; choose one of {', '.join(PRESETS)}."
        ) from None

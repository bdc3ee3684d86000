"""Published reference numbers for the presets, to show beside what we compute.

ImageNet figures are torchvision's own metadata (shipped with torchvision, no download);
CIFAR figures are He et al. 2015, Table 6.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Reference:
    source: str
    params: float  # exact count where the source gives one
    giga_mult_adds: float | None = None
    exact: bool = True  # False: the source rounds (the paper gives millions to two digits)

    def params_text(self) -> str:
        """The count as the source states it: "11,689,512" or "0.27 M"."""
        return f"{self.params:,.0f}" if self.exact else f"{self.params / 1e6:.2g} M"


_CIFAR_PAPER_PARAMS_M = {"resnet20": 0.27, "resnet32": 0.46, "resnet44": 0.66,
                         "resnet56": 0.85, "resnet110": 1.7}
# The presets torchvision ships ImageNet weights for, and the prefix of its weights enum.
TORCHVISION_WEIGHTS = {
    "resnet18": "ResNet18", "resnet34": "ResNet34", "resnet50": "ResNet50",
    "resnet101": "ResNet101", "resnet152": "ResNet152",
    "resnext50_32x4d": "ResNeXt50_32X4D", "resnext101_32x8d": "ResNeXt101_32X8D",
    "resnext101_64x4d": "ResNeXt101_64X4D",
    "wide_resnet50_2": "Wide_ResNet50_2", "wide_resnet101_2": "Wide_ResNet101_2",
}


def torchvision_meta(preset_name: str) -> dict:
    """torchvision's metadata of a preset's IMAGENET1K_V1 weights (shipped with torchvision:
    parameters, GFLOPs, top-1, file size, class names; nothing is downloaded)."""
    from torchvision import models

    return getattr(models, f"{TORCHVISION_WEIGHTS[preset_name]}_Weights").IMAGENET1K_V1.meta


def reference_for(preset_name: str) -> Reference | None:
    """The published numbers for a preset, or ``None`` when there are none."""
    if preset_name in TORCHVISION_WEIGHTS:
        meta = torchvision_meta(preset_name)
        return Reference("torchvision weights metadata", meta["num_params"], meta["_ops"])
    if preset_name in _CIFAR_PAPER_PARAMS_M:
        return Reference("He et al. 2015, Table 6", _CIFAR_PAPER_PARAMS_M[preset_name] * 1e6,
                         exact=False)
    return None

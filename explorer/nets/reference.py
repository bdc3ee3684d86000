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
_TORCHVISION = {"resnet18": "ResNet18", "resnet34": "ResNet34", "resnet50": "ResNet50",
                "resnet101": "ResNet101", "resnet152": "ResNet152"}


def reference_for(preset_name: str) -> Reference | None:
    """The published numbers for a preset, or ``None`` when there are none."""
    if preset_name in _TORCHVISION:
        from torchvision import models

        meta = getattr(models, f"{_TORCHVISION[preset_name]}_Weights").IMAGENET1K_V1.meta
        return Reference("torchvision weights metadata", meta["num_params"], meta["_ops"])
    if preset_name in _CIFAR_PAPER_PARAMS_M:
        return Reference("He et al. 2015, Table 6", _CIFAR_PAPER_PARAMS_M[preset_name] * 1e6,
                         exact=False)
    return None

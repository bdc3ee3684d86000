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


# ---- He et al. 2016, "Identity Mappings in Deep Residual Networks" ----------------------
FAILED = None  # the paper's "fail": a test error above 20 %
IDENTITY_MAPPINGS = "He et al. 2016, 'Identity Mappings'"


@dataclass(frozen=True)
class PaperRun:
    """One setting of the paper's ablations: CIFAR-10 test error (%, median of 5 runs) of the
    original (post-activation) ResNet-110, or ``FAILED``.

    ``field`` between ``low`` and ``high`` (inclusive) is the NetSpec setting that reproduces
    the run (``None``: any); ``ours=False`` for a setting a NetSpec cannot express.
    """

    setting: str  # in the sidebar's words
    error: float | None
    field: str | None = None
    low: float = 0.0
    high: float = 0.0
    ours: bool = True

    def matches(self, spec) -> bool:
        return self.ours and (self.field is None
                              or self.low <= getattr(spec, self.field) <= self.high)


# What the text calls each variant of the paper's ablations (a NetSpec field = its value).
VARIANT_NAMES = {
    "skip_design=identity": "the identity design", "skip_design=scaled": "constant scaling",
    "skip_design=exclusive_gate": "the exclusive gate",
    "skip_design=shortcut_gate": "the shortcut-only gate",
    "skip_design=conv": "the 1×1 conv shortcut", "skip_design=dropout": "shortcut dropout",
    "order=post": "the original order (post)", "order=bn_after_add": "BN after addition",
    "order=relu_before_add": "ReLU before addition",
    "order=relu_preact": "ReLU-only pre-activation", "order=pre": "full pre-activation",
}
# Table 1 (Fig. 2): every design on every shortcut of ResNet-110.
SKIP_DESIGN_RUNS: dict[str, tuple[PaperRun, ...]] = {
    "identity": (PaperRun("the identity", 6.61),),
    "scaled": (PaperRun("shortcut × 0.5, branch × 0.5", 12.35, "skip_scale", 0.5, 0.5),
               PaperRun("shortcut × 0.5, branch × 1", FAILED, ours=False),
               PaperRun("shortcut × 0, a plain net", FAILED, "skip_scale", 0.0, 0.0)),
    "exclusive_gate": (PaperRun("gate bias 0 to −5", FAILED, "gate_bias", -5.0, 0.0),
                       PaperRun("gate bias −6", 8.70, "gate_bias", -6.0, -6.0),
                       PaperRun("gate bias −7", 9.81, "gate_bias", -7.0, -7.0)),
    "shortcut_gate": (PaperRun("gate bias 0", 12.86, "gate_bias", 0.0, 0.0),
                      PaperRun("gate bias −6", 6.91, "gate_bias", -6.0, -6.0)),
    "conv": (PaperRun("a 1×1 conv on every shortcut", 12.22),),
    "dropout": (PaperRun("dropout 0.5 on the shortcut", FAILED),),
}
# Table 2 (Fig. 4): CIFAR-10 test error (%) of ResNet-110 and ResNet-164 per activation order.
ORDER_ERRORS: dict[str, tuple[float, float]] = {
    "post": (6.61, 5.93), "bn_after_add": (8.17, 6.50), "relu_before_add": (7.84, 6.14),
    "relu_preact": (6.71, 5.91), "pre": (6.37, 5.46),
}


def error_text(error: float | None) -> str:
    """``6.61 %`` or ``failed`` (the paper's word for an error above 20 %)."""
    return "failed" if error is FAILED else f"{error:.2f} %"


def design_runs_text(design: str) -> str:
    """Table 1's runs of one design: ``12.35 % (shortcut × 0.5, branch × 0.5); failed (...)``."""
    return "; ".join(f"{error_text(run.error)} ({run.setting})"
                     for run in SKIP_DESIGN_RUNS[design])


def skip_design_findings() -> str:
    """What Table 1 found, one clause per design, for the sidebar's help and the pages."""
    parts = [f"{design}: {design_runs_text(design)}" for design in SKIP_DESIGN_RUNS]
    return (f"{IDENTITY_MAPPINGS}, Table 1, test error of ResNet-110 on CIFAR-10 ('failed': "
            "above 20 %) — " + "; ".join(parts) + ". Only the identity, and a shortcut-only "
            "gate whose shortcut starts as nearly the identity (bias −6), trained well; every "
            "other design trained worse or failed.")


def order_findings() -> str:
    """What Table 2 found, one clause per order."""
    parts = [f"{order} {a:.2f} / {b:.2f} %" for order, (a, b) in ORDER_ERRORS.items()]
    return (f"{IDENTITY_MAPPINGS}, Table 2, test error on CIFAR-10 (ResNet-110 / ResNet-164): "
            + ", ".join(parts) + ". Full pre-activation trained best, ReLU-only "
            "pre-activation about as well as post, BN after the addition and ReLU before it "
            "worse.")


def paper_run(spec) -> PaperRun | None:
    """The Table 1 run a spec's skip design and numbers reproduce, if the paper has one."""
    return next((run for run in SKIP_DESIGN_RUNS.get(spec.skip_design, ())
                 if run.matches(spec)), None)

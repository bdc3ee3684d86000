"""ResNet Explorer's pure-Python core (no streamlit): specs, models and analyses.

    from explorer import NetSpec, PRESETS, build, stage_table, estimate

Names are imported on first use (PEP 562), so ``import explorer`` and the command line's
``--help`` cost nothing; torchvision, captum, pandas and plotly load only where they are used.
"""

from __future__ import annotations

import importlib

_WHERE = {
    "explorer.nets.spec": ("NetSpec",),
    "explorer.nets.presets": ("PRESETS", "preset"),
    "explorer.nets.model": ("ResNet", "build"),
    "explorer.nets.preserved": ("preserved",),
    "explorer.nets.standalone": ("standalone_code",),
    "explorer.nets.measure": ("StageTable", "StageRow", "Estimate", "stage_table", "estimate"),
    "explorer.analysis.tables": ("stage_frame", "layer_summary"),
    "explorer.analysis.flow_result": ("GradientFlow",),
    "explorer.analysis.gradflow": ("gradient_flow",),
    "explorer.analysis.designs": ("DesignComparison", "compare_designs"),
    "explorer.analysis.sweep": ("depth_sweep",),
    "explorer.analysis.gradcam": ("CamResult", "grad_cam", "grad_cam_grid"),
    "explorer.io.images": ("load_image", "preprocess"),
    "explorer.io.checkpoints": ("CheckpointReport", "load_checkpoint", "save_checkpoint",
                                "load_saved"),
    "explorer.data.shapes": ("CLASSES", "ShapesDataset"),
    "explorer.training.train": ("TrainResult", "train", "evaluate"),
}
_MODULE_OF = {name: module for module, names in _WHERE.items() for name in names}
__all__ = list(_MODULE_OF)


def __getattr__(name: str):
    if name not in _MODULE_OF:
        raise AttributeError(f"module 'explorer' has no attribute {name!r}")
    value = getattr(importlib.import_module(_MODULE_OF[name]), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))

"""ResNet Explorer's pure-Python core (no streamlit): specs, models and analyses.

    from explorer import NetSpec, PRESETS, build, stage_table, estimate
"""

from .checkpoints import CheckpointReport, load_checkpoint, load_saved, save_checkpoint
from .data import CLASSES, ShapesDataset
from .flow_result import GradientFlow
from .gradcam import CamResult, grad_cam, grad_cam_grid
from .gradflow import gradient_flow
from .images import load_image, preprocess
from .model import ResNet, build
from .spec import PRESETS, NetSpec, preset
from .sweep import depth_sweep
from .tables import Estimate, StageRow, StageTable, estimate, layer_summary, stage_table
from .train import TrainResult, evaluate, train

__all__ = [
    "NetSpec", "PRESETS", "preset", "ResNet", "build",
    "StageTable", "StageRow", "Estimate", "stage_table", "estimate", "layer_summary",
    "GradientFlow", "gradient_flow", "depth_sweep",
    "CamResult", "grad_cam", "grad_cam_grid", "load_image", "preprocess",
    "CheckpointReport", "load_checkpoint", "save_checkpoint", "load_saved",
    "CLASSES", "ShapesDataset", "TrainResult", "train", "evaluate",
]

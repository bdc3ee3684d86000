"""ResNet Explorer's pure-Python core (no streamlit): specs, models and analyses.

    from explorer import NetSpec, PRESETS, build, stage_table, estimate
"""

from explorer.io.checkpoints import CheckpointReport, load_checkpoint, load_saved, save_checkpoint
from explorer.training.shapes import CLASSES, ShapesDataset
from explorer.analysis.flow_result import GradientFlow
from explorer.analysis.gradcam import CamResult, grad_cam, grad_cam_grid
from explorer.analysis.gradflow import gradient_flow
from explorer.io.images import load_image, preprocess
from explorer.nets.model import ResNet, build
from explorer.nets.spec import PRESETS, NetSpec, preset
from explorer.analysis.sweep import depth_sweep
from explorer.analysis.tables import Estimate, StageRow, StageTable, estimate, layer_summary, stage_table
from explorer.training.train import TrainResult, evaluate, train

__all__ = [
    "NetSpec", "PRESETS", "preset", "ResNet", "build",
    "StageTable", "StageRow", "Estimate", "stage_table", "estimate", "layer_summary",
    "GradientFlow", "gradient_flow", "depth_sweep",
    "CamResult", "grad_cam", "grad_cam_grid", "load_image", "preprocess",
    "CheckpointReport", "load_checkpoint", "save_checkpoint", "load_saved",
    "CLASSES", "ShapesDataset", "TrainResult", "train", "evaluate",
]

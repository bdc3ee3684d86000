"""ResNet Explorer's pure-Python core (no streamlit): specs, models and analyses."""
from .spec import NetSpec, PRESETS, preset
from .model import ResNet, build
from .tables import Estimate, StageRow, StageTable, estimate, layer_summary, stage_table
from .gradflow import gradient_flow
from .flow_result import GradientFlow
from .sweep import depth_sweep

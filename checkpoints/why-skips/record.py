"""Record how strongly each shipped pair shows each "why skips work" effect.

    python checkpoints/why-skips/record.py        # about 10 min on a quiet 2-core CPU

For every shipped residual checkpoint with a shipped plain twin, runs the page's three analyses
on the first held-out shapes (seed 0) and writes `summary.json` beside this file: the numbers the
page's sentences are built from (median single-deletion drop, sharpness at ±0.25, 95%-mass ERF
side at layer2). The Why skips work page reads it to say which pair shows each effect best.
"""

from __future__ import annotations

import json
import statistics
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))  # the repository root, for a plain `python` run

from explorer.analysis.landscape import loss_landscape  # noqa: E402
from explorer.analysis.lesion import lesion_study  # noqa: E402
from explorer.analysis.receptive_field import effective_receptive_field  # noqa: E402
from explorer.data.heldout import heldout_for  # noqa: E402
from explorer.io.weights import load_shipped, shipped_pair_names, twin_of  # noqa: E402

SETTINGS = {"lesion_images": 500, "lesion_draws": 2, "landscape_images": 128,
            "landscape_steps": 21, "landscape_dims": 1, "erf_images": 64, "erf_layer": "layer2",
            "seed": 0}


def measure(name: str) -> dict:
    nets = {"residual": load_shipped(name)[0], "plain": load_shipped(twin_of(name))[0]}
    spec = nets["residual"].spec
    lesion_data = heldout_for(spec, SETTINGS["lesion_images"])
    landscape_data = heldout_for(spec, SETTINGS["landscape_images"])
    erf_data = heldout_for(spec, SETTINGS["erf_images"])
    found = {}
    for variant, model in nets.items():
        lesion = lesion_study(model, lesion_data, draws=SETTINGS["lesion_draws"])
        landscape = loss_landscape(model, landscape_data, steps=SETTINGS["landscape_steps"],
                                   dims=SETTINGS["landscape_dims"], seed=SETTINGS["seed"])
        erf = effective_receptive_field(model, erf_data, SETTINGS["erf_layer"])
        found[variant] = {
            "baseline": lesion.baseline,
            "median_single_drop": statistics.median(lesion.single_drops.values()),
            "sharpness": landscape.sharpness, "center_loss": landscape.center_loss,
            "erf_side": erf.mass_side(),
        }
        print(name, variant, found[variant], flush=True)
    return found


def main() -> None:
    pairs = {name: measure(name) for name in shipped_pair_names()}
    out = {"settings": SETTINGS, "chance": 1 / 8, "pairs": pairs,
           "command": "python checkpoints/why-skips/record.py"}
    (HERE / "summary.json").write_text(json.dumps(out, indent=2) + "\n")


if __name__ == "__main__":
    main()

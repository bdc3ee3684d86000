"""``python -m explorer sanity|localize --checkpoint FOLDER [--json]``: can you trust the map?

``sanity`` runs Adebayo et al. 2018's cascading model randomisation on the CAM family's maps;
``localize`` scores the maps against the objects' masks (pointing game, energy inside the mask).
Both use the first images of the synthetic shapes test split, seed 0, and explain the true class.
"""

from __future__ import annotations

import argparse
import json

from explorer.analysis.cam_methods import SCORE_CAM_BATCH
from explorer.cli.analyses import _common, _run



def methods_list(text: str) -> tuple[str, ...]:
    from explorer.analysis.cam_methods import CAM_METHODS  # plain data: no torch

    chosen = tuple(m.strip() for m in text.split(",") if m.strip())
    unknown = [m for m in chosen if m not in CAM_METHODS]
    if unknown or not chosen:
        raise argparse.ArgumentTypeError(
            f"choose methods from {', '.join(CAM_METHODS)}, got {text!r}")
    return chosen


def add_parsers(commands: argparse._SubParsersAction) -> None:
    """Register ``sanity`` and ``localize``."""
    sanity = commands.add_parser("sanity", help="do the maps change when the weights are "
                                                "randomised, top layer first?")
    _common(sanity, images=8)
    sanity.add_argument("--layer", help="where the maps are taken (default: the last stage)")
    sanity.add_argument("--methods", type=methods_list,
                        default="gradcam,gradcam++,layercam,scorecam")
    sanity.add_argument("--seed", type=int,
                        help="seeds the random weights (default: the training's seed + 1, from "
                             "the folder's metrics.json: the training's own seed would put back "
                             "the very weights training started from)")
    sanity.set_defaults(run=run_sanity)

    localize = commands.add_parser("localize", help="do the maps point at the object?")
    _common(localize, images=64)
    localize.add_argument("--methods", type=methods_list,
                          default="gradcam,gradcam++,layercam,scorecam")
    localize.set_defaults(run=run_localize)


class _Printed:
    """What `_run` prints: ``to_dict`` for ``--json``, the text otherwise."""

    def __init__(self, data: dict, text: str) -> None:
        self.data, self.text = data, text

    def to_dict(self) -> dict:
        return self.data


def run_sanity(args: argparse.Namespace) -> int:
    from explorer.analysis.sanity import sanity_cascade, sanity_json

    def analyse(model, data) -> _Printed:
        images, labels = data
        layer = args.layer or model.stage_names[-1]
        seed = cascade_seed(args)
        curves = sanity_cascade(model, images, labels, layer, _methods(args), seed=seed)
        lines = [f"{c.method} at {c.layer}: " + ", ".join(
            f"{s.randomized or 'trained'} {s.spearman:.2f}/{s.ssim:.2f}" for s in c.steps)
            for c in curves]
        return _Printed({**sanity_json(curves), "seed": seed},
                        f"Spearman / SSIM with the trained model's maps, randomising top-down "
                        f"(random weights from seed {seed}):\n" + "\n".join(lines))

    return _run(args, SCORE_CAM_BATCH, True, analyse, lambda result, spec: result.text)


def run_localize(args: argparse.Namespace) -> int:
    from explorer.analysis.localize import localization_scores
    from explorer.data.heldout import heldout_masks

    def analyse(model, data) -> _Printed:
        images, labels = data
        found = localization_scores(model, images, labels,
                                    heldout_masks(model.spec, len(images)), _methods(args))
        lines = [f"  {s.method} {s.layer}: pointing {s.pointing:.1%}, energy {s.energy:.1%}"
                 for s in found.scores]
        return _Printed(found.as_json(), f"chance (mean object area) {found.chance:.1%}\n"
                        + "\n".join(lines))

    return _run(args, SCORE_CAM_BATCH, True, analyse, lambda result, spec: result.text)


def cascade_seed(args: argparse.Namespace) -> int:
    """``--seed``, else one past the seed the checkpoint was trained from (0 where unrecorded)."""
    from pathlib import Path

    if args.seed is not None:
        return args.seed
    try:
        trained = json.loads((Path(args.checkpoint) / "metrics.json").read_text()).get("seed")
    except (OSError, ValueError, AttributeError):
        trained = None
    return (trained if isinstance(trained, int) and not isinstance(trained, bool) else 0) + 1


def _methods(args: argparse.Namespace) -> tuple[str, ...]:
    methods = args.methods
    return methods_list(methods) if isinstance(methods, str) else methods

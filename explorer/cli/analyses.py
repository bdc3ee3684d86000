"""``python -m explorer lesion|landscape|erf --checkpoint FOLDER [--json]``: why skips work.

Each runs one analysis on a saved checkpoint (``save_checkpoint``'s folder, e.g.
``checkpoints/resnet20``) over the first images of the synthetic shapes test split, seed 0.
``--json`` prints exactly the shapes documented on each analysis's ``to_dict``. Nothing here
imports torch until a command runs, so ``--help`` answers at once.
"""

from __future__ import annotations

import argparse
import json
import sys

from explorer.devices import DEVICE_CHOICES


def add_parsers(commands: argparse._SubParsersAction) -> None:
    """Register ``lesion``, ``landscape`` and ``erf``."""
    lesion = commands.add_parser("lesion", help="delete blocks one at a time and k at random")
    _common(lesion, images=1000)
    lesion.add_argument("--draws", type=int, default=5, help="random subsets per k")
    lesion.add_argument("--seed", type=int, default=0, help="seeds the random subsets")
    lesion.add_argument("--no-random", action="store_true", help="single deletions only")
    lesion.set_defaults(run=run_lesion)

    landscape = commands.add_parser("landscape", help="loss over a random slice of weights")
    _common(landscape, images=256)
    landscape.add_argument("--steps", type=int, default=21, help="grid points per axis")
    landscape.add_argument("--dims", type=int, choices=(1, 2), default=2)
    landscape.add_argument("--span", type=float, default=1.0, help="grid covers [-span, span]")
    landscape.add_argument("--seed", type=int, default=0, help="seeds the two directions")
    landscape.set_defaults(run=run_landscape)

    erf = commands.add_parser("erf", help="effective receptive field of a layer's centre unit")
    _common(erf, images=64)
    erf.add_argument("--layer", required=True, help="stem, a stage (layer2) or a block (layer2.1)")
    erf.set_defaults(run=run_erf)


def _common(parser: argparse.ArgumentParser, images: int) -> None:
    parser.add_argument("--checkpoint", required=True, help="folder with model.safetensors and "
                                                            "spec.json")
    parser.add_argument("--images", type=int, default=images,
                        help=f"first N images of the shapes test split (default {images})")
    parser.add_argument("--device", default="auto", choices=DEVICE_CHOICES)
    parser.add_argument("--json", action="store_true", help="print machine-readable JSON")


def _setup(args: argparse.Namespace, batch: int, training: bool):
    """Load the checkpoint and the data after checking they fit; ``ValueError`` otherwise."""
    from pathlib import Path

    from explorer.budget import check_fits
    from explorer.data.heldout import heldout_for
    from explorer.devices import resolve_device
    from explorer.io.checkpoints import SPEC_FILE, load_saved
    from explorer.nets.spec import NetSpec

    if args.images < 1:
        raise ValueError(f"--images must be at least 1, got {args.images}.")
    folder = Path(args.checkpoint)
    if not (folder / SPEC_FILE).is_file():
        raise ValueError(f"{folder} is not a checkpoint folder (it has no {SPEC_FILE}).")
    spec = NetSpec.from_json((folder / SPEC_FILE).read_text())
    if spec.in_channels != 3:
        raise ValueError("These analyses use the synthetic shapes (RGB) test split; this "
                         f"network takes {spec.in_channels} input channel(s).")
    device = resolve_device(args.device)
    check_fits(spec, min(batch, args.images), device, training=training)
    model, spec = load_saved(folder, device=device)
    return model, spec, device, heldout_for(spec, args.images)


def _run(args: argparse.Namespace, batch: int, training: bool, analyse, describe) -> int:
    from explorer.slots import gate

    try:
        model, spec, device, data = _setup(args, batch, training)
        with gate(device):
            result = analyse(model, data)
    except (ValueError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(result.to_dict()))
    else:
        print(describe(result, spec))
    return 0


def run_lesion(args: argparse.Namespace) -> int:
    from explorer.analysis.lesion import lesion_study
    from explorer.data.heldout import EVAL_BATCH
    from explorer.analysis.why_report import lesion_sentences

    def describe(result, spec) -> str:
        lines = [f"baseline {result.baseline:.1%}, chance {result.chance:.1%}"]
        lines += [f"  {b.block}: " + (f"{b.accuracy:.1%}" if b.deletable else "cannot be deleted")
                  for b in result.blocks]
        lines += [f"  k={r.k}: mean {r.mean:.1%} (min {r.min:.1%}, max {r.max:.1%})"
                  for r in result.random]
        return "\n".join(lines + lesion_sentences(result, None))

    return _run(args, EVAL_BATCH, False, lambda model, data: lesion_study(
        model, data, draws=args.draws, seed=args.seed, random_k=not args.no_random), describe)


def run_landscape(args: argparse.Namespace) -> int:
    from explorer.analysis.landscape import loss_landscape
    from explorer.data.heldout import EVAL_BATCH

    def describe(result, spec) -> str:
        rises = ", ".join(f"{a:+.3g}/{b:+.3g}" for a, b in result.rises)
        return (f"centre loss {result.center_loss:.4g}; loss rise at ±{result.radius:g} along "
                f"each direction: {rises} (mean {result.sharpness:.3g})")

    return _run(args, EVAL_BATCH, False, lambda model, data: loss_landscape(
        model, data, steps=args.steps, span=args.span, dims=args.dims, seed=args.seed),
        describe)


def run_erf(args: argparse.Namespace) -> int:
    from explorer.analysis.receptive_field import ERF_BATCH, effective_receptive_field

    def describe(result, spec) -> str:
        return (f"{result.layer}: theoretical receptive field {result.theoretical} px (stride "
                f"{result.stride}); 95% of the ERF's mass within a {result.mass_side()} px "
                f"square around pixel {result.centre}")

    return _run(args, ERF_BATCH, True, lambda model, data: effective_receptive_field(
        model, data, args.layer), describe)

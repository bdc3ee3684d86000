"""``python -m explorer gradflow``: He et al. 2016's skip designs and orders side by side at init.

    python -m explorer gradflow --preset resnet110 --json
    python -m explorer gradflow --preset resnet110 --designs identity,scaled --orders post,pre

``--json`` prints `DesignComparison.to_dict`: ``{"variants": [{"variant": "skip_design=scaled",
"loss": ..., "blocks": [{"block": "layer1.0", "grad_norm": ..., "response_std": ...}, ...]},
...], "spec": ..., "seed": ..., "batch_size": ...}``. Nothing here imports torch until it runs.
"""

from __future__ import annotations

import argparse
import json
import sys

from explorer.devices import DEVICE_CHOICES

DESIGNS = ("identity", "scaled", "exclusive_gate", "shortcut_gate", "conv", "dropout")


def _names(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.split(",") if part.strip())


def add_parsers(commands: argparse._SubParsersAction) -> None:
    p = commands.add_parser("gradflow", help="compare skip designs / activation orders at init")
    p.add_argument("--preset", default="resnet110", help="the network (default resnet110)")
    p.add_argument("--spec", help="a spec JSON file instead of a preset (spec.json of a run)")
    p.add_argument("--designs", type=_names, default=None,
                   help=f"comma-separated skip designs (default: all of {','.join(DESIGNS)}, "
                        "or none when --orders is given)")
    p.add_argument("--orders", type=_names, default=(),
                   help="comma-separated activation orders, e.g. post,bn_after_add,pre")
    p.add_argument("--skip-scale", type=float, help="the scaled design's shortcut factor "
                                                     "(default 0.5)")
    p.add_argument("--gate-bias", type=float, help="the gates' initial bias (default -6)")
    p.add_argument("--seed", type=int, default=0, help="weights and the random batch")
    p.add_argument("--batch-size", type=int, default=8)
    p.add_argument("--loss", default="cross_entropy", choices=("cross_entropy", "mse"))
    p.add_argument("--device", default="auto", choices=DEVICE_CHOICES)
    p.add_argument("--json", action="store_true", help="print machine-readable JSON")
    p.set_defaults(run=run)


def base_spec(args: argparse.Namespace):
    """The preset, or the ``--spec`` file."""
    from pathlib import Path

    from explorer.nets.presets import preset
    from explorer.nets.spec import NetSpec

    return NetSpec.from_json(Path(args.spec).read_text()) if args.spec else preset(args.preset)


def run(args: argparse.Namespace) -> int:
    from explorer.analysis.designs import compare_designs, variants_of
    from explorer.analysis.designs_report import design_sentences, name
    from explorer.budget import check_fits
    from explorer.devices import resolve_device
    from explorer.slots import gate

    designs = args.designs if args.designs is not None else (() if args.orders else DESIGNS)
    try:
        spec = base_spec(args)
        device = resolve_device(args.device)
        numbers = dict(skip_scale=args.skip_scale, gate_bias=args.gate_bias)
        for _, variant in variants_of(spec, designs, args.orders, **numbers):
            check_fits(variant, args.batch_size, device)
        with gate(device):
            result = compare_designs(spec, designs=designs, orders=args.orders, seed=args.seed,
                                     batch_size=args.batch_size, device=device, loss=args.loss,
                                     **numbers)
    except (ValueError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(result.to_dict()))
        return 0
    for variant in result.variants:
        reference = result.reference_for(variant)
        first = variant.first
        ratio = first.grad_norm / reference.first.grad_norm
        print(f"{variant.variant:28s} loss {variant.loss:.3f}  ‖∂L/∂{first.block}‖ "
              f"{first.grad_norm:.3e}  ({ratio:.3g} × {reference.variant})  {name(variant)}")
    print()
    print("\n".join(design_sentences(result)))
    return 0

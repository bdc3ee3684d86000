"""Record He et al. 2016's Tables 1-2 on shapes: ResNet-56 trained once per skip design and order.

    python checkpoints/skip-designs/record.py --workers 2     # about 15 min a variant per core
    python checkpoints/skip-designs/record.py --assemble      # only rewrite history.json

Every variant is one `python -m explorer train` run of the same recipe (`RECIPE`: the CIFAR
ResNet-56, the shapes set at 32 px, seed 0, so identical batches, and identical initial weights
wherever two designs share a parameter name), written to `<variant>/` beside this file. Variants whose
`metrics.json` exists are skipped, so an interrupted study resumes where it stopped. Designs come
first (the paper's Table 1), then the orders (Table 2). At the end, `history.json` collects every
variant's command, epochs, step losses, final training loss and test accuracy.
"""

from __future__ import annotations

import argparse
import json
import shlex
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
# 48,000 images: the identity design trained to 88.6 % on 32,000 (and to 78.5 % on 64,000 at
# 16 px), and ten runs must fit one session on two shared cores
RECIPE = ("--preset resnet56 --dataset shapes --train-size 12000 --epochs 4 --batch-size 32 "
          "--lr 0.02 --warmup-epochs 0.5 --seed 0 --no-twin --threads 1")
DESIGNS = ("identity", "scaled", "exclusive_gate", "shortcut_gate", "conv", "dropout")
ORDERS = ("bn_after_add", "relu_before_add", "relu_preact", "pre")  # "post" is the identity run
VARIANTS = {**{d: f"--skip-design {d}" for d in DESIGNS},
            **{f"order-{o}": f"--order {o}" for o in ORDERS}}


def command(variant: str) -> list[str]:
    out = (HERE / variant).relative_to(ROOT)
    return [sys.executable, "-m", "explorer", "train", *shlex.split(RECIPE),
            *shlex.split(VARIANTS[variant]), "--out", str(out)]


def train(variant: str) -> None:
    if (HERE / variant / "metrics.json").exists():
        return
    with open(HERE / f"{variant}.log", "w") as log:
        subprocess.run(command(variant), cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                       check=True)


def assemble() -> dict:
    runs = {}
    for variant in VARIANTS:
        folder = HERE / variant
        if not (folder / "metrics.json").exists():
            continue
        metrics = json.loads((folder / "metrics.json").read_text())
        history = json.loads((folder / "history.json").read_text())
        runs[variant] = {"change": VARIANTS[variant], "command": metrics["command"],
                         "final_train_loss": metrics["final_train_loss"],
                         "test_accuracy": metrics["test_accuracy"],
                         "seconds": metrics["train_seconds"], "history": history}
    study = {"title": "He et al. 2016 Tables 1-2 on synthetic shapes (ResNet-56)",
             "recipe": RECIPE, "variants": runs}
    (HERE / "history.json").write_text(json.dumps(study))
    return study


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--assemble", action="store_true")
    parser.add_argument("--only", help="comma-separated variants (default: all, in order)")
    args = parser.parse_args()
    if not args.assemble:
        chosen = args.only.split(",") if args.only else list(VARIANTS)
        with ThreadPoolExecutor(args.workers) as pool:
            for variant in chosen:  # a failed run shows in its log; the others go on
                pool.submit(train, variant)
    study = assemble()
    for variant, run in study["variants"].items():
        print(f"{variant:24s} loss {run['final_train_loss']:.4f}  test {run['test_accuracy']:.2%}")


if __name__ == "__main__":
    main()

"""The CAM family's cost: Grad-CAM++ and Layer-CAM against Grad-CAM, and a sanity cascade
against the Grad-CAM passes it is made of.

From the repository root:

    OMP_NUM_THREADS=2 python -m bench.bench_cams                 # resnet56, 32 px, 8 images
    python -m bench.bench_cams --preset resnet50 --image-size 224 --images 4 --layer layer4
    python -m bench.bench_cams --quick      # resnet20, 2 images, 2 rounds: a check, not a figure

Goals (issue 22): Grad-CAM++ and Layer-CAM ≤ 1.1× Grad-CAM on the same model, layer and batch;
a Grad-CAM sanity cascade ≤ 1.2× (steps × one Grad-CAM pass over the images). Medians of
interleaved rounds in one process; quote the ratios.
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

from explorer import build, preset
from explorer.analysis.gradcam import cam_batch
from explorer.analysis.sanity import cascade_order, sanity_cascade


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="resnet56")
    parser.add_argument("--image-size", type=int, default=32)
    parser.add_argument("--images", type=int, default=8)
    parser.add_argument("--layer", default="layer3")
    parser.add_argument("--repeats", type=int, default=7, help="timed rounds; medians reported")
    parser.add_argument("--quick", action="store_true", help="resnet20, 2 images, 2 rounds")
    args = parser.parse_args()
    if args.quick:
        args.preset, args.images, args.repeats = "resnet20", 2, 2

    spec = preset(args.preset).replace(image_size=args.image_size)
    model = build(spec, seed=0).eval()
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(args.images, spec.in_channels, spec.image_size, spec.image_size, generator=gen)
    y = torch.randint(0, spec.num_classes, (args.images,), generator=gen)
    steps = len(cascade_order(model)) + 1

    runs = {method: (lambda method=method: cam_batch(model, x, args.layer, y, method))
            for method in ("gradcam", "gradcam++", "layercam")}
    runs["sanity cascade (gradcam)"] = lambda: sanity_cascade(model, x, y, args.layer,
                                                              ("gradcam",))
    for fn in runs.values():  # warm-up: allocator, kernels, lazy imports
        fn()
    times: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(args.repeats):  # interleaved, so that load changes hit every run alike
        for name, fn in runs.items():
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)
    median = {name: statistics.median(t) for name, t in times.items()}

    print(f"{args.preset} @ {spec.image_size}px, {args.images} images, layer {args.layer}, cpu, "
          f"{torch.get_num_threads()} threads, median of {args.repeats}")
    base = median["gradcam"]
    for name, seconds in median.items():
        print(f"  {name:26s} {seconds * 1e3:10.1f} ms")
    for method in ("gradcam++", "layercam"):
        ratio = median[method] / base
        print(f"goal {method} ≤ 1.1× gradcam: {ratio:.2f}× ({'met' if ratio <= 1.1 else 'NOT met'})")
    ratio = median["sanity cascade (gradcam)"] / (steps * base)
    print(f"goal cascade ≤ 1.2× {steps} steps × one gradcam pass: {ratio:.2f}× "
          f"({'met' if ratio <= 1.2 else 'NOT met'})")


if __name__ == "__main__":
    main()

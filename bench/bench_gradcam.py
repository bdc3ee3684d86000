"""grad_cam vs a grad-enabled forward and vs pytorch-grad-cam's GradCAM, same model/input/layer.

From the repository root:

    OMP_NUM_THREADS=2 python -m bench.bench_gradcam                 # resnet50, 224 px, CPU
    python -m bench.bench_gradcam --device cuda --repeats 20
    python -m bench.bench_gradcam --quick      # resnet20, 32 px, 2 rounds: a check, not a figure

The goal is grad_cam ≤ 1.2× one grad-enabled forward of the same model. pytorch-grad-cam
(in requirements-dev.txt) runs a full ``loss.backward()`` into every parameter,
so it is run on its own copy of the model. All timings are medians of interleaved rounds in one
process; the ratios are what to quote.
"""

from __future__ import annotations

import argparse
import copy
import statistics
import time

import torch
import torch.nn.functional as F

from explorer import build, grad_cam, preset


def sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def timed(fn, device: str) -> float:
    sync(device)
    start = time.perf_counter()
    fn()
    sync(device)
    return time.perf_counter() - start


def pytorch_grad_cam_runner(model, layer: str, x: torch.Tensor, target: int):
    """``(cam, callable)`` running pytorch-grad-cam's GradCAM, or None when not installed."""
    try:
        from pytorch_grad_cam import GradCAM
        from pytorch_grad_cam.utils.model_targets import ClassifierOutputTarget
    except ImportError:
        return None
    theirs = copy.deepcopy(model)  # it calls .eval() and leaves .grad on every parameter
    cam = GradCAM(model=theirs, target_layers=[theirs.get_submodule(layer)])
    targets = [ClassifierOutputTarget(target)]
    return cam, lambda: cam(input_tensor=x, targets=targets)


def same_normalisation(raw: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """Our raw map scaled as pytorch-grad-cam does (ReLU, resize, min-max at full size)."""
    cam = F.interpolate(raw.clamp_min(0)[None, None], size=size, mode="bilinear",
                        align_corners=False)[0, 0]
    return (cam - cam.min()) / (cam.max() - cam.min() + 1e-7)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="resnet50")
    parser.add_argument("--image-size", type=int, default=224)
    parser.add_argument("--layer", default="layer4")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--repeats", type=int, default=15, help="timed rounds; medians reported")
    parser.add_argument("--quick", action="store_true",
                        help="a check that the benchmark runs: resnet20 at 32 px, layer3, 2 rounds")
    args = parser.parse_args()
    if args.quick:
        args.preset, args.image_size, args.layer, args.repeats = "resnet20", 32, "layer3", 2

    spec = preset(args.preset).replace(image_size=args.image_size)
    model = build(spec, seed=0, device=args.device).eval()
    x = torch.randn(1, spec.in_channels, spec.image_size, spec.image_size,
                    generator=torch.Generator().manual_seed(0)).to(args.device)

    def forward_with_grad():
        with torch.enable_grad():
            model(x)

    def forward_no_grad():
        with torch.no_grad():
            model(x)

    ours = grad_cam(model, x, args.layer)
    runs = {
        "grad_cam (ours)": lambda: grad_cam(model, x, args.layer),
        "forward, grad enabled": forward_with_grad,
        "forward, no_grad": forward_no_grad,
    }
    runner = pytorch_grad_cam_runner(model, args.layer, x, ours.target)
    if runner is not None:
        cam, runs["pytorch-grad-cam GradCAM"] = runner
        their_map = torch.from_numpy(runs["pytorch-grad-cam GradCAM"]()[0])
        agreement = (their_map - same_normalisation(ours.raw.cpu(), their_map.shape)).abs().max()

    for fn in runs.values():  # warm-up: allocator, kernels, lazy imports
        fn()
    times: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(args.repeats):  # interleaved, so drift in a shared machine hits all alike
        for name, fn in runs.items():
            times[name].append(timed(fn, args.device))
    median = {name: statistics.median(t) for name, t in times.items()}

    device = torch.cuda.get_device_name() if args.device.startswith("cuda") else (
        f"cpu, {torch.get_num_threads()} threads")
    print(f"{args.preset} @ {spec.image_size}px, batch 1, layer {args.layer}, {device}, "
          f"median of {args.repeats}")
    base = median["forward, grad enabled"]
    for name, seconds in median.items():
        print(f"  {name:28s} {seconds * 1e3:9.2f} ms  {seconds / base:5.2f}× grad-enabled forward")
    if runner is None:
        print("  pytorch-grad-cam is not installed (pip install -r requirements-dev.txt -c constraints.txt)")
    else:
        ratio = median["grad_cam (ours)"] / median["pytorch-grad-cam GradCAM"]
        print(f"  grad_cam / pytorch-grad-cam: {ratio:.2f}×; maps differ by at most "
              f"{float(agreement):.1e} once scaled alike (it min-max scales; we divide by the max)")
        cam.activations_and_grads.release()  # its __del__ fails at interpreter exit otherwise
    goal = median["grad_cam (ours)"] / base
    print(f"goal grad_cam ≤ 1.2× grad-enabled forward: {goal:.2f}× "
          f"({'met' if goal <= 1.2 else 'NOT met'})")


if __name__ == "__main__":
    main()

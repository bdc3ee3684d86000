"""Every CUDA path of the app in one run, as a table: run it whenever a GPU is at hand.

Run from the repository root: ``python -m bench.gpu_check``. Without a CUDA device it prints
"no CUDA device" and exits 0 (CI never depends on it); ``--cpu`` runs the same checks on the CPU
(smaller sizes; the CUDA-only rows are skipped), to try the script itself on a machine without one.
``--quick`` runs them at the smaller sizes on the GPU too (a check that the script runs).

Rows:
  build + stage table     build(spec, device=cuda) has the CPU build's weights bit for bit, and a
                          real forward on the device gives the stage table's shapes and params
  gradient flow           gradient_flow on the device agrees with the CPU (conv1 gradient norms)
  Grad-CAM                grad_cam on the device agrees with the CPU and leaves the model as it was
  train AMP+channels_last train() a few dozen steps on ShapesDataset: finite loss, channels_last
                          weights, autocast dtype, images/s
  simulated OOM (page)    a forward raising torch.OutOfMemoryError, through the pages' guard
  simulated OOM (job)     the same inside a background TrainingJob: job.error, GPU slot released
  real OOM                allocate 1 GiB blocks until the allocator fails, through the guard;
                          then the memory is back and the device still works
  budget vs measured      estimate(spec, batch).peak_bytes against torch.cuda.max_memory_allocated
                          for one float32 forward+backward, and for one train() step (AMP, SGD)
  budget refuses          check_fits refuses a batch that cannot fit, before allocating

Exit status 1 when a row fails.
"""

from __future__ import annotations

import argparse
import dataclasses
import inspect
import sys
import time
import traceback

import torch
import torch.nn.functional as F

from explorer import PRESETS, build, estimate, stage_table

GiB = 2**30


class Skip(Exception):
    """A row that does not apply here (e.g. CUDA-only on the CPU)."""


# --------------------------------------------------------------------------------------------
# helpers that follow the explorer API defensively (it moves while features land)

def train_config(**wanted):
    """A TrainConfig with those of ``wanted``'s fields that the current TrainConfig has."""
    from explorer.training.config import TrainConfig

    names = {f.name for f in dataclasses.fields(TrainConfig)}
    return TrainConfig(**{k: v for k, v in wanted.items() if k in names})


def call_train(spec, dataset, config, device, val_dataset=None):
    from explorer.training.train import train

    params = inspect.signature(train).parameters
    kwargs = {"device": device}
    if "val_dataset" in params:
        kwargs["val_dataset"] = val_dataset
    return train(spec, dataset, config, **kwargs)


def shapes(n: int, size: int, split: str = "train"):
    from explorer import ShapesDataset

    return ShapesDataset(n, image_size=size, seed=0, split=split)


def guard_module():
    """The pages' error guard (imports streamlit); its st.error calls are captured."""
    from pages.widgets import guard

    return guard


class captured_errors:
    """Record what ``st.error`` would show, outside a Streamlit run."""

    def __enter__(self):
        import streamlit as st

        self.st, self.messages, self.original = st, [], st.error
        st.error = lambda body, *a, **k: self.messages.append(str(body))
        return self

    def __exit__(self, *exc):
        self.st.error = self.original


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def stage_outputs(model, x) -> dict[str, tuple[int, ...]]:
    """Output shape of every stage (``layerN``) in a real forward pass."""
    seen, hooks = {}, []
    for name, module in model.named_children():
        if name.startswith("layer"):
            hooks.append(module.register_forward_hook(
                lambda m, i, o, name=name: seen.__setitem__(name, tuple(o.shape))))
    try:
        with torch.no_grad():
            model(x)
    finally:
        for h in hooks:
            h.remove()
    return seen


# --------------------------------------------------------------------------------------------
# the checks: each returns one line of detail, raises Skip, or raises on failure

def check_build(device, small):
    spec = PRESETS["resnet20" if small else "resnet50"]
    batch = 2
    model = build(spec, seed=0, device=device)
    reference = build(spec, seed=0, device="cpu").state_dict()
    different = [k for k, v in model.state_dict().items() if not torch.equal(v.cpu(), reference[k])]
    assert not different, f"weights differ from the CPU build: {different[:3]}"
    table = stage_table(spec, batch)
    x = torch.randn(batch, spec.in_channels, spec.image_size, spec.image_size, device=device)
    got = stage_outputs(model.eval(), x)
    for row in table.rows:
        if row.name in got:
            assert got[row.name] == tuple(row.output_shape), (row.name, got[row.name], row.output_shape)
    params = sum(p.numel() for p in model.parameters())
    assert params == table.total_params, (params, table.total_params)
    name = "resnet20" if small else "resnet50"
    return f"{name}: weights = CPU build, {len(got)} stage shapes and {params:,} params = table"


def check_gradient_flow(device, small):
    from explorer.analysis.gradflow import gradient_flow

    spec = PRESETS["resnet20" if small else "resnet32"]
    batch = 8 if small else 32
    on_device = gradient_flow(spec, seed=0, batch_size=batch, device=device)
    on_cpu = gradient_flow(spec, seed=0, batch_size=batch, device="cpu")
    parts = []
    for variant in ("residual", "plain"):
        a = getattr(on_device, variant).conv1_grad_norm
        b = getattr(on_cpu, variant).conv1_grad_norm
        rel = abs(a - b) / max(abs(b), 1e-30)
        # TF32 convolutions on the GPU round differently; a wrong path is off by far more
        assert rel < 0.1, f"{variant} conv1 gradient {a:.4g} on {device} vs {b:.4g} on cpu"
        parts.append(f"{variant} ‖∂L/∂conv1‖ {a:.3g} (cpu {b:.3g})")
    return "; ".join(parts)


def check_grad_cam(device, small):
    from explorer.analysis.gradcam import grad_cam

    spec = PRESETS["resnet20"]
    model = build(spec, seed=0, device=device).eval()
    model.layer1.train()  # mixed modes: must come back exactly as handed in
    modes = {n: m.training for n, m in model.named_modules()}
    x = torch.randn(1, 3, spec.image_size, spec.image_size, generator=torch.Generator().manual_seed(0))
    result = grad_cam(model, x.to(device), layer="layer3")
    assert {n: m.training for n, m in model.named_modules()} == modes, "modes changed"
    assert all(p.grad is None for p in model.parameters()), "gradients left behind"
    cpu_model = build(spec, seed=0, device="cpu").eval()
    cpu_model.layer1.train()
    expected = grad_cam(cpu_model, x, layer="layer3", target=result.target)
    diff = (result.heatmap.cpu() - expected.heatmap).abs().max().item()
    assert diff < 5e-2, f"heatmap differs from the CPU by {diff:.3g}"
    return f"layer3, class {result.target}: heatmap max |Δ| vs cpu {diff:.1e}; model left as it was"


def check_training(device, small):
    spec = PRESETS["resnet20"]
    batch = 16 if small else 128
    steps = 6 if small else 40
    config = train_config(train_size=batch * steps, val_size=256, epochs=1, batch_size=batch,
                          lr=0.05, seed=0, twin=True, device=device.type, amp=True)
    data, val = shapes(batch * steps, 32), shapes(64 if small else 256, 32, split="val")
    dtypes = []
    hook = None
    if device.type == "cuda":  # which dtype autocast really runs the convolutions in
        hook = torch.nn.modules.module.register_module_forward_hook(
            lambda m, i, o: dtypes.append(o.dtype) if isinstance(m, torch.nn.Conv2d) else None)
    try:
        start = time.perf_counter()
        result = call_train(spec, data, config, device, val_dataset=val)
        sync(device)
        seconds = time.perf_counter() - start
    finally:
        if hook is not None:
            hook.remove()
    parts = []
    for name, history in result.histories.items():
        losses = [s["loss"] for s in history.steps]
        assert losses and all(map(lambda v: v == v and abs(v) < 1e6, losses)), f"{name}: bad losses"
        parts.append(f"{name} loss {losses[0]:.2f}→{losses[-1]:.2f}")
        weight = result.models[name].conv1.weight
        if device.type == "cuda":
            assert weight.is_contiguous(memory_format=torch.channels_last), f"{name} not channels_last"
    if device.type == "cuda":
        autocast = sorted({str(d).replace("torch.", "") for d in dtypes})
        assert any(d in ("bfloat16", "float16") for d in autocast), f"no autocast: {autocast}"
        parts.append(f"convs in {'/'.join(autocast)}, channels_last")
    images = steps * batch * len(result.histories)
    parts.append(f"{steps} steps × {len(result.histories)} nets, {images / seconds:.0f} img/s")
    return ", ".join(parts)


class raising_forward:
    """Every ResNet forward raises torch's OutOfMemoryError while active."""

    def __enter__(self):
        from explorer.nets.model import ResNet

        self.cls, self.original = ResNet, ResNet.forward

        def forward(model, x):
            raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 20.00 GiB "
                                         "(simulated by bench/gpu_check.py)")

        ResNet.forward = forward
        return self

    def __exit__(self, *exc):
        self.cls.forward = self.original


def check_simulated_oom_page(device, small):
    from explorer.analysis.gradflow import gradient_flow

    guard = guard_module()
    with captured_errors() as shown, raising_forward():
        with guard.user_errors("Gradient flow"):
            gradient_flow(PRESETS["resnet20"], seed=0, batch_size=4, device=device)
    assert len(shown.messages) == 1 and "ran out of memory" in shown.messages[0], shown.messages
    # and the page works again afterwards
    gradient_flow(PRESETS["resnet20"], seed=0, batch_size=4, device=device)
    return f"page shows: {shown.messages[0][:60]}…"


def check_simulated_oom_job(device, small):
    from explorer import slots as slot_module
    from explorer.training.jobs import TrainingJob

    guard = guard_module()
    spec = PRESETS["resnet20"]
    config = train_config(train_size=64, val_size=16, epochs=1, batch_size=16, seed=0,
                          twin=False, device=device.type, amp=True)
    job = TrainingJob(runs={"resnet20": spec}, config=config,
                      make_data=lambda s: (shapes(64, 32), shapes(16, 32, split="val")),
                      device=str(device))
    with raising_forward():
        job.start()
        job.wait(timeout=300)
    assert not job.running, "the job did not end"
    assert job.error and guard.is_out_of_memory(job.error), f"job.error = {job.error!r}"
    slots = getattr(slot_module, "GPU_SLOTS", None)
    free = getattr(getattr(slot_module, "_gpu_gate", None), "_free", None)
    if slots is not None and free is not None:
        assert free == slots, f"{slots - free} GPU slot(s) still held after the failed job"
    return f"job.error = {job.error[:50]}…; GPU slots free {free}/{slots}"


def check_real_oom(device, small):
    if device.type != "cuda":
        raise Skip("CUDA only")
    guard = guard_module()
    torch.cuda.empty_cache()
    before = torch.cuda.memory_allocated(device)
    blocks = []
    total = torch.cuda.get_device_properties(device).total_memory
    with captured_errors() as shown:
        with guard.user_errors("Allocation"):
            for _ in range(total // GiB + 16):  # bounded: more than the device has
                blocks.append(torch.empty(GiB // 4, dtype=torch.float32, device=device))
            raise AssertionError("allocated more than the device has without an error")
    reached = len(blocks)
    blocks.clear()
    from explorer.devices import free_memory

    free_memory()
    after = torch.cuda.memory_allocated(device)
    assert len(shown.messages) == 1 and "ran out of memory" in shown.messages[0], shown.messages
    assert after <= before + 2**20, f"{(after - before) / GiB:.2f} GiB still allocated"
    probe = (torch.ones(1024, device=device) * 2).sum().item()
    assert probe == 2048
    return (f"failed after {reached} GiB of {total / GiB:.0f}; guard showed it; memory back to "
            f"{after / GiB:.2f} GiB; device works")


def measure_step(spec, batch, device, train_step: bool) -> int:
    """Peak bytes above the baseline for one fp32 forward+backward, or one train() step."""
    torch.cuda.empty_cache()
    torch.cuda.reset_peak_memory_stats(device)
    base = torch.cuda.memory_allocated(device)
    if train_step:
        config = train_config(train_size=batch, val_size=1, epochs=1, batch_size=batch, seed=0,
                              twin=False, device="cuda", amp=True)
        call_train(spec, shapes(batch, spec.image_size), config, device)
    else:
        model = build(spec, seed=0, device=device)
        x = torch.randn(batch, spec.in_channels, spec.image_size, spec.image_size, device=device)
        y = torch.randint(0, spec.num_classes, (batch,), device=device)
        F.cross_entropy(model(x), y).backward()
        sync(device)
        del model, x, y
    peak = torch.cuda.max_memory_allocated(device) - base
    torch.cuda.empty_cache()
    return peak


def check_budget(device, small):
    if device.type != "cuda":
        raise Skip("CUDA only (torch.cuda.max_memory_allocated)")
    cases = [("resnet20", 128), ("resnet56", 128), ("resnet18", 32), ("resnet50", 32)]
    parts, low = [], []
    for name, batch in cases:
        spec = PRESETS[name]
        est = estimate(spec, batch).peak_bytes
        fwd_bwd = measure_step(spec, batch, device, train_step=False)
        step = (measure_step(spec.replace(num_classes=8), batch, device, train_step=True)
                if spec.stem == "cifar" else None)
        parts.append(f"{name}×{batch}: est {est / GiB:.2f} GiB, fwd+bwd {fwd_bwd / GiB:.2f} "
                     f"({est / fwd_bwd:.2f}x)"
                     + (f", train step {step / GiB:.2f} ({est / step:.2f}x)" if step else ""))
        if est < fwd_bwd:
            low.append(name)
    assert not low, f"estimate below the measured fp32 peak for {low}: " + "; ".join(parts)
    return " | ".join(parts)


def check_budget_refuses(device, small):
    from explorer.budget import budget_bytes, check_fits

    spec = PRESETS["resnet50"]
    allowed = budget_bytes(device)
    batch = 1
    while estimate(spec, batch).peak_bytes <= allowed and batch < 2**20:
        batch *= 2
    before = torch.cuda.memory_allocated(device) if device.type == "cuda" else None
    try:
        check_fits(spec, batch, device)
    except ValueError as exc:
        message = str(exc)
    else:
        raise AssertionError(f"check_fits let batch {batch} through a budget of {allowed / GiB:.1f} GiB")
    if before is not None:
        assert torch.cuda.memory_allocated(device) == before, "allocated while checking"
    check_fits(spec, 1, device)  # and a batch that fits passes
    return f"resnet50 batch {batch}: “{message[:70]}…”"


CHECKS = [
    ("build + stage table", check_build),
    ("gradient flow", check_gradient_flow),
    ("Grad-CAM", check_grad_cam),
    ("train AMP+channels_last", check_training),
    ("simulated OOM (page)", check_simulated_oom_page),
    ("simulated OOM (job)", check_simulated_oom_job),
    ("real OOM", check_real_oom),
    ("budget vs measured", check_budget),
    ("budget refuses", check_budget_refuses),
]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cpu", action="store_true",
                        help="run the checks on the CPU (small sizes) to try the script itself")
    parser.add_argument("--quick", action="store_true",
                        help="the smaller sizes on the GPU too (without one: 'no CUDA device')")
    args = parser.parse_args(argv)
    if args.cpu:
        device, small = torch.device("cpu"), True
    elif torch.cuda.is_available():
        device, small = torch.device("cuda"), args.quick
    else:
        print("no CUDA device")
        return 0

    from explorer.devices import describe

    print(f"device: {describe(device)}; torch {torch.__version__}, CUDA {torch.version.cuda}, "
          f"cuDNN {torch.backends.cudnn.version() if device.type == 'cuda' else '-'}")
    rows, failed = [], 0
    for name, check in CHECKS:
        start = time.perf_counter()
        try:
            detail, status = check(device, small), "ok"
        except Skip as exc:
            detail, status = str(exc), "skip"
        except Exception as exc:  # noqa: BLE001  (one failing row must not hide the others)
            detail, status = f"{type(exc).__name__}: {exc}", "FAIL"
            failed += 1
            traceback.print_exc(file=sys.stderr)
        rows.append((name, status, time.perf_counter() - start, detail))
        print(f"  {name}: {status}", file=sys.stderr, flush=True)

    width = max(len(r[0]) for r in rows)
    print(f"\n{'check':<{width}}  status  seconds  detail")
    for name, status, seconds, detail in rows:
        print(f"{name:<{width}}  {status:<6}  {seconds:7.2f}  {detail}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

"""Depth sweeps: the first conv's gradient norm, with and without skips, as nets get deeper.

Depth counts weighted layers as the paper does (stem conv + branch convs + fc). ``cifar`` stem:
three stages of n blocks at widths 16/32/64, so depth is 6n+2 for basic (and d2l) blocks and 9n+2
for bottlenecks (the CIFAR ResNet-164 recipe). ``imagenet`` (or ``deep``) stem: four stages at
widths 64..512; depths 18/34 (basic) and 50/101/152 (bottleneck) use the presets' stage layouts,
and any other depth splits its blocks over the stages in ResNet-50's 3:4:6:3 proportion. The
block's ``order`` (post- or pre-activation) and ``attention`` (none or SE) carry over to every
depth; the first conv is ``conv1`` (the first of the deep stem's three).
"""

from __future__ import annotations

import math
from typing import Callable, Iterable, Sequence

import pandas as pd
import torch

from explorer.budget import check_fits
from explorer.analysis.flow_result import first_conv_weight
from explorer.analysis.gradflow import LossName, compute_loss, random_batch
from explorer.nets.model import ResNet, build
from explorer.nets.spec import Attention, Block, Norm, NetSpec, Order, Stem
from explorer.units import change, times

PRESET_LAYERS = {
    ("basic", 18): (2, 2, 2, 2),
    ("basic", 34): (3, 4, 6, 3),
    ("bottleneck", 50): (3, 4, 6, 3),
    ("bottleneck", 101): (3, 4, 23, 3),
    ("bottleneck", 152): (3, 8, 36, 3),
}
IMAGENET_PROPORTION = (3, 4, 6, 3)
BLOCK_WORDS = {"basic": "BasicBlock", "bottleneck": "Bottleneck", "d2l": "d2l Residual"}
SWEEP_COLUMNS = ["norm", "depth", "layers", "residual", "plain", "ratio"]


def valid_depths(block: Block, count: int = 5, stem: Stem = "cifar") -> tuple[int, ...]:
    """The first ``count`` depths a sweep of ``block`` nets accepts (e.g. 8, 14, 20, 32, 56)."""
    convs = 3 if block == "bottleneck" else 2
    if stem == "cifar":  # n = 1, 2, 3, 5, 9, 15, ...: roughly doubling depth
        ns = [1, 2, 3, 5, 9, 15, 25, 40, 64][:count]
        return tuple(3 * convs * n + 2 for n in ns)
    return tuple(convs * blocks + 2 for blocks in (4, 8, 16, 32, 64)[:count])


def check_depths(block: Block, depths: Sequence[int], stem: Stem = "cifar") -> None:
    """Raise one ``ValueError`` naming every depth a ``block`` sweep cannot build."""
    _check_stem(stem)
    bad = []
    for depth in depths:
        try:
            sweep_spec(block, depth, stem=stem)
        except ValueError:
            bad.append(depth)
    if bad:
        convs = 3 if block == "bottleneck" else 2
        form = f"{3 * convs}n+2" if stem == "cifar" else f"{convs}·blocks+2"
        valid = ", ".join(map(str, valid_depths(block, stem=stem)))
        wrong = ", ".join(map(str, bad))
        raise ValueError(f"{BLOCK_WORDS[block]} nets in a sweep have {form} layers ({valid}, …); "
                         f"{wrong} {'is' if len(bad) == 1 else 'are'} not of that form.")


MAX_SWEEP_DEPTHS = 12
SWEEP_STEMS = ("cifar", "imagenet", "deep")


def _check_stem(stem: str) -> None:
    if stem not in SWEEP_STEMS:
        raise ValueError(f"A sweep's stem is one of {', '.join(map(repr, SWEEP_STEMS))}; "
                         f"got {stem!r}.")


def check_sweep(block: Block, depths: Sequence[int], norms: Sequence[Norm], image_size: int,
                batch_size: int, device=None, *, stem: Stem = "cifar", order: Order = "post",
                attention: Attention = "none") -> None:
    """Refuse a sweep before anything is built: too many depths, depths ``block`` nets cannot
    have, or (given a ``device``: when it is about to run) a deepest net over the memory budget
    (one ``ValueError`` each)."""
    if len(depths) > MAX_SWEEP_DEPTHS:
        raise ValueError(f"A sweep takes at most {MAX_SWEEP_DEPTHS} depths; got {len(depths)}.")
    check_depths(block, depths, stem=stem)
    if device is None:
        return
    for norm in norms or ["batch"]:  # the deepest net must fit before any is built
        check_fits(sweep_spec(block, max(depths), stem=stem, norm=norm, image_size=image_size,
                              order=order, attention=attention), batch_size, device)


def sweep_spec(
    block: Block, depth: int, *, stem: Stem = "cifar", norm: Norm = "batch", image_size: int = 32,
    order: Order = "post", attention: Attention = "none",
) -> NetSpec:
    """The spec of a ``depth``-layer net in a sweep (see the module docstring for the mapping).

    Raises:
        ValueError: a depth ``block`` nets with this stem cannot have, or a combination `NetSpec`
            refuses (e.g. the d2l block with ``order="pre"``).
    """
    _check_stem(stem)
    convs = 3 if block == "bottleneck" else 2
    if not isinstance(depth, int) or isinstance(depth, bool):
        raise ValueError(f"A depth must be a whole number, got {depth!r}.")
    if stem == "cifar":
        n, rest = divmod(depth - 2, 3 * convs)
        if rest or n < 1:
            examples = ", ".join(str(3 * convs * k + 2) for k in (1, 2, 3, 5, 9))
            raise ValueError(
                f"CIFAR-style {block} nets have {3 * convs}n+2 layers ({examples}, ...); "
                f"{depth} is not of that form."
            )
        return NetSpec(
            block=block, layers=(n, n, n), base_width=16, stem="cifar", num_classes=10,
            shortcut="A" if block == "basic" else "B", norm=norm, image_size=image_size,
            order=order, attention=attention,
        )
    blocks, rest = divmod(depth - 2, convs)
    if rest or blocks < 4:
        raise ValueError(
            f"ImageNet-style {block} nets have {convs}·(blocks)+2 layers with at least 4 blocks; "
            f"{depth} is not of that form."
        )
    layers = PRESET_LAYERS.get(("basic" if block == "d2l" else block, depth))
    return NetSpec(
        block=block, layers=layers or _split(blocks, IMAGENET_PROPORTION), stem=stem,
        norm=norm, image_size=image_size, order=order, attention=attention,
    )


def _split(total: int, proportion: Sequence[int]) -> tuple[int, ...]:
    """``total`` blocks over the stages in ``proportion``, at least one each (largest remainder)."""
    spare = total - len(proportion)
    shares = [spare * p / sum(proportion) for p in proportion]
    counts = [math.floor(s) for s in shares]
    by_remainder = sorted(range(len(shares)), key=lambda i: counts[i] - shares[i])
    for i in by_remainder[: spare - sum(counts)]:
        counts[i] += 1
    return tuple(c + 1 for c in counts)


def conv1_grad_norm(
    model: ResNet, inputs: torch.Tensor, targets: torch.Tensor, loss: LossName = "cross_entropy"
) -> float:
    """‖∂loss/∂W‖ of the first conv (`first_conv_weight`: ``conv1.weight``, or ``conv1.0.weight``
    in a deep stem) of a model *this module built*, in train mode, nothing else kept."""
    model.train()
    with torch.enable_grad():
        value = compute_loss(loss, model(inputs), targets)
        (grad,) = torch.autograd.grad(value, model.get_parameter(first_conv_weight(model.spec)))
    return torch.linalg.vector_norm(grad, dtype=torch.float64).item()


def depth_sweep(
    block: Block,
    depths: Iterable[int],
    skip: Sequence[bool] = (True, False),
    norm: Norm | Sequence[Norm] = "batch",
    image_size: int = 32,
    batch_size: int = 8,
    seed: int = 0,
    device: str | torch.device = "cpu",
    on_progress: Callable[[int, int, str], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    *,
    stem: Stem = "cifar",
    loss: LossName = "cross_entropy",
    order: Order = "post",
    attention: Attention = "none",
) -> pd.DataFrame:
    """The first conv's weight-gradient norm at init for each depth, residual vs plain.

    Each net is built with :func:`explorer.build` (same seed: the plain twin shares the residual
    net's weights) and gets one forward/backward pass in train mode on :func:`random_batch`'s
    batch, which is the same at every depth.

    Args:
        block: ``basic``, ``bottleneck`` or ``d2l``.
        depths: total depths; see :func:`sweep_spec` for how a depth becomes stages.
        skip: which variants to run (``True``: residual, ``False``: plain).
        norm: ``batch``, ``none``, or several of them to sweep each.
        image_size, batch_size, seed, device: the batch and where it runs.
        on_progress: called as ``on_progress(done, total, message)`` after each net.
        should_stop: polled before each net; returning True ends the sweep early with the
            rows measured so far (cancellation).
        stem: ``cifar``, ``imagenet`` or ``deep``.
        loss: as in :func:`explorer.gradient_flow`.
        order, attention: the block's ``post``/``pre`` activation order and ``none``/``se``
            attention, at every depth.

    Returns:
        One row per (norm, depth): ``layers`` (e.g. ``"3-3-3"``), ``residual`` and ``plain``
        (‖∂L/∂conv1.weight‖, NaN where not run) and ``ratio`` = plain / residual.
        ``frame.attrs["complete"]`` is False when the sweep was stopped early.
    """
    norms = (norm,) if isinstance(norm, str) else tuple(norm)
    variants = tuple(dict.fromkeys(bool(s) for s in skip))
    if not variants:
        raise ValueError("'skip' must name at least one variant (True, False or both).")
    specs = [(n, d, sweep_spec(block, d, stem=stem, norm=n, image_size=image_size, order=order,
                               attention=attention))
             for n in norms for d in depths]  # all validated before anything is built
    total, done, rows = len(specs) * len(variants), 0, []
    for norm_name, depth, spec in specs:
        inputs, targets = (t.to(device) for t in random_batch(spec, batch_size, seed))
        grads: dict[bool, float] = {}
        for s in variants:
            if should_stop is not None and should_stop():
                break
            model = build(spec.replace(skip=s), seed, device)
            grads[s] = conv1_grad_norm(model, inputs, targets, loss)
            del model
            done += 1
            if on_progress is not None:
                name = "residual" if s else "plain"
                on_progress(done, total, f"{name} net, depth {depth}, norm={norm_name}: "
                                          f"conv1 gradient norm {grads[s]:.3g}")
        if grads:
            rows.append(_row(norm_name, depth, spec, grads))
        if done < total and len(grads) < len(variants):
            break
    frame = pd.DataFrame(rows, columns=SWEEP_COLUMNS)
    frame.attrs["complete"] = done == total
    return frame


def _row(norm: str, depth: int, spec: NetSpec, grads: dict[bool, float]) -> list:
    residual, plain = grads.get(True, math.nan), grads.get(False, math.nan)
    ratio = plain / residual if residual else math.nan
    return [norm, depth, "-".join(map(str, spec.layers)), residual, plain, ratio]


NORM_WORDS = {"batch": "With BatchNorm", "none": "Without norm layers"}


def sweep_summary(frame: pd.DataFrame) -> list[str]:
    """One sentence per norm setting, read off a `depth_sweep` frame (no canned claims).

    Changes within 10 % either way are called no change (see :func:`explorer.units.change`).
    """
    lines = []
    for norm, part in frame.groupby("norm", sort=False):
        part = part.sort_values("depth").dropna(subset=["residual", "plain"])
        if len(part) < 2:
            continue
        first, last = part.iloc[0], part.iloc[-1]
        lines.append(
            f"{NORM_WORDS.get(norm, f'norm={norm}')}: from {first['depth']} to {last['depth']} "
            f"layers the plain net's first-layer gradient "
            f"{change(last['plain'] / first['plain'])} and the residual net's "
            f"{change(last['residual'] / first['residual'])}; at {last['depth']} layers the "
            f"plain one is {times(last['ratio'])} the residual one."
        )
    return lines

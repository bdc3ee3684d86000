"""Gradient flow through a residual net and its plain twin (skips off), with the same weights.

One forward and one backward pass per variant. The gradient with respect to each layer's output is
reduced to its norm by a tensor hook as the backward pass goes by (no output gradient is kept), and
the weight gradients come from ``torch.autograd.grad``, so nothing is ever written to ``.grad``.
"""

from __future__ import annotations

import math
from typing import Literal, get_args

import torch
import torch.nn.functional as F
from torch import nn

from explorer.nets.preserved import preserved

from explorer.analysis.flow_result import FlowResult, GradientFlow, LayerFlow, ParamFlow, Variant
from explorer.nets.model import ResNet, build
from explorer.analysis.reductions import batch_norm_stds, l2_norm, l2_norms, std
from explorer.nets.spec import NetSpec

LossName = Literal["cross_entropy", "mse"]


def random_batch(spec: NetSpec, batch_size: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The default batch: N(0, 1) images, then uniform labels, from ``torch.Generator(seed)``."""
    if not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"The batch size must be a whole number ≥ 1, got {batch_size!r}.")
    gen = torch.Generator().manual_seed(seed)
    size = spec.image_size
    inputs = torch.randn(batch_size, spec.in_channels, size, size, generator=gen)
    targets = torch.randint(0, spec.num_classes, (batch_size,), generator=gen)
    return inputs, targets


def compute_loss(name: LossName, logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Mean cross-entropy, or mean squared error against one-hot targets."""
    if name == "cross_entropy":
        return F.cross_entropy(logits, targets)
    if name == "mse":
        return F.mse_loss(logits, F.one_hot(targets, logits.shape[1]).to(logits.dtype))
    choices = ", ".join(map(repr, get_args(LossName)))
    raise ValueError(f"'loss' must be one of {choices}, got {name!r}.")


def gradient_flow(
    spec: NetSpec,
    seed: int = 0,
    batch_size: int = 8,
    device: str | torch.device = "cpu",
    inputs: torch.Tensor | None = None,
    targets: torch.Tensor | None = None,
    loss: LossName = "cross_entropy",
) -> GradientFlow:
    """Measure gradient flow in ``spec``'s residual net and its plain twin.

    The residual net is built with :func:`explorer.build`; the plain twin (:func:`plain_twin`)
    shares its tensors, so the two have the same weights in every layer they have in common (the
    plain twin only lacks the shortcut projections), exactly as ``build(spec.replace(skip=False),
    seed)`` would give. Each gets one forward and one backward pass of ``loss`` on the same batch,
    in train mode (BatchNorm uses batch statistics, as at the start of training).

    The Fig. 7 quantity (He et al. 2015: std of each residual branch's response after its last
    norm layer, before the addition) is read in that same train-mode pass, not in eval mode as the
    paper does on trained nets. With ``norm="batch"`` at init the response of a post-activation
    block without attention is therefore ≈1 in every block of both variants, by construction of
    BatchNorm; ``prenorm_std`` (the branch's last conv output, before that norm) is where the
    variants differ. A pre-activation branch ends with its conv, so there ``response_std`` is
    that conv's output, and with SE attention it is the gated output (see `LayerFlow`).

    Args:
        spec: the architecture; its ``skip`` field is ignored (both variants are measured).
        seed: weight seed, and the seed of the default batch.
        batch_size: size of the default batch (ignored when ``inputs`` is given).
        device: where the models and the batch live.
        inputs: ``(N, in_channels, H, W)`` images; default :func:`random_batch`.
        targets: ``(N,)`` class indices; default :func:`random_batch`'s labels.
        loss: ``cross_entropy`` or ``mse`` (to one-hot targets), both averaged over the batch.

    Returns:
        A :class:`GradientFlow` with one :class:`FlowResult` per variant.
    """
    compute_loss(loss, torch.zeros(1, 2), torch.zeros(1, dtype=torch.long))  # validate the name
    if inputs is None or targets is None:
        default_x, default_y = random_batch(spec, batch_size, seed)
        inputs = default_x if inputs is None else inputs
        targets = default_y if targets is None else targets
    _check_batch(spec, inputs, targets)
    inputs, targets = inputs.detach().to(device), targets.detach().to(device)
    residual = build(spec.replace(skip=True), seed=seed, device=device)
    weight_norms: dict = {}  # the twins share their tensors: each weight's norm is taken once
    res = measure_flow(residual, inputs, targets, loss=loss, variant="residual",
                       weight_norms=weight_norms)
    plain = measure_flow(plain_twin(residual), inputs, targets, loss=loss, variant="plain",
                         weight_norms=weight_norms)
    return GradientFlow(spec, seed, int(inputs.shape[0]), res, plain)


def plain_twin(model: ResNet) -> ResNet:
    """The skip-off twin of a freshly built residual ``model``, sharing its tensors.

    ``build(spec.replace(skip=False), seed)`` would give bit-identical weights (they are seeded
    by parameter name); sharing the residual net's tensors instead skips a second initialisation,
    which costs about a tenth of a ResNet-50 forward+backward pass on the CPU. BatchNorm running
    statistics are shared too, so measure the two models one after the other, never in parallel.
    """
    with torch.device("meta"):
        twin = ResNet(model.spec.replace(skip=False))
    missing, _ = twin.load_state_dict(model.state_dict(), strict=False, assign=True)
    if missing:  # would break the same-weights promise: fail loudly
        raise RuntimeError(f"The plain twin has tensors the residual net lacks: {missing}.")
    return twin.train(model.training)


def measure_flow(
    model: ResNet,
    inputs: torch.Tensor,
    targets: torch.Tensor,
    loss: LossName = "cross_entropy",
    variant: Variant | None = None,
    weight_norms: dict | None = None,
) -> FlowResult:
    """One forward and backward pass of ``model`` in train mode, measured layer by layer.

    The model is left as it was found: no hooks, no ``.grad``, its modules' train/eval flags and
    its BatchNorm running statistics restored. Not thread-safe on one model (hooks).

    Args:
        model: a :class:`ResNet` whose parameters all require grad.
        inputs, targets: the batch, on the model's device (see :func:`gradient_flow`).
        loss: ``cross_entropy`` or ``mse``.
        variant: the label to record; default from ``model.spec.skip``.
        weight_norms: ‖W‖ of tensors measured before, by storage; the ones this call measures
            are added (for models that share tensors and are not trained in between).

    Returns:
        A :class:`FlowResult`.
    """
    groups = _layer_groups(model)
    out_norms: dict[str, torch.Tensor] = {}
    stds: dict[str, dict[str, torch.Tensor]] = {}
    with preserved(model, buffers=True):
        model.train()
        for name, _, module, _ in groups:
            module.register_forward_hook(_grad_norm_hook(name, out_norms))
        for name, block in model.blocks():
            _register_std_hooks(name, block, stds)
        params = [p for *_, named in groups for p in named.values()]
        for p in params:  # frozen layers too: their gradients are measured (flags restored)
            p.requires_grad_(True)
        with torch.enable_grad():
            value = compute_loss(loss, model(inputs), targets)
            grads = torch.autograd.grad(value, params)
    return _collect(model, groups, value, grads, out_norms, stds, variant,
                    {} if weight_norms is None else weight_norms)


def _layer_groups(model: ResNet) -> list[tuple[str, str, nn.Module, dict[str, nn.Parameter]]]:
    """(name, kind, module whose output is measured, its parameters by name) in depth order.

    Every parameter is in one group: a pre-activation net's ``final_norm`` belongs to the head.
    """
    def named(*modules: str) -> dict[str, nn.Parameter]:
        return {f"{m}.{n}": p for m in modules if hasattr(model, m)
                for n, p in getattr(model, m).named_parameters()}

    groups = [("conv1", "stem", model.conv1, named("conv1", "bn1"))]
    groups += [(name, "block", blk, dict(blk.named_parameters())) for name, blk in model.blocks()]
    groups.append(("fc", "head", model.fc, named("final_norm", "fc")))
    return groups


def _last_conv_name(block: nn.Module) -> str:
    """The name of the last conv of a block's residual branch (its ``plan`` names the steps in
    order)."""
    return [step for step in block.plan if step.startswith("conv")][-1]


def _last_conv(block: nn.Module) -> nn.Module:
    """The last conv of a block's residual branch."""
    return getattr(block, _last_conv_name(block))


def _register_std_hooks(name: str, block: nn.Module,
                        stds: dict[str, dict[str, torch.Tensor]]) -> None:
    """F(x) is the output of the block's last_layer (a norm, a conv, a ReLU or the SE gate); the
    "before the norm" response is the branch's last conv's output. Where the branch ends on that
    conv both are one tensor, read once; where a BatchNorm follows it directly, both come from
    one reading of the conv's output (`batch_norm_stds`)."""
    conv, last = _last_conv(block), block.last_layer
    if last is conv:
        conv.register_forward_hook(_std_hook(name, ("pre", "post"), stds))
    elif isinstance(last, nn.BatchNorm2d) and block.plan[-2] == _last_conv_name(block):
        last.register_forward_hook(_bn_std_hook(name, stds))
    else:
        conv.register_forward_hook(_std_hook(name, ("pre",), stds))
        last.register_forward_hook(_std_hook(name, ("post",), stds))


def _grad_norm_hook(name: str, store: dict[str, torch.Tensor]):
    def on_forward(module: nn.Module, args, output: torch.Tensor) -> None:
        if output.requires_grad:
            # The tensor hook sees the summed gradient of every use of this output.
            output.register_hook(lambda grad: store.__setitem__(name, l2_norm(grad)))

    return on_forward


def _std_hook(name: str, which: tuple[str, ...], store: dict[str, dict[str, torch.Tensor]]):
    def on_forward(module: nn.Module, args, output: torch.Tensor) -> None:
        with torch.no_grad():
            value = std(output)
        store.setdefault(name, {}).update(dict.fromkeys(which, value))

    return on_forward


def _bn_std_hook(name: str, store: dict[str, dict[str, torch.Tensor]]):
    def on_forward(module: nn.BatchNorm2d, args, output: torch.Tensor) -> None:
        with torch.no_grad():
            batch_stats = module.training or module.running_mean is None
            pair = batch_norm_stds(args[0], module) if batch_stats else None
            pre, post = pair if pair is not None else (std(args[0]), std(output))
        store[name] = {"pre": pre, "post": post}

    return on_forward


def _collect(model, groups, value, grads, out_norms, stds, variant, weight_norms) -> FlowResult:
    nan = torch.tensor(math.nan, device=value.device)
    grad_norms = iter(l2_norms(list(grads)))  # one fused pass over every weight gradient
    params = [p for *_, named in groups for p in named.values()]
    keys = [(p.data_ptr(), p.dtype, tuple(p.shape), p.stride()) for p in params]
    new = {key: p for key, p in zip(keys, params) if key not in weight_norms}
    # Each entry keeps its tensor alive, so that its storage cannot be reused by another one.
    weight_norms.update((key, (p, norm)) for (key, p), norm in zip(new.items(),
                                                                    l2_norms(list(new.values()))))
    keys = iter(keys)
    scalars = [value.detach()]
    for name, _, _, named in groups:  # the same order as the reading loop below
        scalars.append(out_norms.get(name, nan))
        if name in stds:
            scalars += [stds[name]["pre"], stds[name]["post"]]
        for _ in named:
            scalars += [next(grad_norms), weight_norms[next(keys)][1]]
    numbers = iter(torch.stack([s.to(value.device, torch.float64) for s in scalars]).tolist())
    loss_value = next(numbers)
    layers = []
    for name, kind, _, named in groups:
        out_norm = next(numbers)
        pre, post = (next(numbers), next(numbers)) if name in stds else (None, None)
        pflows = tuple(ParamFlow(pname, next(numbers), next(numbers)) for pname in named)
        layers.append(LayerFlow(name, kind, out_norm, pflows, post, pre))
    variant = variant or ("residual" if model.spec.skip else "plain")
    return FlowResult(variant, model.spec, loss_value, tuple(layers))


def _check_batch(spec: NetSpec, inputs: torch.Tensor, targets: torch.Tensor) -> None:
    is_tensor = isinstance(inputs, torch.Tensor)
    if not is_tensor or inputs.ndim != 4 or inputs.shape[1] != spec.in_channels:
        shape = tuple(inputs.shape) if is_tensor else type(inputs).__name__
        raise ValueError(
            f"'inputs' must be a batch of shape (N, {spec.in_channels}, H, W), got {shape}."
        )
    if not inputs.is_floating_point():
        raise ValueError("'inputs' must be floating-point images.")
    if not isinstance(targets, torch.Tensor) or targets.shape != (inputs.shape[0],):
        raise ValueError(f"'targets' must hold one class index per image ({inputs.shape[0]}).")
    if targets.dtype != torch.long or (targets < 0).any() or (targets >= spec.num_classes).any():
        raise ValueError(f"'targets' must be int64 class indices in [0, {spec.num_classes}).")


def compare_models(
    residual: ResNet, plain: ResNet, inputs: torch.Tensor, targets: torch.Tensor,
    loss: LossName = "cross_entropy", seed: int = 0,
) -> GradientFlow:
    """Gradient flow of two models the caller already has, e.g. a trained net and its twin.

    Unlike `gradient_flow`, the two need not share weights (trained twins start equal and then
    diverge); both are left exactly as they were found (see `measure_flow`).
    """
    _check_batch(residual.spec, inputs, targets)
    device = next(residual.parameters()).device
    inputs, targets = inputs.detach().to(device), targets.detach().to(device)
    return GradientFlow(
        residual.spec, seed, int(inputs.shape[0]),
        measure_flow(residual, inputs, targets, loss=loss, variant="residual"),
        measure_flow(plain, inputs, targets, loss=loss, variant="plain"),
    )

"""L2 norms and standard deviations that survive exploding and vanishing networks, and are fast.

A float32 norm squares its elements, so it overflows once they pass ~1e19 and underflows once they
fall below ~1e-19; deep plain or norm-free nets reach both. Casting to float64 fixes that but
costs ~30x more on the CPU (a slow conversion path), which would dominate a gradient-flow pass.
So on the CPU the float32 reductions are used where their result shows them exact (finite, and
not so small that underflowed squares could matter), and a rescaled or float64 computation
otherwise; a CPU ``.item()`` costs no device sync. On CUDA,
where these reductions are memory-bound, float64 is used throughout.
"""

from __future__ import annotations

import math

import torch

# A float32 sum of squares that comes out finite has not overflowed; once the norm is at least
# this, squares that underflowed (elements below ~1e-19) change it by less than 1e-9 relatively.
_MIN_NORM = 1e-10
_CANCELLATION = 1e-2  # var / mean-square below this: E[x^2] - E[x]^2 loses digits


def _fast_cpu(t: torch.Tensor) -> bool:
    return t.device.type == "cpu" and t.dtype == torch.float32


def _trusted(norm: float) -> bool:
    """Whether a float32 ‖t‖ is exact: finite (nothing overflowed) and not tiny (nothing that
    underflowed mattered). Checking the result costs nothing; checking the peak first (as this
    module once did) cost one more pass over the tensor."""
    return math.isfinite(norm) and norm >= _MIN_NORM


def l2_norm(t: torch.Tensor) -> torch.Tensor:
    """‖t‖₂ as a 0-d tensor on ``t``'s device, without float32 overflow or underflow."""
    t = t.detach()
    if t.device.type == "cuda" or t.dtype == torch.float64:
        return torch.linalg.vector_norm(t, dtype=torch.float64)
    if t.numel() == 0:
        return torch.linalg.vector_norm(t)
    if _fast_cpu(t):
        norm = torch.linalg.vector_norm(t)
        if _trusted(norm.item()):
            return norm
    peak = torch.linalg.vector_norm(t, ord=math.inf)  # rare: scale into range first
    if not torch.isfinite(peak) or peak == 0:
        return peak
    return torch.linalg.vector_norm(t / peak) * peak


def std(t: torch.Tensor) -> torch.Tensor:
    """Unbiased std over all elements (as ``t.std()``) as a 0-d tensor on ``t``'s device."""
    t = t.detach()
    if not _fast_cpu(t) or t.numel() < 2:
        return t.double().std() if t.device.type in ("cuda", "cpu") else t.std()
    # Two fast float32 passes (sum, sum of squares) instead of torch.std's slower Welford pass.
    n = t.numel()
    total = t.sum(dtype=torch.float32).item()
    norm = torch.linalg.vector_norm(t).item()
    if not (math.isfinite(total) and _trusted(norm)):
        return t.double().std()
    mean, mean_square = total / n, norm**2 / n
    var = (mean_square - mean * mean) * n / (n - 1)
    if var <= _CANCELLATION * mean_square:
        return t.double().std()
    return torch.tensor(math.sqrt(var), dtype=torch.float64)


def l2_norms(tensors: list[torch.Tensor]) -> list[torch.Tensor]:
    """`l2_norm` of each tensor, in one fused pass (``torch._foreach_norm``) where it can be: a
    ResNet-50's 161 weights and their gradients cost one call instead of 322. A float32 result
    that is not trusted is recomputed by `l2_norm`."""
    tensors = [t.detach() for t in tensors]
    if not tensors:
        return []
    if all(t.device.type == "cuda" for t in tensors):
        return list(torch._foreach_norm(tensors, 2, dtype=torch.float64))
    fast = [i for i, t in enumerate(tensors) if _fast_cpu(t) and t.numel()]
    out = [None] * len(tensors)
    if fast:
        norms = torch._foreach_norm([tensors[i] for i in fast])
        for i, norm, value in zip(fast, norms, torch.stack(norms).tolist()):
            out[i] = norm if _trusted(value) else None
    return [norm if norm is not None else l2_norm(t) for norm, t in zip(out, tensors)]


def batch_norm_stds(x: torch.Tensor, bn: torch.nn.BatchNorm2d) -> tuple[torch.Tensor,
                                                                       torch.Tensor] | None:
    """``std(x)`` and ``std(bn(x))`` for a BatchNorm that normalises ``x`` by its own batch
    statistics (training mode), from one two-pass reading of ``x``: per-channel sums and sums of
    squares give both, as the BatchNorm's output is ``γ (x − μ_c) / √(σ²_c + ε) + β`` per
    channel, with per-channel mean ``β_c`` and variance ``γ_c² σ²_c / (σ²_c + ε)``.

    Reading the output again cost as much as reading the input (a ResNet-50 at batch 8 reads
    700 MB for these stds). ``None`` where the float32 sums are not trusted (or a channel's
    variance cancels), or off the CPU: then take the two stds directly.
    """
    if not (_fast_cpu(x) and x.dim() == 4 and x.shape[2] * x.shape[3] > 1):
        return None
    n_batch, channels = x.shape[:2]
    rows = x.detach().reshape(n_batch, channels, -1)
    norms = torch.linalg.vector_norm(rows, dim=-1).double()
    if not _trusted(float(torch.linalg.vector_norm(norms))):
        return None
    sums = rows.sum(-1, dtype=torch.float32).double().sum(0)
    squares = (norms * norms).sum(0)
    m = rows.shape[0] * rows.shape[2]  # elements per channel
    n = m * channels
    mean_c, square_c = sums / m, squares / m
    var_c = square_c - mean_c * mean_c  # biased: what BatchNorm divides by
    if not torch.isfinite(sums).all() or bool((var_c <= _CANCELLATION * square_c).any()):
        return None
    mean, square = float(sums.sum()) / n, float(squares.sum()) / n
    var_in = (square - mean * mean) * n / (n - 1)
    gamma = (bn.weight.detach().double() if bn.weight is not None
             else torch.ones_like(var_c))
    beta = bn.bias.detach().double() if bn.bias is not None else torch.zeros_like(var_c)
    out_var_c = gamma * gamma * var_c / (var_c + bn.eps)
    out_square = float((out_var_c + beta * beta).mean())  # channels are equally large
    out_mean = float(beta.mean())
    var_out = (out_square - out_mean * out_mean) * n / (n - 1)
    if var_in <= _CANCELLATION * square or var_out <= _CANCELLATION * out_square:
        return None
    return (torch.tensor(math.sqrt(var_in), dtype=torch.float64),
            torch.tensor(math.sqrt(var_out), dtype=torch.float64))

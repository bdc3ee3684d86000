"""L2 norms and standard deviations that survive exploding and vanishing networks, and are fast.

A float32 norm squares its elements, so it overflows once they pass ~1e19 and underflows once they
fall below ~1e-19; deep plain or norm-free nets reach both. Casting to float64 fixes that but
costs ~30x more on the CPU (a slow conversion path), which would dominate a gradient-flow pass.
So on the CPU the float32 reductions are used while the tensor's peak magnitude keeps them exact,
and a rescaled or float64 computation otherwise; a CPU ``.item()`` costs no device sync. On CUDA,
where these reductions are memory-bound, float64 is used throughout.
"""

from __future__ import annotations

import math

import torch

_SAFE_PEAK = (1e-10, 1e14)  # squares stay normal floats; 1e8 of them still sum below 3.4e38
_CANCELLATION = 1e-2  # var / mean-square below this: E[x^2] - E[x]^2 loses digits


def _peak(t: torch.Tensor) -> float:
    lo, hi = torch.aminmax(t)  # one fast pass; abs().amax() would allocate a copy
    return max(-lo.item(), hi.item())


def _fast_cpu(t: torch.Tensor) -> bool:
    return t.device.type == "cpu" and t.dtype == torch.float32


def _float32_is_exact(t: torch.Tensor) -> bool:
    peak = _peak(t)
    return peak == 0 or _SAFE_PEAK[0] <= peak <= _SAFE_PEAK[1]


def l2_norm(t: torch.Tensor) -> torch.Tensor:
    """‖t‖₂ as a 0-d tensor on ``t``'s device, without float32 overflow or underflow."""
    t = t.detach()
    if t.device.type == "cuda" or t.dtype == torch.float64:
        return torch.linalg.vector_norm(t, dtype=torch.float64)
    if t.numel() == 0 or (_fast_cpu(t) and _float32_is_exact(t)):
        return torch.linalg.vector_norm(t)
    peak = torch.linalg.vector_norm(t, ord=math.inf)  # rare: scale into range first
    if not torch.isfinite(peak) or peak == 0:
        return peak
    return torch.linalg.vector_norm(t / peak) * peak


def std(t: torch.Tensor) -> torch.Tensor:
    """Unbiased std over all elements (as ``t.std()``) as a 0-d tensor on ``t``'s device."""
    t = t.detach()
    if not _fast_cpu(t) or t.numel() < 2:
        return t.double().std() if t.device.type in ("cuda", "cpu") else t.std()
    if not _float32_is_exact(t):
        return t.double().std()
    # Two fast float32 passes (sum, sum of squares) instead of torch.std's slower Welford pass.
    n = t.numel()
    mean = t.sum(dtype=torch.float32).item() / n
    mean_square = torch.linalg.vector_norm(t).item() ** 2 / n
    var = (mean_square - mean * mean) * n / (n - 1)
    if var <= _CANCELLATION * mean_square:
        return t.double().std()
    return torch.tensor(math.sqrt(var), dtype=torch.float64)

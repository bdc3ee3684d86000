"""How alike two saliency maps are: rank correlation and structural similarity.

Adebayo et al. 2018 compare a trained model's map with the map after randomising weights by the
Spearman rank correlation of the absolute maps and by SSIM; both are here, for batches of maps.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

SSIM_WINDOW = 7  # a 7×7 uniform window, K1 = 0.01, K2 = 0.03, as scikit-image's default SSIM
_K1, _K2 = 0.01, 0.03


def average_ranks(values: torch.Tensor) -> torch.Tensor:
    """Ranks 1..n of the last dimension, ties sharing their average rank (as scipy's rankdata)."""
    order = values.argsort(dim=-1, stable=True)
    sorted_values = values.gather(-1, order)
    n = values.shape[-1]
    positions = torch.arange(1, n + 1, dtype=torch.float64, device=values.device).expand_as(values)
    # each run of equal values gets the mean of the positions it spans
    starts = torch.ones_like(sorted_values, dtype=torch.bool)
    starts[..., 1:] = sorted_values[..., 1:] != sorted_values[..., :-1]
    run = starts.cumsum(dim=-1) - 1
    totals = torch.zeros_like(positions).scatter_add_(-1, run, positions)
    counts = torch.zeros_like(positions).scatter_add_(-1, run, torch.ones_like(positions))
    mean_rank = (totals / counts.clamp_min(1)).gather(-1, run)
    return torch.empty_like(mean_rank).scatter_(-1, order, mean_rank)


def spearman(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Spearman rank correlation of ``|a|`` and ``|b|`` per map, for ``(N, H, W)`` batches.

    A flat map has no ranking: two flat maps count as identical (1), one flat map against a
    ranked one as unrelated (0).
    """
    ra = average_ranks(a.abs().flatten(1).double())
    rb = average_ranks(b.abs().flatten(1).double())
    ra, rb = ra - ra.mean(1, keepdim=True), rb - rb.mean(1, keepdim=True)
    norm = ra.norm(dim=1) * rb.norm(dim=1)
    flat_a, flat_b = ra.norm(dim=1) == 0, rb.norm(dim=1) == 0
    rho = (ra * rb).sum(1) / norm.clamp_min(1e-300)
    return torch.where(flat_a & flat_b, 1.0, torch.where(flat_a | flat_b, 0.0, rho)).float()


def ssim(a: torch.Tensor, b: torch.Tensor, data_range: float = 1.0) -> torch.Tensor:
    """Mean SSIM (Wang et al. 2004) per map of two ``(N, H, W)`` batches of values in [0, 1].

    Local statistics over a `SSIM_WINDOW` square window with the sample covariance, averaged
    over every position where the window fits; maps smaller than the window use their size.
    """
    x, y = a[:, None].double(), b[:, None].double()
    win = min(SSIM_WINDOW, x.shape[-1], x.shape[-2])
    mean = lambda t: F.avg_pool2d(t, win, stride=1)  # noqa: E731
    correction = win * win / (win * win - 1)  # sample, not population, (co)variance
    mx, my = mean(x), mean(y)
    vx = (mean(x * x) - mx * mx) * correction
    vy = (mean(y * y) - my * my) * correction
    cov = (mean(x * y) - mx * my) * correction
    c1, c2 = (_K1 * data_range) ** 2, (_K2 * data_range) ** 2
    s = ((2 * mx * my + c1) * (2 * cov + c2)) / ((mx * mx + my * my + c1) * (vx + vy + c2))
    return s.mean(dim=(1, 2, 3)).float()

"""Map similarity against scipy and by hand: Spearman's rank correlation and SSIM."""

import numpy as np
import pytest
import torch
from scipy.stats import rankdata, spearmanr

from explorer.analysis.similarity import average_ranks, spearman, ssim


@pytest.fixture
def maps():
    gen = torch.Generator().manual_seed(0)
    a = torch.rand(4, 8, 8, generator=gen).round(decimals=1)  # ties
    b = torch.rand(4, 8, 8, generator=gen)
    a[0, :4] = 0
    b[1] = a[1] ** 2  # same ranking
    b[2] = -a[2]  # same absolute values: |.| is compared
    return a, b


def test_ranks_average_ties_like_scipy(maps):
    a, _ = maps
    ours = average_ranks(a.flatten(1).double()).numpy()
    assert np.array_equal(ours, np.stack([rankdata(row) for row in a.flatten(1).numpy()]))


def test_spearman_of_absolute_maps_equals_scipy(maps):
    a, b = maps
    expected = [spearmanr(np.abs(a[i].ravel()), np.abs(b[i].ravel()))[0] for i in range(4)]
    torch.testing.assert_close(spearman(a, b), torch.tensor(expected, dtype=torch.float32))
    assert spearman(a, b)[2] == pytest.approx(1.0)


def test_flat_maps():
    flat, ranked = torch.zeros(1, 4, 4), torch.arange(16.0).view(1, 4, 4)
    assert spearman(flat, flat).item() == 1.0
    assert spearman(flat, ranked).item() == 0.0


def test_ssim_by_hand_on_one_window():
    # A 7×7 map is one window: SSIM = (2μxμy + C1)(2σxy + C2) / ((μx² + μy² + C1)(σx² + σy² + C2))
    gen = torch.Generator().manual_seed(3)
    x, y = torch.rand(7, 7, generator=gen), torch.rand(7, 7, generator=gen)
    xs, ys = x.double().numpy().ravel(), y.double().numpy().ravel()
    c1, c2 = 0.01 ** 2, 0.03 ** 2
    cov = np.cov(xs, ys)  # sample (co)variances, as scikit-image's default
    expected = ((2 * xs.mean() * ys.mean() + c1) * (2 * cov[0, 1] + c2)
                / ((xs.mean() ** 2 + ys.mean() ** 2 + c1) * (cov[0, 0] + cov[1, 1] + c2)))
    assert ssim(x[None], y[None]).item() == pytest.approx(expected, rel=1e-5)
    assert ssim(x[None], x[None]).item() == pytest.approx(1.0)


def test_ssim_averages_over_window_positions():
    gen = torch.Generator().manual_seed(4)
    x, y = torch.rand(1, 8, 7, generator=gen), torch.rand(1, 8, 7, generator=gen)
    # two window positions (rows 0-6 and 1-7): the mean of the two single-window values
    halves = [ssim(x[:, r:r + 7], y[:, r:r + 7]).item() for r in (0, 1)]
    assert ssim(x, y).item() == pytest.approx(sum(halves) / 2, rel=1e-5)

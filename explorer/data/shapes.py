"""Datasets: a synthetic shapes set rendered on the fly, and CIFAR-10 / Fashion-MNIST.

``ShapesDataset`` draws one object of one of ``CLASSES`` (random position, size, rotation and
colour) on a textured, noisy background with distractor clutter (thin lines, small blobs). No
files: every item is rendered from its own ``torch.Generator`` seeded by ``(seed, split, index)``,
so item ``i`` is the same wherever and in whatever order it is asked for. Shapes are signed
distance functions (SDFs) evaluated on a pixel grid, so a whole batch renders in a few tensor ops.

Coordinates: pixel ``(row, col)`` of an ``S``-pixel image has its centre at
``x = (col + 0.5) * 2 / S - 1``, ``y = (row + 0.5) * 2 / S - 1``; the image spans ``[-1, 1]``.
An object with centre ``(cx, cy)``, radius ``r`` and angle ``a`` maps a point ``p`` to the unit
shape frame by ``R(-a) (p - c) / r``; its mask is the set of pixel centres where the SDF is <= 0.
"""

from __future__ import annotations

import hashlib
import math

import torch
from torch.utils.data import Dataset

from explorer.data.registry import SHAPES_CLASSES as CLASSES
from explorer.data.registry import SHAPES_MEAN as MEAN
from explorer.data.registry import SHAPES_STD as STD

SPLITS = ("train", "val", "test")
RADIUS = (0.45, 0.75)  # object radius, in half-image units
LINES, BLOBS = 2, 3  # most distractors of each kind per image
NOISE_STD = 0.04
TEXTURE = 0.08  # amplitude of each of the two background gratings


def _around(n: int, radii: tuple[float, ...]) -> list[tuple[float, float]]:
    """``n`` vertices from the top, counter-clockwise, cycling through ``radii``."""
    angles = [(radii[k % len(radii)], math.pi / 2 + k * 2 * math.pi / n) for k in range(n)]
    return [(r * math.cos(a), r * math.sin(a)) for r, a in angles]


# Unit-frame polygons (the round classes are SDF formulas in `sdf_class`).
_SQUARE = [(-0.72, -0.72), (0.72, -0.72), (0.72, 0.72), (-0.72, 0.72)]
_CROSS = [(0.3, 1), (-0.3, 1), (-0.3, 0.3), (-1, 0.3), (-1, -0.3), (-0.3, -0.3), (-0.3, -1),
          (0.3, -1), (0.3, -0.3), (1, -0.3), (1, 0.3), (0.3, 0.3)]
_HEART = [(16 * math.sin(t) ** 3 / 17,
           -(13 * math.cos(t) - 5 * math.cos(2 * t) - 2 * math.cos(3 * t) - math.cos(4 * t)) / 17)
          for t in (k * 2 * math.pi / 40 for k in range(40))]
_POLYGONS = {"square": _SQUARE, "triangle": _around(3, (1.0,)), "cross": _CROSS,
             "star": _around(10, (1.0, 0.42)), "heart": _HEART}


def item_seed(seed: int, split: str, index: int) -> int:
    """The generator seed of one item: a stable hash of ``(seed, split, index)``."""
    if split not in SPLITS:
        raise ValueError(f"split must be one of {', '.join(SPLITS)}, got {split!r}.")
    digest = hashlib.blake2b(f"{seed}/{split}/{index}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little") % 2**63


# ---- signed distance functions (p: (..., 2) in the unit frame) -------------------------------
def sdf_polygon(p: torch.Tensor, vertices: list[tuple[float, float]]) -> torch.Tensor:
    """Signed distance to a simple polygon (negative inside), after Inigo Quilez's sdPolygon."""
    v = torch.tensor(vertices, dtype=p.dtype)
    dist2 = ((p - v[0]) ** 2).sum(-1)
    sign = torch.ones_like(dist2)
    for i in range(len(v)):
        a, b = v[i], v[i - 1]
        e, w = b - a, p - a
        t = ((w * e).sum(-1) / (e * e).sum()).clamp(0, 1)
        dist2 = torch.minimum(dist2, ((w - e * t[..., None]) ** 2).sum(-1))
        c1, c2 = p[..., 1] >= a[1], p[..., 1] < b[1]
        c3 = e[0] * w[..., 1] > e[1] * w[..., 0]
        flip = (c1 & c2 & c3) | (~c1 & ~c2 & ~c3)  # even-odd rule: this edge crosses the ray
        sign = torch.where(flip, -sign, sign)
    return sign * dist2.sqrt()


def sdf_class(p: torch.Tensor, label: int) -> torch.Tensor:
    """Signed distance (unit frame) to the shape of class ``label``."""
    name = CLASSES[label]
    radius = p.norm(dim=-1)
    if name == "circle":
        return radius - 0.9
    if name == "ring":
        return (radius - 0.68).abs() - 0.24
    if name == "crescent":
        bite = (p - torch.tensor([0.45, 0.0], dtype=p.dtype)).norm(dim=-1) - 0.75
        return torch.maximum(radius - 0.9, -bite)
    return sdf_polygon(p, _POLYGONS[name])


def _sdf_segment(p: torch.Tensor, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    e, w = b - a, p - a
    t = ((w * e).sum(-1) / (e * e).sum(-1).clamp_min(1e-6)).clamp(0, 1)
    return (w - e * t[..., None]).norm(dim=-1)


# ---- rendering ---------------------------------------------------------------------------------
def pixel_grid(size: int) -> torch.Tensor:
    """``(size, size, 2)`` pixel-centre coordinates ``(x, y)`` in ``[-1, 1]``."""
    axis = (torch.arange(size, dtype=torch.float32) + 0.5) * 2 / size - 1
    y, x = torch.meshgrid(axis, axis, indexing="ij")
    return torch.stack([x, y], dim=-1)


def draw_params(seed: int, split: str, indices: list[int], size: int) -> dict[str, torch.Tensor]:
    """Every random choice of each item, drawn from the item's own generator."""
    rows, noise = [], []
    for i in indices:
        gen = torch.Generator().manual_seed(item_seed(seed, split, i))
        rows.append(torch.rand(40 + 9 * LINES + 7 * BLOBS, generator=gen))
        noise.append(torch.randn(3, size, size, generator=gen))
    u = torch.stack(rows)  # slots 18-39 are unused, kept so that existing items never change
    radius = RADIUS[0] + (RADIUS[1] - RADIUS[0]) * u[:, 2]
    background = u[:, 4:7]
    # Each channel sits 0.3-0.7 away from the background's, so the object is never camouflaged.
    colour = (background + 0.3 + 0.4 * u[:, 7:10]) % 1.0
    return {
        "label": torch.tensor([i % len(CLASSES) for i in indices]), "radius": radius,
        "center": (u[:, 0:2] * 2 - 1) * (1 - radius[:, None]),  # the object stays inside
        "angle": u[:, 3] * 2 * math.pi, "background": background, "colour": colour,
        "gratings": u[:, 10:18].reshape(-1, 2, 4),  # frequency, direction, phase, amplitude
        "lines": u[:, 40:40 + 9 * LINES].reshape(len(u), LINES, 9),
        "blobs": u[:, 40 + 9 * LINES:].reshape(len(u), BLOBS, 7),
        "noise": torch.stack(noise) * NOISE_STD,
    }


def _over(image: torch.Tensor, dist: torch.Tensor, colour: torch.Tensor, size: int
          ) -> torch.Tensor:
    """Composite a flat colour where ``dist`` <= 0, anti-aliased over one pixel."""
    alpha = (0.5 - dist * size / 2).clamp(0, 1)[:, None]
    return image * (1 - alpha) + colour[:, :, None, None] * alpha


def _background(params: dict[str, torch.Tensor], grid: torch.Tensor) -> torch.Tensor:
    """A flat colour plus two sinusoidal gratings: ``(B, 3, S, S)``."""
    g = params["gratings"]
    direction, freq = g[:, :, 1] * math.pi, 1 + 4 * g[:, :, 0]
    proj = (grid[None, None, :, :, 0] * direction.cos()[..., None, None]
            + grid[None, None, :, :, 1] * direction.sin()[..., None, None])
    phase = math.pi * freq[..., None, None] * proj + 2 * math.pi * g[:, :, 2, None, None]
    texture = TEXTURE * g[:, :, 3, None, None] * torch.sin(phase)
    return params["background"][:, :, None, None] + texture.sum(1)[:, None]


def _clutter(image: torch.Tensor, params: dict[str, torch.Tensor], grid: torch.Tensor,
             size: int) -> torch.Tensor:
    """Thin line segments (each present with p=0.7) and small blobs (p=0.6)."""
    for k in range(LINES):
        line = params["lines"][:, k]
        a = line[:, 0:2] * 2 - 1
        b = a + (line[:, 2:4] * 2 - 1) * 0.8
        width = 0.03 + 0.04 * line[:, 4]
        dist = _sdf_segment(grid[None], a[:, None, None], b[:, None, None]) - width[:, None, None]
        dist = torch.where(line[:, 8, None, None] < 0.7, dist, torch.inf)
        image = _over(image, dist, line[:, 5:8], size)
    for k in range(BLOBS):
        blob = params["blobs"][:, k]
        centre = blob[:, None, None, 0:2] * 2 - 1
        dist = (grid[None] - centre).norm(dim=-1) - (0.05 + 0.06 * blob[:, 2, None, None])
        dist = torch.where(blob[:, 6, None, None] < 0.6, dist, torch.inf)
        image = _over(image, dist, blob[:, 3:6], size)
    return image


def _object_distance(params: dict[str, torch.Tensor], grid: torch.Tensor) -> torch.Tensor:
    """Signed distance ``(B, S, S)`` from each pixel centre to the item's object."""
    cos, sin = params["angle"].cos()[:, None, None], params["angle"].sin()[:, None, None]
    radius = params["radius"]
    rel = (grid[None] - params["center"][:, None, None]) / radius[:, None, None, None]
    local = torch.stack([cos * rel[..., 0] + sin * rel[..., 1],
                         -sin * rel[..., 0] + cos * rel[..., 1]], -1)
    dist = torch.empty(local.shape[:-1])
    for label in params["label"].unique().tolist():
        rows = params["label"] == label
        dist[rows] = sdf_class(local[rows], label) * radius[rows, None, None]
    return dist


def render(params: dict[str, torch.Tensor], size: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Images ``(B, 3, S, S)`` uint8 and object masks ``(B, S, S)`` bool from ``draw_params``."""
    grid = pixel_grid(size)
    image = _clutter(_background(params, grid), params, grid, size)
    dist = _object_distance(params, grid)
    image = _over(image, dist, params["colour"], size) + params["noise"]
    pixels = (image.clamp(0, 1) * 255).round().to(torch.uint8)
    return pixels, dist <= 0


class ShapesDataset(Dataset):
    """A synthetic ``len(CLASSES)``-way shape classification set, deterministic by seed.

    Items render lazily in chunks and are cached as uint8, like decoded image files.

    Args:
        n: number of images.
        image_size: side in pixels (at least 8).
        seed: dataset seed; with ``split`` and the index it fixes every item.
        split: ``train``, ``val`` or ``test``: disjoint random streams of the same distribution.

    Items are ``(image, label)``: a float ``(3, S, S)`` tensor normalised with ``MEAN``/``STD``
    and an int. ``mask(i)`` is the object's boolean ``(S, S)`` mask; labels cycle through the
    classes (``label = index % len(CLASSES)``), so every split is balanced.
    """

    CHUNK = 512

    def __init__(self, n: int, image_size: int = 32, seed: int = 0, split: str = "train") -> None:
        if n < 1 or image_size < 8:
            raise ValueError(f"Need n >= 1 and image_size >= 8, got {n} and {image_size}.")
        item_seed(seed, split, 0)  # validates the split
        self.n, self.image_size, self.seed, self.split = n, image_size, seed, split
        self.classes = CLASSES
        self._pixels = torch.empty(n, 3, image_size, image_size, dtype=torch.uint8)
        self._masks = torch.empty(n, image_size, image_size, dtype=torch.bool)
        self._done = torch.zeros((n + self.CHUNK - 1) // self.CHUNK, dtype=torch.bool)
        self._mean = torch.tensor(MEAN).view(3, 1, 1)
        self._std = torch.tensor(STD).view(3, 1, 1)

    def __len__(self) -> int:
        return self.n

    def _ensure(self, indices: torch.Tensor) -> None:
        for chunk in (indices // self.CHUNK).unique().tolist():
            if not self._done[chunk]:
                items = list(range(chunk * self.CHUNK, min(self.n, (chunk + 1) * self.CHUNK)))
                pixels, masks = render(draw_params(self.seed, self.split, items, self.image_size),
                                       self.image_size)
                self._pixels[items[0]:items[-1] + 1] = pixels
                self._masks[items[0]:items[-1] + 1] = masks
                self._done[chunk] = True

    def labels(self, indices=None) -> torch.Tensor:
        """Labels of ``indices`` (default: all): ``index % len(CLASSES)``."""
        idx = torch.arange(self.n) if indices is None else torch.as_tensor(indices)
        return idx % len(CLASSES)

    def get_batch(self, indices) -> tuple[torch.Tensor, torch.Tensor]:
        """Normalised images ``(B, 3, S, S)`` and labels ``(B,)`` for a list/tensor of indices."""
        idx = torch.as_tensor(indices, dtype=torch.long)
        if idx.numel() and (idx.min() < 0 or idx.max() >= self.n):
            raise IndexError(f"index out of range for a dataset of {self.n} images")
        self._ensure(idx)
        images = (self._pixels[idx].float() / 255 - self._mean) / self._std
        return images, self.labels(idx)

    def raw(self, i: int) -> torch.Tensor:
        """Item ``i`` as uint8 ``(3, S, S)`` pixels, before normalisation."""
        self._ensure(torch.tensor([i]))
        return self._pixels[i].clone()

    def mask(self, i: int) -> torch.Tensor:
        """Boolean ``(S, S)`` mask of item ``i``'s object (pixel centres inside the shape)."""
        self._ensure(torch.tensor([i]))
        return self._masks[i].clone()

    def params(self, i: int) -> dict[str, torch.Tensor]:
        """The random choices behind item ``i`` (centre, radius, angle, colour, ...)."""
        drawn = draw_params(self.seed, self.split, [i], self.image_size)
        return {k: v[0] for k, v in drawn.items()}

    def __getitem__(self, i: int) -> tuple[torch.Tensor, int]:
        if not -self.n <= i < self.n:
            raise IndexError(f"index {i} out of range for a dataset of {self.n} images")
        images, labels = self.get_batch([i % self.n])
        return images[0], int(labels[0])


def denormalize(images: torch.Tensor) -> torch.Tensor:
    """Undo ``ShapesDataset``'s normalisation: back to ``[0, 1]`` pixels for display."""
    mean = torch.tensor(MEAN, device=images.device).view(3, 1, 1)
    std = torch.tensor(STD, device=images.device).view(3, 1, 1)
    return (images * std + mean).clamp(0, 1)


if __name__ == "__main__":  # measures MEAN / STD
    pixels = denormalize(ShapesDataset(20_000, 32, seed=0).get_batch(range(20_000))[0])
    print("MEAN", pixels.mean((0, 2, 3)).tolist(), "STD", pixels.std((0, 2, 3)).tolist())

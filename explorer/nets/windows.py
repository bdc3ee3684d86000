"""Theoretical receptive fields, exact from the spec.

Each conv or pool of kernel ``k``, stride ``s``, padding ``p`` maps a unit's window
``(size r, jump j, centre c)`` to ``(r + (k-1)·j, j·s, c + ((k-1)/2 - p)·j)``. The largest window
comes from the path through every residual branch, so a residual net and its plain twin have the
same theoretical receptive field. Coordinates are pixel indices: the unit at ``(i, i')`` of a
layer is centred on input pixel ``(c + i·j, c + i'·j)``.

The branch is the largest path whatever the block: a ResNet-D shortcut's 2x2 pool and 1x1 conv
see less than the branch's strided 3x3 (or its strided 1x1 and then a 3x3), and a pre-activation
block has the same convs as a post-activation one, and so has every order of He et al. 2016's
Fig. 4. The skip designs of its Fig. 2 add nothing wider: a ``conv`` shortcut is a 1×1 conv
(with the block's stride), a skip gate is a 1×1 conv of the block's input, and a scale or a
dropout mask acts on each unit alone. A squeeze-and-excitation gate is a mean over
the whole map, so once one is on the path every unit depends on every input pixel: ``whole_image``
says so, and ``size`` stays the window of the convs alone.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from explorer.nets.spec import NetSpec


@dataclass(frozen=True)
class Window:
    """A unit's theoretical receptive field: side ``size``, ``jump`` (cumulative stride) and
    the input pixel index ``start`` on which unit 0 is centred."""

    size: int
    jump: int
    start: float = 0.0
    whole_image: bool = False  # a squeeze-and-excitation gate (a global mean) is on the path

    def after(self, kernel: int, stride: int, padding: int) -> "Window":
        return Window(self.size + (kernel - 1) * self.jump, self.jump * stride,
                      self.start + ((kernel - 1) / 2 - padding) * self.jump, self.whole_image)


def _stem_ops(spec: NetSpec) -> list[tuple[int, int, int]]:
    if spec.stem == "imagenet":
        return [(7, 2, 3), (3, 2, 1)]  # conv1, maxpool
    if spec.stem == "deep":
        return [(3, 2, 1), (3, 1, 1), (3, 1, 1), (3, 2, 1)]  # conv1.0, .3, .6, maxpool
    return [(3, 1, 1)]


def _block_ops(spec: NetSpec, stride: int) -> list[tuple[int, int, int]]:
    """The (kernel, stride, padding) of a block's residual branch, in order."""
    if spec.block == "bottleneck":
        s1, s3 = (stride, 1) if spec.stride_on == "1x1" else (1, stride)
        return [(1, s1, 0), (3, s3, 1), (1, 1, 0)]
    return [(3, stride, 1), (3, 1, 1)]


def windows(spec: NetSpec) -> dict[str, Window]:
    """The theoretical window after ``stem``, every block (``layer2.0``) and every stage.

    An empty stage passes its input through, so it has its predecessor's window.
    """
    window = Window(1, 1)
    for op in _stem_ops(spec):
        window = window.after(*op)
    found = {"stem": window}
    for i, (blocks, stride) in enumerate(zip(spec.layers, spec.stage_strides)):
        for j in range(blocks):
            for op in _block_ops(spec, stride if j == 0 else 1):
                window = window.after(*op)
            if spec.attention == "se":
                window = dataclasses.replace(window, whole_image=True)
            found[f"layer{i + 1}.{j}"] = window
        found[f"layer{i + 1}"] = window
    return found


def theoretical_window(spec: NetSpec, layer: str) -> Window:
    """The theoretical receptive field of one unit of ``layer`` (``stem``, ``layer2``,
    ``layer2.1``).

    Raises:
        ValueError: for a name the network does not have.
    """
    found = windows(spec)
    if layer not in found:
        raise ValueError(f"No layer {layer!r}; choose one of {', '.join(found)}.")
    return found[layer]

"""Hand a model to an analysis and get it back exactly as it was.

Every function that takes a caller's model runs inside ``preserved(model)``. On exit, however
the body ends, each module gets back its own train/eval flag (not just the root's: a model may
be in eval mode with one stage training), every parameter its ``requires_grad`` and its ``.grad``
tensor (the very object, so the caller's references stay valid), every hook dictionary exactly
the hooks it had (in place, so the caller's ``RemovableHandle``s still work), the plain
attributes a module names in ``PRESERVED_ATTRIBUTES`` (a shortcut dropout's pass counter, which
seeds its next mask), and, when asked, buffers (BatchNorm statistics) and parameter values.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

import torch
from torch import nn

_HOOK_DICTS = ("_forward_hooks", "_forward_pre_hooks", "_backward_hooks", "_backward_pre_hooks",
               "_forward_hooks_with_kwargs", "_forward_pre_hooks_with_kwargs",
               "_forward_hooks_always_called")


@contextmanager
def preserved(model: nn.Module, *, buffers: bool = False, weights: bool = False,
              clear_grads: bool = True) -> Iterator[nn.Module]:
    """Restore ``model``'s modes, ``requires_grad``, hooks and gradients when the block ends.

    Args:
        model: the caller's model; the block may change it freely.
        buffers: also restore every buffer's values (e.g. after a forward in train mode).
        weights: also restore every parameter's values (e.g. after perturbing weights).
        clear_grads: inside the block parameters start with ``.grad = None``, so a backward
            there does not add into the caller's gradients.

    Yields:
        ``model`` itself.
    """
    modes = [(m, m.training) for m in model.modules()]
    params = list(model.parameters())
    flags = [p.requires_grad for p in params]
    grads = [p.grad for p in params]
    hooks = [(d, dict(d)) for m in model.modules() for name in _HOOK_DICTS
             if (d := getattr(m, name, None)) is not None]
    counters = [(m, {a: getattr(m, a) for a in m.PRESERVED_ATTRIBUTES}) for m in model.modules()
                if hasattr(m, "PRESERVED_ATTRIBUTES")]
    saved_buffers = [(b, b.detach().clone()) for b in model.buffers()] if buffers else []
    saved_weights = [p.detach().clone() for p in params] if weights else []
    if clear_grads:
        for p in params:
            p.grad = None
    try:
        yield model
    finally:
        with torch.no_grad():
            for p, value in zip(params, saved_weights):
                p.copy_(value)
            for b, value in saved_buffers:
                b.copy_(value)
        for p, flag, grad in zip(params, flags, grads):
            p.requires_grad_(flag)
            p.grad = grad
        for d, before in hooks:
            d.clear()
            d.update(before)
        for m, mode in modes:
            m.training = mode
        for m, values in counters:
            for attribute, value in values.items():
                setattr(m, attribute, value)

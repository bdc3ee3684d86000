"""Sentences about a skip-design comparison (`compare_designs`), generated from its numbers.

Each rule has its margin here and a unit test with fabricated numbers for every branch
(tests/analysis/test_designs_report.py). A sentence names He et al. 2016's result only beside
the numbers measured here, and says so when these numbers do not show what the paper found.
The gradient compared is the one reaching the first block (``layer1.0``): it has crossed every
other block on its way from the loss.
"""

from __future__ import annotations

import math
import statistics

from explorer.analysis.designs import DesignComparison, VariantFlow
from explorer.margins import PAPER_SAME
from explorer.nets.reference import VARIANT_NAMES as NAMES
from explorer.nets.reference import ORDER_ERRORS, SKIP_DESIGN_RUNS, error_text, paper_run
from explorer.units import format_number, times

SAME = 2.0  # gradients within this factor of the reference's read "about the same"
FAR = 10.0  # beyond this factor the gradient has shrunk or grown far more than the reference's
RESPONSE_SPREAD = 1.5  # median response stds this many times apart differ


def name(variant: VariantFlow) -> str:
    return NAMES.get(variant.variant, variant.variant)


def reach_sentence(variant: VariantFlow, reference: VariantFlow) -> str:
    """How the gradient reaching the first block compares with the reference variant's."""
    v, r = variant.first.grad_norm, reference.first.grad_norm
    block, numbers = variant.first.block, f"(‖∂L/∂x‖ = {format_number(v)} vs {format_number(r)})"
    start = f"With {name(variant)} the gradient reaching {block}"
    ref = name(reference)
    if not (math.isfinite(v) and math.isfinite(r)):
        return f"{start} is not finite here, or {ref}'s is not {numbers}."
    if v == 0 or r == 0:
        which = "in both" if v == r else f"with {name(variant) if v == 0 else ref}"
        return f"{start} is compared with {ref}'s: it is exactly zero {which} {numbers}."
    ratio = v / r
    if 1 / SAME <= ratio <= SAME:
        return f"{start} is about the same as with {ref} {numbers}."
    if ratio < 1 / FAR:
        return (f"{start} is {times(ratio)} {ref}'s {numbers}: it shrank far more on its way "
                f"down through the blocks.")
    if ratio > FAR:
        return (f"{start} is {times(ratio)} {ref}'s {numbers}: it grew far more on its way "
                f"down through the blocks.")
    return f"{start} is {times(ratio)} {ref}'s {numbers}, within a factor of {FAR:g}."


def direction_sentence(variant: VariantFlow, reference: VariantFlow) -> str | None:
    """He et al.'s argument (a factor λ < 1 on every shortcut multiplies the gradient by λ per
    block, so it shrinks) beside the direction measured here; ``None`` where the argument does
    not apply or the gradient is within ``FAR`` of the reference's."""
    spec = variant.spec
    shrinks = (variant.field == "skip_design"
               and (spec.skip_design in ("exclusive_gate", "shortcut_gate")
                    or (spec.skip_design == "scaled" and spec.skip_scale < 1)))
    v, r = variant.first.grad_norm, reference.first.grad_norm
    if not shrinks or not (math.isfinite(v) and math.isfinite(r)) or v <= 0 or r <= 0:
        return None
    factor = "1 − g(x)" if spec.skip_design in ("exclusive_gate", "shortcut_gate") \
        else f"{spec.skip_scale:g}"
    argument = (f"He et al. argue that a factor below 1 on every shortcut (here {factor}) "
                f"shrinks the gradient block by block")
    if v / r > FAR:
        # The shortcut path alone would shrink it: the measured growth must come from the other
        # terms of the backward pass (which one dominates varies; a gate's own input can).
        return (f"{argument}; here it grew instead: at initialisation the other terms of the "
                f"backward pass (through the branches, and a gate's own input) outweigh that "
                f"factor.")
    if v / r < 1 / FAR:
        return f"{argument}, as it did here."
    return None


def _paper_errors(variant: VariantFlow, reference: VariantFlow):
    """(the paper's error for this variant, its setting, the reference's error), or ``None``
    where the paper has no run for it (another gate bias, or not its network's other fields)."""
    spec = variant.spec
    if variant.field == "skip_design" and spec.order == "post":
        run = paper_run(spec)
        if run is None:
            return None
        return run.error, f"{run.setting}, Table 1", SKIP_DESIGN_RUNS["identity"][0].error
    if variant.field == "order" and spec.skip_design == "identity" and reference.value == "post":
        return ORDER_ERRORS[variant.value][0], "Table 2", ORDER_ERRORS["post"][0]
    return None


def paper_sentence(variant: VariantFlow, reference: VariantFlow) -> str | None:
    """The paper's test error for this variant beside what the gradient shows here, or a note
    that the paper did not run it; ``None`` where the paper's tables do not apply."""
    found = _paper_errors(variant, reference)
    if found is None:
        if variant.field == "skip_design" and variant.spec.order == "post":
            spec = variant.spec  # only a scale or a gate bias can miss the paper's runs
            number = (f"skip scale {spec.skip_scale:g}" if spec.skip_design == "scaled"
                      else f"gate bias {spec.gate_bias:g}")
            return f"He et al. 2016 did not train {name(variant)} with {number}."
        return None
    error, setting, ref_error = found
    where = f"{setting}; ResNet-110 on CIFAR-10"
    if error is None:
        paper = (f"He et al. 2016 report that {name(variant)} failed to train ({where}: test "
                 f"error above 20 %) where {name(reference)} reached {error_text(ref_error)}")
    else:
        paper = (f"He et al. 2016 report a test error of {error_text(error)} for "
                 f"{name(variant)} ({where}) against {error_text(ref_error)} for "
                 f"{name(reference)}")
    v, r = variant.first.grad_norm, reference.first.grad_norm
    ratio = v / r if math.isfinite(v) and math.isfinite(r) and r > 0 else math.nan
    far = math.isfinite(ratio) and (ratio < 1 / FAR or ratio > FAR or ratio == 0)
    worse = error is None or error - ref_error > PAPER_SAME
    if worse and far:
        return (f"{paper}; here too it stands apart from {name(reference)} from the start: "
                f"the gradient at initialisation already differs by more than {FAR:g}-fold.")
    if worse:
        return (f"{paper}; here, at initialisation, the gradient reaching {variant.first.block} "
                f"is within {FAR:g}-fold of {name(reference)}'s, so this one pass does not show "
                f"why it trained worse: that shows during training.")
    if far:
        return (f"{paper}, about as good; yet here the gradient at initialisation differs by "
                f"more than {FAR:g}-fold: these numbers do not match the paper's.")
    return f"{paper}, about as good, and here the gradient is within {FAR:g}-fold too."


def response_sentence(comparison: DesignComparison) -> str | None:
    """Fig. 7 style: which variant's branch responses are largest and smallest (median std
    over blocks), or that they are about the same; ``None`` with fewer than two variants."""
    medians = {}
    for variant in comparison.variants:
        values = [b.response_std for b in variant.blocks if math.isfinite(b.response_std)]
        if values:
            medians[variant.variant] = statistics.median(values)
    if len(medians) < 2:
        return None
    high = max(medians, key=medians.get)
    low = min(medians, key=medians.get)
    names = {v.variant: name(v) for v in comparison.variants}
    if medians[low] > 0 and medians[high] / medians[low] < RESPONSE_SPREAD:
        low_text, high_text = format_number(medians[low]), format_number(medians[high])
        spread = (f"{low_text} in every variant" if low_text == high_text
                  else f"from {low_text} to {high_text}")
        return (f"The branches' responses F(x) have about the same spread in every variant "
                f"(median std over the blocks {spread}).")
    return (f"The branches' responses F(x) are largest with {names[high]} (median std over the "
            f"blocks {format_number(medians[high])}) and smallest with {names[low]} "
            f"({format_number(medians[low])}).")


def design_sentences(comparison: DesignComparison) -> list[str]:
    """Every variant against its reference (the gradient, the paper, the paper's argument), then
    the responses."""
    lines = []
    for variant in comparison.variants:
        reference = comparison.reference_for(variant)
        if reference is None or reference.variant == variant.variant:
            continue
        extra = [paper_sentence(variant, reference), direction_sentence(variant, reference)]
        lines.append(" ".join([reach_sentence(variant, reference)] + [e for e in extra if e]))
    response = response_sentence(comparison)
    return lines + ([response] if response else [])

"""Sentences of the skip-design comparison: one fabricated case per branch of every rule."""

from __future__ import annotations

import math

from explorer import NetSpec
from explorer.analysis.designs import BlockReading, DesignComparison, VariantFlow
from explorer.analysis.designs_report import (design_sentences, direction_sentence,
                                              paper_sentence, reach_sentence, response_sentence)

BASE = NetSpec(layers=(1, 1), base_width=4, stem="cifar", num_classes=10, image_size=8)


def variant(label: str, first: float, stds=(1.0, 1.0), spec: NetSpec | None = None,
            **fields) -> VariantFlow:
    field, value = label.split("=")
    spec = spec or BASE.replace(**{field: value}, **fields)
    blocks = (BlockReading("layer1.0", first, stds[0]), BlockReading("layer2.0", 1.0, stds[1]))
    return VariantFlow(label, spec, 2.3, blocks)


IDENTITY = variant("skip_design=identity", 0.02)
POST = variant("order=post", 0.02)


def test_reach_about_the_same():
    line = reach_sentence(variant("skip_design=conv", 0.03), IDENTITY)
    assert line == ("With the 1×1 conv shortcut the gradient reaching layer1.0 is about the "
                    "same as with the identity design (‖∂L/∂x‖ = 0.03 vs 0.02).")


def test_reach_far_smaller_says_how_much():
    line = reach_sentence(variant("skip_design=scaled", 2e-6), IDENTITY)
    assert line.startswith("With constant scaling the gradient reaching layer1.0 is 1.0×10⁻⁴ "
                           "times the identity design's")
    assert "shrank far more" in line


def test_reach_far_larger():
    line = reach_sentence(variant("order=bn_after_add", 0.5), POST)
    assert "25 times the original order (post)'s" in line and "grew far more" in line


def test_reach_within_ten():
    line = reach_sentence(variant("skip_design=dropout", 0.005), IDENTITY)
    assert "1/4 of the identity design's" in line and "within a factor of 10" in line


def test_reach_zero_and_not_finite():
    assert "exactly zero with the exclusive gate" in reach_sentence(
        variant("skip_design=exclusive_gate", 0.0), IDENTITY)
    assert "not finite" in reach_sentence(variant("skip_design=conv", math.inf), IDENTITY)


def test_paper_failed_and_gradient_far_agree():
    line = paper_sentence(variant("skip_design=dropout", 1e-5), IDENTITY)
    assert line.startswith("He et al. 2016 report that shortcut dropout failed to train "
                           "(dropout 0.5 on the shortcut, Table 1; ResNet-110 on CIFAR-10: "
                           "test error above 20 %) where the identity design reached 6.61 %")
    assert line.endswith("; here too it stands apart from the identity design from the start: "
                         "the gradient at initialisation already differs by more than 10-fold.")


def test_paper_worse_but_the_gradient_does_not_show_it():
    line = paper_sentence(variant("skip_design=conv", 0.03), IDENTITY)
    assert "a test error of 12.22 %" in line and "against 6.61 % for the identity design" in line
    assert "does not show why it trained worse" in line


def test_paper_as_good_and_gradient_close():
    line = paper_sentence(variant("skip_design=shortcut_gate", 0.021), IDENTITY)
    assert "6.91 %" in line and line.endswith("about as good, and here the gradient is within "
                                              "10-fold too.")


def test_paper_as_good_but_gradient_far_does_not_match():
    line = paper_sentence(variant("order=relu_preact", 1e-4), POST)
    assert "6.71 %" in line and "Table 2" in line and "do not match the paper's" in line


def test_paper_did_not_run_these_numbers_or_does_not_apply():
    gated = variant("skip_design=exclusive_gate", 0.02, gate_bias=-10.0)
    assert paper_sentence(gated, IDENTITY) == ("He et al. 2016 did not train the exclusive "
                                               "gate with gate bias -10.")
    scaled = variant("skip_design=scaled", 0.02, skip_scale=0.3)
    assert "with skip scale 0.3." in paper_sentence(scaled, IDENTITY)
    on_pre = variant("skip_design=conv", 0.02, order="pre")  # Table 1 is post-activation
    assert paper_sentence(on_pre, IDENTITY) is None
    order_on_gate = variant("order=pre", 0.02, spec=BASE.replace(
        order="pre", skip_design="exclusive_gate"))
    assert paper_sentence(order_on_gate, POST) is None  # Table 2 has identity skips


def test_response_same_and_different():
    same = DesignComparison(BASE, 0, 8, (IDENTITY, variant("skip_design=conv", 0.02,
                                                           stds=(1.1, 1.2))))
    assert response_sentence(same).startswith("The branches' responses F(x) have about the "
                                              "same spread in every variant")
    alike = DesignComparison(BASE, 0, 8, (IDENTITY, variant("skip_design=conv", 0.02,
                                                            stds=(1.001, 1.002))))
    assert response_sentence(alike).endswith("(median std over the blocks 1 in every variant).")
    apart = DesignComparison(BASE, 0, 8, (IDENTITY, variant("order=pre", 0.02, stds=(3, 4))))
    assert response_sentence(apart) == ("The branches' responses F(x) are largest with full "
                                        "pre-activation (median std over the blocks 3.5) and "
                                        "smallest with the identity design (1).")
    assert response_sentence(DesignComparison(BASE, 0, 8, (IDENTITY,))) is None


def test_design_sentences_compare_each_variant_with_its_own_reference():
    comparison = DesignComparison(BASE, 0, 8, (
        IDENTITY, variant("skip_design=scaled", 2e-6), POST, variant("order=pre", 0.03)))
    lines = design_sentences(comparison)
    assert len(lines) == 3
    assert lines[0].startswith("With constant scaling") and "identity design's" in lines[0]
    assert "12.35 %" in lines[0] and lines[0].endswith(", as it did here.")
    assert lines[1].startswith("With full pre-activation") and "6.37 %" in lines[1]
    assert lines[2].startswith("The branches' responses")


def test_the_papers_argument_beside_the_direction_measured():
    grew = direction_sentence(variant("skip_design=scaled", 5.0), IDENTITY)
    assert grew == ("He et al. argue that a factor below 1 on every shortcut (here 0.5) shrinks "
                    "the gradient block by block; here it grew instead: at initialisation the "
                    "other terms of the backward pass (through the branches, and a gate's own "
                    "input) outweigh that factor.")
    shrank = direction_sentence(variant("skip_design=exclusive_gate", 1e-4), IDENTITY)
    assert "(here 1 − g(x))" in shrank and shrank.endswith(", as it did here.")
    assert direction_sentence(variant("skip_design=shortcut_gate", 0.03), IDENTITY) is None
    assert direction_sentence(variant("skip_design=conv", 5.0), IDENTITY) is None  # no factor
    one = variant("skip_design=scaled", 5.0, skip_scale=1.0)  # a factor of 1 shrinks nothing
    assert direction_sentence(one, IDENTITY) is None

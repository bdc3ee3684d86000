"""AppTest of "Compare skip designs" on the Gradient flow page (issue 21): its defaults (all six
designs on ResNet-110), its run, and the numbers and sentences explorer computes."""

from __future__ import annotations

from explorer import NetSpec
from explorer.analysis.designs import DESIGNS, compare_designs
from explorer.analysis.designs_report import design_sentences

from apptest_util import fresh_app, widget
from pages.widgets.state import url_query

TINY = NetSpec(layers=(1, 1, 1), base_width=8, stem="cifar", shortcut="A", num_classes=10,
               image_size=16)


def open_page():
    at = fresh_app(url_query(TINY))
    at.switch_page("pages/views/gradient_flow.py").run()
    assert not at.exception, at.exception
    return at


def test_defaults_are_all_six_designs_on_resnet110_and_the_paper_is_quoted():
    at = open_page()
    assert any(h.value == "Compare skip designs" for h in at.header)
    assert widget(at, "cd_net").value == "paper"
    assert widget(at, "cd_designs").value == list(DESIGNS)
    assert widget(at, "cd_orders").value == []
    assert any("6 variant(s) of 110 layers" in c.value for c in at.caption)
    quoted = " ".join(m.value for m in at.markdown)
    assert "8.70 % (gate bias −6)" in quoted and "failed (dropout 0.5 on the shortcut)" in quoted
    assert "pre 6.37 / 5.46 %" in quoted  # Table 2: the orders


def test_a_comparison_shows_explorers_sentences_table_and_download():
    at = open_page()
    widget(at, "cd_net").set_value("sidebar").run()
    widget(at, "cd_designs").set_value(["identity", "scaled", "exclusive_gate"]).run()
    widget(at, "cd_orders").set_value(["pre"]).run()
    widget(at, "cd_batch").set_value(4).run()
    widget(at, "cd_run").click().run()
    assert not at.exception, at.exception
    want = compare_designs(TINY, designs=["identity", "scaled", "exclusive_gate"],
                           orders=["pre"], seed=0, batch_size=4)
    said = [m.value for m in at.markdown]
    for line in design_sentences(want):
        assert f"- {line}" in said
    table = at.dataframe[-1].value
    assert list(table["variant"]) == ["skip_design=identity", "skip_design=scaled",
                                      "skip_design=exclusive_gate", "order=pre"]
    assert list(table["÷ skip_design=identity"])[0] == 1.0
    assert table["‖∂L/∂x‖ at layer1.0"][1] == want.variants[1].first.grad_norm
    assert any(b.label == "Download the comparison (.csv)" for b in at.get("download_button"))
    assert any(c.value.startswith("Right: where a branch ends in BatchNorm (skip_design="
                                  "identity, skip_design=scaled, skip_design=exclusive_gate)")
               and "Only the orders" in c.value for c in at.caption)  # pre ends in a conv


def test_a_refused_variant_is_said_in_words_and_nothing_runs():
    at = open_page()
    widget(at, "cd_net").set_value("sidebar").run()
    widget(at, "cd_scale").set_value(1.5).run()
    assert any("'Skip scale' must be from 0 to 1" in e.value for e in at.error)
    assert not any(b.key == "cd_run" for b in at.button)


def test_the_sidebar_sets_design_scale_bias_and_order():
    at = fresh_app()
    assert widget(at, "w_skip_scale").disabled and widget(at, "w_gate_bias").disabled
    widget(at, "w_skip_design").set_value("scaled").run()
    assert not widget(at, "w_skip_scale").disabled and widget(at, "w_gate_bias").disabled
    widget(at, "w_skip_scale").set_value(0.3).run()
    assert (at.session_state.spec.skip_design, at.session_state.spec.skip_scale) == ("scaled", 0.3)
    assert at.query_params["skip_scale"] == "0.3"
    # Another design: the scale is not that design's, so the spec takes its default (the field
    # keeps 0.3 for when "scaled" comes back).
    widget(at, "w_skip_design").set_value("shortcut_gate").run()
    widget(at, "w_gate_bias").set_value(-7.0).run()
    spec = at.session_state.spec
    assert (spec.skip_design, spec.skip_scale, spec.gate_bias) == ("shortcut_gate", 0.5, -7.0)
    assert widget(at, "w_skip_scale").value == 0.3 and not at.sidebar.error
    widget(at, "w_order").set_value("relu_before_add").run()
    assert at.session_state.spec.order == "relu_before_add"
    widget(at, "w_gate_bias").set_value(99.0).run()  # refused under the field, in words
    assert any(e.value.startswith("'Gate bias' must be from -30 to 30, got 99.")
               for e in at.sidebar.error)
    assert at.session_state.spec.gate_bias == -7.0  # still the last valid network

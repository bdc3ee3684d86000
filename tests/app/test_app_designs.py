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

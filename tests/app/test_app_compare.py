"""AppTest of the Compare page: it opens, the URL keeps its networks beside the sidebar's own
parameters, and it shows (and times) exactly what explorer computes."""

import pytest

from explorer import PRESETS, NetSpec
from explorer.analysis.compare import totals
from explorer.analysis.compare_report import comparison_sentences

from apptest_util import fresh_app, widget
from pages.widgets.state import url_query

PAGE = "pages/views/compare.py"
TINY = NetSpec(layers=(1, 1, 1), base_width=8, stem="cifar", shortcut="A", num_classes=10,
               image_size=16)


def open_compare(compare: str | None = None, spec: NetSpec = TINY):
    query = url_query(spec) | ({"compare": compare} if compare else {})
    at = fresh_app(query)
    at.switch_page(PAGE).run()
    assert not at.exception, at.exception
    return at


def url_value(at, key: str) -> str:
    value = at.query_params[key]
    return value[-1] if isinstance(value, list) else value


def test_opens_with_two_presets_and_keeps_the_sidebars_parameters():
    at = open_compare()
    assert at.title[0].value == "Compare"
    assert widget(at, "cmp_nets").value == ["resnet50", "resnext50_32x4d"]
    assert url_value(at, "compare") == "resnet50,resnext50_32x4d"
    assert {k: url_value(at, k) for k in url_query(TINY)} == url_query(TINY)
    frame = at.dataframe[0].value
    assert list(frame["network"]) == ["resnet50", "resnext50_32x4d"]
    assert list(frame["ImageNet top-1 %"]) == pytest.approx([76.13, 77.618])
    rows = [totals(n, PRESETS[n], 4) for n in ("resnet50", "resnext50_32x4d")]
    assert [i.value for i in at.info] == comparison_sentences(rows)
    assert at.info[0].value.startswith("resnext50_32x4d has 2 % fewer parameters than resnet50")


def test_the_url_picks_the_networks_and_unknown_names_are_said():
    at = open_compare("resnet20,sidebar,nonsense")
    assert widget(at, "cmp_nets").value == ["resnet20", "sidebar"]
    assert any("nonsense" in w.value for w in at.warning)
    assert url_value(at, "compare") == "resnet20,sidebar"
    assert list(at.dataframe[0].value["network"]) == ["resnet20", "sidebar (custom)"]
    with pytest.raises(KeyError):  # no published top-1 among them: no accuracy scatter
        widget(at, "cmp_cost")


def test_picking_networks_rewrites_the_url_and_the_sidebar_keeps_its_own():
    at = open_compare("resnet20,resnet56")
    widget(at, "cmp_nets").set_value(["resnet20", "resnet56", "resnet110"]).run()
    assert not at.exception
    assert url_value(at, "compare") == "resnet20,resnet56,resnet110"
    assert len(at.info) == 2 and at.info[1].value.startswith("resnet110 has 6.41 times")
    widget(at, "w_preset").set_value("resnet32").run()  # the sidebar changes under the page
    assert url_value(at, "compare") == "resnet20,resnet56,resnet110"
    assert url_value(at, "layers") == "5,5,5"
    at.switch_page("pages/views/architecture.py").run()
    at.switch_page(PAGE).run()  # the choice survives a visit elsewhere
    assert widget(at, "cmp_nets").value == ["resnet20", "resnet56", "resnet110"]


def test_one_network_asks_for_another():
    at = open_compare("resnet20")
    assert any("at least two" in i.value for i in at.info)
    assert not at.dataframe


def test_timing_runs_on_tiny_nets_and_the_sentence_reads_it():
    at = open_compare("sidebar,resnet20")
    widget(at, "cmp_batch").set_value(2).run()
    widget(at, "cmp_repeats").set_value(2).run()
    widget(at, "cmp_run").click().run()
    assert not at.exception and not at.error
    speed = at.dataframe[1].value
    assert list(speed["network"]) == ["sidebar (custom)", "resnet20"]
    assert list(speed["repeats"]) == [2, 2] and list(speed["batch"]) == [2, 2]
    assert "on this CPU, per image, its forward pass is" in at.info[0].value
    widget(at, "cmp_batch").set_value(3).run()  # other settings: not timed yet
    assert "on this CPU" not in at.info[0].value


def test_the_budget_refuses_a_timing_and_names_the_network(monkeypatch):
    at = open_compare("sidebar,resnet20")
    monkeypatch.setenv("RESNET_EXPLORER_BUDGET_GB", "0.02")  # the sidebar's net fits
    widget(at, "cmp_batch").set_value(64).run()
    widget(at, "cmp_run").click().run()
    assert any(e.value.startswith("Timing: resnet20: This needs about") for e in at.error)
    assert len(at.dataframe) == 1  # nothing was timed

"""The Architecture page's charts: log axes say so, counts read in SI units, exact on hover."""

from explorer import PRESETS, stage_table
from explorer.figures.architecture import shape_flow, si_tick, stage_bars
from explorer.units import format_count


def test_log_axes_say_they_are_log_scale():
    table = stage_table(PRESETS["resnet50"], 1)
    bars = stage_bars(table)
    for axis in (bars.layout.yaxis, bars.layout.yaxis2):
        assert axis.type == "log" and "log scale" in axis.title.text
    flow = shape_flow(table)
    for axis in (flow.layout.yaxis, flow.layout.yaxis2):
        assert axis.type == "log" and "log scale" in axis.title.text


def test_counts_are_si_labels_with_the_exact_count_on_hover():
    table = stage_table(PRESETS["resnet50"], 32)
    fig = stage_bars(table)
    params, mult_adds = fig.data
    assert list(params.y) == [r.params for r in table.rows]
    assert list(mult_adds.text) == [format_count(r.mult_adds) for r in table.rows]
    layer3 = table.row("layer3").mult_adds
    assert layer3 > 10**10  # tens of G at a batch of 32: the raw count would be 11 digits
    assert mult_adds.text[3] == format_count(layer3) and mult_adds.text[3].endswith(" G")
    assert mult_adds.customdata[3] == f"{layer3:,}"
    assert "%{customdata}" in mult_adds.hovertemplate and "%{text}" in mult_adds.hovertemplate
    assert "batch of 32" in fig.layout.annotations[1].text
    # Tick labels at whole decades with SI suffixes (G, not plotly's B for billions).
    ticks = list(fig.layout.yaxis2.ticktext)
    assert "1G" in ticks and "10G" in ticks and not any("B" in t for t in ticks)


def test_si_tick_labels():
    assert [si_tick(10**e) for e in range(0, 13, 3)] == ["1", "1k", "1M", "1G", "1T"]
    assert si_tick(100) == "100" and si_tick(1e8) == "100M"

"""Receptive field and stride columns of the stage table: hand-computed nets and published values."""

import pytest

from explorer import PRESETS, NetSpec, stage_frame, stage_table


def column(spec, name):
    return dict(zip(stage_frame(stage_table(spec))["stage"], stage_frame(stage_table(spec))[name]))


def test_resnet20_by_hand():
    # 3x3 stem: 3. layer1, six 3x3 convs at stride 1: 3 + 6*2 = 15.
    # layer2: first conv stride 2 at jump 1 (+2), five more at jump 2 (+5*4): 37.
    # layer3: +4 at jump 2, five more at jump 4 (+5*8): 81. Strides 1, 1, 2, 4.
    rows = stage_table(PRESETS["resnet20"]).rows
    assert [(r.name, r.receptive_field, r.stride) for r in rows] == [
        ("stem", 3, 1), ("layer1", 15, 1), ("layer2", 37, 2), ("layer3", 81, 4),
        ("head", None, None)]


def test_imagenet_stem_and_an_empty_stage_by_hand():
    spec = NetSpec(layers=(1, 0, 1), base_width=8, num_classes=3, image_size=64)
    # 7x7/2 conv: 7, jump 2; 3x3/2 max-pool: 7 + 2*2 = 11, jump 4. layer1: + 2*2*4 = 27.
    # layer2 is empty: it passes its input through. layer3: +2*4 (strided conv), +2*8 = 51.
    rf, stride = column(spec, "receptive field"), column(spec, "cumulative stride")
    assert (rf["stem"], rf["layer1"], rf["layer2"], rf["layer3"]) == (11, 27, 27, 51)
    assert (stride["stem"], stride["layer1"], stride["layer2"], stride["layer3"]) == (4, 4, 4, 8)
    assert rf["head"] is pd_na() and rf["total"] is pd_na()


def pd_na():
    import pandas as pd

    return pd.NA


@pytest.mark.parametrize("name, v1_5, original", [
    ("resnet50", 427, 483), ("resnet101", 971, 1027), ("resnet152", 1451, 1507)])
def test_bottlenecks_match_published_receptive_fields(name, v1_5, original):
    # Araujo, Norris & Sim (Distill 2019) list 483 / 1027 / 1507 for ResNet-50/101/152 v1, whose
    # bottlenecks downsample in the first 1x1 conv (our stride_on="1x1"); torchvision's V1.5
    # moves the stride to the 3x3, which shrinks the field by 56 pixels.
    spec = PRESETS[name]
    assert stage_table(spec).row("layer4").receptive_field == v1_5
    assert stage_table(spec.replace(stride_on="1x1")).row("layer4").receptive_field == original
    assert stage_table(spec).row("layer4").stride == 32


def test_skips_do_not_change_the_theoretical_field():
    spec = PRESETS["resnet20"]
    assert column(spec, "receptive field") == column(spec.replace(skip=False), "receptive field")


def test_dict_carries_the_new_fields():
    stages = stage_table(PRESETS["resnet18"]).to_dict()["stages"]
    assert stages[-2]["receptive_field"] == 435 and stages[-2]["stride"] == 32

"""Which shipped pair shows each effect best: one fabricated summary per branch."""

from explorer.analysis.showcase import showcases


def numbers(drop: float, sharpness: float, erf: int | None) -> dict:
    return {"baseline": 0.99, "median_single_drop": drop, "sharpness": sharpness,
            "center_loss": 0.01, "erf_side": erf}


def summary(**pairs) -> dict:
    return {"settings": {"lesion_images": 500, "erf_layer": "layer2"},
            "pairs": {name: {"residual": numbers(*r), "plain": numbers(*p)}
                      for name, (r, p) in pairs.items()}}


def by_effect(s: dict) -> dict:
    return {c.effect: c for c in showcases(s)}


def test_the_strongest_pair_in_the_papers_direction_is_named_with_its_numbers():
    found = by_effect(summary(resnet20=((0.37, 0.5, 9), (0.87, 0.6, 9)),
                              resnet56=((0.0, 0.2, 7), (0.87, 1.6, 13))))
    assert found["lesion"].pair == "resnet56"
    assert "residual net 0.0 points at the median and its plain twin 87.0 points" in \
        found["lesion"].sentence and "500 held-out images" in found["lesion"].sentence
    assert found["landscape"].pair == "resnet56" and "8.0×" in found["landscape"].sentence
    assert found["erf"].pair == "resnet56" and "7 vs 13 px" in found["erf"].sentence


def test_no_pair_is_named_when_none_shows_the_effect():
    found = by_effect(summary(resnet20=((0.37, 0.5, 9), (0.40, 0.6, 10))))
    assert all(c.pair is None for c in found.values())
    assert found["lesion"].sentence.startswith("No shipped pair shows Veit et al.'s")
    assert found["landscape"].sentence.startswith("No shipped pair shows Li et al.'s")
    assert "resnet20: 9 vs 10 px" in found["erf"].sentence  # within the 2 px margin


def test_an_unrecorded_summary_names_nothing():
    assert all(c.pair is None for c in showcases({"pairs": {}}))


def test_a_robust_residual_net_wins_over_a_larger_gap():
    # The shipped numbers: resnet20's gap is larger (38 vs 88 points) but ResNet-56 is robust.
    found = by_effect(summary(resnet20=((0.382, 0.5, 9), (0.876, 0.6, 9)),
                              resnet56=((0.004, 0.2, 7), (0.314, 1.6, 13))))
    assert found["lesion"].pair == "resnet56" and "though" not in found["lesion"].sentence
    only_fragile = by_effect(summary(resnet20=((0.382, 0.5, 9), (0.876, 0.6, 9))))
    assert only_fragile["lesion"].pair == "resnet20"
    assert "though no shipped residual net is robust" in only_fragile["lesion"].sentence

"""The Compare page's core: totals against the meta counting and torchvision's own figures, the
published top-1 read offline, the timing's contract, and one fabricated case per sentence branch."""

import math

import pytest
import torch

from explorer import PRESETS, NetSpec, estimate, stage_table
from explorer.analysis import compare
from explorer.analysis.compare import (Timing, Totals, check_timings_fit, published_top1,
                                       speed_frame, time_network, totals, totals_frame)
from explorer.analysis.compare_report import (accuracy_sentence, comparison_sentence,
                                              comparison_sentences, count_clauses,
                                              per_mult_add_sentence, speed_words,
                                              spread_sentence)

TINY = NetSpec(layers=(1, 1), base_width=8, stem="cifar", shortcut="A", num_classes=10,
               image_size=16)
FOUR = ("resnet50", "resnext50_32x4d", "wide_resnet50_2", "seresnet50")


# -- totals ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", FOUR)
def test_totals_are_the_stage_table_and_the_estimate(name):
    spec = PRESETS[name]
    found = totals(name, spec, batch=4)
    table = stage_table(spec, 1)
    assert found.params == table.total_params
    assert found.mult_adds == table.total_mult_adds
    assert found.train_bytes == estimate(spec, 4).peak_bytes
    assert found.receptive_field == table.row("layer4").receptive_field
    assert found.stages == table.rows
    assert found.whole_image == (name == "seresnet50")  # an SE gate averages the whole map


@pytest.mark.parametrize("name", FOUR[:3])
def test_totals_match_torchvisions_published_counts(name):
    from torchvision.models import get_model_weights

    meta = get_model_weights(name).IMAGENET1K_V1.meta
    found = totals(name, PRESETS[name])
    assert found.params == meta["num_params"]
    assert found.mult_adds / 1e9 == pytest.approx(meta["_ops"], rel=0.01)


def test_receptive_field_of_resnet50_by_hand():
    # conv 7/2 → 7, max-pool 3/2 → 11 (jump 4); each Bottleneck's 3×3 adds 2 × jump:
    # layer1 +3·8 = 35; layer2 +8 (jump 8 after) +3·16 = 91; layer3 +16 +5·32 = 267;
    # layer4 +32 +2·64 = 427.
    assert totals("resnet50", PRESETS["resnet50"]).receptive_field == 427


def test_totals_frame_has_one_row_per_network_and_the_top1():
    rows = [totals(n, PRESETS[n], 2) for n in FOUR]
    frame = totals_frame(rows)
    assert list(frame["network"]) == list(FOUR)
    assert list(frame["params"]) == [r.params for r in rows]
    assert list(frame["train-step MB (batch 2)"]) == [r.train_bytes / 1e6 for r in rows]
    top1 = list(frame["ImageNet top-1 %"])
    assert top1[:3] == pytest.approx([76.13, 77.618, 78.468])
    assert math.isnan(top1[3])  # a timm preset: torchvision publishes nothing for it


# -- the published top-1, offline -----------------------------------------------------------------
def test_top1_is_read_from_torchvisions_metadata_without_a_download(monkeypatch):
    def no_download(*args, **kwargs):
        raise AssertionError("a download was attempted")

    monkeypatch.setattr(torch.hub, "load_state_dict_from_url", no_download)
    monkeypatch.setattr(torch.hub, "download_url_to_file", no_download)
    expected = {"resnet18": 0.69758, "resnet50": 0.7613, "resnext50_32x4d": 0.77618,
                "resnext101_32x8d": 0.79312, "resnext101_64x4d": 0.83246,
                "wide_resnet50_2": 0.78468, "wide_resnet101_2": 0.78848}
    for name, accuracy in expected.items():
        found = published_top1(PRESETS[name])
        assert found.accuracy == pytest.approx(accuracy), name
        assert found.weights.endswith("_Weights.IMAGENET1K_V1")
        assert found.recipe.startswith("https://")


@pytest.mark.parametrize("spec", [PRESETS["seresnet50"], PRESETS["resnet20"],
                                  PRESETS["resnet50"].replace(image_size=128),
                                  PRESETS["resnet50"].replace(skip=False), TINY])
def test_no_top1_for_networks_torchvision_did_not_publish(spec):
    assert published_top1(spec) is None


# -- timing ---------------------------------------------------------------------------------------
def test_time_network_times_each_repeat_and_reports_progress():
    calls = []
    timing = time_network(TINY, batch=2, repeats=3,
                          on_progress=lambda done, total, msg: calls.append((done, total, msg)))
    assert len(timing.forward) == len(timing.train) == 3
    assert all(t > 0 for t in timing.forward + timing.train)
    assert (timing.batch, timing.device, timing.threads) == (2, "cpu", torch.get_num_threads())
    total = 2 * (compare.WARMUP + 3)
    assert [c[0] for c in calls] == list(range(1, total + 1))
    assert {c[1] for c in calls} == {total}
    assert calls[0][2] == "forward, warm-up" and calls[-1][2] == "forward+backward 3/3"


def test_time_network_holds_the_compute_gate(monkeypatch):
    entered = []

    class Recording:
        def __init__(self, device):
            entered.append(str(device))

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return None

    monkeypatch.setattr(compare, "gate", Recording)
    time_network(TINY, batch=1, repeats=1)
    assert entered == ["cpu"]


def test_the_budget_refuses_before_anything_is_built(monkeypatch):
    monkeypatch.setenv("RESNET_EXPLORER_BUDGET_GB", "0.00001")
    monkeypatch.setattr(compare, "build", lambda *a, **k: pytest.fail("built anyway"))
    with pytest.raises(ValueError, match="budget"):
        time_network(TINY, batch=8, repeats=2)
    monkeypatch.setenv("RESNET_EXPLORER_BUDGET_GB", "0.01")  # the tiny net fits, ResNet-50 not
    with pytest.raises(ValueError, match="^resnet50: This needs about"):
        check_timings_fit({"tiny": TINY, "resnet50": PRESETS["resnet50"]}, 8)


def test_batch_1_on_1x1_maps_is_refused_before_the_timing(monkeypatch):
    monkeypatch.setattr(compare, "build", lambda *a, **k: pytest.fail("built anyway"))
    with pytest.raises(ValueError, match="1×1, so a training step at batch 1"):
        time_network(PRESETS["resnet18"].replace(image_size=32), batch=1, repeats=1)


@pytest.mark.parametrize("batch, repeats", [(0, 3), (2, 0)])
def test_time_network_refuses_empty_settings(batch, repeats):
    with pytest.raises(ValueError, match="at least 1"):
        time_network(TINY, batch=batch, repeats=repeats)


def test_speed_frame_lists_the_timed_networks_only():
    rows = [fake("a"), fake("b")]
    frame = speed_frame(rows, {"b": timing([0.010, 0.012, 0.011], [0.030, 0.034, 0.032])})
    assert list(frame["network"]) == ["b"]
    assert frame["forward ms"][0] == pytest.approx(11)
    assert frame["fwd+bwd range ms"][0] == "30–34"


# -- sentences: fabricated numbers, one case per branch ------------------------------------------
def fake(label, params=1_000_000, mult_adds=1_000_000_000, spec=TINY):
    return Totals(label, spec, 1, params, mult_adds, 0, None, False, ())


def timing(forward, train=None, batch=4, device="cpu", threads=2):
    return Timing(batch, device, threads, tuple(forward), tuple(train or forward))


@pytest.mark.parametrize("ratio, with_reference, alone", [
    (0.98, "2 % fewer parameters than ref", "2 % fewer parameters"),
    (1.05, "5 % more parameters than ref", "5 % more parameters"),
    (1.004, "about as many parameters as ref", "about as many parameters"),
    (0.996, "about as many parameters as ref", "about as many parameters"),
    (2.7, "2.7 times the parameters of ref", "2.7 times its parameters"),
    (1 / 2.2, "1/2.2 of the parameters of ref", "1/2.2 of its parameters"),
])
def test_count_clauses(ratio, with_reference, alone):
    assert count_clauses(ratio, "parameters", "ref") == (with_reference, alone)


@pytest.mark.parametrize("other, words, clear", [
    ((0.13, 0.131, 0.129), "1.3 times slower", True),
    ((0.05, 0.049, 0.051), "2 times faster", True),
    ((0.105, 0.095, 0.104), "about as fast (within 10 %)", True),
    ((0.13, 0.09, 0.2), "not told apart from ref's (1.3 times slower at the median, but the "
                        "repeats overlap)", False),
])
def test_speed_words(other, words, clear):
    assert speed_words((0.1, 0.099, 0.101), other, "ref") == (words, clear)


@pytest.mark.parametrize("ratio, start", [
    (1.3, "Per mult-add it is 1.3 times slower: its mult-adds understate"),
    (1 / 1.5, "Per mult-add it is 1.5 times faster: its mult-adds overstate"),
    (1.05, "Per mult-add it is about as fast (within 10 %): here its mult-adds predict"),
])
def test_per_mult_add_sentence(ratio, start):
    assert per_mult_add_sentence(ratio).startswith(start)


def test_the_issues_example_resnext_against_resnet():
    ref = fake("ResNet-50", params=25_557_032, mult_adds=4_089_184_256)
    other = fake("ResNeXt-50", params=25_028_904, mult_adds=4_230_000_000)
    line = comparison_sentence(ref, other, timing([0.10, 0.101, 0.099], [0.3, 0.31, 0.29]),
                               timing([0.13, 0.131, 0.129], [0.42, 0.43, 0.41]))
    assert line == ("ResNeXt-50 has 2 % fewer parameters than ResNet-50 and 3 % more mult-adds; "
                    "on this CPU, per image, its forward pass is 1.3 times slower and its "
                    "training step (forward+backward) 1.4 times slower. Per mult-add it is 1.3 "
                    "times slower: its mult-adds understate its forward time here.")


def test_without_comparable_timings_only_the_counts_are_said():
    ref, other = fake("a"), fake("b", params=3_000_000, mult_adds=995_000_000)
    expected = "b has 3 times the parameters of a and about as many mult-adds."
    assert comparison_sentence(ref, other) == expected
    assert comparison_sentence(ref, other, timing([0.1]), None) == expected
    assert comparison_sentence(ref, other, timing([0.1], batch=4),
                               timing([0.2], batch=8)) == expected  # other settings
    assert comparison_sentence(ref, other, timing([0.1]), timing([0.2], device="cuda")) \
        == expected


def test_overlapping_forward_times_make_no_per_mult_add_claim():
    line = comparison_sentence(fake("a"), fake("b"), timing([0.1, 0.05, 0.2]),
                               timing([0.15, 0.08, 0.3]), )
    assert line.endswith("its forward pass is not told apart from a's (1.5 times slower at the "
                         "median, but the repeats overlap) and its training step "
                         "(forward+backward) not told apart from a's (1.5 times slower at the "
                         "median, but the repeats overlap).")
    assert "Per mult-add" not in line


def test_on_a_gpu_the_sentence_says_gpu():
    line = comparison_sentence(fake("a"), fake("b"), timing([0.1], device="cuda:0"),
                               timing([0.1], device="cuda:0"))
    assert "on this GPU, per image, its forward pass is about as fast" in line


@pytest.mark.parametrize("other, verdict", [
    ("resnext50_32x4d", "Its published ImageNet top-1 (77.6 %) is 1.5 points higher than "
                        "resnet50's (76.1 %)."),
    ("resnet34", "Its published ImageNet top-1 (73.3 %) is 2.8 points lower than resnet50's "
                 "(76.1 %)."),
    ("resnet50", "Its published ImageNet top-1 (76.1 %) is about the same as resnet50's "
                 "(76.1 %)."),
    ("seresnet50", None),
])
def test_accuracy_sentence(other, verdict):
    ref = fake("resnet50", spec=PRESETS["resnet50"])
    assert accuracy_sentence(ref, fake(other, spec=PRESETS[other])) == verdict


def test_comparison_sentences_compare_everything_with_the_first():
    rows = [fake("resnet50", spec=PRESETS["resnet50"]),
            fake("wide", params=2_700_000, spec=PRESETS["wide_resnet50_2"]), fake("tiny")]
    lines = comparison_sentences(rows)
    assert len(lines) == 2
    assert lines[0].startswith("wide has 2.7 times the parameters of resnet50")
    assert lines[0].endswith("2.3 points higher than resnet50's (76.1 %).")
    assert lines[1] == "tiny has about as many parameters as resnet50 and about as many mult-adds."
    assert comparison_sentences(rows[:1]) == []


def test_spread_sentence_names_the_least_steady_timing():
    steady = timing([0.10, 0.11, 0.105], [0.30, 0.33, 0.31])
    assert spread_sentence({"a": steady}) is None
    assert spread_sentence({}) is None
    shaky = timing([0.10, 0.11], [0.30, 0.45])
    line = spread_sentence({"a": steady, "b": shaky})
    assert line.startswith("The repeats vary: b's slowest forward+backward pass took 1.5 times "
                           "as long as its fastest.")

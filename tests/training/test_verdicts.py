"""Training verdicts: every rule's branches on fabricated outcomes (8 classes, chance 12.5 %)."""

import pytest

from explorer.units import pct
from explorer.training.verdicts import (Outcome, compare_pair, degradation, trains_worse,
                                        verdicts)


def net(depth, residual, loss, val, classes=8):
    label = f"{'resnet' if residual else 'plain'}-{depth}"
    return Outcome(label, depth, residual, loss, val, classes)


def test_learned_needs_ten_points_above_chance_or_a_low_loss():
    assert not net(20, True, 2.0, 0.20).learned  # 7.5 points above chance
    assert net(20, True, 2.0, 0.226).learned
    assert net(20, True, 1.0, None).learned  # 1.0 < 0.9 ln 8 = 1.87
    assert not net(20, True, 1.95, None).learned and not net(20, True, None, None).learned


def test_trains_worse_needs_both_margins():
    assert trains_worse(net(56, False, 2.07, 0.13), net(20, False, 0.01, 0.99))
    assert not trains_worse(net(56, False, 0.012, 0.99), net(20, False, 0.010, 0.99))  # 0.002 nats
    assert not trains_worse(net(56, False, 1.00, 0.5), net(20, False, 0.94, 0.5))  # 6 % higher
    assert not trains_worse(net(56, False, None, 0.5), net(20, False, 0.1, 0.5))


def test_pairs_each_branch():
    r, p = net(56, True, 0.02, 0.98), net(56, False, 2.07, 0.13)
    assert "only the residual net learned" in compare_pair(r, p)
    assert "only the plain net learned" in compare_pair(net(56, True, 2.07, 0.13),
                                                        net(56, False, 0.02, 0.98))
    assert "neither net learned" in compare_pair(net(56, True, 2.07, 0.13), p)
    assert "plain net trained worse" in compare_pair(net(20, True, 0.01, 0.99), net(20, False, 0.30, 0.90))
    assert "residual net trained worse" in compare_pair(net(20, True, 0.30, 0.90), net(20, False, 0.01, 0.99))
    assert "about equally well" in compare_pair(net(20, True, 0.010, 0.99), net(20, False, 0.012, 0.99))
    assert "98.0 %" in compare_pair(r, p)


def test_degradation_stated_only_when_the_numbers_show_it():
    shown = [net(20, True, 0.01, 0.99), net(20, False, 0.02, 0.99),
             net(56, True, 0.02, 0.98), net(56, False, 2.07, 0.13)]
    assert "degradation problem of He et al.'s Fig. 1" in degradation(shown)
    not_shown = [net(20, True, 0.01, 0.99), net(20, False, 0.02, 0.99),
                 net(56, True, 0.02, 0.98), net(56, False, 0.021, 0.98)]
    text = degradation(not_shown)
    assert "does not show the degradation problem" in text and "He et al." not in text
    both = [net(20, True, 0.01, 0.99), net(20, False, 0.02, 0.99),
            net(56, True, 1.5, 0.4), net(56, False, 2.0, 0.2)]
    assert "does not single out plain nets" in degradation(both)
    shallow_failed = [net(20, True, 0.5, 0.8), net(20, False, 2.07, 0.12),
                      net(56, True, 0.5, 0.8), net(56, False, 2.07, 0.12)]
    assert "did not learn" in degradation(shallow_failed)
    assert degradation(shown[:2]) is None  # one depth only


def test_the_issue_case_nothing_learned_says_so_and_what_to_change():
    # The run the issue describes: 13–19 % accuracy, losses near ln 8 = 2.079.
    outcomes = [net(20, True, 2.00, 0.19), net(20, False, 2.011, 0.15),
                net(56, True, 2.05, 0.16), net(56, False, 2.077, 0.13)]
    lines = verdicts(outcomes)
    assert len(lines) == 1 and lines[0].startswith("Nothing learned")
    assert "12.5 %" in lines[0] and "learning rate" in lines[0]
    assert not any("degradation problem of" in line for line in lines)


def test_a_run_stopped_within_its_first_epoch_is_too_early_to_judge():
    early = [Outcome("resnet-20", 20, True, 2.05, 0.13, 8, epochs_done=0.14),
             Outcome("plain-20", 20, False, 2.07, 0.12, 8, epochs_done=0.14)]
    lines = verdicts(early)
    assert len(lines) == 1 and lines[0].startswith("Nothing learned yet")
    assert "0.14 of an epoch" in lines[0] and "learning rate" not in lines[0]
    after_one = [Outcome("resnet-20", 20, True, 2.05, 0.13, 8, epochs_done=1.0)]
    assert "learning rate" in verdicts(after_one)[0]  # a full epoch: the settings are suspect


def test_verdicts_list_pairs_then_the_figure_sentence():
    outcomes = [net(20, True, 0.01, 0.99), net(20, False, 0.02, 0.99),
                net(56, True, 0.02, 0.98), net(56, False, 2.07, 0.13)]
    lines = verdicts(outcomes)
    assert lines[0].startswith("At 20 layers") and lines[1].startswith("At 56 layers")
    assert "Fig. 1" in lines[2]
    assert verdicts([net(20, True, 0.01, 0.99)])[0].endswith("it learned.")


@pytest.mark.parametrize("x, text", [(0.9975, "99.8 %"), (0.125, "12.5 %"), (1.0, "100.0 %")])
def test_one_accuracy_format(x, text):
    assert pct(x) == text


def cut(o: Outcome, done: float, planned: float = 2.0) -> Outcome:
    from dataclasses import replace

    return replace(o, epochs_done=done, epochs_planned=planned)


def test_the_issue_case_a_run_stopped_early_names_no_winner():
    # Issue 19: a default run stopped after 0.89 of 2 epochs called plain-20 a non-learner
    # while the recorded Fig. 1 shows it at 99.7 %.
    outcomes = [cut(net(20, True, 0.9, 0.62), 0.89), cut(net(20, False, 2.032, 0.199), 0.89)]
    lines = verdicts(outcomes)
    assert len(lines) == 1
    assert "cut short after 0.89 of 2 epochs" in lines[0] and "too early" in lines[0]
    assert "only the residual net learned" not in lines[0]
    assert "plain-20: training loss 2.032, 19.9 % held-out" in lines[0]  # the numbers so far


def test_a_finished_run_gets_its_verdict():
    outcomes = [cut(net(20, True, 0.9, 0.62), 2.0), cut(net(20, False, 2.032, 0.199), 2.0)]
    assert "only the residual net learned" in verdicts(outcomes)[0]


def test_a_run_cut_short_where_nothing_learned_says_nothing_learned_yet():
    outcomes = [cut(net(20, True, 2.07, 0.13), 0.5), cut(net(20, False, 2.07, 0.12), 0.5)]
    assert verdicts(outcomes)[0].startswith("Nothing learned yet")


def test_unknown_epochs_are_not_cut_short():
    assert not net(20, True, 0.1, 0.9).cut_short
    assert not cut(net(20, True, 0.1, 0.9), 2.0, 2.0).cut_short
    assert cut(net(20, True, 0.1, 0.9), 1.5, 2.0).cut_short


def test_nearness_to_chance_is_said_in_percentage_points():
    line = verdicts([net(20, True, 2.07, 0.13), net(20, False, 2.07, 0.12)])[0]
    assert "within 10 percentage points of chance (12.5 %)" in line

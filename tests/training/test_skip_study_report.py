"""The skip-design study's table and sentences follow its numbers: hand-made study folders for
every branch, and the paper's own numbers (He et al. 2016, Tables 1-2) beside them."""

import pandas as pd
import pytest
from skip_study_util import write_run

from explorer.training.skip_study import load_study
from explorer.training.skip_study_report import (PAPER_164_COLUMN, PAPER_COLUMN, SAME_ACCURACY,
                                                 SETTING_COLUMN, here_verdict,
                                                 study_frame, study_sentences)


def study_of(tmp_path, **runs):
    """``identity=(0.98, 0.02), scaled=(0.9, 0.3)``: variant → (test accuracy, final loss);
    ``order_pre`` names ``order-pre``."""
    for variant, (accuracy, loss) in runs.items():
        write_run(tmp_path, variant.replace("order_", "order-"), accuracy, loss)
    return load_study(tmp_path)


def said_about(study, variant: str) -> str:
    return next(line for line in study_sentences(study) if f"({variant})" in line)


def test_a_design_made_to_fail_is_said_not_to_learn_and_to_agree_with_a_paper_failure(tmp_path):
    study = study_of(tmp_path, identity=(0.98, 0.02), dropout=(0.13, 2.05))
    line = said_about(study, "dropout")
    assert "did not learn here" in line and "13.0 %" in line and "chance is 12.5 %" in line
    assert "failed to train" in line and "here it did not learn either" in line
    assert "its final training loss is clearly higher (2.050 against 0.020)" in line


def test_the_same_design_made_to_train_is_said_to_disagree_with_the_paper(tmp_path):
    study = study_of(tmp_path, identity=(0.98, 0.02), dropout=(0.975, 0.025))
    line = said_about(study, "dropout")
    assert "trained about as well as the identity here" in line
    assert "did not learn" not in line
    assert "here it trained as well as the identity, which the paper did not find" in line
    assert "its final training loss is about the same (0.025 against 0.020)" in line


def test_a_design_worse_here_and_in_the_paper_agrees_with_the_papers_number(tmp_path):
    study = study_of(tmp_path, identity=(0.98, 0.02), scaled=(0.90, 0.30))
    line = said_about(study, "scaled")
    assert "trained 8.0 points worse than the identity here" in line
    # Table 1: shortcut × 0.5, branch × 0.5 → 12.35 %, the identity 6.61 %.
    assert "12.35 %" in line and "6.61 %" in line and "here it trained worse too" in line


def test_a_design_that_learned_but_trained_worse_where_the_paper_failed(tmp_path):
    line = said_about(study_of(tmp_path, identity=(0.98, 0.02), dropout=(0.70, 0.8)),
                      "dropout")
    assert "trained 28.0 points worse" in line and "worse too, though it did learn" in line


def test_a_design_that_did_not_learn_where_the_paper_found_it_worse(tmp_path):
    line = said_about(study_of(tmp_path, identity=(0.98, 0.02), conv=(0.12, 2.0)), "conv")
    assert "12.22 %" in line and "here it did not learn at all" in line


def test_a_design_the_paper_found_as_good_that_trained_worse_here(tmp_path):
    line = said_about(study_of(tmp_path, identity=(0.98, 0.02), shortcut_gate=(0.8, 0.5)),
                      "shortcut_gate")
    # Table 1: the shortcut-only gate at bias −6 → 6.91 %, within a point of the identity.
    assert "6.91 %" in line and "about as good" in line
    assert "here it trained worse, which the paper did not find" in line


def test_better_than_the_identity_and_a_clearly_lower_loss_are_said(tmp_path):
    line = said_about(study_of(tmp_path, identity=(0.80, 0.50), exclusive_gate=(0.95, 0.05)),
                      "exclusive_gate")
    assert "trained 15.0 points better than the identity here" in line
    assert "clearly lower (0.050 against 0.500)" in line
    assert "8.70 %" in line and "which the paper did not find" in line


def test_orders_are_compared_with_the_identity_run_as_the_original_order(tmp_path):
    study = study_of(tmp_path, identity=(0.98, 0.02), order_pre=(0.985, 0.015),
                     order_bn_after_add=(0.90, 0.2))
    pre = said_about(study, "order-pre")
    assert "for the identity run (post order)" in pre
    # Table 2, ResNet-110: pre 6.37 %, post 6.61 % (within a point); pre is the lowest order.
    assert "6.37 %" in pre and "6.61 % for the original order (post)" in pre
    assert "the lowest of Table 2's orders for ResNet-110 and ResNet-164" in pre
    assert "here too it trained as well as the identity" in pre
    bn = said_about(study, "order-bn_after_add")
    assert "8.17 %" in bn and ": worse;" in bn and "here it trained worse too" in bn
    assert "lowest" not in bn


def test_a_setting_the_paper_did_not_train_is_said_so(tmp_path):
    folder = write_run(tmp_path, "scaled", 0.9, 0.3)
    spec = (folder / "spec.json").read_text().replace('"skip_scale": 0.5', '"skip_scale": 0.3')
    (folder / "spec.json").write_text(spec)
    write_run(tmp_path, "identity", 0.98, 0.02)
    study = load_study(tmp_path)
    assert "did not train this setting" in said_about(study, "scaled")
    frame = study_frame(study).set_index("variant")
    assert frame.loc["scaled", PAPER_COLUMN] == "not in the paper"


def test_without_an_identity_run_nothing_is_compared(tmp_path):
    lines = study_sentences(study_of(tmp_path, scaled=(0.9, 0.3)))
    assert lines[0].startswith("The identity run is not recorded yet") and "90.0 %" in lines[0]
    assert not any("(scaled) trained" in line for line in lines)
    assert study_frame(study_of(tmp_path / "b", scaled=(0.9, 0.3)))["here"].isna().all()


def test_an_identity_run_that_did_not_learn_is_said_so_instead_of_comparing(tmp_path):
    lines = study_sentences(study_of(tmp_path, identity=(0.2, 2.0), scaled=(0.9, 0.3)))
    assert lines[0].startswith("The identity run did not learn (test accuracy 20.0 %")
    assert not any("(scaled)" in line for line in lines)


def test_the_variants_not_recorded_yet_are_named(tmp_path):
    lines = study_sentences(study_of(tmp_path, identity=(0.98, 0.02), scaled=(0.9, 0.3)))
    missing = next(line for line in lines if line.startswith("Not recorded yet"))
    assert "conv" in missing and "order-pre" in missing and "scaled" not in missing
    full = {v: (0.98, 0.02) for v in ("identity", "scaled", "exclusive_gate", "shortcut_gate",
                                      "conv", "dropout", "order_bn_after_add",
                                      "order_relu_before_add", "order_relu_preact", "order_pre")}
    assert not any(line.startswith("Not recorded yet")
                   for line in study_sentences(study_of(tmp_path / "full", **full)))


def test_the_caveat_counts_the_runs_and_names_the_differences(tmp_path):
    caveat = study_sentences(study_of(tmp_path, identity=(0.98, 0.02), conv=(0.9, 0.1)))[-1]
    assert caveat.startswith("Here: 2 runs of ResNet-56 on the synthetic shapes (8 classes)")
    assert "2,000 images" in caveat and "Shapes is not CIFAR-10" in caveat and "seed" in caveat


@pytest.mark.parametrize("accuracy, verdict", [
    (0.9 - SAME_ACCURACY + 0.001, "same"), (0.9 + SAME_ACCURACY + 0.001, "better"),
    (0.9 - SAME_ACCURACY - 0.001, "worse"), (0.125 + 0.099, "failed"), (0.125 + 0.1, "worse")])
def test_the_verdict_margins(tmp_path, accuracy, verdict):
    study = study_of(tmp_path, identity=(0.9, 0.1), conv=(accuracy, 0.1))
    assert here_verdict(study.run("conv"), study.reference) == verdict


def test_the_table_shows_each_runs_numbers_beside_the_papers(tmp_path):
    study = study_of(tmp_path, identity=(0.98, 0.02), scaled=(0.90, 0.30),
                     dropout=(0.13, 2.05), order_relu_preact=(0.97, 0.03))
    frame = study_frame(study).set_index("variant")
    assert list(frame.index) == ["identity", "scaled", "dropout", "order-relu_preact"]
    assert frame.loc["scaled", "test accuracy (%)"] == pytest.approx(90.0)
    assert frame.loc["dropout", "test accuracy (%)"] == 13.0  # as the sentences print it
    assert frame.loc["scaled", "final training loss"] == "0.300"
    assert frame.loc["scaled", "vs identity (points)"] == pytest.approx(-8.0)
    assert frame.loc["identity", "here"] == "the reference"
    assert frame.loc["scaled", "here"] == "worse than the identity"
    assert frame.loc["dropout", "here"] == "did not learn"
    assert frame.loc["order-relu_preact", "here"] == "as well as the identity"
    assert frame.loc["dropout", "design or order"] == "shortcut dropout"
    # Tables 1-2: ResNet-110's error; ResNet-164's where Table 2 has it; the setting last.
    paper, paper_164 = frame[PAPER_COLUMN], frame[PAPER_164_COLUMN]
    assert paper["identity"] == "6.61 %" and paper_164["identity"] == "5.93 %"
    assert paper["scaled"] == "12.35 %" and pd.isna(paper_164["scaled"])
    assert frame.loc["scaled", SETTING_COLUMN] == "Table 1: shortcut × 0.5, branch × 0.5"
    assert paper["dropout"] == "above 20 % (failed)"
    assert paper["order-relu_preact"] == "6.71 %" and paper_164["order-relu_preact"] == "5.91 %"
    assert frame.loc["order-relu_preact", SETTING_COLUMN] == "Table 2"
    assert list(frame.columns)[-1] == SETTING_COLUMN
    assert frame.loc["scaled", "paper's verdict"] == "worse"
    assert frame.loc["order-relu_preact", "paper's verdict"] == "about as good"
    assert frame.loc["dropout", "paper's verdict"].startswith("failed")


def test_a_gap_both_call_worse_is_sized_on_both_sides(tmp_path):
    line = said_about(study_of(tmp_path, identity=(0.98, 0.02), scaled=(0.33, 1.7)), "scaled")
    # here 98 − 33 = 65 points of accuracy; Table 1: 12.35 − 6.61 = 5.74 points of error
    assert "(by 65.0 points of accuracy here, 5.74 points of error in the paper)" in line


def test_runs_still_improving_at_the_end_are_named(tmp_path):
    write_run(tmp_path, "identity", 0.98, 0.02, val_accuracies=(0.5, 0.9, 0.97, 0.98))
    write_run(tmp_path, "scaled", 0.35, 1.7, val_accuracies=(0.14, 0.16, 0.26, 0.35))
    caveat = study_sentences(load_study(tmp_path))[-1]
    assert "Still improving in the last of its 4 epochs" in caveat
    assert "scaled (+9.0 points)" in caveat and "identity (" not in caveat


def test_a_diverged_loss_prints_in_scientific_notation_in_the_table_and_the_sentence(tmp_path):
    study = study_of(tmp_path, identity=(0.98, 0.02), dropout=(0.13, 8.138e13))
    frame = study_frame(study).set_index("variant")
    assert frame.loc["dropout", "final training loss"] == "8.14e+13"
    line = next(s for s in study_sentences(study) if s.startswith("Shortcut dropout"))
    assert "(8.14e+13 against 0.020)" in line

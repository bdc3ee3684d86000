"""The recorded skip-design study loads from its run folders: every finished variant of the
shipped study, with its own metrics; a study still being recorded loads with what has landed."""

import json

import pytest
from skip_study_util import STEPS, write_run

from explorer.nets.reference import ORDER_ERRORS, SKIP_DESIGN_RUNS
from explorer.training.skip_study import (STUDY_FOLDER, load_study, recorded_skip_designs,
                                          study_variants)


def shipped_folders():
    return sorted(p.parent for p in STUDY_FOLDER.glob("*/metrics.json"))


def test_every_shipped_variant_folder_is_loaded_with_its_own_numbers():
    study = recorded_skip_designs()
    assert study is not None and shipped_folders(), "no variant of the study is shipped"
    assert [r.variant for r in study.runs] == [v for v in study_variants()
                                               if STUDY_FOLDER / v in shipped_folders()]
    assert {STUDY_FOLDER / r.variant for r in study.runs} == set(shipped_folders())
    for run in study.runs:
        metrics = json.loads((STUDY_FOLDER / run.variant / "metrics.json").read_text())
        history = json.loads((STUDY_FOLDER / run.variant / "history.json").read_text())
        assert run.test_accuracy == metrics["test_accuracy"]
        assert run.final_train_loss == metrics["final_train_loss"]
        assert run.command == metrics["command"]
        assert f"--out checkpoints/skip-designs/{run.variant}" in run.command
        assert list(run.losses) == [s["loss"] for s in history["steps"]]
        assert list(run.val_accuracies) == [e["val_accuracy"] for e in history["epochs"]]
        assert run.val_steps[-1] == run.steps[-1] == metrics["total_steps"]
        # What the folder is named for is what its spec changes.
        assert run.variant == (f"order-{run.spec.order}" if run.field == "order"
                               else run.spec.skip_design)


def test_the_shipped_study_holds_all_six_designs_of_table_1_and_all_orders_of_table_2():
    study = recorded_skip_designs()
    assert study is not None
    recorded = {r.value for r in study.runs if r.field == "skip_design"}
    assert recorded == set(SKIP_DESIGN_RUNS), f"not recorded yet: {study.missing}"
    orders = {r.value for r in study.runs if r.field == "order"} | {"post"}
    assert orders == set(ORDER_ERRORS)


def test_the_study_names_every_variant_of_the_papers_tables():
    # Table 1's designs, and Table 2's orders but "post", which is the identity run.
    assert set(study_variants()) == set(SKIP_DESIGN_RUNS) | {
        f"order-{o}" for o in ORDER_ERRORS if o != "post"}


def test_a_partial_study_loads_what_has_landed_and_names_the_rest(tmp_path):
    write_run(tmp_path, "scaled", 0.9, 0.2)
    write_run(tmp_path, "order-pre", 0.95, 0.1)
    study = load_study(tmp_path)
    assert [r.variant for r in study.runs] == ["scaled", "order-pre"]
    assert study.reference is None
    assert study.missing == tuple(v for v in study_variants() if v not in ("scaled", "order-pre"))
    pre = study.run("order-pre")
    assert (pre.field, pre.value, pre.label) == ("order", "pre", "full pre-activation")
    scaled = study.run("scaled")
    assert (scaled.field, scaled.value, scaled.label) == ("skip_design", "scaled",
                                                          "constant scaling")
    # Each epoch's held-out accuracy sits at the last step of that epoch.
    assert pre.val_steps == (10, 20, 30, 40) and len(pre.steps) == STEPS


def test_a_run_still_being_written_is_not_recorded_yet(tmp_path):
    write_run(tmp_path, "identity", 0.99, 0.01)
    (write_run(tmp_path, "conv", 0.9, 0.2) / "history.json").unlink()  # metrics come first
    history = write_run(tmp_path, "dropout", 0.9, 0.2) / "history.json"
    history.write_text(history.read_text()[:100])  # caught halfway through its write
    study = load_study(tmp_path)
    assert [r.variant for r in study.runs] == ["identity"]
    assert {"conv", "dropout"} <= set(study.missing)


def test_the_cached_study_reads_a_variant_that_lands_while_the_server_runs(tmp_path):
    assert recorded_skip_designs(tmp_path) is None
    write_run(tmp_path, "identity", 0.99, 0.01)
    assert [r.variant for r in recorded_skip_designs(tmp_path).runs] == ["identity"]
    assert recorded_skip_designs(tmp_path) is recorded_skip_designs(tmp_path)  # cached
    write_run(tmp_path, "scaled", 0.9, 0.2)
    assert [r.variant for r in recorded_skip_designs(tmp_path).runs] == ["identity", "scaled"]


@pytest.mark.parametrize("variant", ["conv", "order-relu_preact"])
def test_a_single_variant_folder_is_a_study(tmp_path, variant):
    write_run(tmp_path, variant, 0.5, 1.0)
    study = load_study(tmp_path)
    assert [r.variant for r in study.runs] == [variant] and variant not in study.missing

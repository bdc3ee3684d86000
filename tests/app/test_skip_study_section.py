"""The Training page's "Which skip?" section draws the recorded skip-design study under the
recorded Fig. 1: its curves, its table and the sentences generated from it, and a study still
being recorded with what has landed."""

import json

from apptest_util import fresh_app, widget
from skip_study_util import write_run

from explorer.training import skip_study
from explorer.training.skip_study import STUDY_FOLDER, recorded_skip_designs
from explorer.training.skip_study_report import study_sentences

HEADER = "Which skip? He et al. 2016 Tables 1–2, recorded"


def figure1_page():
    at = fresh_app()
    at.switch_page("pages/views/training.py").run()
    widget(at, "train_experiment").set_value("figure1").run()
    assert not at.exception
    return at


def study_table(at):
    return next(d.value for d in at.dataframe if "test accuracy (%)" in d.value.columns)


def test_the_section_draws_the_shipped_study_and_its_table():
    study = recorded_skip_designs()
    assert study is not None, "no variant of the study is shipped"
    at = figure1_page()
    assert HEADER in [h.value for h in at.subheader]
    table = study_table(at)
    assert list(table["variant"]) == [run.variant for run in study.runs]
    for variant, shown in zip(table["variant"], table["test accuracy (%)"]):
        metrics = json.loads((STUDY_FOLDER / variant / "metrics.json").read_text())
        assert shown == round(100 * metrics["test_accuracy"], 1)
    shown = [m.value.removeprefix("- ") for m in at.markdown]
    assert all(line in shown for line in study_sentences(study))
    commands = next(c.value for c in at.code if "skip-designs" in c.value)
    assert commands.splitlines() == [run.command for run in study.runs]
    charts = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    assert any(len(c["data"]) == 2 * len(study.runs) and "Training loss" in json.dumps(c["layout"])
               for c in charts)


def test_a_study_being_recorded_shows_what_has_landed(tmp_path, monkeypatch):
    monkeypatch.setattr(skip_study, "STUDY_FOLDER", tmp_path)
    at = figure1_page()
    assert any("No run of the skip-design study is recorded yet" in i.value for i in at.info)
    write_run(tmp_path, "identity", 0.98, 0.02)
    write_run(tmp_path, "dropout", 0.13, 2.05)
    at.run()
    assert not at.exception
    assert list(study_table(at)["variant"]) == ["identity", "dropout"]
    said = " ".join(m.value for m in at.markdown)
    assert "Shortcut dropout (dropout) did not learn here" in said
    assert "Not recorded yet: scaled, exclusive_gate" in said

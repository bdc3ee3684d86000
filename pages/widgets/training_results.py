"""After a training run: what it shows in words, its table, the zip, the hand-over to the
analysis pages."""

from __future__ import annotations

import streamlit as st

from explorer.io.bundle import bundle_runs
from explorer.training.curves import Curve
from explorer.training.handover import trained_twins
from explorer.training.jobs import TrainingJob
from explorer.training.report import results_table
from explorer.training.runner import run_metrics
from explorer.training.verdicts import verdicts



def show(job: TrainingJob, curves: list[Curve]) -> None:
    """The ended job's verdicts, table and hand-over; ``curves`` are its results' curves."""
    for line in verdicts([c.outcome() for c in curves]):
        st.markdown(f"- {line}")
    st.dataframe(results_table(job.results), hide_index=True, width="stretch")
    cols = st.columns(len(job.results) + 1)
    cols[0].download_button("Trained models (.zip)", _bundle(job), "trained-models.zip",
                            "application/zip", key="train_zip",
                            help="Weights, spec, training settings, metrics and class names: "
                                 "upload it on the Grad-CAM page to use the nets again.")
    for col, run in zip(cols[1:], job.results):
        name = job.results[run].specs["residual" if "residual" in job.results[run].models
                                        else "plain"].depth
        if col.button(f"Analyse the {name}-layer {run} nets on other pages", key=f"use_{run}"):
            st.session_state.trained_models = trained_twins(job.results[run], run)
            st.success("Done: pick “trained in this session” on the Grad-CAM or Gradient flow "
                       "page.")


def _bundle(job: TrainingJob) -> bytes:
    key = ("train_zip_bytes", id(job))
    if st.session_state.get("train_zip_key") != key:  # zip once per finished job
        command = "trained on the Training page; " + job.config.command()
        metrics = {(run, variant): run_metrics(result, variant, command)
                   for run, result in job.results.items() for variant in result.models}
        st.session_state.train_zip_bytes = bundle_runs(job.results, metrics)
        st.session_state.train_zip_key = key
    return st.session_state.train_zip_bytes

"""After a training run: what it shows in words, its table, the zip, the hand-over to the
analysis pages."""

from __future__ import annotations

import streamlit as st

from explorer.io.bundle import bundle_runs
from explorer.training.curves import Curve
from explorer.training.datasets import DATASETS
from explorer.training.jobs import TrainingJob
from explorer.training.report import results_table
from explorer.training.runner import run_metrics
from explorer.training.verdicts import pct, verdicts

from .weights_picker import Weights


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
            st.session_state.trained_models = hand_over(job, run)
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


def hand_over(job: TrainingJob, run: str) -> Weights:
    """The trained nets with the facts of *their* dataset (not the one selected now)."""
    result = job.results[run]
    info = DATASETS[result.config.dataset]
    models = result.models
    main = "residual" if "residual" in models else next(iter(models))
    twin = models.get("plain") if main == "residual" else None
    final = result.histories[main].final
    accuracy = final.get("val_accuracy")
    how = (f"stopped early after {result.epochs_done:.2f} epochs" if result.stopped
           else f"{result.epochs_done:.0f} epoch(s)")
    held_out = f", {pct(accuracy)} held-out accuracy" if accuracy is not None else ""
    return Weights(models[main], result.specs[main], info.normalization, info.classes,
                   f"the **{run}** net trained in this session on {info.title} ({how}{held_out})",
                   twin)

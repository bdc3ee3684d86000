"""The Training page's "Which skip?" section: He et al. 2016's Tables 1-2 as recorded on shapes."""

from __future__ import annotations

import streamlit as st

from explorer.figures.skip_study import skip_study_figure
from explorer.training.skip_study import recorded_skip_designs
from explorer.training.skip_study_report import (PAPER_164_COLUMN, PAPER_COLUMN,
                                                 SETTING_COLUMN, study_frame, study_sentences)
from explorer.units import format_duration

RECORDER = "python checkpoints/skip-designs/record.py --workers 2"
PAPER_HELP = ("He et al. 2016, “Identity Mappings”: test error on CIFAR-10 of ResNet-110 "
              "(Table 1 for the designs, Table 2 for the orders). 'failed': above 20 %.")
PAPER_164_HELP = "The same paper's Table 2 also trained the orders on ResNet-164 (bottlenecks)."


def draw() -> None:
    """The section, from its header to its commands."""
    st.subheader("Which skip? He et al. 2016 Tables 1–2, recorded")
    study = recorded_skip_designs()
    if study is None:
        st.info(f"No run of the skip-design study is recorded yet: `{RECORDER}` records it.")
        return
    first = study.runs[0]
    st.caption(
        f"Recorded, not live: ResNet-{first.spec.depth} trained on the synthetic shapes once per "
        f"skip design (He et al. 2016, “Identity Mappings”, Table 1) and once per activation "
        f"order (Table 2), with one recipe, seed and batch order; each variant changes one "
        f"thing from the identity run. Left: training loss per step (smoothed, log scale; lower "
        f"is better), designs solid, orders dashed. Right: held-out accuracy after each epoch. "
        f"The table sets each variant's test accuracy beside the paper's CIFAR-10 test *error* "
        f"for the same setting (lower is better there).")
    with st.expander("The commands that recorded it"):
        st.code("\n".join(run.command for run in study.runs), language="bash")
        st.caption(f"One run per line, {format_duration(sum(r.seconds for r in study.runs))} "
                   f"of training in all; `{RECORDER}` runs every variant not yet recorded.")
    st.plotly_chart(skip_study_figure(study), width="stretch", key="train_skip_study")
    # What a reader compares first (accuracy here, error there, both verdicts) comes first: the
    # table is wider than the page. The variant names the design, as in the legend.
    st.dataframe(study_frame(study), hide_index=True, width="stretch", column_order=(
        "variant", "test accuracy (%)", PAPER_COLUMN, "here", "paper's verdict",
        "vs identity (points)", "final training loss", PAPER_164_COLUMN, SETTING_COLUMN),
        column_config={
            "final training loss": st.column_config.TextColumn(),
            "test accuracy (%)": st.column_config.NumberColumn(format="%.1f"),
            "vs identity (points)": st.column_config.NumberColumn(format="%+.1f"),
            PAPER_COLUMN: st.column_config.TextColumn(help=PAPER_HELP),
            PAPER_164_COLUMN: st.column_config.TextColumn(help=PAPER_164_HELP),
        })
    for line in study_sentences(study):
        st.markdown(f"- {line}")

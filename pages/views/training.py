"""Training: the sidebar's network and its plain twin, from identical weights, side by side."""

import streamlit as st

from explorer.budget import check_fits
from explorer.training.jobs import TrainingJob
from explorer.figures.training import training_figure
from explorer.training.report import results_sentences, results_table
from explorer.units import format_count
from pages.widgets import guard, state, training_setup

choice = state.current()

st.title("Training")
st.markdown(
    "Train the network in the sidebar **and** its plain twin from the same initial weights, on "
    "the same batches in the same order. The left panel shows the training loss per step, the "
    "right one the accuracy on held-out images after each epoch. He et al.'s central finding: "
    "deeper *plain* nets train worse than shallower ones, residual nets do not. "
    "The run continues while you use other pages; come back to watch it."
)

job: TrainingJob | None = st.session_state.get("training_job")


def live_view() -> None:
    """Redrawn every second while the job runs; the rest of the page is left alone."""
    current: TrainingJob | None = st.session_state.get("training_job")
    if current is None:
        return
    fraction, eta = current.progress()
    if current.running:
        left = f", about {eta:.0f} s left" if eta is not None else ""
        st.progress(fraction, text=f"Training on {current.device}: {fraction:.0%}{left}")
        if st.button("Stop", key="train_stop"):
            current.stop()
    elif current.error:
        if guard.is_out_of_memory(current.error):
            st.error("Training ran out of memory. Try a smaller batch or image size.")
        else:
            st.error(f"Training failed: {current.error}")
    else:
        how = "stopped" if current.stopped else "finished"
        seconds = (current.finished or current.started) - current.started
        st.success(f"Training {how} after {seconds:.0f} s.")
    if current.events:
        st.plotly_chart(training_figure(list(current.events)), width="stretch")
    if not current.running and current.results:
        for line in results_sentences(current.results):
            st.markdown(f"- {line}")
        st.dataframe(results_table(current.results), hide_index=True, width="stretch")
        training_setup.offer_results(current)
        if st.session_state.get("_was_running"):
            st.session_state._was_running = False
            st.rerun()  # once, so the controls below are enabled again
    st.session_state._was_running = current.running


running = job is not None and job.running
with guard.user_errors("Training"):
    setup = training_setup.draw(choice, disabled=running)
    st.caption(f"{len(setup.runs)} run(s) × {2 if setup.twin else 1} variant(s), "
               f"{format_count(setup.train_size)} training images, {setup.epochs} epoch(s): "
               f"{setup.describe()}")
    if st.button("Start training", type="primary", disabled=running, key="train_start"):
        for spec in setup.runs.values():
            check_fits(spec, setup.batch_size, choice.device)
        job = TrainingJob(setup.runs, setup.make_data, setup.epochs, setup.batch_size, setup.lr,
                          choice.seed, str(choice.device), twin=setup.twin).start()
        st.session_state.training_job = job
        st.session_state._was_running = True
        st.rerun()  # redraw the controls disabled while the run goes on

# Poll once a second only while a run is going; otherwise draw once.
st.fragment(run_every=1.0 if job is not None and job.running else None)(live_view)()

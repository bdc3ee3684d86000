"""Training: a network and its plain twin from identical weights, or He et al.'s Fig. 1."""

import streamlit as st

from explorer.budget import check_fits
from explorer.figures.training import figure6, training_figure
from explorer.training.config import TrainConfig
from explorer.training.train import EARLY_IMAGES
from explorer.training.cost import estimate_seconds
from explorer.training.curves import curves_from_events, curves_from_results
from explorer.training.jobs import TrainingJob
from explorer.training.recorded import FIGURE1_RECORD, recorded_figure1
from explorer.training.verdicts import verdicts
from explorer.units import pct
from explorer.units import format_count, format_duration
from pages.views import skip_study_section
from pages.widgets import guard, session, state, training_results, training_setup

choice = state.current()

st.title("Training")
st.markdown(
    "Train a network **and** its plain twin from the same initial weights, on the same batches "
    "in the same order, and compare how fast each learns. Read the left panel (training loss per "
    "step; lower is better) for how well each net *optimises*, the right one (accuracy on "
    "held-out images) for what it learned. He et al.'s finding: a deeper *plain* net trains "
    "worse than a shallower one, a residual net does not. The run goes on while you use other "
    "pages."
)

job: TrainingJob | None = st.session_state.get("training_job")
running = job is not None and job.running
if running and st.session_state.get("training_shown_job") != id(job):
    # Once per job: the kept values then carry the job's settings across reruns and page
    # switches; writing widget state on every rerun would make the browser echo it back forever.
    training_setup.show_job_settings(job, st.session_state.get("training_experiment", "twin"))
    st.session_state.training_shown_job = id(job)


def show_recorded() -> None:
    """He et al.'s Fig. 1 as recorded with the shipped 56-layer pair: drawn at once."""
    record = recorded_figure1()
    if record is None:
        st.info(f"No recorded Fig. 1 run is shipped ({FIGURE1_RECORD} is missing); run it live "
                f"below.")
        return
    st.subheader("He et al. Fig. 1, recorded")
    conditions = f"; {record.conditions}" if record.conditions else ""
    st.caption(f"Recorded, not live: on {record.device.upper()} ({record.threads} thread per "
               f"run{conditions}), {record.minutes:.0f} min. Laid out as the paper's figure: "
               f"plain nets left, residual nets right, error (lower is better) instead of loss "
               f"and accuracy. Blue: residual nets, red: plain nets; lighter solid lines 20 "
               f"layers, darker dashed lines 56 layers. Thin lines: training error of each batch "
               f"(smoothed); bold: held-out error after each epoch.")
    with st.expander("The command that recorded it"):
        st.code(record.command, language="bash")
        if " ; " in record.command and "at once" in record.conditions:
            st.caption("Written one after the other; the record ran them at once, each in its "
                       "own process with one thread (end each with `&` to do the same).")
    st.plotly_chart(figure6(record.curves), width="stretch", key="train_figure6")
    for line in verdicts([c.outcome() for c in record.curves]):
        st.markdown(f"- {line}")
    scores = ", ".join(f"{label} {pct(acc)}" for label, acc in record.test_accuracy.items())
    st.caption(f"Test accuracy, on the 2,000-image test split scored once at the end: {scores}. "
               f"The sentences above use the held-out split checked after every epoch instead; "
               f"neither is ever trained on, so the two differ only in which (and how many) "
               f"images were drawn.")


def live_view() -> None:
    """Redrawn every second while the job runs; the rest of the page is left alone."""
    current: TrainingJob | None = st.session_state.get("training_job")
    if current is None:
        return
    fraction, eta = current.progress()
    if current.running:
        left = f", about {format_duration(eta)} left" if eta is not None else ""
        st.progress(fraction, text=f"{current.phase.capitalize()} on {current.device}: "
                                   f"{fraction:.0%}{left}")
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
        st.success(f"Training {how} after {format_duration(seconds)}.")
    if current.running or not current.results:
        curves = curves_from_events(current.events.snapshot(), current.runs,
                                    current.config.steps_per_epoch)
    else:  # the results also hold where a stopped run was evaluated
        curves = curves_from_results(current.results)
    if curves:
        st.plotly_chart(training_figure(curves), width="stretch", key="train_live_chart")
        st.caption(f"Right: held-out accuracy. Open circles are early estimates on the first "
                   f"{EARLY_IMAGES} held-out images while an epoch runs; filled markers, the "
                   f"whole held-out set after each epoch.")
    if not current.running and current.results:
        training_results.show(current, curves)
        if st.session_state.get("_was_running"):
            st.session_state._was_running = False
            st.rerun()  # once, so the controls below are enabled again
    st.session_state._was_running = current.running


with guard.user_errors("Training"):
    record = recorded_figure1()
    experiment = training_setup.choose_experiment(
        running, TrainConfig.from_dict(record.config) if record else None, choice.spec.skip)
    if experiment == "figure1":
        show_recorded()
        skip_study_section.draw()
        st.subheader("Run it again live")
    setup = training_setup.draw(choice, experiment, disabled=running)
    if experiment == "twin" and not running:
        training_setup.suggest_small_image_net(setup)
    cfg = setup.config
    cols = st.columns([1, 3])
    start = cols[0].button("Start training", type="primary", disabled=running, key="train_start")
    with st.spinner("Measuring this device's speed (once)…"):
        seconds = estimate_seconds(setup.runs, cfg, choice.device.type)
    cols[1].caption(
        f"{len(setup.runs)} run(s) × {2 if cfg.twin else 1} net(s), "
        f"{format_count(cfg.train_size)} images × {cfg.epochs} epoch(s) "
        f"({cfg.total_steps:,} steps of {cfg.batch_size}): {setup.describe()}. "
        f"**Estimated time on this {choice.device.type.upper()}: about {format_duration(seconds)}** "
        f"(from the job's mult-adds and this server's measured speed).")
    if start:
        for spec in setup.runs.values():
            check_fits(spec, cfg.batch_size, choice.device)
        job = TrainingJob(setup.runs, cfg, training_setup.data_factory(cfg, setup.download),
                          str(choice.device), alive=session.session_alive()).start()
        st.session_state.training_job = job
        st.session_state.training_experiment = experiment
        st.session_state._was_running = True
        st.rerun()  # redraw the controls disabled while the run goes on

# Poll once a second only while a run is going; otherwise draw once.
st.fragment(run_every=1.0 if job is not None and job.running else None)(live_view)()

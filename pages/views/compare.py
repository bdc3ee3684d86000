"""Compare: two to four networks side by side, counted, timed on this device, and against their
published accuracy."""

import streamlit as st

from explorer.analysis.compare import (MAX_NETWORKS, WARMUP, check_timings_fit,
                                       published_top1, speed_frame, time_network, totals,
                                       totals_frame)
from explorer.analysis.compare_report import comparison_sentences, spread_sentence
from explorer.devices import describe
from explorer.figures.compare import (accuracy_scatter, resolution_width, speed_figure,
                                      stage_bars)
from explorer.nets.presets import PRESET_HELP, PRESETS, family_of
from explorer.units import plural
from pages.widgets import guard, persist, state

SIDEBAR = "sidebar"  # the entry (and URL word) for the sidebar's network
DEFAULT = ["resnet50", "resnext50_32x4d"]
OWN_SIZE = "each network's own"
IMAGE_SIZES = [OWN_SIZE, 32, 64, 96, 128, 160, 224, 256, 320]
MAX_BATCH, MAX_REPEATS, MAX_TIMINGS = 256, 20, 16
URL_KEY = "compare"  # listed in state.PAGE_PARAMS, so the sidebar's URL sync keeps it
choice = state.current()
options = [SIDEBAR, *PRESETS]

st.title("Compare")
st.markdown(
    "Two to four networks side by side. The **counts** (parameters, mult-adds per image, the "
    "memory of one training step, the theoretical receptive field of the last stage) are exact "
    "and cost nothing; the **speed** is measured here, on this server's "
    f"{choice.device.type.upper()}, when you ask: every network is timed the same way, and the "
    "dots show each repeat, so a difference smaller than their spread is noise. The first "
    "network is the reference the sentence compares the others with.")


def from_url() -> None:
    """Adopt the URL's networks on a session's first visit, or when the user edited the URL
    (or went back) since this page last wrote it."""
    raw = st.query_params.get(URL_KEY)
    if raw is None or raw == persist.kept("cmp_url"):
        return
    persist.remember("cmp_url", raw)
    names = [name for name in raw.split(",") if name]
    unknown = [name for name in names if name not in options]
    if unknown:
        st.warning(f"The link names networks this app does not have: {', '.join(unknown)}. "
                   f"They are left out.")
    persist.show("cmp_nets", [name for name in names if name in options][:MAX_NETWORKS])


def label_of(name: str) -> str:
    return f"sidebar ({choice.name})" if name == SIDEBAR else name


from_url()
picked = persist.widget(
    st.multiselect, f"Networks (2 to {MAX_NETWORKS}; the first is the reference)", "cmp_nets",
    DEFAULT, options=options, max_selections=MAX_NETWORKS,
    format_func=lambda n: (f"the sidebar's network ({choice.name})" if n == SIDEBAR
                           else f"{n} · {family_of(n)}"),
    help="Presets by family, or the network set up in the sidebar.")
st.query_params[URL_KEY] = ",".join(picked)
persist.remember("cmp_url", ",".join(picked))
size_col, batch_col, repeats_col = st.columns(3)
size = persist.widget(size_col.selectbox, "Image size (px)", "cmp_size", OWN_SIZE,
                      options=IMAGE_SIZES,
                      help="Each network's own (224 for ImageNet nets, 32 for CIFAR nets), or "
                           "one size for all. Published accuracies hold only at 224 px.")
batch = int(persist.widget(batch_col.number_input, "Batch (memory and timing)", "cmp_batch", 4,
                           step=1, check=persist.between(1, MAX_BATCH, "The batch")))
repeats = int(persist.widget(repeats_col.number_input, "Timed repeats", "cmp_repeats", 5,
                             step=1, check=persist.between(2, MAX_REPEATS, "The repeats")))

specs = {}
for name in picked:
    spec = choice.spec if name == SIDEBAR else PRESETS[name]
    with guard.user_errors(label_of(name)):
        specs[label_of(name)] = spec if size == OWN_SIZE else spec.replace(image_size=size)
for name in picked:
    if name != SIDEBAR:
        st.caption(f"**{name}**: {PRESET_HELP[name]}")
if len(specs) < 2:
    st.info("Pick at least two networks to compare.")
    st.stop()

rows = [totals(label, spec, batch) for label, spec in specs.items()]
timings_store = st.session_state.setdefault("cmp_timings", {})


def timing_key(row) -> tuple:
    return row.spec, batch, repeats, str(choice.device), choice.seed


timings = {row.label: timings_store[timing_key(row)] for row in rows
           if timing_key(row) in timings_store}

st.subheader("Totals")
sentence_slot = st.container()
st.dataframe(
    totals_frame(rows), hide_index=True, width="stretch",
    column_config={
        "params": st.column_config.NumberColumn(format="localized"),
        "mult-adds / image": st.column_config.NumberColumn(
            format="localized", help="Multiply-accumulates of one forward pass, as torchinfo "
                                     "counts them"),
        f"train-step MB (batch {batch})": st.column_config.NumberColumn(
            format="%.0f", help="Weights + gradients + activations kept for the backward pass "
                                "+ input, float32, no optimizer state (10⁶ bytes)"),
        "receptive field px": st.column_config.NumberColumn(
            help="Width of the input window one unit of the last stage can see (theoretical: "
                 "the convolutions' window, which may exceed the image)"),
        "ImageNet top-1 %": st.column_config.NumberColumn(
            format="%.1f", help="torchvision's published accuracy of its IMAGENET1K_V1 weights "
                                "(224 px), read offline from its metadata"),
    })
if any(row.whole_image for row in rows):
    st.caption("Squeeze-and-excitation nets: each gate averages its whole feature map, so every "
               "unit depends on every pixel; the receptive field shown is the convolutions' "
               "window alone.")

st.subheader("Per stage")
left, right = st.columns(2)
left.plotly_chart(stage_bars(rows), width="stretch")
right.plotly_chart(resolution_width(rows), width="stretch")
st.caption("Bars: where each network keeps its weights and spends its mult-adds (log scale). "
           "Lines: each stage's output, from the stem (top left) to the last stage; a wider "
           "network sits further right at the same resolution.")

st.subheader(f"Speed on this device: {describe(choice.device)}")
warmup = plural(WARMUP, "warm-up pass", "warm-up passes")
st.caption("Per image, median of the repeats, at the batch above: a forward pass (eval mode, no "
           "autograd) and a training step (forward, cross-entropy, backward). A fresh seeded "
           f"model and one random batch per network, {warmup} of each kind before the timed "
           "ones. "
           "The timing waits for a compute slot, so no other heavy job of this server runs "
           "meanwhile; other programs on the machine still may.")
run_col, stop_col = st.columns([2, 3])
with guard.user_errors("Timing"):
    if run_col.button(f"Time them on {choice.device.type.upper()}", type="primary",
                      key="cmp_run"):
        check_timings_fit(specs, batch, choice.device)  # all of them, before any is built
        stop_col.button("Stop", key="cmp_stop")  # a click reruns the page, ending the timing
        bar = st.progress(0.0, text="Starting…")
        for i, row in enumerate(rows):
            def report(done, total, message, i=i, label=row.label):
                bar.progress(min((i + done / total) / len(rows), 1.0), text=f"{label}: {message}")

            timing = time_network(row.spec, batch, choice.device, repeats, report, choice.seed)
            while len(timings_store) >= MAX_TIMINGS:
                timings_store.pop(next(iter(timings_store)))
            timings_store[timing_key(row)] = timing
        st.rerun()  # redraw the table, the sentence and the figures with the new numbers
    elif st.session_state.get("cmp_stop"):
        st.warning("Stopped. The networks timed before the stop keep their numbers; run it "
                   "again for the others.")
if timings:
    st.dataframe(speed_frame(rows, timings), hide_index=True, width="stretch",
                 column_config={"forward ms": st.column_config.NumberColumn(
                                    format="%.3g", help="Per image, median of the repeats"),
                                "fwd+bwd ms": st.column_config.NumberColumn(
                                    format="%.3g", help="Per image, median of the repeats")})
    st.plotly_chart(speed_figure(rows, timings), width="stretch")
    unsteady = spread_sentence(timings)
    if unsteady:
        st.warning(unsteady)
    missing = [row.label for row in rows if row.label not in timings]
    if missing:
        st.caption(f"Not timed at these settings yet: {', '.join(missing)}.")

st.subheader("Accuracy against cost")
costs = {"mult-adds": "mult-adds", "forward": "measured forward time",
         "train": "measured forward+backward time"}
if any(published_top1(row.spec) for row in rows):
    cost = persist.widget(st.radio, "Cost axis", "cmp_cost", "mult-adds",
                          options=list(costs) if timings else ["mult-adds"],
                          format_func=costs.get, horizontal=True)
    st.plotly_chart(accuracy_scatter(rows, timings, cost), width="stretch")
st.caption("Top-1: torchvision's published ImageNet accuracy of each preset's IMAGENET1K_V1 "
           "weights at 224 px (from torchvision's metadata; nothing is downloaded). Only "
           "networks equal to a torchvision preset (224 px, 1000 classes) have one; their "
           "training recipes differ (hover for the weights), so a gap of a few tenths of a point "
           "says little.")

with sentence_slot:
    for line in comparison_sentences(rows, timings):
        st.info(line)

"""Gradient flow: the same weights with and without skip connections, one backward pass each."""

import streamlit as st

from explorer import gradient_flow
from explorer.analysis.gradflow import compare_models
from explorer.analysis.batches import SOURCES, analysis_batch
from explorer.budget import check_fits
from explorer.slots import gate
from explorer.figures.gradflow import (depth_sweep_figure, ends_in_batchnorm, flow_figure,
                                       response_std_figure, weight_grad_heatmap)
from explorer.io.images import MAX_BYTES, load_image
from explorer.analysis.sweep import (check_sweep, depth_sweep, sweep_spec, sweep_summary,
                                     valid_depths)
from explorer.units import MB
from explorer.io.weights import shipped_checkpoints, shipped_pair_names
from explorer.nets.naming import same_body
from pages.views import designs_section
from pages.widgets import downloads, guard, persist, state, weights_picker

MAX_BATCH = 256
IMAGE_TYPES = ["png", "jpg", "jpeg", "gif", "bmp", "webp"]
choice = state.current()

st.title("Gradient flow")
st.markdown(
    "One forward and one backward pass of the loss through the network in the sidebar **and** "
    "its plain twin: the same weights in every shared layer, the same batch, only the skip "
    "connections differ. The curves show how large the gradient is at each block's output, "
    "from the input (left) to the classifier (right). A curve that climbs or falls by orders of "
    "magnitude towards the input means the early layers learn at a very different rate from the "
    "late ones; the sentence below reads the measured numbers for you. Too large is as much a "
    "problem as too small, so a plain twin with the *larger* gradient at conv1 is no surprise: "
    "compare how far each curve spreads across depth, not only which one is higher."
)

INIT, SESSION = "at initialisation (seeded)", "trained in this session"
trained = st.session_state.get("trained_models")
weight_options = [INIT] + [SESSION] * (trained is not None and trained.twin is not None)
shipped_pairs = {f"shipped {name} pair (trained)": name for name in shipped_pair_names()}
sidebar_pair = next((label for label, name in shipped_pairs.items()
                     if same_body(choice.spec.replace(skip=True),
                                  shipped_checkpoints()[name].spec)), None)
if persist.kept("gf_weights_sidebar") != choice.spec:  # the sidebar changed: follow it
    persist.remember("gf_weights_sidebar", choice.spec)
    if sidebar_pair and persist.kept("gf_weights") in shipped_pairs:
        persist.show("gf_weights", sidebar_pair)
picked = persist.widget(st.radio, "Weights", "gf_weights", INIT,
                        options=weight_options + list(shipped_pairs), horizontal=True,
                        help="Trained pairs: a residual net and its plain twin trained from "
                             "identical initial weights on the synthetic shapes.")
if picked in shipped_pairs:
    trained = weights_picker.shipped(shipped_pairs[picked], choice.device)
    if picked != sidebar_pair:
        st.caption(f"These are the shipped {shipped_pairs[picked]} pair's weights, not the "
                   f"sidebar's network ({choice.name})"
                   + (f"; its own trained pair is “{sidebar_pair}”." if sidebar_pair else
                      ", of which no trained pair is shipped."))
use_trained = picked != INIT
if persist.kept("gf_source_for") != use_trained:  # other weights: their natural data
    persist.show("gf_source", "shapes" if use_trained else "random")
    persist.remember("gf_source_for", use_trained)
if persist.kept("gf_norm_sidebar") != choice.spec.norm:  # the sidebar changed: follow it
    persist.show("gf_norm", choice.spec.norm)
    persist.remember("gf_norm_sidebar", choice.spec.norm)
cols = st.columns(4)
source = persist.widget(cols[2].selectbox, "Data", "gf_source", "random", options=list(SOURCES),
                        format_func=SOURCES.get)
batch_size = int(persist.widget(
    cols[0].number_input, "Batch size", "gf_batch", 8, step=1,
    disabled=source == "uploaded", check=persist.between(1, MAX_BATCH, "The batch size"),
    help="With your own images, the batch is the images you upload."))
loss = persist.widget(cols[1].selectbox, "Loss", "gf_loss", "cross_entropy",
                      options=["cross_entropy", "mse"])
norm = persist.widget(
    cols[3].radio, "Normalisation", "gf_norm", choice.spec.norm, options=["batch", "none"],
    horizontal=True, disabled=use_trained,
    help="Trained weights are measured as they were trained; a norm setting cannot be changed "
         "after training." if use_trained else
         "none removes every BatchNorm: the classic vanishing-gradient setting.")
if use_trained:
    cols[3].caption(f"As trained: {trained.spec.norm}.")
uploads = []
if source == "uploaded":
    uploads = persist.uploads(st.file_uploader, "Images", "gf_uploads", type=IMAGE_TYPES,
                              max_upload_size=MAX_BYTES // MB,
                              help=f"Up to {MAX_BYTES // MB} MB per image; they form the batch.")


def read_images(files) -> list[tuple[bytes, object]]:
    """``(bytes, image)`` of every readable upload; a bad file is named and left out."""
    readable = []
    for f in files:
        try:
            readable.append((f.getvalue(), load_image(f.getvalue())))
        except ValueError as exc:
            st.error(f"`{f.name[:60].replace('`', chr(39))}` is left out: {exc}")
    return readable


@st.cache_resource(max_entries=32, show_spinner=False)  # frozen results: one copy for all
def measure(spec, seed, batch_size, device, loss, source, image_bytes):
    images = [load_image(data) for data in image_bytes]
    inputs, targets = analysis_batch(spec, source, batch_size, seed, images)
    with gate(device):
        return gradient_flow(spec, seed=seed, device=device, inputs=inputs, targets=targets,
                             loss=loss)


def measure_trained(batch_size, loss, source, images):
    """The session's trained net and twin: its own models, so no global cache."""
    inputs, targets = analysis_batch(trained.spec, source, batch_size, choice.seed, images)
    return compare_models(trained.residual, trained.plain, inputs, targets, loss, choice.seed)


def show_flow(flow, spec, weights: str, trained: bool) -> None:
    st.info(flow.summary())
    along, per_weight, responses = st.tabs(["Along depth", "Weight gradients",
                                            "Branch responses (Fig. 7)"])
    with along:
        st.plotly_chart(flow_figure(flow, trained), width="stretch")
        st.caption("Each point is ‖∂loss/∂output‖ of one layer. Where the red (plain) curve sits "
                   "far above or below the blue one, skips change how much signal reaches it.")
    with per_weight:
        value = persist.widget(st.radio, "Colour", "gf_heat", "grad_norm",
                               options=["grad_norm", "ratio"], horizontal=True,
                               format_func={"grad_norm": "‖grad‖",
                                            "ratio": "‖grad‖ / ‖weight‖"}.get)
        st.plotly_chart(weight_grad_heatmap(flow, value), width="stretch")
        st.caption("‖grad‖/‖weight‖ is roughly the relative step SGD would take in that layer.")
    with responses:
        show_responses(flow, spec, trained)
    facts = downloads.provenance(spec, choice.seed, len(images) or batch_size, weights)
    st.download_button("Download the numbers (.csv)",  # written when clicked, not per rerun
                       lambda: downloads.csv_text(flow.to_frame(), facts),
                       downloads.file_name("gradient-flow", choice.name,
                                           f"seed{choice.seed}", ext="csv"), "text/csv")


def show_responses(flow, spec, trained: bool) -> None:
    with_bn = ends_in_batchnorm(spec)
    # With BatchNorm at init the paper's quantity is ≈1 by construction: open on the other view.
    which = persist.widget(
        st.radio, "Measured", "gf_resp", "prenorm" if with_bn and not trained else "response",
        options=["prenorm", "response"], horizontal=True,
        format_func={"response": "after the last norm (paper)",
                     "prenorm": "before the last norm"}.get)
    st.plotly_chart(response_std_figure(flow, which, trained), width="stretch")
    if spec.norm != "batch":
        st.caption("Without norm layers both views measure the same response.")
    elif not with_bn:
        st.caption("In these blocks the branch does not end in a BatchNorm (a pre-activation "
                   "or BN-after-addition block ends in its last conv, a ReLU-before-addition "
                   "block in a ReLU, an SE block in its gate), so its response is not scaled "
                   "to unit variance: both views show how each branch's size changes along "
                   "depth.")
    elif trained:
        st.caption("These are trained weights: after the branch's last BatchNorm each channel's "
                   "std is what its learned scale γ (and the batch) make it, as in He et al.'s "
                   "Fig. 7, which measured trained nets. Before that norm layer the response "
                   "shows how each branch's size changes along depth.")
    else:
        st.caption("After the branch's last BatchNorm the std is about 1 in every block: in a "
                   "training-mode pass BatchNorm scales each channel to unit variance, and at "
                   "initialisation its scale γ is 1. He et al. measured trained nets, where γ "
                   "has moved. Before that norm layer the response still shows how each "
                   "branch's size changes along depth.")


with guard.user_errors("Gradient flow"):
    readable = read_images(uploads)
    images = [image for _, image in readable]
    if source == "uploaded" and not images:
        st.info("Upload one or more images above: they are the batch this page measures.")
    elif use_trained:
        batch = len(images) if source == "uploaded" else batch_size
        check_fits(trained.spec, batch, choice.device)
        pair = "" if trained.source == "shipped" else ", and its twin"  # shipped: both named
        st.caption(f"Measuring {trained.description}{pair}: trained from identical "
                   "initial weights, so their weights now differ.")
        show_flow(measure_trained(batch_size, loss, source, images), trained.spec,
                  trained.description.replace("**", ""), trained=True)
    else:
        spec = choice.spec.replace(norm=norm, zero_init_residual=False) \
            if norm != choice.spec.norm else choice.spec
        check_fits(spec, len(images) if source == "uploaded" else batch_size, choice.device)
        good = tuple(data for data, _ in readable)
        with st.spinner(f"Forward and backward through both nets on {choice.device.type}…"):
            flow = measure(spec, choice.seed, batch_size, str(choice.device), loss, source, good)
        show_flow(flow, spec, "seeded random init", trained=False)

st.header("Depth sweep")
st.markdown(
    "The first conv's gradient norm at initialisation for nets of growing depth (CIFAR-style "
    "stages of the sidebar's block type), residual vs plain, same seed and batch. Each line "
    "below the button is read off the numbers of your run."
)
block = choice.spec.block
defaults = {b: ",".join(map(str, valid_depths(b))) for b in ("basic", "bottleneck", "d2l")}
if persist.kept("sw_block") != block:  # another block type: offer depths it can build
    if persist.kept("sw_depths") in (None, *defaults.values()):
        persist.show("sw_depths", defaults[block])
    persist.remember("sw_block", block)
form = "9n+2" if block == "bottleneck" else "6n+2"
cols = st.columns(4)
depths_text = persist.widget(cols[0].text_input, "Depths", "sw_depths", defaults[block],
                             help=f"{form} for the sidebar's block type: {defaults[block]}, …")
norms = persist.widget(cols[1].multiselect, "Normalisation", "sw_norms", ["batch", "none"],
                       options=["batch", "none"])
sweep_size = int(persist.widget(cols[2].number_input, "Image size", "sw_size", 16, step=1,
                                check=persist.between(8, 64, "The image size")))
sweep_batch = int(persist.widget(cols[3].number_input, "Batch", "sw_batch", 8, step=1,
                                 check=persist.between(2, 64, "The batch")))

with guard.user_errors("Depth sweep"):
    depths = guard.int_list("Depths", depths_text)
    check_sweep(block, depths, norms, sweep_size, sweep_batch)
    key = (block, depths, tuple(norms), sweep_size, sweep_batch, choice.seed, str(choice.device))
    sweeps = st.session_state.setdefault("sweeps", {})
    run, stop = st.columns([1, 5])
    if run.button("Run depth sweep", type="primary", key="sw_run") and key not in sweeps:
        check_sweep(block, depths, norms, sweep_size, sweep_batch, choice.device)
        stop_slot = stop.empty()
        stop_slot.button("Stop", key="sw_stop")  # a click reruns the page, which ends the sweep
        bar = st.progress(0.0, text="Starting…")
        with gate(choice.device):
            sweeps[key] = depth_sweep(
                block, depths, norm=norms or ["batch"], image_size=sweep_size,
                batch_size=sweep_batch, seed=choice.seed, device=choice.device,
                on_progress=lambda done, total, msg: bar.progress(done / total, text=msg),
            )
        bar.empty()
        stop_slot.empty()
    if key in sweeps:
        frame = sweeps[key]
        for line in sweep_summary(frame):
            st.markdown(f"- {line}")
        st.caption("How to read it: the first conv is the layer farthest from the loss. Each "
                   "line follows the size of its gradient as the net gets deeper. A gradient "
                   "that changes by orders of magnitude with depth (exploding or vanishing) "
                   "gives the first layers steps far larger or smaller than the last layers get "
                   "from one learning rate. Which net's gradient changed more, and by how much, "
                   "is in the sentences above: with and without norm layers the answer differs.")
        st.plotly_chart(depth_sweep_figure(frame), width="stretch")
        st.dataframe(frame, hide_index=True, width="stretch", column_config={
            "ratio": st.column_config.NumberColumn(help="plain ÷ residual")})
        swept = list(norms or ["batch"])
        facts = {**downloads.provenance(sweep_spec(block, depths[0], norm=swept[0],
                                                   image_size=sweep_size),
                                        choice.seed, sweep_batch),
                 "depths": list(depths), "norms": swept,
                 "note": "spec is the shallowest net of the first norm; the others add blocks "
                         "per stage"}
        st.download_button("Download the sweep (.csv)", lambda: downloads.csv_text(frame, facts),
                           downloads.file_name("depth-sweep", block, "-".join(swept),
                                               f"seed{choice.seed}", ext="csv"),
                           "text/csv", key="sw_csv")
    elif st.session_state.get("sw_stop"):
        st.warning("Sweep stopped. Run it again to start over.")

designs_section.draw(choice)

"""Gradient flow: the same weights with and without skip connections, one backward pass each."""

import streamlit as st

from explorer import gradient_flow
from explorer.analysis.gradflow import compare_models
from explorer.analysis.batches import SOURCES, analysis_batch
from explorer.budget import check_fits, gate
from explorer.figures.gradflow import (depth_sweep_figure, flow_figure, response_std_figure,
                                       weight_grad_heatmap)
from explorer.io.images import load_image
from explorer.analysis.sweep import depth_sweep, sweep_spec, sweep_summary
from pages.widgets import guard, state

MAX_SWEEP_DEPTHS = 12
choice = state.current()

st.title("Gradient flow")
st.markdown(
    "One forward and one backward pass of the loss through the network in the sidebar **and** "
    "its plain twin: the same weights in every shared layer, the same batch, only the skip "
    "connections differ. The curves show how large the gradient is at each block's output, "
    "from the input (left) to the classifier (right). A curve that climbs or falls by orders of "
    "magnitude towards the input means the early layers learn at a very different rate from the "
    "late ones; the sentence below reads the measured numbers for you."
)

trained = st.session_state.get("trained_models")
use_trained = trained is not None and trained.twin is not None and st.radio(
    "Weights", ["at initialisation (seeded)", "trained in this session"], horizontal=True,
    key="gf_weights") == "trained in this session"
cols = st.columns(4)
batch_size = cols[0].number_input("Batch size", 1, 256, 8, key="gf_batch")
loss = cols[1].selectbox("Loss", ["cross_entropy", "mse"], key="gf_loss")
source = cols[2].selectbox("Data", list(SOURCES), format_func=SOURCES.get, key="gf_source")
norm = cols[3].radio("Normalisation", ["batch", "none"], key="gf_norm", horizontal=True,
                     index=0 if choice.spec.norm == "batch" else 1,
                     help="none removes every BatchNorm: the classic vanishing-gradient setting.")
uploads = []
if source == "uploaded":
    uploads = st.file_uploader("Images", type=["png", "jpg", "jpeg", "gif", "bmp", "webp"],
                               accept_multiple_files=True, key="gf_uploads") or []


@st.cache_data(max_entries=32, show_spinner=False)
def measure(spec, seed, batch_size, device, loss, source, image_bytes):
    images = [load_image(data) for data in image_bytes]
    inputs, targets = analysis_batch(spec, source, batch_size, seed, images)
    with gate(device):
        return gradient_flow(spec, seed=seed, device=device, inputs=inputs, targets=targets,
                             loss=loss)


def measure_trained(batch_size, loss, source, uploads):
    """The session's trained net and twin: its own models, so no global cache."""
    residual, plain = (trained.model, trained.twin) if trained.spec.skip else \
        (trained.twin, trained.model)
    images = [load_image(f.getvalue()) for f in uploads]
    inputs, targets = analysis_batch(trained.spec, source, batch_size, choice.seed, images)
    return compare_models(residual, plain, inputs, targets, loss, choice.seed)


with guard.user_errors("Gradient flow"):
    batch = len(uploads) if source == "uploaded" else int(batch_size)  # uploads are the batch
    if use_trained:
        check_fits(trained.spec, batch, choice.device)
        st.caption(f"Measuring {trained.description}, and its twin: trained from identical "
                   "initial weights, so their weights now differ.")
        flow = measure_trained(int(batch_size), loss, source, uploads)
    else:
        spec = choice.spec.replace(norm=norm, zero_init_residual=False) \
            if norm != choice.spec.norm else choice.spec
        check_fits(spec, batch, choice.device)
        with st.spinner(f"Forward and backward through both nets on {choice.device.type}…"):
            flow = measure(spec, choice.seed, int(batch_size), str(choice.device), loss, source,
                           tuple(f.getvalue() for f in uploads))
    st.info(flow.summary())
    along, weights, responses = st.tabs(["Along depth", "Weight gradients",
                                         "Branch responses (Fig. 7)"])
    with along:
        st.plotly_chart(flow_figure(flow), width="stretch")
        st.caption("Each point is ‖∂loss/∂output‖ of one layer. Where the red (plain) curve sits "
                   "far above or below the blue one, skips change how much signal reaches it.")
    with weights:
        value = st.radio("Colour", ["grad_norm", "ratio"], horizontal=True, key="gf_heat",
                         format_func={"grad_norm": "‖grad‖", "ratio": "‖grad‖ / ‖weight‖"}.get)
        st.plotly_chart(weight_grad_heatmap(flow, value), width="stretch")
        st.caption("‖grad‖/‖weight‖ is roughly the relative step SGD would take in that layer.")
    with responses:
        which = st.radio("Measured", ["response", "prenorm"], horizontal=True, key="gf_resp",
                         format_func={"response": "after the last norm (paper)",
                                      "prenorm": "before the last norm"}.get)
        st.plotly_chart(response_std_figure(flow, which), width="stretch")
    st.download_button("Download the numbers (.csv)", flow.to_frame().to_csv(index=False),
                       "gradient_flow.csv", "text/csv")

st.header("Depth sweep")
st.markdown(
    "The first conv's gradient norm at initialisation for nets of growing depth (CIFAR-style "
    "stages), residual vs plain, same seed. With BatchNorm the plain nets' first-layer "
    "gradients grow by orders of magnitude with depth while the residual nets' grow slowly. "
    "Without any norm layer the ratio flips, mostly because the *residual* nets' gradients now "
    "grow while the plain nets' shrink only slowly. Run it and read the numbers."
)
cols = st.columns(4)
depths_text = cols[0].text_input("Depths", "8,14,20,32,56", key="sw_depths",
                                 help="6n+2 for basic blocks, 9n+2 for bottlenecks.")
norms = cols[1].multiselect("Normalisation", ["batch", "none"], ["batch", "none"], key="sw_norms")
sweep_size = cols[2].number_input("Image size", 8, 64, 16, key="sw_size")
sweep_batch = cols[3].number_input("Batch", 2, 64, 8, key="sw_batch")

with guard.user_errors("Depth sweep"):
    depths = guard.int_list("Depths", depths_text)
    if len(depths) > MAX_SWEEP_DEPTHS:
        raise ValueError(f"A sweep takes at most {MAX_SWEEP_DEPTHS} depths; got {len(depths)}.")
    key = (choice.spec.block, depths, tuple(norms), int(sweep_size), int(sweep_batch),
           choice.seed, str(choice.device))
    sweeps = st.session_state.setdefault("sweeps", {})
    run, stop = st.columns([1, 5])
    if run.button("Run depth sweep", type="primary", key="sw_run") and key not in sweeps:
        for norm_name in norms or ["batch"]:  # the deepest net must fit before any is built
            check_fits(sweep_spec(choice.spec.block, max(depths), norm=norm_name,
                                  image_size=int(sweep_size)), int(sweep_batch), choice.device)
        stop_slot = stop.empty()
        stop_slot.button("Stop", key="sw_stop")  # a click reruns the page, which ends the sweep
        bar = st.progress(0.0, text="Starting…")
        with gate(choice.device):
            sweeps[key] = depth_sweep(
                choice.spec.block, depths, norm=norms or ["batch"], image_size=int(sweep_size),
                batch_size=int(sweep_batch), seed=choice.seed, device=choice.device,
                on_progress=lambda done, total, msg: bar.progress(done / total, text=msg),
            )
        bar.empty()
        stop_slot.empty()
    if key in sweeps:
        frame = sweeps[key]
        for line in sweep_summary(frame):
            st.markdown(f"- {line}")
        st.plotly_chart(depth_sweep_figure(frame), width="stretch")
        st.dataframe(frame, hide_index=True, width="stretch")
        st.download_button("Download the sweep (.csv)", frame.to_csv(index=False), "sweep.csv",
                           "text/csv", key="sw_csv")
    elif st.session_state.get("sw_stop"):
        st.warning("Sweep stopped. Run it again to start over.")

"""Architecture: shapes, parameters, mult-adds and memory of the network in the sidebar."""

import streamlit as st

from explorer import estimate, layer_summary, stage_frame, stage_table
from explorer.devices import describe
from explorer.figures.diagram import network_diagram
from explorer.figures.architecture import shape_flow, stage_bars
from explorer.nets.reference import reference_for
from explorer.units import format_bytes, format_count
from pages.widgets import downloads, guard, persist, state

choice = state.current()
spec = choice.spec
# Text, tables and figures depend only on the spec and batch. Nothing changes them once built
# (st.plotly_chart and st.dataframe only read), so every session shares one copy of each
# (cache_resource) instead of unpickling its own on every rerun (cache_data).
cached_summary = st.cache_data(max_entries=64, show_spinner=False)(layer_summary)
cached_diagram = st.cache_resource(max_entries=64, show_spinner=False)(network_diagram)


@st.cache_resource(max_entries=64, show_spinner=False)
def stage_charts(spec, batch):
    table = stage_table(spec, batch)
    return stage_bars(table), shape_flow(table)


@st.cache_resource(max_entries=64, show_spinner=False)
def cached_frame(spec, batch):
    return stage_frame(stage_table(spec, batch))

st.title("Architecture")
st.markdown(
    "What the network in the sidebar **costs** and **where**: the output shape of every stage, "
    "its parameters and its mult-adds (multiply-accumulates of one forward pass, counted as "
    "torchinfo does), and the memory a training step needs. Each figure sits next to the same "
    "network with the skip connections toggled: an identity skip adds no weights and one "
    "addition per value, so parameters and mult-adds differ only by the shortcuts that change "
    "shape (1×1 projections, option B/C); the memory also counts the sums the skips produce."
)

MAX_BATCH = 4096
batch = int(persist.widget(st.number_input, "Batch size for the mult-add and memory figures",
                           "arch_batch", 1, step=1,
                           check=persist.between(1, MAX_BATCH, "The batch size")))
table = stage_table(spec, batch)
twin_spec = None
try:
    twin_spec = spec.replace(skip=not spec.skip)
except ValueError:
    pass


def metric_row(label: str, this_spec, this_table) -> None:
    est = estimate(this_spec, batch)
    cols = st.columns([1.4, 1, 1, 1, 1])
    cols[0].markdown(f"**{label}**")
    cols[1].metric("Parameters", format_count(this_table.total_params),
                   help=f"{this_table.total_params:,} parameters")
    cols[2].metric("Mult-adds", format_count(this_table.total_mult_adds),
                   help=f"{this_table.total_mult_adds:,} for a batch of {batch}")
    cols[3].metric("Model size", format_bytes(est.param_bytes), help="float32 weights")
    cols[4].metric("Train-step memory", format_bytes(est.peak_bytes),
                   help="weights + gradients + activations kept for backward + input "
                        f"(batch {batch}, float32, no optimizer state)")


metric_row("This network" + (" (skips on)" if spec.skip else " (plain: skips off)"), spec, table)
if twin_spec is not None:
    metric_row("Its twin with skips " + ("off" if spec.skip else "on"), twin_spec,
               stage_table(twin_spec, batch))

reference = reference_for(choice.preset) if choice.preset else None
if reference is not None:
    ours = table.total_params if spec.skip else None
    line = f"Reference for **{choice.preset}** ({reference.source}): {reference.params_text()} parameters"
    if reference.giga_mult_adds:
        line += f", {reference.giga_mult_adds} G mult-adds at 224 px"
    per_image = table.total_mult_adds // batch  # mult-adds grow linearly with the batch
    line += (f". Ours: {table.total_params:,} parameters, {per_image / 1e9:.3f} G mult-adds per "
             f"image at {spec.image_size} px")
    if batch > 1:
        line += f" (the batch of {batch} above is {batch} × that)"
    st.info(line + ".")

with guard.user_errors("Could not build the network"):  # out-of-memory gets advice
    # The numbers above come from the meta device; building for real is on demand, so a visit
    # (or a classroom of them) does not allocate a model nobody uses.
    if state.live_build_done(choice) or st.button(
            f"Build it live on {choice.device.type.upper()}", key="arch_build_live",
            help="Allocate the network for real (seeded weights) and time it."):
        with st.spinner(f"Building the network on {choice.device.type}…"):
            seconds, live_params = state.build_live(choice)
        st.caption(f"Built live on **{describe(choice.device)}** in {seconds * 1000:.0f} ms "
                   f"(seed {choice.seed}); the live model has {live_params:,} parameters.")

st.subheader("Stages")
st.caption("Each row is one stage: the shape it outputs for the whole batch, its parameters, "
           "its mult-adds, and the activation memory its layers keep for the backward pass.")
frame = cached_frame(spec, batch)
st.dataframe(frame, hide_index=True, width="stretch",
             column_config={"params": st.column_config.NumberColumn(format="localized"),
                            "mult-adds": st.column_config.NumberColumn(format="localized"),
                            "activation MB": st.column_config.NumberColumn(
                                format="%.2f", help="10⁶ bytes"),
                            "receptive field": st.column_config.NumberColumn(
                                help="Width in input pixels of the window one output value of "
                                     "the stage can see (theoretical)"),
                            "cumulative stride": st.column_config.NumberColumn(
                                help="Input pixels between two neighbouring output values "
                                     "(the product of the strides so far)")})
left, right = st.columns(2)
bars, flow = stage_charts(spec, batch)
left.plotly_chart(bars, width="stretch")
right.plotly_chart(flow, width="stretch")

st.subheader("Diagram")
st.caption("Boxes are residual blocks (their convolutions); arcs are the skip connections that "
           "add each block's input to its output at ⊕. Orange arcs change shape (a 1×1 "
           "projection, zero-padding, or ResNet-D's average pool and projection); dashed grey "
           "arcs are skips switched off. “↓ stride 2” marks the block that halves the "
           "resolution; “BN·ReLU first” is a pre-activation block, “+ SE gate” a "
           "squeeze-and-excitation one. Hover a box for its output shape and details; drag to "
           "pan.")
expand = persist.widget(st.toggle, "Show every block", "arch_expand", False,
                        help="Long stages are collapsed to their first block and the repeats.")
st.plotly_chart(cached_diagram(spec, expand=expand), width="stretch")

# A toggle, not an expander: an expander's body runs on every rerun even while it is closed.
if persist.widget(st.toggle, "Per-layer summary (torchinfo)", "arch_summary", False,
                  help="Every layer's output shape and parameters, computed by torchinfo."):
    summary_text = cached_summary(spec, batch)
    st.code(summary_text, language=None)
    st.download_button("Download summary (.txt)", summary_text,
                       downloads.file_name("summary", choice.name, ext="txt"),
                       "text/plain")

st.subheader("Take it with you")
facts = downloads.provenance(spec, choice.seed, batch)
name = choice.name
code = downloads.standalone_python(spec, choice.seed)
repo_code = downloads.python_code(spec, choice.seed)
cols = st.columns(4)
# Callables: a file is written when its button is clicked, not on every rerun of every session.
cols[0].download_button("Stage table (.csv)", lambda: downloads.csv_text(frame, facts),
                        downloads.file_name("stages", name, f"batch{batch}", ext="csv"), "text/csv")
cols[1].download_button("Spec (.json)", lambda: downloads.spec_json(spec, choice.seed, batch),
                        downloads.file_name("spec", name, ext="json"), "application/json",
                        help="The network, seed and batch; `data` is the spec "
                             "(`NetSpec.from_dict` reads it).")
cols[2].download_button("Python code (.py)", lambda: code,
                        downloads.file_name("build", name, f"seed{choice.seed}", ext="py"),
                        "text/x-python",
                        help="One file in plain PyTorch, nothing else needed: its "
                             "`build_model()` returns this network with these initial weights.")
cols[3].download_button("Code for this repo (.py)", lambda: repo_code,
                        downloads.file_name("build", name, f"seed{choice.seed}", "explorer",
                                            ext="py"),
                        "text/x-python",
                        help="Needs a clone of ResNet Explorer's repository (`pip install .`): "
                             "the same network through `explorer.build`.")
with st.expander("The same network in Python"):
    st.caption("Plain PyTorch, nothing else needed (the **Python code** download):")
    st.code(code, language="python")
    st.caption("Or with ResNet Explorer's own package, in a clone of its repository "
               "(`pip install .`):")
    st.code(repo_code, language="python")

"""Why skips work: lesion study, loss-landscape slices, effective receptive fields, feature maps."""

import streamlit as st

from pages.views import why_common, why_panels
from pages.widgets import guard, state

choice = state.current()

st.title("Why skips work")
st.markdown(
    "Three well-known explanations of residual networks, measured side by side on a residual "
    "net and its **plain twin** (the same architecture with the skips off): residual nets "
    "behave like ensembles of shallow paths (lesion study), they sit in smoother minima (loss "
    "landscape), and skips change how far a unit looks (effective receptive field); a fourth "
    "tab shows what each stage computes and what a skip adds (feature maps). Every "
    "sentence in the blue boxes is generated from the numbers on this page and says when they "
    "do *not* show what a paper found.")

pair = None
with guard.user_errors("Loading the weights"):
    why_common.suggest_pairs(choice)
    pair = why_common.pick_pair(choice)
    st.caption(f"Using {pair.description}; {pair.residual_spec.depth} layers, {pair.residual_spec.image_size} px, "
               f"{pair.residual_spec.num_classes} classes, on {choice.device.type}."
               + ("" if pair.plain is not None else " There is no plain twin for these "
                  "weights, so only the residual net is shown."))

if pair is not None:
    lesion, landscape, erf, features = st.tabs(
        ["Lesion study", "Loss landscape", "Receptive fields", "Feature maps"])
    with lesion, guard.user_errors("Lesion study"):
        why_panels.lesion_panel(pair, choice.device)
    with landscape, guard.user_errors("Loss landscape"):
        why_panels.landscape_panel(pair, choice.device)
    with erf, guard.user_errors("Receptive fields"):
        why_panels.erf_panel(pair, choice.device)
    with features, guard.user_errors("Feature maps"):
        why_panels.feature_panel(pair, choice.device)

"""Choose the weights an analysis page uses (the loading itself is `explorer.io.twins`).

Shipped and pretrained weights never change, so their models are loaded once per process and
shared by every session (a class of sixteen holds one copy); whoever hooks them holds
`Twins.lock`. Uploaded, random and freshly trained weights are the session's own.
"""

from __future__ import annotations

import dataclasses

import streamlit as st

from explorer.io.twins import (CheckpointMismatch, Twins, random_twins, shipped_twins,
                               torchvision_twins, uploaded_twins)
from explorer.io.weights import TORCHVISION_WEIGHTS, shipped_checkpoints, torchvision_download_bytes
from explorer.units import format_bytes

from . import guard, persist, sidebar, state

UPLOAD_LIMIT_MB = 200  # .streamlit/config.toml's server.maxUploadSize


def _cached(key: tuple, load):
    """Keep one loaded model set per session; reload only when the key changes."""
    cached = st.session_state.get("weights_cache")
    if cached is None or cached[0] != key:
        st.session_state.weights_cache = None  # drop the old models before loading new ones
        st.session_state.weights_cache = (key, dataclasses.replace(load(), key=key))
    return st.session_state.weights_cache[1]


@st.cache_resource(max_entries=8, ttl=3600, show_spinner=False)
def _shared(key: tuple, _load) -> Twins:
    """Weights every session shares, loaded once per process (see the module's docstring).
    Entries expire an hour after loading (the next visitor loads them again), so weights nobody
    uses leave memory within the hour: torchvision's ResNet-152 alone is 230 MB."""
    return dataclasses.replace(_load(), key=key)


def shipped(name: str, device) -> Twins:
    return _shared(("shipped", name, str(device)), lambda: shipped_twins(name, device))


def _uploaded(choice: state.Choice) -> Twins | None:
    files = persist.uploads(
        st.file_uploader, "Checkpoint for the sidebar's network", "cam_ckpt", multiple=False,
        type=["safetensors", "pt", "pth", "zip"],
        help=f"safetensors, a PyTorch state_dict (loaded with weights_only=True: code inside "
             f"a pickle is never run), or the Training page's zip of trained models (it carries "
             f"its own network, classes and normalisation). Up to {UPLOAD_LIMIT_MB} MB.")
    if not files:
        return None
    upload = files[0]

    def load() -> Twins:
        return uploaded_twins(upload.getvalue(), upload.name, choice.spec, choice.seed,
                              choice.device)
    try:
        return _cached(("upload", upload.file_id, choice.spec, str(choice.device)), load)
    except CheckpointMismatch as exc:
        st.error(exc.sentence)
        if exc.preset:
            st.button(f"Switch the sidebar to {exc.preset}"
                      + (f" with {exc.classes} classes" if exc.classes else ""),
                      key="cam_ckpt_preset", on_click=sidebar.apply_preset,
                      args=(exc.preset, exc.classes))
        with st.expander("Which weights differ"):
            st.text(exc.details)
        st.stop()


def _torchvision(choice: state.Choice) -> Twins:
    with st.spinner("Loading torchvision's weights (downloaded once, then cached)…"):
        return _shared(("torchvision", choice.preset, str(choice.device)),
                       lambda: torchvision_twins(choice.preset, choice.spec, choice.device))


def _random(choice: state.Choice) -> Twins:
    return _cached(("random", choice.spec, choice.seed, str(choice.device)),
                   lambda: random_twins(choice.spec, choice.seed, choice.device))


def pick(choice: state.Choice) -> Twins | None:
    """Draw the weights selector; return the loaded weights (or None until a file is given)."""
    options = {f"shipped: {name}": name for name in shipped_checkpoints()}
    if "trained_models" in st.session_state:
        options["trained in this session"] = "session"
    options["random init of the sidebar's network"] = "random"
    if choice.preset in TORCHVISION_WEIGHTS:
        size = format_bytes(torchvision_download_bytes(choice.preset))
        options[f"torchvision pretrained {choice.preset} (ImageNet, {size} download)"] = \
            "torchvision"
    options["upload a checkpoint"] = "upload"
    label = persist.widget(st.selectbox, "Weights", "cam_weights", list(options)[0],
                           options=list(options),
                           help="Shipped checkpoints work offline; their network replaces the "
                                "sidebar's on this page.")
    kind = options[label]
    if label.startswith("shipped: "):
        return shipped(kind, choice.device)
    if kind == "session":
        return st.session_state.trained_models
    if kind == "upload":
        return _uploaded(choice)
    if kind == "torchvision":
        return _torchvision(choice)
    return _random(choice)


def pick_or_stop(choice: state.Choice, hint: str, before_stop=lambda: None) -> Twins:
    """``pick``, or end the page's run with a hint: upload a file (nothing given yet) or pick
    other weights (loading failed; its error is already shown). ``before_stop`` draws what must
    stay on the page even then (the Grad-CAM page's uploaded images)."""
    weights = failed = object()
    with guard.user_errors("Loading the weights"):
        weights = pick(choice)
    if weights is failed or weights is None:
        st.info("Upload a checkpoint to continue, or pick other weights." if weights is None
                else hint)
        before_stop()
        st.stop()
    return weights

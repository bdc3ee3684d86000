"""Choose the weights an analysis page uses; the loaded models are this session's own."""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st
import torch

from explorer import build
from explorer.budget import check_fits
from explorer.io.checkpoints import apply_checkpoint, load_checkpoint
from explorer.io.labels import dataset_classes, guess_dataset
from explorer.nets.spec import NetSpec
from explorer.io.weights import (TORCHVISION_WEIGHTS, load_shipped, pretrained_torchvision,
                              shipped_checkpoints, twin_of)

from . import state


@dataclass
class Weights:
    model: torch.nn.Module
    spec: NetSpec
    normalization: str
    classes: tuple[str, ...]
    description: str
    twin: torch.nn.Module | None = None  # the same architecture with skips toggled, if trained


def _classes(spec: NetSpec, dataset: str | None = None) -> tuple[str, ...]:
    dataset = dataset or guess_dataset(spec)
    names = dataset_classes(dataset) if dataset else ()
    if len(names) != spec.num_classes:
        names = tuple(f"class {i}" for i in range(spec.num_classes))
    return names


def _cached(key: tuple, load):
    """Keep one loaded model set per session; reload only when the key changes."""
    cached = st.session_state.get("weights_cache")
    if cached is None or cached[0] != key:
        st.session_state.weights_cache = None  # drop the old models before loading new ones
        st.session_state.weights_cache = (key, load())
    return st.session_state.weights_cache[1]


def _shipped(name: str, device: torch.device) -> Weights:
    def load() -> Weights:
        model, spec = load_shipped(name, device)
        twin_name = twin_of(name)
        twin = load_shipped(twin_name, device)[0] if twin_name else None
        accuracy = shipped_checkpoints()[name].accuracy
        acc = f", {accuracy:.1%} held-out accuracy" if accuracy is not None else ""
        return Weights(model, spec, "shapes", _classes(spec, "shapes"),
                       f"shipped checkpoint **{name}** (trained on synthetic shapes{acc})", twin)
    return _cached(("shipped", name, str(device)), load)


def _uploaded(choice: state.Choice) -> Weights | None:
    upload = st.file_uploader("Checkpoint for the sidebar's network", key="cam_ckpt",
                              type=["safetensors", "pt", "pth"],
                              help="safetensors, or a PyTorch state_dict (loaded with "
                                   "weights_only=True: code inside a pickle is never run).")
    if upload is None:
        return None

    def load() -> Weights:
        check_fits(choice.spec, 1, choice.device)
        state_dict, report = load_checkpoint(upload.getvalue(), choice.spec, upload.name)
        if not report.ok:
            raise ValueError(f"The checkpoint does not fit the sidebar's network. {report.summary()}")
        model = apply_checkpoint(build(choice.spec, choice.seed), state_dict)
        return Weights(model.to(choice.device).eval(), choice.spec, "imagenet",
                       _classes(choice.spec), "your uploaded checkpoint")
    return _cached(("upload", upload.file_id, choice.spec, str(choice.device)), load)


def _torchvision(choice: state.Choice) -> Weights:
    def load() -> Weights:
        with st.spinner("Fetching torchvision's weights (once; then cached)…"):
            model = pretrained_torchvision(choice.preset, choice.device)
        return Weights(model, choice.spec, "imagenet", _classes(choice.spec, "imagenet"),
                       f"torchvision's pretrained **{choice.preset}** (ImageNet)")
    return _cached(("torchvision", choice.preset, str(choice.device)), load)


def _random(choice: state.Choice) -> Weights:
    def load() -> Weights:
        spec = choice.spec
        check_fits(spec, 1, choice.device)
        model = build(spec, choice.seed, choice.device).eval()
        twin = None
        try:
            twin = build(spec.replace(skip=not spec.skip), choice.seed, choice.device).eval()
        except ValueError:
            pass
        return Weights(model, spec, "imagenet", _classes(spec),
                       f"**random weights** (seed {choice.seed}) — untrained, so the maps show "
                       f"the architecture's bias, not learned evidence", twin)
    return _cached(("random", choice.spec, choice.seed, str(choice.device)), load)


def pick(choice: state.Choice) -> Weights | None:
    """Draw the weights selector; return the loaded weights (or None until a file is given)."""
    options = {f"shipped: {name}": name for name in shipped_checkpoints()}
    if "trained_models" in st.session_state:
        options["trained in this session"] = "session"
    options["random init of the sidebar's network"] = "random"
    if choice.preset in TORCHVISION_WEIGHTS:
        options[f"torchvision pretrained {choice.preset} (downloads)"] = "torchvision"
    options["upload a checkpoint"] = "upload"
    label = st.selectbox("Weights", list(options), key="cam_weights",
                         help="Shipped checkpoints work offline; their network replaces the "
                              "sidebar's on this page.")
    kind = options[label]
    if label.startswith("shipped: "):
        return _shipped(kind, choice.device)
    if kind == "session":
        return st.session_state.trained_models
    if kind == "upload":
        return _uploaded(choice)
    if kind == "torchvision":
        return _torchvision(choice)
    return _random(choice)

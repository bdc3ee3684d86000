"""Choose the weights an analysis page uses.

Shipped and pretrained weights never change, so their models are loaded once per process and
shared by every session (a class of sixteen holds one copy); whoever hooks them holds
`Weights.lock`. Uploaded, random and freshly trained weights are the session's own.
"""

from __future__ import annotations

import dataclasses
import threading
from dataclasses import dataclass, field

import streamlit as st
import torch

from explorer import build
from explorer.budget import check_fits
from explorer.io.bundle import is_bundle, read_bundle
from explorer.training.verdicts import pct
from explorer.io.checkpoints import apply_checkpoint, headline, load_checkpoint, looks_like
from explorer.io.labels import dataset_classes, guess_dataset
from explorer.nets.spec import NetSpec
from explorer.units import format_bytes
from explorer.io.weights import (TORCHVISION_WEIGHTS, load_shipped, pretrained_torchvision,
                                 shipped_checkpoints, twin_of)

from . import persist, sidebar, state

UPLOAD_LIMIT_MB = 200  # .streamlit/config.toml's server.maxUploadSize


@dataclass
class Weights:
    model: torch.nn.Module
    spec: NetSpec
    normalization: str
    classes: tuple[str, ...]
    description: str
    twin: torch.nn.Module | None = None  # the same architecture with skips toggled, if trained
    dataset: str | None = None  # what the classes are ("shapes", "imagenet"); None: no meaning
    # Which weights these are, the same in every session that loads them (results computed
    # from them are shared: pages/widgets/shared.py); None: this session's own.
    key: tuple | None = None
    # Held while a computation hooks the models: shared models serve many sessions.
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)


def download_bytes(preset_name: str) -> int:
    """The size of torchvision's ImageNet weights file for a preset, in bytes."""
    from torchvision import models

    weights = getattr(models, f"{TORCHVISION_WEIGHTS[preset_name]}_Weights").IMAGENET1K_V1
    return round(weights.meta["_file_size"] * 2**20)  # torchvision states it in MiB


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
        st.session_state.weights_cache = (key, dataclasses.replace(load(), key=key))
    return st.session_state.weights_cache[1]


@st.cache_resource(max_entries=8, ttl=3600, show_spinner=False)
def _shared(key: tuple, _load) -> Weights:
    """Weights every session shares, loaded once per process (see the module's docstring).
    Entries expire an hour after loading (the next visitor loads them again), so weights nobody
    uses leave memory within the hour: torchvision's ResNet-152 alone is 230 MB."""
    return dataclasses.replace(_load(), key=key)


def shipped(name: str, device: torch.device) -> Weights:
    def load() -> Weights:
        model, spec = load_shipped(name, device)
        twin_name = twin_of(name)
        twin = load_shipped(twin_name, device)[0] if twin_name else None
        accuracy = shipped_checkpoints()[name].accuracy
        acc = f", {accuracy:.1%} held-out accuracy" if accuracy is not None else ""
        return Weights(model, spec, "shapes", _classes(spec, "shapes"),
                       f"shipped checkpoint **{name}** (trained on synthetic shapes{acc})", twin,
                       "shapes")
    return _shared(("shipped", name, str(device)), load)


class Mismatch(Exception):
    """Uploaded weights that do not fit the sidebar's network (shown with a way out)."""

    def __init__(self, sentence: str, details: str, preset: str | None, classes: int | None):
        super().__init__(sentence)
        self.sentence, self.details, self.preset, self.classes = sentence, details, preset, classes


def _from_bundle(data: bytes, device: torch.device) -> Weights:
    """The nets of a Training-page zip, with the facts of the dataset they learned."""
    nets = read_bundle(data)
    main = nets[0]
    check_fits(main.spec, 1, device)
    model = apply_checkpoint(build(main.spec), main.state_dict).to(device).eval()
    twin = next((n for n in nets[1:] if n.spec == main.spec.replace(skip=not main.spec.skip)),
                None)
    twin_model = (apply_checkpoint(build(twin.spec), twin.state_dict).to(device).eval()
                  if twin else None)
    accuracy = main.metrics.get("val_accuracy")
    held_out = f", {pct(accuracy)} held-out accuracy" if isinstance(accuracy, float) else ""
    early = ", stopped early" if main.metrics.get("stopped_early") else ""
    return Weights(model, main.spec, main.normalization, main.classes or _classes(main.spec),
                   f"your uploaded trained **{main.folder}** net ({main.metrics.get('dataset', '?')}"
                   f"{held_out}{early})", twin_model)


def _uploaded(choice: state.Choice) -> Weights | None:
    files = persist.uploads(
        st.file_uploader, "Checkpoint for the sidebar's network", "cam_ckpt", multiple=False,
        type=["safetensors", "pt", "pth", "zip"],
        help=f"safetensors, a PyTorch state_dict (loaded with weights_only=True: code inside "
             f"a pickle is never run), or the Training page's zip of trained models (it carries "
             f"its own network, classes and normalisation). Up to {UPLOAD_LIMIT_MB} MB.")
    if not files:
        return None
    upload = files[0]

    def load() -> Weights:
        if is_bundle(upload.name):
            return _from_bundle(upload.getvalue(), choice.device)
        check_fits(choice.spec, 1, choice.device)
        state_dict, report = load_checkpoint(upload.getvalue(), choice.spec, upload.name)
        if not report.ok:
            guess = looks_like(state_dict)
            preset, _, classes = (guess or "").partition(" with ")
            raise Mismatch(headline(report, state_dict), report.summary(), preset or None,
                           int(classes.split()[0]) if classes else None)
        model = apply_checkpoint(build(choice.spec, choice.seed), state_dict)
        return Weights(model.to(choice.device).eval(), choice.spec, "imagenet",
                       _classes(choice.spec), "your uploaded checkpoint")
    try:
        return _cached(("upload", upload.file_id, choice.spec, str(choice.device)), load)
    except Mismatch as exc:
        st.error(exc.sentence)
        if exc.preset:
            st.button(f"Switch the sidebar to {exc.preset}"
                      + (f" with {exc.classes} classes" if exc.classes else ""),
                      key="cam_ckpt_preset", on_click=sidebar.apply_preset,
                      args=(exc.preset, exc.classes))
        with st.expander("Which weights differ"):
            st.text(exc.details)
        st.stop()


def _torchvision(choice: state.Choice) -> Weights:
    def load() -> Weights:
        model = pretrained_torchvision(choice.preset, choice.device)
        return Weights(model, choice.spec, "imagenet", _classes(choice.spec, "imagenet"),
                       f"torchvision's pretrained **{choice.preset}** (ImageNet)",
                       dataset="imagenet")
    with st.spinner("Loading torchvision's weights (downloaded once, then cached)…"):
        return _shared(("torchvision", choice.preset, str(choice.device)), load)


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
        size = format_bytes(download_bytes(choice.preset))
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

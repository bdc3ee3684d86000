"""The "Why skips work" page's weights, data, slow-run helper and downloads.

The residual net and its plain twin are this session's own models (an analysis perturbs and
hooks them), kept under ``why_models`` and reloaded only when the choice changes. Results live in
``why_results`` (bounded), keyed by everything they depend on, so they survive page switches.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Callable

import streamlit as st

from explorer.analysis.showcase import load_summary, showcases
from explorer.data.heldout import heldout_for
from explorer.io.twins import Twins, random_twins, shipped_twins
from explorer.io.weights import shipped_checkpoints, twin_of
from explorer.nets.naming import same_body
from explorer.nets.spec import NetSpec
from explorer.slots import gate
from pages.widgets import downloads, persist, state

MAX_RESULTS = 12
RANDOM = "random init of the sidebar's network"
SESSION = "trained in this session"


def _options(choice: state.Choice) -> dict[str, tuple[str, str | None]]:
    options: dict[str, tuple[str, str | None]] = {}
    for name, ck in shipped_checkpoints().items():
        if ck.spec.skip:
            twin = twin_of(name)
            label = f"shipped: {name}" + (f" + {twin}" if twin else " (no plain twin)")
            options[label] = ("shipped", name)
    trained = st.session_state.get("trained_models")
    if trained is not None and getattr(trained, "twin", None) is not None:
        options[SESSION] = ("session", None)
    options[RANDOM] = ("random", None)
    return options


def _load(kind: str, name: str | None, choice: state.Choice) -> Twins:
    if kind == "shipped":
        return shipped_twins(name, choice.device)
    if kind == "session":
        trained = st.session_state.trained_models
        if trained.dataset not in (None, "shapes"):
            raise ValueError("The pair trained in this session learned another dataset than the "
                             "synthetic shapes these analyses use; train on shapes, or pick "
                             "other weights.")
        return trained
    return random_twins(choice.spec.replace(skip=True), choice.seed, choice.device)


def sidebar_pair(options: dict[str, tuple[str, str | None]], choice: state.Choice) -> str | None:
    """The option holding a trained pair of the sidebar's network, if there is one."""
    wanted = choice.spec.replace(skip=True)
    trained = st.session_state.get("trained_models")
    for label, (kind, name) in options.items():
        if kind == "shipped" and same_body(wanted, shipped_checkpoints()[name].spec):
            return label
        if kind == "session" and trained is not None and same_body(wanted,
                                                                   trained.residual_spec):
            return label
    return None


def suggest_pairs(choice: state.Choice) -> None:
    """When the sidebar's network has no trained pair: which shipped pair shows each effect
    best, from the numbers recorded on it, each offered in one click."""
    options = _options(choice)
    summary = load_summary()
    if sidebar_pair(options, choice) or not summary["pairs"]:  # nothing recorded: no claims
        return
    cases = showcases(summary)
    lines = [f"No trained pair of the sidebar's network ({choice.name}) is shipped. From the "
             f"numbers recorded on each shipped pair:"] + [f"- {c.sentence}" for c in cases]
    st.info("\n".join(lines))
    labels = {name: label for label, (kind, name) in options.items() if kind == "shipped"}
    best = list(dict.fromkeys(c.pair for c in cases if c.pair in labels))
    for col, name in zip(st.columns(max(len(best), 1)), best):
        col.button(f"Show the {name} pair", key=f"why_use_{name}", on_click=persist.show,
                   args=("why_weights", labels[name]))


def pick_pair(choice: state.Choice) -> Twins:
    """Draw the weights selector; return this session's loaded pair (the residual net is
    ``pair.residual``, its spec ``pair.residual_spec``). The selector follows the sidebar to a
    trained pair of its network whenever the sidebar changes to one."""
    options = _options(choice)
    matching = sidebar_pair(options, choice)
    if persist.kept("why_weights_sidebar") != choice.spec:
        persist.remember("why_weights_sidebar", choice.spec)
        if matching:
            persist.show("why_weights", matching)
    label = persist.widget(st.selectbox, "Weights", "why_weights", matching or next(iter(options)),
                           options=list(options),
                           help="A residual net and its plain twin (same architecture, skips "
                                "off). Shipped checkpoints work offline.")
    kind, name = options[label]
    key = (label, kind, name, choice.spec if kind == "random" else None, choice.seed,
           str(choice.device), id(st.session_state.get("trained_models")))
    cached = st.session_state.get("why_models")
    if cached is None or cached[0] != key:
        st.session_state.why_models = None  # free the old models before loading new ones
        st.session_state.why_models = (key, dataclasses.replace(_load(kind, name, choice),
                                                                key=key))
    return st.session_state.why_models[1]


@st.cache_data(max_entries=4, show_spinner="Rendering held-out images…")
def heldout(spec: NetSpec, n: int):
    """The first ``n`` shapes test images (seed 0), shaped for ``spec``."""
    return heldout_for(spec, n)


def results() -> dict:
    return st.session_state.setdefault("why_results", {})


def run(prefix: str, label: str, key: tuple, device,
        work: Callable[[Callable[[float, str], None]], Any]) -> Any | None:
    """A run button with progress and a stop button; the result is kept under ``key``.

    ``work(report)`` does the job, calling ``report(fraction, message)``. A click on Stop reruns
    the page, which ends the job where it stands (models are restored by ``preserved``).
    """
    store = results()
    button, stop = st.columns([2, 3])  # room for the longest label, unclipped
    if button.button(label, type="primary", key=f"{prefix}_run") and key not in store:
        stop_slot = stop.empty()
        stop_slot.button("Stop", key=f"{prefix}_stop")
        bar = st.progress(0.0, text="Starting…")
        with gate(device):
            value = work(lambda fraction, message: bar.progress(min(fraction, 1.0),
                                                                text=message))
        while len(store) >= MAX_RESULTS:
            store.pop(next(iter(store)))
        store[key] = value
        bar.empty()
        stop_slot.empty()
    if key in store:
        return store[key]
    if st.session_state.get(f"{prefix}_stop"):
        st.warning("Stopped. Run it again to start over.")
    return None


def per_net(nets: dict, report: Callable[[float, str], None], analyse):
    """Run ``analyse(model, on_progress)`` on each net, one progress bar over all of them."""
    out = {}
    for i, (name, model) in enumerate(nets.items()):
        def progress(done: int, total: int, message: str, i=i, name=name) -> None:
            report((i + done / total) / len(nets), f"{name}: {message} ({done}/{total})")
        out[name] = analyse(model, progress)
    return out


def facts(pair: Twins, images: int, **extra: Any) -> dict[str, Any]:
    """What a download depends on: spec, seed, checkpoint, images and the analysis settings."""
    found = downloads.provenance(pair.residual_spec, pair.seed, images,
                                 pair.description.replace("**", ""))
    found["checkpoint"] = pair.checkpoint
    found["images_from"] = f"first {images} images of the synthetic shapes test split, seed 0"
    return {**found, **extra}


def download(label: str, text: str, name: str, kind: str, key: str) -> None:
    mime = "text/csv" if kind == "csv" else "application/json"
    st.download_button(label, text, downloads.file_name(*name.split("/"), ext=kind), mime,
                       key=key)

"""The two panels of the "Trust the map" page: the sanity cascade and the localisation scores.

Runs go through the same run button, progress bar, Stop and per-session result store as the
"Why skips work" page (`why_common.run`); shared shipped models are hooked only under their lock,
taken after the compute gate.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from explorer.analysis import trust_runs as runs
from explorer.analysis.cam_methods import CAM_LABELS, CAM_METHODS
from explorer.analysis.gradcam import cam_layers
from explorer.analysis.sanity import cascade_order
from explorer.analysis.trust_report import (FOLLOWS_IMAGE, SIMILAR, localisation_sentences,
                                            method_reference, sanity_sentences)
from explorer.budget import check_fits
from explorer.figures.trust import localisation_figure, sanity_figure, sanity_strip_figure
from explorer.io.twins import Twins
from explorer.nets.spec import NetSpec
from explorer.training.cost import forward_seconds
from explorer.units import format_duration, plural
from pages.views import why_common as common
from pages.widgets import downloads, persist

SHARES = ("pointing", "energy", "chance", "accuracy")  # fractions in the CSV, percentages on screen
HIDDEN = ["method_id"]  # in the CSV for the command line; the table shows the method's name


def _say(lines: list[str]) -> None:
    st.info("\n\n".join(lines))


def pair_id(pair: Twins) -> tuple:
    """Which weights a result belongs to (a session's own pair has no shared key)."""
    return pair.key or ("session", id(pair.model))


@st.cache_data(max_entries=4, show_spinner=False)
def example_picture(spec: NetSpec):
    return runs.example_picture(spec)


def _methods(key: str):
    return persist.widget(st.multiselect, "Methods", key, list(CAM_METHODS),
                          options=list(CAM_METHODS), format_func=CAM_LABELS.get,
                          help="; ".join(method_reference(m) for m in CAM_METHODS) + ".")


def _estimate(pair: Twins, cost: float, device, what: str) -> None:
    """Say how long ``cost`` forwards of one image take here: a floor, since the estimate counts
    only the forwards (at the measured large-batch speed), no fixed overhead."""
    with st.spinner("Measuring this device's speed (once)…"):
        seconds = forward_seconds(pair.residual_spec, round(cost), device.type)
    st.caption(f"{what}: **at least about {format_duration(seconds)} on this "
               f"{device.type.upper()}**: the forward passes alone, from the nets' mult-adds and "
               f"this server's measured speed. Copying and re-drawing the weights, small batches "
               f"and the charts add to it, more so on a busy server.")


def _images_input(column, key: str, default: int, step: int, most: int) -> int:
    return int(persist.widget(column.number_input, "Images", key, default, step=step,
                              check=persist.between(1, most, "The number of images")))


def _ready(pair: Twins, methods: list[str], images: int, device) -> bool:
    """Whether a panel can run: a method is picked; a batch that would not fit raises the
    budget check's ``ValueError``, which the page's guard shows."""
    if not methods:
        st.info("Pick at least one method above.")
        return False
    check_fits(pair.residual_spec, runs.largest_batch(methods, images), device)
    return True


def _locked(pair: Twins, analyse):
    """Run ``analyse(model, progress)`` on each net with the pair's lock held (after the gate,
    which `common.run` takes first)."""
    def work(report):
        with pair.lock:
            return common.per_net(pair.nets(), report, analyse)
    return work


def sanity_panel(pair: Twins, device) -> None:
    st.markdown(
        "Adebayo et al. (2018) asked whether a saliency map explains the *model*: re-draw the "
        "network's weights at random, one part at a time from the classifier down to the stem, "
        "and compare each map with the trained network's map of the same image. A map that "
        "explains what the network learned must change; one that stays alike is showing the "
        "image (its edges and blobs), whatever the weights. **How to read it:** each curve "
        "starts at 1 (the trained map itself); the faster it falls, the more the map depends on "
        "the weights. Spearman compares the order of the pixels, SSIM the local structure.")
    refusal = runs.sanity_refusal(pair)
    if refusal:
        st.warning(refusal)
        return
    layers = cam_layers(pair.residual)
    stages = [name for name in layers if "." not in name]
    cols = st.columns([3, 1, 1])
    with cols[0]:
        methods = _methods("tm_san_methods")
    layer = persist.widget(cols[1].selectbox, "Layer", "tm_san_layer", stages[-1],
                           options=layers, help="Where the maps are taken: a stage or a block.")
    images = _images_input(cols[2], "tm_san_images", 8, 1, runs.MAX_SANITY_IMAGES)
    if not _ready(pair, methods, images, device):
        return
    nets = pair.nets()
    seed = runs.cascade_seed(pair)
    steps = len(cascade_order(pair.residual)) + 1
    cost = sum(runs.sanity_work(model, layer, methods, images) for model in nets.values())
    _estimate(pair, cost, device, f"{plural(steps, 'step')} × {plural(len(methods), 'method')} "
                                  f"× {plural(len(nets), 'net')} on {plural(images, 'image')}")
    explained = ("its true class" if pair.dataset == runs.SHAPES else
                 "the class the trained net predicts (these weights did not learn the shapes)")
    st.caption(f"Each map explains {explained}, on the first {plural(images, 'held-out shape')}. "
               f"The random weights are the builder's initialisation with seed {seed}, not the "
               f"training's own seed ({runs.training_seed(pair)} where it is recorded): that "
               f"would put back the very weights training started from.")
    key = ("trust-sanity", pair_id(pair), tuple(methods), layer, images, seed)
    found = common.run("tm_san", "Run the sanity check", key, device, _locked(
        pair, lambda model, progress: runs.sanity_for(model, pair.dataset, images, layer,
                                                      methods, seed, progress)))
    if found is None:
        return
    _say(sanity_sentences(found, images))
    st.caption(f"Thresholds of the sentences: a rank correlation of {SIMILAR} or more with the "
               f"trained map counts as hardly changed; {FOLLOWS_IMAGE} or more with every weight "
               f"random, as a map that partly follows the image.")
    picture = example_picture(pair.residual_spec)
    for method in methods:
        st.plotly_chart(sanity_figure(found, method), width="stretch", key=f"tm_san_fig_{method}")
        # Streamlit's theme repaints a shared colour axis; the maps keep the Grad-CAM colours.
        st.plotly_chart(sanity_strip_figure(found, method, picture), width="stretch",
                        theme=None, key=f"tm_san_strip_{method}")
    table = pd.DataFrame(runs.sanity_rows(found))
    with st.expander("Every step's numbers"):
        st.dataframe(table.drop(columns=HIDDEN), hide_index=True, width="stretch")
    facts = common.facts(pair, images, layer=layer, methods=list(methods), random_seed=seed,
                         explained=explained)
    common.download("Sanity steps (.csv)", downloads.csv_text(table, facts), f"sanity/{layer}",
                    "csv", "tm_san_csv")


def localisation_panel(pair: Twins, device) -> None:
    st.markdown(
        "On the synthetic shapes we know exactly which pixels are the object, so a map can be "
        "scored: the **pointing game** (Zhang et al. 2016) counts how often the map's strongest "
        "pixel falls on the object; the **energy inside the mask** (Wang et al. 2020) is the "
        "share of the map's positive values that lies on it. **How to read it:** a map blind to "
        "the image scores about the object's share of the image on both (the dashed chance "
        "line); the higher above it a bar stands, the better that map points at what the network "
        "was asked about. Every stage is scored, explaining the true class.")
    refusal = runs.localisation_refusal(pair)
    if refusal:
        st.warning(refusal)
        return
    cols = st.columns([3, 1])
    with cols[0]:
        methods = _methods("tm_loc_methods")
    images = _images_input(cols[1], "tm_loc_images", 64, 16, runs.MAX_LOCALISATION_IMAGES)
    if not _ready(pair, methods, images, device):
        return
    nets = pair.nets()
    cost = sum(runs.localisation_work(model, methods, images) for model in nets.values())
    stages = [name for name in cam_layers(pair.residual) if "." not in name]
    _estimate(pair, cost, device, f"{plural(len(methods), 'method')} × "
                                  f"{plural(len(stages), 'stage')} × {plural(len(nets), 'net')} "
                                  f"on {plural(images, 'image')}")
    key = ("trust-localisation", pair_id(pair), tuple(methods), images)

    def work(report):
        with pair.lock:
            scores = common.per_net(nets, report, lambda model, progress: runs.localisation_for(
                model, images, methods, progress))
            return scores, {net: runs.heldout_accuracy(model, images)
                            for net, model in nets.items()}

    ran = common.run("tm_loc", "Score the maps", key, device, work)
    if ran is None:
        return
    found, accuracy = ran
    _say(localisation_sentences(found, accuracy))
    st.plotly_chart(localisation_figure(found), width="stretch", key="tm_loc_fig")
    table = pd.DataFrame(runs.localisation_rows(found, accuracy))
    st.dataframe(table.drop(columns=HIDDEN).assign(**{c: 100 * table[c] for c in SHARES}),
                 hide_index=True, width="stretch",
                 column_config={c: st.column_config.NumberColumn(f"{c} (%)", format="%.1f")
                                for c in SHARES})
    facts = common.facts(pair, images, methods=list(methods), explained="true class")
    common.download("Localisation scores (.csv)", downloads.csv_text(table, facts),
                    "localisation", "csv", "tm_loc_csv")

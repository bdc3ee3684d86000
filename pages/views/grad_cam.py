"""Grad-CAM: which parts of an image a stage's features used to vote for a class."""

import base64

import numpy as np
import streamlit as st
from PIL import Image, ImageDraw

from explorer import stage_table
from explorer.budget import check_fits
from explorer.slots import gate
from explorer.analysis.cam_methods import (CAM_LABELS, CAM_METHODS, CAM_PAPERS, GRADIENT_FREE,
                                           SCORE_CAM_BATCH)
from explorer.analysis.deletion import DEFAULT_STEPS
from explorer.analysis.deletion_agreement import agreement_sentence
from explorer.analysis.deletion_report import (HALVED, area_column, area_table,
                                               deletion_sentences, halved_column, outline_caveat)
from explorer.analysis.family_faithfulness import RANDOM_ORDER, family_deletion, rank_agreement
from explorer.analysis.gradcam import attribute, cam_layers, grad_cam, grad_cam_grid
from explorer.analysis.overlay import cam_overlay, colormap
from explorer.figures.deletion import deletion_figure
from explorer.io.fingerprint import image_digest, tensor_digest
from explorer.io.images import fit_image, png_bytes, preprocess
from explorer.io.labels import domain_warning
from explorer.io.weights import torchvision_download_bytes
from explorer.units import format_bytes, format_probability, plural
from pages.widgets import downloads, guard, persist, samples, shared, state, weights_picker

OTHER_METHODS = {"integrated_gradients": "Integrated Gradients",
                 "occlusion": "Occlusion (slow)"}
METHOD_IDEAS = {
    "gradcam": "weighs each feature map by its mean gradient: one backward pass.",
    "gradcam++": "weighs only positive gradients, with a coefficient per position, so that "
                 "several objects of the class all get credit.",
    "layercam": "weighs each position by its own positive gradient instead of one weight per "
                "map: finer maps at early layers.",
    "scorecam": "uses no gradient: masks the image with each feature map and weighs the map by "
                "the class score left. One forward pass per channel: slow.",
}
METHOD_HELP = "\n".join(f"- **{CAM_LABELS[m]}** ({CAM_PAPERS[m]}) {METHOD_IDEAS[m]}"
                         for m in CAM_METHODS)
FILE_PREFIX = {m: m.replace("++", "-plus-plus") for m in CAM_METHODS}  # "+" is not file-safe
SHOWN = 256  # px: overlays are shown and downloaded at this size
choice = state.current()

st.title("Grad-CAM")
st.markdown(
    "This page shows Grad-CAM (Selvaraju et al. 2017) and its family: which parts of an image "
    "a layer's features used to vote for a class. Grad-CAM weights the layer's feature maps by "
    "how much each one raises the chosen class's score, then keeps the positive evidence; "
    "Grad-CAM++, Layer-CAM and Score-CAM weigh the same maps their own ways (pick one under "
    "**Method**). **Warm colours** mark where that layer saw evidence *for* the class; blue "
    "marks none. Deep stages give coarse, class-specific maps; early stages give fine but less "
    "selective ones. Compare the stages, the methods (a **deletion curve** measures which map "
    "found what the net uses), and a residual net with its plain twin trained the same way."
)

weights = weights_picker.pick_or_stop(
    choice, "Pick other weights above to analyse the images below.",
    # The user's images stay where they left them.
    before_stop=lambda: samples.pick_images(choice.spec, choice.seed))
spec = weights.spec
st.caption(f"Using {weights.description}; network: {spec.depth} layers, {spec.image_size} px "
           f"input, {plural(spec.num_classes, 'class', 'classes')}, on {choice.device.type}.")
if spec.in_channels not in (1, 3):
    st.warning(f"This network takes {spec.in_channels} input channels, but a picture has 1 (grey) "
               "or 3 (colour), so it cannot be shown an image. Set 'Input channels' in the "
               "sidebar to 3 or 1, or pick shipped weights above.")
    st.stop()


@st.cache_resource(show_spinner=False)  # the same PNG for every session
def colour_bar() -> bytes:
    ramp = colormap(np.tile(np.linspace(0, 1, SHOWN), (12, 1)))
    return png_bytes(Image.fromarray(ramp))


def crop_preview(image: Image.Image) -> Image.Image:
    """The image at display size with the part the network sees (a centre square) outlined
    and the rest dimmed."""
    scale = SHOWN / max(image.size)
    shown = image.resize((max(1, round(image.width * scale)), max(1, round(image.height * scale))),
                         Image.NEAREST if scale > 1 else Image.BILINEAR)
    side = min(shown.size)
    left, top = (shown.width - side) // 2, (shown.height - side) // 2
    dimmed = Image.eval(shown, lambda v: v // 3)
    dimmed.paste(shown.crop((left, top, left + side, top + side)), (left, top))
    ImageDraw.Draw(dimmed).rectangle((left, top, left + side - 1, top + side - 1),
                                     outline=(255, 200, 0), width=3)
    return dimmed


def shown(data: bytes) -> str:
    """A PNG as a data URL for st.image: Streamlit hands a URL to the browser as it is, while
    bytes are decoded, hashed and stored again for every session on every rerun."""
    return "data:image/png;base64," + base64.b64encode(data).decode("ascii")


def preview(picked, what: str, draw) -> str:
    """An image drawn from the picked one (``draw()``), encoded once for every session."""
    key = ("preview", what, spec.image_size, image_digest(picked.image))
    return shared.computed_once(key, lambda: shown(png_bytes(draw())))


def big(image: Image.Image) -> Image.Image:
    return image.resize((SHOWN, SHOWN), Image.NEAREST if image.width < SHOWN else Image.BILINEAR)


def small(image: Image.Image) -> Image.Image:
    return image.resize((128, 128))


fits = False
with guard.user_errors("Grad-CAM"):
    # One image at a time: its forward and backward must fit (a 4096 px input is legal).
    check_fits(spec, 1, choice.device)
    fits = True
if not fits:
    st.stop()
images = samples.pick_images(spec, choice.seed)  # names a bad file itself and goes on
if not images:
    st.info("Upload an image or pick a sample above.")
    st.stop()


def masked_images(layer_names: list[str]) -> int | None:
    """How many masked images Score-CAM runs for these layers: one per channel of each (None
    when a layer's stage is not in the stage table)."""
    channels = {row.name: row.output_shape[1] for row in stage_table(spec).rows}
    counts = [channels.get(name.split(".")[0]) for name in layer_names]
    return None if None in counts else sum(counts)


def score_cam_wait(layer_names: list[str]):
    """A spinner with Score-CAM's count of forward passes (shown only if the work is not cached:
    Streamlit shows a spinner after half a second)."""
    count = masked_images(layer_names)
    where = ", ".join(layer_names)
    amount = (f"{count} masked images, one per channel" if count is not None
              else "one masked image per channel")
    passes = "" if count is None else f" in {-(-count // SCORE_CAM_BATCH)} forward passes"
    return st.spinner(f"Score-CAM at {where}: {amount}{passes}…", show_time=True)


def net_phrase(name: str) -> str:
    return name if name == "this net" else f"the {name}"


class Explained:
    """One image as the page explains it: the pick, what the network sees, its input tensor,
    its place on the page and its digest (the cache keys' part for the image)."""

    def __init__(self, picked, seen: Image.Image, x, index: int) -> None:
        self.picked, self.seen, self.x, self.index = picked, seen, x, index
        self.id = tensor_digest(x)


def once(name: str, image: Explained, what: tuple, compute, heavy: bool = True):
    """Computed once for every session showing these weights and this image; a heavy
    computation waits for a compute slot (explorer.slots.gate)."""
    def run():
        if not heavy:
            return compute()
        with gate(choice.device), weights.lock:  # gate first: no slot waits on a lock
            return compute()
    key = None if weights.key is None else (*weights.key, name, image.id, *what)
    return shared.computed_once(key, run)


def picture(name: str, image: Explained, what: tuple, heatmap, resize) -> bytes:
    """The map over the image as PNG bytes: encoded once, not once per visitor."""
    return once(name, image, ("png", *what, alpha),
                lambda: png_bytes(resize(cam_overlay(image.seen, heatmap, alpha))), heavy=False)


def cam_of(model, name: str, image: Explained, cam_method: str):
    """One method's map at the chosen layer and class, shared by the main map and the deletion
    curves."""
    def compute():
        return grad_cam(model, image.x, layer, target, method=cam_method)
    if cam_method not in GRADIENT_FREE:
        return once(name, image, ("cam", cam_method, layer, target), compute)
    with score_cam_wait([layer]):
        return once(name, image, ("cam", cam_method, layer, target), compute)


with guard.user_errors("Grad-CAM"):
    layers = cam_layers(weights.model)
    stages = [name for name in layers if "." not in name]
    cols = st.columns([1, 1, 2, 1])
    method = persist.widget(cols[0].selectbox, "Method", "cam_method", "gradcam",
                            options=list(CAM_METHODS), format_func=CAM_LABELS.get,
                            help=METHOD_HELP)
    layer = persist.widget(cols[1].selectbox, "Layer", "cam_layer", stages[-1], options=layers,
                           help="A whole stage (layer3) or one block in it (layer3.1).")
    class_options = ["top prediction"] + [f"{i}: {n}" for i, n in enumerate(weights.classes)]
    target_label = persist.widget(cols[2].selectbox, "Class to explain", "cam_target",
                                  "top prediction", options=class_options)
    target = None if target_label == "top prediction" else int(target_label.split(":")[0])
    alpha = persist.widget(cols[3].slider, "Heatmap opacity", "cam_alpha", 0.5, min_value=0.0,
                           max_value=1.0, step=0.05)
    show_grid = persist.widget(st.toggle, "Show every stage", "cam_grid", True)
    others = persist.widget(
        st.multiselect, "Compare with other captum methods", "cam_methods", [],
        options=list(OTHER_METHODS), format_func=OTHER_METHODS.get,
        help="Input-space maps. Occlusion runs one forward pass per window position: slow for "
             "large images on a CPU.")
    show_twin = weights.twin is not None and persist.widget(
        st.toggle, "Side by side with the plain/residual twin", "cam_twin", True)
    if others:  # integrated gradients' 16 steps (occlusion's 16 windows) run as one batch
        check_fits(spec, 16, choice.device)
    if method in GRADIENT_FREE:  # batches of masked images, no backward
        check_fits(spec, SCORE_CAM_BATCH, choice.device, training=False)

    photos = sum(not p.synthetic for p in images)
    warning = domain_warning(
        weights.dataset, photos, len(images) - photos,
        f"For photos, pick a torchvision preset in the sidebar (resnet18, resnet50, a ResNeXt "
        f"or a Wide ResNet) and then torchvision's pretrained weights here (a "
        f"{format_bytes(torchvision_download_bytes('resnet18'))} download for resnet18).")
    if warning:
        st.warning(warning)
    bar_col, text_col = st.columns([1, 2])
    bar_col.image(shown(colour_bar()), width=SHOWN)
    text_col.caption("Colour scale of every map: dark blue = no evidence for the class, red = the "
                     "map's strongest evidence. Each map is scaled to its own maximum, so compare "
                     "where maps are warm, not how warm.")
    net_name = choice.preset or f"{spec.depth}-layer"
    label = CAM_LABELS[method]
    score_cam_count = masked_images([layer])
    deletion_help = (
        "Which map found what the net uses: every CAM method's map of this image, its pixels "
        "removed most attributed first (Petsiuk et al. 2018). Runs all four methods, Score-CAM "
        "included" + ("" if score_cam_count is None else
                      f" ({score_cam_count} masked images per net at {layer})") + ".")

    def show(model, name: str, image: Explained):
        """One net's map, its top classes, the stage grid and the captum maps; returns the map."""
        result = cam_of(model, name, image, method)
        class_name = weights.classes[result.target]
        overlay = picture(name, image, ("cam", method, layer, target), result.heatmap, big)
        st.image(shown(overlay), caption=f"{name}: {label} at {layer}, class “{class_name}”")
        st.dataframe(
            {"class": [weights.classes[c] for c in result.top_classes],
             "probability": [format_probability(p) for p in result.top_probs]},
            hide_index=True, width="stretch")
        file = downloads.file_name(FILE_PREFIX[method], image.picked.caption.strip("`"), layer,
                                   class_name, net_name, name.replace(" ", "-"), ext="png")
        st.download_button("Overlay (.png)", lambda: overlay, file, "image/png",  # no copy
                           key=f"dl-{name}-{image.index}")  # names repeat: image.jpg
        if show_grid:
            def grid():
                return once(name, image, ("grid", method, tuple(stages), result.target),
                            lambda: grad_cam_grid(model, image.x, stages, result.target,
                                                  method=method))
            if method in GRADIENT_FREE:
                with score_cam_wait(stages):
                    panels = grid()
            else:
                panels = grid()
            for col, panel in zip(st.columns(len(panels)), panels):
                col.image(shown(picture(name, image, ("grid", method, panel.layer, result.target),
                                        panel.heatmap, small)), caption=panel.layer)
        window = max(4, spec.image_size // 8)
        for col, other_method in zip(st.columns(max(len(others), 1)), others):
            with st.spinner(f"{OTHER_METHODS[other_method]}…"):
                other = once(name, image, (other_method, result.target, window),
                             lambda: attribute(model, image.x, other_method, result.target,
                                               window=window, stride=max(2, window // 2)))
            col.image(shown(picture(name, image, (other_method, result.target, window),
                                    other.heatmap, small)), caption=OTHER_METHODS[other_method])
        return result

    def deletion_section(variants, results, image: Explained) -> None:
        """Every CAM method's deletion curve beside the random order's, for each net shown."""
        st.caption(
            "Petsiuk et al. 2018: remove the pixels a map ranks highest first, "
            f"1/{DEFAULT_STEPS} of the image at a time, and follow the class's probability. The "
            "faster it falls (the lower the area under the curve), the better the map found "
            "what the net uses. A random order of the same pixels is the reference to beat. "
            "Needs no object masks, so it works on your own photos too.")
        check_fits(spec, DEFAULT_STEPS + 1, choice.device, training=False)
        check_fits(spec, SCORE_CAM_BATCH, choice.device, training=False)
        panels, lines = [], []
        gradient_methods = [m for m in CAM_METHODS if m not in GRADIENT_FREE]
        last_stage = layer in (stages[-1], layers[-1])
        for col, (name, model), result in zip(st.columns(len(variants)), variants, results):
            maps = {m: cam_of(model, name, image, m) for m in CAM_METHODS}
            col.caption(f"{name}: each method's map at {layer}")
            for map_col, m in zip(col.columns(len(CAM_METHODS)), CAM_METHODS):
                map_col.image(shown(picture(name, image, ("cam", m, layer, target),
                                            maps[m].heatmap, small)), caption=CAM_LABELS[m])
            curves = once(name, image, ("deletion", layer, target, DEFAULT_STEPS, choice.seed),
                          lambda: family_deletion(
                              model, image.x, {CAM_LABELS[m]: maps[m].heatmap for m in CAM_METHODS},
                              result.target, seed=choice.seed))
            class_name = weights.classes[result.target]
            panels.append((f"{name}: “{class_name}”", curves))
            maps_only = {n: c for n, c in curves.items() if n != RANDOM_ORDER}
            lines += deletion_sentences(net_phrase(name), class_name, maps_only,
                                        curves[RANDOM_ORDER])
            if image.picked.synthetic:
                caveat = outline_caveat(maps_only, curves[RANDOM_ORDER])
                if caveat and caveat not in lines:  # once, for either net
                    lines.append(caveat)
            agreement = once(name, image, ("agreement", layer, target),
                             lambda: rank_agreement({CAM_LABELS[m]: maps[m].heatmap
                                                     for m in gradient_methods}), heavy=False)
            where = layer if len(variants) == 1 else f"{layer} of {net_phrase(name)}"
            lines.append(agreement_sentence(where, agreement, last_stage, curves))
        st.plotly_chart(deletion_figure(panels), width="stretch",
                        key=f"deletion-{image.index}")
        areas = area_table([(name, curves) for (name, _), (_, curves) in zip(variants, panels)])
        st.caption(
            "**Area under each deletion curve** (0 to 1): lower is more faithful. "
            f"Column “{HALVED}”: pixels removed when the probability first falls to half its "
            "start; sooner is more faithful, and it is the one to trust when a curve comes back "
            "up.")
        area_help = "Area under the deletion curve: lower is more faithful"
        halved_help = ("Pixels removed, most attributed first, when the class's probability "
                       "first falls to half its start: sooner is more faithful")
        st.dataframe(areas, hide_index=True, width="content", column_config={
            column: config for name, _ in variants for column, config in (
                (area_column(name), st.column_config.NumberColumn(format="%.2f",
                                                                   help=area_help)),
                (halved_column(name), st.column_config.TextColumn(help=halved_help)))})
        for line in lines:
            if line:
                st.markdown(f"- {line}")

    for index, picked in enumerate(images):
        st.subheader(picked.caption)
        seen = fit_image(picked.image, spec.image_size)
        original, network_view = st.columns(2)
        size = f"{picked.image.width}×{picked.image.height} px"
        if picked.image.size == (spec.image_size, spec.image_size):
            original.image(preview(picked, "seen", lambda: big(seen)), width=SHOWN,
                           caption=f"The image, {size}: exactly the network's input size")
        else:
            original.image(preview(picked, "crop", lambda: crop_preview(picked.image)),
                           width=SHOWN,
                           caption=f"Your image, {size}: the network sees the outlined centre "
                                   "square")
            network_view.image(preview(picked, "seen", lambda: big(seen)), width=SHOWN,
                               caption=f"What the network sees: that square resized to "
                                       f"{spec.image_size}×{spec.image_size} px")
        image = Explained(picked, seen,
                          preprocess(picked.image, spec, weights.normalization).to(choice.device),
                          index)
        variants = [("this net", weights.model)]
        if show_twin:
            twin_name = "plain twin" if spec.skip else "residual twin"
            variants.append((twin_name, weights.twin))
        results = []
        for col, (name, model) in zip(st.columns(len(variants)), variants):
            with col:
                results.append(show(model, name, image))
        if persist.widget(st.toggle, "Deletion curve", f"cam_deletion_{index}", False,
                          help=deletion_help):
            with guard.user_errors("Deletion curve"):
                deletion_section(variants, results, image)

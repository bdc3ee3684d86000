"""Grad-CAM: which parts of an image a stage's features used to vote for a class."""

import base64

import numpy as np
import streamlit as st
from PIL import Image, ImageDraw

from explorer.budget import check_fits
from explorer.slots import gate
from explorer.analysis.gradcam import attribute, cam_layers, grad_cam, grad_cam_grid
from explorer.analysis.overlay import cam_overlay, colormap
from explorer.io.fingerprint import image_digest, tensor_digest
from explorer.io.images import fit_image, png_bytes, preprocess
from explorer.io.labels import domain_warning
from explorer.io.weights import torchvision_download_bytes
from explorer.units import format_bytes, format_probability, plural
from pages.widgets import downloads, guard, persist, samples, shared, state, weights_picker

OTHER_METHODS = {"integrated_gradients": "Integrated Gradients",
                 "occlusion": "Occlusion (slow)"}
SHOWN = 256  # px: overlays are shown and downloaded at this size
choice = state.current()

st.title("Grad-CAM")
st.markdown(
    "Grad-CAM (Selvaraju et al. 2017) weights a layer's feature maps by how much each one "
    "raises the chosen class's score, then keeps the positive evidence. **Warm colours** mark "
    "where that layer saw evidence *for* the class; blue marks none. Deep stages give coarse, "
    "class-specific maps; early stages give fine but less selective ones. Compare the stages, "
    "and a residual net with its plain twin trained the same way."
)

FAILED = object()  # a step whose error is already on the page
weights = FAILED
with guard.user_errors("Loading the weights"):
    weights = weights_picker.pick(choice)
if weights is FAILED or weights is None:
    st.info("Upload a checkpoint to continue, or pick other weights." if weights is None else
            "Pick other weights above to analyse the images below.")
    samples.pick_images(choice.spec, choice.seed)  # the user's images stay where they left them
    st.stop()
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

with guard.user_errors("Grad-CAM"):
    layers = cam_layers(weights.model)
    stages = [name for name in layers if "." not in name]
    cols = st.columns([1, 2, 1])
    layer = persist.widget(cols[0].selectbox, "Layer", "cam_layer", stages[-1], options=layers,
                           help="A whole stage (layer3) or one block in it (layer3.1).")
    class_options = ["top prediction"] + [f"{i}: {n}" for i, n in enumerate(weights.classes)]
    target_label = persist.widget(cols[1].selectbox, "Class to explain", "cam_target",
                                  "top prediction", options=class_options)
    target = None if target_label == "top prediction" else int(target_label.split(":")[0])
    alpha = persist.widget(cols[2].slider, "Heatmap opacity", "cam_alpha", 0.5, min_value=0.0,
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

    def show(model, name: str, picked, seen: Image.Image, x, index: int) -> None:
        image_id = tensor_digest(x)

        def once(what: tuple, compute, heavy: bool = True):
            """Computed once for every session showing these weights and this image; a heavy
            computation waits for a compute slot (explorer.slots.gate)."""
            def run():
                if not heavy:
                    return compute()
                with gate(choice.device), weights.lock:  # gate first: no slot waits on a lock
                    return compute()
            key = None if weights.key is None else (*weights.key, name, image_id, *what)
            return shared.computed_once(key, run)

        def picture(what: tuple, heatmap, resize) -> bytes:
            """The map over the image as PNG bytes: encoded once, not once per visitor."""
            return once(("png", *what, alpha),
                        lambda: png_bytes(resize(cam_overlay(seen, heatmap, alpha))), heavy=False)

        result = once(("cam", layer, target), lambda: grad_cam(model, x, layer, target))
        class_name = weights.classes[result.target]
        overlay = picture(("cam", layer, target), result.heatmap, big)
        st.image(shown(overlay), caption=f"{name}: {layer}, class “{class_name}”")
        st.dataframe(
            {"class": [weights.classes[c] for c in result.top_classes],
             "probability": [format_probability(p) for p in result.top_probs]},
            hide_index=True, width="stretch")
        file = downloads.file_name("gradcam", picked.caption.strip("`"), layer, class_name,
                                   net_name, name.replace(" ", "-"), ext="png")
        st.download_button("Overlay (.png)", lambda: overlay, file, "image/png",  # no copy per rerun
                           key=f"dl-{name}-{index}")  # names repeat: image.jpg
        if show_grid:
            panels = once(("grid", tuple(stages), result.target),
                          lambda: grad_cam_grid(model, x, stages, result.target))
            for col, panel in zip(st.columns(len(panels)), panels):
                col.image(shown(picture(("grid", panel.layer, result.target), panel.heatmap,
                                        small)), caption=panel.layer)
        window = max(4, spec.image_size // 8)
        for col, method in zip(st.columns(max(len(others), 1)), others):
            with st.spinner(f"{OTHER_METHODS[method]}…"):
                other = once((method, result.target, window), lambda: attribute(
                    model, x, method, result.target, window=window, stride=max(2, window // 2)))
            col.image(shown(picture((method, result.target, window), other.heatmap, small)),
                      caption=OTHER_METHODS[method])

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
        x = preprocess(picked.image, spec, weights.normalization).to(choice.device)
        variants = [("this net", weights.model)]
        if show_twin:
            twin_name = "plain twin" if spec.skip else "residual twin"
            variants.append((twin_name, weights.twin))
        for col, (name, model) in zip(st.columns(len(variants)), variants):
            with col:
                show(model, name, picked, seen, x, index)

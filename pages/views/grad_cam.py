"""Grad-CAM: which parts of an image a stage's features used to vote for a class."""

import io

import streamlit as st
from PIL import Image

from explorer.budget import check_fits
from explorer.analysis.gradcam import attribute, cam_layers, cam_overlay, grad_cam, grad_cam_grid
from explorer.io.images import fit_image, preprocess
from pages.widgets import guard, samples, state, weights_picker

OTHER_METHODS = {"integrated_gradients": "Integrated Gradients",
                 "occlusion": "Occlusion (slow)"}
choice = state.current()

st.title("Grad-CAM")
st.markdown(
    "Grad-CAM (Selvaraju et al. 2017) weights a layer's feature maps by how much each one "
    "raises the chosen class's score, then keeps the positive evidence. **Warm colours** mark "
    "where that layer saw evidence *for* the class; blue marks none. Deep stages give coarse, "
    "class-specific maps; early stages give fine but less selective ones. Compare the stages, "
    "and a residual net with its plain twin trained the same way."
)

with guard.user_errors("Loading the weights"):
    weights = weights_picker.pick(choice)
    if weights is None:
        st.info("Upload a checkpoint to continue, or pick other weights.")
        st.stop()
    st.caption(f"Using {weights.description}; network: {weights.spec.depth} layers, "
               f"{weights.spec.image_size} px input, {weights.spec.num_classes} classes, on "
               f"{choice.device.type}.")
    # One image at a time: its forward and backward must fit (a 4096 px input is legal).
    check_fits(weights.spec, 1, choice.device)

    images = samples.pick_images(weights.spec, choice.seed)
    if not images:
        st.info("Upload an image or pick a sample above.")
        st.stop()

    layers = cam_layers(weights.model)
    stages = [name for name in layers if "." not in name]
    cols = st.columns([1, 2, 1])
    layer = cols[0].selectbox("Layer", layers, index=layers.index(stages[-1]), key="cam_layer",
                              help="A whole stage (layer3) or one block in it (layer3.1).")
    class_options = ["top prediction"] + [f"{i}: {n}" for i, n in enumerate(weights.classes)]
    target_label = cols[1].selectbox("Class to explain", class_options, key="cam_target")
    target = None if target_label == "top prediction" else int(target_label.split(":")[0])
    alpha = cols[2].slider("Heatmap opacity", 0.0, 1.0, 0.5, 0.05, key="cam_alpha")
    show_grid = st.toggle("Show every stage", value=True, key="cam_grid")
    others = st.multiselect(
        "Compare with other captum methods", list(OTHER_METHODS), format_func=OTHER_METHODS.get,
        key="cam_methods", help="Input-space maps. Occlusion runs one forward pass per window "
                                "position: slow for large images on a CPU.")
    show_twin = weights.twin is not None and st.toggle(
        "Side by side with the plain/residual twin", value=True, key="cam_twin")
    if others:  # integrated gradients' 16 steps (occlusion's 16 windows) run as one batch
        check_fits(weights.spec, 16, choice.device)

    def show(model, name: str, caption: str, image: Image.Image, x) -> None:
        result = grad_cam(model, x, layer, target)
        seen = fit_image(image, weights.spec.image_size)
        overlay = cam_overlay(seen, result.heatmap, alpha)
        big = overlay.resize((256, 256), Image.NEAREST) if overlay.width < 256 else overlay
        st.image(big, caption=f"{name}: {layer}, class “{weights.classes[result.target]}”")
        st.dataframe(
            {"class": [weights.classes[c] for c in result.top_classes],
             "probability": [round(p, 4) for p in result.top_probs]},
            hide_index=True, width="stretch")
        buffer = io.BytesIO()
        overlay.save(buffer, format="PNG")
        st.download_button("Overlay (.png)", buffer.getvalue(), f"gradcam-{layer}.png",
                           "image/png", key=f"dl-{name}-{caption}")
        if show_grid:
            panels = grad_cam_grid(model, x, stages, result.target)
            for col, panel in zip(st.columns(len(panels)), panels):
                col.image(cam_overlay(seen, panel.heatmap, alpha).resize((128, 128)),
                          caption=panel.layer)
        window = max(4, weights.spec.image_size // 8)
        for col, method in zip(st.columns(max(len(others), 1)), others):
            with st.spinner(f"{OTHER_METHODS[method]}…"):
                other = attribute(model, x, method, result.target, window=window,
                                  stride=max(2, window // 2))
            col.image(cam_overlay(seen, other.heatmap, alpha).resize((128, 128)),
                      caption=OTHER_METHODS[method])

    for caption, image in images:
        st.subheader(caption)
        x = preprocess(image, weights.spec, weights.normalization).to(choice.device)
        variants = [("this net", weights.model)]
        if show_twin:
            twin_name = "plain twin" if weights.spec.skip else "residual twin"
            variants.append((twin_name, weights.twin))
        for col, (name, model) in zip(st.columns(len(variants)), variants):
            with col:
                show(model, name, caption, image, x)

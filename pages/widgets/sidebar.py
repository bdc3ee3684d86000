"""The shared sidebar, drawn by app.py on every run so no page switch loses a widget."""

from __future__ import annotations

import streamlit as st

from explorer import PRESETS, NetSpec
from explorer.devices import available_choices, describe
from explorer.nets.spec import MAX_IMAGE_SIZE, MAX_IN_CHANNELS, MAX_CLASSES, MAX_WIDTH

from . import guard, state

CUSTOM = "custom"
MAX_ERROR_CHARS = 300
SHORTCUTS = {
    "A": "A · zero-padded identity (no parameters)",
    "B": "B · projection only where the shape changes",
    "C": "C · projection on every block",
}
BLOCKS = {
    "basic": "BasicBlock (two 3×3)",
    "bottleneck": "Bottleneck (1×1, 3×3, 1×1)",
    "d2l": "d2l Residual (conv bias)",
}


def _csv(values: tuple[int, ...] | None) -> str:
    return "" if values is None else ",".join(map(str, values))


def _widgets_from_spec(spec: NetSpec) -> None:
    ss = st.session_state
    ss.w_preset = state.matching_preset(spec) or CUSTOM
    ss.w_block, ss.w_layers, ss.w_widths = spec.block, _csv(spec.layers), _csv(spec.widths)
    ss.w_base_width, ss.w_stem, ss.w_skip = spec.base_width, spec.stem, spec.skip
    ss.w_shortcut, ss.w_stride_on, ss.w_norm = spec.shortcut, spec.stride_on, spec.norm
    ss.w_in_channels, ss.w_num_classes = spec.in_channels, spec.num_classes
    ss.w_image_size, ss.w_zero_init = spec.image_size, spec.zero_init_residual


def _optional_list(label: str, text: str) -> tuple[int, ...] | None:
    """Like `guard.int_list`, but an empty field means "not given"."""
    return guard.int_list(label, text) if text.strip(" ,") else None


def _on_preset() -> None:
    name = st.session_state.w_preset
    if name in PRESETS:
        st.session_state.spec = PRESETS[name]
        st.session_state.spec_error = None
        _widgets_from_spec(PRESETS[name])


def _on_field() -> None:
    ss = st.session_state
    try:
        layers = guard.int_list("Blocks per stage", ss.w_layers)
        spec = NetSpec(
            block=ss.w_block, layers=layers, widths=_optional_list("Widths", ss.w_widths),
            base_width=int(ss.w_base_width), stem=ss.w_stem, skip=bool(ss.w_skip),
            shortcut=ss.w_shortcut, stride_on=ss.w_stride_on, norm=ss.w_norm,
            in_channels=int(ss.w_in_channels), num_classes=int(ss.w_num_classes),
            image_size=int(ss.w_image_size), zero_init_residual=bool(ss.w_zero_init),
        )
    except ValueError as exc:
        ss.spec_error = str(exc)
        return
    ss.spec, ss.spec_error = spec, None
    ss.w_preset = state.matching_preset(spec) or CUSTOM


def draw() -> state.Choice:
    """Draw the sidebar and return the session's current choice."""
    state.init_from_url()
    ss = st.session_state
    if "w_block" not in ss:
        _widgets_from_spec(ss.spec)
        ss.w_seed = ss.seed
    with st.sidebar:
        st.selectbox("Preset", [CUSTOM, *PRESETS], key="w_preset", on_change=_on_preset,
                     help="Start from a published network, then change anything below.")
        st.selectbox("Block", list(BLOCKS), format_func=BLOCKS.get, key="w_block",
                     on_change=_on_field)
        st.text_input("Blocks per stage", key="w_layers", on_change=_on_field,
                      help="One number per stage, 1–6 stages of 0–64 blocks, e.g. 3,4,6,3.")
        st.toggle("Skip connections", key="w_skip", on_change=_on_field,
                  help="Off gives the paper's plain network with the same layers and weights.")
        with st.expander("Widths, stem, shortcuts"):
            st.number_input("Base width", 1, MAX_WIDTH, key="w_base_width", on_change=_on_field,
                            help="Stage i has base × 2^i channels unless widths are given.")
            st.text_input("Widths (optional)", key="w_widths", on_change=_on_field,
                          help="Channels per stage, e.g. 16,32,64. Empty: derived from the base.")
            st.radio("Stem", ["imagenet", "cifar"], key="w_stem", on_change=_on_field,
                     horizontal=True, help="imagenet: 7×7/2 conv + max-pool. cifar: one 3×3 conv.")
            st.selectbox("Shortcut option", list(SHORTCUTS), format_func=SHORTCUTS.get,
                         key="w_shortcut", on_change=_on_field,
                         help="He et al. 2015 §3.3: how a skip crosses a change of shape.")
            st.radio("Bottleneck stride on", ["3x3", "1x1"], key="w_stride_on", horizontal=True,
                     on_change=_on_field, disabled=ss.w_block != "bottleneck",
                     help="3x3: torchvision 'V1.5'. 1x1: the paper's original.")
            st.radio("Normalisation", ["batch", "none"], key="w_norm", horizontal=True,
                     on_change=_on_field, help="none: no BatchNorm anywhere (conv biases on).")
            st.checkbox("Zero-init last BN of each branch", key="w_zero_init",
                        on_change=_on_field)
        with st.expander("Input, classes, seed, device"):
            st.number_input("Input channels", 1, MAX_IN_CHANNELS, key="w_in_channels",
                            on_change=_on_field)
            st.number_input("Image size (px)", 1, MAX_IMAGE_SIZE, key="w_image_size",
                            on_change=_on_field)
            st.number_input("Classes", 1, MAX_CLASSES, key="w_num_classes", on_change=_on_field)
            st.number_input("Seed", 0, state.MAX_SEED, key="w_seed",
                            help="Same seed, same weights — with or without skips.")
            st.selectbox("Device", available_choices(), key="device_choice",
                         help="auto: the GPU when there is one.")
        ss.seed = int(ss.w_seed)
        choice = state.current()
        st.caption(f"Device: {describe(choice.device)}")
    if ss.spec_error:
        # The message may quote a pasted value (a URL can carry thousands of digits).
        error = ss.spec_error
        st.error(error if len(error) <= MAX_ERROR_CHARS else error[:MAX_ERROR_CHARS] + "…")
        st.caption(f"Still showing the last valid network ({choice.preset or 'custom'}).")
    state.sync_url(choice)
    return choice

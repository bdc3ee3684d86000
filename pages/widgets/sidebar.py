"""The shared sidebar, drawn by app.py on every run so no page switch loses a widget."""

from __future__ import annotations

import streamlit as st

from explorer import PRESETS, NetSpec
from explorer.devices import available_choices, describe
from explorer.nets.naming import matching_preset, plain_twin_of

from . import guard, spec_file, state

CUSTOM = "custom"
MAX_ERROR_CHARS = 300
# Short enough for the sidebar's dropdown; the help says them in full.
SHORTCUTS = {
    "A": "A · zero-pad",
    "B": "B · project on change",
    "C": "C · project always",
}
SHORTCUT_HELP = ("He et al. 2015 §3.3: how a skip crosses a change of shape. A: zero-padded "
                 "identity, no parameters. B: a 1×1 projection only where the shape changes. "
                 "C: a 1×1 projection on every block.")
BLOCKS = {
    "basic": "BasicBlock (two 3×3)",
    "bottleneck": "Bottleneck (1×1, 3×3, 1×1)",
    "d2l": "d2l Residual (conv bias)",
}


def _csv(values: tuple[int, ...] | None) -> str:
    return "" if values is None else ",".join(map(str, values))


def _widgets_from_spec(spec: NetSpec) -> None:
    ss = st.session_state
    ss.w_preset = matching_preset(spec) or CUSTOM
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


def apply_preset(name: str, num_classes: int | None = None) -> None:
    """Put a preset (optionally with another number of classes) into the sidebar (a callback)."""
    apply_spec(PRESETS[name] if num_classes is None
               else PRESETS[name].replace(num_classes=num_classes))


def apply_spec(spec: NetSpec) -> None:
    """Put a network into the sidebar (a callback)."""
    st.session_state.spec, st.session_state.spec_error = spec, None
    _widgets_from_spec(spec)


def _on_field(field: str) -> None:
    ss = st.session_state
    ss.spec_error_field = field
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
    ss.spec, ss.spec_error, ss.spec_error_field = spec, None, None
    ss.w_preset = matching_preset(spec) or CUSTOM


def _error_under(field: str) -> None:
    """The sidebar's refusal, shown under the field that caused it."""
    ss = st.session_state
    if ss.get("spec_error") and ss.get("spec_error_field") == field:
        error = ss.spec_error  # may quote a pasted value: a URL can carry thousands of digits
        st.error((error if len(error) <= MAX_ERROR_CHARS else error[:MAX_ERROR_CHARS] + "…")
                 + " The network stays as it was.")


def _field(draw, label: str, key: str, **kwargs) -> None:
    draw(label, key=key, on_change=_on_field, args=(key,), **kwargs)
    _error_under(key)


def _seed() -> None:
    ss = st.session_state
    st.number_input("Seed", key="w_seed", step=1,
                    help=f"0 to {state.MAX_SEED:,}. Same seed, same weights — with or without "
                         "skips.")
    try:
        ss.seed = state.parse_seed(str(int(ss.w_seed)))
    except ValueError as exc:
        st.error(f"{exc} Still using seed {ss.seed}.")


def draw() -> state.Choice:
    """Draw the sidebar and return the session's current choice."""
    state.init_from_url()
    ss = st.session_state
    if "w_block" not in ss:
        _widgets_from_spec(ss.spec)
        ss.w_seed = ss.seed
    in_expander = {"w_base_width", "w_widths", "w_stem", "w_shortcut", "w_stride_on", "w_norm",
                   "w_zero_init", "w_in_channels", "w_image_size", "w_num_classes"}
    failed = ss.get("spec_error_field") if ss.get("spec_error") else None
    with st.sidebar:
        st.selectbox("Preset", [CUSTOM, *PRESETS], key="w_preset", on_change=_on_preset,
                     help="Start from a published network, then change anything below.")
        _field(st.selectbox, "Block", "w_block", options=list(BLOCKS), format_func=BLOCKS.get)
        _field(st.text_input, "Blocks per stage", "w_layers",
               help="One number per stage, 1–6 stages of 0–64 blocks, e.g. 3,4,6,3.")
        _field(st.toggle, "Skip connections", "w_skip",
               help="Off gives the paper's plain network with the same layers and weights.")
        twin_of = plain_twin_of(ss.spec)
        if twin_of:
            st.caption(f"= {twin_of} with its skips off (the paper's plain twin).")
        with st.expander("Widths, stem, shortcuts", expanded=failed in in_expander):
            _field(st.number_input, "Base width", "w_base_width", step=1,
                   help="1 to 8,192. Stage i has base × 2^i channels unless widths are given.")
            _field(st.text_input, "Widths (optional)", "w_widths",
                   help="Channels per stage, e.g. 16,32,64. Empty: derived from the base.")
            _field(st.radio, "Stem", "w_stem", options=["imagenet", "cifar"], horizontal=True,
                   help="imagenet: 7×7/2 conv + max-pool. cifar: one 3×3 conv.")
            _field(st.selectbox, "Shortcut option", "w_shortcut", options=list(SHORTCUTS),
                   format_func=SHORTCUTS.get,
                   help=SHORTCUT_HELP)
            _field(st.radio, "Bottleneck stride on", "w_stride_on", options=["3x3", "1x1"],
                   horizontal=True, disabled=ss.w_block != "bottleneck",
                   help="3x3: torchvision 'V1.5'. 1x1: the paper's original.")
            _field(st.radio, "Normalisation", "w_norm", options=["batch", "none"],
                   horizontal=True, help="none: no BatchNorm anywhere (conv biases on).")
            _field(st.checkbox, "Zero-init last BN of each branch", "w_zero_init")
        with st.expander("Input, classes, seed, device", expanded=failed in in_expander):
            _field(st.number_input, "Input channels", "w_in_channels", step=1, help="1 to 64.")
            _field(st.number_input, "Image size (px)", "w_image_size", step=1,
                   help="1 to 4,096, and at least the network's total stride.")
            _field(st.number_input, "Classes", "w_num_classes", step=1, help="1 to 100,000.")
            _seed()
            st.selectbox("Device", available_choices(), key="device_choice",
                         help="auto: the GPU when there is one.")
        spec_file.draw(apply_spec)
        choice = state.current()
        st.caption(f"Device: {describe(choice.device)}")
        if ss.get("spec_error"):
            st.caption(f"Still showing the last valid network ({choice.name}).")
    if ss.get("spec_error") and failed not in _FIELDS:  # a link's error belongs to no field
        error = ss.spec_error
        st.error(error if len(error) <= MAX_ERROR_CHARS else error[:MAX_ERROR_CHARS] + "…")
    state.sync_url(choice)
    return choice


_FIELDS = {"w_block", "w_layers", "w_skip", "w_base_width", "w_widths", "w_stem", "w_shortcut",
           "w_stride_on", "w_norm", "w_zero_init", "w_in_channels", "w_image_size",
           "w_num_classes"}

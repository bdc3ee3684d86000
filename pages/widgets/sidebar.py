"""The shared sidebar, drawn by app.py on every run so no page switch loses a widget."""

from __future__ import annotations

import streamlit as st

from explorer import PRESETS, NetSpec
from explorer.nets.spec import GATES
from explorer.nets.presets import FAMILIES, PRESET_HELP, family_of
from explorer.devices import available_choices, describe
from explorer.nets.naming import matching_preset, plain_twin_of
from explorer.nets.reference import design_runs_text, order_findings, skip_design_findings

from . import guard, spec_file, state

CUSTOM = "custom"
MAX_ERROR_CHARS = 300
# Short enough for the sidebar's dropdown; the help says them in full.
SHORTCUTS = {
    "A": "A · zero-pad",
    "B": "B · project on change",
    "C": "C · project always",
    "D": "D · avg-pool, then project",
}
SHORTCUT_HELP = ("He et al. 2015 §3.3: how a skip crosses a change of shape. A: zero-padded "
                 "identity, no parameters. B: a 1×1 projection only where the shape changes. "
                 "C: a 1×1 projection on every block. D (ResNet-D, He et al. 2019 'Bag of "
                 "Tricks'): where the shape changes, a 2×2 average pool, then a stride-1 1×1 "
                 "projection, so no input pixel is skipped.")
BLOCKS = {
    "basic": "BasicBlock (two 3×3)",
    "bottleneck": "Bottleneck (1×1, 3×3, 1×1)",
    "d2l": "d2l Residual (conv bias)",
}
BLOCK_HELP = ("BasicBlock (ResNet-18/34, the CIFAR nets): two 3×3 convs; the first one carries "
              "the stride 2 where a stage halves the resolution. Bottleneck (ResNet-50 and "
              "deeper): a 1×1 conv reduces the channels, a 3×3 conv works at that width (and "
              "carries the stride 2, torchvision's V1.5), a 1×1 conv expands them ×4. d2l "
              "Residual: the d2l.ai book's BasicBlock with conv biases and a 1×1 shortcut "
              "without BatchNorm.")
STEMS = {"imagenet": "imagenet", "cifar": "cifar", "deep": "deep"}
STEM_HELP = ("imagenet: 7×7/2 conv + 3×3/2 max-pool. cifar: one 3×3 conv. deep (ResNet-C, He et "
             "al. 2019): three 3×3 convs, then the max-pool.")
ORDERS = {"post": "post (2015)", "bn_after_add": "BN after add", "relu_before_add":
          "ReLU before add", "relu_preact": "ReLU-only pre-act", "pre": "pre-activation (2016)"}
ORDER_HELP = ("Where BatchNorm and ReLU sit (He et al. 2016 'Identity Mappings', Fig. 4). post: "
              "He et al. 2015, conv → BN → ReLU, ReLU after the addition. BN after add: the "
              "branch ends on its conv, BN → ReLU after the addition. ReLU before add: the "
              "branch ends with BN → ReLU, nothing after the addition. ReLU-only pre-act: "
              "ReLU → conv → BN, nothing after the addition. pre: BN → ReLU → conv, nothing "
              "after the addition, so the skip is a clean identity path; the net ends with "
              "BN → ReLU before the pool. " + order_findings())
SKIP_DESIGNS = {"identity": "identity", "scaled": "scaled", "exclusive_gate": "exclusive gate",
                "shortcut_gate": "shortcut-only gate", "conv": "1×1 conv", "dropout": "dropout"}
SKIP_DESIGN_HELP = ("What each skip carries (He et al. 2016 'Identity Mappings', Fig. 2). "
                    "identity: x. scaled: shortcut × scale, branch × (1 − scale). exclusive "
                    "gate: (1 − g)·shortcut + g·F(x), g = σ(1×1 conv of x + bias). shortcut-only "
                    "gate: (1 − g)·shortcut + F(x). 1×1 conv: a projection on every shortcut. "
                    "dropout: dropout 0.5 on the shortcut while training. With skips off every "
                    "design is the same plain net. " + skip_design_findings())
SKIP_SCALE_HELP = ("The scaled design's shortcut factor, 0 to 1; the branch gets 1 − it, and 0 "
                   "is the plain net. He et al. 2016, test error of ResNet-110 on CIFAR-10: "
                   f"{design_runs_text('scaled')}; {design_runs_text('identity')}.")
GATE_BIAS_HELP = ("The gates' initial bias b, −30 to 30: g = σ(1×1 conv of x + b) starts near 0 "
                  "for a very negative b, so the shortcut starts as nearly the identity. He et "
                  "al. 2016, test error of ResNet-110 on CIFAR-10: exclusive gate "
                  f"{design_runs_text('exclusive_gate')}; shortcut-only gate "
                  f"{design_runs_text('shortcut_gate')}.")
ATTENTION_HELP = ("se: squeeze-and-excitation (Hu et al. 2018): each branch's channels are "
                  "rescaled by a gate computed from their global average (reduction 16).")


def _preset_label(name: str) -> str:
    return name if name == CUSTOM else f"{name} · {family_of(name)}"


PRESET_OPTIONS = [CUSTOM] + [name for names in FAMILIES.values() for name in names]
PRESET_LIST_HELP = ("Start from a published network, then change anything below. Families: " +
                    "; ".join(f"{family}: {', '.join(names)}"
                              for family, names in FAMILIES.items()) + ".")


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
    ss.w_groups, ss.w_width_per_group = spec.groups, spec.width_per_group
    ss.w_order, ss.w_attention = spec.order, spec.attention
    ss.w_skip_design = spec.skip_design
    ss.w_skip_scale, ss.w_gate_bias = spec.skip_scale, spec.gate_bias


def _skip_numbers(ss) -> dict:
    """Skip scale and gate bias as the sidebar holds them, each only where its design uses it
    (a disabled widget keeps its value for when its design comes back)."""
    defaults = NetSpec()
    return {
        "skip_scale": (float(ss.w_skip_scale) if ss.w_skip_design == "scaled"
                       else defaults.skip_scale),
        "gate_bias": (float(ss.w_gate_bias) if ss.w_skip_design in GATES
                      else defaults.gate_bias),
    }


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
            groups=int(ss.w_groups), width_per_group=int(ss.w_width_per_group),
            order=ss.w_order, attention=ss.w_attention, skip_design=ss.w_skip_design,
            **_skip_numbers(ss),
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
                   "w_zero_init", "w_in_channels", "w_image_size", "w_num_classes", "w_groups",
                   "w_width_per_group", "w_order", "w_attention", "w_skip_design",
                   "w_skip_scale", "w_gate_bias"}
    failed = ss.get("spec_error_field") if ss.get("spec_error") else None
    with st.sidebar:
        st.selectbox("Preset", PRESET_OPTIONS, key="w_preset", on_change=_on_preset,
                     format_func=_preset_label, help=PRESET_LIST_HELP)
        if ss.w_preset in PRESET_HELP:
            st.caption(PRESET_HELP[ss.w_preset])
        _field(st.selectbox, "Block", "w_block", options=list(BLOCKS), format_func=BLOCKS.get,
               help=BLOCK_HELP)
        _field(st.text_input, "Blocks per stage", "w_layers",
               help="One number per stage, 1–6 stages of 0–128 blocks, e.g. 3,4,6,3.")
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
            _field(st.radio, "Stem", "w_stem", options=list(STEMS), horizontal=True,
                   help=STEM_HELP)
            _field(st.selectbox, "Shortcut option", "w_shortcut", options=list(SHORTCUTS),
                   format_func=SHORTCUTS.get,
                   help=SHORTCUT_HELP)
            _field(st.radio, "Bottleneck stride on", "w_stride_on", options=["3x3", "1x1"],
                   horizontal=True, disabled=ss.w_block != "bottleneck",
                   help="3x3: torchvision 'V1.5'. 1x1: the paper's original.")
            _field(st.radio, "Normalisation", "w_norm", options=["batch", "none"],
                   horizontal=True, help="none: no BatchNorm anywhere (conv biases on).")
            _field(st.checkbox, "Zero-init last BN of each branch", "w_zero_init")
        with st.expander("ResNeXt, Wide, activation order, SE, skip design",
                         expanded=failed in in_expander):
            _field(st.number_input, "Groups (cardinality)", "w_groups", step=1,
                   disabled=ss.w_block != "bottleneck",
                   help="ResNeXt (Xie et al. 2017): the Bottleneck's 3×3 conv split into this "
                        "many groups. 1: an ordinary Bottleneck.")
            _field(st.number_input, "Width per group", "w_width_per_group", step=1,
                   disabled=ss.w_block != "bottleneck",
                   help="Channels of each group at the first stage (64 = ResNet; 128 with one "
                        "group = Wide ResNet-50-2; 4 with 32 groups = ResNeXt-50 32×4d). The "
                        "inner width is int(width × this / 64) × groups, as torchvision.")
            _field(st.radio, "Activation order", "w_order", options=list(ORDERS),
                   format_func=ORDERS.get, horizontal=True, help=ORDER_HELP)
            _field(st.radio, "Attention", "w_attention", options=["none", "se"],
                   horizontal=True, help=ATTENTION_HELP)
            _field(st.selectbox, "Skip design", "w_skip_design", options=list(SKIP_DESIGNS),
                   format_func=SKIP_DESIGNS.get, help=SKIP_DESIGN_HELP)
            _field(st.number_input, "Skip scale", "w_skip_scale", step=0.05, format="%.2f",
                   disabled=ss.w_skip_design != "scaled",
                   help=SKIP_SCALE_HELP)
            _field(st.number_input, "Gate bias", "w_gate_bias", step=1.0, format="%.1f",
                   disabled=ss.w_skip_design not in GATES,
                   help=GATE_BIAS_HELP)
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
           "w_num_classes", "w_groups", "w_width_per_group", "w_order", "w_attention",
           "w_skip_design", "w_skip_scale", "w_gate_bias"}

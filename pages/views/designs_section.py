"""The Gradient flow page's "Compare skip designs" section: He et al. 2016's designs and orders."""

from __future__ import annotations

import streamlit as st

from explorer.analysis.designs import DESIGNS, ORDERS, compare_designs, variants_of
from explorer.analysis.designs_report import NAMES, design_sentences
from explorer.budget import check_fits
from explorer.figures.designs import designs_figure
from explorer.figures.gradflow import ends_in_batchnorm
from explorer.nets.presets import PRESETS
from explorer.nets.reference import order_findings, skip_design_findings
from explorer.slots import gate
from pages.widgets import downloads, guard, persist
from pages.widgets.sidebar import ORDERS as ORDER_LABELS
from pages.widgets.sidebar import SKIP_DESIGNS
from pages.widgets.state import Choice

PAPER_NET = "resnet110"  # the paper's depth: Tables 1 and 2 train ResNet-110
NETWORKS = {"paper": "ResNet-110 (the paper's network)", "sidebar": "the sidebar's network"}
MAX_BATCH = 64


def _label(field: str):
    """The sidebar's short names (its "Skip design" and "Activation order" fields)."""
    return (SKIP_DESIGNS if field == "skip_design" else ORDER_LABELS).get


def draw(choice: Choice) -> None:
    """The section, from its header to its download."""
    st.header("Compare skip designs")
    st.markdown(
        "*Which* skip? He et al. 2016 (“Identity Mappings in Deep Residual Networks”) replaced "
        "the identity shortcut of ResNet-110 by a scaled, gated, 1×1-conv or dropout one "
        "(Fig. 2), and moved BatchNorm and ReLU around the addition (Fig. 4). Here each "
        "variant is built from the same seed, so every layer two variants share starts with the "
        "same weights, and gets one forward and backward pass on the same batch. The left plot "
        "is the gradient that reaches each block from the loss, the right one the spread of "
        "each block's residual branch F(x) (He et al. 2015's Fig. 7). A shortcut that scales "
        "or gates the signal multiplies the gradient once per block on its way down.")
    with st.expander("What the paper found: which settings trained and which did not"):
        st.markdown(f"- {skip_design_findings()}\n- {order_findings()}")
        st.caption("Those are test errors after training on CIFAR-10. This section measures "
                   "one pass at initialisation: it can show a gradient that already vanishes "
                   "or explodes, not how training will go. The sentences below say which.")
    cols = st.columns([2, 3, 3])
    network = persist.widget(cols[0].radio, "Network", "cd_net", "paper", options=list(NETWORKS),
                             format_func=NETWORKS.get)
    designs = persist.widget(cols[1].multiselect, "Skip designs", "cd_designs", list(DESIGNS),
                             options=list(DESIGNS), format_func=_label("skip_design"))
    orders = persist.widget(cols[2].multiselect, "Activation orders", "cd_orders", [],
                            options=list(ORDERS), format_func=_label("order"))
    cols = st.columns(3)
    batch = int(persist.widget(cols[0].number_input, "Batch size", "cd_batch", 8, step=1,
                               check=persist.between(2, MAX_BATCH, "The batch size")))
    scale = float(persist.widget(cols[1].number_input, "Skip scale (scaled)", "cd_scale", 0.5,
                                 step=0.05, format="%.2f",
                                 help="The scaled design's shortcut factor; the branch gets "
                                      "1 − it. The paper: 0.5."))
    bias = float(persist.widget(cols[2].number_input, "Gate bias (gates)", "cd_bias", -6.0,
                                step=1.0, format="%.1f",
                                help="The gates' initial bias. The paper: 0 to −7; −6 trained "
                                     "best."))
    spec = PRESETS[PAPER_NET] if network == "paper" else choice.spec
    with guard.user_errors("Compare skip designs"):
        variants = variants_of(spec, designs, orders, scale, bias)
        key = (spec, tuple(designs), tuple(orders), scale, bias, batch, choice.seed,
               str(choice.device))
        results = st.session_state.setdefault("design_comparisons", {})
        if st.button("Compare designs", type="primary", key="cd_run") and key not in results:
            for _, variant in variants:  # every variant must fit before any is built
                check_fits(variant, batch, choice.device)
            bar = st.progress(0.0, text="Starting…")
            with gate(choice.device):
                results[key] = compare_designs(
                    spec, designs=designs, orders=orders, seed=choice.seed, batch_size=batch,
                    device=choice.device, skip_scale=scale, gate_bias=bias,
                    on_progress=lambda done, total, msg: bar.progress(done / total, text=msg))
            bar.empty()
            while len(results) > 4:  # a bounded history per session
                results.pop(next(iter(results)))
        if key in results:
            _show(results[key], choice)
        else:
            st.caption(f"{len(variants)} variant(s) of {spec.depth} layers, one forward and "
                       "backward pass each: press “Compare designs”.")


def _show(comparison, choice: Choice) -> None:
    for line in design_sentences(comparison):
        st.markdown(f"- {line}")
    st.plotly_chart(designs_figure(comparison), width="stretch")
    in_bn = [v.variant for v in comparison.variants if ends_in_batchnorm(v.spec)]
    if in_bn:
        others = len(comparison.variants) - len(in_bn)
        st.caption(
            "Right: where a branch ends in BatchNorm (" + ", ".join(in_bn) + ") its std is ≈1 "
            "at initialisation by construction: a train-mode pass scales every channel to unit "
            "variance. " + ("Only the orders whose branch ends elsewhere (a conv, a ReLU) can "
                            "differ there." if others else "So the lines lie on top of each "
                            "other: the left plot is where the designs differ."))
    rows = []
    for variant in comparison.variants:
        reference = comparison.reference_for(variant)
        rows.append({"variant": variant.variant, "name": NAMES.get(variant.variant, ""),
                     "loss": variant.loss,
                     f"‖∂L/∂x‖ at {variant.first.block}": variant.first.grad_norm,
                     f"÷ {reference.variant}": variant.first.grad_norm
                     / reference.first.grad_norm})
    st.dataframe(rows, hide_index=True, width="stretch")
    facts = {**downloads.provenance(comparison.spec, comparison.seed, comparison.batch_size),
             "variants": [v.variant for v in comparison.variants]}
    st.download_button("Download the comparison (.csv)",
                       lambda: downloads.csv_text(comparison.to_frame(), facts),
                       downloads.file_name("skip-designs", f"{comparison.spec.depth}-layers",
                                           f"seed{comparison.seed}", ext="csv"),
                       "text/csv", key="cd_csv")

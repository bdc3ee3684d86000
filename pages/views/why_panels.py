"""The four panels of the "Why skips work" page: lesion, landscape, receptive fields, features."""

from __future__ import annotations

import json

import pandas as pd
import streamlit as st
from explorer.analysis import landscape as landscape_mod
from explorer.analysis import lesion as lesion_mod
from explorer.analysis.feature_maps import skip_parts, stage_feature_maps
from explorer.analysis.receptive_field import ERF_BATCH, effective_receptive_field
from explorer.nets.windows import windows
from explorer.analysis.why_report import (erf_sentences, landscape_sentences, lesion_sentences,
                                          skip_sentence)
from explorer.budget import check_fits
from explorer.slots import gate
from explorer.figures.why import (landscape_contour_figure, landscape_line_figure,
                                  landscape_surface_figure, lesion_blocks_figure,
                                  lesion_random_figure)
from explorer.figures.why_maps import erf_figure, feature_grid_figure, skip_figure
from explorer.io.images import MAX_BYTES, load_image, preprocess
from explorer.training.cost import forward_seconds
from explorer.data.shapes import CLASSES, denormalize
from explorer.units import MB, format_duration, plural
from pages.widgets import downloads, persist, samples
from pages.views import why_common as common
from explorer.io.twins import Twins

SAMPLES = 8


def _say(lines: list[str]) -> None:
    st.info("\n\n".join(lines))


def lesion_panel(pair: Twins, device) -> None:
    st.markdown(
        "Veit et al. (2016) deleted single blocks of trained nets: a residual net barely "
        "noticed, a plain net collapsed, as if a residual net were an ensemble of many shallow "
        "paths rather than one deep pipeline. Deleting a block here zeroes its branch so the "
        "skip carries its input on; a plain block has nothing to fall back on, so only blocks "
        "that keep the shape can be replaced by the identity.")
    cols = st.columns(3)
    images = persist.widget(cols[0].number_input, "Held-out images", "why_les_images", 1000,
                            min_value=10, max_value=5000, step=100)
    draws = persist.widget(cols[1].number_input, "Draws per k", "why_les_draws", 3,
                           min_value=1, max_value=20,
                           help="Random sets of k deleted blocks per k.")
    random_k = persist.widget(cols[2].toggle, "Delete k random blocks too", "why_les_random",
                              True)
    nets = pair.nets()
    check_fits(pair.residual_spec, min(lesion_mod.EVAL_BATCH, int(images)), device, training=False)
    key = ("lesion", pair.key, int(images), int(draws), bool(random_k))
    evaluations = sum(lesion_mod.planned_evaluations(model, int(draws), random_k=random_k)
                      for model in nets.values())
    work = sum(lesion_mod.planned_work(model, int(draws), random_k=random_k)
               for model in nets.values())
    with st.spinner("Measuring this device's speed (once)…"):
        seconds = forward_seconds(pair.residual_spec, round(work * int(images)), device.type)
    st.caption(f"{plural(evaluations, 'evaluation')} of {int(images):,} images over "
               f"{plural(len(nets), 'net')}: **about {format_duration(seconds)} on this "
               f"{device.type.upper()}** (from the nets' mult-adds and this server's measured "
               f"speed).")
    data = common.heldout(pair.residual_spec, int(images))
    found = common.run("why_les", "Run the lesion study", key, device, lambda report:
                       common.per_net(nets, report, lambda model, progress:
                                      lesion_mod.lesion_study(model, data, int(draws), seed=0,
                                                              random_k=random_k,
                                                              on_progress=progress)))
    if found is None:
        return
    _say(lesion_sentences(found["residual"], found.get("plain")))
    st.plotly_chart(lesion_blocks_figure(found), width="stretch")
    if random_k:
        st.plotly_chart(lesion_random_figure(found), width="stretch")
    frames = []
    for name, result in found.items():
        frames.append(result.blocks_frame().assign(net=name, k=1, kind="single block"))
        frames.append(result.random_frame().assign(net=name, kind="random k"))
    table = pd.concat(frames, ignore_index=True)
    facts = common.facts(pair, int(images), draws=int(draws), subsets_seed=0)
    cols = st.columns(2)
    with cols[0]:
        common.download("Lesion results (.csv)", downloads.csv_text(table, facts),
                        "lesion", "csv", "why_les_csv")
    with cols[1]:
        common.download("Lesion results (.json)", downloads.json_text(
            {name: r.to_dict() for name, r in found.items()}, facts), "lesion", "json",
            "why_les_json")


def landscape_panel(pair: Twins, device) -> None:
    st.markdown(
        "Li et al. (2018) drew the loss around trained weights along two random directions, "
        "each filter rescaled to the size of the weights' own filter, and found deep plain nets "
        "in sharp, chaotic valleys where residual nets sit in wide, smooth ones. Both nets here "
        "use directions drawn from the same seed and the same held-out batch; BatchNorm uses its "
        "trained statistics.")
    cols = st.columns(6)
    dims = persist.widget(cols[0].radio, "Slice", "why_land_dims", 2, options=[1, 2],
                          format_func={1: "1-D line", 2: "2-D plane"}.get, horizontal=True)
    steps = persist.widget(cols[1].number_input, "Steps per axis", "why_land_steps", 21,
                           min_value=3, max_value=landscape_mod.MAX_STEPS, step=2)
    span = persist.widget(cols[2].number_input, "Span (±)", "why_land_span", 1.0,
                          min_value=0.05, max_value=10.0, step=0.25)
    images = persist.widget(cols[3].number_input, "Batch (images)", "why_land_images", 128,
                            min_value=8, max_value=2000, step=32)
    seed = int(persist.widget(cols[4].number_input, "Directions' seed", "why_land_seed", 0,
                              min_value=0, max_value=2**31 - 1,
                              help="The same seed draws the same directions for both nets."))
    log = persist.widget(cols[5].toggle, "Log colour scale", "why_land_log", True)
    check_fits(pair.residual_spec, min(landscape_mod.EVAL_BATCH, int(images)), device, training=False)
    points = int(steps) ** int(dims)
    st.caption(f"{points + 1 + 2 * int(dims)} forward passes of {int(images)} images per net "
               f"(the grid, the centre and the ±{landscape_mod.SHARPNESS_RADIUS:g} probes).")
    key = ("landscape", pair.key, int(dims), int(steps), float(span), int(images), seed)
    data = common.heldout(pair.residual_spec, int(images))
    found = common.run("why_land", "Draw the landscape", key, device, lambda report:
                       common.per_net(pair.nets(), report, lambda model, progress:
                                      landscape_mod.loss_landscape(
                                          model, data, int(steps), float(span), int(dims), seed,
                                          on_progress=progress)))
    if found is None:
        return
    _say(landscape_sentences(found["residual"], found.get("plain"), pair.residual_spec.num_classes))
    if int(dims) == 2:
        st.plotly_chart(landscape_contour_figure(found, log), width="stretch")
        st.plotly_chart(landscape_surface_figure(found, log), width="stretch")
    st.plotly_chart(landscape_line_figure(found, log), width="stretch")
    rows = [{"net": name, **row} for name, r in found.items() for row in r.to_rows()]
    facts = common.facts(pair, int(images), direction_seed=seed, span=float(span),
                         sharpness={n: {"radius": r.radius, "rises": r.rises,
                                        "mean_rise": r.sharpness} for n, r in found.items()})
    cols = st.columns(2)
    with cols[0]:
        common.download("Landscape (.csv)", downloads.csv_text(pd.DataFrame(rows), facts),
                        "landscape", "csv", "why_land_csv")
    with cols[1]:
        common.download("Landscape (.json)", downloads.json_text(
            {n: r.to_dict() for n, r in found.items()}, facts), "landscape", "json",
            "why_land_json")


def erf_panel(pair: Twins, device) -> None:
    st.markdown(
        "Luo et al. (2016) measured how much each input pixel moves a unit: the *effective* "
        "receptive field is a blob much smaller than the theoretical one, skip connections make "
        "it smaller still, and training makes it grow. The map is |∂ centre unit / ∂ input| "
        "averaged over images, white where a pixel has no effect; the orange square is the "
        "theoretical field (drawn along the image's edge, with its size, when it is larger than "
        "the image) and the dashed square holds 95% of the gradient.")
    names = [n for n in windows(pair.residual_spec) if n != "stem"]
    cols = st.columns(3)
    layer = persist.widget(cols[0].selectbox, "Layer", "why_erf_layer",
                           "layer2" if "layer2" in names else names[-1], options=names)
    images = persist.widget(cols[1].number_input, "Images", "why_erf_images", 64, min_value=1,
                            max_value=1000, step=16)
    contrast = pair.trained and persist.widget(cols[2].toggle, "Also at random init",
                                               "why_erf_init", True)
    check_fits(pair.residual_spec, min(ERF_BATCH, int(images)), device, training=True)
    key = ("erf", pair.key, layer, int(images), bool(contrast))
    data = common.heldout(pair.residual_spec, int(images))

    def work(report):
        nets = dict(pair.nets())
        if contrast:
            nets.update({f"{n} (init)": m for n, m in pair.init_nets(device).items()})
        return common.per_net(nets, report, lambda model, progress: effective_receptive_field(
            model, data, layer, on_progress=progress))

    found = common.run("why_erf", "Measure the receptive fields", key, device, work)
    if found is None:
        return
    _say(erf_sentences(found["residual"], found.get("plain"), pair.residual_spec.image_size,
                       found.get("residual (init)"), found.get("plain (init)")))
    trained = "trained" if pair.trained else "random init"
    panels = [(f"{name} ({trained})" if "init" not in name else name, result)
              for name, result in found.items()]
    # Streamlit's theme repaints a shared colour axis; the map's white-to-purple scale (zero =
    # background) matters.
    st.plotly_chart(erf_figure(panels), width="stretch", theme=None)
    table = pd.DataFrame([{"net": n, "layer": r.layer, "theoretical px": r.theoretical,
                           "stride": r.stride, "95% mass side px": r.mass_side()}
                          for n, r in found.items()])
    st.dataframe(table, hide_index=True, width="stretch")
    facts = common.facts(pair, int(images), layer=layer)
    cols = st.columns(2)
    with cols[0]:
        common.download("Summary (.csv)", downloads.csv_text(table, facts), "erf/summary",
                        "csv", "why_erf_csv")
    with cols[1]:
        common.download("Maps (.json)", downloads.json_text(
            {n: r.to_dict() for n, r in found.items()}, facts), f"erf/{layer}", "json",
            "why_erf_json")


def _literal(name: str) -> str:
    """An upload's name as literal text: a code span cannot hold links, images or HTML."""
    return "`" + name[:60].replace("`", "'") + "`"


def _image(pair: Twins) -> tuple | None:
    """The chosen sample or upload, preprocessed for the pair's network."""
    cols = st.columns(2)
    upload = persist.uploads(cols[0].file_uploader, "Your image", "why_fm_upload",
                             multiple=False, type=samples.UPLOAD_TYPES,
                             max_upload_size=MAX_BYTES // MB)  # the images' limit, not 200 MB
    if upload:
        return _literal(upload[0].name), preprocess(load_image(upload[0].getvalue()),
                                                          pair.residual_spec, "shapes")
    images, labels = common.heldout(pair.residual_spec, SAMPLES)
    names = [f"shapes #{i} ({CLASSES[int(labels[i]) % len(CLASSES)]})" for i in range(SAMPLES)]
    name = persist.widget(cols[1].selectbox, "Or a held-out sample", "why_fm_sample", names[0],
                          options=names)
    return name, images[names.index(name)][None]


def feature_panel(pair: Twins, device) -> None:
    st.markdown(
        "What each stage passes on for one image: its strongest channels (highest mean "
        "activation). Below, one block taken apart: the input x the skip carries, the branch's "
        "change F(x), their sum and the block's output; a plain block has only F(x).")
    check_fits(pair.residual_spec, 1, device, training=False)
    picked = _image(pair)
    if picked is None:
        return
    caption, x = picked
    blocks = [name for name, _ in pair.residual.blocks()]
    cols = st.columns(3)
    top_k = persist.widget(cols[0].slider, "Channels per stage", "why_fm_k", 8, min_value=1,
                           max_value=16)
    block = persist.widget(cols[1].selectbox, "Block to take apart", "why_fm_block",
                           blocks[min(1, len(blocks) - 1)], options=blocks)
    x = x.to(device)
    if x.shape[1] == 3:
        st.image(denormalize(x[0].cpu()).permute(1, 2, 0).numpy(), caption=caption, width=128)
    parts, grids = {}, {}
    with gate(device):
        for name, model in pair.nets().items():
            grids[name] = stage_feature_maps(model, x, int(top_k))
            parts[name] = skip_parts(model, x, block)
    width = parts["residual"].branch.shape[0]
    channel = persist.widget(cols[2].selectbox, "Show", "why_fm_channel", "mean over channels",
                             options=["mean over channels"] + [f"channel {c}"
                                                              for c in range(width)])
    shown = None if channel.startswith("mean") else int(channel.split()[1])
    for name, grid in grids.items():
        st.plotly_chart(feature_grid_figure(grid, f"{name}: top {int(top_k)} channels by mean "
                                                  f"activation"), width="stretch")
    _say([skip_sentence(p) for p in parts.values()])
    st.plotly_chart(skip_figure(parts, shown), width="stretch")
    if shown is None:
        relu_last = parts["residual"].order in ("post", "bn_after_add")
        st.caption("A mean over channels lets positive and negative channels cancel, so F(x) can "
                   "look faint here while its size (‖F(x)‖, over every channel and pixel) is "
                   "not" + ("; the output after relu has no negative values left to cancel"
                            if relu_last else "") + ". Pick one "
                   "channel under *Show* to see F(x) unaveraged (the ratio above is over all "
                   "channels: in one channel F(x) can be weaker or stronger than x).")
    summary = {name: {"block": p.block, "branch_to_skip_norm_ratio": p.branch_ratio,
                      "top_channels": {m.stage: dict(zip(m.channels, m.means))
                                       for m in grids[name]}}
               for name, p in parts.items()}
    common.download("Feature summary (.json)", downloads.json_text(
        json.loads(json.dumps(summary, default=str)), common.facts(pair, 1, image=caption)),
        f"features/{block}", "json", "why_fm_json")

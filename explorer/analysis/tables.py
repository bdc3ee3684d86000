"""The stage table as people read it: a DataFrame (the page, CSV and CLI), and torchinfo's text.

The counting itself happens on the meta device in `explorer.nets.measure`; this module only
presents it, so loading a checkpoint or checking a budget never imports pandas.
"""

from __future__ import annotations

import pandas as pd

from explorer.nets.measure import StageTable, meta_model
from explorer.nets.spec import NetSpec
from explorer.units import MB


def stage_frame(table: StageTable) -> pd.DataFrame:
    """One row per stage plus a ``total`` row; number columns hold numbers only.

    Sizes are decimal megabytes (`explorer.units`). Receptive field and cumulative stride are
    empty where they do not apply (the head pools over the whole image; a total has no window),
    and the ``note`` column says why, or that a window at least as wide as the image lets a
    central unit see all of it.
    """
    image_size = table.spec.image_size
    records = [
        {
            "stage": r.name,
            "blocks": r.blocks,
            "output shape": "×".join(map(str, r.output_shape)),
            "params": r.params,
            "mult-adds": r.mult_adds,
            "activation MB": r.activation_bytes / MB,
            "receptive field": r.receptive_field,
            "cumulative stride": r.stride,
            "note": _window_note(r.receptive_field, image_size, head=r.name == "head"),
        }
        for r in table.rows
    ]
    records.append(
        {
            "stage": "total",
            "blocks": sum(r.blocks for r in table.rows),
            "output shape": records[-1]["output shape"],
            "params": table.total_params,
            "mult-adds": table.total_mult_adds,
            "activation MB": table.total_activation_bytes / MB,
            "receptive field": None,
            "cumulative stride": None,
            "note": "",
        }
    )
    frame = pd.DataFrame.from_records(records)
    for column in ("receptive field", "cumulative stride"):  # whole numbers with gaps, not floats
        frame[column] = frame[column].astype("Int64")
    return frame


def _window_note(pixels: int | None, image_size: int, head: bool) -> str:
    if head:
        return "global pool: sees the whole image"
    if pixels is not None and pixels >= image_size:
        return "field ≥ image: a central unit sees all of it"
    return ""


def layer_summary(spec: NetSpec, batch_size: int = 1, depth: int = 3) -> str:
    """torchinfo's per-layer summary, run on a throwaway meta-device copy of the network."""
    import torchinfo  # imported lazily: it is only needed for this text

    stats = torchinfo.summary(
        meta_model(spec),
        input_size=(batch_size, spec.in_channels, spec.image_size, spec.image_size),
        device="meta",
        depth=depth,
        verbose=0,
        mode="eval",
        col_names=("output_size", "num_params", "mult_adds"),
        row_settings=("var_names",),
    )
    # torchinfo 1.8 prints its unit enum's repr on Python 3.11+; show the plain unit instead.
    return str(stats).replace("(Units.GIGABYTES)", "(G)").replace("(Units.MEGABYTES)", "(M)")

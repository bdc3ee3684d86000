"""Load a network into the sidebar from a file: a ``spec.json`` or the Training page's zip."""

from __future__ import annotations

import streamlit as st

from explorer.io.bundle import is_bundle, read_bundle
from explorer.nets.spec import NetSpec

from . import downloads

MAX_SPEC_BYTES = 64 * 1024


def spec_from_file(name: str, data: bytes) -> NetSpec:
    """The network a file describes (the residual net of a bundle), or a ValueError sentence."""
    if is_bundle(name):
        return read_bundle(data)[0].spec
    if len(data) > MAX_SPEC_BYTES:
        raise ValueError("A spec.json is a few hundred bytes; this file is far larger.")
    try:
        text = data.decode()
    except UnicodeDecodeError:
        raise ValueError("The file is not text: upload a spec.json or the Training page's zip.") \
            from None
    return NetSpec.from_dict(downloads.json_data(text))  # a bare spec or the page's download


def draw(apply) -> None:
    """An uploader in the sidebar; ``apply(spec)`` puts the network it holds into the sidebar."""
    with st.expander("Load a network from a file"):
        upload = st.file_uploader("spec.json or trained-models zip", type=["json", "zip"],
                                  key="w_spec_file",
                                  help="The Architecture page's spec download, a checkpoint "
                                       "folder's spec.json, or the Training page's zip.")
        if upload is None:
            return
        try:
            spec = spec_from_file(upload.name, upload.getvalue())
        except ValueError as exc:
            st.error(str(exc))
            return
        st.button(f"Use this {spec.depth}-layer network", key="w_spec_file_apply",
                  on_click=apply, args=(spec,))

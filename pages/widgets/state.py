"""Per-session state shared by every page: the current spec, seed and device.

The spec lives under a plain (non-widget) session key so it survives page switches
(streamlit#5813); widgets only write into it through callbacks. The URL mirrors it.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import streamlit as st
from explorer import PRESETS, NetSpec
from explorer.budget import check_fits
from explorer.devices import resolve_device
from explorer.nets.naming import matching_preset, network_name
from explorer.nets.timing import timed_build

DEFAULT_PRESET = "resnet20"  # the paper's CIFAR net: learns the default training run in minutes
MAX_SEED = 2**31 - 1
SPEC_FIELDS = frozenset(f.name for f in dataclasses.fields(NetSpec))
# Query parameters a page owns (the Compare page's networks): the sidebar's sync leaves them as
# they are. The page writes its own; Streamlit clears them when the user goes to another page.
PAGE_PARAMS = frozenset({"compare"})


@dataclass(frozen=True)
class Choice:
    """What the sidebar says: the network, its seed and the device to use."""

    spec: NetSpec
    seed: int
    device: object  # a torch.device
    preset: str | None  # the preset the spec equals, if any

    @property
    def name(self) -> str:
        """For file names and captions: the preset, its plain twin ("resnet20-plain"), or custom."""
        return network_name(self.spec)


def init_from_url() -> None:
    """On a session's first run, take the spec from the URL (or the default preset)."""
    if "spec" in st.session_state:
        return
    st.session_state.spec = PRESETS[DEFAULT_PRESET]
    st.session_state.seed = 0
    st.session_state.device_choice = "auto"
    st.session_state.spec_error = None
    params = st.query_params.to_dict()
    try:
        if url_names_a_network(params):
            st.session_state.spec = NetSpec.from_query(params)
        st.session_state.seed = parse_seed(params.get("seed", "0"))
    except ValueError as exc:
        st.session_state.spec_error = f"The link's network is not valid: {exc} Showing {DEFAULT_PRESET}."


def parse_seed(text: str) -> int:
    try:
        seed = int(text)
    except ValueError:
        raise ValueError(f"'Seed' must be a whole number, got {text!r}.") from None
    if not 0 <= seed <= MAX_SEED:
        raise ValueError(f"'Seed' must be between 0 and {MAX_SEED:,}, got {seed:,}.")
    return seed


def current() -> Choice:
    """The session's current choice (always a valid spec: the last one that validated)."""
    init_from_url()
    try:
        device = resolve_device(st.session_state.device_choice)
    except ValueError:
        device = resolve_device("cpu")
    spec = st.session_state.spec
    return Choice(spec, st.session_state.seed, device, matching_preset(spec))


def url_names_a_network(params: dict[str, str]) -> bool:
    """A link names its network by the fields that differ from ``NetSpec()`` (ResNet-18); a
    link naming none (the bare address) opens the default preset."""
    return any(name in params for name in SPEC_FIELDS)


def url_query(spec: NetSpec) -> dict[str, str]:
    """The spec as ``NetSpec.to_query`` writes it, never empty: ResNet-18, which equals
    ``NetSpec()``, is spelled out so that its link does not open the default preset."""
    return spec.to_query() or {"layers": ",".join(map(str, spec.layers))}


def sync_url(choice: Choice) -> None:
    """Write the sidebar's network and seed into the URL, keeping the ``PAGE_PARAMS``."""
    current = st.query_params.to_dict()
    wanted = {**url_query(choice.spec), "seed": str(choice.seed)}
    if choice.seed == 0:
        wanted.pop("seed")
    wanted.update({key: value for key, value in current.items() if key in PAGE_PARAMS})
    if current != wanted:
        st.query_params.from_dict(wanted)


def build_live(choice: Choice) -> tuple[float, int]:
    """Build the current network for real on its device; return (seconds, parameters).

    The model is not kept: pages that hook or train a model build their own. Only the numbers
    are remembered for this session, so a rerun does not rebuild.
    """
    key = (choice.spec, choice.seed, str(choice.device))
    cached = st.session_state.get("live_build")
    if cached is not None and cached[0] == key:
        return cached[1]
    check_fits(choice.spec, 1, choice.device, training=False)
    numbers = timed_build(choice.spec, choice.seed, choice.device)
    st.session_state.live_build = (key, numbers)
    return numbers


def live_build_done(choice: Choice) -> bool:
    cached = st.session_state.get("live_build")
    return cached is not None and cached[0] == (choice.spec, choice.seed, str(choice.device))

"""Keep a page's inputs when the user visits another page and comes back.

Streamlit forgets the value of a keyed widget that is not drawn in a run (streamlit#5813), so a
page's own widgets fall back to their defaults after a page switch. The one pattern here: the
value lives under a plain session key the page owns (``"kept:" + key``), the widget is seeded from
it whenever Streamlit has dropped the widget's state, and it is copied back after every draw.

Example (a page script)::

    from pages.widgets import persist

    epochs = persist.widget(st.number_input, "Epochs", "tr_epochs", 4, step=1)
    data = persist.widget(cols[1].selectbox, "Data", "tr_data", "shapes",
                          options=["shapes", "cifar10"])
    batch = persist.widget(st.number_input, "Batch size", "tr_batch", 64, step=1,
                           check=persist.between(1, 4096, "The batch size"))
    files = persist.uploads(st.file_uploader, "Images", "tr_images", type=["png"])
    if job_is_running:  # before drawing: the (disabled) widgets show the job's settings
        persist.show("tr_epochs", job.config.epochs)

Pass no ``value=``/``index=``/``default=`` to the widget: the kept value decides what it shows.
``check`` refuses a value with a sentence shown under the field (leave ``max_value`` off, or the
browser refuses it silently): the field keeps what the user typed, and the page goes on with the
last value that passed. ``on_change=`` still works; it runs after the value is recorded.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Sequence

import streamlit as st

from explorer.units import format_bytes

KEPT = "kept:"
VALID = "kept-valid:"
SEEN = "kept-seen:"
DRAWN = "kept-drawn:"
RUNS = "kept-runs"


def kept(key: str, default: Any = None) -> Any:
    """The value the page last had for ``key`` (whether or not its widget is drawn now)."""
    return st.session_state.get(KEPT + key, default)


def remember(key: str, value: Any) -> None:
    """Keep a page's own non-widget value (e.g. which sidebar setting it last followed)."""
    st.session_state[KEPT + key] = value


def show(key: str, value: Any) -> None:
    """Make the widget ``key`` show ``value`` on its next draw (call before drawing it)."""
    st.session_state[KEPT + key] = value
    st.session_state[key] = value


def widget(draw: Callable[..., Any], label: str, key: str, default: Any, *,
           check: Callable[[Any], None] | None = None, **kwargs: Any) -> Any:
    """Draw ``draw(label, key=key, **kwargs)`` with its value kept across page switches.

    Args:
        draw: a Streamlit input, e.g. ``st.number_input`` or ``column.selectbox``.
        label, key: the widget's label and key (tests find it by the key).
        default: the value before the user has set one. Pass no ``value=``/``index=``: the kept
            value decides what the widget shows.
        check: raises ``ValueError`` with a sentence for a value the page cannot use; the
            sentence is shown under the field and the last value that passed is returned.
        kwargs: the widget's other arguments (``options=``, ``help=``, ``disabled=``, ...).

    Returns:
        The widget's value, or the last valid one when ``check`` refuses it.
    """
    ss = st.session_state
    value = ss.get(KEPT + key, default)
    options = kwargs.get("options")
    if options is not None:
        value = _in_options(value, list(options), default)
    # Seed the widget on every run, not only when Streamlit has dropped its state: a widget
    # that was hidden for a run and comes back would otherwise show its default in the browser
    # while the server kept the old value. The callback records a change before this line runs.
    ss[KEPT + key] = ss[key] = value
    value = draw(label, key=key, on_change=_keep, args=(key, kwargs.pop("on_change", None)),
                 **kwargs)
    if check is None:
        return value
    try:
        check(value)
    except ValueError as exc:
        _container(draw).error(str(exc))
        return ss.get(VALID + key, default)
    ss[VALID + key] = value
    return value


def _keep(key: str, then: Callable[[], None] | None) -> None:
    st.session_state[KEPT + key] = st.session_state[key]
    if then is not None:
        then()


def _in_options(value: Any, options: Sequence[Any], default: Any) -> Any:
    if isinstance(value, list):  # a multiselect keeps the choices that still exist
        return [v for v in value if v in options]
    if value in options:
        return value
    return default if default in options else options[0]


def _container(draw: Callable[..., Any]):
    # ``column.number_input`` is bound to its column: the message goes under the field there.
    return getattr(draw, "__self__", st)


@dataclass(frozen=True)
class KeptFile:
    """An upload kept as bytes (Streamlit's uploader cannot be refilled from session state)."""

    name: str
    data: bytes
    file_id: str
    size: int

    def getvalue(self) -> bytes:
        return self.data


def count_run() -> None:
    """Count this session's script runs (app.py calls it once per run)."""
    st.session_state[RUNS] = st.session_state.get(RUNS, 0) + 1


def uploads(draw: Callable[..., Any], label: str, key: str, *, multiple: bool = True,
            **kwargs: Any) -> list[KeptFile]:
    """A file uploader whose files stay until the user removes them (``multiple=False``: at
    most one, and a new file replaces it).

    The browser empties an uploader that was not drawn for a run (another page, a weights
    choice that stopped the page, a failed download), and such an empty uploader cannot say
    whether the user removed its files. So the kept files are the truth: a file that arrives is
    added; a file leaves only when the user removes it from an uploader that was drawn in the
    previous run (its ✕ there), or with the ✕ beside it in the list of files the uploader no
    longer shows.
    """
    ss = st.session_state
    held: list[KeptFile] = ss.setdefault(KEPT + key, [])
    drawn_before = ss.get(DRAWN + key) == ss.get(RUNS, 0) - 1
    seen = ss.get(SEEN + key, set()) if drawn_before else set()  # a remount removes nothing
    files = draw(label, key=key, accept_multiple_files=multiple, **kwargs) or []
    if not multiple:
        files = [files] if files else []
    now = {f.file_id for f in files}
    removed = seen - now
    arrived = [KeptFile(f.name, f.getvalue(), f.file_id, f.size) for f in files
               if f.file_id not in {h.file_id for h in held}]
    held = [h for h in held if h.file_id not in removed]
    held = (held + arrived) if multiple else (arrived[-1:] or held)
    ss[KEPT + key], ss[SEEN + key], ss[DRAWN + key] = held, now, ss.get(RUNS, 0)
    where = _container(draw)
    for kept_file in (h for h in held if h.file_id not in now):  # kept from before a remount
        name, remove = where.columns([5, 1], vertical_alignment="center")
        name.caption(f"Still using `{kept_file.name[:60].replace('`', chr(39))}` "
                     f"({format_bytes(kept_file.size)}), uploaded before")
        remove.button("✕", key=f"{key}:remove:{kept_file.file_id}", on_click=_remove,
                      args=(key, kept_file.file_id), help=f"Remove {kept_file.name[:60]}")
    return held


def _remove(key: str, file_id: str) -> None:
    st.session_state[KEPT + key] = [f for f in st.session_state.get(KEPT + key, [])
                                    if f.file_id != file_id]


def between(low: int, high: int, what: str) -> Callable[[Any], None]:
    """A ``check`` refusing values outside ``low``–``high`` with one sentence."""
    def check(value: Any) -> None:
        if value is not None and not low <= value <= high:
            raise ValueError(f"{what} must be between {low:,} and {high:,}, not {value:,}. "
                             f"Still using the last value that fit.")
    return check

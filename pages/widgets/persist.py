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

KEPT = "kept:"
VALID = "kept-valid:"
RESTORED = "kept-restored:"


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


def uploads(draw: Callable[..., Any], label: str, key: str, *, multiple: bool = True,
            **kwargs: Any) -> list[KeptFile]:
    """A file uploader whose files survive page switches (``multiple=False``: at most one).

    After a switch the uploader itself comes back empty; the files it held are still used and
    named under it, with a button to forget them. Uploading new files replaces them.
    """
    ss = st.session_state
    dropped = key not in ss
    files = draw(label, key=key, accept_multiple_files=multiple, **kwargs) or []
    if not multiple:
        files = [files] if files else []
    if files:
        ss[KEPT + key] = [KeptFile(f.name, f.getvalue(), f.file_id, f.size) for f in files]
        ss[RESTORED + key] = False
        return ss[KEPT + key]
    if dropped and ss.get(KEPT + key):
        ss[RESTORED + key] = True
    if not ss.get(RESTORED + key):
        ss[KEPT + key] = []  # the user removed them from the uploader
        return []
    held = ss[KEPT + key]
    where = _container(draw)
    names = ", ".join(f"`{f.name[:40].replace('`', chr(39))}`" for f in held)
    files_word = "the file" if len(held) == 1 else f"the {len(held)} files"
    where.caption(f"Still using {files_word} you uploaded before: {names}.")
    where.button("Forget these files", key=f"{key}:forget", on_click=_forget, args=(key,))
    return held


def _forget(key: str) -> None:
    st.session_state[KEPT + key] = []
    st.session_state[RESTORED + key] = False


def between(low: int, high: int, what: str) -> Callable[[Any], None]:
    """A ``check`` refusing values outside ``low``–``high`` with one sentence."""
    def check(value: Any) -> None:
        if value is not None and not low <= value <= high:
            raise ValueError(f"{what} must be between {low:,} and {high:,}, not {value:,}. "
                             f"Still using the last value that fit.")
    return check

"""A Streamlit client at the protocol level: one websocket session, no browser.

Speaks what the browser speaks on ``/_stcore/stream``: binary ``BackMsg`` protobufs up (a
``rerun_script`` carrying the URL query, the page and the changed widget states), binary
``ForwardMsg`` protobufs down (deltas, navigation, page info, ``script_finished``). Used by
``bench/classroom.py``, ``bench/soak.py``, ``bench.harness.first_visit`` and the tests; the
server process itself is ``bench.harness.Server``.

How it mirrors the browser (streamlit 1.67's frontend):

- A session's first run is a ``rerun_script`` with the URL's query string; later reruns carry the
  query string the script last set (``page_info_changed``), except a page switch, which clears it.
- A page switch is a ``rerun_script`` with the page's ``page_script_hash`` and ``page_name`` (its
  URL path), both read from the ``navigation`` message.
- A widget change sends only that widget's ``WidgetState``: the server keeps the others' last
  values. Widget ids are read from the deltas (every widget's proto carries its ``id``, which ends
  in ``-<key>`` for a keyed widget).
- A step ends at ``script_finished`` = ``FINISHED_SUCCESSFULLY`` (a run that calls ``st.rerun()``
  first finishes early, then again for real). Fragment reruns (``st.fragment(run_every=...)``)
  are answered like the browser does, with ``fragment_id`` and ``is_auto_rerun``, by ``watch``.
- Cached-message hashes are never announced, so the server always sends full messages.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from urllib.parse import urlencode, urlparse

import websockets
from streamlit.proto.Alert_pb2 import Alert
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState

FINISHED = ForwardMsg.FINISHED_SUCCESSFULLY
COMPILE_ERROR = ForwardMsg.FINISHED_WITH_COMPILE_ERROR
FRAGMENT_FINISHED = ForwardMsg.FINISHED_FRAGMENT_RUN_SUCCESSFULLY


@dataclass
class Step:
    """What one request produced: from sending it to the script's ``script_finished``."""

    name: str
    seconds: float = 0.0
    messages: int = 0
    bytes: int = 0
    exceptions: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # st.error alerts
    metrics: dict[str, list[str]] = field(default_factory=dict)  # label -> values, in order
    texts: list[str] = field(default_factory=list)  # markdown / caption / alert bodies
    elements: int = 0

    @property
    def ok(self) -> bool:
        return not self.exceptions

    def metric(self, label: str, index: int = 0) -> str | None:
        values = self.metrics.get(label, [])
        return values[index] if index < len(values) else None


class StreamlitSession:
    """One browser tab's worth of Streamlit session, driven over the websocket protocol."""

    def __init__(self, url: str, query: dict[str, str] | str = "", timeout: float = 600.0):
        parsed = urlparse(url)
        base = parsed.path.rstrip("/")
        self.ws_url = f"ws://{parsed.netloc}{base}/_stcore/stream"
        self.query = query if isinstance(query, str) else urlencode(query)
        self.timeout = timeout
        self.ws = None
        self.pages: dict[str, tuple[str, str]] = {}  # title -> (page_script_hash, url path)
        self.page_hash = ""
        self.widgets: dict[str, str] = {}  # key (or label) -> widget id
        self.widget_kinds: dict[str, str] = {}  # widget id -> element type
        self.values: dict[str, object] = {}  # widget id -> last value drawn by the server
        self.auto_rerun: dict[str, float] = {}  # fragment id -> interval (s)
        self.session_id = ""
        self.last: Step | None = None

    # -- connection ------------------------------------------------------------------------
    async def connect(self) -> "StreamlitSession":
        self.ws = await websockets.connect(self.ws_url, subprotocols=["streamlit"],
                                           max_size=None, open_timeout=self.timeout,
                                           ping_interval=None)
        return self

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()
            self.ws = None

    async def __aenter__(self) -> "StreamlitSession":
        return await self.connect()

    async def __aexit__(self, *exc) -> None:
        await self.close()

    # -- requests --------------------------------------------------------------------------
    async def open(self, name: str = "open") -> Step:
        """The first run, as a browser loading ``/?<query>``."""
        return await self._rerun(name, query_string=self.query)

    async def switch_page(self, title: str, name: str | None = None) -> Step:
        """Click a page in the navigation (the query string is cleared, as the browser does)."""
        page_hash, path = self.pages[title]
        self.query = ""
        return await self._rerun(name or title, query_string="", page_script_hash=page_hash,
                                 page_name=path)

    async def set_widget(self, key: str, value, name: str | None = None) -> Step:
        """Change one widget (by key, or label for unkeyed ones) and rerun."""
        wid = self.widget_id(key)
        state = WidgetState(id=wid)
        if isinstance(value, bool):
            state.bool_value = value
        elif isinstance(value, int):
            state.int_value = value
        elif isinstance(value, float):
            state.double_value = value
        else:
            state.string_value = str(value)
        return await self._rerun(name or f"set {key}", widgets=[state])

    async def toggle(self, key: str, name: str | None = None) -> Step:
        """Flip a checkbox or toggle from the value the server last drew."""
        wid = self.widget_id(key)
        return await self.set_widget(key, not bool(self.values.get(wid, False)), name)

    async def click(self, key: str, name: str | None = None) -> Step:
        """Press a button (a trigger: true for this one run)."""
        state = WidgetState(id=self.widget_id(key), trigger_value=True)
        return await self._rerun(name or f"click {key}", widgets=[state])

    async def heartbeat(self) -> None:
        """A round trip through the session's message handling (ordering barrier)."""
        msg = BackMsg(app_heartbeat=True)
        await self.ws.send(msg.SerializeToString())
        while True:
            fwd = await self._receive()
            if fwd.heartbeat_ack:
                return

    async def clear_caches(self) -> None:
        """Ask the server to clear st.cache_data / st.cache_resource (global, all sessions)."""
        await self.ws.send(BackMsg(clear_cache=True).SerializeToString())
        await self.heartbeat()

    async def watch(self, seconds: float) -> list[Step]:
        """Stay on the page for ``seconds``, answering its auto-reruns as a browser tab does."""
        steps, end = [], time.monotonic() + seconds
        while time.monotonic() < end:
            if not self.auto_rerun:
                await self._drain(end - time.monotonic())
                break
            fragment, interval = next(iter(self.auto_rerun.items()))
            await asyncio.sleep(min(interval, max(0.0, end - time.monotonic())))
            if time.monotonic() >= end or fragment not in self.auto_rerun:
                continue
            steps.append(await self._rerun("auto-rerun", fragment_id=fragment,
                                           is_auto_rerun=True, wanted=FRAGMENT_FINISHED))
        return steps

    def widget_id(self, key: str) -> str:
        try:
            return self.widgets[key]
        except KeyError:
            raise KeyError(f"no widget {key!r} drawn; have {sorted(self.widgets)}") from None

    # -- the protocol ----------------------------------------------------------------------
    async def _rerun(self, name: str, *, widgets=(), query_string: str | None = None,
                     page_script_hash: str = "", page_name: str = "", fragment_id: str = "",
                     is_auto_rerun: bool = False, wanted: int = FINISHED) -> Step:
        msg = BackMsg()
        rerun = msg.rerun_script
        rerun.query_string = self.query if query_string is None else query_string
        rerun.page_script_hash = page_script_hash or self.page_hash
        rerun.page_name = page_name
        rerun.fragment_id = fragment_id
        rerun.is_auto_rerun = is_auto_rerun
        rerun.widget_states.widgets.extend(widgets)
        step = Step(name)
        start = time.perf_counter()
        await self.ws.send(msg.SerializeToString())
        deadline = time.monotonic() + self.timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"{name}: no script_finished within {self.timeout:.0f} s")
            fwd = await asyncio.wait_for(self._receive(step), remaining)
            kind = fwd.WhichOneof("type")
            if kind == "script_finished" and fwd.script_finished in (wanted, COMPILE_ERROR):
                if fwd.script_finished == COMPILE_ERROR:
                    step.exceptions.append("script failed to compile")
                break
            if kind == "script_finished" and wanted == FRAGMENT_FINISHED \
                    and fwd.script_finished == FINISHED:
                break  # the fragment's rerun turned into a full one (st.rerun())
        step.seconds = time.perf_counter() - start
        self.last = step
        return step

    async def _drain(self, seconds: float) -> None:
        """Read (and book-keep) whatever the server sends for ``seconds``."""
        end = time.monotonic() + seconds
        while (left := end - time.monotonic()) > 0:
            try:
                await asyncio.wait_for(self._receive(), left)
            except asyncio.TimeoutError:
                return

    async def _receive(self, step: Step | None = None) -> ForwardMsg:
        data = await self.ws.recv()
        fwd = ForwardMsg()
        fwd.ParseFromString(data)
        if step is not None:
            step.messages += 1
            step.bytes += len(data)
        self._book(fwd, step)
        return fwd

    def _book(self, fwd: ForwardMsg, step: Step | None) -> None:
        kind = fwd.WhichOneof("type")
        if kind == "new_session":
            self.page_hash = fwd.new_session.page_script_hash
            self.session_id = fwd.new_session.initialize.session_id or self.session_id
        elif kind == "navigation":
            pages = {p.page_name: (p.page_script_hash, p.url_pathname)
                     for p in fwd.navigation.app_pages}
            if len(pages) > 1 or not self.pages:
                self.pages = pages
            if fwd.navigation.page_script_hash:
                self.page_hash = fwd.navigation.page_script_hash
        elif kind == "page_info_changed":
            self.query = fwd.page_info_changed.query_string
        elif kind == "auto_rerun":
            self.auto_rerun[fwd.auto_rerun.fragment_id] = fwd.auto_rerun.interval or 1.0
        elif kind == "stop_auto_rerun":
            self.auto_rerun.clear()
        elif kind == "delta" and fwd.delta.WhichOneof("type") == "new_element":
            self._book_element(fwd.delta.new_element, step)

    def _book_element(self, element, step: Step | None) -> None:
        etype = element.WhichOneof("type")
        proto = getattr(element, etype)
        wid = getattr(proto, "id", "") if hasattr(proto, "id") else ""
        if wid and wid.startswith("$$ID-"):
            key = wid.split("-", 2)[2]
            label = getattr(proto, "label", "")
            if key != "None":
                self.widgets[key] = wid
            if label:
                self.widgets.setdefault(label, wid)
            self.widget_kinds[wid] = etype
            if etype == "checkbox":
                self.values[wid] = proto.value if proto.set_value else proto.default
        if step is None:
            return
        step.elements += 1
        if etype == "exception":
            step.exceptions.append(f"{proto.type}: {proto.message}"[:500])
        elif etype == "alert":
            step.texts.append(proto.body)
            if proto.format == Alert.ERROR:
                step.errors.append(proto.body[:500])
        elif etype == "metric":
            step.metrics.setdefault(proto.label, []).append(proto.body)
        elif etype == "markdown":
            step.texts.append(proto.body)
        elif etype == "progress":
            step.texts.append(proto.text)

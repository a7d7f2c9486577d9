"""The body chart in the page: a small Streamlit Components v2 component drawing the figure as SVG.

Why not ``st.plotly_chart`` or Plotly at all: its selection events report points, not clicks on
filled areas, and ``Plotly.react`` cost 137-184 ms of the browser's main thread per condition
change (issue 12). The browser side (``explorer/frontend/chart2d.js`` with ``bodychart_svg.js``)
draws the Plotly-format figure of :mod:`explorer.render.bodychart` as plain SVG, one persistent
element per trace, setting only what changed; it needs no Plotly bundle, so it draws before the 3D
view's Plotly has loaded. A click on an area is reported as the area's id (the trace's ``meta``).
Keyboard and screen-reader users get the same choices in lists beside the chart (see
:mod:`explorer.ui.page`), so the click is a shortcut, not the only way.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import streamlit as st

from explorer.frontend import AssetComponent
from explorer.frontend.transport import (
    DeltaLedger,
    ScenePayload,
    combined_hash,
    encode_frame,
    join_json,
    payload_delta,
    text_digest,
    trace_keys,
)
from explorer.render.memo import Memo
from explorer.render.scene3d import figure_to_json

if TYPE_CHECKING:
    from plotly.graph_objects import Figure

# The JavaScript and CSS are files in explorer/frontend/ (chart2d.js imports bodychart_svg.js);
# created on first use in a script run (see explorer/frontend/__init__.py).
_chart_component = AssetComponent("chart2d", js="chart2d.js", css="chart2d.css")

# The chart's download button (where Plotly's modebar had its camera): file name and pixel scale.
DOWNLOAD_NAME = "lumbar-body-chart"
DOWNLOAD_SCALE = 2
ERROR_TEXT = "The body chart could not be drawn. The same information is listed in words below it."


def _noop() -> None:
    """CCv2 only surfaces a trigger value that has an ``on_<key>_change`` callback."""


_LEDGER_STATE_KEY: str = "_lumbar_chart_sent"


def _ledger(key: str) -> DeltaLedger:
    """What this browser session was last sent for the chart with ``key``; forgotten when the
    browser asks for the whole figure (its ``missing`` state, a new request id)."""
    ledgers = st.session_state.setdefault(_LEDGER_STATE_KEY, {})
    entry = ledgers.get(key)
    if not isinstance(entry, dict) or not isinstance(entry.get("ledger"), DeltaLedger):
        entry = ledgers[key] = {"ledger": DeltaLedger(), "handled": None}
    try:
        state = st.session_state.get(key)
    except Exception:  # noqa: BLE001 - no component state yet
        state = None
    request = state.get("missing") if isinstance(state, Mapping) else None
    if isinstance(request, Mapping) and request.get("n") != entry["handled"]:
        entry["handled"] = request.get("n")
        if request.get("scene") is True:
            entry["ledger"].forget()
    ledger: DeltaLedger = entry["ledger"]
    return ledger


def chart_payload(figure: Figure | dict[str, Any]) -> ScenePayload:
    """The chart as the browser gets it (plain JSON), with each part's digest computed once.

    Build it once per chart shown (:mod:`explorer.ui.where_felt` keeps one per condition and
    outlined root for every session): the per-session delta then only compares digests, and
    patches between two shared figures are computed once
    (:func:`explorer.frontend.transport.scene_delta`).

    A plain dict (:func:`explorer.render.bodychart.body_chart_figure`, plain JSON values whose
    coordinate lists are shared by every chart of the process) is taken as it is, and each shared
    list is digested once per process: the chart has ~140 traces of which a state changes only
    styles, and the JSON round trip plus digesting every outline again cost about 7 ms of a new
    state's 13 ms (measured on the fixed-shape chart). A ``go.Figure`` goes through plotly's JSON.
    """
    shared = isinstance(figure, dict)
    scene = figure if shared else json.loads(figure_to_json(figure))
    data = scene.get("data") or []
    layout = scene.get("layout") or {}
    keys = trace_keys(data)
    digests = tuple(_trace_digest(t, shared) for t in data)
    layout_digest = text_digest(layout)
    return ScenePayload(scene=scene, scene_hash=combined_hash(layout_digest, keys, digests), keys=tuple(keys),
                        digests=digests, layout_digest=layout_digest)


# Digests of the long lists (outlines, ids) that figures share, by object, kept with the list so
# its id is not reused while remembered.
_LIST_DIGESTS: Memo[tuple[list[Any], str]] = Memo(1024)
_LONG_LIST: int = 32


# Digests of whole traces that figures share (explorer.render.bodychart keeps one object per look
# of a slot), by object and kept with it: a state no session has seen shares most of its traces with
# charts built before, so only its new looks are digested (about 5 of a new chart's 7 ms were
# digesting all 143 traces again).
TRACE_DIGESTS: Memo[tuple[Mapping[str, Any], str]] = Memo(8192)


def _trace_digest(trace: Mapping[str, Any], shared: bool) -> str:
    """Digest of a trace (equal JSON, equal digest; key order does not matter): its long lists are
    digested on their own and stand in the trace's digest as ``{"\u0000list": digest}``, looked up
    by object when the figure's lists are shared (``shared``) and computed otherwise. A shared
    figure's trace is digested once per object."""
    if not shared:
        return _digest_parts(trace, shared)
    hit = TRACE_DIGESTS.get(id(trace))
    if hit is None or hit[0] is not trace:
        hit = TRACE_DIGESTS.put(id(trace), (trace, _digest_parts(trace, shared)))
    return hit[1]


def _digest_parts(trace: Mapping[str, Any], shared: bool) -> str:
    parts: dict[str, Any] = {}
    for k, v in trace.items():
        if isinstance(v, list) and len(v) > _LONG_LIST:
            hit = _LIST_DIGESTS.get(id(v)) if shared else None
            if hit is None or hit[0] is not v:
                hit = (v, text_digest(v))
                if shared:
                    _LIST_DIGESTS.put(id(v), hit)
            parts[k] = {"\u0000list": hit[1]}
        else:
            parts[k] = v
    return text_digest(parts)


def body_chart(
    figure: Figure | ScenePayload,
    *,
    key: str,
    height_px: int,
    description: str,
    on_click: Callable[[], None] | None = None,
    test_id: str = "body-chart",
) -> None:
    """Show the body chart (a click reaches ``on_click``, which reads it with
    :func:`explorer.ui.events.clicked_id`, the one place that validates browser events).

    Parameters
    ----------
    figure : plotly.graph_objects.Figure or ScenePayload
        From :func:`explorer.render.bodychart.build_body_chart` (or its plain dict), or already
        prepared by :func:`chart_payload` (shared between sessions).
    key : str
        Constant Streamlit key (keeps the same element across reruns).
    height_px : int
        Height in pixels.
    description : str
        Text alternative for screen readers (the chart in words).
    on_click : callable or None
        Callback run before the rerun a click causes; ``st.session_state[key].clicked["id"]`` is
        the clicked area's id.
    test_id : str
        ``data-testid`` of the chart element.
    """
    data = {
        # Only the areas (traces) and layout that changed since the figure this browser has.
        "figure": payload_delta(figure if isinstance(figure, ScenePayload) else chart_payload(figure), _ledger(key)),
        "height": int(height_px),
        "ariaLabel": description,
        "testId": test_id,
    }
    # Bytes, not a list or dict: Streamlit json.dumps those twice per rerun (and scans a dict for
    # dataframes, importing pandas); chart2d.js reads the frame with geometry.js componentData.
    text = join_json(_constant_fields(), data)
    frame = encode_frame(text)
    _chart_component(key=key, data=frame, width="stretch", height="content", on_clicked_change=on_click or _noop,
                     on_missing_change=_noop)


@functools.cache
def _constant_fields() -> str:
    """The fields every message carries that do not change while the server runs, as JSON text
    (encoded once, not once per rerun)."""
    return json.dumps({"downloadName": DOWNLOAD_NAME, "downloadScale": DOWNLOAD_SCALE, "errorText": ERROR_TEXT},
                      separators=(",", ":"), ensure_ascii=False)

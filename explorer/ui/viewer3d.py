"""The 3D viewer: a small Streamlit Components v2 (CCv2) component around ``Plotly.react``.

Why not ``st.plotly_chart``: it resets a 3D camera whenever the figure changes (streamlit issue
8882) and reports no clicks on 3D meshes. This component keeps ONE persistent Plotly graph div
and updates it in place, so the camera the person rotated survives every rerun, and it reports
clicks on meshes back to Python.

How it works
------------
* Transport: the figure is split into mesh geometry (content-hashed blobs) and per-rerun style
  (:mod:`explorer.frontend.transport`). Python remembers per session and viewer key
  (``st.session_state``) which blobs it has sent and sends only new ones; the browser keeps
  them in a window-level cache (``window.__lumbar3d``) that outlives component remounts. If the
  browser misses a blob (cache evicted, a rerun that was superseded before it was drawn), it asks
  for it with ``setStateValue("missing", ...)`` and Python sends it again in that rerun: the
  cache heals itself. A page reload is a new session,
  so everything is sent once. A rerun that changes only styling costs a few tens of kilobytes
  instead of the whole ~1.2 MB figure.
* Python sends ``data = [payload]`` (a one-element list: CCv2 scans a top-level *dict* for
  dataframes, which imports pandas on first use, about a second of cold start). The browser side
  is ES modules in :mod:`explorer.frontend` (``viewer3d.js`` and what it imports), served as
  files; the default export runs on the first mount and again whenever ``data`` changes (the DOM
  element persists between calls because the component has a fixed ``key``). Constants the
  JavaScript needs travel in ``data["settings"]`` (:func:`viewer_settings`).
* Camera: if ``cameraRequestId`` is the one applied last time, the figure's camera is replaced
  by the div's live camera before ``Plotly.react`` (the person's rotation wins). A new id means
  the person picked a preset view: the requested camera is applied.
* Wheel and touch: the wheel over the view scrolls the page until the person clicks into the
  view (or holds Ctrl/Cmd); then it zooms, within :data:`ZOOM_LIMITS` (leaving the view or Esc
  returns to page scrolling, and a hint says "Click to zoom with the wheel"). On touch, one
  finger scrolls the page and two fingers rotate or pinch-zoom. On screens narrower than
  :data:`SMALL_SCREEN_WIDTH_PX` the viewer is at most :data:`SMALL_SCREEN_HEIGHT_FRACTION` of
  the screen's height; on screens at least :data:`TALL_SCREEN_HEIGHT_PX` tall it grows to
  :data:`TALL_SCREEN_HEIGHT_FRACTION` of it (a projector). A new ``scroll_request_id`` scrolls the viewer into sight.
* Size: the figure follows the viewer's real width and height (autosize; the height is shorter
  on a phone). With ``label_band`` the browser fits the band the picture was laid out for into
  the view (``bandFit`` in ``camera.js``): requested cameras step back on narrow views and the
  3D labels scale, so they stay inside the view at any width.
* Plotly.js is the copy bundled with the plotly Python package, served by Streamlit's static
  file serving at ``/app/static/plotly.min.js`` (no CDN, works offline); see
  :mod:`explorer.frontend.plotly_assets`.
* First paint and the browser workarounds (pixel ratio, WebGL validity checks, CPU-backed
  text canvas, the live camera): ``explorer/frontend/gl_workarounds.js``, each guarded on the
  plotly.js version it was written for and switchable off (``LUMBAR_NO_WORKAROUNDS``, see
  :func:`explorer.frontend.plotly_assets.workarounds_off`).
* Clicks: plotly fires ``plotly_click`` on mouse-down in 3D (plotly.js issue 6185), so a click is
  only reported when the pointer moved < 5 px between down and up (i.e. not a rotation drag).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import streamlit as st

from explorer.frontend import AssetComponent
from explorer.frontend.plotly_assets import ensure_plotly_static_once, plotly_js_version, plotly_url, workarounds_off
from explorer.frontend.transport import (
    GEOMETRY_REF_KEY,
    DeltaLedger,
    ScenePayload,
    encode_frame,
    frame_blobs,
    join_json,
    json_ready,
    payload_delta,
    split_figure,
)
from explorer.settings import SCENE_BACKGROUND

if TYPE_CHECKING:
    from collections.abc import Callable

    from plotly.graph_objects import Figure

# Pixels the pointer may move between press and release and still count as a click.
CLICK_TOLERANCE_PX: int = 5
# Report the camera to Python at most this often (each report costs a script rerun).
CAMERA_REPORT_DEBOUNCE_MS: int = 600
# Geometry the browser keeps (least recently used blobs beyond this are dropped, and re-requested
# if a later scene needs them). The whole baked model is about 0.9 MB.
BROWSER_CACHE_LIMIT_BYTES: int = 48 * 1024 * 1024
# Blob hashes remembered per session and viewer; beyond this the record is cleared (blobs are
# sent again: safe, only costs bytes).
MAX_TRACKED_BLOBS: int = 4096
# Wheel and pinch zoom keep the eye between these distances from the centre of view (Plotly's
# normalised units; the presets sit at about 1.8): the model never shrinks to a dot or vanishes.
ZOOM_LIMITS: tuple[float, float] = (0.35, 4.0)
# Below this viewport width (CSS px) the viewer is at most this fraction of the viewport height.
SMALL_SCREEN_WIDTH_PX: int = 700
SMALL_SCREEN_HEIGHT_FRACTION: float = 0.6
# On a screen at least this tall (CSS px: a 1920x1080 projector, not a 1366x768 laptop) the viewer
# grows to this fraction of the screen's height, up to the cap: the story framing is bound by the
# view's height (a wider view only adds room at the sides), so only a taller view shows the lesion
# and the squeezed nerve larger.
TALL_SCREEN_HEIGHT_PX: int = 950
TALL_SCREEN_HEIGHT_FRACTION: float = 0.66
TALL_SCREEN_MAX_HEIGHT_PX: int = 760
WHEEL_HINT_TEXT: str = "Click to zoom with the wheel"

FALLBACK_TEXT: str = (
    "The 3D model needs WebGL, which this browser has turned off or does not support. "
    "Try another browser (Chrome, Edge, Firefox or Safari) or enable hardware acceleration."
)
LOAD_ERROR_TEXT: str = (
    "The 3D viewer could not load its drawing library (plotly.min.js). "
    "Check that server.enableStaticServing is true in .streamlit/config.toml."
)

RENDER_ERROR_TEXT: str = "The 3D view could not be drawn. Reload the page to try again."


# --------------------------------------------------------------------------- per-session record
_LEDGER_STATE_KEY: str = "_lumbar3d_geometry_sent"


def _ledger(key: str) -> dict[str, Any]:
    """``{"sent": set of blob keys, "handled": last resend request handled, "scene": DeltaLedger}``
    for this viewer."""
    ledgers = st.session_state.setdefault(_LEDGER_STATE_KEY, {})
    ledger = ledgers.get(key)
    if not isinstance(ledger, dict) or not isinstance(ledger.get("sent"), set) \
            or not isinstance(ledger.get("scene"), DeltaLedger):
        ledger = ledgers[key] = {"sent": set(), "handled": None, "scene": DeltaLedger()}
    return ledger


def _component_state(key: str) -> Mapping[str, Any]:
    try:
        state = st.session_state.get(key)
    except Exception:  # noqa: BLE001 - no state yet
        return {}
    return state if isinstance(state, Mapping) else {}


def blobs_to_send(key: str, payload: ScenePayload) -> list[str]:
    """Blob keys this browser session still needs for ``payload``; records them as sent.

    Handles the browser's ``missing`` request (a cache miss): those blobs are sent again, and
    with ``scene: true`` the next scene message is complete rather than a change.
    """
    ledger = _ledger(key)
    request = _component_state(key).get("missing")
    if isinstance(request, Mapping) and request.get("n") != ledger["handled"]:
        ledger["handled"] = request.get("n")
        hashes = request.get("hashes")
        if isinstance(hashes, list):
            ledger["sent"].difference_update(str(h) for h in hashes)
        if request.get("scene") is True:
            ledger["scene"].forget()
    sent: set[str] = ledger["sent"]
    if len(sent) > MAX_TRACKED_BLOBS:
        sent.clear()
    new = [k for k in payload.geometry if k not in sent]
    sent.update(new)
    return new


# --------------------------------------------------------------------------- front end
# The JavaScript and CSS are files in explorer/frontend/ (served by Streamlit from the installed
# package's asset_dir; see explorer/frontend/__init__.py). Created on first use in a script run.
_viewer_component = AssetComponent("viewer3d", js="viewer3d.js", css="viewer3d.css")

# Plotly modebar/config. toImage (camera icon) stays: teachers save pictures for slides.
PLOTLY_CONFIG: dict[str, Any] = {
    "displaylogo": False,
    "responsive": True,
    "scrollZoom": True,
    "displayModeBar": True,
    # plotly.js 4 shows a "Share chart..." button that uploads the figure to Plotly Cloud by
    # default: never offer that (offline app, student data stays local).
    "showSendToCloud": False,
    "plotlyServerURL": "",
    # "last save" is plotly's internal notion and is confusing here; "reset to default" stays.
    "modeBarButtonsToRemove": ["resetCameraLastSave3d"],
    "toImageButtonOptions": {"format": "png", "filename": "lumbar-spine", "scale": 2},
}


def viewer_settings() -> dict[str, Any]:
    """The constants the viewer's JavaScript uses (sent as data, never spliced into the script).

    Returns
    -------
    dict
        Plain JSON values; distances in Plotly's normalised scene units, sizes in CSS pixels,
        times in milliseconds.
    """
    return {
        "clickTolerancePx": CLICK_TOLERANCE_PX,
        "cameraReportDebounceMs": CAMERA_REPORT_DEBOUNCE_MS,
        "cacheLimitBytes": BROWSER_CACHE_LIMIT_BYTES,
        "geometryRef": GEOMETRY_REF_KEY,
        "zoomLimits": list(ZOOM_LIMITS),
        "smallScreenWidthPx": SMALL_SCREEN_WIDTH_PX,
        "smallScreenHeightFraction": SMALL_SCREEN_HEIGHT_FRACTION,
        "tallScreenHeightPx": TALL_SCREEN_HEIGHT_PX,
        "tallScreenHeightFraction": TALL_SCREEN_HEIGHT_FRACTION,
        "tallScreenMaxHeightPx": TALL_SCREEN_MAX_HEIGHT_PX,
        "wheelHint": WHEEL_HINT_TEXT,
        "background": SCENE_BACKGROUND,
        "workaroundsOff": workarounds_off(),
    }


def describe_figure(figure: Figure | ScenePayload) -> str:
    """Default screen-reader description of the scene: the structures shown.

    Parameters
    ----------
    figure : plotly.graph_objects.Figure or ScenePayload
        Scene figure, or the scene already split for the browser.

    Returns
    -------
    str
        One sentence listing the visible structures, plus how to interact.
    """
    if isinstance(figure, ScenePayload):
        names = [str(t["name"]) for t in figure.scene.get("data", []) if t.get("name")]
    else:
        names = [str(t.name) for t in figure.data if t.name]
    if not names:
        return "3D model of the lumbar spine: no structures are shown."
    return (
        f"3D model of the lumbar spine showing {len(names)} structures: {', '.join(names)}. "
        "Drag to rotate, click into the view and scroll to zoom, click a structure to select it."
    )


def _noop() -> None:
    """CCv2 only surfaces a trigger/state key that has an ``on_<key>_change`` callback."""


# --------------------------------------------------------------------------- public API
def spine_viewer(
    figure: Figure | ScenePayload,
    *,
    camera_request: Mapping[str, Any] | None,
    camera_request_id: int,
    key: str,
    height_px: int,
    description: str | None = None,
    report_camera: bool = False,
    on_click: Callable[[], None] | None = None,
    scroll_request_id: int = 0,
    label_band: tuple[float, float] | None = None,
) -> None:
    """Show the 3D scene and return the structure clicked in this run, if any.

    Parameters
    ----------
    figure : plotly.graph_objects.Figure or ScenePayload
        Scene from :func:`explorer.render.scene3d.build_scene_figure`, or already split
        (:func:`explorer.render.scene3d.build_scene_payload`, the page's fast path: shared by every
        session in the same state).
    camera_request : mapping or None
        Camera to apply when ``camera_request_id`` changes (a preset view), else ignored.
    camera_request_id : int
        Increase it to apply ``camera_request`` again; while it stays the same the person's own
        rotation is kept across reruns.
    key : str
        Streamlit key. Required and must stay constant: it keeps the same DOM element (and
        WebGL context) across reruns.
    height_px : int
        Height of the viewer in pixels (the width fills the container).
    description : str or None
        Text alternative (``aria-label``) for screen readers; defaults to a list of the
        structures shown (:func:`describe_figure`).
    report_camera : bool, default False
        Also send the camera to Python after each rotation (debounced). Off by default: every
        report triggers a script rerun. The camera persists in the browser either way.
    on_click : callable or None
        Streamlit callback run before the rerun a click causes (so state it sets is seen by
        widgets drawn above the viewer). Inside it, ``st.session_state[key].clicked`` is the
        ``{"id", "name"}`` of the clicked structure.
    scroll_request_id : int, default 0
        Change it to scroll the viewer into sight (its top near the top of the screen, smoothly),
        e.g. from a "Show ... in 3D" button; while it stays the same nothing scrolls.
    label_band : (float, float), optional
        Width and height (CSS px) of the band around the view's centre that the camera's framing
        and the figure's ``scene.annotations`` were laid out for. The browser fits it to the
        view's real size: on a view narrower than the band's shape a requested camera steps back
        so the band's sides stay in sight, and the labels' offsets and fonts scale with the band
        as drawn (smaller on a phone, larger on a projector). ``None``: drawn as given.

    Clicks reach ``on_click``; it reads them from ``st.session_state[key]`` with
    :func:`explorer.ui.events.clicked_id`, the one place that validates browser events.
    """
    ensure_plotly_static_once()
    payload = figure if isinstance(figure, ScenePayload) else split_figure(figure)
    new_blobs = blobs_to_send(key, payload)  # first: it handles the browser's resend request
    # Only blobs this browser session has not been sent yet (see the module docstring), as binary
    # parts of the frame (quantised: GeometryBlob.wire).
    specs, bodies = frame_blobs(payload.geometry[k] for k in new_blobs)
    scene = payload_delta(payload, _ledger(key)["scene"])
    data: dict[str, Any] = {
        # Only the traces and layout that changed since the scene this browser has.
        "scene": scene,
        "sceneHash": scene["hash"],  # of the whole scene: equal hash, nothing to redraw
        "geometry": specs,
        "cameraRequest": json_ready(dict(camera_request)) if camera_request is not None else None,
        "cameraRequestId": int(camera_request_id),
        "key": key,
        "height": int(height_px),
        "ariaLabel": description or describe_figure(figure),
        "reportCamera": bool(report_camera),
        "scrollRequestId": int(scroll_request_id),
        "labelBand": [float(label_band[0]), float(label_band[1])] if label_band is not None else None,
    }
    callbacks: dict[str, Any] = {"on_clicked_change": on_click or _noop, "on_missing_change": _noop}
    if report_camera:
        callbacks["on_camera_change"] = _noop
    # Bytes, not a list or dict: Streamlit json.dumps those twice per rerun (and scans a dict for
    # dataframes, importing pandas); the browser reads the frame with geometry.js componentData.
    text = join_json(_constant_fields(plotly_url(), tuple(workarounds_off())), data)
    frame = encode_frame(text, bodies)
    _viewer_component(key=key, data=frame, width="stretch", height="content", **callbacks)


@functools.lru_cache(maxsize=8)
def _constant_fields(url: str, off: tuple[str, ...]) -> str:
    """The fields every message carries that do not change while the server runs, as JSON text
    (encoded once, not once per rerun)."""
    del off  # part of the cache key: viewer_settings() reads it from the environment
    return json.dumps({
        "plotlyUrl": url,
        "plotlyJsVersion": plotly_js_version(),
        "config": PLOTLY_CONFIG,
        "settings": viewer_settings(),
        "fallbackText": FALLBACK_TEXT,
        "loadErrorText": LOAD_ERROR_TEXT,
        "renderErrorText": RENDER_ERROR_TEXT,
    }, separators=(",", ":"), ensure_ascii=False)


def reported_camera(key: str) -> dict[str, Any] | None:
    """Last camera reported by the viewer with ``key`` (needs ``report_camera=True``).

    Parameters
    ----------
    key : str
        The viewer's Streamlit key.

    Returns
    -------
    dict or None
        Plotly camera dict (``eye``, ``up``, ``center``, ``projection``), or ``None``.
    """
    state = st.session_state.get(key)
    camera = state.get("camera") if isinstance(state, dict) else None
    return json.loads(json.dumps(camera)) if isinstance(camera, dict) else None

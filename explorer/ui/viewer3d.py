"""The 3D viewer: a small Streamlit Components v2 (CCv2) component around ``Plotly.react``.

Why not ``st.plotly_chart``: it resets a 3D camera whenever the figure changes (streamlit issue
8882) and reports no clicks on 3D meshes. This component keeps ONE persistent Plotly graph div
and updates it in place, so the camera the person rotated survives every rerun, and it reports
clicks on meshes back to Python.

How it works
------------
* Transport: the baked meshes never change between reruns, only their styling does (colour,
  opacity, visibility, the per-vertex compression highlight) plus the small lesion mesh. So the
  figure is split (:func:`split_figure`) into

  - **geometry**: each mesh's ``x, y, z, i, j, k`` packed into one binary blob (float32 points,
    uint16/uint32 triangles) and keyed by a hash of its content, and
  - **style**: the traces without those arrays (each names its blob in ``geometryRef``), with
    per-vertex ``intensity`` quantised to uint8 (1/255 steps of the highlight colour scale), and
    the layout.

  Python remembers per session and viewer key (``st.session_state``) which blobs it has sent and
  sends only new ones; the browser keeps them in a window-level cache (``window.__lumbar3d``)
  that outlives component remounts. If the browser misses a blob (cache evicted, a rerun that
  was superseded before it was drawn), it asks for it with ``setStateValue("missing", ...)`` and
  Python sends it again in that rerun: the cache heals itself. A page reload is a new session,
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
  the screen's height. A new ``scroll_request_id`` scrolls the viewer into sight.
* Plotly.js is the copy bundled with the plotly Python package, served by Streamlit's static
  file serving at ``/app/static/plotly.min.js`` (no CDN, works offline); see
  :func:`ensure_plotly_static`.
* First paint and the browser workarounds (pixel ratio, WebGL validity checks, CPU-backed
  text canvas, the live camera): ``explorer/frontend/gl_workarounds.js``, each guarded on the
  plotly.js version it was written for and switchable off (:data:`NO_WORKAROUNDS_ENV`).
* Clicks: plotly fires ``plotly_click`` on mouse-down in 3D (plotly.js issue 6185), so a click is
  only reported when the pointer moved < 5 px between down and up (i.e. not a rotation drag).
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import os
import re
import shutil
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import streamlit as st

from explorer.frontend import AssetComponent
from explorer.render.scene3d import plotly_js_path, plotly_version
from explorer.settings import SCENE_BACKGROUND, STATIC_DIR

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from plotly.graph_objects import Figure

_LOG = logging.getLogger(__name__)

PLOTLY_FILENAME: str = "plotly.min.js"
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
# Trace key naming a geometry blob in the style payload (removed before plotly sees the trace).
GEOMETRY_REF_KEY: str = "geometryRef"
GEOMETRY_KEYS: tuple[str, ...] = ("x", "y", "z", "i", "j", "k")
# Wheel and pinch zoom keep the eye between these distances from the centre of view (Plotly's
# normalised units; the presets sit at about 1.8): the model never shrinks to a dot or vanishes.
ZOOM_LIMITS: tuple[float, float] = (0.35, 4.0)
# Below this viewport width (CSS px) the viewer is at most this fraction of the viewport height.
SMALL_SCREEN_WIDTH_PX: int = 700
SMALL_SCREEN_HEIGHT_FRACTION: float = 0.6
WHEEL_HINT_TEXT: str = "Click to zoom with the wheel"
# Environment variable switching browser workarounds off: "all" or ids from gl_workarounds.js.
NO_WORKAROUNDS_ENV: str = "LUMBAR_NO_WORKAROUNDS"
_UINT16_LIMIT: int = 65_536
_HASH_BYTES: int = 12

FALLBACK_TEXT: str = (
    "The 3D model needs WebGL, which this browser has turned off or does not support. "
    "Try another browser (Chrome, Edge, Firefox or Safari) or enable hardware acceleration."
)
LOAD_ERROR_TEXT: str = (
    "The 3D viewer could not load its drawing library (plotly.min.js). "
    "Check that server.enableStaticServing is true in .streamlit/config.toml."
)

RENDER_ERROR_TEXT: str = "The 3D view could not be drawn. Reload the page to try again."


@dataclass(frozen=True)
class ViewerEvent:
    """A click on a structure in the 3D viewer.

    Attributes
    ----------
    structure_id : str
        Id of the clicked structure (the trace's ``meta``).
    structure_name : str
        Its display name (the trace's ``name``).
    camera : dict or None
        Last camera the browser reported (only with ``report_camera=True``).
    """

    structure_id: str
    structure_name: str
    camera: dict[str, Any] | None = None


# --------------------------------------------------------------------------- geometry / style split
@dataclass(frozen=True)
class GeometryBlob:
    """One mesh's vertices and triangles, packed for the browser's cache.

    Layout of ``data``: float32 ``x[n]``, ``y[n]``, ``z[n]``, then ``i[m]``, ``j[m]``, ``k[m]`` as
    uint16 (``index_dtype == "u2"``, fewer than 65,536 vertices) or uint32 (``"u4"``). Every
    array starts on a multiple of its element size, so the browser reads them as typed-array
    views of one buffer without copying.

    Attributes
    ----------
    key : str
        Content hash (hex) of the header and ``data``: equal geometry, equal key.
    n_vertices, n_faces : int
        ``n`` and ``m``.
    index_dtype : str
        ``"u2"`` or ``"u4"``.
    data : bytes
        The packed arrays (little-endian).
    """

    key: str
    n_vertices: int
    n_faces: int
    index_dtype: str
    data: bytes

    def to_payload(self) -> dict[str, Any]:
        """JSON-ready form sent to the browser (``b64`` is base64 of ``data``)."""
        return {"n": self.n_vertices, "m": self.n_faces, "idx": self.index_dtype,
                "b64": base64.b64encode(self.data).decode("ascii")}


@dataclass(frozen=True)
class ScenePayload:
    """A figure split for transport: style (small, every rerun) and geometry (once per browser).

    Attributes
    ----------
    scene : dict
        ``{"data": [...], "layout": {...}}`` with plain JSON values only. Mesh traces carry
        ``geometryRef`` (a key of ``geometry``) instead of ``x, y, z, i, j, k``; quantised
        ``intensity`` is ``{"quantised": "u8", "lo", "hi", "b64"}``.
    scene_hash : str
        Hash of ``scene``: equal hash, nothing to redraw.
    geometry : dict of str to GeometryBlob
        Every blob the scene refers to.
    """

    scene: dict[str, Any]
    scene_hash: str
    geometry: dict[str, GeometryBlob] = field(default_factory=dict)

    def geometry_payload(self, keys: Iterable[str] | None = None) -> dict[str, dict[str, Any]]:
        """The blobs (all, or only ``keys``) in their JSON-ready form."""
        wanted = self.geometry.keys() if keys is None else keys
        return {k: self.geometry[k].to_payload() for k in wanted if k in self.geometry}


def _digest(*parts: bytes) -> str:
    h = hashlib.blake2b(digest_size=_HASH_BYTES)
    for part in parts:
        h.update(part)
    return h.hexdigest()


def pack_geometry(x: Any, y: Any, z: Any, i: Any, j: Any, k: Any) -> GeometryBlob:
    """Pack one mesh's coordinate and triangle-index arrays into a :class:`GeometryBlob`.

    Parameters
    ----------
    x, y, z : array-like
        Vertex coordinates (sent as float32, as :mod:`explorer.render.scene3d` already does).
    i, j, k : array-like
        Triangle corner indices into the vertices.

    Returns
    -------
    GeometryBlob
        Content-keyed blob.

    Raises
    ------
    ValueError
        Mismatched lengths or indices out of range.
    """
    pts = [np.ascontiguousarray(a, dtype="<f4").ravel() for a in (x, y, z)]
    n = len(pts[0])
    if any(len(p) != n for p in pts):
        raise ValueError("x, y and z must have the same length")
    idx_raw = [np.asarray(a).ravel() for a in (i, j, k)]
    m = len(idx_raw[0])
    if any(len(a) != m for a in idx_raw):
        raise ValueError("i, j and k must have the same length")
    if m and (min(int(a.min()) for a in idx_raw) < 0 or max(int(a.max()) for a in idx_raw) >= n):
        raise ValueError("triangle index out of range")
    idx_dtype = "u2" if n < _UINT16_LIMIT else "u4"
    idx = [np.ascontiguousarray(a, dtype="<" + idx_dtype) for a in idx_raw]
    data = b"".join(a.tobytes() for a in (*pts, *idx))
    key = _digest(f"{n}:{m}:{idx_dtype}:".encode(), data)
    return GeometryBlob(key=key, n_vertices=n, n_faces=m, index_dtype=idx_dtype, data=data)


def quantise_intensity(values: Any) -> dict[str, Any]:
    """Per-vertex intensity as uint8 steps between its minimum and maximum.

    The highlight colour scale has far fewer distinguishable steps than 255, and both ends are
    exact (0 stays the base colour, 1 stays full magenta). A quarter of the bytes of float32.

    Parameters
    ----------
    values : array-like
        Per-vertex values (non-finite values count as the minimum).

    Returns
    -------
    dict
        ``{"quantised": "u8", "lo": float, "hi": float, "b64": str}``.
    """
    arr = np.asarray(values, dtype=np.float64).ravel()
    finite = arr[np.isfinite(arr)]
    lo = float(finite.min()) if finite.size else 0.0
    hi = float(finite.max()) if finite.size else 0.0
    arr = np.where(np.isfinite(arr), arr, lo)
    span = hi - lo
    q = np.zeros(arr.shape, dtype=np.uint8) if span <= 0 else np.rint((arr - lo) / span * 255.0).astype(np.uint8)
    return {"quantised": "u8", "lo": lo, "hi": hi, "b64": base64.b64encode(q.tobytes()).decode("ascii")}


def _is_numeric_array(value: Any) -> bool:
    return isinstance(value, np.ndarray) and value.dtype.kind in "biuf"


def _json_ready(obj: Any) -> Any:
    """Plain JSON values only (numpy scalars and leftover arrays become what plotly.js reads)."""
    try:  # plotly's own converter: numpy arrays -> {"dtype", "bdata"} typed-array specs
        from _plotly_utils.utils import convert_to_base64
    except ImportError:  # pragma: no cover - older plotly: arrays become lists below
        pass
    else:
        convert_to_base64(obj)
    from plotly.io.json import to_json_plotly

    return json.loads(to_json_plotly(obj))


def split_figure(figure: Figure) -> ScenePayload:
    """Split a scene figure into per-trace style and content-keyed mesh geometry.

    Parameters
    ----------
    figure : plotly.graph_objects.Figure
        Scene from :func:`explorer.render.scene3d.build_scene_figure` (any figure works; only
        ``mesh3d`` traces with numeric ``x, y, z, i, j, k`` arrays are split).

    Returns
    -------
    ScenePayload
        The browser (``explorer/frontend/geometry.js``, ``assemble``) puts the figure's traces
        back together from it.
    """
    traces: list[dict[str, Any]] = []
    geometry: dict[str, GeometryBlob] = {}
    for trace in figure.data:
        props = trace.to_plotly_json()  # a deep copy; numpy arrays stay arrays
        if props.get("type") == "mesh3d" and all(_is_numeric_array(props.get(a)) for a in GEOMETRY_KEYS):
            blob = pack_geometry(*(props.pop(a) for a in GEOMETRY_KEYS))
            geometry[blob.key] = blob
            props[GEOMETRY_REF_KEY] = blob.key
        if _is_numeric_array(props.get("intensity")):
            props["intensity"] = quantise_intensity(props["intensity"])
        traces.append(props)
    scene = _json_ready({"data": traces, "layout": figure.layout.to_plotly_json()})
    text = json.dumps(scene, sort_keys=True, separators=(",", ":"))
    return ScenePayload(scene=scene, scene_hash=_digest(text.encode()), geometry=geometry)


# --------------------------------------------------------------------------- per-session record
_LEDGER_STATE_KEY: str = "_lumbar3d_geometry_sent"


def _ledger(key: str) -> dict[str, Any]:
    """``{"sent": set of blob keys, "handled": last resend request handled}`` for this viewer."""
    ledgers = st.session_state.setdefault(_LEDGER_STATE_KEY, {})
    ledger = ledgers.get(key)
    if not isinstance(ledger, dict) or not isinstance(ledger.get("sent"), set):
        ledger = ledgers[key] = {"sent": set(), "handled": None}
    return ledger


def _component_state(key: str) -> Mapping[str, Any]:
    try:
        state = st.session_state.get(key)
    except Exception:  # noqa: BLE001 - no state yet
        return {}
    return state if isinstance(state, Mapping) else {}


def blobs_to_send(key: str, payload: ScenePayload) -> list[str]:
    """Blob keys this browser session still needs for ``payload``; records them as sent.

    Handles the browser's ``missing`` request (a cache miss): those blobs are sent again.
    """
    ledger = _ledger(key)
    request = _component_state(key).get("missing")
    if isinstance(request, Mapping) and request.get("n") != ledger["handled"]:
        ledger["handled"] = request.get("n")
        hashes = request.get("hashes")
        if isinstance(hashes, list):
            ledger["sent"].difference_update(str(h) for h in hashes)
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


# --------------------------------------------------------------------------- static plotly.js
def ensure_plotly_static(static_dir: Path | None = None) -> Path:
    """Copy the plotly package's ``plotly.min.js`` into the app's static folder if needed.

    Streamlit serves ``<folder of the main script>/static/<file>`` at ``/app/static/<file>``
    when ``server.enableStaticServing`` is on. The copy is refreshed when missing or of a
    different size (plotly was upgraded). It is written to a temporary file and renamed, so
    concurrent sessions never serve a half-written file.

    Parameters
    ----------
    static_dir : pathlib.Path or None
        Target folder; defaults to :data:`explorer.settings.STATIC_DIR` (``explorer/static``).

    Returns
    -------
    pathlib.Path
        Path of the copied ``plotly.min.js``.
    """
    target_dir = Path(static_dir) if static_dir is not None else STATIC_DIR
    src = plotly_js_path()
    dest = target_dir / PLOTLY_FILENAME
    if dest.is_file() and dest.stat().st_size == src.stat().st_size:
        return dest
    target_dir.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target_dir, prefix=".plotly-", suffix=".tmp")
    os.close(fd)
    try:
        shutil.copyfile(src, tmp)
        os.chmod(tmp, 0o644)
        os.replace(tmp, dest)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    _LOG.info("copied %s -> %s", src, dest)
    return dest


_static_checked: bool = False


def _ensure_static_once() -> None:
    global _static_checked
    if not _static_checked:
        ensure_plotly_static()
        _static_checked = True


def plotly_url() -> str:
    """URL of the served ``plotly.min.js``, honouring ``server.baseUrlPath``.

    Returns
    -------
    str
        E.g. ``/app/static/plotly.min.js?v=7.1.0`` (the query busts stale browser caches).
    """
    base = str(st.get_option("server.baseUrlPath") or "").strip("/")
    path = "/".join(p for p in (base, "app/static", PLOTLY_FILENAME) if p)
    return f"/{path}?v={plotly_version()}"


_plotly_js_version: str | None = None


def plotly_js_version() -> str:
    """Version of the served plotly.js, read from its header (``/** * plotly.js v4.1.1 ...``).

    The browser guards its workarounds on it before Plotly itself has loaded.

    Returns
    -------
    str
        E.g. ``"4.1.1"``; ``""`` if the header cannot be read.
    """
    global _plotly_js_version
    if _plotly_js_version is None:
        try:
            with plotly_js_path().open("rb") as f:
                head = f.read(400).decode("ascii", "replace")
        except OSError:
            head = ""
        match = re.search(r"plotly\.js v(\d+\.\d+\.\d+\S*)", head)
        _plotly_js_version = match.group(1) if match else ""
    return _plotly_js_version


def workarounds_off() -> list[str]:
    """Browser workarounds switched off by the environment (:data:`NO_WORKAROUNDS_ENV`).

    Returns
    -------
    list of str
        ``["all"]``, ids from ``explorer/frontend/gl_workarounds.js``, or empty.
    """
    return [part.strip() for part in os.environ.get(NO_WORKAROUNDS_ENV, "").split(",") if part.strip()]


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
        "wheelHint": WHEEL_HINT_TEXT,
        "background": SCENE_BACKGROUND,
        "workaroundsOff": workarounds_off(),
    }


def describe_figure(figure: Figure) -> str:
    """Default screen-reader description of the scene: the structures shown.

    Parameters
    ----------
    figure : plotly.graph_objects.Figure
        Scene figure.

    Returns
    -------
    str
        One sentence listing the visible structures, plus how to interact.
    """
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
    figure: Figure,
    *,
    camera_request: Mapping[str, Any] | None,
    camera_request_id: int,
    key: str,
    height_px: int,
    description: str | None = None,
    report_camera: bool = False,
    on_click: Callable[[], None] | None = None,
    scroll_request_id: int = 0,
) -> ViewerEvent | None:
    """Show the 3D scene and return the structure clicked in this run, if any.

    Parameters
    ----------
    figure : plotly.graph_objects.Figure
        Scene from :func:`explorer.render.scene3d.build_scene_figure`.
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

    Returns
    -------
    ViewerEvent or None
        The clicked structure (only in the rerun the click caused), else ``None``.
    """
    _ensure_static_once()
    payload = split_figure(figure)
    data: dict[str, Any] = {
        "scene": payload.scene,
        "sceneHash": payload.scene_hash,
        # Only blobs this browser session has not been sent yet (see the module docstring).
        "geometry": payload.geometry_payload(blobs_to_send(key, payload)),
        "cameraRequest": _json_ready(dict(camera_request)) if camera_request is not None else None,
        "cameraRequestId": int(camera_request_id),
        "key": key,
        "height": int(height_px),
        "ariaLabel": description or describe_figure(figure),
        "plotlyUrl": plotly_url(),
        "plotlyJsVersion": plotly_js_version(),
        "config": PLOTLY_CONFIG,
        "reportCamera": bool(report_camera),
        "scrollRequestId": int(scroll_request_id),
        "settings": viewer_settings(),
        "fallbackText": FALLBACK_TEXT,
        "loadErrorText": LOAD_ERROR_TEXT,
        "renderErrorText": RENDER_ERROR_TEXT,
    }
    callbacks: dict[str, Any] = {"on_clicked_change": on_click or _noop, "on_missing_change": _noop}
    if report_camera:
        callbacks["on_camera_change"] = _noop
    # A list, not a dict, at the top level: CCv2 looks for dataframes in a dict's values, which
    # imports pandas (about a second of cold start) the first time.
    result = _viewer_component(key=key, data=[data], width="stretch", height="content", **callbacks)
    camera = result.get("camera") if report_camera else None
    clicked = result.get("clicked")
    if isinstance(clicked, dict) and clicked.get("id"):
        return ViewerEvent(
            structure_id=str(clicked["id"]),
            structure_name=str(clicked.get("name", "")),
            camera=camera if isinstance(camera, dict) else None,
        )
    return None


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

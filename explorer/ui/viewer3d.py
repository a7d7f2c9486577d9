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
  dataframes, which imports pandas on first use, about a second of cold start). The JS module's
  default export runs on the first mount and again whenever ``data`` changes (the DOM element
  persists between calls because the component has a fixed ``key``).
* Camera: if ``cameraRequestId`` is the one applied last time, the figure's camera is replaced
  by the div's live camera before ``Plotly.react`` (the person's rotation wins). A new id means
  the person picked a preset view: the requested camera is applied.
* Plotly.js is the copy bundled with the plotly Python package, served by Streamlit's static
  file serving at ``/app/static/plotly.min.js`` (no CDN, works offline); see
  :func:`ensure_plotly_static`.
* First paint (measured with software WebGL, benchmarks/first_paint.py): the scene is drawn at
  the screen's pixel ratio (plotly's default draws 3D at twice the resolution even on 1x
  screens: four times the pixels to fill; PNG downloads still use 2x); the first draw is not
  followed by a second one (no camera relayout, no resize when the size did not change);
  plotly's synchronous WebGL cache checks are answered without a GPU round trip
  (``fastValidityChecks``); its text-label canvas is CPU-backed (``willReadFrequently``).
* Clicks: plotly fires ``plotly_click`` on mouse-down in 3D (plotly.js issue 6185), so a click is
  only reported when the pointer moved < 5 px between down and up (i.e. not a rotation drag).
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import os
import shutil
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import streamlit as st

from explorer.render.scene3d import plotly_js_path, plotly_version
from explorer.settings import SCENE_BACKGROUND, STATIC_DIR

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from plotly.graph_objects import Figure

_LOG = logging.getLogger(__name__)

COMPONENT_NAME: str = "lumbar_explorer.viewer3d"
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

    def arrays(self) -> dict[str, np.ndarray]:
        """Unpack into ``x, y, z`` (float32) and ``i, j, k`` arrays, as the browser does."""
        n, m = self.n_vertices, self.n_faces
        idx = np.dtype("<u2") if self.index_dtype == "u2" else np.dtype("<u4")
        points = np.frombuffer(self.data, dtype="<f4", count=3 * n)
        faces = np.frombuffer(self.data, dtype=idx, count=3 * m, offset=12 * n)
        out = {axis: points[c * n:(c + 1) * n] for c, axis in enumerate("xyz")}
        out.update({axis: faces[c * m:(c + 1) * m] for c, axis in enumerate("ijk")})
        return out


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


def dequantise_intensity(spec: Mapping[str, Any]) -> np.ndarray:
    """Inverse of :func:`quantise_intensity` (float32, as the browser computes it)."""
    q = np.frombuffer(base64.b64decode(spec["b64"]), dtype=np.uint8)
    lo, hi = float(spec["lo"]), float(spec["hi"])
    return (lo + q.astype(np.float64) * ((hi - lo) / 255.0)).astype(np.float32)


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
        :func:`assemble_traces` with the payload's geometry gives back the figure's traces.
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


def assemble_traces(scene: Mapping[str, Any], cache: Mapping[str, GeometryBlob]) -> list[dict[str, Any]]:
    """What the browser hands to ``Plotly.react``: style traces with their cached geometry.

    Mirrors the JavaScript (for tests): geometry arrays come from ``cache`` by ``geometryRef``
    and quantised intensity is expanded to float32.

    Parameters
    ----------
    scene : mapping
        :attr:`ScenePayload.scene`.
    cache : mapping of str to GeometryBlob
        Blobs the browser holds.

    Returns
    -------
    list of dict
        One dict per trace.

    Raises
    ------
    KeyError
        A referenced blob is not in ``cache`` (the browser would ask for it again).
    """
    out = []
    for style in scene["data"]:
        trace = dict(style)
        ref = trace.pop(GEOMETRY_REF_KEY, None)
        if ref is not None:
            trace.update(cache[ref].arrays())
        intensity = trace.get("intensity")
        if isinstance(intensity, Mapping) and intensity.get("quantised") == "u8":
            trace["intensity"] = dequantise_intensity(intensity)
        out.append(trace)
    return out


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
_CSS = f"""
.lumbar-3d-wrap {{ width: 100%; position: relative; }}
.lumbar-3d {{ width: 100%; background: {SCENE_BACKGROUND}; border-radius: 0.5rem; overflow: hidden; }}
.lumbar-3d-fallback {{
  margin: 0; padding: 1rem 1.25rem; border: 2px solid #B3261E; border-radius: 0.5rem;
  background: #FFF4F2; color: #3B0A06; font-size: 1.1rem; line-height: 1.5;
}}
.lumbar-3d-fallback[hidden] {{ display: none; }}
"""

# Shared with every component that draws with Plotly (the body chart too): the window-level object
# and the one loader of the locally served plotly.min.js, so the page loads plotly.js once.
PLOTLY_LOADER_JS = """
const G = (window.__lumbar3d ??= { plotly: null, webgl: undefined, memory: {} });

// plotly.js draws 3D text labels into a 2D canvas and reads the pixels back (getImageData); that
// canvas is created while plotly.min.js is evaluated. Read-back from a GPU canvas is slow in
// software WebGL, so 2D canvases created while the script loads are CPU-backed.
function readbackCanvasesWhileLoading() {
  const proto = HTMLCanvasElement.prototype;
  const original = proto.getContext;
  const patched = function (type, options) {
    if (type === "2d" && (options == null || options.willReadFrequently === undefined)) {
      options = Object.assign({}, options, { willReadFrequently: true });
    }
    return original.call(this, type, options);
  };
  proto.getContext = patched;
  return () => { if (proto.getContext === patched) proto.getContext = original; };
}

function loadPlotly(url) {
  if (window.Plotly) return Promise.resolve(window.Plotly);
  if (!G.plotly) {
    G.plotly = new Promise((resolve, reject) => {
      const s = document.createElement("script");
      s.src = url;
      s.async = true;
      s.dataset.lumbarPlotly = "1";
      const restore = readbackCanvasesWhileLoading();
      s.addEventListener("load", () => {
        restore();
        window.Plotly ? resolve(window.Plotly) : reject(new Error("window.Plotly missing"));
      });
      s.addEventListener("error", () => {
        restore();
        s.remove();
        const err = new Error("could not load " + url);
        err.isLoadError = true;
        reject(err);
      });
      document.head.appendChild(s);
    });
    G.plotly.catch(() => { G.plotly = null; });  // let a later rerun retry
  }
  return G.plotly;
}
"""

# The default export is called on mount and again for every rerun whose `data` changed, with the
# same `parentElement` (a plain div, as isolate_styles=False). Everything that must outlive one
# call (the graph div, listeners, the last applied camera request) is kept on the DOM node, and
# in a window-level object (window.__lumbar3d: plotly loader, geometry cache, camera memory keyed
# by the Streamlit key) so a remount reuses them.
_JS = """
const TOL = __TOL__;
const DEBOUNCE_MS = __DEBOUNCE__;
const CACHE_LIMIT_BYTES = __CACHE_LIMIT__;
const GEOMETRY_REF = "__GEOMETRY_REF__";
const RESEND_RETRY_MS = 4000;   // ask again if the missing geometry has not arrived by then
const RESEND_MAX_TRIES = 4;
G.geometry ??= new Map();  // content hash -> {x, y, z, i, j, k, bytes, used}
G.tick ??= 0;
G.requests ??= 0;

function hasWebGL() {
  if (G.webgl === undefined) {
    try {
      const canvas = document.createElement("canvas");
      const ctx = canvas.getContext("webgl2") || canvas.getContext("webgl");
      G.webgl = !!ctx;
      ctx?.getExtension("WEBGL_lose_context")?.loseContext();  // free the probe context
    } catch (e) {
      G.webgl = false;
    }
  }
  return G.webgl;
}

// plotly.js's WebGL helpers check their shader/program caches with gl.isShader / gl.isProgram
// and re-read gl.getProgramParameter for every mesh (about 1,900 calls for this scene). Each is
// a synchronous round trip to the GPU process, which with software WebGL may be busy painting
// the page (0.2-0.4 s per first draw on a quiet machine, far more on a busy one). For the
// contexts plotly creates in our newPlot, answer them from what this context created, deleted
// and linked (the answers the WebGL calls give), without the round trip.
function fastValidityChecks(gl) {
  if (!gl || gl.__lumbarFast) return gl;
  const proto = Object.getPrototypeOf(gl);
  const live = new WeakSet();
  const params = new WeakMap();  // program -> Map(pname -> value), valid until relinked
  let lost = false;
  gl.canvas?.addEventListener?.("webglcontextlost", () => { lost = true; });
  const direct = () => lost || gl.isContextLost();
  gl.createShader = function (type) { const o = proto.createShader.call(this, type); if (o) live.add(o); return o; };
  gl.createProgram = function () { const o = proto.createProgram.call(this); if (o) live.add(o); return o; };
  gl.deleteShader = function (o) { live.delete(o); return proto.deleteShader.call(this, o); };
  gl.deleteProgram = function (o) { live.delete(o); params.delete(o); return proto.deleteProgram.call(this, o); };
  gl.linkProgram = function (o) { params.delete(o); return proto.linkProgram.call(this, o); };
  gl.isShader = function (o) { return direct() ? proto.isShader.call(this, o) : !!o && live.has(o); };
  gl.isProgram = function (o) { return direct() ? proto.isProgram.call(this, o) : !!o && live.has(o); };
  gl.getProgramParameter = function (o, pname) {
    if (direct() || !o || !live.has(o)) return proto.getProgramParameter.call(this, o, pname);
    let m = params.get(o);
    if (!m) params.set(o, (m = new Map()));
    if (!m.has(pname)) m.set(pname, proto.getProgramParameter.call(this, o, pname));
    return m.get(pname);
  };
  gl.__lumbarFast = true;
  return gl;
}

// Run fn() with WebGL contexts created meanwhile (plotly's scene) given fastValidityChecks.
async function withFastWebGL(fn) {
  const proto = HTMLCanvasElement.prototype;
  const original = proto.getContext;
  const patched = function (type, ...rest) {
    const ctx = original.call(this, type, ...rest);
    return /webgl/i.test(String(type)) ? fastValidityChecks(ctx) : ctx;
  };
  proto.getContext = patched;
  try {
    return await fn();
  } finally {
    if (proto.getContext === patched) proto.getContext = original;
  }
}

function clone(obj) { return obj == null ? obj : JSON.parse(JSON.stringify(obj)); }

function screenPixelRatio() {
  return Math.min(2, Math.max(1, window.devicePixelRatio || 1));
}

function base64Bytes(b64) {
  if (typeof Uint8Array.fromBase64 === "function") return Uint8Array.fromBase64(b64);
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let q = 0; q < bin.length; q++) out[q] = bin.charCodeAt(q);
  return out;
}

// ---- geometry cache (window level: survives remounts; a page reload starts empty)
function storeGeometry(blobs) {
  for (const [hash, spec] of Object.entries(blobs || {})) {
    if (G.geometry.has(hash)) continue;
    try {
      const bytes = base64Bytes(spec.b64);
      const buf = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength
        ? bytes.buffer : bytes.slice().buffer;
      const n = spec.n, m = spec.m;
      const Idx = spec.idx === "u4" ? Uint32Array : Uint16Array;
      const w = Idx.BYTES_PER_ELEMENT;
      if (buf.byteLength !== 12 * n + 3 * w * m) throw new Error("bad size");
      G.geometry.set(hash, {
        x: new Float32Array(buf, 0, n), y: new Float32Array(buf, 4 * n, n), z: new Float32Array(buf, 8 * n, n),
        i: new Idx(buf, 12 * n, m), j: new Idx(buf, 12 * n + w * m, m), k: new Idx(buf, 12 * n + 2 * w * m, m),
        bytes: buf.byteLength, used: ++G.tick,
      });
    } catch (err) {
      console.warn("lumbar 3D viewer: bad geometry blob", hash, err);  // asked for again when needed
    }
  }
}

function trimGeometry(keep) {
  let total = 0;
  for (const g of G.geometry.values()) total += g.bytes;
  if (total <= CACHE_LIMIT_BYTES) return;
  const old = [...G.geometry.entries()].filter(([h]) => !keep.has(h)).sort((a, b) => a[1].used - b[1].used);
  for (const [h, g] of old) {
    if (total <= CACHE_LIMIT_BYTES) break;
    G.geometry.delete(h);
    total -= g.bytes;
  }
}

function intensityArray(spec) {
  if (!spec || spec.quantised !== "u8") return spec;  // plain list or plotly typed-array spec
  const q = base64Bytes(spec.b64);
  const lo = Number(spec.lo), step = (Number(spec.hi) - lo) / 255;
  const out = new Float32Array(q.length);
  for (let t = 0; t < q.length; t++) out[t] = lo + q[t] * step;
  return out;
}

// Style traces + cached geometry -> plotly traces; lists the blobs this browser lacks.
function assemble(scene) {
  const missing = [], used = new Set();
  const data = (scene.data || []).map((style) => {
    const trace = Object.assign({}, style);
    const ref = trace[GEOMETRY_REF];
    delete trace[GEOMETRY_REF];
    if (ref != null) {
      const g = G.geometry.get(ref);
      if (!g) { missing.push(ref); return trace; }
      g.used = ++G.tick;
      used.add(ref);
      Object.assign(trace, { x: g.x, y: g.y, z: g.z, i: g.i, j: g.j, k: g.k });
    }
    if (trace.intensity) trace.intensity = intensityArray(trace.intensity);
    return trace;
  });
  return { data, missing, used };
}

// A cache miss: ask Python (a rerun) to send these blobs again; retry a few times.
function requestMissing(st, missing) {
  const key = [...missing].sort().join(",");
  const now = performance.now();
  const req = st.missingReq;
  if (req && req.key === key && now - req.t < RESEND_RETRY_MS) return;
  const tries = req && req.key === key ? req.tries + 1 : 1;
  if (tries > RESEND_MAX_TRIES) throw new Error("the 3D model's geometry did not arrive");
  st.missingReq = { key, t: now, tries };
  st.api.setStateValue("missing", { hashes: missing, n: ++G.requests + "-" + Date.now() });
  clearTimeout(st.retryTimer);
  st.retryTimer = setTimeout(() => { st.dirty = true; pump(st); }, RESEND_RETRY_MS + 50);
}

// The live camera. _scene.getCamera() is current even mid-drag; _fullLayout.scene.camera is
// only updated when plotly emits plotly_relayout.
function liveCamera(gd) {
  const sceneLayout = gd._fullLayout?.scene;
  if (!sceneLayout) return null;
  const cam = sceneLayout._scene?.getCamera?.() ?? sceneLayout.camera;
  return cam ? clone(cam) : null;
}

function showMessage(st, text) {
  st.msg.textContent = text;
  st.msg.hidden = false;
  st.gd.hidden = true;
}

function attachListeners(st) {
  const { gd, wrap } = st;
  // Click = press and release with < TOL px of movement. plotly 3D emits plotly_click on
  // mouse-down (also when a rotation starts) and picks meshes in its render loop, so:
  //  * a plotly_click during the press is only reported at release, if the pointer did not drag;
  //  * a press shorter than one frame (slow software WebGL) gets no plotly_click, so the mesh
  //    hovered when the press started is used; if nothing was hovered yet, the next hover/click
  //    pick at the release point (within LATE_MS) is used.
  const LATE_MS = 700;
  st.down = null;      // {x, y, moved, hovered} while a button is pressed
  st.pending = null;   // plotly_click received during the press
  st.hovered = null;   // last plotly_hover
  st.lateUp = null;    // {t, x, y}: a click whose pick has not arrived yet
  const onDown = (e) => {
    st.down = { x: e.clientX, y: e.clientY, moved: false, hovered: st.hovered };
    st.pending = null;
    st.lateUp = null;
  };
  const onMove = (e) => {
    if (st.down && Math.hypot(e.clientX - st.down.x, e.clientY - st.down.y) >= TOL) {
      st.down.moved = true;
    }
    if (st.lateUp && Math.hypot(e.clientX - st.lateUp.x, e.clientY - st.lateUp.y) >= TOL) {
      st.lateUp = null;
    }
  };
  const onUp = (e) => {
    if (!st.down) return;
    onMove(e);
    if (!st.down.moved) {
      const hit = st.pending ?? st.down.hovered;
      if (hit) report(st, hit);
      else st.lateUp = { t: performance.now(), x: e.clientX, y: e.clientY };
    } else {
      st.hovered = null;  // the scene rotated under the pointer; wait for a fresh pick
    }
    st.down = null;
    st.pending = null;
  };
  const takeLate = (info) => {
    const late = st.lateUp;
    st.lateUp = null;
    if (late && performance.now() - late.t < LATE_MS) report(st, info);
  };
  wrap.addEventListener("pointerdown", onDown, true);
  window.addEventListener("pointermove", onMove, true);
  window.addEventListener("pointerup", onUp, true);
  window.addEventListener("pointercancel", onUp, true);
  st.removeWindowListeners = () => {
    window.removeEventListener("pointermove", onMove, true);
    window.removeEventListener("pointerup", onUp, true);
    window.removeEventListener("pointercancel", onUp, true);
  };

  // The scene is drawn at the screen's pixel ratio; a downloaded PNG keeps plotly's 2x (the
  // export re-plots a copy with the graph's config, read when the button is clicked).
  wrap.addEventListener("click", (e) => {
    const btn = e.target?.closest?.(".modebar-btn");
    if (!btn || !String(btn.getAttribute("data-title") || "").startsWith("Download plot")) return;
    const ctx = gd._context;
    if (!ctx) return;
    const live = ctx.plotGlPixelRatio;
    ctx.plotGlPixelRatio = 2;
    setTimeout(() => { ctx.plotGlPixelRatio = live; }, 0);
  }, true);

  gd.on("plotly_click", (ev) => {
    const info = pointInfo(ev);
    if (!info) return;
    if (st.down) st.pending = info;  // decided at release
    else takeLate(info);
  });
  gd.on("plotly_hover", (ev) => {
    st.hovered = pointInfo(ev);
    if (st.hovered && !st.down && st.lateUp) takeLate(st.hovered);
  });
  gd.on("plotly_unhover", () => { st.hovered = null; });

  gd.on("plotly_relayout", (ev) => {
    if (!ev || !Object.keys(ev).some((k) => k.startsWith("scene"))) return;
    rememberCamera(st);
    if (!st.latest?.reportCamera) return;
    clearTimeout(st.cameraTimer);
    st.cameraTimer = setTimeout(() => {
      const cam = liveCamera(gd);
      const text = JSON.stringify(cam);
      if (cam && text !== st.reportedCamera) {
        st.reportedCamera = text;
        st.api.setStateValue("camera", cam);
      }
    }, DEBOUNCE_MS);
  });

  // Streamlit resizes columns/sidebar without a window resize event. The observer also fires
  // once right after observe(): skip sizes already drawn (a resize redraws the whole scene).
  let resizeTimer = null;
  st.resizeObserver = new ResizeObserver(() => {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(() => {
      if (!gd.isConnected || !gd._fullLayout) return;
      const size = gd.clientWidth + "x" + gd.clientHeight;
      if (size === st.drawnSize) return;
      st.drawnSize = size;
      window.Plotly.Plots.resize(gd);
    }, 100);
  });
  st.resizeObserver.observe(wrap);
}

function pointInfo(ev) {
  const pt = ev?.points?.[0];
  if (!pt) return null;
  const trace = pt.data ?? pt.fullData ?? {};
  const id = String(trace.meta ?? "");  // uid may carry a suffix (scene3d.trace_uid)
  return id ? { id, name: String(trace.name ?? "") } : null;
}

function report(st, info) {
  st.api.setTriggerValue("clicked", info);
}

function rememberCamera(st) {
  const mem = (G.memory[st.latest.key] ??= {});
  mem.camera = liveCamera(st.gd);
}

// Draw the latest payload. Returns false while waiting for geometry from Python.
async function render(st, d) {
  const Plotly = await loadPlotly(d.plotlyUrl);
  const gd = st.gd;
  const mem = (G.memory[d.key] ??= {});
  const newRequest = d.cameraRequest != null && d.cameraRequestId !== mem.requestId;
  const wasPlotted = st.plotted;

  let camera = null;
  if (newRequest) camera = clone(d.cameraRequest);          // person picked a preset view
  else if (st.plotted) camera = liveCamera(gd);             // keep the person's rotation
  else if (mem.camera) camera = clone(mem.camera);          // remount: restore last camera

  if (!st.plotted || d.sceneHash !== st.sceneHash) {
    const { data, missing, used } = assemble(d.scene);
    if (missing.length) {
      requestMissing(st, missing);
      return false;
    }
    st.missingReq = null;
    clearTimeout(st.retryTimer);
    const layout = clone(d.scene.layout) || {};
    layout.scene ??= {};
    if (camera) layout.scene.camera = camera;
    layout.autosize = true;
    delete layout.width;  // width follows the container
    const config = Object.assign({}, d.config, { plotGlPixelRatio: screenPixelRatio() });
    if (!st.plotted) {
      await withFastWebGL(() => Plotly.newPlot(gd, data, layout, config));
      st.plotted = true;
      st.drawnSize = gd.clientWidth + "x" + gd.clientHeight;
      attachListeners(st);
    } else {
      await Plotly.react(gd, data, layout, config);
    }
    st.sceneHash = d.sceneHash;
    trimGeometry(used);
  }
  // Apply a requested view explicitly: with a constant uirevision, Plotly.react keeps the GUI
  // camera when the new input equals the previous input (same preset picked twice). A first
  // draw already has it.
  if (newRequest && wasPlotted) await Plotly.relayout(gd, { "scene.camera": camera });
  mem.requestId = d.cameraRequestId;
  mem.camera = liveCamera(gd);
  // Tests and benchmarks wait for this to change: the figure sent by the last rerun is drawn.
  gd.dataset.renderSeq = String(Number(gd.dataset.renderSeq || 0) + 1);
  return true;
}

async function pump(st) {
  if (st.busy) return;  // the running loop will pick up st.latest
  st.busy = true;
  try {
    let drawn = true;
    while (st.dirty) {
      st.dirty = false;
      drawn = await render(st, st.latest);
    }
    if (drawn || st.plotted) {
      st.gd.hidden = false;
      st.msg.hidden = true;
    }
  } catch (err) {
    console.error("lumbar 3D viewer:", err);
    const text = err?.isLoadError ? st.latest.loadErrorText : st.latest.renderErrorText;
    showMessage(st, text + " (" + (err?.message ?? err) + ")");
  } finally {
    st.busy = false;
  }
}

function teardownIfRemoved(wrap) {
  // Called when Streamlit unmounts the component, but also when a stale call is cancelled while
  // the element lives on; only purge once the node has really left the document.
  setTimeout(() => {
    const st = wrap.__lumbar3d;
    if (!st || wrap.isConnected) return;
    // The camera keeps easing for a few frames after the last plotly_relayout: store the
    // final one for a later remount (same key) before the scene is destroyed.
    if (st.plotted) {
      try { rememberCamera(st); } catch (e) { /* scene already gone */ }
    }
    clearTimeout(st.cameraTimer);
    clearTimeout(st.retryTimer);
    st.resizeObserver?.disconnect();
    st.removeWindowListeners?.();
    if (window.Plotly && st.plotted) window.Plotly.purge(st.gd);  // frees the WebGL context
    wrap.__lumbar3d = null;
  }, 0);
}

export default function (component) {
  const { data, setStateValue, setTriggerValue, parentElement } = component;
  // Python wraps the payload in a one-element list (see the module docstring).
  const d = Array.isArray(data) ? data[0] : data;
  if (!d) return;
  storeGeometry(d.geometry);  // every payload's blobs, even one superseded before it is drawn
  let wrap = parentElement.querySelector(":scope > .lumbar-3d-wrap");
  if (!wrap || !wrap.__lumbar3d) {
    wrap?.remove();
    wrap = document.createElement("div");
    wrap.className = "lumbar-3d-wrap";
    const gd = document.createElement("div");
    gd.className = "lumbar-3d";
    gd.id = "lumbar-3d-" + String(d.key).replace(/[^A-Za-z0-9_-]/g, "_");
    gd.setAttribute("data-testid", "lumbar-3d");
    gd.setAttribute("role", "figure");  // not "img": it holds focusable modebar buttons
    const msg = document.createElement("p");
    msg.className = "lumbar-3d-fallback";
    msg.setAttribute("role", "status");
    msg.hidden = true;
    wrap.append(gd, msg);
    parentElement.appendChild(wrap);
    wrap.__lumbar3d = { wrap, gd, msg, plotted: false, busy: false, dirty: false };
  }
  const st = wrap.__lumbar3d;
  st.api = { setStateValue, setTriggerValue };
  st.latest = d;
  st.dirty = true;
  st.gd.style.height = d.height + "px";
  st.gd.setAttribute("aria-label", d.ariaLabel);
  if (!hasWebGL()) {
    showMessage(st, d.fallbackText);
  } else {
    pump(st);
  }
  return () => teardownIfRemoved(wrap);
}
"""



def compact_js(source: str) -> str:
    """Drop comment-only lines and indentation: CCv2 sends the script with every rerun."""
    lines = (line.strip() for line in source.splitlines())
    return "\n".join(line for line in lines if line and not line.startswith("//"))


_JS_RENDERED = compact_js(
    PLOTLY_LOADER_JS
    + _JS.replace("__TOL__", str(CLICK_TOLERANCE_PX))
    .replace("__DEBOUNCE__", str(CAMERA_REPORT_DEBOUNCE_MS))
    .replace("__CACHE_LIMIT__", str(BROWSER_CACHE_LIMIT_BYTES))
    .replace("__GEOMETRY_REF__", GEOMETRY_REF_KEY)
)

# Registered once per process; CCv2 re-registers it on the active runtime when needed.
_viewer_component = st.components.v2.component(
    COMPONENT_NAME, css=_CSS, js=_JS_RENDERED, isolate_styles=False
)

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
        "Drag to rotate, scroll to zoom, click a structure to select it."
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
        "config": PLOTLY_CONFIG,
        "reportCamera": bool(report_camera),
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

"""What Python sends to the 3D viewer: mesh geometry once per browser, styling every rerun.

The baked meshes never change between reruns, only their styling does (colour, opacity,
visibility, the per-vertex compression highlight) plus the small lesion mesh. So a scene figure
is split (:func:`split_figure`) into

- **geometry**: each mesh's ``x, y, z, i, j, k`` packed into one binary blob (float32 points,
  uint16/uint32 triangles) and keyed by a hash of its content (:class:`GeometryBlob`); on the
  wire it travels quantised and delta coded (:meth:`GeometryBlob.wire`) inside a binary frame
  (:func:`encode_frame`), and
- **style**: the traces without those arrays (each names its blob in ``geometryRef``), with
  per-vertex ``intensity`` quantised to uint8 (:func:`quantise_intensity`), and the layout.

The browser puts them back together (``explorer/frontend/geometry.js``; tested by
``node --test tests/js`` on a fixture written by tests/test_viewer3d.py).
"""

from __future__ import annotations

import base64
import hashlib
import json
import struct
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np

from explorer.render.memo import Memo

if TYPE_CHECKING:
    from plotly.graph_objects import Figure

# Trace key naming a geometry blob in the style payload (removed before plotly sees the trace).
GEOMETRY_REF_KEY: str = "geometryRef"
GEOMETRY_KEYS: tuple[str, ...] = ("x", "y", "z", "i", "j", "k")
_UINT16_LIMIT: int = 65_536
_HASH_BYTES: int = 12
# Vertex coordinates on the wire: 16-bit steps across each mesh's own extent (GeometryBlob.wire).
_QUANT_STEPS: int = 65_535
WIRE_ENCODING: str = "q16z"
# A binary frame for a component (encode_frame / geometry.js componentData).
FRAME_MAGIC: bytes = b"LMB1"


def delta_planes(values: Any, width: int) -> bytes:
    """``values`` (non-negative integers below ``2 ** (8 * width)``) delta coded: each minus the one
    before, wrapped to ``8 * width`` bits, zigzag signed (0, -1, 1, -2 ... -> 0, 1, 2, 3 ...), and
    written as byte planes (every value's lowest byte, then every second byte, ...).
    ``geometry.js`` ``undeltaPlanes`` undoes it."""
    bits = 8 * width
    v = np.asarray(values, dtype=np.int64).ravel()
    d = np.diff(v, prepend=0) & ((1 << bits) - 1)
    d = np.where(d >= 1 << (bits - 1), d - (1 << bits), d)  # the wrapped delta as a signed number
    z = ((d << 1) ^ (d >> (bits - 1))) & ((1 << bits) - 1)
    return np.ascontiguousarray(z.astype("<u" + str(width)).view(np.uint8).reshape(-1, width).T).tobytes()


def undelta_planes(body: bytes, offset: int, count: int, width: int) -> np.ndarray:
    """Inverse of :func:`delta_planes` (tests and tools; the browser's copy is in geometry.js)."""
    bits = 8 * width
    planes = np.frombuffer(body, dtype=np.uint8, count=count * width, offset=offset).reshape(width, count)
    z = np.zeros(count, dtype=np.int64)
    for b in range(width):
        z |= planes[b].astype(np.int64) << (8 * b)
    d = (z >> 1) ^ -(z & 1)
    return np.cumsum(d) & ((1 << bits) - 1)


def decode_wire(spec: Mapping[str, Any], body: bytes) -> dict[str, np.ndarray]:
    """``x, y, z`` (float32, as the browser computes them) and ``i, j, k`` from
    :meth:`GeometryBlob.wire` (tests and tools; the browser decodes with geometry.js)."""
    n, m = int(spec["n"]), int(spec["m"])
    w = 4 if spec["idx"] == "u4" else 2
    out: dict[str, np.ndarray] = {}
    for c, a in enumerate("xyz"):
        q = undelta_planes(body, 2 * n * c, n, 2)
        out[a] = (float(spec["lo"][c]) + q * float(spec["step"][c])).astype(np.float32)
    for c, a in enumerate("ijk"):
        out[a] = undelta_planes(body, 6 * n + w * m * c, m, w)
    return out


def encode_frame(obj: Mapping[str, Any] | str, blobs: Sequence[bytes] = ()) -> bytes:
    """A component's data as one binary frame: ``b"LMB1"``, the JSON's length (uint32, little-endian),
    the JSON (UTF-8), zero padding to a multiple of 8, then ``blobs`` one after the other.

    Why bytes: Streamlit passes ``bytes`` to the browser as they are, while a list or dict is
    ``json.dumps``-ed twice per rerun (once to send, once for the element's identity) and binary
    geometry would have to be base64 text. The JSON says where each blob is (``off``, ``len``
    relative to the binary section: :func:`frame_blobs`); ``geometry.js`` ``componentData``
    reads the frame.

    Parameters
    ----------
    obj : mapping or str
        The data (plain JSON values), or its JSON text already encoded.
    blobs : sequence of bytes
        Binary parts, in the order their offsets were given.
    """
    text = obj if isinstance(obj, str) else json.dumps(obj, separators=(",", ":"), ensure_ascii=False)
    head = text.encode("utf-8")
    pad = -(8 + len(head)) % 8
    return b"".join([FRAME_MAGIC, struct.pack("<I", len(head)), head, b"\0" * pad, *blobs])


def join_json(fixed: str, variable: Mapping[str, Any]) -> str:
    """JSON text of one object from ``fixed`` (an object's JSON text, encoded once and reused) and
    ``variable`` (encoded now); a key in both is taken from ``variable``."""
    inner = fixed.strip()[1:-1].strip()
    rest = json.dumps(dict(variable), separators=(",", ":"), ensure_ascii=False)[1:-1]
    return "{" + ",".join(p for p in (inner, rest) if p) + "}"


def frame_blobs(blobs: Iterable[GeometryBlob]) -> tuple[dict[str, dict[str, Any]], list[bytes]]:
    """The geometry specs (by blob key, with ``off``/``len`` in the frame's binary section) and the
    bodies to append, for :func:`encode_frame`."""
    specs: dict[str, dict[str, Any]] = {}
    bodies: list[bytes] = []
    off = 0
    for blob in blobs:
        spec, body = blob.wire
        specs[blob.key] = {**spec, "off": off, "len": len(body)}
        bodies.append(body)
        off += len(body)
    return specs, bodies


def decode_frame(frame: bytes) -> tuple[Any, bytes]:
    """``(JSON value, binary section)`` of :func:`encode_frame`'s output (tests and tools)."""
    if frame[:4] != FRAME_MAGIC or len(frame) < 8:
        raise ValueError("not a component frame")
    (n,) = struct.unpack_from("<I", frame, 4)
    start = 8 + n + (-(8 + n) % 8)
    return json.loads(frame[8:8 + n].decode("utf-8")), frame[start:]


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
        """JSON-ready form (``b64`` is base64 of ``data``): the earlier wire form, still decoded by
        ``geometry.js``; the viewer now sends :meth:`wire` in a binary frame."""
        return {"n": self.n_vertices, "m": self.n_faces, "idx": self.index_dtype, "b64": self._b64}

    @cached_property
    def wire(self) -> tuple[dict[str, Any], bytes]:
        """The blob as the viewer sends it: ``(spec, body)``, coded once per blob (shared by every
        session). ``spec`` is ``{"n", "m", "idx", "enc": "q16z", "lo": [x, y, z], "step": [x, y, z]}``
        (plus ``off``/``len`` in the frame, :func:`encode_frame`); ``body`` is the bytes.

        Why: the model's 33k vertices and 66k triangles were 1.06 MB of base64 (0.64 MB after the
        websocket's deflate) on every first load. Each coordinate becomes a 16-bit step in the
        mesh's own box (``step = span / 65535``: under 0.005 mm here, far below a pixel at the
        closest zoom); each array is delta coded with zigzag signs and stored as byte planes, so
        the high bytes are mostly zero and deflate shrinks them to almost nothing: 0.31 MB on the
        wire for the whole model, measured with zlib level 6 as permessage-deflate uses.
        ``geometry.js`` (``decodeBlob``) decodes it; :func:`decode_wire` is the same in Python.
        """
        n, m, w = self.n_vertices, self.n_faces, 2 if self.index_dtype == "u2" else 4
        pts = np.frombuffer(self.data, dtype="<f4", count=3 * n).reshape(3, n).astype(np.float64)
        lo = pts.min(axis=1) if n else np.zeros(3)
        span = (pts.max(axis=1) - lo) if n else np.zeros(3)
        step = np.where(span > 0, span / float(_QUANT_STEPS), 0.0)
        safe = np.where(step > 0, step, 1.0)
        q = np.where(step[:, None] > 0, np.rint((pts - lo[:, None]) / safe[:, None]), 0).astype(np.int64)
        idx = np.frombuffer(self.data, dtype="<" + self.index_dtype, count=3 * m, offset=12 * n).reshape(3, m)
        body = b"".join([*(delta_planes(a, 2) for a in q), *(delta_planes(a.astype(np.int64), w) for a in idx)])
        spec = {"n": n, "m": m, "idx": self.index_dtype, "enc": WIRE_ENCODING,
                "lo": [float(v) for v in lo], "step": [float(v) for v in step]}
        return spec, body

    @cached_property
    def _b64(self) -> str:
        # Encoded once per blob (blobs are shared by every session that is sent them).
        return base64.b64encode(self.data).decode("ascii")


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
    keys, digests : tuple of str
        Each trace's key (:func:`trace_keys`) and the digest of its JSON, in order; with
        ``layout_digest``, what :func:`scene_delta` compares (computed once per payload when the
        payload is shared between sessions; empty: computed on use).
    layout_digest : str
        Digest of the layout's JSON.
    """

    scene: dict[str, Any]
    scene_hash: str
    geometry: dict[str, GeometryBlob] = field(default_factory=dict)
    keys: tuple[str, ...] = ()
    digests: tuple[str, ...] = ()
    layout_digest: str = ""

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


def json_ready(obj: Any) -> Any:
    """Plain JSON values only (numpy scalars and leftover arrays become what plotly.js reads)."""
    try:  # plotly's own converter: numpy arrays -> {"dtype", "bdata"} typed-array specs
        from _plotly_utils.utils import convert_to_base64  # noqa: PLC2701 - plotly has no public converter
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
    scene = json_ready({"data": traces, "layout": figure.layout.to_plotly_json()})
    text = json.dumps(scene, sort_keys=True, separators=(",", ":"))
    return ScenePayload(scene=scene, scene_hash=_digest(text.encode()), geometry=geometry)


# --------------------------------------------------------------------------- per-trace deltas
def trace_key(trace: Mapping[str, Any], index: int) -> str:
    """A trace's identity across reruns: its ``uid``, else its ``meta``, else its position."""
    for name in ("uid", "meta"):
        value = trace.get(name)
        if isinstance(value, str | int) and not isinstance(value, bool) and str(value):
            return f"{name}:{value}"
    return f"index:{index}"


def _text_digest(value: Any) -> str:
    return _digest(json.dumps(value, sort_keys=True, separators=(",", ":")).encode())


def text_digest(value: Any) -> str:
    """Digest of a JSON value (key order does not matter): equal JSON, equal digest."""
    return _text_digest(value)


def trace_keys(data: Sequence[Mapping[str, Any]]) -> list[str]:
    """Each trace's key (:func:`trace_key`), made unique (two traces sharing a uid stay apart)."""
    keys: list[str] = []
    for n, t in enumerate(data):
        k = trace_key(t, n)
        keys.append(k if k not in keys else f"{k}#{n}")
    return keys


def combined_hash(layout_digest: str, keys: Sequence[str], digests: Sequence[str]) -> str:
    """The hash of a whole scene from its parts' digests (what the browser checks ``base`` against)."""
    return _digest("|".join([layout_digest, *(f"{k}={d}" for k, d in zip(keys, digests, strict=True))]).encode())


@dataclass
class DeltaLedger:
    """What one browser was last sent for one component: the scene's hash and each part.

    Attributes
    ----------
    base : str or None
        Hash of the last scene sent (``None``: nothing sent yet, or the browser asked again).
    traces : dict of str to str
        Trace key (:func:`trace_key`) -> digest of the trace as sent.
    layout : str or None
        Digest of the layout as sent.
    sent : dict of str to dict
        Trace key -> the trace as sent (what a patch is computed against; shared objects, never
        mutated).
    sent_layout : dict or None
        The layout as sent.
    keys : list of str
        The trace keys as sent, in order.
    """

    base: str | None = None
    traces: dict[str, str] = field(default_factory=dict)
    layout: str | None = None
    sent: dict[str, Mapping[str, Any]] = field(default_factory=dict)
    sent_layout: Mapping[str, Any] | None = None
    keys: list[str] = field(default_factory=list)

    def forget(self) -> None:
        """The browser lost its copy: the next message is complete."""
        self.base, self.traces, self.layout, self.sent, self.sent_layout, self.keys = None, {}, None, {}, None, []


# A nested dict is patched field by field down to this depth; deeper, changed values are sent whole.
PATCH_DEPTH: int = 3


def json_patch(old: Mapping[str, Any], new: Mapping[str, Any], depth: int = PATCH_DEPTH) -> dict[str, Any]:
    """What turns ``old`` into ``new`` (plain JSON objects): ``{"set": {field: value}, "unset": [field],
    "sub": {field: patch}}``, each part only when needed (``{}``: equal).

    Lists and other values are replaced whole (``set``); a field holding an object in both is
    patched in turn (``sub``) up to ``depth`` levels. Applied by ``explorer/frontend/delta.js``
    (``applyPatch``), which builds new objects along the patched paths and shares the rest.
    """
    out: dict[str, Any] = {}
    set_: dict[str, Any] = {}
    sub: dict[str, Any] = {}
    for k, v in new.items():
        if k not in old:
            set_[k] = v
            continue
        was = old[k]
        if was is v or was == v:
            continue
        if depth > 1 and isinstance(was, Mapping) and isinstance(v, Mapping):
            inner = json_patch(was, v, depth - 1)
            if inner:
                sub[k] = inner
            continue
        set_[k] = v
    unset = [k for k in old if k not in new]
    if set_:
        out["set"] = set_
    if unset:
        out["unset"] = unset
    if sub:
        out["sub"] = sub
    return out


def key_runs(keys: Sequence[str], base: Sequence[str]) -> list[str | list[int]]:
    """``keys`` written against the order the browser has (``base``): ``[i, n]`` stands for the
    ``n`` keys ``base[i:i + n]``, a string for a key not in that run (``expandKeyRuns`` in
    delta.js). A chart that gains one outline sends one key and two runs, not 80 keys."""
    where = {k: i for i, k in enumerate(base)}
    out: list[str | list[int]] = []
    for k in keys:
        i = where.get(k)
        last = out[-1] if out else None
        if i is not None and isinstance(last, list) and last[0] + last[1] == i:
            last[1] += 1
        elif i is not None:
            out.append([i, 1])
        else:
            out.append(k)
    return out


def _json_size(value: Any) -> int:
    return len(json.dumps(value, separators=(",", ":")))


def scene_delta(scene: Mapping[str, Any], ledger: DeltaLedger,
                parts: tuple[Sequence[str], Sequence[str], str] | None = None) -> dict[str, Any]:
    """Only what changed in ``scene`` since the scene ``ledger`` says this browser has.

    Parameters
    ----------
    scene : mapping
        ``{"data": [trace, ...], "layout": {...}}`` of plain JSON values.
    ledger : DeltaLedger
        Updated to ``scene`` (the caller sends the returned message).
    parts : (keys, digests, layout digest), optional
        Precomputed for ``scene`` (:class:`ScenePayload` ``keys``, ``digests``, ``layout_digest``):
        a scene shared by many sessions is digested once, not once per session and rerun.

    Returns
    -------
    dict
        ``{"hash", "base", "keys"?, "keyRuns"?, "traces", "patches"?, "layout"?, "layoutPatch"?}``.
        ``base`` is the hash of the scene this message builds on (``None``: complete). ``keys``
        names every trace in order in a complete message; later, a new order comes as ``keyRuns``
        (:func:`key_runs`), and none when the order is the one ``base`` had; ``traces`` holds new
        traces whole, by key; ``patches`` the changed fields of traces the browser has
        (:func:`json_patch`: a highlight, an opacity, a hover text, not the mesh or the outline
        again); ``layout`` or ``layoutPatch`` is there when the layout changed. The browser
        (``explorer/frontend/delta.js``, ``applyDelta``) keeps the rest from the scene it has, and
        asks for a complete one when its scene is not ``base``.
    """
    data = list(scene.get("data") or [])
    layout = scene.get("layout") or {}
    if parts is not None and len(parts[0]) == len(data):
        keys, digest_list, layout_digest = list(parts[0]), list(parts[1]), parts[2]
    else:
        keys = trace_keys(data)
        digest_list = [_text_digest(t) for t in data]
        layout_digest = _text_digest(layout)
    digests = dict(zip(keys, digest_list, strict=True))
    scene_hash = combined_hash(layout_digest, keys, digest_list)
    complete = ledger.base is None
    message: dict[str, Any] = {"hash": scene_hash, "base": ledger.base}
    if complete:
        message["keys"] = keys
    elif keys != ledger.keys:
        message["keyRuns"] = key_runs(keys, ledger.keys)
    traces: dict[str, Any] = {}
    patches: dict[str, Any] = {}
    for k, t in zip(keys, data, strict=True):
        if not complete and ledger.traces.get(k) == digests[k]:
            continue
        old = None if complete else ledger.sent.get(k)
        patch = _patch(old, t) if old is not None else None
        if patch is not None:
            patches[k] = patch
        else:
            traces[k] = t
    message["traces"] = traces
    if patches:
        message["patches"] = patches
    if complete or layout_digest != ledger.layout:
        patch = _patch(ledger.sent_layout, layout) if not complete and ledger.sent_layout is not None else None
        if patch is not None:
            message["layoutPatch"] = patch
        else:
            message["layout"] = layout
    ledger.base, ledger.traces, ledger.layout = scene_hash, digests, layout_digest
    ledger.sent = dict(zip(keys, data, strict=True))
    ledger.sent_layout, ledger.keys = layout, keys
    return message


# Patches between two shared objects (a trace in one state and in the next), computed once.
_PATCHES: Memo[tuple[Mapping[str, Any], Mapping[str, Any], dict[str, Any] | None]] = Memo(8192)


def _patch(old: Mapping[str, Any], new: Mapping[str, Any]) -> dict[str, Any] | None:
    """The patch from ``old`` to ``new``, or ``None`` when sending ``new`` whole is as small.

    Remembered per pair of objects (the objects are kept with the entry, so ids are not reused):
    the scenes and charts are shared between sessions, so many sessions send the same patches.
    """
    key = (id(old), id(new))
    hit = _PATCHES.get(key)
    if hit is not None and hit[0] is old and hit[1] is new:
        return hit[2]
    patch: dict[str, Any] | None = json_patch(old, new)
    if _json_size(patch) >= _json_size(new):
        patch = None
    _PATCHES.put(key, (old, new, patch))
    return patch


def payload_delta(payload: ScenePayload, ledger: DeltaLedger) -> dict[str, Any]:
    """:func:`scene_delta` of a payload's scene, with its precomputed digests when it has them."""
    parts = (payload.keys, payload.digests, payload.layout_digest) if payload.keys else None
    return scene_delta(payload.scene, ledger, parts)

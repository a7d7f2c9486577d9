"""Build the 3D Plotly figure of the spine scene (one ``Mesh3d`` trace per structure).

The figure is drawn in the browser by :mod:`explorer.ui.viewer3d`, which keeps the person's
camera across reruns and sends each mesh's geometry only once per browser session (it splits
the figure into cached geometry and per-rerun styling; the figure itself stays a plain, complete
Plotly figure). Vertices are float32 and triangle indices uint16 (uint32 for big meshes): Plotly
7 serialises such numpy arrays as base64 typed arrays (``{"dtype": "f4", "bdata": ...}``),
about 4 bytes per coordinate instead of ~10 characters of decimal text.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.metadata
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import plotly
import plotly.graph_objects as go
import plotly.io as pio
from numpy.typing import NDArray

from explorer.frontend.transport import (
    GEOMETRY_REF_KEY,
    GeometryBlob,
    ScenePayload,
    combined_hash,
    json_ready,
    pack_geometry,
    quantise_intensity,
    text_digest,
    trace_keys,
)
from explorer.render.memo import Memo
from explorer.settings import (
    CAMERA_PRESETS,
    DEFAULT_VIEW,
    HIGHLIGHT_COLOR,
    LIGHT_POSITION,
    LIGHTING,
    SCENE_BACKGROUND,
)

# A constant ``uirevision`` tells Plotly the figure is "the same view" on every update, so
# user-driven UI state (camera, hover mode) is not reset by ``Plotly.react``.
UIREVISION: str = "lumbar-scene"

# Appended to the trace uid of intensity-coloured items (see trace_uid).
INTENSITY_UID_SUFFIX: str = "~intensity"

# Above this many vertices, uint16 face indices would overflow.
_UINT16_LIMIT: int = 65_536

_HIDDEN_AXIS: dict[str, Any] = {
    "visible": False,
    "showbackground": False,
    "showgrid": False,
    "zeroline": False,
    "showticklabels": False,
    "showspikes": False,
    "title": {"text": ""},
}


@dataclass(frozen=True, eq=False)
class SceneItem:
    """One structure to draw.

    ``eq=False``: items hold numpy arrays, for which ``==`` is element-wise, so equality is
    identity (hashing still works, by ``id()``).

    Attributes
    ----------
    id : str
        Stable structure id (``vertebra-L4``); becomes the trace ``meta`` (and ``uid``, see
        :func:`trace_uid`) so the browser can report which structure was clicked.
    name : str
        Human-readable name; becomes the trace ``name``.
    vertices : numpy.ndarray
        Float array, shape (N, 3), in millimetres.
    faces : numpy.ndarray
        Integer array, shape (M, 3), of vertex indices (triangles).
    color : str
        Hex colour, e.g. ``"#E9DFC8"``.
    opacity : float
        0 (invisible) to 1 (solid).
    visible : bool
        Hidden items are left out of the figure entirely (smaller payload).
    hover : str
        Hover label; defaults to ``name`` when empty. Trusted text: Plotly renders a small
        HTML subset (``<br>``, ``<b>``).
    intensity : numpy.ndarray or None
        Optional per-vertex values in 0..1 (shape (N,)) for highlighting: 0 shows ``color``,
        1 shows :data:`HIGHLIGHT_COLOR` (or the ends of ``colorscale``). ``None`` draws a flat colour.
    colorscale : tuple of (float, str) or None
        Colour scale for ``intensity`` (``None``: from ``color`` to :data:`HIGHLIGHT_COLOR`).
    colorbar : mapping or None
        Plotly ``colorbar`` to show as the legend of this item's colour scale (one item is enough).
    highlightable : bool
        The structure may be lit in another state (a nerve, the dural sac). Its trace then always
        carries a per-vertex ``intensity`` (zeros while ``intensity`` is ``None``, drawn in
        ``color``), so its ``uid`` and its WebGL mesh stay the same whether it is lit or not and
        a change of state updates only its highlight values (see :func:`trace_uid`).
    """

    id: str
    name: str
    vertices: NDArray[np.floating[Any]]
    faces: NDArray[np.integer[Any]]
    color: str
    opacity: float = 1.0
    visible: bool = True
    hover: str = ""
    intensity: NDArray[np.floating[Any]] | None = None
    colorscale: tuple[tuple[float, str], ...] | None = None
    colorbar: Mapping[str, Any] | None = None
    highlightable: bool = False


def compact_vertices(vertices: NDArray[Any]) -> NDArray[np.float32]:
    """Return an (N, 3) float32 copy of ``vertices``.

    Parameters
    ----------
    vertices : numpy.ndarray
        Array of shape (N, 3).

    Returns
    -------
    numpy.ndarray
        Contiguous float32 array (sub-micrometre precision is plenty for millimetre anatomy).
    """
    arr = np.ascontiguousarray(vertices, dtype=np.float32)
    if arr.ndim != 2 or arr.shape[1] != 3:
        raise ValueError(f"vertices must have shape (N, 3), got {arr.shape}")
    return arr


def compact_faces(faces: NDArray[Any], n_vertices: int) -> NDArray[np.unsignedinteger[Any]]:
    """Return the (M, 3) triangle indices as uint16, or uint32 for large meshes.

    Parameters
    ----------
    faces : numpy.ndarray
        Integer array of shape (M, 3).
    n_vertices : int
        Number of vertices the indices refer to.

    Returns
    -------
    numpy.ndarray
        uint16 when ``n_vertices < 65536``, else uint32.
    """
    arr = np.asarray(faces)
    if arr.ndim != 2 or arr.shape[1] != 3:
        raise ValueError(f"faces must have shape (M, 3), got {arr.shape}")
    if arr.size and (arr.min() < 0 or arr.max() >= n_vertices):
        raise ValueError("face index out of range")
    dtype = np.uint16 if n_vertices < _UINT16_LIMIT else np.uint32
    return arr.astype(dtype, copy=False)


def highlight_colorscale(color: str) -> list[list[float | str]]:
    """Colorscale from the item's own colour (0) to :data:`HIGHLIGHT_COLOR` (1).

    Parameters
    ----------
    color : str
        The item's base hex colour.

    Returns
    -------
    list
        Plotly colorscale ``[[0, color], [1, HIGHLIGHT_COLOR]]``.
    """
    return [[0.0, color], [1.0, HIGHLIGHT_COLOR]]


def trace_uid(item: SceneItem) -> str:
    """Plotly ``uid`` of an item's trace: the structure id, suffixed when intensity-coloured.

    plotly.js 4.1 does not reset a WebGL mesh's colormap when ``Plotly.react`` switches a trace
    from ``intensity`` to a flat ``color`` (the mesh is drawn in a wrong colour). A different
    ``uid`` makes Plotly drop the old WebGL mesh and build a new one. A ``highlightable`` item is
    always intensity-coloured (zeros when not lit), so its uid never changes: the browser keeps
    its WebGL buffers and only the highlight values change. Read the structure id from ``meta``,
    which is always the plain id.

    Parameters
    ----------
    item : SceneItem
        The structure.

    Returns
    -------
    str
        ``item.id``, or ``item.id + INTENSITY_UID_SUFFIX`` when ``item.intensity`` is given.
    """
    return item.id if item.intensity is None and not item.highlightable else item.id + INTENSITY_UID_SUFFIX


def mesh_trace(item: SceneItem) -> go.Mesh3d:
    """Build the ``Mesh3d`` trace for one item.

    Parameters
    ----------
    item : SceneItem
        The structure to draw.

    Returns
    -------
    plotly.graph_objects.Mesh3d
        Trace with ``name`` = structure name, ``meta`` = structure id, ``uid`` from
        :func:`trace_uid`.
    """
    return go.Mesh3d(_mesh_spec(item))


def _mesh_spec(item: SceneItem) -> dict[str, Any]:
    # A plain dict: go.Figure validates (and copies) each trace's arrays once; passing
    # go.Mesh3d objects would validate twice (~2 ms per trace).
    verts = compact_vertices(item.vertices)
    faces = compact_faces(item.faces, len(verts))
    # Columns of a C-ordered array are strided; copy so each serialises as one compact buffer.
    x, y, z = (np.ascontiguousarray(verts[:, c]) for c in range(3))
    i, j, k = (np.ascontiguousarray(faces[:, c]) for c in range(3))
    hover = item.hover or item.name
    colour: dict[str, Any]
    if item.intensity is None and not item.highlightable:
        colour = {"color": item.color}
    else:
        # Not lit but highlightable: zeros, the colour scale's first stop (the item's own colour).
        values = item.intensity if item.intensity is not None else np.zeros(len(verts), dtype=np.float32)
        intensity = np.clip(np.ascontiguousarray(values, dtype=np.float32), 0.0, 1.0)
        if intensity.shape != (len(verts),):
            raise ValueError(f"intensity must have shape ({len(verts)},), got {intensity.shape}")
        scale = [list(stop) for stop in item.colorscale] if item.colorscale else highlight_colorscale(item.color)
        colour = {
            "intensity": intensity,
            "intensitymode": "vertex",
            "colorscale": scale,
            "cmin": 0.0,
            "cmax": 1.0,
        }
        if item.colorbar is not None:
            colour["colorbar"] = dict(item.colorbar)
    return dict(
        type="mesh3d",
        x=x,
        y=y,
        z=z,
        i=i,
        j=j,
        k=k,
        name=item.name,
        uid=trace_uid(item),
        meta=item.id,
        opacity=float(item.opacity),
        flatshading=False,
        lighting=dict(LIGHTING),
        lightposition=dict(LIGHT_POSITION),
        # "<extra></extra>" drops the secondary box (trace name); no coordinates shown.
        hovertemplate=f"{hover}<extra></extra>",
        showlegend=False,
        showscale=item.colorbar is not None and item.intensity is not None,
        **colour,
    )


def _style_spec(item: SceneItem, n_vertices: int) -> dict[str, Any]:
    """The trace of :func:`_mesh_spec` without its geometry, as plain JSON (what plotly's
    validation and ``to_plotly_json`` make of it; the tests compare both ways)."""
    hover = item.hover or item.name
    spec: dict[str, Any] = {}
    if item.intensity is None and not item.highlightable:
        spec["color"] = item.color
    else:
        values = item.intensity if item.intensity is not None else np.zeros(n_vertices, dtype=np.float32)
        intensity = np.clip(np.ascontiguousarray(values, dtype=np.float32), 0.0, 1.0)
        if intensity.shape != (n_vertices,):
            raise ValueError(f"intensity must have shape ({n_vertices},), got {intensity.shape}")
        scale = [list(stop) for stop in item.colorscale] if item.colorscale else highlight_colorscale(item.color)
        spec.update(intensity=quantise_intensity(intensity), intensitymode="vertex", colorscale=scale,
                    cmin=0.0, cmax=1.0)
        if item.colorbar is not None:
            spec["colorbar"] = dict(item.colorbar)
    spec.update(type="mesh3d", name=item.name, uid=trace_uid(item), meta=item.id, opacity=float(item.opacity),
                flatshading=False, lighting=dict(LIGHTING), lightposition=dict(LIGHT_POSITION),
                hovertemplate=f"{hover}<extra></extra>", showlegend=False,
                showscale=item.colorbar is not None and item.intensity is not None)
    return json.loads(json.dumps(spec, default=_plain_number))


def _plain_number(value: Any) -> Any:
    """JSON for numpy scalars and arrays (as ``json_ready`` would give them)."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"not JSON: {type(value).__name__}")


# Shared by every session (never mutate what they hold). The baked model's arrays never change,
# so its blobs are packed once per process; traces and layouts are keyed by everything they show.
_BLOBS: Memo[tuple[NDArray[Any], NDArray[Any], GeometryBlob]] = Memo(1024)
_TRACES: Memo[tuple[dict[str, Any], str]] = Memo(4096)
_LAYOUTS: Memo[tuple[dict[str, Any], str]] = Memo(256)


def _blob(item: SceneItem) -> GeometryBlob:
    """The item's packed geometry, remembered per vertex and face array (by identity: the arrays
    are kept with the blob, so an id is never reused while its entry lives)."""
    key = (id(item.vertices), id(item.faces))
    hit = _BLOBS.get(key)
    if hit is not None and hit[0] is item.vertices and hit[1] is item.faces:
        return hit[2]
    verts = compact_vertices(item.vertices)
    faces = compact_faces(item.faces, len(verts))
    blob = pack_geometry(verts[:, 0], verts[:, 1], verts[:, 2], faces[:, 0], faces[:, 1], faces[:, 2])
    _BLOBS.put(key, (item.vertices, item.faces, blob))
    return blob


def _array_digest(values: NDArray[Any] | None) -> str | None:
    if values is None:
        return None
    arr = np.ascontiguousarray(values, dtype=np.float32)
    return hashlib.blake2b(arr.tobytes(), digest_size=12).hexdigest() + str(arr.shape)


def _trace(item: SceneItem) -> tuple[dict[str, Any], str, GeometryBlob]:
    """The item's trace as the browser gets it (style + ``geometryRef``), its digest and its blob."""
    blob = _blob(item)
    key = (item.id, item.name, item.color, float(item.opacity), item.hover, item.highlightable,
           _array_digest(item.intensity), item.colorscale,
           json.dumps(item.colorbar, sort_keys=True, default=_plain_number) if item.colorbar is not None else None,
           blob.key)

    def make() -> tuple[dict[str, Any], str]:
        trace = _style_spec(item, blob.n_vertices)
        trace[GEOMETRY_REF_KEY] = blob.key
        return trace, text_digest(trace)
    trace, digest = _TRACES.get_or_make(key, make)
    return trace, digest, blob


def _layout(camera: Mapping[str, Any] | None, height_px: int, title: str | None, box: Sequence[float] | None,
            annotations: Sequence[Mapping[str, Any]]) -> tuple[dict[str, Any], str]:
    """The scene's layout as plain JSON (validated by plotly once per distinct layout) and its digest."""
    box_list = [float(v) for v in box] if box is not None else None
    key = json.dumps([camera, int(height_px), title, box_list, list(annotations)], sort_keys=True,
                     default=_plain_number)

    def make() -> tuple[dict[str, Any], str]:
        # Plain JSON without plotly's validation (about 60 ms per new camera or label set, i.e. per
        # state no session has seen); tests/test_model_scene.py checks it equals the validated layout.
        layout = json_ready(_layout_spec(camera, height_px, title, box_list, annotations))
        return layout, text_digest(layout)
    return _LAYOUTS.get_or_make(key, make)


def build_scene_payload(
    items: Sequence[SceneItem],
    camera: Mapping[str, Any] | None,
    height_px: int = 720,
    title: str | None = None,
    box: Sequence[float] | None = None,
    annotations: Sequence[Mapping[str, Any]] = (),
) -> ScenePayload:
    """The scene of :func:`build_scene_figure`, split for the browser as
    :func:`explorer.frontend.transport.split_figure` splits that figure, without building it.

    Why: validating a 40-trace ``go.Figure`` (and copying its arrays) was about 85 ms of server
    CPU per rerun, splitting and digesting it another 20 ms (issue 14). Here each mesh is packed
    once per process, each trace's JSON is built once per look (colour, opacity, highlight,
    hover) and the layout once per camera and labels; the tests check that the result equals the
    split figure. Arguments as for :func:`build_scene_figure`.
    """
    built = [_trace(item) for item in items if item.visible]
    data = [t for t, _, _ in built]
    layout, layout_digest = _layout(camera, height_px, title, box, annotations)
    keys = trace_keys(data)
    digests = [d for _, d, _ in built]
    geometry = {blob.key: blob for _, _, blob in built}
    return ScenePayload(scene={"data": data, "layout": layout},
                        scene_hash=combined_hash(layout_digest, keys, digests), geometry=geometry,
                        keys=tuple(keys), digests=tuple(digests), layout_digest=layout_digest)


def build_scene_figure(
    items: Sequence[SceneItem],
    camera: Mapping[str, Any] | None,
    height_px: int = 720,
    title: str | None = None,
    box: Sequence[float] | None = None,
    annotations: Sequence[Mapping[str, Any]] = (),
) -> go.Figure:
    """Build the 3D scene figure.

    Parameters
    ----------
    items : sequence of SceneItem
        Structures to draw, in drawing order. Items with ``visible=False`` are omitted (so they
        cost no bytes); note this shifts trace indices, so identify traces by ``uid``/``meta``.
    camera : mapping or None
        Plotly scene camera (``eye``, ``up``, optional ``center``/``projection``), e.g. a value
        of :data:`explorer.settings.CAMERA_PRESETS`. ``None`` uses the default view preset.
    height_px : int, default 720
        Figure height in pixels (the width follows the container).
    title : str or None
        Optional title drawn above the scene.
    box : sequence of 6 floats, optional
        Fixed scene extent (xmin, xmax, ymin, ymax, zmin, zmax) in mm. With it, hiding a layer
        does not rescale the scene (the view stays put) and camera centres are stable.
    annotations : sequence of mapping
        Plotly ``scene.annotations``: text anchored at 3D points (``x``, ``y``, ``z`` in mm).

    Returns
    -------
    plotly.graph_objects.Figure
        Dark-background scene with hidden axes, ``aspectmode="data"`` (true proportions) and a
        constant ``uirevision`` so camera changes made by the person survive updates.
    """
    traces = [_mesh_spec(item) for item in items if item.visible]
    return go.Figure(data=traces, layout=_layout_spec(camera, height_px, title, box, annotations))


@functools.cache
def _no_template_json() -> str:
    return json.dumps(pio.templates["none"].to_plotly_json())


def _no_template() -> dict[str, Any]:
    """Plotly's "none" template as the JSON plotly.py sends for it (it expands the name); a new
    dict each time (layouts are cached and shared)."""
    return dict(json.loads(_no_template_json()))


def _layout_spec(camera: Mapping[str, Any] | None, height_px: int, title: str | None,
                 box: Sequence[float] | None, annotations: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The scene's layout as a plain dict (arguments as for :func:`build_scene_figure`)."""
    cam = dict(camera) if camera is not None else dict(CAMERA_PRESETS[DEFAULT_VIEW])
    top = 48 if title else 0
    scene: dict[str, Any] = {
        "aspectmode": "data",
        "bgcolor": SCENE_BACKGROUND,
        "camera": cam,
        "dragmode": "turntable",  # keeps the spine's long axis upright while rotating
        "uirevision": UIREVISION,
        "xaxis": dict(_HIDDEN_AXIS),
        "yaxis": dict(_HIDDEN_AXIS),
        "zaxis": dict(_HIDDEN_AXIS),
        "annotations": [dict(a) for a in annotations],
    }
    if box is not None:
        lo, hi = np.asarray(box[0::2], dtype=float), np.asarray(box[1::2], dtype=float)
        ratio = _aspect_ratio(lo, hi)
        scene["aspectmode"] = "manual"
        scene["aspectratio"] = dict(zip("xyz", ratio.tolist(), strict=True))
        for n, axis in enumerate(("xaxis", "yaxis", "zaxis")):
            scene[axis]["range"] = [float(lo[n]), float(hi[n])]
    layout: dict[str, Any] = {
        # "none" instead of the default "plotly" template: the latter adds ~10 kB of JSON.
        "template": _no_template(),
        "height": int(height_px),
        "autosize": True,
        "margin": {"l": 0, "r": 0, "t": top, "b": 0, "pad": 0},
        "paper_bgcolor": SCENE_BACKGROUND,
        "plot_bgcolor": SCENE_BACKGROUND,
        "showlegend": False,
        "uirevision": UIREVISION,
        "hoverlabel": {"font": {"size": 16}},
        "scene": scene,
    }
    if title:
        layout["title"] = {"text": title, "font": {"color": "#F2F4F8", "size": 20}, "x": 0.02}
    return layout


def scene_point(point: Sequence[float], box: Sequence[float]) -> dict[str, float]:
    """A point (mm) in Plotly's normalised scene coordinates for a fixed ``box`` (camera centres)."""
    lo, hi = np.asarray(box[0::2], dtype=float), np.asarray(box[1::2], dtype=float)
    # Plotly's scene cube spans [-ratio/2, +ratio/2] on each axis around the box's middle.
    p = (np.asarray(point, dtype=float) - (lo + hi) / 2) / (hi - lo) * _aspect_ratio(lo, hi)
    return dict(zip("xyz", p.tolist(), strict=True))


def scene_to_mm(point: Mapping[str, float], box: Sequence[float]) -> np.ndarray:
    """Inverse of :func:`scene_point`: a point in Plotly's normalised scene units back to mm."""
    lo, hi = np.asarray(box[0::2], dtype=float), np.asarray(box[1::2], dtype=float)
    p = np.array([float(point.get(k, 0.0)) for k in "xyz"])
    return p / _aspect_ratio(lo, hi) * (hi - lo) + (lo + hi) / 2


def _aspect_ratio(lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """True proportions, normalised as Plotly's "data" mode does (product of the ratios = 1)."""
    size = hi - lo
    return size / np.cbrt(np.prod(size))


def figure_to_json(figure: go.Figure) -> str:
    """Serialise a figure to compact JSON with base64 typed arrays.

    Parameters
    ----------
    figure : plotly.graph_objects.Figure
        Figure from :func:`build_scene_figure`.

    Returns
    -------
    str
        JSON text for ``Plotly.react`` (numpy arrays become ``{"dtype", "bdata"}`` specs).
    """
    return pio.to_json(figure, validate=False, pretty=False, remove_uids=False)


def plotly_js_path() -> Path:
    """Path of the ``plotly.min.js`` bundled with the installed plotly Python package.

    Returns
    -------
    pathlib.Path
        ``.../plotly/package_data/plotly.min.js`` (plotly.js matching the Python package).
    """
    return Path(plotly.__file__).resolve().parent / "package_data" / "plotly.min.js"


def plotly_version() -> str:
    """Version of the installed plotly Python package (used to bust browser caches).

    Returns
    -------
    str
        E.g. ``"7.1.0"``.
    """
    try:
        return importlib.metadata.version("plotly")
    except importlib.metadata.PackageNotFoundError:  # pragma: no cover - vendored plotly
        return str(getattr(plotly, "__version__", "0"))

"""Tubes swept along smooth centre lines: nerves, the dural sac, the spinal cord.

A sweep (rings of vertices along a spline) is far cheaper than a distance field for long thin
structures, and it keeps an arc-length coordinate per vertex, which later lets a condition mark
*where along* a root the compression sits (napari style: a per-vertex value, not a new mesh).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike

from explorer.anatomy.frames import Points
from explorer.lazy import lazy_callable, lazy_module

if TYPE_CHECKING:
    import pyvista as pv
    from scipy.interpolate import make_interp_spline
else:  # imported on first use (explorer/lazy.py): the first page needs none of it
    pv = lazy_module("pyvista")
    make_interp_spline = lazy_callable("scipy.interpolate", "make_interp_spline")


def smooth_path(control_points: ArrayLike, spacing_mm: float = 4.0, samples: int | None = None) -> Points:
    """A smooth curve through ``control_points``, resampled every ``spacing_mm`` of arc length
    (or at exactly ``samples`` evenly spaced points, to fit a triangle budget).

    Uses a cubic B-spline parametrised by chord length (quadratic for three points), which passes
    through every control point without the overshoot of uniform parametrisation.
    """
    pts = np.asarray(control_points, dtype=float)
    keep = np.r_[True, np.linalg.norm(np.diff(pts, axis=0), axis=1) > 1e-6]
    pts = pts[keep]
    if len(pts) < 2:
        raise ValueError("a path needs at least two distinct control points")
    chord = np.r_[0.0, np.cumsum(np.linalg.norm(np.diff(pts, axis=0), axis=1))]
    degree = min(3, len(pts) - 1)
    spline = make_interp_spline(chord, pts, k=degree)
    dense_t = np.linspace(0.0, chord[-1], max(200, int(chord[-1] * 4)))
    dense = spline(dense_t)
    arc = np.r_[0.0, np.cumsum(np.linalg.norm(np.diff(dense, axis=0), axis=1))]
    n = samples if samples else max(2, int(np.ceil(arc[-1] / spacing_mm)) + 1)
    at = np.linspace(0.0, arc[-1], n)
    return np.column_stack([np.interp(at, arc, dense[:, i]) for i in range(3)])


def _tangents(path: Points) -> Points:
    t = np.gradient(path, axis=0)
    return t / np.linalg.norm(t, axis=1, keepdims=True)


def _normals(tangents: Points, reference: ArrayLike | None) -> Points:
    """Ring orientation: fixed toward ``reference`` if given, else parallel transport (no twist)."""
    normals = np.empty_like(tangents)
    if reference is not None:
        ref = np.asarray(reference, dtype=float)
        n = ref[None, :] - (tangents @ ref)[:, None] * tangents
        return n / np.linalg.norm(n, axis=1, keepdims=True)
    t0 = tangents[0]
    seed = np.eye(3)[int(np.argmin(np.abs(t0)))]
    n = seed - (seed @ t0) * t0
    normals[0] = n / np.linalg.norm(n)
    for k in range(1, len(tangents)):
        n = normals[k - 1] - (normals[k - 1] @ tangents[k]) * tangents[k]
        normals[k] = n / np.linalg.norm(n)
    return normals


def sweep_tube(
    path: ArrayLike,
    radius: ArrayLike | float,
    depth_radius: ArrayLike | float | None = None,
    sides: int = 12,
    width_direction: ArrayLike | None = None,
    cap: bool = True,
) -> pv.PolyData:
    """Sweep an ellipse along ``path`` into a closed triangle mesh.

    Parameters
    ----------
    path : array_like, shape (K, 3)
        Centre line (mm), already smooth and evenly sampled (see :func:`smooth_path`).
    radius : float or array_like, shape (K,)
        Semi-axis along the width direction (mm); may taper to 0 at the ends.
    depth_radius : float or array_like, optional
        Semi-axis across it (mm); defaults to ``radius`` (a round tube).
    sides : int
        Vertices per ring.
    width_direction : array_like, optional
        Keep the width axis as close as possible to this direction (for the dural sac, the
        patient's left-right); default is a twist-free parallel transport.
    cap : bool
        Close both ends with a fan so the mesh is watertight.

    Returns
    -------
    pyvista.PolyData
        Triangle mesh with point array ``"arc_mm"`` (distance along the path from its start).
    """
    p = np.asarray(path, dtype=float)
    k = len(p)
    rx = np.broadcast_to(np.asarray(radius, dtype=float), (k,))
    ry = rx if depth_radius is None else np.broadcast_to(np.asarray(depth_radius, dtype=float), (k,))
    t = _tangents(p)
    n = _normals(t, width_direction)
    b = np.cross(t, n)
    theta = np.linspace(0.0, 2 * np.pi, sides, endpoint=False)
    ring = (
        p[:, None, :]
        + (rx[:, None, None] * np.cos(theta)[None, :, None]) * n[:, None, :]
        + (ry[:, None, None] * np.sin(theta)[None, :, None]) * b[:, None, :]
    )
    vertices = ring.reshape(-1, 3)
    arc = np.r_[0.0, np.cumsum(np.linalg.norm(np.diff(p, axis=0), axis=1))]
    arc_per_vertex = np.repeat(arc, sides)

    i = np.arange(k - 1)[:, None] * sides
    j = np.arange(sides)[None, :]
    a = (i + j).ravel()
    b_idx = (i + (j + 1) % sides).ravel()
    c = a + sides
    d = b_idx + sides
    tris = [np.column_stack([a, b_idx, d]), np.column_stack([a, d, c])]
    if cap:
        start, end = len(vertices), len(vertices) + 1
        vertices = np.vstack([vertices, p[0], p[-1]])
        arc_per_vertex = np.r_[arc_per_vertex, 0.0, arc[-1]]
        first = np.arange(sides)
        last = (k - 1) * sides + np.arange(sides)
        tris.append(np.column_stack([np.full(sides, start), (first + 1) % sides, first]))
        tris.append(np.column_stack([np.full(sides, end), last, (k - 1) * sides + (np.arange(sides) + 1) % sides]))
    faces = np.vstack(tris)
    mesh = pv.PolyData(vertices, np.column_stack([np.full(len(faces), 3), faces]).ravel())
    mesh.point_data["arc_mm"] = arc_per_vertex
    return mesh


def rings_for_budget(target_faces: int, sides: int) -> int:
    """How many rings a capped tube of ``sides`` may have to stay within ``target_faces``."""
    return max(2, (target_faces - 2 * sides) // (2 * sides) + 1)

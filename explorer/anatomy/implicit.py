"""Smooth organic shapes from signed distance fields (SDFs).

Bones and muscles are modelled as smooth unions of simple primitives (ellipsoids, capsules, tapered
tubes, rounded boxes) with holes carved by smooth subtraction; the zero level set is extracted with
marching cubes (VTK through PyVista), smoothed, and decimated for the browser. Smooth blending is
what makes a pedicle flow into the body and the lamina, as in real bone.

Every distance function takes points of shape ``(N, 3)`` in millimetres and returns ``(N,)``
signed distances (negative inside). Most are exact; the ellipsoid one is the usual first-order
approximation, good enough near the surface where it matters.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike, NDArray

from explorer.anatomy.frames import Frame
from explorer.lazy import lazy_callable, lazy_module

if TYPE_CHECKING:
    import pyvista as pv
    from scipy.ndimage import map_coordinates
else:  # imported on first use (explorer/lazy.py): the first page needs none of it
    pv = lazy_module("pyvista")
    map_coordinates = lazy_callable("scipy.ndimage", "map_coordinates")

Array = NDArray[np.float64]
DistanceField = Callable[[Array], Array]


# ---------------------------------------------------------------------------- primitives


def _local(points: Array, center: ArrayLike, axes: ArrayLike | None) -> Array:
    p = points - np.asarray(center, dtype=float)
    return p if axes is None else p @ np.asarray(axes, dtype=float)


def ellipsoid(points: Array, center: ArrayLike, radii: ArrayLike, axes: ArrayLike | None = None) -> Array:
    """Approximate signed distance to an ellipsoid with semi-axes ``radii`` (mm)."""
    p = _local(points, center, axes)
    r = np.asarray(radii, dtype=float)
    k0 = np.linalg.norm(p / r, axis=1)
    k1 = np.linalg.norm(p / (r * r), axis=1)
    return np.where(k1 > 1e-9, k0 * (k0 - 1.0) / np.maximum(k1, 1e-9), -r.min())


def round_cone(points: Array, a: ArrayLike, b: ArrayLike, radius_a: float, radius_b: float) -> Array:
    """Exact signed distance to a tapered capsule from ``a`` (radius ``radius_a``) to ``b`` (mm).

    Follows Inigo Quilez's closed form ("distance functions", sdRoundCone), vectorised.
    """
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    ba = b - a
    l2 = float(ba @ ba)
    if l2 < 1e-12:
        return np.linalg.norm(points - a, axis=1) - max(radius_a, radius_b)
    rr = radius_a - radius_b
    a2 = l2 - rr * rr
    pa = points - a
    y = pa @ ba
    z = y - l2
    x2 = np.sum((pa * l2 - np.outer(y, ba)) ** 2, axis=1)
    y2 = y * y * l2
    z2 = z * z * l2
    k = np.sign(rr) * rr * rr * x2
    cap_b = np.sqrt(x2 + z2) / l2 - radius_b
    cap_a = np.sqrt(x2 + y2) / l2 - radius_a
    side = (np.sqrt(np.maximum(x2 * a2 / l2, 0.0)) + y * rr) / l2 - radius_a
    return np.where(np.sign(z) * a2 * z2 > k, cap_b, np.where(np.sign(y) * a2 * y2 < k, cap_a, side))


def capsule(points: Array, a: ArrayLike, b: ArrayLike, radius: float) -> Array:
    """Signed distance to a capsule (segment ``a``-``b`` thickened by ``radius``)."""
    return round_cone(points, a, b, radius, radius)


def tube(points: Array, path: ArrayLike, radii: ArrayLike | float) -> Array:
    """Signed distance to a tapered tube along a polyline (union of round cones)."""
    path = np.asarray(path, dtype=float)
    r = np.broadcast_to(np.asarray(radii, dtype=float), (len(path),))
    d = np.full(len(points), np.inf)
    for i in range(len(path) - 1):
        d = np.minimum(d, round_cone(points, path[i], path[i + 1], float(r[i]), float(r[i + 1])))
    return d


def round_box(
    points: Array, center: ArrayLike, half_size: ArrayLike, rounding: float, axes: ArrayLike | None = None
) -> Array:
    """Signed distance to a box with rounded edges (``rounding`` mm, inside ``half_size``)."""
    p = _local(points, center, axes)
    q = np.abs(p) - (np.asarray(half_size, dtype=float) - rounding)
    outside = np.linalg.norm(np.maximum(q, 0.0), axis=1)
    inside = np.minimum(q.max(axis=1), 0.0)
    return outside + inside - rounding


def elliptic_cylinder(
    points: Array,
    center: ArrayLike,
    radius_x: float,
    radius_y: float,
    half_height: float,
    rounding: float = 0.0,
    axes: ArrayLike | None = None,
) -> Array:
    """Signed distance to a cylinder of elliptic cross-section along local z (edges rounded)."""
    p = _local(points, center, axes)
    rx, ry = radius_x - rounding, radius_y - rounding
    k0 = np.hypot(p[:, 0] / rx, p[:, 1] / ry)
    k1 = np.hypot(p[:, 0] / (rx * rx), p[:, 1] / (ry * ry))
    d2 = np.where(k1 > 1e-9, k0 * (k0 - 1.0) / np.maximum(k1, 1e-9), -min(rx, ry))
    dz = np.abs(p[:, 2]) - (half_height - rounding)
    outside = np.hypot(np.maximum(d2, 0.0), np.maximum(dz, 0.0))
    inside = np.minimum(np.maximum(d2, dz), 0.0)
    return outside + inside - rounding


# ---------------------------------------------------------------------------- combinators


def smooth_union(a: Array, b: Array, k: float) -> Array:
    """Polynomial smooth minimum: blends two shapes with a fillet about ``k`` mm wide."""
    if k <= 0:
        return np.minimum(a, b)
    h = np.clip(0.5 + 0.5 * (b - a) / k, 0.0, 1.0)
    return b + (a - b) * h - k * h * (1.0 - h)


def smooth_subtract(a: Array, cutter: Array, k: float) -> Array:
    """Carve ``cutter`` out of ``a`` with a rounded edge about ``k`` mm wide."""
    return -smooth_union(-a, cutter, k)


def smooth_intersect(a: Array, b: Array, k: float) -> Array:
    """Smooth intersection of two shapes."""
    return -smooth_union(-a, -b, k)


def smoothstep(edge0: float, edge1: float, x: Array) -> Array:
    """Cubic Hermite ramp from 0 (``x <= edge0``) to 1 (``x >= edge1``), as GLSL's ``smoothstep``.

    Used to blend a shape parameter (a thickness in mm, a weight) smoothly between two positions.
    """
    t = np.clip((x - edge0) / (edge1 - edge0), 0.0, 1.0)
    return t * t * (3.0 - 2.0 * t)


def union_all(fields: Sequence[Array], k: float) -> Array:
    """Smooth union of several fields, blended pairwise in order."""
    out = fields[0]
    for f in fields[1:]:
        out = smooth_union(out, f, k)
    return out


# ---------------------------------------------------------------------------- meshing


def narrow_band(field: DistanceField, spacing: float) -> DistanceField:
    """Wrap a field so it is evaluated exactly only near its surface (coarse-to-fine).

    The field is sampled on a grid 4x coarser than ``spacing`` over the query points' bounding
    box, then on a 2x coarser grid only where the interpolated value is small enough that the
    surface may pass, and finally at the query points under the same rule. The fields here change
    by about 1 mm per mm at most (true or under-estimated distances), so a value larger than a
    cell diagonal (with slack) proves the sign; far points keep the interpolated value, whose sign
    is all marching cubes needs. This cuts build time several-fold for bulky bones.
    """

    def banded(points: Array) -> Array:
        lo, hi = points.min(axis=0), points.max(axis=0)
        step = 4.0 * spacing
        shape = np.ceil((hi - lo) / step).astype(int) + 2
        axes = [lo[i] + step * np.arange(shape[i]) for i in range(3)]
        grid = np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1).reshape(-1, 3)
        values = field(grid).reshape(shape)
        fine_step, fine_shape = step / 2, 2 * shape - 1
        fine_axes = [lo[i] + fine_step * np.arange(fine_shape[i]) for i in range(3)]
        fine = np.stack(np.meshgrid(*fine_axes, indexing="ij"), axis=-1).reshape(-1, 3)
        approx = _interpolate(values, lo, step, fine)
        near = np.abs(approx) < _band_width(step)
        approx[near] = field(fine[near])
        values, step = approx.reshape(fine_shape), fine_step
        out = _interpolate(values, lo, step, points)
        near = np.abs(out) < _band_width(step)
        out[near] = field(points[near])
        # A value of exactly zero on a grid vertex makes marching cubes emit zero-area triangles
        # (which clean() turns into lines and decimation rejects): nudge them off the surface.
        tiny = np.abs(out) < 1e-3
        out[tiny] = np.where(out[tiny] < 0.0, -1e-3, 1e-3)
        return out

    return banded


def _band_width(step: float) -> float:
    """How far from the surface an interpolated value may be wrong in sign (mm), with slack."""
    return 1.35 * np.sqrt(3.0) * step + 1.0


def _interpolate(values: Array, lo: Array, step: float, points: Array) -> Array:
    """Trilinear interpolation of a regular grid (origin ``lo``, spacing ``step``) at points."""
    idx = ((points - lo) / step).T
    return map_coordinates(values, idx, order=1, mode="nearest")




def grid_points(bounds: ArrayLike, spacing: float) -> tuple[pv.ImageData, Array]:
    """A regular sampling grid over ``bounds`` = (xmin, xmax, ymin, ymax, zmin, zmax)."""
    b = np.asarray(bounds, dtype=float)
    lo, hi = b[0::2] - 2 * spacing, b[1::2] + 2 * spacing  # margin so the surface closes
    dims = np.ceil((hi - lo) / spacing).astype(int) + 1
    grid = pv.ImageData(dimensions=tuple(int(d) for d in dims), spacing=(spacing,) * 3, origin=tuple(lo))
    return grid, np.asarray(grid.points, dtype=float)


def surface_from_field(
    field: DistanceField,
    bounds: ArrayLike,
    spacing: float = 1.0,
    smoothing_iterations: int = 20,
    target_faces: int | None = None,
) -> pv.PolyData:
    """Extract the zero level set of ``field`` as a smooth, closed triangle mesh.

    Parameters
    ----------
    field : callable
        Signed distance function of ``(N, 3)`` points in mm.
    bounds : array_like
        Region to sample (mm), ``(xmin, xmax, ymin, ymax, zmin, zmax)``.
    spacing : float
        Grid step (mm); 0.7-1.0 mm resolves cortical detail like pedicles and facets.
    smoothing_iterations : int
        Taubin smoothing passes (volume-preserving), 0 to skip.
    target_faces : int, optional
        Decimate (quadric) down to about this many triangles.

    Returns
    -------
    pyvista.PolyData
        Triangle mesh in the same coordinates as the field, largest connected piece only.
    """
    grid, pts = grid_points(bounds, spacing)
    values = field(pts)
    # Exact zeros on grid nodes make degenerate triangles that break decimation; nudge them.
    values[np.abs(values) < 1e-4] = 1e-4
    grid.point_data["sdf"] = values
    surf = grid.contour([0.0], scalars="sdf").triangulate().clean()
    if surf.n_cells == 0:
        raise ValueError("the distance field has no surface inside the given bounds")
    surf = surf.connectivity("largest").triangulate().clean()
    if smoothing_iterations:
        surf = surf.smooth_taubin(n_iter=smoothing_iterations, pass_band=0.05)
    if target_faces and surf.n_cells > target_faces:
        surf = surf.decimate(1.0 - target_faces / surf.n_cells, volume_preservation=True)
    # Marching cubes winds triangles inward for a negative-inside field; orient them outward
    # so signed distances (and lighting) treat the inside as inside.
    surf = surf.compute_normals(auto_orient_normals=True, consistent_normals=True, split_vertices=False)
    return pv.PolyData(surf.points, surf.faces).clean()


def transformed(mesh: pv.PolyData, frame: Frame) -> pv.PolyData:
    """A copy of ``mesh`` with its local coordinates mapped to global by ``frame``."""
    out = mesh.copy()
    out.points = frame.to_global(np.asarray(mesh.points, dtype=float))
    return out

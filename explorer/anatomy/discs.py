"""Intervertebral discs: the annulus fibrosus (outer ring) and the nucleus pulposus (gel core).

Each disc fills the space between two endplates: kidney-shaped like the bodies it joins, taller in
front than behind (the wedge that makes the lordosis [BEEN2014]), with a slight outward bulge.
The nucleus is an ellipsoid a little behind the disc's centre and about 40-50 % of its area
(standard anatomy teaching; e.g. Gray's Anatomy, 42nd ed., 2020), which is why herniations
usually go backwards.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from explorer.anatomy.implicit import (
    Array,
    ellipsoid,
    smooth_subtract,
    surface_from_field,
    transformed,
)
from explorer.anatomy.layout import spine_layout
from explorer.anatomy.morphometry import DISCS, S1_ENDPLATE_DEPTH, S1_ENDPLATE_WIDTH, VERTEBRAE
from explorer.lazy import lazy_module
from explorer.settings import SMOOTHING_ITERATIONS, TARGET_FACES

if TYPE_CHECKING:
    import pyvista as pv
else:  # imported on first use (explorer/lazy.py): the first page needs none of it
    pv = lazy_module("pyvista")

DISC_SPACING_MM: float = 0.7
ENDPLATE_CLEARANCE_MM: float = 0.3  # keeps the disc from poking through the bone's rounded rim


def disc_footprint(disc_id: str) -> tuple[float, float]:
    """Width and depth (mm) of a disc: the mean of the endplates above and below."""
    upper, lower = disc_id.split("-")
    w_up, d_up = VERTEBRAE[upper].body_width, VERTEBRAE[upper].body_depth
    if lower == "S1":
        w_lo, d_lo = S1_ENDPLATE_WIDTH, S1_ENDPLATE_DEPTH
    else:
        w_lo, d_lo = VERTEBRAE[lower].body_width, VERTEBRAE[lower].body_depth
    return 0.5 * (w_up + w_lo), 0.5 * (d_up + d_lo)


def _kidney_wedge(points: Array, width: float, depth: float, front: float, back: float) -> Array:
    """Distance-like field of a kidney-shaped slab whose height falls from ``front`` to ``back``."""
    x, y, z = points[:, 0], points[:, 1], points[:, 2]
    half_h = 0.25 * (front + back) + 0.5 * (front - back) * (y / depth) - ENDPLATE_CLEARANCE_MM
    # A slight bulge at mid-height, as real discs bulge a little past the bony rim.
    bulge = 1.0 + 0.035 * np.clip(1.0 - (z / np.maximum(half_h, 0.5)) ** 2, 0.0, 1.0)
    rx, ry = 0.5 * width * bulge, 0.5 * depth * bulge
    k0 = np.hypot(x / rx, y / ry)
    k1 = np.hypot(x / rx**2, y / ry**2)
    d_outline = k0 * (k0 - 1.0) / np.maximum(k1, 1e-9)
    d_height = np.abs(z) - half_h
    slab = np.maximum(d_outline, d_height)
    # Concave back border facing the canal (the "kidney" notch).
    notch = ellipsoid(points, (0.0, -0.5 * depth - 5.0, 0.0), (0.24 * width, 8.0, 60.0))
    return smooth_subtract(slab, notch, 3.0)


def build_annulus(disc_id: str) -> pv.PolyData:
    """The whole disc's outer surface (annulus fibrosus), in global mm."""
    width, depth = disc_footprint(disc_id)
    dims = DISCS[disc_id]
    frame = spine_layout().disc[disc_id]

    def field(p: Array) -> Array:
        return _kidney_wedge(p, width, depth, dims.height_anterior, dims.height_posterior)

    margin = 3.0
    bounds = (-width / 2 - margin, width / 2 + margin, -depth / 2 - margin, depth / 2 + margin,
              -dims.height_anterior / 2 - margin, dims.height_anterior / 2 + margin)
    mesh = surface_from_field(field, bounds, DISC_SPACING_MM, SMOOTHING_ITERATIONS, TARGET_FACES["disc"])
    return transformed(mesh, frame)


def nucleus_geometry(disc_id: str) -> tuple[np.ndarray, np.ndarray]:
    """Centre (local frame) and semi-axes (mm) of the nucleus pulposus."""
    width, depth = disc_footprint(disc_id)
    height = DISCS[disc_id].height
    center = np.array([0.0, -0.08 * depth, 0.0])
    radii = np.array([0.30 * width, 0.24 * depth, 0.36 * height])
    return center, radii


def build_nucleus(disc_id: str) -> pv.PolyData:
    """The nucleus pulposus, an ellipsoid slightly behind the disc's centre, in global mm."""
    center, radii = nucleus_geometry(disc_id)
    mesh = pv.ParametricEllipsoid(*radii, u_res=24, v_res=16, w_res=2).triangulate().clean()
    mesh.points = np.asarray(mesh.points) + center
    if mesh.n_cells > TARGET_FACES["nucleus"]:
        mesh = mesh.decimate(1.0 - TARGET_FACES["nucleus"] / mesh.n_cells, volume_preservation=True)
    return transformed(mesh, spine_layout().disc[disc_id])

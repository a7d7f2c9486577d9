"""Lumbar vertebrae L1-L5 as smooth closed meshes built from signed distance fields.

Each vertebra is modelled in its LOCAL frame (origin at the body's centre, +x patient's right,
+y anterior, +z along the body's axis) as a smooth union of simple parts, one helper per part:
body, pedicles, laminae, spinous process, transverse processes, superior and inferior articular
processes; the vertebral canal is then carved out. The zero level set is meshed with
:func:`~explorer.anatomy.implicit.surface_from_field` and mapped to global RAS millimetres with the
frame from :func:`~explorer.anatomy.layout.spine_layout`.

Every size comes from :data:`~explorer.anatomy.morphometry.VERTEBRAE`; the few shapes the table
does not give are proportions, each with its source next to it:

[PANJABI1993] Panjabi MM, Oxland T, Takata K, et al. Articular facets of the human spine:
    quantitative three-dimensional anatomy. Spine. 1993;18(10):1298-1310. (facet width and
    height about 12-17 mm; facets turn from near-sagittal at L1 to about 45-50 degrees at L5-S1)
[MASHARAWI2004] Masharawi Y, Rothschild B, Dar G, et al. Facet orientation in the thoracolumbar
    spine: three-dimensional anatomic and biomechanical analysis. Spine. 2004;29(16):1755-1763.
    (transverse facet angle from the sagittal plane, roughly 25 degrees at T12-L1 to 50 at L5-S1)
[BOGDUK2012] Bogduk N. Clinical and Radiological Anatomy of the Lumbar Spine. 5th ed.
    Churchill Livingstone; 2012.  (shapes: kidney-shaped body with a concave back and waisted
    sides, ring apophysis, laminae sloping down and back, hatchet-shaped spinous process,
    superior facets concave and facing back-medially, triangular canal at L4-L5, stout conical
    L5 transverse processes joined to the body, mammillary processes)
[GRAY2016] Standring S, ed. Gray's Anatomy. 41st ed. Elsevier; 2016.  (lamina thickness about
    5-7 mm, transverse processes flattened front-to-back, longest at L3)

The facet joints are built congruent: the superior facet of the vertebra below is a concave
cylinder and the inferior process of the vertebra above is cut by the same cylinder, shrunk by the
joint space, after mapping it through the two frames of :func:`spine_layout`. So adjacent
vertebrae meet at a thin, even joint gap and never interpenetrate there.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import cache, partial
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike, NDArray

from explorer.anatomy.frames import Frame
from explorer.anatomy.implicit import (
    DistanceField,
    capsule,
    ellipsoid,
    elliptic_cylinder,
    narrow_band,
    round_cone,
    smooth_intersect,
    smooth_subtract,
    smooth_union,
    smoothstep,
    surface_from_field,
    transformed,
)
from explorer.anatomy.layout import (
    S1_FACET_CENTER,
    S1_FACET_NORMAL,
    pedicle_box,
    sacral_frames,
    side_sign,
    spine_layout,
)
from explorer.anatomy.morphometry import (
    LUMBAR_LEVELS,
    S1_ENDPLATE_DEPTH,
    S1_ENDPLATE_WIDTH,
    VERTEBRAE,
    VertebraDimensions,
)
from explorer.lazy import lazy_callable, lazy_module
from explorer.settings import SDF_SPACING_MM, SMOOTHING_ITERATIONS, TARGET_FACES

if TYPE_CHECKING:
    import pyvista as pv
    from scipy.ndimage import map_coordinates
else:  # imported on first use (explorer/lazy.py): the first page needs none of it
    pv = lazy_module("pyvista")
    map_coordinates = lazy_callable("scipy.ndimage", "map_coordinates")

Array = NDArray[np.float64]

# ---------------------------------------------------------------------------- proportions
# Level-specific shape numbers the morphometry table does not carry.
# Facet angle: superior facets of this level, degrees from the sagittal plane [MASHARAWI2004].
FACET_ANGLE_DEG: dict[str, float] = {"L1": 26.0, "L2": 29.0, "L3": 34.0, "L4": 41.0, "L5": 46.0, "S1": 50.0}
# Canal shape: 0 = oval (upper lumbar), 1 = triangular/trefoil (L4-L5) [BOGDUK2012].
CANAL_TREFOIL: dict[str, float] = {"L1": 0.0, "L2": 0.2, "L3": 0.45, "L4": 0.75, "L5": 0.95}
# Concavity of the body's back at the midline (mm): marked at L1-L3, nearly flat at L5 [BOGDUK2012].
POSTERIOR_CONCAVITY_MM: dict[str, float] = {"L1": 4.0, "L2": 3.8, "L3": 3.4, "L4": 2.8, "L5": 2.0}

LAMINA_THICKNESS_MM: float = 6.0  # [GRAY2016] 5-7 mm
LAMINA_SLOPE_DEG: float = 25.0  # laminae lean down and back from the vertical [BOGDUK2012]
BODY_WAIST_MM: float = 1.8  # sides concave between the endplates
ENDPLATE_DISH_MM: float = 0.9  # centre of the endplate sits below the ring apophysis
RING_APOPHYSIS_MM: float = 5.0  # width of the raised endplate rim
BODY_EDGE_ROUNDING_MM: float = 1.6
FACET_RADIUS_MM: float = 15.0  # curvature of the concave superior facet (J/C-shaped in axial view)
FACET_GAP_MM: float = 2.0  # joint space incl. cartilage, as bone-to-bone distance on CT
SAP_RISE_MM: float = 9.0  # superior process tip above the body's top [task brief: 8-10 mm]
SAP_THICKNESS_MM: float = 7.0
IAP_THICKNESS_MM: float = 8.0
TP_THICKNESS_MM: float = 4.6  # front-to-back: the processes are flattened [GRAY2016]

BLEND_BODY_MM: float = 3.0  # fillet where the pedicles flow into the body
BLEND_POSTERIOR_MM: float = 2.2  # fillets between the posterior parts
CANAL_EDGE_MM: float = 1.0  # rounding of the canal's rim

# The S1 superior facets (shared with pelvis.py through superior_facet) live in layout.py.
S1_VIRTUAL_DIMS: VertebraDimensions = replace(
    VERTEBRAE["L5"],
    body_width=S1_ENDPLATE_WIDTH,
    body_depth=S1_ENDPLATE_DEPTH,
    body_height_anterior=28.0,
    body_height_posterior=28.0,
)


def _dims(level: str) -> VertebraDimensions:
    return S1_VIRTUAL_DIMS if level == "S1" else VERTEBRAE[level]


def _frame(level: str) -> Frame:
    """Local frame of a level's body centre (``S1``: the first sacral segment)."""
    if level == "S1":
        return sacral_frames()["S1"]
    return spine_layout().vertebra[level]


def _level_below(level: str) -> str:
    i = LUMBAR_LEVELS.index(level)
    return LUMBAR_LEVELS[i + 1] if i + 1 < len(LUMBAR_LEVELS) else "S1"


def _endplate_slope(d: VertebraDimensions) -> float:
    """tan of half the body's wedge angle: endplates at z = +-(H/2 + slope * y), as the layout stacks them."""
    beta = np.arctan2(d.body_height_anterior - d.body_height_posterior, d.body_depth)
    return float(np.tan(beta / 2))


def _body_top_z(d: VertebraDimensions, y: float | Array) -> float | Array:
    """Height of the upper endplate plane at antero-posterior position ``y`` (mm, local)."""
    return d.body_height / 2 + _endplate_slope(d) * y


def _body_bottom_z(d: VertebraDimensions, y: float | Array) -> float | Array:
    """Height of the lower endplate plane at antero-posterior position ``y`` (mm, local)."""
    return -d.body_height / 2 - _endplate_slope(d) * y


# ---------------------------------------------------------------------------- 2-D helpers


def _polygon_sdf(p2: Array, verts: Array) -> Array:
    """Exact signed distance from 2-D points to a simple polygon (negative inside), vectorised.

    After Inigo Quilez's ``sdPolygon``; fine for the few-vertex outlines used here.
    """
    d = np.sum((p2 - verts[0]) ** 2, axis=1)
    s = np.ones(len(p2))
    n = len(verts)
    for i in range(n):
        j = i - 1
        e = verts[j] - verts[i]
        w = p2 - verts[i]
        t = np.clip((w @ e) / (e @ e), 0.0, 1.0)
        b = w - np.outer(t, e)
        d = np.minimum(d, np.sum(b * b, axis=1))
        c1 = p2[:, 1] >= verts[i][1]
        c2 = p2[:, 1] < verts[j][1]
        c3 = e[0] * w[:, 1] > e[1] * w[:, 0]
        flip = (c1 & c2 & c3) | (~c1 & ~c2 & ~c3)
        s[flip] *= -1.0
    return s * np.sqrt(d)


def _inset_convex(verts: Array, r: float) -> Array:
    """Shrink a convex polygon by moving every edge inward by ``r`` (mm).

    ``sdf(inset(P, r)) - r`` is ``P`` with its corners rounded by radius ``r``.
    """
    v = np.asarray(verts, dtype=float)
    area = 0.5 * np.sum(v[:, 0] * np.roll(v[:, 1], -1) - np.roll(v[:, 0], -1) * v[:, 1])
    orient = 1.0 if area > 0 else -1.0
    n = len(v)
    lines = []
    for i in range(n):
        a, b = v[i], v[(i + 1) % n]
        e = (b - a) / np.linalg.norm(b - a)
        inward = orient * np.array([-e[1], e[0]])
        lines.append((a + inward * r, e))
    out = []
    for i in range(n):
        (p0, e0), (p1, e1) = lines[i - 1], lines[i]
        m = np.array([e0, -e1]).T
        t = np.linalg.solve(m, p1 - p0)
        out.append(p0 + t[0] * e0)
    return np.array(out)


class _RasterProfile:
    """A 2-D outline's signed distance sampled once on a fine raster, then interpolated.

    Used for the long curved outlines (kidney-shaped body, canal) so that evaluating them on a
    million grid points costs one bilinear lookup instead of a loop over many edges.
    """

    def __init__(self, verts: Array, step: float = 0.25, margin: float = 6.0) -> None:
        lo = verts.min(axis=0) - margin
        hi = verts.max(axis=0) + margin
        self.lo, self.hi, self.step = lo, hi, step
        nx, ny = (np.ceil((hi - lo) / step).astype(int) + 1).tolist()
        gx, gy = np.meshgrid(lo[0] + step * np.arange(nx), lo[1] + step * np.arange(ny), indexing="ij")
        pts = np.column_stack([gx.ravel(), gy.ravel()])
        self.table = _polygon_sdf(pts, verts).reshape(nx, ny)
        self.hi = lo + step * (np.array([nx, ny]) - 1)

    def __call__(self, x: Array, y: Array) -> Array:
        cx = np.clip(x, self.lo[0], self.hi[0])
        cy = np.clip(y, self.lo[1], self.hi[1])
        val = map_coordinates(
            self.table, [(cx - self.lo[0]) / self.step, (cy - self.lo[1]) / self.step], order=1, mode="nearest"
        )
        # Outside the raster the value grows with the distance to it (a lower bound, still correct in sign).
        return val + np.hypot(x - cx, y - cy)


def _plate(
    points: Array,
    origin: ArrayLike,
    u: ArrayLike,
    v: ArrayLike,
    outline_uv: Array,
    half_thickness: float,
    corner_radius: float = 0.0,
    half_thickness_end: float | None = None,
) -> Array:
    """Signed distance to a flat plate: a 2-D outline in the ``(u, v)`` plane, extruded along the normal.

    Parameters
    ----------
    points : ndarray, shape (N, 3)
        Query points (mm).
    origin, u, v : array_like
        Plate origin and two orthonormal in-plane directions.
    outline_uv : ndarray, shape (M, 2)
        Convex outline in plate coordinates (mm), extents preserved.
    half_thickness : float
        Half the plate thickness (mm); its edges are rounded by nearly that much.
    corner_radius : float
        In-plane rounding of the outline's corners (mm).
    half_thickness_end : float, optional
        If given, the half thickness changes linearly along ``u`` from ``half_thickness`` at the
        outline's smallest ``u`` to this at its largest (approximate distance, fine for blending).
    """
    o = np.asarray(origin, dtype=float)
    u = np.asarray(u, dtype=float)
    v = np.asarray(v, dtype=float)
    n = np.cross(u, v)
    p = points - o
    p2 = np.column_stack([p @ u, p @ v])
    poly = _inset_convex(outline_uv, corner_radius) if corner_radius > 0 else outline_uv
    d2 = _polygon_sdf(p2, poly) - corner_radius
    ht: float | Array = half_thickness
    if half_thickness_end is not None:
        u0, u1 = outline_uv[:, 0].min(), outline_uv[:, 0].max()
        w = np.clip((p2[:, 0] - u0) / (u1 - u0), 0.0, 1.0)
        ht = half_thickness + (half_thickness_end - half_thickness) * w
    re = 0.85 * min(half_thickness, half_thickness_end or half_thickness)
    q0 = d2 + re
    q1 = np.abs(p @ n) - ht + re
    return np.hypot(np.maximum(q0, 0.0), np.maximum(q1, 0.0)) + np.minimum(np.maximum(q0, q1), 0.0) - re


def _culled(points: Array, lo: ArrayLike, hi: ArrayLike, margin: float, fn: DistanceField) -> Array:
    """Evaluate ``fn`` only within ``margin`` of its box ``[lo, hi]``; elsewhere return ``margin``.

    The part lies inside its box, so farther points are at least ``margin`` from it: ``margin``
    is a lower bound there. With ``margin`` larger than every blend width, unions, subtractions
    and the zero level set are unchanged, and most of the grid is never evaluated.
    """
    lo = np.asarray(lo, dtype=float) - margin
    hi = np.asarray(hi, dtype=float) + margin
    near = np.ones(len(points), dtype=bool)
    for axis in range(3):
        column = points[:, axis]
        near &= (column >= lo[axis]) & (column <= hi[axis])
    out = np.full(len(points), margin)
    if near.any():
        out[near] = fn(points[near])
    return out


# ---------------------------------------------------------------------------- facet joints


@dataclass(frozen=True)
class Facet:
    """A superior articular facet, in the local frame of the vertebra that owns it (mm).

    Attributes
    ----------
    center : ndarray, shape (3,)
        Centre of the articular surface.
    normal : ndarray, shape (3,)
        Unit normal of the surface, pointing out of the bone into the joint (back-medially).
    axis_point, axis_dir : ndarray, shape (3,)
        The concave facet is part of a vertical cylinder of radius ``radius`` about this axis.
    radius, width, height : float
        Cylinder radius, facet width (along the surface) and height.
    """

    center: Array
    normal: Array
    axis_point: Array
    axis_dir: Array
    radius: float
    width: float
    height: float

    @property
    def along(self) -> Array:
        """Horizontal in-surface direction, pointing laterally and backwards."""
        a = np.cross(self.axis_dir, self.normal)
        return a if a[0] * self.center[0] >= 0 else -a

    def mapped(self, rotation: Array, offset: Array) -> Facet:
        """The same facet in another frame: ``p' = p @ rotation + offset``."""
        return Facet(
            self.center @ rotation + offset,
            self.normal @ rotation,
            self.axis_point @ rotation + offset,
            self.axis_dir @ rotation,
            self.radius,
            self.width,
            self.height,
        )


def superior_facet(level: str, side: str) -> Facet:
    """The superior articular facet of ``level`` (``"L1"``..``"L5"`` or ``"S1"``), local frame.

    The facet sits behind the pedicle, level with the top of the body, and faces back-medially
    at :data:`FACET_ANGLE_DEG` from the sagittal plane [MASHARAWI2004]; size from [PANJABI1993].
    """
    d = _dims(level)
    s = side_sign(side)
    ped = pedicle_box(d, side)
    y_back = ped.center[1] - ped.half_size[1]
    theta = np.radians(FACET_ANGLE_DEG[level])
    center = np.array([s * (d.canal_width / 2 + 0.25 * d.pedicle_width + 1.5), y_back - 3.0, 0.0])
    center[2] = float(_body_top_z(d, center[1])) + 1.0
    normal = np.array([-s * np.cos(theta), -np.sin(theta), 0.0])
    up = np.array([0.0, 0.0, 1.0])
    width = 12.5 + 0.8 * (LUMBAR_LEVELS.index(level) if level in LUMBAR_LEVELS else 4)
    if level == "S1":
        center = np.array(S1_FACET_CENTER) * [s, 1.0, 1.0]
        normal = np.array([s * S1_FACET_NORMAL[0], S1_FACET_NORMAL[1], 0.0])
        normal = normal / np.linalg.norm(normal)
    return Facet(center, normal, center + normal * FACET_RADIUS_MM, up, FACET_RADIUS_MM, width, 15.0)


def _relative(from_level: str, to_level: str) -> tuple[Array, Array]:
    """Rotation and offset mapping local points of ``from_level`` into ``to_level``'s frame."""
    fa, fb = _frame(from_level), _frame(to_level)
    rot = fa.axes.T @ fb.axes
    off = (fa.origin - fb.origin) @ fb.axes
    return rot, off


def superior_facet_global(level: str, side: str) -> tuple[Array, Array]:
    """Centre and outward normal of a superior facet in global RAS mm (for other builders)."""
    f = superior_facet(level, side)
    frame = _frame(level)
    return frame.to_global(f.center), frame.axes @ f.normal


def _cylinder_distance(points: Array, facet: Facet) -> Array:
    """Distance of points from the facet's cylinder axis (mm)."""
    p = points - facet.axis_point
    along = p @ facet.axis_dir
    return np.linalg.norm(p - np.outer(along, facet.axis_dir), axis=1)


# ---------------------------------------------------------------------------- parts


@cache
def _body_profile(level: str) -> _RasterProfile:
    """Kidney-shaped endplate outline (mm, local xy) as a raster SDF.

    Round front (half an ellipse); full posterolateral lobes (a superellipse quarter, exponent
    3.5) and a concave back: the midline sits about :data:`POSTERIOR_CONCAVITY_MM` in front of
    the lobes, so the midline depth is ``body_depth - c/2`` and the lobes reach ``c/2`` behind
    ``-body_depth/2``.
    """
    d = VERTEBRAE[level]
    a = d.body_width / 2
    c = POSTERIOR_CONCAVITY_MM[level]
    x = a * np.cos(np.linspace(0.0, np.pi, 121))  # denser near the sides
    front = d.body_depth / 2 * np.sqrt(np.clip(1.0 - (x / a) ** 2, 0.0, 1.0))
    xb = x[::-1]
    lobe = (d.body_depth / 2 + c / 2) * np.clip(1.0 - np.abs(xb / a) ** 3.5, 0.0, 1.0) ** (1.0 / 3.5)
    notch = c * np.clip(1.0 - (xb / (0.5 * a)) ** 2, 0.0, 1.0) ** 2
    back = -lobe + notch
    verts = np.vstack([np.column_stack([x, front]), np.column_stack([xb[1:-1], back[1:-1]])])
    return _RasterProfile(verts)


def body_field(points: Array, level: str) -> Array:
    """Vertebral body: kidney-shaped, waisted, wedged, with dished endplates inside a raised rim.

    Parameters
    ----------
    points : ndarray, shape (N, 3)
        Local points (mm).
    level : str
        ``"L1"``..``"L5"``.

    Returns
    -------
    ndarray, shape (N,)
        Signed distance (mm). The endplate planes match the layout's wedge so discs fit flush.
    """
    d = VERTEBRAE[level]
    x, y, z = points[:, 0], points[:, 1], points[:, 2]
    d2 = _body_profile(level)(x, y)
    top, bottom = _body_top_z(d, y), _body_bottom_z(d, y)
    dish = ENDPLATE_DISH_MM * smoothstep(1.0, RING_APOPHYSIS_MM + 3.0, -d2)
    half = 0.5 * (top - bottom)
    zn = np.clip((z - 0.5 * (top + bottom)) / half, -1.0, 1.0)
    # Waist mostly on the front and sides; the back wall is nearly straight.
    wall_weight = 0.3 + 0.7 * smoothstep(-d.body_depth / 2 + 2.0, -d.body_depth / 2 + 12.0, y)
    d2 = d2 + BODY_WAIST_MM * (1.0 - zn * zn) * wall_weight
    dz = np.maximum(z - (top - dish), (bottom + dish) - z)
    r = BODY_EDGE_ROUNDING_MM
    q0, q1 = d2 + r, dz + r
    return np.hypot(np.maximum(q0, 0.0), np.maximum(q1, 0.0)) + np.minimum(np.maximum(q0, q1), 0.0) - r


def pedicle_field(points: Array, d: VertebraDimensions, side: str) -> Array:
    """Pedicle: an oval bar (pedicle_width x pedicle_height) filling :func:`pedicle_box` (mm)."""
    ped = pedicle_box(d, side)
    along_y = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, 1.0, 0.0]])
    hx, hy, hz = ped.half_size
    return elliptic_cylinder(points, ped.center, hx, hz, hy + 1.0, rounding=1.5, axes=along_y)


def _lamina_corners(d: VertebraDimensions, side: str) -> tuple[Array, Array]:
    """Lamina outline (4 corners, mm) and its slope: from the pedicle's back to the midline.

    The plate's front surface passes through the canal's back (``-depth/2 - canal_depth``) at
    the midline's upper border and leans back by :data:`LAMINA_SLOPE_DEG` going down.
    """
    s = side_sign(side)
    ped = pedicle_box(d, side)
    t = LAMINA_THICKNESS_MM
    ta = np.tan(np.radians(LAMINA_SLOPE_DEG))
    y_ped_back = ped.center[1] - ped.half_size[1]
    y_canal_back = -d.body_depth / 2 - d.canal_depth
    z_bottom = float(_body_bottom_z(d, y_ped_back))
    z_top_lat, z_top_med = ped.center[2] + 1.5, ped.center[2] - 4.0
    z_bot_lat, z_bot_med = z_bottom + 0.5, z_bottom + 1.0
    # Mid-plane lines of the lateral and medial edges: y = y_ref + ta * (z - z_ref), parallel, so
    # the four corners are coplanar. The front surface touches the canal's back at the midline top.
    x_lat, y_lat, z_ref_lat = s * (d.canal_width / 2 + 0.3 * d.pedicle_width), y_ped_back - 0.5, ped.center[2]
    x_med, y_med, z_ref_med = -s * 1.5, y_canal_back - t / 2, z_top_med
    corners = np.array(
        [
            [x_lat, y_lat + ta * (z_top_lat - z_ref_lat), z_top_lat],
            [x_med, y_med + ta * (z_top_med - z_ref_med), z_top_med],
            [x_med, y_med + ta * (z_bot_med - z_ref_med), z_bot_med],
            [x_lat, y_lat + ta * (z_bot_lat - z_ref_lat), z_bot_lat],
        ]
    )
    return corners, np.array([0.0, ta, 1.0]) / np.hypot(ta, 1.0)


def _plate_from_corners(points: Array, corners: Array, half_thickness: float, corner_radius: float) -> Array:
    """A plate through coplanar 3-D ``corners`` (convex, in order), see :func:`_plate`."""
    o = corners[0]
    u = corners[1] - o
    u = u / np.linalg.norm(u)
    n = np.cross(u, corners[-1] - o)
    n = n / np.linalg.norm(n)
    v = np.cross(n, u)
    uv = np.column_stack([(corners - o) @ u, (corners - o) @ v])
    return _plate(points, o, u, v, uv, half_thickness, corner_radius)


def lamina_field(points: Array, d: VertebraDimensions, side: str) -> Array:
    """Lamina: a 6 mm plate roofing the canal, sloping down and back to the midline (mm)."""
    corners, _ = _lamina_corners(d, side)
    return _plate_from_corners(points, corners, LAMINA_THICKNESS_MM / 2, 2.5)


def _spinous_tip_y(d: VertebraDimensions) -> float:
    """Posterior tip of the spinous process: ``spinous_length`` behind the laminae's mid-thickness
    at the midline (mm), i.e. ``spinous_length - 3`` behind their back surface."""
    return -d.body_depth / 2 - d.canal_depth - LAMINA_THICKNESS_MM / 2 - d.spinous_length


INTERSPINOUS_GAP_MM: float = 2.0  # least bone-to-bone gap between neighbouring spinous processes


def _disc_plane_z(level: str, neighbour: str, y: float) -> float:
    """Height (local mm, midline) at which the mid-plane of the disc above/below crosses ``y``.

    ``neighbour`` is ``"above"`` or ``"below"``. L1 has no modelled disc above; its upper
    endplate moved up by 4.5 mm stands in.
    """
    layout = spine_layout()
    frame = layout.vertebra[level]
    i = LUMBAR_LEVELS.index(level)
    disc_ids = list(layout.disc)  # ordered L5-S1 .. L1-L2 by construction; look them up by name
    name = f"{LUMBAR_LEVELS[i - 1]}-{level}" if neighbour == "above" and i > 0 else None
    if neighbour == "below":
        name = f"{level}-{LUMBAR_LEVELS[i + 1]}" if i + 1 < len(LUMBAR_LEVELS) else "L5-S1"
    disc = layout.disc[name] if name in disc_ids else layout.upper_endplate[level].moved((0.0, 0.0, 4.5))
    o = frame.to_local(disc.origin)
    n = frame.axes.T @ disc.up
    return float(o[2] - n[1] * (y - o[1]) / n[2])


@cache
def _spinous_outline(level: str) -> tuple[Array, float]:
    """Hatchet outline of the spinous process in the midline, as (y, z) mm, and its end ``y``.

    The root spans the laminae's junction; the free end is up to ``spinous_height`` tall
    [PANJABI1992 via the table]. In the lordotic lower lumbar spine the extended disc planes
    converge behind the canal, so the free end is centred between the mid-planes of the discs
    above and below and kept :data:`INTERSPINOUS_GAP_MM` clear of them: neighbouring spinous
    processes then never collide, and at L4-L5 and L5-S1 they come close, as in standing films.
    """
    d = VERTEBRAE[level]
    hs = d.spinous_height
    y_tip = _spinous_tip_y(d)
    y_base = -d.body_depth / 2 - d.canal_depth - LAMINA_THICKNESS_MM / 2 + 1.0
    y_end = y_tip + SPINOUS_BORDER_MM
    up = _disc_plane_z(level, "above", y_tip) - INTERSPINOUS_GAP_MM / 2 - SPINOUS_BORDER_MM
    down = _disc_plane_z(level, "below", y_tip) + INTERSPINOUS_GAP_MM / 2 + SPINOUS_BORDER_MM
    zc_tip = 0.5 * (up + down)
    half_tip = min(hs / 2 - SPINOUS_BORDER_MM, 0.5 * (up - down))
    top_tip, bottom_tip = zc_tip + half_tip, zc_tip - half_tip
    lamina, _ = _lamina_corners(d, "right")
    base_top, base_bottom = lamina[1, 2] + 1.5, lamina[2, 2] + 1.0
    outline = np.array(
        [
            [y_base, base_top],
            [y_base, base_bottom],
            [y_end + 7.0, bottom_tip - 0.15 * half_tip],
            [y_end, bottom_tip + 0.1 * half_tip],
            [y_end, top_tip],
            [y_end + 6.0, top_tip + 0.1 * half_tip],
        ]
    )
    return outline, y_end


SPINOUS_BORDER_MM: float = 3.4  # radius of the thickened posterior border


def spinous_field(points: Array, level: str) -> Array:
    """Spinous process: a horizontal hatchet in the midline with a thickened posterior border (mm).

    The plate thins from 6.4 mm at the laminae to 4.4 mm behind; the free border is a rounded
    bar, thicker at its lower end, as on real lumbar spines [BOGDUK2012].
    """
    outline, y_end = _spinous_outline(level)
    plate = _plate(
        points, (0.0, 0.0, 0.0), (0.0, -1.0, 0.0), (0.0, 0.0, 1.0), outline * [-1.0, 1.0], 3.2, 3.0, 2.2
    )
    z_top, z_bottom = outline[4, 1], outline[3, 1]
    border = round_cone(
        points,
        (0.0, y_end + 1.0, z_top),
        (0.0, y_end + 1.6, z_bottom),
        SPINOUS_BORDER_MM - 0.8,
        SPINOUS_BORDER_MM + 0.3,
    )
    return smooth_union(plate, border, 2.0)


def transverse_field(points: Array, level: str, side: str) -> Array:
    """Transverse process from the pedicle-lamina junction, tips ``transverse_span`` apart (mm).

    L1-L4: long, thin and flattened front-to-back, pointing laterally and a little backwards
    [GRAY2016]. L5: a stout cone that also joins the side of the body [BOGDUK2012].
    """
    d = VERTEBRAE[level]
    s = side_sign(side)
    ped = pedicle_box(d, side)
    y_back = ped.center[1] - ped.half_size[1]
    tip_x = s * d.transverse_span / 2
    if level == "L5":
        r_root, r_tip = 0.40 * d.pedicle_height, 4.8
        root = np.array([ped.center[0] - s * 0.15 * d.pedicle_width, y_back + 3.5, ped.center[2] + 1.5])
        tip = np.array([tip_x - s * r_tip, y_back - 2.0, ped.center[2] + 6.0])
        cone = round_cone(points, root, tip, r_root, r_tip)
        body_root = np.array([s * (d.body_width / 2 - 5.0), -d.body_depth / 2 + 8.0, ped.center[2] + 2.0])
        wing = round_cone(points, body_root, 0.55 * root + 0.45 * tip, 5.0, 5.0)
        return smooth_union(cone, wing, 3.0)
    idx = LUMBAR_LEVELS.index(level)
    root = np.array([ped.center[0], y_back + 2.5, ped.center[2] - 0.5])
    tip = np.array([tip_x, y_back - (5.0 - idx), ped.center[2] + 0.5 * idx])
    u = tip - root
    length = float(np.linalg.norm(u))
    u = u / length
    v = np.array([0.0, 0.0, 1.0]) - u[2] * u
    v = v / np.linalg.norm(v)
    h_root, h_tip = 0.75 * d.pedicle_height, 7.0
    outline = np.array(
        [
            [0.0, -h_root / 2],
            [length - h_tip / 2, -h_tip / 2],
            [length, 0.0],
            [length - h_tip / 2, h_tip / 2],
            [0.0, h_root / 2],
        ]
    )
    return _plate(points, root, u, v, outline, TP_THICKNESS_MM / 2, 2.5)


def superior_articular_field(points: Array, level: str, side: str) -> Array:
    """Superior articular process: rises ~9 mm above the body, concave facet facing back-medially.

    A rounded (ellipsoidal) block behind the pedicle, cut by the facet cylinder so the joint surface is the
    concave cylinder of :func:`superior_facet`; a mammillary bump sits on its back edge.
    """
    d = VERTEBRAE[level]
    f = superior_facet(level, side)
    top = float(_body_top_z(d, f.center[1])) + SAP_RISE_MM
    ped = pedicle_box(d, side)
    bottom = ped.center[2] - 3.0
    axes = np.column_stack([f.along, f.normal, f.axis_dir])
    center = f.center - f.normal * (SAP_THICKNESS_MM / 2 - 1.0)
    center[2] = 0.5 * (top + bottom)
    radii = (f.width / 2 + 1.5, SAP_THICKNESS_MM / 2 + 2.0, 0.5 * (top - bottom))
    block = ellipsoid(points, center, radii, axes=axes)
    # Broad base on the pedicle-lamina junction, so the process is a pillar, not a lollipop.
    base = np.array([ped.center[0], ped.center[1] - ped.half_size[1] + 1.0, bottom + 1.0])
    block = smooth_union(block, round_cone(points, base, center, 5.0, 4.0), 3.0)
    outside_cylinder = f.radius - _cylinder_distance(points, f)
    sap = smooth_intersect(block, outside_cylinder, 0.6)
    # Mammillary process: a low tubercle on the process's posterior border [BOGDUK2012].
    mammillary_c = f.center + f.along * (f.width / 2 - 1.0) - f.normal * (0.4 * SAP_THICKNESS_MM)
    mammillary_c[2] = f.center[2] - 4.0
    bump = ellipsoid(points, mammillary_c, (2.6, 2.6, 3.6))
    return smooth_union(sap, bump, 2.5)


@cache
def _inferior_facet(level: str, side: str) -> Facet:
    """The facet of the vertebra below that ``level``'s inferior process meets, in ``level``'s frame."""
    below = _level_below(level)
    rot, off = _relative(below, level)
    return superior_facet(below, side).mapped(rot, off)


def inferior_articular_field(points: Array, level: str, side: str) -> Array:
    """Inferior articular process: hangs below the lamina, convex facet facing forward-laterally.

    Built around the facet of the vertebra below (mapped into this frame through the layout),
    inside its cylinder shrunk by the joint space :data:`FACET_GAP_MM`, so the two sides of the
    joint are congruent. A pars interarticularis bar joins it to this vertebra's lamina.
    """
    d = VERTEBRAE[level]
    f = _inferior_facet(level, side)
    up = f.axis_dir
    axes = np.column_stack([f.along, f.normal, up])
    center = f.center + f.normal * (FACET_GAP_MM + IAP_THICKNESS_MM / 2 - 1.0) + up * 2.0
    radii = (f.width / 2 + 0.5, IAP_THICKNESS_MM / 2 + 1.5, 8.5)
    block = ellipsoid(points, center, radii, axes=axes)
    inside_cylinder = _cylinder_distance(points, f) - (f.radius - FACET_GAP_MM)
    iap = smooth_intersect(block, inside_cylinder, 0.6)
    corners, _ = _lamina_corners(d, side)
    pars_top = 0.5 * (corners[0] + corners[3]) + np.array([0.0, -1.0, 0.0])
    pars = capsule(points, pars_top, center + up * 5.0, 3.6)
    return smooth_union(iap, pars, 2.5)


@cache
def canal_profile(level: str) -> _RasterProfile:
    """Canal cross-section (mm, local xy): oval at L1, triangular (trefoil) at L4-L5 [BOGDUK2012].

    ``canal_width`` between the pedicles, ``canal_depth`` from the body's back to the laminae.
    """
    d = VERTEBRAE[level]
    tau = CANAL_TREFOIL[level]
    hw = d.canal_width / 2
    y_f = -d.body_depth / 2
    y_b = y_f - d.canal_depth
    side_len = (0.62 - 0.3 * tau) * d.canal_depth
    r = 7.5 - 4.5 * tau  # large rounding turns the pentagon into an oval
    # Push the apex back so that rounding leaves the mid-sagittal depth at canal_depth.
    half_angle = np.arctan2(hw, d.canal_depth - side_len)
    y_apex = y_b - r * (1.0 / np.sin(half_angle) - 1.0)
    verts = np.array([[-hw, y_f + 3.0], [hw, y_f + 3.0], [hw, y_f - side_len], [0.0, y_apex], [-hw, y_f - side_len]])
    inset = _inset_convex(verts, r)
    prof = _RasterProfile(inset)
    prof.table = prof.table - r
    return prof


def _canal_field(points: Array, level: str) -> Array:
    """Vertebral canal as a vertical prism (mm); carved from the union with a rounded rim."""
    d2 = canal_profile(level)(points[:, 0], points[:, 1])
    # The canal's front is the body's (concave) back wall: never cut into the body outline.
    outside_body = 0.3 - _body_profile(level)(points[:, 0], points[:, 1])
    return np.maximum(d2, outside_body)


# ---------------------------------------------------------------------------- assembly


def vertebra_bounds(level: str) -> tuple[float, float, float, float, float, float]:
    """Local bounding box of the vertebra (mm): ``(xmin, xmax, ymin, ymax, zmin, zmax)``."""
    d = VERTEBRAE[level]
    ped_x = abs(pedicle_box(d, "right").center[0])
    hx = max(d.transverse_span / 2, d.body_width / 2, ped_x + 10.0)
    ymin = _spinous_tip_y(d) - 2.0
    ymax = d.body_depth / 2 + 2.0
    zmin = -d.body_height / 2 - d.spinous_height * 0.5 - 14.0
    zmax = d.body_height / 2 + SAP_RISE_MM + 6.0
    return (-hx - 2.0, hx + 2.0, ymin, ymax, zmin, zmax)


def vertebra_field(level: str) -> DistanceField:
    """Signed distance field of vertebra ``level`` in its local frame (mm, negative inside)."""
    if level not in VERTEBRAE:
        raise ValueError(f"level must be one of {LUMBAR_LEVELS}, got {level!r}")
    d = VERTEBRAE[level]
    margin = 8.0  # > every blend width and the SDF's slack, see _culled
    sides = ("left", "right")
    # Part boxes (mm) for culling: generous, they only save time.
    body_box = (
        (-d.body_width / 2 - 1, -d.body_depth / 2 - 3, -d.body_height / 2 - 3),
        (d.body_width / 2 + 1, d.body_depth / 2 + 1, d.body_height / 2 + 3),
    )

    def field(points: Array) -> Array:
        posterior = []
        for side in sides:
            ped = pedicle_box(d, side)
            lo, hi = ped.center - ped.half_size - 2.0, ped.center + ped.half_size + 2.0
            posterior.append(_culled(points, lo, hi, margin, partial(pedicle_field, d=d, side=side)))
        body = _culled(points, *body_box, margin, lambda p: body_field(p, level))
        bone = smooth_union(body, np.minimum(posterior[0], posterior[1]), BLEND_BODY_MM)

        parts = []
        for side in sides:
            corners, _ = _lamina_corners(d, side)
            lo, hi = corners.min(axis=0) - 4.0, corners.max(axis=0) + 4.0
            parts.append(_culled(points, lo, hi, margin, partial(lamina_field, d=d, side=side)))
        y_tip = _spinous_tip_y(d)
        outline, _ = _spinous_outline(level)
        sp_lo = (-6.0, y_tip - 1.0, outline[:, 1].min() - 5.0)
        sp_hi = (6.0, outline[:, 0].max() + 1.0, outline[:, 1].max() + 5.0)
        parts.append(_culled(points, sp_lo, sp_hi, margin, lambda p: spinous_field(p, level)))
        for side in sides:
            s = side_sign(side)
            ped = pedicle_box(d, side)
            xs = sorted([ped.center[0] - s * ped.half_size[0] - s * 6.0, s * (d.transverse_span / 2 + 1.0)])
            tp_lo = (xs[0], ped.center[1] - ped.half_size[1] - 12.0, ped.center[2] - 11.0)
            tp_hi = (xs[1], ped.center[1] + ped.half_size[1] + (8.0 if level == "L5" else 0.0), ped.center[2] + 15.0)
            if level == "L5":
                tp_lo = (min(tp_lo[0], s * (d.body_width / 2 - 12.0)), tp_lo[1], tp_lo[2])
                tp_hi = (max(tp_hi[0], s * (d.body_width / 2 - 12.0)), d.body_depth / 2 * 0.2, tp_hi[2])
            parts.append(_culled(points, tp_lo, tp_hi, margin, partial(transverse_field, level=level, side=side)))
            c = superior_facet(level, side).center
            sap_lo = (c[0] - 14.0, c[1] - 14.0, ped.center[2] - 6.0)
            sap_hi = (c[0] + 14.0, c[1] + 14.0, c[2] + SAP_RISE_MM + 2.0)
            parts.append(_culled(points, sap_lo, sap_hi, margin,
                                 partial(superior_articular_field, level=level, side=side)))
            fi = _inferior_facet(level, side)
            corners, _ = _lamina_corners(d, side)
            lo = np.minimum(fi.center - 16.0, corners.min(axis=0))
            hi = np.maximum(fi.center + 16.0, corners.min(axis=0) + 4.0)
            parts.append(_culled(points, lo, hi, margin, partial(inferior_articular_field, level=level, side=side)))
        post = parts[0]
        for p in parts[1:]:
            post = smooth_union(post, p, BLEND_POSTERIOR_MM)
        bone = smooth_union(bone, post, BLEND_POSTERIOR_MM)
        canal = _canal_field(points, level)
        out = smooth_subtract(bone, canal, CANAL_EDGE_MM)
        # Grid values of exactly 0 make degenerate marching-cubes triangles (lines after clean()).
        return np.where(np.abs(out) < 1e-4, 1e-4, out)

    return field


POST_DECIMATION_SMOOTHING: int = 10
@cache
def build_local(level: str) -> pv.PolyData:
    """The meshed vertebra in its local frame (cached; callers get transformed copies)."""
    exact = vertebra_field(level)
    mesh = surface_from_field(
        narrow_band(exact, SDF_SPACING_MM),
        vertebra_bounds(level),
        spacing=SDF_SPACING_MM,
        smoothing_iterations=SMOOTHING_ITERATIONS,
        target_faces=TARGET_FACES["vertebra"],
    )
    # A light volume-preserving pass after decimation softens the flat facets it leaves.
    return mesh.smooth_taubin(n_iter=POST_DECIMATION_SMOOTHING, pass_band=0.1)


def build_vertebra(level: str) -> pv.PolyData:
    """Build lumbar vertebra ``level`` as a closed triangle mesh in global RAS millimetres.

    Parameters
    ----------
    level : str
        ``"L1"``..``"L5"``.

    Returns
    -------
    pyvista.PolyData
        Smooth, closed surface (about ``TARGET_FACES["vertebra"]`` triangles) placed by
        :func:`~explorer.anatomy.layout.spine_layout`.
    """
    if level not in VERTEBRAE:
        raise ValueError(f"level must be one of {LUMBAR_LEVELS}, got {level!r}")
    return transformed(build_local(level), spine_layout().vertebra[level])

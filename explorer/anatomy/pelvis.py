"""The sacrum, the hip bones (ossa coxae) and the upper femurs, sculpted as signed-distance fields.

Every bone is a smooth union of simple primitives carved by smooth subtraction (see
:mod:`explorer.anatomy.implicit`), placed from the shared landmarks of
:mod:`explorer.anatomy.layout`, so the sacral foramina, the greater sciatic foramen and the hip
joint sit exactly where the nerves and piriformis expect them.

All meshes are in global RAS millimetres (+x patient's right, +y anterior, +z superior), origin at
the centre of the S1 upper endplate. Paired bones are built from side-signed control points (never
by mirroring a finished mesh), so both sides keep outward-facing triangles.

Sacral pieces are modelled in each segment's own frame (``sacral_frames()``: +z cranial along
the sacrum, +y toward the pelvic surface), so the bone follows the sacral curve by construction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache, partial
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike

from explorer.anatomy.implicit import (
    Array,
    DistanceField,
    capsule,
    ellipsoid,
    narrow_band,
    round_cone,
    smooth_intersect,
    smooth_subtract,
    smooth_union,
    smoothstep,
    surface_from_field,
    tube,
)
from explorer.anatomy.layout import (
    SACRAL_BODY_SIZE,
    SACRAL_FORAMEN_OFFSET_X,
    SACRAL_FORAMEN_RADIUS,
    SACRAL_SEGMENT_LENGTH,
    SACRAL_SEGMENTS,
    anterior_sacral_foramen,
    greater_sciatic_foramen,
    greater_trochanter,
    hip_center,
    ischial_tuberosity,
    piriformis_path,
    posterior_sacral_foramen,
    sacral_canal_center,
    sacral_frames,
    sacral_junction_frame,
    sciatic_exit_point,
    side_sign,
)
from explorer.anatomy.vertebra import superior_facet
from explorer.lazy import lazy_callable, lazy_module
from explorer.settings import SMOOTHING_ITERATIONS, TARGET_FACES

if TYPE_CHECKING:
    import pyvista as pv
    from scipy.spatial import cKDTree
else:  # imported on first use (explorer/lazy.py): the first page needs none of it
    pv = lazy_module("pyvista")
    cKDTree = lazy_callable("scipy.spatial", "cKDTree")

# Marching-cubes steps (mm). The big flat bones are sampled more coarsely than the vertebrae to keep
# each build under a few seconds; the smoothing and decimation hide the difference.
SACRUM_SPACING_MM: float = 1.2
HIP_BONE_SPACING_MM: float = 1.5
FEMUR_SPACING_MM: float = 1.2

FEMORAL_HEAD_RADIUS_MM: float = 23.0
ACETABULUM_RADIUS_MM: float = 25.5  # head plus ~2.5 mm of cartilage
SACROILIAC_GAP_MM: float = 1.5  # joint space between the auricular surfaces


# ============================================================================================
# Small geometric helpers
# ============================================================================================


def _unit(v: ArrayLike) -> Array:
    v = np.asarray(v, dtype=float)
    return v / np.linalg.norm(v)


def _sided(side: str, x: float, y: float, z: float) -> Array:
    """A global point given for the patient's right side, placed on ``side`` (mm)."""
    return np.array([side_sign(side) * x, y, z])


def _trapezoid_2d(px: Array, py: Array, r_back: Array | float, r_front: Array | float,
                  half_depth: Array | float) -> Array:
    """Exact signed distance to an isosceles trapezoid, symmetric about x = 0 (mm).

    Half-width ``r_back`` at ``py = -half_depth`` and ``r_front`` at ``py = +half_depth``
    (Inigo Quilez's sdTrapezoid, vectorised; the radii may vary per point).
    """
    k1x, k1y = r_front, half_depth
    k2x, k2y = r_front - r_back, 2.0 * half_depth
    px = np.abs(px)
    ca_x = px - np.minimum(px, np.where(py < 0.0, r_back, r_front))
    ca_y = np.abs(py) - half_depth
    t = np.clip(((k1x - px) * k2x + (k1y - py) * k2y) / (k2x * k2x + k2y * k2y), 0.0, 1.0)
    cb_x = px - k1x + k2x * t
    cb_y = py - k1y + k2y * t
    sign = np.where((cb_x < 0.0) & (ca_y < 0.0), -1.0, 1.0)
    return sign * np.sqrt(np.minimum(ca_x * ca_x + ca_y * ca_y, cb_x * cb_x + cb_y * cb_y))


def _extrude(d2: Array, dz: Array) -> Array:
    """Combine a 2-D cross-section distance with a slab distance into a 3-D prism distance."""
    outside = np.hypot(np.maximum(d2, 0.0), np.maximum(dz, 0.0))
    return outside + np.minimum(np.maximum(d2, dz), 0.0)


def _half_space(points: Array, origin: ArrayLike, normal: ArrayLike) -> Array:
    """Signed distance to the half-space behind a plane (negative on the side opposite ``normal``)."""
    return (points - np.asarray(origin, dtype=float)) @ _unit(normal)


def catmull_rom(points: ArrayLike, samples_per_span: int = 12) -> Array:
    """A smooth curve through control points (uniform Catmull-Rom spline), mm."""
    p = np.asarray(points, dtype=float)
    ext = np.vstack([2 * p[0] - p[1], p, 2 * p[-1] - p[-2]])
    out = []
    t = np.linspace(0.0, 1.0, samples_per_span, endpoint=False)[:, None]
    for i in range(1, len(ext) - 2):
        p0, p1, p2, p3 = ext[i - 1], ext[i], ext[i + 1], ext[i + 2]
        out.append(
            0.5
            * (2 * p1 + (-p0 + p2) * t + (2 * p0 - 5 * p1 + 4 * p2 - p3) * t**2 + (-p0 + 3 * p1 - 3 * p2 + p3) * t**3)
        )
    out.append(p[-1][None, :])
    return np.vstack(out)


def _culled(points: Array, lo: ArrayLike, hi: ArrayLike, fn: DistanceField, margin: float = 8.0) -> Array:
    """Evaluate ``fn`` only near a box that holds the whole shape; a lower bound elsewhere.

    Points farther than ``margin`` from the box get their distance to the box, which never
    overestimates the true distance and cannot move a surface blended with ``k < margin`` (mm).
    """
    lo = np.asarray(lo, dtype=float)
    hi = np.asarray(hi, dtype=float)
    out = np.linalg.norm(np.maximum(lo - points, 0.0) + np.maximum(points - hi, 0.0), axis=1)
    inside = out < margin
    if inside.any():
        out[inside] = fn(points[inside])
    return out


def _box_around(pts: ArrayLike, radius: float) -> tuple[Array, Array]:
    p = np.atleast_2d(np.asarray(pts, dtype=float))
    return p.min(axis=0) - radius, p.max(axis=0) + radius


def sphere_sweep(points: Array, centers: Array, radii: Array, k: int = 4) -> Array:
    """Signed distance to a union of many spheres (a thick sheet or curve sampled densely), mm.

    Exact outside when the ``k`` nearest centres include the closest sphere (true for densely
    and smoothly sampled sheets) and close enough inside for marching cubes. Cull the query
    points first (see :func:`sheet_field`): a KD-tree query costs a few microseconds per point.
    """
    tree = cKDTree(centers)
    dist, idx = tree.query(points, k=min(k, len(centers)))
    dist, idx = np.atleast_2d(dist.T).T, np.atleast_2d(idx.T).T
    return (dist - radii[idx]).min(axis=1)


@dataclass(frozen=True)
class _SweepChunk:
    centers: Array
    radii: Array
    lo: Array
    hi: Array


def sweep_chunks(
    centers: Array, radii: Array, grid_shape: tuple[int, int], blocks: tuple[int, int]
) -> list[_SweepChunk]:
    """Split sphere centres sampled on a ``grid_shape`` (u, v) lattice into ``blocks`` tiles.

    Each tile gets its bounding box, so points far from a tile never query its spheres.
    """
    nu, nv = grid_shape
    c = centers.reshape(nu, nv, 3)
    r = radii.reshape(nu, nv)
    out = []
    for us in np.array_split(np.arange(nu), blocks[0]):
        for vs in np.array_split(np.arange(nv), blocks[1]):
            # overlap one row so neighbouring tiles leave no seam
            u_idx = np.arange(max(us[0] - 1, 0), min(us[-1] + 2, nu))
            v_idx = np.arange(max(vs[0] - 1, 0), min(vs[-1] + 2, nv))
            cc = c[np.ix_(u_idx, v_idx)].reshape(-1, 3)
            rr = r[np.ix_(u_idx, v_idx)].reshape(-1)
            out.append(_SweepChunk(cc, rr, cc.min(axis=0) - rr.max(), cc.max(axis=0) + rr.max()))
    return out


def sheet_field(points: Array, chunks: Sequence[_SweepChunk], margin: float = 8.0) -> Array:
    """Distance to a swept sheet given as tiles; exact near it, a lower bound far away (mm)."""
    d = np.full(len(points), np.inf)
    for ch in chunks:
        d = np.minimum(d, _culled(points, ch.lo, ch.hi, partial(sphere_sweep, centers=ch.centers, radii=ch.radii), margin))
    return d


# ============================================================================================
# Sacrum
# ============================================================================================


@dataclass(frozen=True)
class _SacralSection:
    """Cross-section of one sacral segment at its top or bottom, in the segment frame (mm).

    Attributes
    ----------
    body : tuple of float
        Half-width and half-depth of the fused vertebral body (an ellipse centred on the axis).
    wing_front, wing_back : float
        Half-width of the lateral masses at their pelvic (front) and dorsal (back) faces; the
        sacrum is a keystone, wider in front, so the auricular faces look laterally and backwards.
    front, back : float
        Local y of the pelvic surface of the lateral masses and of the dorsal surface.
    """

    body: tuple[float, float]
    wing_front: float
    wing_back: float
    front: float
    back: float


# Top and bottom sections of each segment. The bottom of one segment is the top of the next, so
# the segments join seamlessly; the lateral masses reach a little in front of the foramina
# (anterior_sacral_foramen sits at 0.35 x body depth) so the foramina are real holes.
_SACRAL_SECTIONS: dict[str, tuple[_SacralSection, _SacralSection]] = {
    "S1": (
        _SacralSection((25.0, 17.5), 53.0, 38.0, 11.0, -40.0),
        _SacralSection((22.0, 15.5), 51.0, 36.0, 14.0, -36.0),
    ),
    "S2": (
        _SacralSection((20.0, 14.0), 51.0, 36.0, 12.0, -34.0),
        _SacralSection((16.5, 12.0), 45.0, 33.0, 10.5, -29.0),
    ),
    "S3": (_SacralSection((15.5, 11.0), 45.0, 33.0, 9.5, -28.0), _SacralSection((13.5, 9.5), 35.0, 28.0, 8.5, -24.0)),
    "S4": (_SacralSection((12.5, 8.5), 35.0, 28.0, 7.5, -23.0), _SacralSection((10.5, 7.0), 26.0, 21.0, 6.5, -19.0)),
    "S5": (_SacralSection((9.5, 6.5), 26.0, 21.0, 5.5, -18.0), _SacralSection((5.5, 4.0), 11.0, 9.0, 3.5, -12.0)),
}
# Sacral canal: half-width at its front and back (triangular, base forward) and half-depth (mm).
# At S1 about 30 x 14 mm, narrowing downward [continuous with the lumbar canal above].
_SACRAL_CANAL: dict[str, tuple[float, float, float]] = {
    "S1": (15.0, 6.0, 7.0),
    "S2": (12.5, 5.0, 5.5),
    "S3": (10.5, 4.5, 4.8),
    "S4": (9.0, 4.0, 4.2),
    "S5": (7.5, 3.5, 3.6),
}
_ALA_TOP_BELOW_ENDPLATE_MM: float = 6.5  # the alae slope down from the S1 endplate
_SACRUM_BLEND_MM: float = 3.0
# The S1 superior articular process sits close behind the S1 pedicle, as the lumbar ones do, so the
# S1 lateral recess is about as deep as the lumbar ones (Ciric I, et al. J Neurosurg.
# 1980;53(4):433-443: 5 mm or more is normal); it lies this much further forward than first built
# (the L5-S1 recess measured 14.6 mm with it further back). S1_FACET_CENTER in layout.py moves with it.
S1_SAP_FORWARD_MM: float = 8.0
# The S1 pedicle joins the back of the S1 body to the process, its top about level with the endplate
# (as the lumbar pedicles join the upper part of their bodies), and floors the L5-S1 foramen: the
# foraminal height runs from the lower border of the L5 pedicle to the upper border of this one
# (Hasegawa T, et al. J Bone Joint Surg Am. 1995;77(1):32-38). Without it the floor was the ala,
# 6.5 mm and more below the endplate, and the L5-S1 foramen measured 26 mm.
S1_PEDICLE_X_MM: float = 21.0
S1_PEDICLE_RADIUS_MM: float = 6.0


def _dorsal_foramen_x(seg: str) -> float:
    """Distance of the dorsal foramina from the midline along segment ``seg`` (mm)."""
    below = SACRAL_SEGMENTS[min(SACRAL_SEGMENTS.index(seg) + 1, 3)]
    return 0.5 * (posterior_sacral_foramen(seg, "right")[0] + posterior_sacral_foramen(below, "right")[0])


def _segment_z(seg: str, overlap: float = 1.5) -> tuple[float, float]:
    """Local z of the bottom and top of a segment, extended by ``overlap`` into its neighbours (mm).

    The segments meet at an angle (the sacral curve), so each reaches a few mm into the next to
    fill the wedge that would otherwise open on the convex dorsal side.
    """
    half = SACRAL_SEGMENT_LENGTH[seg] / 2
    top = half if seg == "S1" else half + overlap
    bottom = -half - (overlap if seg != "S5" else 0.0)
    return bottom, top


def _lerp_section(seg: str, z: Array) -> tuple[Array, ...]:
    """Cross-section parameters interpolated along the segment's local z (per point)."""
    top, bottom = _SACRAL_SECTIONS[seg]
    half = SACRAL_SEGMENT_LENGTH[seg] / 2
    t = np.clip((z + half) / (2 * half), 0.0, 1.0)[:, None]  # 0 at the bottom, 1 at the top
    a = np.array([*bottom.body, bottom.wing_front, bottom.wing_back, bottom.front, bottom.back])
    b = np.array([*top.body, top.wing_front, top.wing_back, top.front, top.back])
    v = a + (b - a) * t
    return tuple(v[:, i] for i in range(v.shape[1]))


def _segment_body(local: Array, seg: str) -> Array:
    """The fused vertebral body of one segment: elliptic, tapering; S1's top is the endplate."""
    x, y, z = local[:, 0], local[:, 1], local[:, 2]
    rx, ry, *_ = _lerp_section(seg, z)
    k0 = np.hypot(x / rx, y / ry)
    k1 = np.hypot(x / rx**2, y / ry**2)
    d_ellipse = k0 * (k0 - 1.0) / np.maximum(k1, 1e-9)
    z_bottom, z_top = _segment_z(seg, overlap=3.0)
    rounding = 2.5
    dz = np.maximum(z - z_top, z_bottom - z) + rounding
    return _extrude(d_ellipse + rounding, dz) - rounding


def _segment_lateral_mass(local: Array, seg: str, grow: float = 0.0, raise_top: float = 0.0) -> Array:
    """Lateral masses and dorsal wall of one segment: a keystone slab, wider in front (mm).

    At S1 these are the alae: their top lies below the endplate and curves down laterally, and
    their front edge recedes laterally, as the fan-shaped wings of a real sacrum do. ``grow``
    widens the slab sideways and ``raise_top`` lifts the alae; the hip bone uses a grown copy to
    shape the ilium's auricular part so it matches the sacrum.
    """
    x, y, z = local[:, 0], local[:, 1], local[:, 2]
    _, _, wing_f, wing_b, front, back = _lerp_section(seg, z)
    ax = np.abs(x)
    z_bottom, z_plane = _segment_z(seg, overlap=5.0)
    z_top: Array | float = z_plane  # at S1 a height per point (the alae curve down laterally)
    rounding = 7.0 if seg in ("S1", "S2") else (5.0 if seg == "S3" else 3.5)
    if seg == "S1":
        z_top = z_plane - _ALA_TOP_BELOW_ENDPLATE_MM - 12.0 * (np.minimum(ax, wing_f) / wing_f) ** 2 + raise_top
    wing_f, wing_b = wing_f + grow, wing_b + grow
    # The pelvic surface recedes beyond the foramina (transversely concave, alae swept back).
    recede = (0.28 if seg == "S1" else 0.12) * np.maximum(ax - 22.0, 0.0)
    y_eff = y + recede
    yc, yh = 0.5 * (front + back), 0.5 * (front - back)
    d2 = _trapezoid_2d(x, y_eff - yc, wing_b - rounding, wing_f - rounding, yh - rounding)
    dz = np.maximum(z - z_top, z_bottom - z) + rounding
    return _extrude(d2, dz) - rounding


def _canal_field(points: Array) -> Array:
    """The sacral canal (triangular, base forward), open above into the lumbar canal (mm)."""
    d = np.full(len(points), np.inf)
    for seg in SACRAL_SEGMENTS:
        f = sacral_frames()[seg]
        local = f.to_local(points)
        c = f.to_local(sacral_canal_center(seg))
        r_front, r_back, half_depth = _SACRAL_CANAL[seg]
        z_bottom, z_top = _segment_z(seg, overlap=3.0)
        if seg == "S1":
            z_top += 40.0  # open to the lumbar canal above
        rounding = 2.5
        d2 = (
            _trapezoid_2d(local[:, 0], local[:, 1] - c[1], r_back - rounding, r_front - rounding, half_depth - rounding)
            - rounding
        )
        dz = np.abs(local[:, 2] - 0.5 * (z_top + z_bottom)) - 0.5 * (z_top - z_bottom)
        d = smooth_union(d, _extrude(d2, dz), 2.0) if np.isfinite(d).any() else _extrude(d2, dz)
    return d


def _hiatus_field(points: Array) -> Array:
    """The sacral hiatus: the canal's roof missing over S5 and the lower half of S4 (mm)."""
    f4, f5 = sacral_frames()["S4"], sacral_frames()["S5"]
    a = f4.to_global((0.0, -12.0, -4.0))
    b = f5.to_global((0.0, -12.0, -12.0))
    back = f5.axes[:, 1] * -14.0
    return smooth_union(capsule(points, a, b, 5.0), capsule(points, a + back, b + back, 5.5), 3.0)


def _foramina_field(points: Array) -> Array:
    """Sacral foramina S1..S4: tunnels from the canal to the pelvic and dorsal foramina (mm).

    Each root leaves the canal's side through a short intervertebral foramen, which opens
    forward into the anterior (pelvic) foramen and backward (thinner) into the dorsal foramen.
    """
    d = np.full(len(points), np.inf)
    for seg in ("S1", "S2", "S3", "S4"):
        junction = sacral_junction_frame(seg)
        seg_frame = sacral_frames()[seg]
        ant_dir, r = junction.axes[:, 1], SACRAL_FORAMEN_RADIUS[seg]
        canal_y = seg_frame.to_local(sacral_canal_center(seg))[1]
        half_w = _SACRAL_CANAL[seg][0]
        depth = SACRAL_BODY_SIZE[seg][1]
        for side in ("left", "right"):
            s = side_sign(side)
            front = anterior_sacral_foramen(seg, side)
            back = posterior_sacral_foramen(seg, side)
            d = np.minimum(d, round_cone(points, front + 10.0 * ant_dir, back - 8.0 * ant_dir, r + 0.3, 0.75 * r))
            lateral_canal = seg_frame.to_global((s * (half_w - 4.0), canal_y, 2.0))
            into_foramen = junction.to_global((s * SACRAL_FORAMEN_OFFSET_X[seg], -depth / 2 + 1.0, 0.0))
            d = np.minimum(d, capsule(points, lateral_canal, into_foramen, r))
    return d


def _superior_articular_process(points: Array, side: str) -> Array:
    """S1 superior articular process: its facet faces back and medially, toward L5.

    The articular surface is the L5 facet joint's own concave cylinder
    (:func:`explorer.anatomy.vertebra.superior_facet`), so the L5 inferior process, built inside
    the same cylinder, meets it with an even joint space.
    """
    f = sacral_frames()["S1"]
    s = side_sign(side)
    local = f.to_local(points)
    top = SACRAL_SEGMENT_LENGTH["S1"] / 2
    normal = np.array([-0.6 * s, -0.8, 0.0])  # posteromedial facet
    tangent = np.array([0.8 * s, -0.6, 0.0])
    axes = np.column_stack([normal, tangent, [0.0, 0.0, 1.0]])
    block = ellipsoid(local, (s * 20.0, -34.5 + S1_SAP_FORWARD_MM, top - 5.0), (5.0, 10.0, 7.0), axes)
    # A stout root (the pedicle-lamina junction) anchors it to the ala.
    root = capsule(local, (s * 22.0, -30.0 + S1_SAP_FORWARD_MM, top - 10.0),
                   (s * 22.0, -33.0 + S1_SAP_FORWARD_MM, top - 2.0), 6.5)
    block = smooth_union(block, root, 3.0)
    # The S1 pedicle: from the back of the body to the process, its top about level with the
    # endplate, so it floors the L5-S1 foramen as the pedicle below does at every lumbar level.
    pedicle = capsule(local, (s * S1_PEDICLE_X_MM, -14.0, top - S1_PEDICLE_RADIUS_MM - 1.0),
                      (s * S1_PEDICLE_X_MM, -26.0 + S1_SAP_FORWARD_MM, top - S1_PEDICLE_RADIUS_MM - 1.0),
                      S1_PEDICLE_RADIUS_MM)
    block = smooth_union(block, pedicle, 2.0)
    joint = superior_facet("S1", side)
    rel = local - joint.axis_point
    radial = rel - np.outer(rel @ joint.axis_dir, joint.axis_dir)
    joint_cylinder = np.linalg.norm(radial, axis=1) - joint.radius  # negative inside
    return smooth_subtract(block, joint_cylinder, 0.5)


def _dorsal_crests(points: Array) -> Array:
    """Dorsal relief: median crest (fused spinous tubercles), intermediate and lateral crests.

    The intermediate crests (fused articular processes) run just medial to the posterior
    foramina, the lateral crests (fused transverse processes) just lateral to them (mm).
    """
    d = np.full(len(points), np.inf)
    for seg in ("S1", "S2", "S3", "S4"):
        local = sacral_frames()[seg].to_local(points)
        top, bottom = _SACRAL_SECTIONS[seg]
        half = SACRAL_SEGMENT_LENGTH[seg] / 2
        # The S1 tubercle and crests start low, below the L5-S1 interlaminar gap.
        z_tubercle, z_start = (-4.0, half - 10.0) if seg == "S1" else (1.0, half)
        back = 0.5 * (top.back + bottom.back)
        d = np.minimum(d, ellipsoid(local, (0.0, back - 1.5, z_tubercle), (3.5, 6.0, 8.0)))
        x_foramen = _dorsal_foramen_x(seg)
        for s in (-1.0, 1.0):
            for dx, lift, radius in ((-9.0, 1.5, 3.0), (11.0, 2.0, 3.5)):  # intermediate, lateral
                x = s * (x_foramen + dx)
                crest = capsule(local, (x, top.back + lift, z_start), (x, bottom.back + lift, -half), radius)
                d = np.minimum(d, crest)
    return d


def _sacrum_outline(points: Array) -> Array:
    """The sacrum's outer form without canal, foramina or crests (cheap, for fitting the ilia)."""
    bodies = np.full(len(points), np.inf)
    masses = np.full(len(points), np.inf)
    for seg in ("S1", "S2", "S3"):
        local = sacral_frames()[seg].to_local(points)
        bodies = np.minimum(bodies, _segment_body(local, seg))
        masses = np.minimum(masses, _segment_lateral_mass(local, seg))
    return smooth_union(bodies, masses, _SACRUM_BLEND_MM)


def sacrum_field(points: Array) -> Array:
    """Signed distance to the sacrum (mm, negative inside); global points ``(N, 3)``.

    Public so piriformis can lie on the sacrum's pelvic surface.
    """
    points = np.asarray(points, dtype=float)
    bodies = np.full(len(points), np.inf)
    masses = np.full(len(points), np.inf)
    for seg in SACRAL_SEGMENTS:
        local = sacral_frames()[seg].to_local(points)
        bodies = np.minimum(bodies, _segment_body(local, seg))
        masses = np.minimum(masses, _segment_lateral_mass(local, seg))
    d = smooth_union(bodies, masses, _SACRUM_BLEND_MM)
    d = smooth_union(d, _dorsal_crests(points), 3.0)
    for side in ("left", "right"):
        d = smooth_union(d, _superior_articular_process(points, side), 3.0)
    d = smooth_subtract(d, _canal_field(points), 1.5)
    d = smooth_subtract(d, _hiatus_field(points), 1.5)
    d = smooth_subtract(d, _foramina_field(points), 2.0)
    return d


SACRUM_BOUNDS: tuple[float, ...] = (-60.0, 60.0, -72.0, 30.0, -100.0, 34.0)


def build_sacrum() -> pv.PolyData:
    """The sacrum: S1..S5 fused along the sacral curve, alae, canal, foramina and S1 facets.

    Returns
    -------
    pyvista.PolyData
        Closed triangle mesh in global RAS millimetres (about ``TARGET_FACES["sacrum"]``
        triangles). The S1 upper endplate is centred on the origin and faces forward-up by the
        sacral slope; the anterior sacral foramina S1..S4 are open holes at
        ``anterior_sacral_foramen(seg, side)``.
    """
    return surface_from_field(
        narrow_band(sacrum_field, SACRUM_SPACING_MM),
        SACRUM_BOUNDS,
        spacing=SACRUM_SPACING_MM,
        smoothing_iterations=SMOOTHING_ITERATIONS,
        target_faces=TARGET_FACES["sacrum"],
    )


# ============================================================================================
# Hip bone (os coxae)
# ============================================================================================
# Control points for the patient's right side in global mm (x is negated for the left side).
# They are placed around the shared landmarks: the acetabulum around hip_center(), the ischial
# tuberosity at ischial_tuberosity(), the greater sciatic notch clear of greater_sciatic_foramen().

# Iliac crest from the posterior superior iliac spine (PSIS) to the anterior superior iliac spine
# (ASIS). Seen from above it is S-shaped: concave outward behind, concave inward in front; its top
# is level with the L4-L5 disc (Tuffier's line).
_ILIAC_CREST: tuple[tuple[float, float, float], ...] = (
    (40.0, -66.0, -8.0),  # PSIS
    (44.0, -60.0, 18.0),
    (58.0, -44.0, 37.0),
    (84.0, -22.0, 47.0),  # highest point
    (110.0, 0.0, 44.0),
    (124.0, 20.0, 31.0),  # iliac tubercle, widest
    (125.0, 40.0, 9.0),
    (118.0, 55.0, -15.0),  # ASIS
)
# Lower edge of the wing: from the posterior inferior iliac spine (PIIS) along the lower end of the
# sacroiliac joint and the arcuate line (the pelvic brim), then forward to the anterior inferior
# iliac spine (AIIS). The thick ilium body, the sciatic notch and the acetabulum hang below it.
_WING_BASE: tuple[tuple[float, float, float], ...] = (
    (50.0, -58.0, -38.0),  # PIIS
    (55.0, -33.0, -42.0),
    (59.0, -8.0, -47.0),  # lower end of the sacroiliac joint's front
    (64.0, 14.0, -60.0),  # arcuate line
    (80.0, 34.0, -64.0),
    (104.0, 48.0, -58.0),  # AIIS
)
# Lower edge of the gluteal surface: the border of the greater sciatic notch and the acetabular
# rim. Between it and the wing's base lies the thick body of the ilium.
_GLUTEAL_BASE: tuple[tuple[float, float, float], ...] = (
    (50.0, -60.0, -40.0),  # PIIS
    (60.0, -38.0, -50.0),  # upper limb of the greater sciatic notch
    (73.0, -14.0, -66.0),  # apex of the notch
    (82.0, 2.0, -80.0),  # above the back of the acetabulum
    (92.0, 20.0, -80.0),  # above the acetabulum
    (99.0, 38.0, -72.0),
    (104.0, 48.0, -58.0),  # AIIS
)
# The arcuate line and pecten pubis: the pelvic brim, from the sacroiliac joint to the symphysis.
_PELVIC_BRIM: tuple[tuple[float, float, float], ...] = (
    (64.0, 22.0, -66.0),
    (64.0, 32.0, -76.0),
    (58.0, 46.0, -92.0),
    (42.0, 56.0, -103.0),
    (22.0, 62.0, -110.0),  # pubic tubercle region
    (8.0, 60.0, -114.0),
)
_PSIS_TO_PIIS: tuple[tuple[float, float, float], ...] = (
    (40.0, -66.0, -8.0),
    (46.0, -62.0, -26.0),
    (50.0, -54.0, -40.0),
)

_ACETABULUM_INCLINATION_DEG: float = 45.0  # opening tilted down from the horizontal [coronal]
_ACETABULUM_ANTEVERSION_DEG: float = 20.0
_SYMPHYSIS_HALF_GAP_MM: float = 2.5  # fibrocartilaginous disc between the pubic bodies


def _pts(side: str, raw: Sequence[Sequence[float]]) -> Array:
    return np.array([_sided(side, *p) for p in raw])


def acetabular_axis(side: str) -> Array:
    """Unit vector out of the acetabular cup: lateral, downward and forward (anteverted)."""
    inc, av = np.radians(_ACETABULUM_INCLINATION_DEG), np.radians(_ACETABULUM_ANTEVERSION_DEG)
    return np.array([side_sign(side) * np.cos(av) * np.sin(inc), np.sin(av), -np.cos(av) * np.cos(inc)])


def _resample(curve: Array, n: int) -> Array:
    """Resample a polyline at ``n`` points evenly spaced by arc length."""
    seg = np.linalg.norm(np.diff(curve, axis=0), axis=1)
    s = np.concatenate([[0.0], np.cumsum(seg)])
    t = np.linspace(0.0, s[-1], n)
    return np.column_stack([np.interp(t, s, curve[:, i]) for i in range(3)])


_WING_GRID: tuple[int, int] = (150, 64)  # samples along the crest (u) and up the sheet (v)
_WING_BASE_V: float = 0.3  # where the wing's base curve sits on the ilium sheet's v axis


@lru_cache(maxsize=2)
def _iliac_wing_samples(side: str) -> tuple[Array, Array]:
    """Sphere centres and radii sweeping the ilium as one sheet (thickened, bowed).

    The sheet runs (v = 0 -> 1) from the notch and acetabular rim up to the wing's base (pelvic
    brim), then up to the crest; u runs from the posterior spines to the anterior ones. The upper
    part is bowed laterally so the iliac fossa is concave, thin in the fossa (~4-5 mm) and thick
    at the crest, behind the sacroiliac joint and in the body above the acetabulum, as in a real
    ilium.
    """
    nu, nv = _WING_GRID
    top = _resample(catmull_rom(_pts(side, _ILIAC_CREST), 16), nu)
    mid = _resample(catmull_rom(_pts(side, _WING_BASE), 16), nu)
    bottom = _resample(catmull_rom(_pts(side, _GLUTEAL_BASE), 16), nu)
    u = np.linspace(0.0, 1.0, nu)[:, None, None]
    v = np.linspace(0.0, 1.0, nv)[None, :, None]
    vm = _WING_BASE_V
    lower = bottom[:, None, :] + (mid - bottom)[:, None, :] * np.clip(v / vm, 0.0, 1.0)
    upper = mid[:, None, :] + (top - mid)[:, None, :] * np.clip((v - vm) / (1 - vm), 0.0, 1.0)
    sheet = np.where(v < vm, lower, upper)
    lateral = _unit((side_sign(side) * 0.82, -0.50, -0.25))
    w = np.clip((v - vm) / (1 - vm), 0.0, 1.0)
    bow = 11.0 * np.sin(np.pi * u) ** 1.2 * np.sin(np.pi * w)
    sheet = sheet + bow * lateral
    uu, vv = np.broadcast_arrays(u[..., 0], v[..., 0])
    ww = np.clip((vv - vm) / (1 - vm), 0.0, 1.0)
    half_thickness = (
        2.2
        + 4.0 * smoothstep(0.80, 1.0, ww)  # iliac crest lips
        + 2.0 * smoothstep(0.80, 1.0, ww) * np.exp(-(((uu - 0.72) / 0.08) ** 2))  # tubercle
        + 8.0 * (1.0 - smoothstep(0.0, 0.35, uu)) * (1.0 - 0.6 * smoothstep(0.5, 0.9, ww))  # tuberosity
        + 6.0 * (1.0 - smoothstep(0.0, 0.35, ww))  # body of the ilium, thick above the acetabulum
        + 2.5 * smoothstep(0.9, 1.0, uu)  # anterior border and spines
    )
    return sheet.reshape(-1, 3), half_thickness.reshape(-1)


@lru_cache(maxsize=2)
def _iliac_wing_chunks(side: str) -> list[_SweepChunk]:
    centers, radii = _iliac_wing_samples(side)
    return sweep_chunks(centers, radii, _WING_GRID, (6, 3))


def _iliac_wing(points: Array, side: str) -> Array:
    return sheet_field(points, _iliac_wing_chunks(side))


def _tube_culled(points: Array, path: Array, radii: Sequence[float]) -> Array:
    lo, hi = _box_around(path, max(radii))
    return _culled(points, lo, hi, lambda p: tube(p, path, np.asarray(radii, dtype=float)))


def _ellipsoid_culled(points: Array, center: Array, radii: Sequence[float], axes: Array | None = None) -> Array:
    lo, hi = _box_around(center, max(radii))
    return _culled(points, lo, hi, lambda p: ellipsoid(p, center, radii, axes))


def _auricular_mass(points: Array, side: str) -> Array:
    """The ilium's auricular part and tuberosity: the sacral wing's outline grown sideways.

    Built from the S1-S2 lateral masses widened by ~16 mm and cut off at the sacrum's side; the
    sacrum is carved out of it later, so the auricular surface fits the sacrum's exactly.
    """
    s = side_sign(side)
    lo, hi = (np.array([25.0, -80.0, -75.0]), np.array([75.0, 20.0, 35.0]))
    if s < 0:
        lo, hi = np.array([-hi[0], lo[1], lo[2]]), np.array([-lo[0], hi[1], hi[2]])

    def grown(p: Array) -> Array:
        d = np.full(len(p), np.inf)
        inner = np.full(len(p), np.inf)
        for seg in ("S1", "S2"):
            local = sacral_frames()[seg].to_local(p)
            d = np.minimum(d, _segment_lateral_mass(local, seg, grow=16.0, raise_top=4.0))
            inner = np.minimum(inner, _segment_lateral_mass(local, seg, grow=-3.0, raise_top=20.0))
        # A shell along the sacrum's side: no lip reaching over the top of the ala.
        return smooth_intersect(d, -inner, 3.0)

    return _culled(points, lo, hi, grown)


def _acetabulum(points: Array, side: str) -> Array:
    """The acetabular cup around the femoral head: a thick hemispherical shell with a notch."""
    h = hip_center(side)
    n = acetabular_axis(side)
    lo, hi = _box_around(h, 40.0)

    def cup(p: Array) -> Array:
        shell = np.linalg.norm(p - (h - 3.0 * n), axis=1) - 33.0
        shell = smooth_intersect(shell, _half_space(p, h + 4.0 * n, n), 3.0)
        # Acetabular notch: the rim is open at the bottom (front-inferior) of the cup.
        down = _unit(np.array([0.0, 0.35, -1.0]) - np.dot([0.0, 0.35, -1.0], n) * n)
        shell = smooth_subtract(shell, capsule(p, h + 26.0 * down + 6.0 * n, h + 40.0 * down + 6.0 * n, 6.5), 2.0)
        return shell

    return _culled(points, lo, hi, cup)


def _acetabular_cavity(points: Array, side: str) -> Array:
    h = hip_center(side)
    return np.linalg.norm(points - h, axis=1) - ACETABULUM_RADIUS_MM


def _ilium_body(points: Array, side: str) -> Array:
    """The thick ilium between the wing, the pelvic brim, the sciatic notch and the acetabulum."""
    center = _sided(side, 71.0, 6.0, -62.0)
    return _ellipsoid_culled(points, center, (13.0, 24.0, 20.0))


def _ischium(points: Array, side: str) -> Array:
    """Posterior column and ischium down to the tuberosity, with the ischial spine."""
    it = ischial_tuberosity(side)
    column = _tube_culled(
        points, np.array([_sided(side, 76.0, -2.0, -88.0), _sided(side, 62.0, -2.0, -128.0)]), (12.5, 11.0)
    )
    # Tuberosity: a rough oval boss, long axis along the ischium.
    axis = _unit(_sided(side, -6.0, 8.0, -30.0))
    side_ax = _unit(np.cross(axis, [0.0, 1.0, 0.0]))
    axes = np.column_stack([side_ax, np.cross(axis, side_ax), axis])
    tuber = _ellipsoid_culled(points, it + np.array([0.0, -2.0, 0.0]), (12.0, 11.0, 20.0), axes)
    spine = _tube_culled(
        points, np.array([_sided(side, 64.0, -10.0, -100.0), _sided(side, 50.0, -24.0, -108.0)]), (6.0, 2.5)
    )
    d = smooth_union(column, tuber, 6.0)
    d = smooth_union(d, spine, 3.0)
    return d


_OBTURATOR_CENTER: tuple[float, float, float] = (48.0, 30.0, -132.0)  # centre of the obturator foramen


def _ribbon_samples(
    path: Array, half_widths: Sequence[float], radii: Sequence[float], toward: Array
) -> tuple[Array, Array]:
    """Sphere centres and radii for a flat bar along ``path`` (mm).

    The bar is ``2 * half_width`` wide in the direction of ``toward`` (perpendicular to the path)
    and ``2 * radius`` thick, like the flat ischiopubic ramus around the obturator foramen.
    """
    curve = catmull_rom(path, 10)
    t_ctrl = np.linspace(0.0, 1.0, len(path))
    t = np.linspace(0.0, 1.0, len(curve))
    hw, rr = np.interp(t, t_ctrl, half_widths), np.interp(t, t_ctrl, radii)
    tangent = np.gradient(curve, axis=0)
    tangent /= np.linalg.norm(tangent, axis=1, keepdims=True)
    centers, out_r = [], []
    for c, tan, e, r in zip(curve, tangent, hw, rr, strict=True):
        w = toward - c
        w = w - np.dot(w, tan) * tan
        w /= np.linalg.norm(w)
        for k in np.linspace(-e, e, max(2, int(np.ceil(2 * e)) + 1)):
            centers.append(c + k * w)
            out_r.append(r)
    return np.array(centers), np.array(out_r)


def _pubis(points: Array, side: str) -> Array:
    """Superior pubic ramus, pubic body at the symphysis and the flat ischiopubic ramus."""
    s = side_sign(side)
    it = ischial_tuberosity(side)
    superior = _tube_culled(
        points,
        np.array(
            [_sided(side, 72.0, 40.0, -100.0), _sided(side, 40.0, 56.0, -110.0), _sided(side, 16.0, 60.0, -118.0)]
        ),
        (12.0, 9.5, 10.5),
    )
    body = _ellipsoid_culled(points, _sided(side, 13.0, 57.0, -124.0), (10.5, 10.0, 20.0))
    ramus_path = np.array(
        [
            _sided(side, 12.0, 54.0, -136.0),
            _sided(side, 26.0, 38.0, -150.0),
            _sided(side, 42.0, 18.0, -157.0),
            it + np.array([s * -2.0, 6.0, -4.0]),
        ]
    )
    centers, radii = _ribbon_samples(
        ramus_path, (7.0, 7.5, 7.5, 9.0), (5.0, 4.5, 4.5, 7.0), _sided(side, *_OBTURATOR_CENTER)
    )
    lo, hi = _box_around(centers, float(radii.max()))
    inferior = _culled(points, lo, hi, lambda p: sphere_sweep(p, centers, radii))
    d = smooth_union(superior, body, 5.0)
    d = smooth_union(d, inferior, 5.0)
    # Flat symphyseal face at the midline.
    return smooth_intersect(d, _SYMPHYSIS_HALF_GAP_MM - s * points[:, 0], 2.0)


def _pelvic_brim(points: Array, side: str) -> Array:
    path = catmull_rom(_pts(side, _PELVIC_BRIM), 6)
    return _tube_culled(points, path, [4.5] * len(path))


def _posterior_spines(points: Array, side: str) -> Array:
    """The thick posterior border from the PSIS down to the PIIS."""
    return _tube_culled(points, _pts(side, _PSIS_TO_PIIS), (6.5, 6.0, 6.5))


def _sciatic_passage(points: Array, side: str) -> Array:
    """Space kept free for piriformis and the sciatic nerve through the greater sciatic foramen."""
    gsf = greater_sciatic_foramen(side)
    path = piriformis_path(side)
    exit_pt = sciatic_exit_point(side)
    d = np.linalg.norm(points - gsf, axis=1) - 13.0
    d = smooth_union(d, tube(points, path[:3], np.array([11.0, 12.0, 11.0])), 4.0)
    d = smooth_union(d, capsule(points, gsf, exit_pt + np.array([0.0, 0.0, -6.0]), 11.0), 4.0)
    return d


def hip_bone_field(points: Array, side: str) -> Array:
    """Signed distance to one hip bone (mm, negative inside); global points ``(N, 3)``."""
    points = np.asarray(points, dtype=float)
    d = _iliac_wing(points, side)
    d = smooth_union(d, _auricular_mass(points, side), 8.0)
    d = smooth_union(d, _posterior_spines(points, side), 5.0)
    d = smooth_union(d, _ilium_body(points, side), 8.0)
    d = smooth_union(d, _pelvic_brim(points, side), 3.0)
    d = smooth_union(d, _acetabulum(points, side), 7.0)
    d = smooth_union(d, _ischium(points, side), 7.0)
    d = smooth_union(d, _pubis(points, side), 6.0)
    d = smooth_subtract(d, _acetabular_cavity(points, side), 1.5)
    d = smooth_subtract(d, _sciatic_passage(points, side), 3.0)
    # The auricular surface fits the sacrum, leaving the joint space.
    b = np.asarray(SACRUM_BOUNDS)
    sac = _culled(points, b[0::2], b[1::2], _sacrum_outline, margin=6.0)
    d = smooth_subtract(d, sac - SACROILIAC_GAP_MM, 1.0)
    return d


def _hip_bounds(side: str) -> tuple[float, ...]:
    s = side_sign(side)
    xs = sorted((s * 0.0, s * 140.0))
    return (xs[0], xs[1], -80.0, 78.0, -175.0, 60.0)


def build_hip_bone(side: str) -> pv.PolyData:
    """One hip bone (ilium, ischium, pubis) for the patient's ``side`` (``"left"``/``"right"``).

    Returns
    -------
    pyvista.PolyData
        Closed triangle mesh in global RAS millimetres (about ``TARGET_FACES["hip-bone"]``
        triangles): iliac wing and crest (PSIS to ASIS), auricular surface fitted to the sacrum,
        greater sciatic notch, acetabulum around ``hip_center(side)``, ischium down to
        ``ischial_tuberosity(side)`` and the pubic rami to the symphysis.
    """
    side_sign(side)  # validates
    return surface_from_field(
        narrow_band(lambda p: hip_bone_field(p, side), HIP_BONE_SPACING_MM),
        _hip_bounds(side),
        spacing=HIP_BONE_SPACING_MM,
        smoothing_iterations=SMOOTHING_ITERATIONS,
        target_faces=TARGET_FACES["hip-bone"],
    )


# ============================================================================================
# Femur (upper end)
# ============================================================================================

NECK_SHAFT_ANGLE_DEG: float = 130.0
FEMORAL_ANTEVERSION_DEG: float = 12.0
FEMORAL_NECK_LENGTH_MM: float = 52.0  # head centre to the shaft axis, along the neck
SHAFT_OBLIQUITY_DEG: float = 8.0  # the shaft runs down and in toward the knee
FEMUR_BOTTOM_Z_MM: float = -330.0  # cut at mid-thigh


@dataclass(frozen=True)
class FemurAxes:
    """Axes of one upper femur (global mm, unit vectors).

    Attributes
    ----------
    shaft_up : ndarray
        Along the shaft, pointing up (and slightly laterally).
    neck : ndarray
        Along the neck from the shaft toward the head (medial, up, forward by the anteversion).
    medial : ndarray
        Perpendicular to the shaft in the coronal plane, pointing to the midline.
    junction : ndarray
        Where the neck axis meets the shaft axis.
    """

    shaft_up: Array
    neck: Array
    medial: Array
    junction: Array


def femur_axes(side: str) -> FemurAxes:
    """Shaft and neck axes from the neck-shaft angle, anteversion and shaft obliquity."""
    s = side_sign(side)
    ob = np.radians(SHAFT_OBLIQUITY_DEG)
    up = np.array([s * np.sin(ob), 0.0, np.cos(ob)])
    medial = np.array([-s * np.cos(ob), 0.0, np.sin(ob)])
    av = np.radians(FEMORAL_ANTEVERSION_DEG)
    toward_head = np.cos(av) * medial + np.sin(av) * np.array([0.0, 1.0, 0.0])
    a = np.radians(180.0 - NECK_SHAFT_ANGLE_DEG)
    neck = _unit(np.cos(a) * up + np.sin(a) * toward_head)
    junction = hip_center(side) - FEMORAL_NECK_LENGTH_MM * neck
    return FemurAxes(up, neck, medial, junction)


def femur_field(points: Array, side: str) -> Array:
    """Signed distance to one upper femur (mm, negative inside); global points ``(N, 3)``."""
    points = np.asarray(points, dtype=float)
    ax = femur_axes(side)
    h = hip_center(side)
    gt = greater_trochanter(side)
    lateral, post = -ax.medial, np.array([0.0, -1.0, 0.0])
    head = np.linalg.norm(points - h, axis=1) - FEMORAL_HEAD_RADIUS_MM
    # Neck: narrowest just lateral to the head, flaring into the trochanters.
    neck = round_cone(points, h - 8.0 * ax.neck, ax.junction + 6.0 * ax.shaft_up, 14.0, 18.0)
    # Shaft down to the mid-thigh cut, slightly thicker below the trochanters.
    t_bottom = (FEMUR_BOTTOM_Z_MM - ax.junction[2]) / ax.shaft_up[2]
    bottom = ax.junction + t_bottom * ax.shaft_up
    shaft = round_cone(points, ax.junction + 12.0 * ax.shaft_up, bottom + 12.0 * ax.shaft_up, 17.0, 13.5)
    # Greater trochanter: a broad block under the landmark tip, lateral and posterior to the neck.
    gt_block = ellipsoid(
        points,
        gt + 8.0 * lateral - 22.0 * ax.shaft_up + 2.0 * post,
        (12.0, 17.0, 26.0),
        np.column_stack([lateral, np.cross(ax.shaft_up, lateral), ax.shaft_up]),
    )
    gt_tip = capsule(points, gt + 2.0 * lateral - 3.0 * ax.shaft_up, gt + 6.0 * lateral - 16.0 * ax.shaft_up, 8.0)
    # Lesser trochanter: posteromedial knob below the neck; intertrochanteric crest behind.
    lt_base = ax.junction - 30.0 * ax.shaft_up
    lt_tip = lt_base + 16.0 * ax.medial + 11.0 * post - 3.0 * ax.shaft_up
    lesser = round_cone(points, lt_base, lt_tip, 10.0, 6.5)
    crest = capsule(points, gt + 6.0 * post - 24.0 * ax.shaft_up, lt_tip - 4.0 * ax.medial + 2.0 * ax.shaft_up, 5.0)
    d = smooth_union(head, neck, 4.0)
    d = smooth_union(d, shaft, 10.0)
    d = smooth_union(d, gt_block, 10.0)
    d = smooth_union(d, gt_tip, 5.0)
    d = smooth_union(d, lesser, 6.0)
    d = smooth_union(d, crest, 5.0)
    return d


def _femur_bounds(side: str) -> tuple[float, ...]:
    s = side_sign(side)
    xs = sorted((s * 55.0, s * 160.0))
    return (xs[0], xs[1], -35.0, 55.0, FEMUR_BOTTOM_Z_MM - 15.0, -75.0)


def build_femur(side: str) -> pv.PolyData:
    """Upper femur for the patient's ``side``: head, neck, trochanters and shaft to mid-thigh.

    Returns
    -------
    pyvista.PolyData
        Closed triangle mesh in global RAS millimetres (about ``TARGET_FACES["femur"]``
        triangles). The head (radius 23 mm) is centred on ``hip_center(side)``; the neck meets
        the shaft at 130 degrees with 12 degrees of anteversion; the greater trochanter's tip is
        at ``greater_trochanter(side)``; the shaft ends, rounded, at z = -330 mm.
    """
    return surface_from_field(
        narrow_band(lambda p: femur_field(p, side), FEMUR_SPACING_MM),
        _femur_bounds(side),
        spacing=FEMUR_SPACING_MM,
        smoothing_iterations=SMOOTHING_ITERATIONS,
        target_faces=TARGET_FACES["femur"],
    )

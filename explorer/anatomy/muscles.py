"""Muscles as signed-distance sculptures: piriformis, the landmark muscle of the buttock.

Piriformis runs from the front of the sacrum, out through the greater sciatic foramen, to the
top of the greater trochanter; the sciatic nerve leaves the pelvis just below it, which is why a
tight or irritated piriformis can mimic sciatica. The muscle follows
:func:`explorer.anatomy.layout.piriformis_path`, so it always sits above the nerve's exit point.

All meshes are in global RAS millimetres (+x patient's right, +y anterior, +z superior).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from explorer.anatomy.implicit import Array, narrow_band, surface_from_field
from explorer.anatomy.layout import piriformis_path, sacral_junction_frame
from explorer.anatomy.pelvis import catmull_rom, sacrum_field, sphere_sweep
from explorer.lazy import lazy_module
from explorer.settings import TARGET_FACES

if TYPE_CHECKING:
    import pyvista as pv
else:  # imported on first use (explorer/lazy.py): the first page needs none of it
    pv = lazy_module("pyvista")

MUSCLE_SPACING_MM: float = 1.0
MUSCLE_SMOOTHING_ITERATIONS: int = 20

# Piriformis thickness (radius, mm): broad belly at the foramen, narrow round tendon at the
# trochanter [adult cadaver and MRI reports: belly about 20 mm thick, tendon about 7-8 mm].
PIRIFORMIS_BELLY_RADIUS_MM: float = 9.0
PIRIFORMIS_ORIGIN_RADIUS_MM: float = 3.0  # half-thickness of the flat origin
PIRIFORMIS_FAN_HALF_WIDTH_MM: float = 14.0  # the origin spans S2-S4
PIRIFORMIS_TENDON_RADIUS_MM: float = 3.8


def _arc_fraction(curve: Array) -> Array:
    seg = np.linalg.norm(np.diff(curve, axis=0), axis=1)
    s = np.concatenate([[0.0], np.cumsum(seg)])
    return s / s[-1]


def piriformis_radii(t: Array, t_belly: float) -> Array:
    """Spindle profile along the muscle (``t`` = 0 at the sacrum, 1 at the trochanter), mm.

    Rises from the origin to the belly at ``t_belly`` (the sciatic foramen), then tapers to the
    tendon with a smooth (cosine) shoulder that drops quickly past the foramen, so the muscle reads as fusiform.
    """
    t = np.asarray(t, dtype=float)
    r0, rb, rt = PIRIFORMIS_ORIGIN_RADIUS_MM, PIRIFORMIS_BELLY_RADIUS_MM, PIRIFORMIS_TENDON_RADIUS_MM
    rise = r0 + (rb - r0) * np.sin(0.5 * np.pi * np.clip(t / t_belly, 0.0, 1.0))
    fall_t = np.clip((t - t_belly) / (1.0 - t_belly), 0.0, 1.0)
    fall = rt + (rb - rt) * (0.5 * (1.0 + np.cos(np.pi * fall_t))) ** 1.5
    return np.where(t <= t_belly, rise, fall)


def _sacral_surface_axes() -> tuple[Array, Array]:
    """Cranial axis and pelvic-surface normal of the sacrum between S2 and S3 (unit vectors)."""
    f2, f3 = sacral_junction_frame("S2"), sacral_junction_frame("S3")
    up = f2.axes[:, 2] + f3.axes[:, 2]
    front = f2.axes[:, 1] + f3.axes[:, 1]
    return up / np.linalg.norm(up), front / np.linalg.norm(front)


def piriformis_samples(side: str) -> tuple[Array, Array]:
    """Sphere centres and radii sweeping piriformis: a flat fan turning into a round spindle.

    At the origin the cross-section is a flat band ~35 mm tall lying on the front of the sacrum
    (lateral to the S2-S3 foramina), which narrows and thickens into the round belly in the
    greater sciatic foramen, then tapers to the tendon on the greater trochanter.
    """
    path = piriformis_path(side).copy()
    up, front = _sacral_surface_axes()
    # The landmark origin lies just under the bone surface; lift the fan onto the surface.
    depth = -float(sacrum_field(path[:1])[0])
    path[0] = path[0] + (depth + PIRIFORMIS_ORIGIN_RADIUS_MM - 1.0) * front
    curve = catmull_rom(path, 12)
    t = _arc_fraction(curve)
    # Thickest just inside the foramen, so the belly clears the sciatic nerve leaving below it.
    t_belly = 0.85 * float(t[np.argmin(np.linalg.norm(curve - path[1], axis=1))])
    radii = piriformis_radii(t, t_belly)
    half_width = PIRIFORMIS_FAN_HALF_WIDTH_MM * np.clip(1.0 - t / t_belly, 0.0, 1.0) ** 1.3
    tangent = np.gradient(curve, axis=0)
    tangent /= np.linalg.norm(tangent, axis=1, keepdims=True)
    centers, rs = [], []
    for c, tan, r, e in zip(curve, tangent, radii, half_width, strict=True):
        width_dir = up - np.dot(up, tan) * tan
        width_dir /= np.linalg.norm(width_dir)
        n = max(1, int(np.ceil(2 * e / 1.0)) + 1)
        for k in np.linspace(-e, e, n):
            centers.append(c + k * width_dir)
            rs.append(r)
    return np.array(centers), np.array(rs)


def piriformis_field(points: Array, side: str) -> Array:
    """Signed distance to piriformis (mm, negative inside); global points ``(N, 3)``."""
    centers, radii = piriformis_samples(side)
    return sphere_sweep(points, centers, radii)


def build_piriformis(side: str) -> pv.PolyData:
    """Piriformis for the patient's ``side``: a fusiform muscle from the sacrum to the trochanter.

    Returns
    -------
    pyvista.PolyData
        Closed triangle mesh in global RAS millimetres (about ``TARGET_FACES["muscle"]``
        triangles): a flat fan on the front of the sacrum (lateral to the S2-S3 foramina), the
        belly (radius ~9 mm) through the greater sciatic foramen, and a ~4 mm tendon ending on
        the medial face of the greater trochanter's tip.
    """
    centers, radii = piriformis_samples(side)
    lo = centers.min(axis=0) - radii.max() - 2.0
    hi = centers.max(axis=0) + radii.max() + 2.0
    bounds = (lo[0], hi[0], lo[1], hi[1], lo[2], hi[2])
    return surface_from_field(
        narrow_band(lambda p: sphere_sweep(p, centers, radii), MUSCLE_SPACING_MM),
        bounds,
        spacing=MUSCLE_SPACING_MM,
        smoothing_iterations=MUSCLE_SMOOTHING_ITERATIONS,
        target_faces=TARGET_FACES["muscle"],
    )

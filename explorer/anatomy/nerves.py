"""The neural structures: dural sac, conus medullaris, cauda equina, nerve roots and sciatic nerve.

Course of a lumbar root (standard teaching; e.g. Bogduk N. Clinical and Radiological Anatomy of
the Lumbar Spine, 5th ed., Elsevier 2012): it leaves the conus near L1-L2, descends inside the
dural sac, crosses the disc above its exit still inside the sac at its front and side (the most
anterolateral of the roots in the sac: Wall EJ, Cohen MS, Massie JB, Rydevik B, Garfin SR. Cauda
equina anatomy I: intrathecal nerve root organization. Spine. 1990;15(12):1244-1247), leaves the
sac in its dural sleeve just below that disc, runs down the lateral recess medial to its own
pedicle (the *traversing* course, where a paracentral disc herniation or a lateral recess
stenosis of the level above catches it), turns under that pedicle and leaves through the foramen
below it (the *exiting* course). So the L4 root exits at L4-L5 and the L5 root crosses the L4-L5
disc (in the sac's front corner, nearest a central disc) before exiting at L5-S1. The lower sacral
and coccygeal roots lie in the back of the sac (Wall 1990).

The L4 (in part) and L5 roots form the lumbosacral trunk over the sacral ala; with S1-S3 (which
leave through the anterior sacral foramina) they form the sciatic nerve on the front of
piriformis, which leaves the pelvis through the greater sciatic foramen below piriformis
(Standring S, ed. Gray's Anatomy, 42nd ed., Elsevier 2020).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np

from explorer.anatomy.frames import Frame, Points
from explorer.anatomy.layout import (
    SACRAL_BODY_SIZE,
    SACRAL_FORAMEN_OFFSET_X,
    anterior_sacral_foramen,
    canal_center_local,
    extraforaminal_local,
    greater_trochanter,
    ischial_tuberosity,
    lateral_recess_local,
    pedicle_box,
    root_exit_local,
    sacral_canal_center,
    sacral_frames,
    sacral_junction_frame,
    sciatic_exit_point,
    sciatic_formation_point,
    side_sign,
    spine_layout,
)
from explorer.anatomy.morphometry import (
    DISC_LEVELS,
    DISCS,
    LUMBAR_LEVELS,
    ROOT_DIAMETER,
    SCIATIC_DIAMETER,
    THECAL_SAC_DIAMETER,
    VERTEBRAE,
)
from explorer.anatomy.structures import ROOTS
from explorer.anatomy.sweep import rings_for_budget, smooth_path, sweep_tube
from explorer.lazy import lazy_module
from explorer.settings import TARGET_FACES

if TYPE_CHECKING:
    import pyvista as pv
else:  # imported on first use (explorer/lazy.py): the first page needs none of it
    pv = lazy_module("pyvista")

# Roots inside the sac, in the order they leave it; the last three stay in the cauda equina mesh.
INTRATHECAL_ORDER: tuple[str, ...] = ROOTS + ("S4", "S5", "Co")
INTRATHECAL_RADIUS_FACTOR: float = 0.45  # a root inside the sac is thinner than at its ganglion
CORD_RADIUS: tuple[float, float] = (4.5, 3.8)  # conus width, depth (mm) before it tapers
# Where a root sits as it leaves the sac in its sleeve: lateral to the sac wall, as far forward as
# its anterolateral lane, just below the disc above its exit (relative to the canal centre there).
DEPARTURE_GAP_MM: float = 2.0
DEPARTURE_BELOW_DISC_MM: float = 1.5  # below the disc's lower edge at the back
SLEEVE_FORWARD_MM: float = 0.0  # the sleeve lies this much further forward than the root's lane
# The cross-section of the sac (Wall EJ, Cohen MS, Massie JB, Rydevik B, Garfin SR. Cauda equina
# anatomy I: intrathecal nerve root organization. Spine. 1990;15(12):1244-1247): the lower sacral
# (S2-S5) and coccygeal roots lie in the dorsal part of the sac; the lumbar and first sacral roots
# form an oblique layer in front of and lateral to them, the next root to leave the most
# anterolateral. Angles (degrees) on an ellipse at LANE_RADIAL of the sac's half axes: 0 is straight
# lateral, negative forward, 90 straight back.
DORSAL_ROOTS: tuple[str, ...] = ("S2", "S3", "S4", "S5", "Co")
LAYER_ANGLES: tuple[float, float] = (-35.0, 35.0)  # the next to leave .. the last of the layer
DORSAL_ANGLES: tuple[float, float] = (50.0, 80.0)  # S2 .. coccygeal, toward the midline
LANE_RADIAL: float = 0.75
CAUDA_ROOT_RADIUS_MM: dict[str, float] = {"S4": 1.0, "S5": 0.8, "Co": 0.6}  # in the cauda equina mesh


# ----------------------------------------------------------------------------- the canal


@dataclass(frozen=True)
class CanalStation:
    """A cross-section of the canal: its centre, orientation and sac size (mm)."""

    name: str
    frame: Frame  # origin at the canal centre, axes of the level
    sac_half_width: float
    sac_half_depth: float


@lru_cache(maxsize=1)
def canal_stations() -> tuple[CanalStation, ...]:
    """Canal cross-sections from above L1 down to the end of the dural sac at S2."""
    layout = spine_layout()
    hw, hd = THECAL_SAC_DIAMETER[0] / 2, THECAL_SAC_DIAMETER[1] / 2
    stations: list[CanalStation] = []
    top = layout.upper_endplate["L1"]
    l1 = VERTEBRAE["L1"]
    stations.append(CanalStation("top", Frame(top.to_global(canal_center_local(l1) + (0, 0, 12.0)), top.axes), hw, hd))
    for level, disc_id in zip(LUMBAR_LEVELS, DISC_LEVELS, strict=True):
        dims = VERTEBRAE[level]
        f = layout.vertebra[level]
        stations.append(CanalStation(level, Frame(f.to_global(canal_center_local(dims)), f.axes), hw, hd))
        df = layout.disc[disc_id]
        stations.append(CanalStation(disc_id, Frame(df.to_global(canal_center_local(dims)), df.axes), hw, hd))
    for seg, scale in (("S1", 0.8), ("S2", 0.35)):
        f = sacral_frames()[seg]
        stations.append(CanalStation(seg, Frame(sacral_canal_center(seg), f.axes), hw * scale, hd * scale))
    return tuple(stations)


def canal_station(name: str) -> CanalStation:
    """The canal cross-section called ``name`` (a level, a disc such as ``L4-L5``, or ``S1``)."""
    return next(s for s in canal_stations() if s.name == name)


def departure_station(root: str) -> str:
    """Where a root leaves the dural sac: at the disc (or sacral segment) above its own exit.

    Roots that leave at a disc (L2 .. S1) still run inside the sac, anterolaterally, at the disc
    itself and take off in their sleeves just below it (see :func:`sleeve_point`), so a central
    disc reaches them first (Wall 1990; Bogduk N. Clinical and Radiological Anatomy of the Lumbar
    Spine, 5th ed. 2012: the sleeve arises at or just below the disc above the foramen).
    """
    if root == "L1":
        return "top"
    if root.startswith("L"):
        return f"L{int(root[1]) - 1}-{root}"
    return {"S1": "L5-S1", "S2": "S1", "S3": "S2"}[root]


def _leaves_below_disc(root: str) -> bool:
    return "-" in departure_station(root)


def _angle(root: str, remaining: list[str]) -> float:
    """Lane angle (degrees) of ``root`` among the roots still in the sac at a station."""
    layer = [r for r in remaining if r not in DORSAL_ROOTS]
    group, (lo, hi) = (layer, LAYER_ANGLES) if root in layer else (
        [r for r in remaining if r in DORSAL_ROOTS], DORSAL_ANGLES)
    k = group.index(root)
    return lo if len(group) == 1 else lo + (hi - lo) * k / (len(group) - 1)


def lane_local(root: str, station: str, side: str) -> Points:
    """Centre of an intrathecal root in the sac cross-section at ``station`` (station frame, mm).

    Raises
    ------
    ValueError
        If the root is not inside the sac there.
    """
    index = _station_index(station)
    st = canal_stations()[index]
    remaining = [r for r in INTRATHECAL_ORDER if _still_inside(r, index)]
    if root not in remaining:
        raise ValueError(f"root {root} is not inside the sac at {station}")
    a = np.radians(_angle(root, remaining))
    return np.array([side_sign(side) * LANE_RADIAL * st.sac_half_width * np.cos(a),
                     -LANE_RADIAL * st.sac_half_depth * np.sin(a), 0.0])


def _lane(root: str, station_index: int, side: str) -> Points:
    """Position (global mm) of an intrathecal root at a station (see :func:`lane_local`)."""
    st = canal_stations()[station_index]
    return st.frame.to_global(lane_local(root, st.name, side))


def _station_index(name: str) -> int:
    return [s.name for s in canal_stations()].index(name)


def _still_inside(root: str, station_index: int) -> bool:
    """True while ``root`` runs inside the sac at this station.

    A root leaving at a disc is still inside at that disc; the others (L1 at the top, S2 and S3
    in the sacrum) are in their sleeves by their departure station.
    """
    if root in ("S4", "S5", "Co"):
        return True
    departure = _station_index(departure_station(root))
    return departure >= station_index if _leaves_below_disc(root) else departure > station_index


def intrathecal_roots(station: str) -> tuple[str, ...]:
    """The roots inside the sac at a station, next to leave first (ids as in INTRATHECAL_ORDER)."""
    index = _station_index(station)
    return tuple(r for r in INTRATHECAL_ORDER if _still_inside(r, index))


def sleeve_point(root: str, side: str) -> Points:
    """Where a root leaves the sac in its dural sleeve (global mm).

    Just outside the sac's anterolateral wall; for roots leaving at a disc, just below that disc
    (where a paracentral herniation or a lateral recess stenosis of that disc catches it).
    """
    dep = canal_station(departure_station(root))
    z, forward = 0.0, LANE_RADIAL * dep.sac_half_depth * np.sin(np.radians(-LAYER_ANGLES[0])) + SLEEVE_FORWARD_MM
    if _leaves_below_disc(root):
        z = -(DISCS[dep.name].height_posterior / 2 + DEPARTURE_BELOW_DISC_MM)
    return dep.frame.to_global((side_sign(side) * (dep.sac_half_width + DEPARTURE_GAP_MM), forward, z))


# ----------------------------------------------------------------------------- roots


def root_radius(root: str) -> float:
    """Radius (mm) of a root where it leaves the foramen."""
    return ROOT_DIAMETER[root] / 2


def _intrathecal_points(root: str, side: str) -> list[Points]:
    stop = _station_index(departure_station(root)) + (1 if _leaves_below_disc(root) else 0)
    return [_lane(root, i, side) for i in range(stop)]


def _inside_the_sac(root: str, side: str) -> tuple[list[Points], list[float]]:
    """Control points and radii from the conus to where the root leaves the sac.

    It leaves in its dural sleeve just outside the sac's anterolateral wall, just below the disc
    above its exit (:func:`sleeve_point`).
    """
    r = root_radius(root)
    pts = _intrathecal_points(root, side)
    radii = [r * INTRATHECAL_RADIUS_FACTOR] * len(pts)
    pts.append(sleeve_point(root, side))
    radii.append(r * 0.6)
    return pts, radii


def intrathecal_mask(root: str, side: str, path: Points) -> np.ndarray:
    """True for the samples of a root's centre line that lie inside the sac (before its sleeve)."""
    sleeve = sleeve_point(root, side)
    cut = int(np.argmin(np.linalg.norm(path - sleeve, axis=1)))
    out = np.zeros(len(path), dtype=bool)
    out[:cut] = True
    return out


@lru_cache(maxsize=8)
def cauda_course(root: str, side: str) -> tuple[Points, np.ndarray]:
    """Centre line (mm) and radius of one of the lowest roots kept in the cauda equina mesh."""
    radius = CAUDA_ROOT_RADIUS_MM[root]
    control = [_lane(root, i, side) for i in range(len(canal_stations()) - 1)]
    control.append(sacral_canal_center("S3") + (side_sign(side) * 3.0, 0.0, 0.0))
    path = smooth_path(np.asarray(control), samples=rings_for_budget(TARGET_FACES["cauda-equina"] // 6, 6))
    return path, np.full(len(path), radius)


def _lumbar_course(root: str, side: str) -> tuple[list[Points], list[float]]:
    """Control points and radii from the sac to beyond the foramen, for L1-L5."""
    s = side_sign(side)
    level = root
    dims = VERTEBRAE[level]
    frame = spine_layout().vertebra[level]
    r = root_radius(root)
    ped = pedicle_box(dims, side)
    pts, radii = _inside_the_sac(root, side)
    recess = lateral_recess_local(dims, side)
    pts.append(frame.to_global(recess))  # traversing course in the lateral recess
    radii.append(r * 0.75)
    exit_local = root_exit_local(dims, side, 2 * r)
    pts.append(frame.to_global((s * (dims.canal_width / 2 - 0.5), exit_local[1], ped.bottom_z - r + 0.5)))
    radii.append(r * 0.9)
    pts.append(frame.to_global(exit_local))  # in the foramen, under its own pedicle
    radii.append(r)
    pts.append(frame.to_global(extraforaminal_local(dims, side, 2 * r)))
    radii.append(r)
    return pts, radii


def _lumbar_distal(root: str, side: str) -> tuple[list[Points], list[float]]:
    """Beyond the foramen: L1-L3 into the lumbar plexus, L4-L5 toward the sciatic nerve."""
    s = side_sign(side)
    r = root_radius(root)
    if root in ("L1", "L2", "L3"):
        dims = VERTEBRAE[root]
        frame = spine_layout().vertebra[root]
        exit_z = root_exit_local(dims, side, 2 * r)[2]
        a = frame.to_global((s * (dims.body_width / 2 + 14.0), 0.05 * dims.body_depth, exit_z - 24.0))
        b = frame.to_global((s * (dims.body_width / 2 + 20.0), 0.25 * dims.body_depth, exit_z - 48.0))
        return [a, b], [r, r * 0.4]
    s1 = sacral_frames()["S1"]
    over_ala = s1.to_global((s * (38.0 if root == "L5" else 44.0), 24.0, 14.0 if root == "L5" else 22.0))
    down_ala = s1.to_global((s * 42.0, 22.0, -12.0))
    formation = sciatic_formation_point(side)
    return [over_ala, down_ala, formation + (0.0, 0.0, 4.0)], [r, r, r * 1.1]


def _sacral_course(root: str, side: str) -> tuple[list[Points], list[float]]:
    """S1-S3: down the sacral canal, out through the anterior sacral foramen, to the sciatic."""
    s = side_sign(side)
    r = root_radius(root)
    pts, radii = _inside_the_sac(root, side)
    seg_frame = sacral_frames()[root]
    depth = SACRAL_BODY_SIZE[root][1]
    junction = sacral_junction_frame(root)
    xf = SACRAL_FORAMEN_OFFSET_X[root]
    pts.append(seg_frame.to_global((s * 8.0, -depth / 2 - 5.0, 2.0)))  # lateral sacral canal
    radii.append(r * 0.7)
    pts.append(junction.to_global((s * xf, -depth / 2 + 1.0, 0.0)))  # entering the foramen
    radii.append(r * 0.9)
    pts.append(anterior_sacral_foramen(root, side))
    radii.append(r)
    pts.append(junction.to_global((s * (xf + 8.0), depth / 2 + 7.0, -3.0)))
    radii.append(r)
    pts.append(sciatic_formation_point(side) + (0.0, 0.0, -2.0 * ("S1", "S2", "S3").index(root)))
    radii.append(r * 1.1)
    return pts, radii


def root_course(root: str, side: str, samples: int | None = None) -> tuple[Points, np.ndarray]:
    """Smooth centre line (mm) and radius per sample of one nerve root, conus to destination."""
    if root.startswith("L"):
        pts, radii = _lumbar_course(root, side)
        more_pts, more_r = _lumbar_distal(root, side)
        pts += more_pts
        radii += more_r
    else:
        pts, radii = _sacral_course(root, side)
    control = np.asarray(pts)
    path = smooth_path(control, spacing_mm=3.0, samples=samples)
    return path, _radii_along(control, np.asarray(radii), path)


def _radii_along(control: Points, radii: np.ndarray, path: Points) -> np.ndarray:
    """Interpolate control radii along the path by the nearest control point's arc position."""
    arc = np.r_[0.0, np.cumsum(np.linalg.norm(np.diff(path, axis=0), axis=1))]
    nearest = [int(np.argmin(np.linalg.norm(path - c, axis=1))) for c in control]
    at = np.maximum.accumulate(arc[nearest])
    out = np.interp(arc, at, radii)
    out[0] = max(out[0] * 0.6, 0.3)  # rounded start inside the sac
    return out


def build_root(root: str, side: str) -> pv.PolyData:
    """One nerve root as a tube (point array ``arc_mm`` runs from the conus outward)."""
    sides = 10 if root in ("L4", "L5", "S1") else 8
    path, radii = root_course(root, side, samples=rings_for_budget(TARGET_FACES["root"], sides))
    return sweep_tube(path, radii, sides=sides)


# ----------------------------------------------------------------------------- sac, cord


def _canal_path(end_station: str | None = None, samples: int | None = None) -> tuple[Points, np.ndarray, np.ndarray]:
    stations = list(canal_stations())
    if end_station is not None:
        stations = stations[: _station_index(end_station) + 1]
    control = np.array([s.frame.origin for s in stations])
    path = smooth_path(control, spacing_mm=3.0, samples=samples)
    hw = _radii_along(control, np.array([s.sac_half_width for s in stations]), path)
    hd = _radii_along(control, np.array([s.sac_half_depth for s in stations]), path)
    return path, hw, hd


def build_thecal_sac() -> pv.PolyData:
    """The dural sac: an oval tube in the canal from above L1, tapering shut at S2."""
    sides = 20
    path, hw, hd = _canal_path(samples=rings_for_budget(TARGET_FACES["thecal-sac"], sides))
    hw[-1], hd[-1] = 0.35 * hw[-2], 0.35 * hd[-2]  # the sac closes at its lower end
    hw[0], hd[0] = hw[1], hd[1]
    return sweep_tube(path, hw, hd, sides=sides, width_direction=(1.0, 0.0, 0.0))


def build_conus() -> pv.PolyData:
    """The end of the spinal cord, tapering to its tip at L1-L2, with the thin filum terminale."""
    path, _, _ = _canal_path()
    tip = canal_station("L1-L2").frame.origin
    tip_index = int(np.argmin(np.linalg.norm(path - tip, axis=1)))
    cord = path[: tip_index + 1]
    arc = np.r_[0.0, np.cumsum(np.linalg.norm(np.diff(cord, axis=0), axis=1))]
    shape = np.clip((arc[-1] - arc) / 18.0, 0.0, 1.0) ** 0.6  # cone over the last 18 mm
    cord_mesh = sweep_tube(cord, CORD_RADIUS[0] * shape + 0.4, CORD_RADIUS[1] * shape + 0.4, sides=12,
                           width_direction=(1.0, 0.0, 0.0))
    filum = sweep_tube(path[tip_index:-1:3], 0.5, sides=5)
    return _merged([cord_mesh, filum])


def build_cauda_equina() -> pv.PolyData:
    """The lowest roots of the cauda equina (S4, S5, coccygeal) that stay inside the sac.

    The roots L1-S3 are their own structures (so each can be highlighted along its whole
    course); together with these they make up the cauda equina seen inside the sac.
    """
    parts = []
    for side in ("left", "right"):
        for root in CAUDA_ROOT_RADIUS_MM:
            path, radius = cauda_course(root, side)
            parts.append(sweep_tube(path, radius, sides=6))
    return _merged(parts)


# ----------------------------------------------------------------------------- sciatic


def sciatic_course(side: str) -> Points:
    """Centre line of the sciatic nerve: pelvis -> below piriformis -> back of the thigh (mm)."""
    s = side_sign(side)
    formation = sciatic_formation_point(side)
    exit_point = sciatic_exit_point(side)
    gt, it = greater_trochanter(side), ischial_tuberosity(side)
    between = 0.5 * (gt + it) + (0.0, -26.0, 0.0)  # behind the hip, between trochanter and tuber
    thigh_upper = np.array([s * 96.0, -22.0, -210.0])
    thigh_lower = np.array([s * 98.0, -20.0, -320.0])
    approach = 0.5 * (formation + exit_point) + (s * 4.0, -4.0, -4.0)  # stays under piriformis
    control = np.vstack([formation, approach, exit_point, between, thigh_upper, thigh_lower])
    return smooth_path(control, samples=rings_for_budget(TARGET_FACES["sciatic"], 14))


def build_sciatic(side: str) -> pv.PolyData:
    """The sciatic nerve, widening from its roots to about 15 mm as it leaves the pelvis."""
    path = sciatic_course(side)
    arc = np.r_[0.0, np.cumsum(np.linalg.norm(np.diff(path, axis=0), axis=1))]
    radius = np.interp(arc, [0.0, 25.0, arc[-1]], [4.5, SCIATIC_DIAMETER / 2, SCIATIC_DIAMETER / 2 * 0.85])
    return sweep_tube(path, radius, sides=14)


def _merged(parts: list[pv.PolyData]) -> pv.PolyData:
    """Several tubes as one triangle mesh (kept as separate closed pieces)."""
    return parts[0].merge(parts[1:]).extract_surface(algorithm="dataset_surface").triangulate()

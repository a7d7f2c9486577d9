"""Posture of one motion segment: the spine bent forward (flexion), upright (neutral) or leaning back
(extension), for the canal measurements and the section pictures.

Posture changes the measurements and the 2D sections only; the 3D view always shows the neutral
model (moving every mesh of the scene on each posture change would re-upload the whole scene).

What moves (all in the sagittal plane of the disc, about the segment's instantaneous axis of
rotation):

- **The vertebra above** (and so everything above the disc) turns rigidly by the segment's angle
  about an axis in the back half of the disc, at the lower endplate: the instantaneous axes of
  flexion-extension lie near the upper endplate of the lower vertebra, behind its centre
  (Pearcy MJ, Bogduk N. Instantaneous axes of rotation of the lumbar intervertebral joints.
  Spine. 1988;13(9):1033-1041).
- **The angle** is each segment's range from upright, flexion / extension in degrees, from biplanar
  radiographs of healthy men standing (Pearcy M, Portek I, Shepherd J. Three-dimensional x-ray
  analysis of normal movement in the lumbar spine. Spine. 1984;9(3):294-297: about 14 degrees of
  flexion plus extension per segment, more flexion than extension except at L5-S1).
- **Soft tissue** follows: the disc, the sac, the roots and any lesion are bent with the segment
  (each point turns by the share of the disc height it sits at). In extension the back of the disc
  is squeezed and bulges backwards into the canal, and the ligamentum flavum, shortened between
  the laminae, buckles forwards; in flexion the back of the disc is pulled taut (its bulge flattens)
  and the ligamentum flavum is stretched thin. Both move the canal's front and back walls, and the
  dural sac, a fluid-filled tube, follows them: its depth at the disc grows in flexion and shrinks in
  extension. This is why the canal, the sac and the foramina are larger bent forward than leaning
  back (Schmid MR, Stucki G, Duewell S, et al. Changes in cross-sectional measurements of the spinal
  canal and intervertebral foramina as a function of body position: in vivo studies on an
  open-configuration MR system. AJR Am J Roentgenol. 1999;172(4):1095-1102: canal area at L4-L5
  268 mm2 flexed vs 224 mm2 extended in healthy volunteers; Kanbara S, Yukawa Y, Ito K, Machino M,
  Kato F. Dynamic changes in the dural sac of patients with lumbar canal stenosis evaluated by
  multidetector-row computed tomography after myelography. Eur Spine J. 2014;23(1):74-79: dural sac
  area at L3-L4 96.3 mm2 in flexion vs 73.6 mm2 in extension in stenosis).

The ligamentum flavum is not part of the 3D model; it is built here (``ligamentum-flavum``) so the
sections can show it and the canal's back wall can be measured.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from explorer.anatomy.frames import Frame, rotation_about_x
from explorer.anatomy.layout import spine_layout
from explorer.anatomy.model import SpineModel
from explorer.anatomy.morphometry import DISC_LEVELS, DISCS, S1_ENDPLATE_DEPTH, VERTEBRAE
from explorer.lazy import lazy_module

if TYPE_CHECKING:
    import pyvista as pv
else:  # imported on first use (explorer/lazy.py): the first page needs none of it
    pv = lazy_module("pyvista")

POSTURES: tuple[str, ...] = ("flexion", "neutral", "extension")
POSTURE_LABELS: dict[str, str] = {
    "flexion": "Bent forward (flexion)",
    "neutral": "Upright (neutral)",
    "extension": "Leaning back (extension)",
}
POSTURE_PLAIN_LABELS: dict[str, str] = {
    "flexion": "Sitting bent forward",
    "neutral": "Standing",
    "extension": "Leaning back",
}

# Segmental range from upright, (flexion, extension) in degrees [Pearcy 1984, table of mean values].
SEGMENT_ROM_DEG: dict[str, tuple[float, float]] = {
    "L1-L2": (8.0, 5.0),
    "L2-L3": (10.0, 3.0),
    "L3-L4": (12.0, 1.0),
    "L4-L5": (13.0, 2.0),
    "L5-S1": (9.0, 5.0),
}
# The instantaneous axis: this share of the disc's depth behind its centre, at the lower endplate
# [Pearcy and Bogduk 1988].
AXIS_BEHIND_CENTRE: float = 0.2
# Ligamentum flavum: about 3-4 mm thick in healthy adults, hypertrophy from about 4-5 mm (e.g.
# Altinkaya N, Yildirim T, Demir S, et al. Factors associated with the thickness of the ligamentum
# flavum: is ligamentum flavum thickening due to hypertrophy or buckling? Spine.
# 2011;36(16):E1093-E1097). It spans the interlaminar gap: about the disc's back height plus
# LF_OVERLAP_MM above and below.
LF_THICKNESS_MM: float = 3.5
LF_OVERLAP_MM: float = 4.0
# The ligament's front at the disc lies this far in front of the bony canal's back line (the
# laminae's front): it is attached to the front of the lamina above and bulges a little.
LF_INSET_MM: float = 1.25
LF_SECTOR_DEG: tuple[float, float] = (200.0, 340.0)  # posterolateral walls (0 = patient's right, 270 = back)
# The back of the disc bulges backwards by this share of the height it loses there (the disc's
# volume is kept); in flexion the bulge flattens, but never by more than the disc's own bulge.
BULGE_PER_HEIGHT: float = 0.5
MAX_FLATTENING_MM: float = 1.0
BULGE_SPAN_MM: float = 6.0  # how far into the disc from its back the bulge reaches
NOTCH_MM: float = 4.0  # the disc's back is concave (kidney-shaped): its midline lies this far in front
# Soft tissue in the canal follows the walls within the disc's height plus this margin, fading out
# over SOFT_FADE_MM above and below.
SOFT_MARGIN_MM: float = 2.0
SOFT_FADE_MM: float = 6.0

Points = NDArray[np.float64]


def check_posture(posture: str) -> str:
    """``posture`` if it is one of :data:`POSTURES`.

    Raises
    ------
    ValueError
        Naming the bad value (shortened) and the allowed ones.
    """
    if posture not in POSTURES:
        shown = repr(str(posture)[:40])
        raise ValueError(f"posture {shown} is not allowed; use one of {', '.join(POSTURES)}")
    return posture


def check_level(level: str) -> str:
    """``level`` if it is a disc level (``"L4-L5"``); otherwise ``ValueError`` naming it."""
    if level not in DISC_LEVELS:
        raise ValueError(f"level {str(level)[:40]!r} is not a disc level; use one of {', '.join(DISC_LEVELS)}")
    return level


def segment_angle_deg(level: str, posture: str) -> float:
    """Signed segmental angle (degrees) from upright: positive flexion, negative extension."""
    flexion, extension = SEGMENT_ROM_DEG[check_level(level)]
    return {"flexion": flexion, "neutral": 0.0, "extension": -extension}[check_posture(posture)]


def _lower_depth(level: str) -> float:
    lower = level.split("-")[1]
    return S1_ENDPLATE_DEPTH if lower == "S1" else VERTEBRAE[lower].body_depth


def disc_frame(level: str) -> Frame:
    """The disc's frame (origin at its centre, +z along the segment's axis, +y anterior)."""
    return spine_layout().disc[check_level(level)]


def canal_frame(level: str) -> Frame:
    """The canal's frame at the disc: the disc's axes, origin at the canal's centre (mm)."""
    dims = VERTEBRAE[level.split("-")[0]]
    return disc_frame(level).moved((0.0, -dims.body_depth / 2 - dims.canal_depth / 2, 0.0))


def rotation_axis_local(level: str) -> Points:
    """A point on the instantaneous axis of rotation (disc frame, mm): behind the centre, at the
    lower endplate [Pearcy and Bogduk 1988]."""
    return np.array([0.0, -AXIS_BEHIND_CENTRE * _lower_depth(level), -DISCS[level].height / 2])


class SegmentMotion:
    """The posture's movement of one segment, in the disc's frame (mm, degrees).

    Attributes
    ----------
    level, posture : str
    angle_deg : float
        Positive in flexion (the top turns forward), negative in extension.
    posterior_height_change_mm : float
        Change of the disc's height at its back (+ in flexion).
    bulge_mm : float
        How far the back of the disc moves backwards into the canal (+ in extension, - in flexion).
    lf_thickness_mm : float
        Thickness of the ligamentum flavum in this posture (mm).
    """

    def __init__(self, level: str, posture: str) -> None:
        self.level = check_level(level)
        self.posture = check_posture(posture)
        self.angle_deg = segment_angle_deg(level, posture)
        self.frame = disc_frame(level)
        self.axis = rotation_axis_local(level)
        self.canal = canal_frame(level)
        upper = VERTEBRAE[level.split("-")[0]]
        self.canal_depth = upper.canal_depth
        self.canal_width = upper.canal_width
        self.disc_height_back = DISCS[level].height_posterior
        self.canal_offset_y = -upper.body_depth / 2 - upper.canal_depth / 2  # canal centre in the disc frame
        a = np.radians(self.angle_deg)
        back = -_lower_depth(level) / 2
        self.posterior_height_change_mm = float(a * (self.axis[1] - back))
        loss = -self.posterior_height_change_mm
        self.bulge_mm = float(max(BULGE_PER_HEIGHT * loss, -MAX_FLATTENING_MM))
        # The ligament lies behind the canal; its length between the laminae changes with the angle
        # and its volume is kept, so it thickens as it shortens.
        lf_y = self.canal_offset_y - upper.canal_depth / 2 - LF_THICKNESS_MM / 2
        length0 = self.disc_height_back + 2 * LF_OVERLAP_MM
        length = max(length0 + a * (self.axis[1] - lf_y), 0.3 * length0)
        self.lf_thickness_mm = float(LF_THICKNESS_MM * length0 / length)

    @property
    def lf_advance_mm(self) -> float:
        """How far the ligamentum flavum's front moves forward into the canal (+ in extension)."""
        return self.lf_thickness_mm - LF_THICKNESS_MM

    def rigid(self, points: Points) -> Points:
        """Points (global mm) of the vertebra above, turned about the axis."""
        local = self.frame.to_local(points)
        return self.frame.to_global(self._turn(local, np.ones(len(local))))

    def _turn(self, local: Points, share: NDArray[np.float64]) -> Points:
        """Turn local points about the axis by ``share`` of the angle (flexion tips the top forward)."""
        if self.angle_deg == 0.0:
            return local.copy()
        out = local.copy()
        rel = local - self.axis
        # rotation_about_x(+) tips the top backwards, so flexion (positive here) is a negative angle.
        for value in np.unique(np.round(share, 3)):
            pick = np.isclose(np.round(share, 3), value)
            out[pick] = self.axis + rel[pick] @ rotation_about_x(-self.angle_deg * float(value)).T
        return out

    def soft(self, points: Points, disc: bool = False, tissue: bool = False) -> Points:
        """Points (global mm) of soft tissue: bent with the segment, and pushed by the canal's walls.

        In the canal (between the back of the disc and the ligamentum flavum) a point moves
        backwards with the disc's bulge and forwards with the ligament's buckling, in proportion to
        how near it is to each wall. ``disc=True`` bulges the back of the disc itself instead.
        ``tissue=True`` (lesion tissue: a thick ligament, facet overgrowth) thickens or thins like
        the ligament it grows from: the part behind the canal's centre is scaled about the
        ligament's back by the ligament's thickness ratio (volume kept as it shortens), so a thick
        ligament buckles further than a normal one.
        """
        local = self.frame.to_local(points)
        if self.angle_deg == 0.0:
            return np.array(points, dtype=float, copy=True)
        h = DISCS[self.level].height
        share = np.clip((local[:, 2] + h / 2) / h, 0.0, 1.0)
        share = share * share * (3 - 2 * share)  # smooth: no kink at the endplates
        out = self._turn(local, np.round(share, 2))
        z = local[:, 2]
        reach = h / 2 + SOFT_MARGIN_MM
        weight = np.clip(1.0 - (np.abs(z) - reach) / SOFT_FADE_MM, 0.0, 1.0)
        if disc:
            # The full bulge within the kidney notch of the disc's back, fading further in.
            back = -_lower_depth(self.level) / 2 + NOTCH_MM
            near_back = np.clip(1.0 - (local[:, 1] - back) / BULGE_SPAN_MM, 0.0, 1.0)
            mid = np.clip(1.0 - (2 * z / h) ** 2, 0.0, 1.0)
            out[:, 1] -= self.bulge_mm * near_back * mid
            return self.frame.to_global(out)
        y = local[:, 1] - self.canal_offset_y  # from the canal's centre, + toward the disc
        front, behind = self.canal_depth / 2, -self.canal_depth / 2
        f = np.clip((y - behind) / (front - behind), 0.0, 1.0)
        inside = (np.abs(local[:, 0]) < self.canal_width / 2 + 3.0) & (y > behind - 3.0) & (y < front + 3.0)
        back_push = np.full(len(y), self.lf_advance_mm)
        if tissue:
            lf_back = behind + LF_INSET_MM - LF_THICKNESS_MM
            ratio = self.lf_thickness_mm / LF_THICKNESS_MM
            back_push = np.where(y < 0.0, (ratio - 1.0) * np.maximum(y - lf_back, 0.0), back_push)
        out[:, 1] += np.where(inside, weight * (-self.bulge_mm * f + back_push * (1.0 - f)), 0.0)
        return self.frame.to_global(out)


@lru_cache(maxsize=32)
def segment_motion(level: str, posture: str) -> SegmentMotion:
    """The (cached) movement of a segment in a posture."""
    return SegmentMotion(level, posture)


def ligamentum_flavum(level: str, posture: str = "neutral") -> pv.PolyData:
    """The ligamentum flavum at a disc level: a curved band lining the back and sides of the canal.

    Its outer surface rests on the laminae and facet capsules (the canal's bony outline, an ellipse
    of the canal's width and depth); in extension it buckles forwards (thicker), in flexion it is
    stretched thinner. Global mm, a closed triangle mesh.
    """
    return _ligamentum_flavum(check_level(level), check_posture(posture)).copy()


@lru_cache(maxsize=32)
def _ligamentum_flavum(level: str, posture: str) -> pv.PolyData:
    motion = segment_motion(level, posture)
    a_in, b_in = motion.canal_width / 2, motion.canal_depth / 2 - LF_INSET_MM
    inner_a = a_in - 0.5 * motion.lf_advance_mm  # the sides buckle less than the back
    inner_b = b_in - motion.lf_advance_mm
    outer_a, outer_b = a_in + 0.6 * LF_THICKNESS_MM, b_in + LF_THICKNESS_MM
    angles = np.radians(np.linspace(*LF_SECTOR_DEG, 25))
    inner = np.column_stack([inner_a * np.cos(angles), inner_b * np.sin(angles)])
    outer = np.column_stack([outer_a * np.cos(angles), outer_b * np.sin(angles)])[::-1]
    ring = np.vstack([inner, outer])
    half = motion.disc_height_back / 2 + LF_OVERLAP_MM
    n = len(ring)
    pts = np.vstack([np.column_stack([ring, np.full(n, -half)]), np.column_stack([ring, np.full(n, half)])])
    faces: list[int] = []
    for i in range(n):
        j = (i + 1) % n
        faces += [3, i, j, n + j, 3, i, n + j, n + i]
    # Caps: the band's outline is not convex, so cap it as a strip between the inner and outer edges.
    m = len(inner)
    for k in range(m - 1):
        i0, i1, o0, o1 = k, k + 1, n - 1 - k, n - 2 - k
        faces += [3, i0, o1, i1, 3, i0, o0, o1]
        faces += [3, n + i0, n + i1, n + o1, 3, n + i0, n + o1, n + o0]
    # Built straight in the posed canal frame: bending it with the segment would shear it (it lies
    # 30 mm behind the axis); its posture is in its thickness.
    frame = posed_canal_frame(level, posture)
    return pv.PolyData(frame.to_global(pts), np.array(faces)).clean().triangulate()


def posed_canal_frame(level: str, posture: str = "neutral") -> Frame:
    """The canal's frame at the middle of the disc, turned with the segment by half its angle.

    Origin at the canal's centre in the disc's mid-plane, +z along the segment's axis: the frame of
    the axial cut through the disc in this posture (mm).
    """
    motion = segment_motion(level, posture)
    turn = rotation_about_x(-motion.angle_deg / 2)
    origin_local = motion.axis + (np.array([0.0, motion.canal_offset_y, 0.0]) - motion.axis) @ turn.T
    return Frame(motion.frame.to_global(origin_local), motion.frame.axes @ turn)


def level_structures(level: str) -> tuple[str, ...]:
    """Ids of the model's meshes around a disc level that :func:`posed_level` returns."""
    upper, lower = check_level(level).split("-")
    below = "sacrum" if lower == "S1" else f"vertebra-{lower}"
    roots = tuple(f"root-{r}-{s}" for r in (upper, lower) for s in ("left", "right"))
    return (f"vertebra-{upper}", below, f"disc-{level}", f"nucleus-{level}", "thecal-sac", "cauda-equina") + roots


def _lesion_parts(lesion: Any) -> tuple[pv.PolyData | None, Mapping[str, pv.PolyData]]:
    """A lesion given as one mesh, or as a condition's Lesion (its compressors and replaced meshes)."""
    if lesion is None:
        return None, {}
    if isinstance(lesion, pv.PolyData):
        return lesion, {}
    compressors = [m for m in lesion.compressors.values() if m.n_points]
    merged = None
    if compressors:
        merged = compressors[0] if len(compressors) == 1 else compressors[0].merge(compressors[1:])
    return merged, dict(lesion.replaced)


def posed_level(model: SpineModel, level: str, posture: str, lesion: Any = None) -> dict[str, pv.PolyData]:
    """Meshes around one disc level with the segment moved into the posture.

    Parameters
    ----------
    model : SpineModel
        The (neutral) model; its meshes are never modified.
    level : str
        A disc level, ``"L1-L2"`` .. ``"L5-S1"``.
    posture : str
        ``"flexion"``, ``"neutral"`` or ``"extension"`` (:data:`POSTURES`).
    lesion : pyvista.PolyData or Lesion, optional
        A lesion mesh, or a condition's ``Lesion`` (its compressors are merged into one mesh and
        its replaced meshes, such as a slipped vertebra, stand in for the model's).

    Returns
    -------
    dict of str to pyvista.PolyData
        Structure id -> mesh (global mm): the two vertebrae (or L5 and the sacrum), the disc and
        its nucleus, the dural sac, the cauda equina, the roots that exit and traverse there,
        ``"ligamentum-flavum"`` (built here, not in the 3D model), and ``"lesion"`` when given.
        Neutral returns the model's own meshes (shared: never modify them) plus the ligament.
        Posture changes these meshes only: the 3D view always shows the neutral model.

    Raises
    ------
    ValueError
        For a level or posture that is not allowed (the message names the value).
    """
    check_level(level)
    check_posture(posture)
    lesion_mesh, replaced = _lesion_parts(lesion)
    out = dict(_posed_healthy(model, level, posture))
    extra = dict(replaced.items()) | ({"lesion": lesion_mesh} if lesion_mesh is not None else {})
    ids = level_structures(level)
    for sid, mesh in extra.items():
        if sid != "lesion" and sid not in ids:
            continue  # a replaced mesh elsewhere in the model (the disc below a slip)
        out[sid] = _pose_mesh(mesh, sid, level, posture)
    return out


_POSED: dict[tuple[int, str, str], tuple[SpineModel, dict[str, pv.PolyData]]] = {}


def _posed_healthy(model: SpineModel, level: str, posture: str) -> dict[str, pv.PolyData]:
    """The model's meshes around a level in a posture (cached per model; never modify them)."""
    key = (id(model), level, posture)
    hit = _POSED.get(key)
    if hit is not None and hit[0] is model:
        return hit[1]
    meshes = model.polydata
    out = {sid: _pose_mesh(meshes[sid], sid, level, posture) for sid in level_structures(level)}
    out["ligamentum-flavum"] = _ligamentum_flavum(level, posture)
    if len(_POSED) > 64:
        _POSED.pop(next(iter(_POSED)))
    _POSED[key] = (model, out)
    return out


def _pose_mesh(mesh: pv.PolyData, sid: str, level: str, posture: str) -> pv.PolyData:
    """One mesh moved into the posture: the vertebra above rigidly, the one below not at all, soft
    tissue bent (a new mesh; the given one is never modified)."""
    if posture == "neutral":
        return mesh
    upper_id, lower_id = level_structures(level)[:2]
    if sid == lower_id:
        return mesh
    motion = segment_motion(level, posture)
    pts = np.asarray(mesh.points, dtype=float)
    is_disc = sid.startswith(("disc-", "nucleus-"))
    moved = motion.rigid(pts) if sid == upper_id else motion.soft(pts, disc=is_disc, tissue=sid == "lesion")
    return pv.PolyData(moved, mesh.faces)

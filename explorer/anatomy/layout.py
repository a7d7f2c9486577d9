"""Where every part of the model sits: the lordotic stack of vertebrae and discs, the sacrum's
segments, the landmarks the nerves pass through, and the pelvic landmarks.

Every builder (bones, discs, nerves, muscles) places itself from this one module, so the root that
leaves below the L4 pedicle and the pedicle itself can never disagree.

Global frame: RAS millimetres with the origin at the centre of the S1 upper endplate.
Local vertebra frame: origin at the body's centre, +z along the body's own axis, +y anterior.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from explorer.anatomy.frames import Frame, Points, frame_tilted_forward
from explorer.anatomy.morphometry import (
    DISC_LEVELS,
    DISCS,
    LUMBAR_LEVELS,
    PELVIC_TILT_DEG,
    S1_ENDPLATE_DEPTH,
    SACRAL_SLOPE_DEG,
    VERTEBRAE,
    VertebraDimensions,
)

SIDES: tuple[str, ...] = ("left", "right")


def side_sign(side: str) -> float:
    """+1 for the patient's right (+x), -1 for the patient's left."""
    if side == "right":
        return 1.0
    if side == "left":
        return -1.0
    raise ValueError(f"side must be 'left' or 'right', got {side!r}")


# --------------------------------------------------------------------------------------------
# Posterior-element landmarks in the local vertebra frame (shared by the bone builder and nerves)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PedicleBox:
    """A pedicle as an axis-aligned box in the local vertebra frame (mm)."""

    center: Points
    half_size: Points  # half width (x), half length (y), half height (z)

    @property
    def bottom_z(self) -> float:
        return float(self.center[2] - self.half_size[2])

    @property
    def top_z(self) -> float:
        return float(self.center[2] + self.half_size[2])


def pedicle_box(dims: VertebraDimensions, side: str) -> PedicleBox:
    """The pedicle: lateral wall of the canal, flush with the upper part of the body.

    Pedicles join the upper half of the body's back, so the foramen (and the exiting root) lies
    below them, level with the lower body and the disc [HASEGAWA1995].
    """
    d = dims
    y_front = -d.body_depth / 2 + 2.0  # rooted a little inside the body
    y_back = -d.body_depth / 2 - 0.6 * d.canal_depth
    z_center = d.body_height_posterior / 2 - d.pedicle_height / 2 - 0.5
    center = np.array(
        [side_sign(side) * (d.canal_width / 2 + d.pedicle_width / 2), (y_front + y_back) / 2, z_center]
    )
    half = np.array([d.pedicle_width / 2, (y_front - y_back) / 2, d.pedicle_height / 2])
    return PedicleBox(center, half)


def canal_center_local(dims: VertebraDimensions) -> Points:
    """Centre of the vertebral canal (mm, local frame)."""
    return np.array([0.0, -dims.body_depth / 2 - dims.canal_depth / 2, 0.0])


def root_exit_local(dims: VertebraDimensions, side: str, root_diameter: float) -> Points:
    """Where the root of this level sits in its foramen: tucked under its own pedicle.

    The root named after a lumbar vertebra leaves below that vertebra's pedicle, in the upper
    (and roomier) part of the foramen, in front of the facet joint.
    """
    ped = pedicle_box(dims, side)
    return np.array(
        [ped.center[0], -dims.body_depth / 2 - 0.3 * dims.canal_depth, ped.bottom_z - root_diameter / 2 - 1.5]
    )


def extraforaminal_local(dims: VertebraDimensions, side: str, root_diameter: float) -> Points:
    """Just outside the foramen: the exiting root heads forward, outward and down (mm, local)."""
    ped = pedicle_box(dims, side)
    exit_point = root_exit_local(dims, side, root_diameter)
    return np.array([ped.center[0] + side_sign(side) * (dims.pedicle_width / 2 + 9.0),
                     exit_point[1] + 8.0, exit_point[2] - 8.0])


def lateral_recess_local(dims: VertebraDimensions, side: str) -> Points:
    """The lateral recess: medial to the pedicle, behind the body; the traversing root runs here."""
    ped = pedicle_box(dims, side)
    return np.array([side_sign(side) * (dims.canal_width / 2 - 3.5), -dims.body_depth / 2 - 4.0, ped.center[2]])


# --------------------------------------------------------------------------------------------
# The sagittal stack
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SpineLayout:
    """Frames of the lumbar bodies, discs and sacral segments, and derived landmarks.

    Attributes
    ----------
    vertebra : dict
        ``"L1"``..``"L5"`` -> frame at the body's centre.
    disc : dict
        ``"L1-L2"``..``"L5-S1"`` -> frame at the disc's centre.
    disc_wedge_deg : dict
        Disc id -> wedge angle (degrees), front taller than back.
    upper_endplate : dict
        Level -> frame at the centre of its upper endplate (``"S1"`` is the sacral base).
    lordosis_deg : float
        Angle between the L1 upper endplate and the S1 endplate (degrees).
    """

    vertebra: dict[str, Frame]
    disc: dict[str, Frame]
    disc_wedge_deg: dict[str, float]
    upper_endplate: dict[str, Frame]
    lower_endplate: dict[str, Frame]
    lordosis_deg: float


def _wedge_deg(front: float, back: float, depth: float) -> float:
    return float(np.degrees(np.arctan2(front - back, depth)))


@lru_cache(maxsize=1)
def spine_layout() -> SpineLayout:
    """Stack the discs and bodies from the sacrum upward, each wedge adding lordosis.

    The S1 endplate faces forward by the sacral slope [LEGAYE1998]; every disc and body, front
    taller than back, turns the next level backwards by its wedge angle, so the lordosis is the
    sum of the wedges (it is checked against [BEEN2014] in the tests).
    """
    cursor = frame_tilted_forward((0.0, 0.0, 0.0), SACRAL_SLOPE_DEG)
    upper = {"S1": cursor}
    lower: dict[str, Frame] = {}
    vertebra: dict[str, Frame] = {}
    disc: dict[str, Frame] = {}
    wedges: dict[str, float] = {}
    total = 0.0
    for disc_id, level in zip(reversed(DISC_LEVELS), reversed(LUMBAR_LEVELS), strict=True):
        d = DISCS[disc_id]
        v = VERTEBRAE[level]
        alpha = _wedge_deg(d.height_anterior, d.height_posterior, v.body_depth)
        wedges[disc_id] = alpha
        cursor = cursor.turned(alpha / 2)
        disc[disc_id] = cursor.moved((0.0, 0.0, d.height / 2))
        cursor = cursor.moved((0.0, 0.0, d.height)).turned(alpha / 2)
        beta = _wedge_deg(v.body_height_anterior, v.body_height_posterior, v.body_depth)
        lower[level] = cursor
        cursor = cursor.turned(beta / 2)
        vertebra[level] = cursor.moved((0.0, 0.0, v.body_height / 2))
        cursor = cursor.moved((0.0, 0.0, v.body_height)).turned(beta / 2)
        upper[level] = cursor
        total += alpha + beta
    return SpineLayout(vertebra, disc, wedges, upper, lower, total)


# --------------------------------------------------------------------------------------------
# Sacrum
# --------------------------------------------------------------------------------------------

SACRAL_SEGMENTS: tuple[str, ...] = ("S1", "S2", "S3", "S4", "S5")
# Segment length along the curve, body width and depth (mm); the sacrum is about 100-110 mm long
# and curves forward (kyphosis) by about 6-10 degrees per segment.
SACRAL_SEGMENT_LENGTH: dict[str, float] = {"S1": 28.0, "S2": 24.0, "S3": 21.0, "S4": 17.0, "S5": 14.0}
SACRAL_BODY_SIZE: dict[str, tuple[float, float]] = {
    "S1": (50.0, S1_ENDPLATE_DEPTH),
    "S2": (36.0, 26.0),
    "S3": (30.0, 21.0),
    "S4": (24.0, 16.0),
    "S5": (18.0, 12.0),
}
SACRAL_KYPHOSIS_PER_SEGMENT_DEG: float = 8.0
# Half-distance between the anterior sacral foramina of one pair (mm, from the midline).
SACRAL_FORAMEN_OFFSET_X: dict[str, float] = {"S1": 20.0, "S2": 18.0, "S3": 16.0, "S4": 14.0}
SACRAL_FORAMEN_RADIUS: dict[str, float] = {"S1": 5.0, "S2": 4.5, "S3": 3.5, "S4": 3.0}


# The L5-S1 facet joint: centre of the S1 superior articular surface (right side, S1 segment frame,
# mm) and its normal (x for the right side, y), about 48 degrees from the sagittal plane. Both the
# sacrum (pelvis.py) and L5's inferior processes (vertebra.py) are shaped around this surface. It lies
# close behind the S1 pedicle (pelvis.S1_SAP_FORWARD_MM), so the S1 lateral recess in front of it is
# about as deep as the lumbar ones (Ciric 1980).
S1_FACET_CENTER: tuple[float, float, float] = (17.4, -29.9, 12.0)
S1_FACET_NORMAL: tuple[float, float] = (-0.67, -0.75)


@lru_cache(maxsize=1)
def sacral_frames() -> dict[str, Frame]:
    """Frames at the centre of each sacral segment's body, following the sacral curve.

    The local +z points cranially along the sacrum (at S1 it is the endplate normal), +y
    points to the pelvic (anterior) surface.
    """
    cursor = frame_tilted_forward((0.0, 0.0, 0.0), SACRAL_SLOPE_DEG)
    frames: dict[str, Frame] = {}
    for seg in SACRAL_SEGMENTS:
        length = SACRAL_SEGMENT_LENGTH[seg]
        frames[seg] = cursor.moved((0.0, 0.0, -length / 2))
        # Going down, the axis turns so that the lower end curls forward (pelvic concavity).
        cursor = cursor.moved((0.0, 0.0, -length)).turned(SACRAL_KYPHOSIS_PER_SEGMENT_DEG)
    return frames


def sacral_junction_frame(seg: str) -> Frame:
    """Frame at the junction below sacral segment ``seg`` (where its foramina open)."""
    f = sacral_frames()[seg]
    return f.moved((0.0, 0.0, -SACRAL_SEGMENT_LENGTH[seg] / 2))


def anterior_sacral_foramen(seg: str, side: str) -> Points:
    """Centre of the anterior (pelvic) sacral foramen through which root ``seg`` leaves (mm)."""
    junction = sacral_junction_frame(seg)
    depth = SACRAL_BODY_SIZE[seg][1]
    return junction.to_global((side_sign(side) * SACRAL_FORAMEN_OFFSET_X[seg], depth * 0.35, 0.0))


def posterior_sacral_foramen(seg: str, side: str) -> Points:
    """Centre of the posterior (dorsal) sacral foramen of segment ``seg`` (mm)."""
    junction = sacral_junction_frame(seg)
    depth = SACRAL_BODY_SIZE[seg][1]
    return junction.to_global((side_sign(side) * (SACRAL_FORAMEN_OFFSET_X[seg] - 3.0), -depth * 1.0, 0.0))


def sacral_canal_center(seg: str) -> Points:
    """Centre of the sacral canal at segment ``seg`` (behind the body)."""
    f = sacral_frames()[seg]
    depth = SACRAL_BODY_SIZE[seg][1]
    return f.to_global((0.0, -depth / 2 - 6.0, 0.0))


# --------------------------------------------------------------------------------------------
# Pelvis and hip (global coordinates, mm)
# --------------------------------------------------------------------------------------------
# Placed from the spino-pelvic parameters [LEGAYE1998]: the hip axis lies about 110 mm from the
# S1 endplate centre, in front of the vertical through it by the pelvic tilt. Widths are adult
# means (femoral head centres about 170 mm apart; bitrochanteric width about 300 mm; ischial
# tuberosities about 110 mm apart).

SACRUM_TO_HIP_AXIS_MM: float = 110.0
HIP_HALF_WIDTH_MM: float = 85.0


def _pelvic(x: float, y: float, z: float, side: str) -> Points:
    return np.array([side_sign(side) * x, y, z])


def hip_center(side: str) -> Points:
    """Centre of the femoral head (mm)."""
    pt = np.radians(PELVIC_TILT_DEG)
    return _pelvic(HIP_HALF_WIDTH_MM, SACRUM_TO_HIP_AXIS_MM * np.sin(pt), -SACRUM_TO_HIP_AXIS_MM * np.cos(pt), side)


def greater_trochanter(side: str) -> Points:
    """Tip of the greater trochanter, where piriformis inserts (mm)."""
    h = hip_center(side)
    return _pelvic(abs(h[0]) + 45.0, h[1] - 12.0, h[2] + 2.0, side)


def ischial_tuberosity(side: str) -> Points:
    """Centre of the ischial tuberosity (mm)."""
    h = hip_center(side)
    return _pelvic(55.0, h[1] - 22.0, h[2] - 45.0, side)


def greater_sciatic_foramen(side: str) -> Points:
    """Centre of the greater sciatic foramen, between the sacrum's edge and the sciatic notch."""
    s3 = sacral_frames()["S3"].origin
    return _pelvic(62.0, s3[1] + 6.0, s3[2] - 18.0, side)


def piriformis_path(side: str) -> Points:
    """Centre line of piriformis: anterior sacrum (S2-S4) -> sciatic foramen -> greater trochanter."""
    origin = 0.5 * (anterior_sacral_foramen("S2", side) + anterior_sacral_foramen("S3", side))
    origin = origin + np.array([side_sign(side) * 6.0, -4.0, 0.0])  # between the foramina, lateral
    gsf = greater_sciatic_foramen(side) + np.array([0.0, -4.0, 8.0])  # upper part of the foramen
    gt = greater_trochanter(side) + np.array([-side_sign(side) * 6.0, -4.0, 0.0])  # medial face
    mid = 0.5 * (gsf + gt) + np.array([0.0, -8.0, 0.0])
    return np.vstack([origin, gsf, mid, gt])


def sciatic_exit_point(side: str) -> Points:
    """Where the sciatic nerve leaves the pelvis: the foramen's lower part, below piriformis."""
    return greater_sciatic_foramen(side) + np.array([side_sign(side) * 4.0, -2.0, -16.0])


def sciatic_formation_point(side: str) -> Points:
    """Where the lumbosacral trunk and S1-S3 join, on the front of piriformis in the pelvis."""
    s2 = anterior_sacral_foramen("S2", side)
    return s2 + np.array([side_sign(side) * 26.0, 14.0, -14.0])

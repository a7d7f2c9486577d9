"""The body chart as data: named skin areas of the lower body, seen from the front and the back.

Each :class:`Area` is one patch of skin on one side in one view, named with a
:class:`~explorer.clinical.roots.BodyRegion` (the same objects the clinical picture puts in
:class:`~explorer.clinical.types.SensoryFinding.regions`), and belonging to one dermatome
(``root``) or to none (``root is None``: the lower abdomen, the lower back and the outer buttock,
whose skin comes from several roots through the cluneal and subcostal nerves). A dermatome is the
union of its root's areas, so painting a finding is painting its named areas.

Coordinates
-----------
Areas are authored for the patient's LEFT half in leg-local units ``(u, v)``: ``u`` is the
distance from the midline towards the outside, ``v`` the height above the sole (sole 0, ankle
about 9, knee 42, crotch 66, waist 100; one unit is about 1 cm on an adult). The chart places the
front view on the left and the back view on the right (:data:`VIEW_CENTRES`). Seen from the front
the patient's left leg is on the viewer's right; seen from the back it is on the viewer's left.
Nothing is mirrored: the sides always mean the patient's sides, as in the 3D view and the text.

Each view is built by cutting the body outline with simple "cut" polygons in priority order
(earlier areas win), so the areas of one view tile the outline without overlapping.

Sources
-------
KEEGAN1948
    Keegan JJ, Garrett FD. The segmental distribution of the cutaneous nerves in the limbs of man.
    Anat Rec. 1948;102(4):409-437. The band layout of the lower-limb dermatomes (L1 groin, L2 and
    L3 oblique bands on the front of the thigh, L4 medial leg, L5 anterolateral leg and dorsum of
    the foot, S1 lateral foot, heel, sole and posterolateral thigh, S2 posterior thigh and
    popliteal fossa, S3 to S5 concentric rings around the anus).
LEE2008
    Lee MWL, McPhee RW, Stringer MD. An evidence-based approach to human dermatomes. Clin Anat.
    2008;21(5):363-373. Which root owns each named region (``explorer.clinical.roots``).
ISNCSCI2019
    American Spinal Injury Association. International Standards for Neurological Classification
    of Spinal Cord Injury, revised 2019. The key sensory points (:data:`KEY_POINTS`).

Where the charts disagree (the back of the thigh: S1 laterally and S2 medially in Keegan, mostly
S2 in Lee; the front of the knee: L3 in Keegan, L3-L4 in others; the big toe: L5 on its top,
L4 on its inner edge in Keegan), the map follows ``explorer.clinical.roots`` and the content says
so (``SOURCES_DISAGREE``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from types import MappingProxyType

from shapely import affinity
from shapely.geometry import Point, Polygon, box
from shapely.geometry.base import BaseGeometry
from shapely.ops import unary_union

from explorer.clinical.roots import (
    AROUND_ANUS,
    BACK_CALF,
    BACK_KNEE,
    BACK_THIGH,
    BIG_TOE,
    BUTTOCK,
    BUTTOCK_CREASE,
    FRONT_KNEE,
    GROIN,
    HEEL,
    INNER_ANKLE,
    INNER_BUTTOCKS,
    INNER_FOOT,
    INNER_KNEE,
    INNER_LOWER_LEG,
    LOWER_INNER_THIGH,
    MID_FRONT_THIGH,
    OUTER_BACK_THIGH,
    OUTER_FOOT,
    OUTER_FRONT_THIGH,
    OUTER_LOWER_LEG,
    SADDLE,
    SITTING_BONE,
    SOLE,
    TOP_FOOT,
    UPPER_FRONT_THIGH,
    BodyRegion,
)

VIEWS: tuple[str, ...] = ("front", "back")
VIEW_LABELS: Mapping[str, str] = MappingProxyType({"front": "Front", "back": "Back"})
SIDES: tuple[str, ...] = ("left", "right")
# Chart x of each view's midline (chart units = leg-local units).
VIEW_CENTRES: Mapping[str, float] = MappingProxyType({"front": -22.0, "back": 22.0})
# Which way the patient's LEFT side points on the chart: seen from the front it is on the viewer's right.
LEFT_DIRECTION: Mapping[str, float] = MappingProxyType({"front": 1.0, "back": -1.0})

# Skin areas that no single root owns (several roots supply them through the subcostal,
# iliohypogastric and cluneal nerves); symptoms there are shown but not given to a dermatome.
LOWER_ABDOMEN = BodyRegion("lower belly", "lower abdomen (hypogastric region)")
LOWER_BACK = BodyRegion("lower back", "lumbar region")

# Half outline of the lower body, patient's left, (u, v): down the outside, across the toes,
# up the inside to the crotch, then back up the midline.
HALF_OUTLINE: tuple[tuple[float, float], ...] = (
    (0.0, 100.0), (14.5, 100.0), (16.5, 94.0), (18.0, 86.0), (18.2, 78.0), (17.3, 70.0), (16.0, 62.0),
    (14.6, 54.0), (13.2, 47.0), (12.2, 42.0), (11.8, 37.0), (12.3, 31.0), (11.8, 25.0), (10.3, 17.0),
    (8.7, 11.0), (8.5, 8.5),  # lateral malleolus
    (9.6, 5.5), (10.6, 2.2), (10.3, 0.3), (8.2, 0.0), (5.5, 0.0), (3.0, 0.2), (2.4, 1.8), (3.0, 5.0),
    (4.4, 8.5),  # medial malleolus
    (4.6, 11.0), (4.3, 17.0), (3.7, 25.0), (3.6, 31.0), (4.0, 37.0), (3.9, 42.0), (3.4, 47.0), (2.6, 54.0),
    (1.7, 60.0), (0.8, 64.0), (0.0, 66.0),  # crotch
)

_FAR = 40.0  # cut polygons reach past the outline; the outline clips them
ANUS_CENTRE: tuple[float, float] = (0.0, 70.5)
ANUS_INNER_RADIUS = 1.6   # S5: the skin right at the anus
ANUS_OUTER_RADIUS = 3.4   # S4: the ring around it, towards the perineum


def _poly(*points: tuple[float, float]) -> Polygon:
    return Polygon(points)


def _below(*line: tuple[float, float]) -> Polygon:
    """Everything under a polyline running from the midline (u=0 side) outwards."""
    pts = list(line)
    return Polygon([(-1.0, -_FAR), *pts, (_FAR, pts[-1][1]), (_FAR, -_FAR)])


def _band(upper: tuple[tuple[float, float], ...], lower: tuple[tuple[float, float], ...]) -> BaseGeometry:
    return _below(*upper).difference(_below(*lower))


def _rows(v_min: float, v_max: float, u_min: float = -1.0, u_max: float = _FAR) -> Polygon:
    return box(u_min, v_min, u_max, v_max)


# Boundary polylines of the front view (from the midline outwards), after KEEGAN1948.
_INGUINAL = ((0.0, 74.0), (2.5, 75.0), (16.8, 88.5), (_FAR, 92.0))
_L1_GROIN_LOWER = ((0.0, 70.5), (3.5, 71.0), (20.0, 85.5), (_FAR, 86.0))
_L1_LOWER = ((0.0, 64.0), (4.0, 66.0), (14.0, 74.0), (20.0, 79.0), (_FAR, 80.0))
_L2_LOWER = ((0.0, 46.0), (2.0, 47.0), (13.0, 53.0), (20.0, 58.0), (_FAR, 58.0))
_L3_LOWER = ((0.0, 36.0), (4.6, 36.5), (8.0, 37.0), (20.0, 38.0), (_FAR, 38.0))
# L4 | L5 on the front of the leg and the foot: L4 is the medial side (u smaller).
_L4_MEDIAL = _poly((-1.0, 38.0), (7.6, 38.0), (7.0, 20.0), (6.2, 11.5), (4.6, 6.5), (3.6, 2.6), (3.4, -1.0), (-1.0, -1.0))
# S1 strip along the lateral edge of the foot (the little toe side).
_S1_LATERAL_FOOT = _poly((8.9, 9.5), (8.6, 5.0), (8.4, -1.0), (_FAR, -1.0), (_FAR, 9.5))
_BIG_TOE = _rows(-1.0, 2.7, u_max=5.4)


def _front_cuts() -> tuple[tuple[BodyRegion, BaseGeometry], ...]:
    knee = _rows(-_FAR, 46.0)
    leg = _below(*_L3_LOWER)
    return (
        (LOWER_ABDOMEN, _poly((-1.0, 74.0), *_INGUINAL[1:], (_FAR, 120.0), (-1.0, 120.0))),
        (GROIN, _band(_INGUINAL, _L1_GROIN_LOWER)),
        (UPPER_FRONT_THIGH, _band(_L1_GROIN_LOWER, _L1_LOWER)),
        (OUTER_FRONT_THIGH, _band(_L1_LOWER, _L2_LOWER).intersection(_rows(-_FAR, 120.0, u_min=12.5))),
        (MID_FRONT_THIGH, _band(_L1_LOWER, _L2_LOWER)),
        (INNER_KNEE, _band(_L2_LOWER, _L3_LOWER).intersection(knee).intersection(_rows(-_FAR, 120.0, u_max=6.2))),
        (FRONT_KNEE, _band(_L2_LOWER, _L3_LOWER).intersection(knee)),
        (LOWER_INNER_THIGH, _band(_L2_LOWER, _L3_LOWER)),
        (BIG_TOE, _BIG_TOE),
        (OUTER_FOOT, _S1_LATERAL_FOOT),
        (INNER_ANKLE, leg.intersection(_L4_MEDIAL).intersection(_rows(8.0, 13.5))),
        (INNER_LOWER_LEG, leg.intersection(_L4_MEDIAL).intersection(_rows(13.5, 120.0))),
        (INNER_FOOT, leg.intersection(_L4_MEDIAL)),
        (OUTER_LOWER_LEG, leg.intersection(_rows(9.0, 120.0))),
        (TOP_FOOT, leg),
    )


def _anus(radius: float) -> BaseGeometry:
    return Point(ANUS_CENTRE).buffer(radius, quad_segs=16)


# The fold under the buttock (infragluteal fold) and the lower edge of the crease area.
_GLUTEAL_FOLD = ((0.0, 66.5), (5.0, 64.8), (10.0, 64.3), (15.0, 65.2), (_FAR, 67.0))
_GLUTEAL_FOLD_LOWER = ((0.0, 62.5), (5.0, 60.8), (10.0, 60.3), (15.0, 61.2), (_FAR, 63.0))


def _back_cuts() -> tuple[tuple[BodyRegion, BaseGeometry], ...]:
    return (
        (AROUND_ANUS, _anus(ANUS_INNER_RADIUS)),
        (SADDLE, _anus(ANUS_OUTER_RADIUS)),
        (LOWER_BACK, _rows(88.0, 120.0)),
        (SITTING_BONE, affinity.scale(Point(6.0, 66.5).buffer(1.0, quad_segs=16), 2.6, 2.3)),
        (INNER_BUTTOCKS, affinity.scale(_anus(1.0), 8.0, 10.5)),
        (BUTTOCK_CREASE, _band(_GLUTEAL_FOLD, _GLUTEAL_FOLD_LOWER)),
        (BUTTOCK, _rows(60.0, 88.0).difference(_below(*_GLUTEAL_FOLD_LOWER))),
        (INNER_KNEE, _rows(37.0, 46.0, u_max=4.5)),
        (OUTER_BACK_THIGH, _rows(37.0, 67.0, u_min=11.0)),
        (BACK_KNEE, _rows(37.0, 46.0)),
        (BACK_THIGH, _rows(46.0, 67.0)),
        (INNER_LOWER_LEG, _rows(12.0, 37.0, u_max=5.6)),
        (OUTER_LOWER_LEG, _rows(12.0, 37.0, u_min=10.6)),
        (BACK_CALF, _rows(12.0, 37.0)),
        (INNER_ANKLE, _rows(4.5, 12.0, u_max=5.2)),
        (HEEL, _rows(4.5, 12.0)),
        (INNER_FOOT, _rows(-_FAR, 4.5, u_max=4.4)),
        (OUTER_FOOT, _rows(-_FAR, 4.5, u_min=8.6)),
        (SOLE, _rows(-_FAR, 4.5)),
    )


# The root that owns each named area on the chart (None: several roots; see module docstring).
# Each root's areas are taken from its dermatome in explorer.clinical.roots (LEE2008); the areas
# that the roots table names only as pain regions are placed after KEEGAN1948.
AREA_ROOTS: Mapping[str, str | None] = MappingProxyType(
    {
        LOWER_ABDOMEN.plain: None,
        LOWER_BACK.plain: None,
        BUTTOCK.plain: None,
        GROIN.plain: "L1",
        UPPER_FRONT_THIGH.plain: "L1",
        MID_FRONT_THIGH.plain: "L2",
        OUTER_FRONT_THIGH.plain: "L2",  # KEEGAN1948: the L2 band wraps to the lateral thigh
        LOWER_INNER_THIGH.plain: "L3",
        INNER_KNEE.plain: "L3",
        FRONT_KNEE.plain: "L3",  # KEEGAN1948 (others: L3-L4)
        INNER_LOWER_LEG.plain: "L4",
        INNER_ANKLE.plain: "L4",
        INNER_FOOT.plain: "L4",
        OUTER_LOWER_LEG.plain: "L5",
        TOP_FOOT.plain: "L5",
        BIG_TOE.plain: "L5",
        OUTER_BACK_THIGH.plain: "S1",  # KEEGAN1948: S1 strip down the posterolateral thigh
        BACK_CALF.plain: "S1",
        HEEL.plain: "S1",
        OUTER_FOOT.plain: "S1",
        SOLE.plain: "S1",
        BACK_THIGH.plain: "S2",
        BACK_KNEE.plain: "S2",
        BUTTOCK_CREASE.plain: "S3",
        SITTING_BONE.plain: "S3",
        INNER_BUTTOCKS.plain: "S3",
        SADDLE.plain: "S4",
        AROUND_ANUS.plain: "S5",
    }
)


@dataclass(frozen=True)
class Area:
    """One named patch of skin on one side, in one view, in chart coordinates.

    Attributes
    ----------
    region : BodyRegion
        Its everyday name and anatomical term.
    root : str or None
        The dermatome it belongs to (``L1`` .. ``S5``), or ``None`` for skin several roots share.
    side : str
        The patient's side: ``left`` or ``right``.
    view : str
        ``front`` or ``back``.
    rings : tuple of rings
        Outer boundaries (x, y) in chart units; several when the patch is in pieces.
    """

    region: BodyRegion
    root: str | None
    side: str
    view: str
    rings: tuple[tuple[tuple[float, float], ...], ...]

    @property
    def name(self) -> str:
        return self.region.plain

    @property
    def id(self) -> str:
        """Stable id, e.g. ``front:left:top of the foot``."""
        return f"{self.view}:{self.side}:{self.region.plain}"

    def polygon(self) -> BaseGeometry:
        return unary_union([Polygon(r) for r in self.rings])


@dataclass(frozen=True)
class KeyPoint:
    """An ISNCSCI key sensory point on the chart."""

    root: str
    side: str
    view: str
    x: float
    y: float
    label: str


# ISNCSCI 2019 key sensory points (leg-local u, v; view). L1 lies halfway between the T12 point
# (middle of the inguinal ligament) and the L2 point. S4 and S5 share the perianal point; here
# S5 sits right at the anus and S4 just outside it.
KEY_POINTS_LOCAL: Mapping[str, tuple[str, float, float, str]] = MappingProxyType(
    {
        "L1": ("front", 8.3, 71.4, "upper front of the thigh, halfway between the groin and the L2 point"),
        "L2": ("front", 7.0, 61.0, "middle of the front of the thigh"),
        "L3": ("front", 4.6, 44.0, "medial femoral condyle (inner side of the knee)"),
        "L4": ("front", 5.0, 10.0, "medial malleolus (inner ankle bone)"),
        "L5": ("front", 6.6, 2.4, "top of the foot at the third metatarsophalangeal joint"),
        "S1": ("back", 8.2, 7.0, "lateral heel"),
        "S2": ("back", 7.5, 41.5, "middle of the popliteal fossa (back of the knee)"),
        "S3": ("back", 6.0, 66.5, "ischial tuberosity (sitting bone)"),
        "S4": ("back", 2.4, 70.5, "perianal skin (S4-5 key point)"),
        "S5": ("back", 0.8, 70.5, "perianal skin (S4-5 key point)"),
    }
)


def to_chart(view: str, side: str, u: float, v: float) -> tuple[float, float]:
    """Leg-local (u, v) of the patient's ``side`` to chart (x, y) in ``view``."""
    direction = LEFT_DIRECTION[view] * (1.0 if side == "left" else -1.0)
    return VIEW_CENTRES[view] + direction * u, v


def _rings(geometry: BaseGeometry, view: str, side: str) -> tuple[tuple[tuple[float, float], ...], ...]:
    # Cutting along shared boundaries can leave lines and points beside the polygons.
    parts = getattr(geometry, "geoms", [geometry])
    rings = []
    for part in parts:
        if not isinstance(part, Polygon) or part.area < 0.05:
            continue  # slivers left by cutting along shared boundaries
        coords = part.simplify(0.02).exterior.coords
        rings.append(tuple(to_chart(view, side, round(u, 3), round(v, 3)) for u, v in coords))
    return tuple(rings)


def half_outline() -> Polygon:
    """The patient's left half of the lower body, leg-local units."""
    return Polygon(HALF_OUTLINE)


def _view_areas(view: str) -> list[tuple[BodyRegion, BaseGeometry]]:
    """Leg-local geometry of each area of the left half of ``view``, in priority order."""
    remaining: BaseGeometry = half_outline()
    out = []
    for region, cut in (_front_cuts() if view == "front" else _back_cuts()):
        piece = remaining.intersection(cut)
        if piece.is_empty:
            continue
        out.append((region, piece))
        remaining = remaining.difference(cut)
    return out


@cache
def areas() -> tuple[Area, ...]:
    """Every area of the chart: both views, both sides."""
    out = []
    for view in VIEWS:
        for region, geometry in _view_areas(view):
            for side in SIDES:
                rings = _rings(geometry, view, side)
                if rings:
                    out.append(Area(region, AREA_ROOTS[region.plain], side, view, rings))
    return tuple(out)


@cache
def key_points() -> tuple[KeyPoint, ...]:
    """The ISNCSCI key sensory points on both sides, in chart coordinates."""
    out = []
    for root, (view, u, v, label) in KEY_POINTS_LOCAL.items():
        for side in SIDES:
            x, y = to_chart(view, side, u, v)
            out.append(KeyPoint(root, side, view, x, y, label))
    return tuple(out)


@cache
def outline_rings() -> tuple[tuple[tuple[float, float], ...], ...]:
    """The body outline of each view (one closed ring per view), chart coordinates."""
    rings = []
    for view in VIEWS:
        left = [to_chart(view, "left", u, v) for u, v in HALF_OUTLINE]
        right = [to_chart(view, "right", u, v) for u, v in reversed(HALF_OUTLINE)]
        rings.append(tuple(left + right[1:] + left[:1]))
    return tuple(rings)


def areas_named(name: str, side: str | None = None) -> tuple[Area, ...]:
    """All areas called ``name`` (a :class:`BodyRegion` plain name), optionally on one side."""
    return tuple(a for a in areas() if a.name == name and (side is None or a.side == side))


def area_names() -> tuple[str, ...]:
    """The everyday names of all areas, in chart order (front top to toe, then back), no repeats."""
    return tuple(dict.fromkeys(a.name for a in areas()))


def area_region(name: str) -> BodyRegion:
    """The :class:`BodyRegion` of an area name.

    Raises
    ------
    ValueError
        If no area has that name.
    """
    for a in areas():
        if a.name == name:
            return a.region
    raise ValueError(f"Unknown body area {name!r}; allowed: {', '.join(area_names())}.")

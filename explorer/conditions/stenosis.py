"""Lumbar spinal stenosis: the canal, a lateral recess or a foramen narrowed by degenerative tissue
(a bulging disc in front, a thickened ligamentum flavum behind, overgrown facet joints at the side).

Severity is tied to published sizes:
- central: the canal's residual antero-posterior (AP) diameter, relative stenosis below about
  13 mm and absolute below 10 mm (Verbiest H. Pathomorphologic aspects of developmental lumbar
  stenosis. Orthop Clin North Am. 1975;6(1):177-196); the residual dural sac area of the model's
  channel is reported too (below about 100 mm2 relative, 75 mm2 severe: Hamanishi C, Matukura N,
  Fujita M, et al. Cross-sectional area of the stenotic lumbar dural tube measured from the
  transverse views of magnetic resonance imaging. J Spinal Disord. 1994;7(5):388-393).
- lateral recess: the recess's residual depth, normal at 5 mm or more, suspicious at 3 mm and
  stenotic at 2 mm or less (Ciric I, Mikhael MA, Tarkington JA, Vick NA. The lateral recess
  syndrome. J Neurosurg. 1980;53(4):433-443).
- foraminal: the MRI grade of Lee et al. (Lee S, Lee JW, Yeom JS, et al. A practical MRI grading
  system for lumbar foraminal stenosis. AJR Am J Roentgenol. 2010;194(4):1095-1098): grade 1 fat
  around the root thinned on two sides, grade 2 on all four sides, grade 3 the root collapsed.

Which roots: central stenosis squeezes the roots inside the sac at that level (the traversing
root first, on both sides, and the sacral roots below only when the sac is very narrow); lateral
recess stenosis the traversing root on that side; foraminal stenosis the exiting root (Genevay S,
Atlas SJ. Lumbar spinal stenosis. Best Pract Res Clin Rheumatol. 2010;24(2):253-265).

Tempo: chronic. Symptoms in both legs on walking (neurogenic claudication) are the usual picture
of central stenosis, not an emergency (Katz JN, Harris MB. Lumbar spinal stenosis. N Engl J Med.
2008;358(8):818-825); cauda equina syndrome from stenosis is rare, so the condition says calmly
what would make it one (new saddle numbness, new bladder or bowel trouble, quickly worsening
weakness: GIRFT national suspected cauda equina syndrome pathway, NHS England 2023).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np

from explorer.anatomy.discs import disc_footprint
from explorer.anatomy.implicit import Array, elliptic_cylinder, round_box, smooth_subtract, smooth_union, smoothstep
from explorer.anatomy.layout import side_sign, spine_layout
from explorer.anatomy.morphometry import DISCS, ROOT_DIAMETER, VERTEBRAE
from explorer.anatomy.nerves import canal_station, sleeve_point
from explorer.anatomy.structures import ROOTS
from explorer.conditions.base import (
    SEVERITY_VALUES,
    ConditionExample,
    ConditionSpec,
    ExpectedPattern,
    Lesion,
    ParamSpec,
    RedFlagRules,
    RootSide,
    both_sides,
    level_param,
    root_ids,
    roots_below,
    side_param,
)
from explorer.conditions.herniation import fragment_zone_geometry
from explorer.conditions.shapes import PressingBlob, merge_bounds, mesh_lesion
from explorer.lazy import lazy_module

if TYPE_CHECKING:
    import pyvista as pv
else:  # imported on first use (explorer/lazy.py): the first page needs none of it
    pv = lazy_module("pyvista")

ZONES: tuple[str, ...] = ("central", "lateral_recess", "foraminal")
# Central: residual canal AP diameter and width (mm) of the channel left for the dural sac. The AP
# diameter is Verbiest's; the width narrows less (thick ligamentum flavum and facets take the back
# corners of the canal first), so a mild stenosis may squeeze no root at all (relative stenosis is
# often silent) and the traversing roots, at the front corners, are reached from moderate.
CENTRAL_RESIDUAL_MM: dict[str, tuple[float, float]] = {"mild": (12.0, 22.0), "moderate": (9.5, 20.0),
                                                       "severe": (7.0, 17.0)}
# The narrowing is tightest at the disc's own level: the bulging disc in front and the buckled
# ligamentum flavum and facet joints behind all sit there, so myelography shows an hourglass
# waist at the disc with wider canal above and below (Verbiest 1975; Genevay and Atlas 2010).
# Within the disc's back height (less CORE_INSET_MM) the channel is only this wide (mm), which sets
# the dural sac area the axial cut through the disc measures, graded by Hamanishi's thresholds
# (Hamanishi 1994: below 100 mm2 relative, below 75 mm2 absolute stenosis): mild about 100 mm2
# (borderline), moderate 75-100 mm2 (relative), severe below 75 mm2 (absolute). Above and below the
# waist (where each traversing root leaves the sac in its sleeve, just below the disc) the channel
# widens back to the width above, so the sleeves meet the same tissue as before.
CENTRAL_WAIST_WIDTH_MM: dict[str, float] = {"mild": 11.3, "moderate": 11.5, "severe": 10.5}
CORE_INSET_MM: float = 1.0  # the waist ends this far inside the disc's back height (each side)
CORE_BLEND_MM: float = 1.0  # and opens to the full width over this distance
# Lateral recess: residual recess depth (mm) between the facet overgrowth and the back of the disc.
RECESS_DEPTH_MM: dict[str, float] = {"mild": 4.0, "moderate": 3.0, "severe": 2.0}
NORMAL_RECESS_DEPTH_MM: float = 5.0
# The shelf of facet overgrowth across the recess at the disc (see _lateral_recess): how far above the
# lower endplate it starts (it stays clear of the traversing root's sleeve just below the disc), its
# half-width across the recess's lines (mm either side of the pedicle's medial wall) and its depth.
SHELF_ABOVE_ENDPLATE_MM: float = 0.5
SHELF_HALF_WIDTH_MM: float = 4.75
SHELF_DEPTH_MM: float = 6.0
# The meshed shelf's front lies about this much behind its field's (the lesion mesh is smoothed and its
# edges rounded), so the field reaches this much further to leave the intended depth (measured).
SHELF_FRONT_ALLOWANCE_MM: float = 1.1
# Foraminal (Lee grade 1-3): how far the tissue reaches into the exiting root.
FORAMINAL_INDENT: dict[str, float] = {"mild": 0.3, "moderate": 0.6, "severe": 0.95}
STENOSIS_REACH_Z_MM: float = 3.0  # tissue extends this far above and below the disc's mid-plane


@dataclass(frozen=True)
class DependentParamSpec(ParamSpec):
    """A parameter whose value labels depend on another parameter's value.

    Stenosis severity is graded by a different measure in each zone (Verbiest's canal diameter,
    Ciric's recess depth, Lee's foraminal grade), so an option names only the measure of the zone
    chosen. ``label_for(value)`` (no context) gives the plain grade; ``label_in(value, params)``
    gives the zone's wording.

    Attributes
    ----------
    depends_on : str
        The other parameter (``"zone"``).
    value_labels_by : dict
        Its value -> this parameter's value -> label.
    """

    depends_on: str = ""
    value_labels_by: Mapping[str, Mapping[str, str]] = field(default_factory=dict)

    def label_in(self, value: str, params: Mapping[str, str]) -> str:
        """The label of ``value`` given the other parameters (falls back to :meth:`label_for`)."""
        labels = self.value_labels_by.get(params.get(self.depends_on, ""), {})
        return labels.get(value) or self.label_for(value)


SEVERITY_LABELS_BY_ZONE: Mapping[str, Mapping[str, str]] = {
    "central": {s: f"{s.capitalize()} (canal AP {CENTRAL_RESIDUAL_MM[s][0]:g} mm)" for s in SEVERITY_VALUES},
    "lateral_recess": {s: f"{s.capitalize()} (recess {RECESS_DEPTH_MM[s]:g} mm deep)" for s in SEVERITY_VALUES},
    "foraminal": {s: f"{s.capitalize()} (Lee grade {g})" for s, g in zip(SEVERITY_VALUES, (1, 2, 3), strict=True)},
}


def residual_area_mm2(severity: str) -> float:
    """Area (mm2) of the elliptic channel left for the dural sac in central stenosis."""
    ap, width = CENTRAL_RESIDUAL_MM[severity]
    return float(np.pi * ap * width / 4)


def _waisted_channel(points: Array, shift: float, ap: float, width: float, waist: float, core_half: float,
                     half_h: float) -> Array:
    """Signed distance (approximate, mm) to the channel left for the sac: an elliptic cylinder ``ap``
    deep, ``waist`` wide within ``core_half`` of the disc's mid-plane and ``width`` wide beyond it."""
    z = np.abs(points[:, 2])
    rx = waist / 2 + (width - waist) / 2 * smoothstep(core_half, core_half + CORE_BLEND_MM, z)
    ry = ap / 2
    x, y = points[:, 0], points[:, 1] - shift
    k0 = np.hypot(x / rx, y / ry)
    k1 = np.hypot(x / (rx * rx), y / (ry * ry))
    d2 = np.where(k1 > 1e-9, k0 * (k0 - 1.0) / np.maximum(k1, 1e-9), -np.minimum(rx, ry))
    dz = z - half_h
    return np.hypot(np.maximum(d2, 0.0), np.maximum(dz, 0.0)) + np.minimum(np.maximum(d2, dz), 0.0)


@lru_cache(maxsize=32)
def _central(level: str, severity: str) -> tuple[pv.PolyData, np.ndarray]:
    """A collar of tissue around the canal at the disc, leaving an elliptic channel."""
    station = canal_station(level)
    dims = VERTEBRAE[level.split("-")[0]]
    ap, width = CENTRAL_RESIDUAL_MM[severity]
    half_h = DISCS[level].height / 2 + STENOSIS_REACH_Z_MM
    # The channel sits slightly forward: the ligamentum flavum and facets bulge in from behind.
    shift = 0.15 * (dims.canal_depth - ap)

    waist = CENTRAL_WAIST_WIDTH_MM[severity]
    core_half = max(DISCS[level].height_posterior / 2 - CORE_INSET_MM, 0.5)

    def field(points: Array) -> Array:
        canal = elliptic_cylinder(points, (0.0, 0.0, 0.0), dims.canal_width / 2, dims.canal_depth / 2 + 1.0,
                                  half_h, rounding=2.0)
        channel = _waisted_channel(points, shift, ap, width, waist, core_half, half_h + 5.0)
        return smooth_subtract(canal, channel, 1.5)

    box = (-dims.canal_width / 2 - 3, dims.canal_width / 2 + 3, -dims.canal_depth / 2 - 4,
           dims.canal_depth / 2 + 4, -half_h - 3, half_h + 3)
    return mesh_lesion(field, box, station.frame), station.frame.origin


@lru_cache(maxsize=64)
def _lateral_recess(level: str, side: str, severity: str) -> tuple[pv.PolyData, np.ndarray]:
    """Facet overgrowth growing forward and inward into the recess, toward the traversing root."""
    station = canal_station(level)
    dims = VERTEBRAE[level.split("-")[0]]
    s = side_sign(side)
    sleeve = station.frame.to_local(sleeve_point(level.split("-")[1], side))  # just below the disc
    root_radius = ROOT_DIAMETER[level.split("-")[1]] / 2 * 0.6
    # Every millimetre the recess loses below its normal depth pushes the overgrowth further
    # into the root's room.
    indent = 0.1 + 0.8 * (NORMAL_RECESS_DEPTH_MM - RECESS_DEPTH_MM[severity]) / 3.0
    anchor = np.array([s * (dims.canal_width / 2 + 1.0), -dims.canal_depth / 2 + 1.0, 0.0])  # the facet joint
    blob = PressingBlob(anchor, sleeve, root_radius, indent, width=8.0, height=DISCS[level].height + 6.0)
    # The overgrown superior articular process also fills the recess at the disc itself, leaving
    # RECESS_DEPTH_MM between its front and the back of the disc (Ciric's depth, measured there):
    # a shelf across the recess, from the disc's lower edge up, clear of the root's sleeve below.
    back = DISCS[level].height_posterior / 2
    front = dims.canal_depth / 2 - RECESS_DEPTH_MM[severity] + SHELF_FRONT_ALLOWANCE_MM  # from the canal's centre
    z_low, z_high = -back + SHELF_ABOVE_ENDPLATE_MM, back
    shelf_center = (s * (dims.canal_width / 2 + 0.5), front - SHELF_DEPTH_MM / 2, 0.5 * (z_low + z_high))
    shelf_half = (SHELF_HALF_WIDTH_MM, SHELF_DEPTH_MM / 2, 0.5 * (z_high - z_low))

    def field(points: Array) -> Array:
        return smooth_union(blob.field(points), round_box(points, shelf_center, shelf_half, 0.8), 1.0)

    c, h = np.array(shelf_center), np.array(shelf_half)
    shelf_box = (c[0] - h[0] - 2, c[0] + h[0] + 2, c[1] - h[1] - 2, c[1] + h[1] + 2, c[2] - h[2] - 2, c[2] + h[2] + 2)
    bounds = merge_bounds(blob.bounds(), shelf_box)
    return mesh_lesion(field, bounds, station.frame), station.frame.to_global(blob.center)


@lru_cache(maxsize=64)
def _foraminal(level: str, side: str, severity: str) -> tuple[pv.PolyData, np.ndarray]:
    """Disc bulge and facet spur rising into the foramen toward the exiting root."""
    _, target, radius = fragment_zone_geometry(level, "foraminal", side)
    depth = disc_footprint(level)[1]
    anchor = np.array([target[0], -depth / 2 - 5.0, -2.0])  # the lower facet's tip and the disc rim
    blob = PressingBlob(anchor, target, radius, FORAMINAL_INDENT[severity], width=9.0, height=7.0)
    frame = spine_layout().disc[level]
    return mesh_lesion(blob.field, blob.bounds(), frame), frame.to_global(blob.center)


def build_lesion(params: Mapping[str, str]) -> Lesion:
    level, zone, severity = params["level"], params["zone"], params["severity"]
    side = params.get("side", "left")
    upper = level.split("-")[0]
    nearby = ROOTS[ROOTS.index(upper):]
    if zone == "central":
        mesh, focus = _central(level, severity)
        name = (f"Central stenosis at {level}: bulging disc, thick ligamentum flavum and facet overgrowth "
                f"(canal {CENTRAL_RESIDUAL_MM[severity][0]:g} mm front to back)")
    elif zone == "lateral_recess":
        mesh, focus = _lateral_recess(level, side, severity)
        name = f"Facet overgrowth in the {side} lateral recess at {level} (recess {RECESS_DEPTH_MM[severity]:g} mm deep)"
    else:
        mesh, focus = _foraminal(level, side, severity)
        name = f"Disc bulge and facet spur narrowing the {side} {level} foramen"
    return Lesion(compressors={"lesion-stenosis": mesh}, replaced={}, names={"lesion-stenosis": name},
                  focus=focus, candidates=root_ids(nearby) + ("cauda-equina", "thecal-sac"), slow=True)


# ------------------------------------------------------------------------ clinical knowledge


def expected(params: Mapping[str, str]) -> ExpectedPattern:
    """The textbook pattern (Genevay 2010; Katz 2008), not the geometry's."""
    level, zone = params.get("level", "L4-L5"), params.get("zone", "central")
    upper, lower = level.split("-")
    side = params.get("side", "left")
    other = "right" if side == "left" else "left"
    severity = params.get("severity", "moderate")
    if zone == "central":
        in_sac = both_sides(*roots_below(lower))
        return ExpectedPattern(in_sac, both_sides(upper),
                               required=frozenset() if severity == "mild" else both_sides(lower),
                               bilateral=severity != "mild",
                               explanation=f"A narrow central canal at {level} squeezes the roots inside the dural "
                                           f"sac on both sides, the traversing {lower} roots first; a mild "
                                           f"narrowing may squeeze nothing.")
    if zone == "lateral_recess":
        # A 4 mm recess (mild) is above Ciric's 3 mm "suspicious" mark: it may squeeze nothing yet.
        return ExpectedPattern(frozenset({(lower, side)}), frozenset({(upper, side), (lower, other)}),
                               required=frozenset() if severity == "mild" else None,
                               explanation=f"The lateral recess is where the traversing {lower} root runs, so "
                                           f"narrowing there squeezes it.")
    return ExpectedPattern(frozenset({(upper, side)}), frozenset({(lower, side)}),
                           explanation=f"The {level} foramen is where the {upper} root exits, so narrowing "
                                       f"there squeezes the exiting root.")


COMMON: tuple[str, ...] = (
    ("Usually after the age of 50, from wear and tear: a bulging disc, a thickened ligamentum flavum and "
    "enlarged facet joints narrow the space for the nerves."),
)
CENTRAL: tuple[str, ...] = (
    ("Neurogenic claudication: pain, heaviness, tingling or weakness in the buttocks and legs that comes "
    "on with walking or standing and eases after a few minutes of sitting or bending forward."),
    ("Shopping-cart sign: leaning forward on a cart lets the person walk further, because bending forward "
    "widens the canal; cycling and walking uphill are often easier than walking downhill."),
    "Usually both legs; the examination at rest may be normal.",
    ("Foot pulses are usually normal, but narrowed leg arteries often coexist at this age, so check both. "
    "Claudication from the arteries eases by simply standing still, without sitting or bending, and the "
    "pulses are often weak."),
)
LATERAL: tuple[str, ...] = (
    "Radicular pain down one leg along a single root, brought on by standing and walking and eased by sitting.",
    ("Kemp test: leaning backwards and turning towards the painful side narrows the lateral canal and may "
    "reproduce the leg pain (a simple but not very accurate test)."),
)
ZONE_FEATURES: Mapping[str, tuple[str, ...]] = {
    "central": CENTRAL,
    "lateral_recess": LATERAL + (
        "Lateral recess stenosis traps the traversing root (for example L5 at L4-L5) in the gutter beside the canal.",),
    "foraminal": LATERAL + ("Foraminal stenosis traps the exiting root (for example L4 at L4-L5) in its foramen.",),
}
WATCH_FOR: tuple[str, ...] = (
    "Pain or tingling in both legs when walking is common with a narrow canal and is not an emergency by itself.",
    "Get emergency help at once if you get new numbness around your back passage, genitals or inner thighs.",
    ("Get emergency help at once if you suddenly cannot pass urine, leak urine or stools, or cannot feel "
    "when your bladder is full."),
    "Get urgent help if a leg or foot gets weak quickly, for example if your foot starts to drag.",
)


def features(params: Mapping[str, str], degrees: Mapping[RootSide, float]) -> tuple[str, ...]:
    """Typical features by zone; without a zone, roots hit on both sides (or none) read as central."""
    zone = params.get("zone", "")
    if zone not in ZONE_FEATURES:
        sides = {side for (_, side), d in degrees.items() if d > 0}
        zone = "central" if len(sides) != 1 else "lateral_recess"
        if zone == "lateral_recess":
            return COMMON + LATERAL
    return COMMON + ZONE_FEATURES[zone]


SPEC = ConditionSpec(
    id="stenosis",
    name="Spinal stenosis",
    summary="Wear-and-tear tissue narrows the spinal canal or the nerve's exit, squeezing the nerves.",
    params=(
        level_param("L4-L5"),
        ParamSpec("zone", "Zone", ZONES, "central",
                  value_labels={"central": "Central canal", "lateral_recess": "Lateral recess",
                                "foraminal": "Foraminal"},
                  plain_label="Where it is narrow",
                  plain_value_labels={"central": "The middle of the spinal canal",
                                      "lateral_recess": "The side channel where a nerve runs down",
                                      "foraminal": "The hole where the nerve leaves"}),
        side_param({"zone": ("lateral_recess", "foraminal")}),
        DependentParamSpec("severity", "Severity", SEVERITY_VALUES, "moderate",
                           value_labels={"mild": "Mild", "moderate": "Moderate", "severe": "Severe"},
                           plain_label="How narrow",
                           plain_value_labels={"mild": "A little narrow", "moderate": "Quite narrow",
                                               "severe": "Very narrow"},
                           depends_on="zone", value_labels_by=SEVERITY_LABELS_BY_ZONE),
    ),
    build_lesion=build_lesion,
    expected=expected,
    tempo="chronic",
    features=features,
    red_flags=RedFlagRules(cauda_equina=True, bilateral_sciatica=False, severe_weakness=True, watch_for=WATCH_FOR),
    examples=(
        ConditionExample("Central stenosis (L4-L5)", {"level": "L4-L5", "zone": "central", "severity": "moderate"}),
        ConditionExample("Lateral recess stenosis (L4-L5)",
                         {"level": "L4-L5", "zone": "lateral_recess", "side": "right", "severity": "moderate"}),
        ConditionExample("Foraminal stenosis (L5-S1)",
                         {"level": "L5-S1", "zone": "foraminal", "side": "left", "severity": "moderate"}),
    ),
    order=20,
)

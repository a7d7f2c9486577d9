"""Lumbar disc herniation: nucleus material pushed out through the annulus.

Zones follow the combined task forces' nomenclature (Fardon DF, Williams AL, Dohring EJ, et al.
Lumbar disc nomenclature: version 2.0. Spine J. 2014;14(11):2525-2545): central, subarticular
(called paracentral here, as in most teaching), foraminal and extraforaminal. Severity follows the
same paper's morphology: a protrusion (mild), an extrusion (moderate), a large extrusion or
sequestrated fragment that migrates (severe). A bulge (disc tissue beyond the ring over more than
a quarter of its rim) is not a herniation in that nomenclature, so it is not offered here.

Which root it catches (standard teaching; Amin RM, Andrade NS, Neuman BJ. Lumbar disc
herniation. Curr Rev Musculoskelet Med. 2017;10(4):507-516): a paracentral herniation catches
the *traversing* root, the one that exits one level lower (L4-L5 -> L5); a foraminal or
extraforaminal one catches the *exiting* root of that level (L4-L5 -> L4); a central one presses
on the dural sac from the front, where the traversing roots of both sides lie (anterolateral in
the sac: Wall EJ, Cohen MS, Massie JB, Rydevik B, Garfin SR. Cauda equina anatomy I: intrathecal
nerve root organization. Spine. 1990;15(12):1244-1247), and when large it fills the canal and
squeezes the sacral roots behind them too: cauda equina syndrome, whose commonest cause is a large
central disc (Lavy C, James A, Wilson-MacDonald J, Fairbank J. Cauda equina syndrome. BMJ.
2009;338:b936).

Tempo: acute. Symptoms in both legs from a disc are a warning sign of cauda equina syndrome (GIRFT
national suspected cauda equina syndrome pathway, NHS England 2023).
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np

from explorer.anatomy.discs import disc_footprint
from explorer.anatomy.implicit import Array, ellipsoid, smooth_union
from explorer.anatomy.layout import extraforaminal_local, root_exit_local, side_sign, spine_layout
from explorer.anatomy.morphometry import DISCS, ROOT_DIAMETER, THECAL_SAC_DIAMETER, VERTEBRAE
from explorer.anatomy.nerves import INTRATHECAL_RADIUS_FACTOR, canal_station, lane_local
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
    side_param,
)
from explorer.conditions.shapes import PressingBlob, merge_bounds, mesh_lesion
from explorer.lazy import lazy_module

if TYPE_CHECKING:
    import pyvista as pv
else:  # imported on first use (explorer/lazy.py): the first page needs none of it
    pv = lazy_module("pyvista")

ZONES: tuple[str, ...] = ("central", "paracentral", "foraminal", "extraforaminal")
# How far the disc material's tip reaches into the space of the nerve it heads for, as a share
# of that nerve's thickness: a protrusion indents it, an extrusion squashes it, a large
# extrusion flattens it.
INDENT_FRACTION: dict[str, float] = {"mild": 0.3, "moderate": 0.6, "severe": 0.95}
# Central: how far into the dural sac's depth the material reaches (a share of the canal taken).
CENTRAL_INDENT: dict[str, float] = {"mild": 0.2, "moderate": 0.45, "severe": 0.9}
WIDTH_MM: dict[str, float] = {"mild": 10.0, "moderate": 11.0, "severe": 12.0}
MIGRATION_MM: float = 9.0  # a sequestrated fragment usually slides down behind the body below


def fragment_zone_geometry(level: str, zone: str, side: str) -> tuple[Array, Array, float]:
    """Where disc material starts (on the disc rim), where it heads, and the nerve radius there.

    Zones are anatomical places (Fardon 2014), each the home of one nerve: the canal's midline
    (the dural sac), the subarticular zone at the sac's front corner where the traversing root
    runs (about to leave in its sleeve just below the disc),
    the upper foramen where the exiting root lies under its pedicle, and just beyond the foramen
    where the exiting root runs forward and down. All in the disc's frame (mm).
    """
    upper, lower = level.split("-")
    layout = spine_layout()
    disc = layout.disc[level]
    width, depth = disc_footprint(level)
    s = side_sign(side)
    if zone == "central":
        sac = disc.to_local(canal_station(level).frame.origin)
        return np.array([0.0, -depth / 2 + 2.5, 0.0]), sac, THECAL_SAC_DIAMETER[1] / 2
    if zone == "paracentral":
        # The traversing root at the disc: the most anterolateral root in the sac (Wall 1990),
        # about to leave in its sleeve just below the disc.
        station = canal_station(level)
        target = disc.to_local(station.frame.to_global(lane_local(lower, level, side)))
        radius = ROOT_DIAMETER[lower] / 2 * INTRATHECAL_RADIUS_FACTOR
        return np.array([target[0], -depth / 2 + 1.0, 0.0]), target, radius
    dims = VERTEBRAE[upper]
    diameter = ROOT_DIAMETER[upper]
    frame = layout.vertebra[upper]
    if zone == "foraminal":
        target = disc.to_local(frame.to_global(root_exit_local(dims, side, diameter)))
        anchor = np.array([target[0], -depth / 2 + 1.5, 0.0])  # straight back and up, clear of the sac
    else:
        target = disc.to_local(frame.to_global(extraforaminal_local(dims, side, diameter)))
        anchor = np.array([s * 0.45 * width, -0.3 * depth, 0.0])
    return anchor, target, diameter / 2


@lru_cache(maxsize=64)
def fragment(level: str, zone: str, side: str, indent: float, width: float, tall: float = 0.45,
             migrate: bool = False) -> tuple[pv.PolyData, np.ndarray]:
    """Mesh (global mm) and centre of disc material pushed out at ``level`` in ``zone``."""
    anchor, target, nerve_radius = fragment_zone_geometry(level, zone, side)
    blob = PressingBlob(anchor, target, nerve_radius, indent, width, DISCS[level].height * 2 * tall)

    def field(points: Array) -> Array:
        out = blob.field(points)
        if migrate:  # a sequestrated piece slides down behind the body below
            low = blob.center + np.array([0.0, -1.0, -MIGRATION_MM])
            out = smooth_union(out, ellipsoid(points, low, (width * 0.4, 3.0, 6.0)), 3.0)
        return out

    box = blob.bounds()
    if migrate:
        low = blob.center + np.array([0.0, -1.0, -MIGRATION_MM])
        box = merge_bounds(box, (low[0] - width / 2, low[0] + width / 2, low[1] - 6, low[1] + 6, low[2] - 9, low[2] + 9))
    frame = spine_layout().disc[level]
    return mesh_lesion(field, box, frame), frame.to_global(blob.center)


def build_lesion(params: Mapping[str, str]) -> Lesion:
    level, zone, severity = params["level"], params["zone"], params["severity"]
    side = params.get("side", "left")
    # A large paracentral extrusion spreads up and down along the root in the recess.
    tall = 0.65 if (severity == "severe" and zone == "paracentral") else 0.45
    indent = (CENTRAL_INDENT if zone == "central" else INDENT_FRACTION)[severity]
    mesh, focus = fragment(level, zone, "left" if zone == "central" else side, indent,
                           WIDTH_MM[severity], tall, migrate=severity == "severe" and zone == "central")
    upper = level.split("-")[0]
    nearby = ROOTS[ROOTS.index(upper):]  # the exiting root and everything still below it
    where = "" if zone == "central" else f", {side}"
    return Lesion(
        compressors={"lesion-disc": mesh},
        replaced={},
        names={"lesion-disc": f"Herniated disc material ({level}, {zone}{where})"},
        focus=focus,
        candidates=root_ids(nearby) + ("cauda-equina", "thecal-sac"),
    )


# ------------------------------------------------------------------------ clinical knowledge


def expected(params: Mapping[str, str]) -> ExpectedPattern:
    """The textbook pattern (Amin 2017; Fardon 2014; Wall 1990; Lavy 2009), not the geometry's."""
    level, zone = params.get("level", "L4-L5"), params.get("zone", "paracentral")
    upper, lower = level.split("-")
    side = params.get("side", "left")
    other = "right" if side == "left" else "left"
    if zone == "paracentral":
        return ExpectedPattern(frozenset({(lower, side)}), frozenset({(upper, side), (lower, other)}),
                               explanation=f"A paracentral {level} disc catches the traversing {lower} root, "
                                           f"which crosses this disc to exit one level lower; the {upper} root "
                                           f"has already left above the disc.")
    if zone in ("foraminal", "extraforaminal"):
        return ExpectedPattern(frozenset({(upper, side)}), frozenset({(lower, side)}),
                               explanation=f"A {zone} {level} disc catches the exiting {upper} root in or just "
                                           f"outside its foramen; the traversing {lower} root is still inside "
                                           f"the canal, out of reach.")
    severity = params.get("severity", "moderate")
    large = severity == "severe"
    return ExpectedPattern(
        both_sides(lower), both_sides(upper),
        required=frozenset() if severity == "mild" else both_sides(lower),
        bilateral=severity != "mild", cauda_equina=large,
        explanation=(f"A central {level} disc presses on the front of the dural sac, where the {lower} roots "
                     f"that leave at the next level lie on both sides"
                     + ("; a large one fills the canal and squeezes the sacral roots behind them too (cauda "
                        "equina)." if large else "; the sacral roots lie further back, out of reach until the "
                                                 "disc fills most of the canal.")))


# Straight-leg raise stretches the L4-S1 roots; femoral stretch the L2-L4 roots.
SLR_ROOTS: frozenset[str] = frozenset({"L4", "L5", "S1"})
FEMORAL_STRETCH_ROOTS: frozenset[str] = frozenset({"L2", "L3", "L4"})
PAIN_DEGREE: float = 0.05  # same as the pain threshold of the clinical picture
COMMON: tuple[str, ...] = (
    "Sciatica: pain shooting down the leg along one nerve root, usually worse than the back pain.",
    "Sitting, bending forward, coughing, sneezing or straining usually make the leg pain worse.",
)
SLR = ("Straight-leg raise: lifting the straightened leg while lying on the back brings on the leg pain, "
       "typically between about 30 and 70 degrees (stretches the L4-S1 roots; sensitive but not specific).")
CROSSED_SLR = ("Crossed straight-leg raise: lifting the good leg brings pain into the painful leg. It is found less "
               "often, but when present it points much more specifically to a disc herniation.")
FEMORAL = ("Femoral stretch test: lying face down, bending the knee (and lifting the thigh) brings on pain in "
           "the front of the thigh, because it stretches the L2-L4 roots (an upper lumbar or an L3-L4 "
           "foraminal herniation).")
ZONE_FEATURES: Mapping[str, tuple[str, ...]] = {
    "central": (
        ("A central herniation presses on the middle of the nerve sac: back pain can outweigh leg pain, "
        "and both legs may be affected."),
        ("The roots nearest the disc are the ones about to leave at the next level, so they are squeezed "
        "first; a large central herniation also squeezes the sacral roots behind them (cauda equina): "
        "watch for the red flags."),
    ),
    "paracentral": (
        ("A paracentral (posterolateral) herniation, the most common kind, squeezes the root that passes "
        "down past the disc (the traversing root) on one side."),
    ),
    "foraminal": (
        ("A foraminal herniation squeezes the root leaving through the foramen at that level (the exiting "
        "root), one level higher than a paracentral herniation would; the pain is often severe."),
    ),
    "extraforaminal": (
        ("A far-lateral (extraforaminal) herniation lies outside the foramen and squeezes the exiting root "
        "there; it is easy to miss on a scan that only looks at the canal."),
    ),
}


def features(params: Mapping[str, str], degrees: Mapping[RootSide, float]) -> tuple[str, ...]:
    """Typical features (Devillé 2000 for the straight-leg raise; Estridge 1982 for femoral stretch)."""
    hit = {root for (root, _), d in degrees.items() if d >= PAIN_DEGREE}
    zone, level = params.get("zone"), params.get("level")
    out = list(COMMON) + list(ZONE_FEATURES.get(zone or "", ()))
    if level and zone in ("central", "paracentral"):
        _upper, lower = level.split("-")
        out.append(f"At {level} the root most at risk is {lower}, the traversing root.")
    elif level and zone in ("foraminal", "extraforaminal"):
        out.append(f"At {level} the root most at risk is {level.split('-')[0]}, the exiting root.")
    if hit & SLR_ROOTS:
        out.append(SLR)
        if zone not in ("foraminal", "extraforaminal"):
            out.append(CROSSED_SLR)
    if hit & FEMORAL_STRETCH_ROOTS:
        out.append(FEMORAL)
    return tuple(out)


SPEC = ConditionSpec(
    id="herniation",
    name="Disc herniation",
    summary="Soft disc material breaks through the disc's outer ring and presses on a nerve root.",
    params=(
        level_param("L4-L5"),
        ParamSpec("zone", "Zone", ZONES, "paracentral",
                  value_labels={"central": "Central", "paracentral": "Paracentral (subarticular)",
                                "foraminal": "Foraminal", "extraforaminal": "Extraforaminal (far lateral)"},
                  plain_label="Where the disc pushes out",
                  plain_value_labels={"central": "Straight back, in the middle",
                                      "paracentral": "Off-centre (most common)",
                                      "foraminal": "Into the hole where the nerve leaves",
                                      "extraforaminal": "Just outside the nerve's exit hole"}),
        side_param({"zone": ("paracentral", "foraminal", "extraforaminal")}),
        ParamSpec("severity", "Severity", SEVERITY_VALUES, "moderate",
                  value_labels={"mild": "Mild (protrusion)", "moderate": "Moderate (extrusion)",
                                "severe": "Severe (large extrusion / sequestration)"},
                  plain_label="How much disc has pushed out",
                  plain_value_labels={"mild": "A little", "moderate": "A fair amount",
                                      "severe": "A lot (a large piece)"}),
    ),
    build_lesion=build_lesion,
    expected=expected,
    tempo="acute",
    features=features,
    red_flags=RedFlagRules(cauda_equina=True, bilateral_sciatica=True, severe_weakness=True),
    examples=(
        ConditionExample("L5 sciatica (paracentral L4-L5)",
                         {"level": "L4-L5", "zone": "paracentral", "side": "left", "severity": "moderate"}),
        ConditionExample("S1 sciatica (paracentral L5-S1)",
                         {"level": "L5-S1", "zone": "paracentral", "side": "right", "severity": "moderate"}),
        ConditionExample("L4 exiting root (foraminal L4-L5)",
                         {"level": "L4-L5", "zone": "foraminal", "side": "left", "severity": "moderate"}),
        ConditionExample("Large central disc (L4-L5)", {"level": "L4-L5", "zone": "central", "severity": "severe"}),
    ),
    order=10,
)

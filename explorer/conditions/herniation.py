"""Lumbar disc herniation: nucleus material pushed out through the annulus.

Zones follow the combined task forces' nomenclature (Fardon DF, Williams AL, Dohring EJ, et al.
Lumbar disc nomenclature: version 2.0. Spine J. 2014;14(11):2525-2545): central, subarticular
(called paracentral here, as in most teaching), foraminal and extraforaminal. Severity follows the
same paper's morphology: a broad bulge or protrusion (mild), an extrusion (moderate), a large
extrusion or sequestrated fragment that migrates (severe).

Which root it catches (standard teaching; Amin RM, Andrade NS, Neuman BJ. Lumbar disc
herniation. Curr Rev Musculoskelet Med. 2017;10(4):507-516): a paracentral herniation catches
the *traversing* root, the one that exits one level lower (L4-L5 -> L5); a foraminal or
extraforaminal one catches the *exiting* root of that level (L4-L5 -> L4); a central one presses
on the dural sac and, when large, on several roots of the cauda equina on both sides.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache

import numpy as np
import pyvista as pv

from explorer.anatomy.discs import disc_footprint
from explorer.anatomy.implicit import Array, ellipsoid, smooth_union
from explorer.anatomy.layout import extraforaminal_local, root_exit_local, side_sign, spine_layout
from explorer.anatomy.morphometry import DISCS, ROOT_DIAMETER, THECAL_SAC_DIAMETER, VERTEBRAE
from explorer.anatomy.nerves import DEPARTURE_FORWARD_MM, DEPARTURE_GAP_MM, canal_station
from explorer.anatomy.structures import ROOTS
from explorer.conditions.base import (
    SEVERITY_VALUES,
    ConditionSpec,
    Lesion,
    ParamSpec,
    level_param,
    root_ids,
    side_param,
)
from explorer.conditions.shapes import PressingBlob, merge_bounds, mesh_lesion

ZONES: tuple[str, ...] = ("central", "paracentral", "foraminal", "extraforaminal")
# How far the disc material's tip reaches into the space of the nerve it heads for, as a share
# of that nerve's thickness: a bulge or protrusion indents it, an extrusion squashes it, a large
# extrusion flattens it.
INDENT_FRACTION: dict[str, float] = {"mild": 0.3, "moderate": 0.6, "severe": 0.95}
WIDTH_MM: dict[str, float] = {"mild": 10.0, "moderate": 11.0, "severe": 12.0}
MIGRATION_MM: float = 9.0  # a sequestrated fragment usually slides down behind the body below


def fragment_zone_geometry(level: str, zone: str, side: str) -> tuple[Array, Array, float]:
    """Where disc material starts (on the disc rim), where it heads, and the nerve radius there.

    Zones are anatomical places (Fardon 2014), each the home of one nerve: the canal's midline
    (the dural sac), the subarticular zone where the traversing root leaves the sac in its sleeve,
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
        station = canal_station(level)
        sleeve = station.frame.to_global((s * (station.sac_half_width + DEPARTURE_GAP_MM), DEPARTURE_FORWARD_MM, 0.0))
        target = disc.to_local(sleeve)
        radius = ROOT_DIAMETER[lower] / 2 * 0.6
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
    mesh, focus = fragment(level, zone, "left" if zone == "central" else side, INDENT_FRACTION[severity],
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
                  value_labels={"mild": "Mild (bulge / protrusion)", "moderate": "Moderate (extrusion)",
                                "severe": "Severe (large extrusion / sequestration)"},
                  plain_label="How much disc has pushed out",
                  plain_value_labels={"mild": "A little", "moderate": "A fair amount",
                                      "severe": "A lot (a large piece)"}),
    ),
    build_lesion=build_lesion,
)

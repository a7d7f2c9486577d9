"""The parts fit together: nerves run through the openings the bones leave for them, the sciatic
nerve leaves the pelvis below piriformis, and left is left everywhere."""

from __future__ import annotations

import numpy as np
import pytest

from explorer.anatomy.layout import greater_sciatic_foramen, piriformis_path, side_sign
from explorer.anatomy.measure import signed_distance
from explorer.anatomy.nerves import root_course, sciatic_course
from explorer.anatomy.structures import ROOTS, STRUCTURES

SIDES = ("left", "right")
BONES = [sid for sid, s in STRUCTURES.items() if s.layer in ("bones", "pelvis")]


def _clearance(path: np.ndarray, radii: np.ndarray | float, mesh) -> float:
    """Smallest gap (mm) between a tube's surface and a closed mesh (negative = overlap)."""
    return float((signed_distance(path, mesh) - radii).min())


@pytest.mark.parametrize("side", SIDES)
@pytest.mark.parametrize("root", ROOTS)
def test_roots_pass_through_openings_not_bone(built_meshes, root, side):
    path, radii = root_course(root, side)
    gap = min(_clearance(path, radii, built_meshes[b]) for b in BONES)
    # Lumbar roots clear bone entirely; sacral roots fill their bony tunnels snugly (the 5 mm
    # S1 root touches the walls of its foramen by about a millimetre in this model).
    assert gap >= (0.0 if root.startswith("L") else -1.5)


@pytest.mark.parametrize("side", SIDES)
def test_sciatic_leaves_the_pelvis_below_piriformis(built_meshes, side):
    path = sciatic_course(side)
    radius = 7.5
    piriformis = built_meshes[f"piriformis-{side}"]
    assert _clearance(path, radius * 0.9, piriformis) > 0.0, "the nerve does not pierce the muscle"
    # Through the greater sciatic foramen and beyond, the nerve runs below the muscle's belly
    # (radius about 9 mm), seen from behind.
    muscle_line = piriformis_path(side)
    for x in abs(greater_sciatic_foramen(side)[0]) + np.array([0.0, 10.0, 20.0]):
        z_nerve = np.interp(x, np.abs(path[:, 0]), path[:, 2])
        z_muscle = np.interp(x, np.abs(muscle_line[:, 0]), muscle_line[:, 2])
        assert z_muscle - z_nerve > radius + 8.0
    for bone in (f"hip-bone-{side}", f"femur-{side}", "sacrum"):
        assert _clearance(path, radius, built_meshes[bone]) > 0.0, bone


@pytest.mark.parametrize("sid", [sid for sid, s in STRUCTURES.items() if s.side])
def test_left_structures_are_on_the_patients_left(built_meshes, sid):
    centroid = np.asarray(built_meshes[sid].points).mean(axis=0)
    assert np.sign(centroid[0]) == side_sign(STRUCTURES[sid].side)


@pytest.mark.parametrize("upper,lower", [("vertebra-L1", "vertebra-L2"), ("vertebra-L2", "vertebra-L3"),
                                         ("vertebra-L3", "vertebra-L4"), ("vertebra-L4", "vertebra-L5"),
                                         ("vertebra-L5", "sacrum")])
def test_adjacent_bones_do_not_interpenetrate(built_meshes, upper, lower):
    inside = signed_distance(built_meshes[upper].points, built_meshes[lower])
    assert inside.min() > -1.0


@pytest.mark.parametrize("disc", [sid for sid, s in STRUCTURES.items() if s.kind == "disc"])
def test_discs_sit_between_their_vertebrae(built_meshes, disc):
    upper, lower = STRUCTURES[disc].level.split("-")
    below = "sacrum" if lower == "S1" else f"vertebra-{lower}"
    for bone in (f"vertebra-{upper}", below):
        gap = signed_distance(built_meshes[disc].points, built_meshes[bone])
        assert gap.min() > -1.5, bone  # touching the endplate, not sunk into it
        assert gap.min() < 3.0, bone  # and not floating away from it

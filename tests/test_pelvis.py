"""The pelvis reads as a real one and keeps the shared landmarks free for the nerves: the sacrum's
endplate sits on the origin, its foramina and canal are open, the greater sciatic foramen is clear,
the femoral head sits in the acetabulum and piriformis runs above the sciatic nerve's exit."""

from __future__ import annotations

import numpy as np
import pytest
import pyvista as pv
import vtk

from explorer.anatomy.layout import (
    anterior_sacral_foramen,
    greater_sciatic_foramen,
    greater_trochanter,
    hip_center,
    ischial_tuberosity,
    piriformis_path,
    sacral_canal_center,
    sacral_frames,
    sciatic_exit_point,
)
from explorer.anatomy.morphometry import SCIATIC_DIAMETER
from explorer.anatomy.muscles import build_piriformis
from explorer.anatomy.pelvis import build_femur, build_hip_bone, build_sacrum
from explorer.settings import TARGET_FACES

SIDES = ("left", "right")


# ----------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def sacrum() -> pv.PolyData:
    return build_sacrum()


@pytest.fixture(scope="module")
def hip_bones() -> dict[str, pv.PolyData]:
    return {side: build_hip_bone(side) for side in SIDES}


@pytest.fixture(scope="module")
def femurs() -> dict[str, pv.PolyData]:
    return {side: build_femur(side) for side in SIDES}


@pytest.fixture(scope="module")
def piriformis() -> dict[str, pv.PolyData]:
    return {side: build_piriformis(side) for side in SIDES}


def signed_distance(mesh: pv.PolyData, points: np.ndarray) -> np.ndarray:
    """Signed distance (mm) from points to a closed mesh, negative inside.

    The sign comes from the mesh normals, so it is checked against a point far outside and
    flipped if the triangles happen to be wound inward.
    """
    implicit = vtk.vtkImplicitPolyDataDistance()
    implicit.SetInput(mesh)
    pts = np.atleast_2d(np.asarray(points, dtype=float))
    d = np.array([implicit.EvaluateFunction(*p) for p in pts])
    far = np.asarray(mesh.center) + 10.0 * (np.ptp(np.asarray(mesh.points), axis=0).max() + 1.0)
    return d if implicit.EvaluateFunction(*far) > 0 else -d


def inside(mesh: pv.PolyData, points: np.ndarray) -> np.ndarray:
    """Ray-cast inside test, independent of the normals' orientation."""
    pts = pv.PolyData(np.atleast_2d(np.asarray(points, dtype=float)))
    return pts.select_interior_points(mesh, method="cell_locator")["selected_points"].astype(bool)


def unsigned_distance(mesh: pv.PolyData, points: np.ndarray) -> np.ndarray:
    return np.abs(signed_distance(mesh, points))


def min_distance_between(a: pv.PolyData, b: pv.PolyData) -> float:
    """Smallest distance (mm) from the vertices of ``a`` to the surface of ``b``."""
    pts = pv.PolyData(np.asarray(a.points))
    return float(np.abs(pts.compute_implicit_distance(b)["implicit_distance"]).min())


# ----------------------------------------------------------------------------- all meshes


def _all(sacrum, hip_bones, femurs, piriformis) -> list[tuple[str, pv.PolyData, str]]:
    out = [("sacrum", sacrum, "sacrum")]
    for side in SIDES:
        out += [
            (f"hip-bone-{side}", hip_bones[side], "hip-bone"),
            (f"femur-{side}", femurs[side], "femur"),
            (f"piriformis-{side}", piriformis[side], "muscle"),
        ]
    return out


def test_meshes_are_closed_and_within_budget(sacrum, hip_bones, femurs, piriformis):
    for name, mesh, kind in _all(sacrum, hip_bones, femurs, piriformis):
        assert mesh.n_cells > 0, name
        assert mesh.is_all_triangles, name
        assert mesh.n_open_edges == 0, f"{name} has holes in its surface"
        assert mesh.n_cells <= 1.1 * TARGET_FACES[kind], f"{name}: {mesh.n_cells} triangles"


def test_paired_structures_sit_on_their_own_side(hip_bones, femurs, piriformis):
    for meshes in (hip_bones, femurs, piriformis):
        assert meshes["left"].center[0] < -20.0
        assert meshes["right"].center[0] > 20.0


def test_left_and_right_are_mirror_images(hip_bones, femurs, piriformis):
    for meshes in (hip_bones, femurs, piriformis):
        mirrored = np.asarray(meshes["left"].points) * np.array([-1.0, 1.0, 1.0])
        d = np.abs(pv.PolyData(mirrored).compute_implicit_distance(meshes["right"])["implicit_distance"])
        assert np.median(d) < 0.5 and d.max() < 3.0


# ----------------------------------------------------------------------------- sacrum


def test_s1_endplate_is_centred_on_the_origin(sacrum):
    # The endplate centre is on the surface, the bone lies just below it along the S1 axis.
    assert unsigned_distance(sacrum, np.zeros(3))[0] < 1.5
    up = sacral_frames()["S1"].up
    assert inside(sacrum, -4.0 * up).all()
    assert not inside(sacrum, 4.0 * up).any()


def test_sacral_base_width(sacrum):
    width = sacrum.bounds[1] - sacrum.bounds[0]
    assert 95.0 <= width <= 120.0


def test_anterior_sacral_foramina_are_open(sacrum):
    pts = np.array([anterior_sacral_foramen(seg, side) for seg in ("S1", "S2", "S3", "S4") for side in SIDES])
    assert not inside(sacrum, pts).any()
    assert (signed_distance(sacrum, pts) > 0.5).all()


def test_sacral_canal_is_open(sacrum):
    pts = np.array([sacral_canal_center(seg) for seg in ("S1", "S2", "S3")])
    assert not inside(sacrum, pts).any()
    assert (signed_distance(sacrum, pts) > 2.0).all()


# ----------------------------------------------------------------------------- hip bone and femur


def test_iliac_crests_reach_the_l4_l5_level(hip_bones):
    for side in SIDES:
        top = hip_bones[side].bounds[5]
        assert 40.0 <= top <= 60.0
        width = max(abs(hip_bones[side].bounds[0]), abs(hip_bones[side].bounds[1]))
        assert 115.0 <= width <= 140.0  # half the intercristal width


def test_sacroiliac_joints_meet_without_overlap(sacrum, hip_bones):
    for side in SIDES:
        hip = hip_bones[side]
        d = signed_distance(sacrum, np.asarray(hip.points))
        assert d.min() > -1.0, "the ilium digs into the sacrum"
        assert (d < 3.0).sum() > 50, "the ilium does not reach the sacrum"


def test_greater_sciatic_foramen_is_clear(sacrum, hip_bones):
    for side in SIDES:
        gsf = greater_sciatic_foramen(side)
        assert signed_distance(hip_bones[side], gsf)[0] >= 10.0
        assert signed_distance(sacrum, gsf)[0] >= 10.0


def test_acetabulum_holds_the_femoral_head(hip_bones, femurs):
    for side in SIDES:
        h = hip_center(side)
        # The cup is empty (cartilage space) around the head centre, its wall ~25 mm away.
        assert 22.0 <= signed_distance(hip_bones[side], h)[0] <= 29.0
        assert inside(femurs[side], h).all()
        assert signed_distance(femurs[side], h)[0] < -18.0
        assert signed_distance(hip_bones[side], np.asarray(femurs[side].points)).min() > -1.5


def test_ischial_tuberosity_is_bone(hip_bones):
    for side in SIDES:
        assert signed_distance(hip_bones[side], ischial_tuberosity(side))[0] < 3.0


def test_greater_trochanter_tip_is_on_the_femur(femurs):
    for side in SIDES:
        assert unsigned_distance(femurs[side], greater_trochanter(side))[0] < 8.0


def test_femur_reaches_mid_thigh(femurs):
    for side in SIDES:
        assert -340.0 < femurs[side].bounds[4] < -320.0


# ----------------------------------------------------------------------------- piriformis


def test_piriformis_runs_above_the_sciatic_exit(piriformis):
    for side in SIDES:
        pts = np.asarray(piriformis[side].points)
        x0 = greater_sciatic_foramen(side)[0]
        at_foramen = pts[np.abs(pts[:, 0] - x0) < 4.0]
        exit_pt = sciatic_exit_point(side)
        assert len(at_foramen) > 0
        assert at_foramen[:, 2].min() > exit_pt[2] + SCIATIC_DIAMETER / 2
        # and a nerve of 15 mm at the exit point keeps clear of the muscle
        assert signed_distance(piriformis[side], exit_pt)[0] >= SCIATIC_DIAMETER / 2 + 3.0


def test_piriformis_spares_the_sacral_foramina(piriformis):
    for side in SIDES:
        pts = np.array([anterior_sacral_foramen(seg, side) for seg in ("S1", "S2", "S3", "S4")])
        assert (signed_distance(piriformis[side], pts) > 1.0).all()


def test_piriformis_attaches_to_sacrum_and_trochanter(sacrum, femurs, piriformis):
    for side in SIDES:
        muscle = piriformis[side]
        path = piriformis_path(side)
        pts = np.asarray(muscle.points)
        origin_part = pv.PolyData(pts[np.linalg.norm(pts - path[0], axis=1) < 25.0])
        insertion_part = pv.PolyData(pts[np.linalg.norm(pts - path[-1], axis=1) < 15.0])
        assert min_distance_between(origin_part, sacrum) < 5.0
        assert min_distance_between(insertion_part, femurs[side]) < 5.0


def test_piriformis_passes_through_the_foramen_not_the_bone(hip_bones, piriformis):
    for side in SIDES:
        d = signed_distance(hip_bones[side], np.asarray(piriformis[side].points))
        assert d.min() > -2.0

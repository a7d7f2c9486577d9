"""Geometry tests for the lumbar vertebra builder (explorer.anatomy.vertebra).

All five vertebrae are built once per module (about 1-2 s each); every check then measures the
meshes in the vertebra's local frame (origin at the body centre, +y anterior, +z cranial).
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import pyvista as pv

from explorer.anatomy.layout import (
    canal_center_local,
    lateral_recess_local,
    pedicle_box,
    root_exit_local,
    spine_layout,
)
from explorer.anatomy.morphometry import LUMBAR_LEVELS, VERTEBRA_RANGES, VERTEBRAE
from explorer.anatomy.vertebra import (
    FACET_GAP_MM,
    LAMINA_THICKNESS_MM,
    build_vertebra,
    superior_facet,
)
from explorer.settings import TARGET_FACES

ROOT_DIAMETER_MM = 5.0
ROOT_CLEARANCE_MM = 3.0  # bone-free radius around the root's exit point
SIDES = ("left", "right")


@pytest.fixture(scope="module")
def meshes() -> dict[str, pv.PolyData]:
    """Global meshes of L1-L5, built once."""
    return {level: build_vertebra(level) for level in LUMBAR_LEVELS}


@pytest.fixture(scope="module")
def local_meshes(meshes: dict[str, pv.PolyData]) -> dict[str, pv.PolyData]:
    """The same meshes mapped into each vertebra's local frame."""
    out = {}
    for level, mesh in meshes.items():
        local = mesh.copy()
        local.points = spine_layout().vertebra[level].to_local(np.asarray(mesh.points))
        out[level] = local
    return out


def inside(mesh: pv.PolyData, points: np.ndarray) -> np.ndarray:
    """True for each point enclosed by the closed ``mesh``."""
    probe = pv.PolyData(np.atleast_2d(np.asarray(points, dtype=float)))
    selected = probe.select_interior_points(mesh, check_surface=False)
    return np.asarray(selected.point_data["selected_points"], dtype=bool)


def distance(mesh: pv.PolyData, points: np.ndarray) -> np.ndarray:
    """Unsigned distance (mm) from each point to the mesh surface."""
    probe = pv.PolyData(np.atleast_2d(np.asarray(points, dtype=float)))
    return np.abs(np.asarray(probe.compute_implicit_distance(mesh)["implicit_distance"]))


def section(mesh: pv.PolyData, normal: str, origin: tuple[float, float, float]) -> np.ndarray:
    """Points of the mesh's cross-section by a plane (mm)."""
    return np.asarray(mesh.slice(normal=normal, origin=origin).points)


# ---------------------------------------------------------------------------- mesh quality


@pytest.mark.parametrize("level", LUMBAR_LEVELS)
def test_mesh_is_closed_manifold_and_within_budget(meshes: dict[str, pv.PolyData], level: str) -> None:
    mesh = meshes[level]
    assert mesh.n_points > 0 and mesh.n_cells > 0
    assert mesh.is_all_triangles
    assert mesh.n_open_edges == 0
    assert mesh.is_manifold
    assert mesh.n_cells <= TARGET_FACES["vertebra"] * 1.1
    assert mesh.volume > 0
    # Triangles face outward: the body centre is at negative signed distance.
    centre = pv.PolyData(spine_layout().vertebra[level].origin[None, :])
    assert centre.compute_implicit_distance(mesh)["implicit_distance"][0] < -5.0


def test_unknown_level_is_rejected() -> None:
    with pytest.raises(ValueError, match="L6"):
        build_vertebra("L6")


# ---------------------------------------------------------------------------- body


@pytest.mark.parametrize("level", LUMBAR_LEVELS)
def test_body_width_and_depth_match_morphometry(local_meshes: dict[str, pv.PolyData], level: str) -> None:
    d = VERTEBRAE[level]
    mesh = local_meshes[level]
    # A horizontal section near the lower endplate, below the pedicles and transverse processes.
    cut = section(mesh, "z", (0.0, 0.0, -d.body_height / 2 + 3.0))
    front = cut[cut[:, 1] > -d.body_depth / 2 + 6.0]
    width = front[:, 0].max() - front[:, 0].min()
    midline = cut[(np.abs(cut[:, 0]) < 2.0) & (cut[:, 1] > -d.body_depth / 2 - 6.0)]
    depth = midline[:, 1].max() - midline[:, 1].min()

    lo, hi = VERTEBRA_RANGES["body_width"]
    assert lo <= width <= hi
    assert width == pytest.approx(d.body_width, rel=0.15)
    lo, hi = VERTEBRA_RANGES["body_depth"]
    assert lo <= depth <= hi
    assert depth == pytest.approx(d.body_depth, rel=0.15)


@pytest.mark.parametrize("level", LUMBAR_LEVELS)
def test_body_heights_follow_the_wedge(local_meshes: dict[str, pv.PolyData], level: str) -> None:
    d = VERTEBRAE[level]
    mesh = local_meshes[level]

    def height_at(y: float) -> float:
        hits, _ = mesh.ray_trace((0.0, y, -60.0), (0.0, y, 60.0))
        return float(hits[:, 2].max() - hits[:, 2].min())

    front = height_at(d.body_depth / 2 - 4.0)
    back = height_at(-d.body_depth / 2 + 5.0)
    assert front == pytest.approx(d.body_height_anterior, rel=0.12)
    assert back == pytest.approx(d.body_height_posterior, rel=0.12)
    lo, hi = VERTEBRA_RANGES["body_height"]
    assert lo <= 0.5 * (front + back) <= hi
    if level == "L5":
        assert front > back + 1.5  # the wedge-shaped L5 body


def test_body_is_kidney_shaped(local_meshes: dict[str, pv.PolyData]) -> None:
    """The back of the body is concave: the midline lies in front of the posterolateral lobes."""
    d = VERTEBRAE["L2"]
    cut = section(local_meshes["L2"], "z", (0.0, 0.0, -d.body_height / 2 + 3.0))
    body = cut[cut[:, 1] > -d.body_depth / 2 - 4.0]
    mid_back = body[np.abs(body[:, 0]) < 2.0][:, 1].min()
    lobe_back = body[np.abs(np.abs(body[:, 0]) - 0.45 * d.body_width / 2) < 2.0][:, 1].min()
    assert mid_back > lobe_back + 1.0


# ---------------------------------------------------------------------------- canal, pedicles, foramina


@pytest.mark.parametrize("level", LUMBAR_LEVELS)
def test_canal_is_open(local_meshes: dict[str, pv.PolyData], level: str) -> None:
    d = VERTEBRAE[level]
    mesh = local_meshes[level]
    center = canal_center_local(d)
    assert not inside(mesh, center)[0]
    # Clear across the interpedicular width at pedicle level and along the mid-sagittal depth.
    ped = pedicle_box(d, "right")
    across = [(x, ped.center[1], ped.center[2]) for x in np.linspace(-d.canal_width / 2 + 1, d.canal_width / 2 - 1, 9)]
    along = [(0.0, y, 0.0) for y in np.linspace(-d.body_depth / 2 - 1, -d.body_depth / 2 - d.canal_depth + 1, 9)]
    assert not inside(mesh, np.array(across + along)).any()
    assert distance(mesh, center)[0] >= 0.35 * min(d.canal_width, d.canal_depth)


@pytest.mark.parametrize("level", LUMBAR_LEVELS)
@pytest.mark.parametrize("side", SIDES)
def test_pedicle_fills_its_box(local_meshes: dict[str, pv.PolyData], level: str, side: str) -> None:
    ped = pedicle_box(VERTEBRAE[level], side)
    offsets = np.vstack([np.zeros(3), 0.5 * np.diag(ped.half_size), -0.5 * np.diag(ped.half_size)])
    assert inside(local_meshes[level], ped.center + offsets).all()


@pytest.mark.parametrize("level", LUMBAR_LEVELS)
@pytest.mark.parametrize("side", SIDES)
def test_root_exit_and_lateral_recess_are_free(local_meshes: dict[str, pv.PolyData], level: str, side: str) -> None:
    d = VERTEBRAE[level]
    mesh = local_meshes[level]
    exit_point = root_exit_local(d, side, root_diameter=ROOT_DIAMETER_MM)
    recess = lateral_recess_local(d, side)
    assert not inside(mesh, np.vstack([exit_point, recess])).any()
    assert distance(mesh, exit_point)[0] >= ROOT_CLEARANCE_MM
    assert distance(mesh, recess)[0] >= 1.5


@pytest.mark.parametrize("upper, lower", list(itertools.pairwise(LUMBAR_LEVELS)))
def test_foramen_is_free_of_the_vertebra_below(meshes: dict[str, pv.PolyData], upper: str, lower: str) -> None:
    frame = spine_layout().vertebra[upper]
    for side in SIDES:
        exit_point = frame.to_global(root_exit_local(VERTEBRAE[upper], side, root_diameter=ROOT_DIAMETER_MM))
        assert not inside(meshes[lower], exit_point)[0]
        assert distance(meshes[lower], exit_point)[0] >= ROOT_CLEARANCE_MM


# ---------------------------------------------------------------------------- posterior elements


@pytest.mark.parametrize("level", LUMBAR_LEVELS)
def test_spinous_process_reaches_back(local_meshes: dict[str, pv.PolyData], level: str) -> None:
    d = VERTEBRAE[level]
    pts = np.asarray(local_meshes[level].points)
    midline = pts[np.abs(pts[:, 0]) < 8.0]
    tip_y = midline[:, 1].min()
    lamina_back = -d.body_depth / 2 - d.canal_depth - LAMINA_THICKNESS_MM
    reach = lamina_back - tip_y
    assert 0.8 * d.spinous_length <= reach <= 1.1 * d.spinous_length
    # The tip is the midline's most posterior part: a horizontal process, not a spike.
    tip = midline[midline[:, 1] < tip_y + 4.0]
    assert tip[:, 2].max() - tip[:, 2].min() >= 0.5 * d.spinous_height


@pytest.mark.parametrize("level", LUMBAR_LEVELS)
def test_transverse_span(local_meshes: dict[str, pv.PolyData], level: str) -> None:
    d = VERTEBRAE[level]
    pts = np.asarray(local_meshes[level].points)
    span = pts[:, 0].max() - pts[:, 0].min()
    assert span == pytest.approx(d.transverse_span, rel=0.15)


@pytest.mark.parametrize("level", LUMBAR_LEVELS)
def test_articular_processes_rise_and_hang(local_meshes: dict[str, pv.PolyData], level: str) -> None:
    d = VERTEBRAE[level]
    pts = np.asarray(local_meshes[level].points)
    posterior = pts[(pts[:, 1] < -d.body_depth / 2 - 5.0) & (np.abs(pts[:, 0]) > 8.0)]
    top_back = d.body_height / 2 - (d.body_height_anterior - d.body_height_posterior) / 4
    assert posterior[:, 2].max() - top_back >= 6.0  # superior processes above the body
    assert -top_back - posterior[:, 2].min() >= 5.0  # inferior processes below it


@pytest.mark.parametrize("level", LUMBAR_LEVELS)
@pytest.mark.parametrize("side", SIDES)
def test_superior_facet_faces_back_and_medially(local_meshes: dict[str, pv.PolyData], level: str, side: str) -> None:
    facet = superior_facet(level, side)
    sign = 1.0 if side == "right" else -1.0
    assert facet.center[0] * sign > 0
    assert facet.normal[0] * sign < 0 and facet.normal[1] < 0  # back-medial
    probes = np.vstack([facet.center + 1.0 * facet.normal, facet.center - 3.0 * facet.normal])
    assert inside(local_meshes[level], probes).tolist() == [False, True]


@pytest.mark.parametrize("upper, lower", list(itertools.pairwise(LUMBAR_LEVELS)))
def test_adjacent_vertebrae_form_facet_joints(meshes: dict[str, pv.PolyData], upper: str, lower: str) -> None:
    """The inferior process above meets the superior facet below across a thin joint space."""
    frame = spine_layout().vertebra[lower]
    lower_pts = np.asarray(meshes[lower].points)
    upper_pts = np.asarray(meshes[upper].points)
    assert not inside(meshes[upper], lower_pts).any()
    assert not inside(meshes[lower], upper_pts).any()
    for side in SIDES:
        facet = superior_facet(lower, side)
        joint = frame.to_global(facet.center + 0.5 * FACET_GAP_MM * facet.normal)
        assert distance(meshes[lower], joint)[0] < 2.5
        assert distance(meshes[upper], joint)[0] < 2.5


# ---------------------------------------------------------------------------- placement and symmetry


@pytest.mark.parametrize("level", LUMBAR_LEVELS)
def test_left_right_symmetry(local_meshes: dict[str, pv.PolyData], level: str) -> None:
    mesh = local_meshes[level]
    mirrored = np.asarray(mesh.points) * [-1.0, 1.0, 1.0]
    gap = distance(mesh, mirrored)
    assert gap.mean() < 0.3
    assert gap.max() < 1.5


@pytest.mark.parametrize("level", LUMBAR_LEVELS)
def test_placed_and_oriented_by_the_layout(meshes: dict[str, pv.PolyData], level: str) -> None:
    """Body at the layout's frame, arch behind it, right process on the patient's right."""
    d = VERTEBRAE[level]
    frame = spine_layout().vertebra[level]
    mesh = meshes[level]
    right_tip = frame.to_global((d.transverse_span / 2 - 6.0, pedicle_box(d, "right").center[1] - 4.0, 4.0))
    checks = np.vstack([frame.origin, frame.to_global((0.0, -d.body_depth / 2 - d.canal_depth - 15.0, -4.0))])
    assert inside(mesh, checks).all()
    local = frame.to_local(np.asarray(mesh.points))
    assert local[:, 1].min() < -d.body_depth / 2 - d.canal_depth  # the arch is posterior (-y)
    assert local[:, 1].max() == pytest.approx(d.body_depth / 2, abs=1.5)
    assert distance(mesh, right_tip)[0] < 8.0

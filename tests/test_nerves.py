"""Nerve geometry follows the textbook rules: each root exits below its own pedicle, the next root
traverses the lateral recess, sacral roots leave through their foramina, and all of them join the
sciatic nerve, which leaves the pelvis below piriformis."""

from __future__ import annotations

import numpy as np
import pytest

from explorer.anatomy.layout import (
    SACRAL_FORAMEN_RADIUS,
    anterior_sacral_foramen,
    pedicle_box,
    sciatic_formation_point,
    side_sign,
    spine_layout,
)
from explorer.anatomy.morphometry import DISC_LEVELS, LUMBAR_LEVELS, VERTEBRAE
from explorer.anatomy.nerves import (
    build_cauda_equina,
    build_conus,
    build_root,
    build_thecal_sac,
    canal_stations,
    root_course,
    sciatic_course,
)
from explorer.anatomy.structures import ROOTS
from explorer.settings import TARGET_FACES

SIDES = ("left", "right")


def _lateral_crossings(path: np.ndarray, level: str, side: str) -> list[np.ndarray]:
    """Where the root's centre line crosses the pedicle's mid-plane of ``level`` going outward."""
    frame = spine_layout().vertebra[level]
    local = frame.to_local(path)
    x_plane = abs(pedicle_box(VERTEBRAE[level], side).center[0])
    lateral = local[:, 0] * side_sign(side)
    out = []
    for i in range(len(local) - 1):
        if lateral[i] < x_plane <= lateral[i + 1]:
            t = (x_plane - lateral[i]) / (lateral[i + 1] - lateral[i])
            out.append(local[i] + t * (local[i + 1] - local[i]))
    return out


@pytest.mark.parametrize("side", SIDES)
@pytest.mark.parametrize("root", LUMBAR_LEVELS)
def test_lumbar_root_exits_through_the_foramen_below_its_own_pedicle(root, side):
    path, _ = root_course(root, side)
    crossings = _lateral_crossings(path, root, side)
    assert len(crossings) == 1, "the root should leave the canal once, at its own level"
    point = crossings[0]
    ped = pedicle_box(VERTEBRAE[root], side)
    assert point[2] < ped.bottom_z, "exits below its own pedicle"
    # ...and above the next level's pedicle (for L5: above the sacral base).
    global_point = spine_layout().vertebra[root].to_global(point)
    idx = LUMBAR_LEVELS.index(root)
    if root == "L5":
        assert spine_layout().upper_endplate["S1"].to_local(global_point)[2] > 0
    else:
        below = LUMBAR_LEVELS[idx + 1]
        local_below = spine_layout().vertebra[below].to_local(global_point)
        assert local_below[2] > pedicle_box(VERTEBRAE[below], side).top_z
    # In the foramen: behind the body, in front of the facet joint.
    d = VERTEBRAE[root]
    assert -d.body_depth / 2 - 0.8 * d.canal_depth < point[1] < -d.body_depth / 2 + 3


@pytest.mark.parametrize("side", SIDES)
@pytest.mark.parametrize("disc_id", DISC_LEVELS[:-1])
def test_next_root_traverses_the_disc_inside_the_canal(disc_id, side):
    """At L4-L5 the L5 root runs in the lateral recess (inside the canal), the L4 root is already out."""
    upper, lower = disc_id.split("-")
    frame = spine_layout().disc[disc_id]
    half_canal = VERTEBRAE[lower].canal_width / 2
    traversing = frame.to_local(root_course(lower, side)[0])
    at_disc = traversing[np.argmin(np.abs(traversing[:, 2]))]
    assert abs(at_disc[0]) < half_canal, "traversing root stays inside the canal at the disc"
    exiting = frame.to_local(root_course(upper, side)[0])
    near_disc = exiting[np.abs(exiting[:, 2]) < 3.0]
    assert len(near_disc) and np.all(np.abs(near_disc[:, 0]) > half_canal), "exiting root is lateral"


@pytest.mark.parametrize("side", SIDES)
@pytest.mark.parametrize("root", ["S1", "S2", "S3"])
def test_sacral_root_leaves_through_its_anterior_foramen(root, side):
    path, _ = root_course(root, side)
    gap = np.linalg.norm(path - anterior_sacral_foramen(root, side), axis=1).min()
    assert gap < SACRAL_FORAMEN_RADIUS[root] * 0.5
    for other in ("S1", "S2", "S3"):
        if other != root:
            assert np.linalg.norm(path - anterior_sacral_foramen(other, side), axis=1).min() > 4.0


@pytest.mark.parametrize("side", SIDES)
@pytest.mark.parametrize("root", ["L4", "L5", "S1", "S2", "S3"])
def test_lumbosacral_roots_join_the_sciatic_nerve(root, side):
    path, _ = root_course(root, side)
    start = sciatic_course(side)[0]
    assert np.linalg.norm(path[-1] - start) < 12.0
    assert np.linalg.norm(start - sciatic_formation_point(side)) < 1e-6


@pytest.mark.parametrize("root", ROOTS)
def test_roots_on_the_correct_side_and_within_budget(root):
    for side in SIDES:
        mesh = build_root(root, side)
        assert mesh.n_cells <= TARGET_FACES["root"]
        assert mesh.n_open_edges == 0
        distal = root_course(root, side)[0][-1]
        assert np.sign(distal[0]) == side_sign(side)


def test_sac_ends_at_s2_and_conus_near_l1_l2():
    sac = build_thecal_sac()
    s2 = next(s for s in canal_stations() if s.name == "S2").frame.origin
    assert sac.bounds[4] == pytest.approx(s2[2], abs=4.0)
    conus = build_conus()
    l1_l2 = spine_layout().disc["L1-L2"].origin[2]
    # The cord's thick part ends around the L1-L2 disc; only the thin filum continues.
    pts = np.asarray(conus.points)
    axis_dist = np.hypot(pts[:, 0], pts[:, 1] - np.interp(pts[:, 2], [s.frame.origin[2] for s in canal_stations()][::-1],
                                                           [s.frame.origin[1] for s in canal_stations()][::-1]))
    thick = pts[axis_dist > 1.5]
    assert thick[:, 2].min() == pytest.approx(l1_l2, abs=6.0)
    assert build_cauda_equina().n_cells <= TARGET_FACES["cauda-equina"]

"""Discs: closed, wedge-shaped like the table, nucleus inside and behind centre."""

from __future__ import annotations

import numpy as np
import pytest

from explorer.anatomy.discs import build_annulus, build_nucleus, disc_footprint
from explorer.anatomy.layout import spine_layout
from explorer.anatomy.measure import fraction_inside
from explorer.anatomy.morphometry import DISC_LEVELS, DISCS
from explorer.settings import TARGET_FACES


@pytest.fixture(scope="module")
def discs():
    return {d: (build_annulus(d), build_nucleus(d)) for d in DISC_LEVELS}


@pytest.mark.parametrize("disc_id", DISC_LEVELS)
def test_disc_is_closed_and_within_budget(discs, disc_id):
    annulus, nucleus = discs[disc_id]
    assert annulus.n_open_edges == 0 and nucleus.n_open_edges == 0
    assert annulus.n_cells <= TARGET_FACES["disc"] * 1.05
    assert nucleus.n_cells <= TARGET_FACES["nucleus"] * 1.05


@pytest.mark.parametrize("disc_id", DISC_LEVELS)
def test_disc_size_and_wedge_match_the_table(discs, disc_id):
    annulus, _ = discs[disc_id]
    local = spine_layout().disc[disc_id].to_local(np.asarray(annulus.points))
    width, depth = disc_footprint(disc_id)
    assert np.ptp(local[:, 0]) == pytest.approx(width, rel=0.1)
    assert np.ptp(local[:, 1]) == pytest.approx(depth, rel=0.12)
    front = local[local[:, 1] > 0.3 * depth]
    back = local[local[:, 1] < -0.3 * depth]
    dims = DISCS[disc_id]

    def near_mid(pts: np.ndarray) -> np.ndarray:
        return pts[np.abs(pts[:, 0]) < 5]

    assert np.ptp(near_mid(front)[:, 2]) > np.ptp(near_mid(back)[:, 2])
    assert np.ptp(local[:, 2]) == pytest.approx(dims.height_anterior, abs=2.0)


@pytest.mark.parametrize("disc_id", DISC_LEVELS)
def test_nucleus_inside_annulus_and_behind_centre(discs, disc_id):
    annulus, nucleus = discs[disc_id]
    assert fraction_inside(nucleus.points, annulus) == 1.0
    local = spine_layout().disc[disc_id].to_local(np.asarray(nucleus.points))
    assert local[:, 1].mean() < 0
    assert nucleus.volume < 0.5 * annulus.volume

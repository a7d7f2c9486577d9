"""The sagittal stack and landmarks agree with the cited morphometry."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from explorer.anatomy.layout import (
    anterior_sacral_foramen,
    greater_trochanter,
    hip_center,
    pedicle_box,
    root_exit_local,
    sacral_frames,
    spine_layout,
)
from explorer.anatomy.morphometry import (
    DISC_HEIGHT_RANGE,
    DISC_LEVELS,
    DISCS,
    FORAMEN_HEIGHT_RANGE,
    LORDOSIS_RANGE_DEG,
    LUMBAR_LEVELS,
    SACRAL_SLOPE_DEG,
    VERTEBRA_RANGES,
    VERTEBRAE,
)


def test_lordosis_within_normal_adult_range():
    lo, hi = LORDOSIS_RANGE_DEG
    assert lo <= spine_layout().lordosis_deg <= hi


def test_most_lordosis_is_at_l4_s1():
    wedges = spine_layout().disc_wedge_deg
    assert wedges["L4-L5"] + wedges["L5-S1"] > 0.5 * sum(wedges.values())


def test_s1_endplate_faces_forward_by_the_sacral_slope():
    assert spine_layout().upper_endplate["S1"].tilt_deg == pytest.approx(SACRAL_SLOPE_DEG)


def test_vertebrae_stack_upwards_and_bodies_grow_caudally():
    layout = spine_layout()
    z = [layout.vertebra[lv].origin[2] for lv in LUMBAR_LEVELS]
    assert z == sorted(z, reverse=True)  # L1 highest
    widths = [VERTEBRAE[lv].body_width for lv in LUMBAR_LEVELS]
    assert widths == sorted(widths)


@pytest.mark.parametrize("level", LUMBAR_LEVELS)
def test_vertebra_table_within_cited_ranges(level):
    d = VERTEBRAE[level]
    for attr, (lo, hi) in VERTEBRA_RANGES.items():
        assert lo <= getattr(d, attr) <= hi, attr


def test_disc_heights_within_range_and_grow_to_l4_l5():
    heights = [DISCS[d].height for d in DISC_LEVELS]
    assert all(DISC_HEIGHT_RANGE[0] <= h <= DISC_HEIGHT_RANGE[1] for h in heights)
    assert heights.index(max(heights)) in (3, 4)  # L4-L5 or L5-S1 tallest
    assert all(DISCS[d].height_anterior > DISCS[d].height_posterior for d in DISC_LEVELS)


@pytest.mark.parametrize("upper,lower", list(itertools.pairwise(LUMBAR_LEVELS)))
def test_foramen_height_between_adjacent_pedicles(upper, lower):
    layout = spine_layout()
    top = layout.vertebra[upper].to_global(pedicle_box(VERTEBRAE[upper], "left").center
                                           - (0, 0, VERTEBRAE[upper].pedicle_height / 2))
    bottom = layout.vertebra[lower].to_global(pedicle_box(VERTEBRAE[lower], "left").center
                                              + (0, 0, VERTEBRAE[lower].pedicle_height / 2))
    height = float(np.linalg.norm(top - bottom))
    assert FORAMEN_HEIGHT_RANGE[0] <= height <= FORAMEN_HEIGHT_RANGE[1]


@pytest.mark.parametrize("level", LUMBAR_LEVELS)
def test_root_exit_point_is_below_its_own_pedicle(level):
    d = VERTEBRAE[level]
    for side in ("left", "right"):
        exit_point = root_exit_local(d, side, 5.0)
        ped = pedicle_box(d, side)
        assert exit_point[2] < ped.bottom_z
        assert np.sign(exit_point[0]) == (1 if side == "right" else -1)


def test_sacrum_curves_forward_and_pelvis_is_not_mirrored():
    frames = sacral_frames()
    tilts = [frames[s].tilt_deg for s in ("S1", "S2", "S3", "S4", "S5")]
    assert tilts == sorted(tilts, reverse=True)
    for side, sign in (("left", -1), ("right", 1)):
        assert np.sign(hip_center(side)[0]) == sign
        assert np.sign(greater_trochanter(side)[0]) == sign
        assert np.sign(anterior_sacral_foramen("S1", side)[0]) == sign
    assert abs(greater_trochanter("right")[0]) > abs(hip_center("right")[0])

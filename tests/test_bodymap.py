"""The body chart data: areas, dermatomes, key points (explorer.clinical.bodymap)."""

from __future__ import annotations

import itertools

import pytest
from shapely.geometry import Point

from explorer.clinical import bodymap
from explorer.clinical.roots import REGIONS, ROOTS
from explorer.clinical.types import ROOT_ORDER

OVERLAP_TOLERANCE = 0.05  # square chart units (about 0.05 cm^2)


def _areas(view: str | None = None, side: str | None = None) -> list[bodymap.Area]:
    return [a for a in bodymap.areas() if (view is None or a.view == view) and (side is None or a.side == side)]


@pytest.mark.parametrize("root", ROOT_ORDER)
@pytest.mark.parametrize("side", bodymap.SIDES)
def test_every_root_has_a_region_on_both_sides(root: str, side: str) -> None:
    assert any(a.root == root and a.side == side for a in bodymap.areas())


@pytest.mark.parametrize("point", bodymap.key_points(), ids=lambda p: f"{p.root}-{p.side}")
def test_key_sensory_point_lies_in_its_own_root(point: bodymap.KeyPoint) -> None:
    inside = [a for a in _areas(point.view, point.side) if a.polygon().contains(Point(point.x, point.y))]
    assert len(inside) == 1, f"{point.root} {point.side} key point is in {[a.name for a in inside]}"
    assert inside[0].root == point.root, f"{point.root} key point falls in {inside[0].name} ({inside[0].root})"


@pytest.mark.parametrize("view", bodymap.VIEWS)
def test_areas_of_one_view_do_not_overlap_and_cover_the_body(view: str) -> None:
    polys = [(a.id, a.polygon()) for a in _areas(view)]
    for (id_a, a), (id_b, b) in itertools.combinations(polys, 2):
        assert a.intersection(b).area < OVERLAP_TOLERANCE, f"{id_a} overlaps {id_b}"
    body = bodymap.half_outline().area * 2
    covered = sum(p.area for _, p in polys)
    assert covered == pytest.approx(body, rel=0.01)


def test_left_and_right_are_on_the_correct_side_of_each_view() -> None:
    # Front view: the patient's left leg is on the viewer's right; back view: on the viewer's left.
    for view in bodymap.VIEWS:
        centre = bodymap.VIEW_CENTRES[view]
        for area in _areas(view, "left"):
            c = area.polygon().representative_point()
            if abs(c.x - centre) > 0.5:
                assert (c.x > centre) == (view == "front"), area.id


def test_left_and_right_are_mirror_images() -> None:
    for view in bodymap.VIEWS:
        left = {a.name: a.polygon().area for a in _areas(view, "left")}
        right = {a.name: a.polygon().area for a in _areas(view, "right")}
        assert left.keys() == right.keys()
        for name, area in left.items():
            assert area == pytest.approx(right[name], rel=1e-6)


@pytest.mark.parametrize("root", ROOT_ORDER)
def test_each_roots_dermatome_regions_are_drawn(root: str) -> None:
    """Every skin region the roots table gives a root is on the chart, under that root or (for the
    perianal skin that S4 and S5 share) the neighbouring sacral root."""
    drawn = {a.name: a.root for a in bodymap.areas()}
    for region in ROOTS[root].regions:
        assert region.plain in drawn, f"{region.plain} ({root}) is not drawn"
        owner = drawn[region.plain]
        assert owner == root or {owner, root} <= {"S4", "S5"}, f"{region.plain}: drawn as {owner}, table says {root}"


def test_every_named_region_in_the_clinic_is_on_the_chart() -> None:
    missing = set(REGIONS) - set(bodymap.area_names())
    assert not missing


def test_the_chart_has_front_back_foot_and_saddle() -> None:
    front = {a.name for a in _areas("front")}
    back = {a.name for a in _areas("back")}
    assert {"top of the foot", "big toe", "groin", "front of the knee"} <= front
    assert {"sole of the foot", "heel", "buttock", "lower back", "skin around the anus"} <= back


def test_unknown_area_name_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="Unknown body area 'elbow'"):
        bodymap.area_region("elbow")

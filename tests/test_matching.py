"""Symptoms to cause (explorer.clinical.matching)."""

from __future__ import annotations

import pytest

from explorer.clinical.bodymap import area_names
from explorer.clinical.matching import (
    SymptomReport,
    candidate_conditions,
    movement_names,
    rank_roots,
    report_from_root,
    unknown_names,
)
from explorer.clinical.types import ROOT_ORDER
from explorer.state import parse_query_params

SIDES = ("left", "right")


@pytest.mark.parametrize("root", ROOT_ORDER)
@pytest.mark.parametrize("side", SIDES)
@pytest.mark.parametrize("with_exam", [False, True])
def test_a_pattern_drawn_from_one_root_ranks_that_root_first(root: str, side: str, with_exam: bool) -> None:
    ranked = rank_roots(report_from_root(root, side, with_exam))
    assert (ranked[0].source, ranked[0].side) == (root, side), [(m.source, m.side, m.score) for m in ranked[:3]]
    assert ranked[0].reasons


def test_weakness_alone_separates_l5_from_s1() -> None:
    big_toe = "Lifting the big toe (great-toe extension)"
    assert big_toe in movement_names()
    ranked = rank_roots(SymptomReport(weak=frozenset({(big_toe, "left")})))
    assert ranked[0].source == "L5" and ranked[0].side == "left"
    ankle = rank_roots(SymptomReport(reflexes=frozenset({("achilles", "right")})))
    assert (ankle[0].source, ankle[0].side) == ("S1", "right")


def test_unexplained_areas_are_listed() -> None:
    report = SymptomReport(areas=frozenset({("top of the foot", "left"), ("groin", "left")}))
    l5 = next(m for m in rank_roots(report) if m.source == "L5")
    assert "groin" in l5.unexplained


def test_sciatic_nerve_can_fit_a_below_knee_pattern_without_back_roots() -> None:
    report = SymptomReport(areas=frozenset({(n, "left") for n in
                                            ("top of the foot", "sole of the foot", "back of the calf",
                                             "outer side of the lower leg", "buttock")}))
    ranked = rank_roots(report)
    assert "sciatic" in [m.source for m in ranked[:3]]


def test_empty_report_ranks_nothing() -> None:
    assert rank_roots(SymptomReport()) == []
    assert candidate_conditions([]) == []


@pytest.mark.parametrize("root, side", [("L5", "left"), ("S1", "right"), ("L4", "left"), ("L3", "right")])
def test_candidate_conditions_squeeze_the_matched_root_and_open_as_valid_links(root: str, side: str) -> None:
    ranked = rank_roots(report_from_root(root, side, True))
    candidates = candidate_conditions(ranked)
    assert candidates
    top_two = {f"{m.source} {m.side}" for m in ranked[:2]}
    assert f"{root} {side}" in candidates[0].fits
    assert all(set(c.fits) & top_two for c in candidates)
    for c in candidates:
        parsed = parse_query_params({"condition": c.condition, **dict(c.params)})
        assert not parsed.errors and parsed.state.condition == c.condition


def test_l5_pattern_lists_the_classic_causes() -> None:
    labels = [c.label for c in candidate_conditions(rank_roots(report_from_root("L5", "left", True)))]
    assert any("L4-L5" in label and "Paracentral" in label for label in labels)
    assert any("L5-S1" in label and "Foraminal" in label for label in labels)


def test_unknown_names_are_reported() -> None:
    report = SymptomReport(areas=frozenset({("elbow", "left")}), weak=frozenset({("flying", "left")}),
                           reflexes=frozenset({("biceps", "left")}))
    assert unknown_names(report, area_names()) == ["elbow", "flying", "biceps"]

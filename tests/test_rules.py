"""The geometry agrees with the textbook: for every condition and every combination of its
parameters, the measured compression hits the nerve the rules name, and spares its neighbour."""

from __future__ import annotations

from functools import cache

import pytest

from explorer.conditions.combos import combinations
from explorer.conditions.registry import CONDITIONS
from explorer.conditions.rules import expected
from explorer.conditions.simulate import simulate

CASES = [(cid, params) for cid, spec in CONDITIONS.items() for params in combinations(spec)]
SEVERITY_ORDER = {"mild": 0, "moderate": 1, "severe": 2, "1": 0, "2": 1, "3": 2, "4": 3}


@cache
def _impact(condition: str, key: tuple[tuple[str, str], ...]):
    return simulate(condition, dict(key))


def _run(condition: str, params: dict[str, str]):
    return _impact(condition, tuple(sorted(params.items())))


def _case_id(case) -> str:
    cid, params = case
    return cid + ":" + ",".join(params.values())


@pytest.mark.parametrize("case", CASES, ids=[_case_id(c) for c in CASES])
def test_geometry_agrees_with_textbook(case):
    condition, params = case
    rule = expected(condition, params)
    impact = _run(condition, params)
    degree = {(r.root, r.side): r.degree for r in impact.roots}
    if rule.no_roots:
        assert degree == {}, "no spinal root may be compressed"
    if rule.primary:
        top = max(degree, key=degree.get)
        assert top in rule.primary, f"most compressed {top}, textbook says {sorted(rule.primary)}"
        required = rule.primary if rule.required is None else rule.required
        assert all(degree.get(p, 0.0) > 0.1 for p in required), f"all of {sorted(required)} compressed"
        strongest = max(degree.get(p, 0.0) for p in rule.primary)
        for s in rule.spared:
            assert degree.get(s, 0.0) < 0.5 * strongest, f"{s} should be spared"
    for nerve, side in rule.nerves:
        assert any(n.nerve == nerve and n.side == side and n.degree > 0.1 for n in impact.nerves)
    if rule.bilateral:
        assert {side for _, side in degree} == {"left", "right"}


def _severity_key(params: dict[str, str]) -> str | None:
    return next((k for k in ("severity", "grade") if k in params), None)


GROUPS: dict[tuple, list[dict[str, str]]] = {}
for _cid, _params in CASES:
    _k = _severity_key(_params)
    if _k:
        GROUPS.setdefault((_cid, _k) + tuple(sorted((a, b) for a, b in _params.items() if a != _k)), []).append(_params)


@pytest.mark.parametrize("group", list(GROUPS), ids=[":".join(map(str, g[:1] + tuple(v for _, v in g[2:])))
                                                      for g in GROUPS])
def test_more_severe_means_more_compression(group):
    condition, key = group[0], group[1]
    runs = sorted(GROUPS[group], key=lambda p: SEVERITY_ORDER[p[key]])
    # The total squeeze on roots and nerves (the dural sac alone saturates once flattened).
    worst = [sum(r.degree for r in _run(condition, p).roots) + sum(n.degree for n in _run(condition, p).nerves)
             for p in runs]
    # Non-decreasing, allowing for a root that is already flattened (saturated) staying put.
    assert all(b >= a - 0.01 for a, b in zip(worst, worst[1:])), f"compression should grow with {key}: {worst}"
    assert worst[-1] > worst[0], f"the worst grade should compress more than the mildest: {worst}"


def test_cauda_equina_raises_the_red_flags():
    for params in combinations(CONDITIONS["cauda_equina"]):
        flags = " ".join(_run("cauda_equina", params).clinical.red_flags).lower()
        assert "saddle" in flags and "bladder" in flags


def test_severe_central_herniation_is_cauda_equina_territory():
    impact = _run("herniation", {"level": "L5-S1", "zone": "central", "severity": "severe"})
    sacral = {(r.root, r.side) for r in impact.roots if r.root in ("S2", "S3", "S4", "S5")}
    assert {s for _, s in sacral} == {"left", "right"}


def test_every_parameter_has_patient_words():
    """Patient-facing labels exist for every parameter and value, without clinical grading words."""
    for spec in CONDITIONS.values():
        for p in spec.params:
            assert p.plain_label, f"{spec.id}.{p.name} has no plain label"
            for value in p.values:
                words = p.plain_label_for(value)
                assert value in p.plain_value_labels, f"{spec.id}.{p.name}={value} has no plain words"
                for jargon in (" mm", "grade", "meyerding", "lee ", "extrusion", "sequestration", "subarticular"):
                    assert jargon not in words.lower(), f"{spec.id}.{p.name}={value}: {words!r} uses {jargon!r}"

"""The geometry agrees with the textbook: for every condition and every combination of its
parameters, the measured compression hits the nerves the condition's own rule names (written from
references, not from the model's output), spares their neighbours, and the clinical picture on one
screen never contradicts itself."""

from __future__ import annotations

import itertools
import re
import sys
import textwrap
from functools import cache
from pathlib import Path

import pytest

from explorer.clinical import picture as pic
from explorer.clinical.roots import REFLEXES
from explorer.conditions.base import ConditionSpec
from explorer.conditions.combos import combinations
from explorer.conditions.registry import CONDITIONS, ConditionModuleError, discover
from explorer.conditions.rules import expected
from explorer.conditions.simulate import simulate

CASES = [(cid, params) for cid, spec in CONDITIONS.items() for params in combinations(spec)]
SEVERITY_ORDER = {"mild": 0, "moderate": 1, "severe": 2, "1": 0, "2": 1, "3": 2, "4": 3}
SIDES = ("left", "right")
SADDLE = ("S3", "S4", "S5")
LEVELS = ("L1-L2", "L2-L3", "L3-L4", "L4-L5", "L5-S1")
CES_IDS = {"saddle_anaesthesia", "bladder", "bowel", "sexual_function"}


@cache
def _impact(condition: str, key: tuple[tuple[str, str], ...]):
    return simulate(condition, dict(key))


def _run(condition: str, params: dict[str, str]):
    return _impact(condition, tuple(sorted(params.items())))


def _case_id(case) -> str:
    cid, params = case
    return cid + ":" + ",".join(params.values())


def _degrees(impact) -> dict[tuple[str, str], float]:
    return {(r.root, r.side): r.degree for r in impact.roots}


# ------------------------------------------------------------------------------ the registry


def test_registry_discovers_every_condition_module_in_display_order():
    ids = list(CONDITIONS)
    # Independent of the registry's own walk: every file of the package that defines a SPEC.
    package = Path(CONDITIONS[ids[0]].build_lesion.__code__.co_filename).parent
    defining = {f.stem for f in package.glob("*.py") if re.search(r"^SPEC\s*=", f.read_text(), re.MULTILINE)}
    modules = {sys.modules[CONDITIONS[i].build_lesion.__module__].__name__.rsplit(".", 1)[1] for i in ids}
    assert modules == defining
    orders = [CONDITIONS[i].order for i in ids]
    assert orders == sorted(orders), "menus follow SPEC.order"
    for spec in CONDITIONS.values():
        assert isinstance(spec, ConditionSpec)
        assert spec.tempo in ("acute", "chronic")
        assert spec.examples, f"{spec.id} has no examples"
        for example in spec.examples:
            _clean, errors = spec.validate(example.params)
            assert not errors, errors
        assert expected(spec.id, spec.defaults()).explanation


def _package(tmp_path, name: str, modules: dict[str, str]) -> str:
    root = tmp_path / name
    root.mkdir()
    (root / "__init__.py").write_text("")
    for module, text in modules.items():
        (root / f"{module}.py").write_text(textwrap.dedent(text))
    sys.path.insert(0, str(tmp_path))
    return name


GOOD = """
    from explorer.conditions.base import ConditionSpec, Lesion
    SPEC = ConditionSpec(id="{id}", name="{id}", summary="s", params=(), build_lesion=lambda p: None, order={order})
"""


def test_registry_finds_a_new_module_without_being_told(tmp_path):
    pkg = _package(tmp_path, "h1_fake_conditions_ok", {
        "zeta": GOOD.format(id="zeta", order=1), "alpha": GOOD.format(id="alpha", order=2),
        "helper": "X = 1\n"})
    try:
        found = discover(pkg)
    finally:
        sys.path.remove(str(tmp_path))
    assert list(found) == ["zeta", "alpha"], "ordered by SPEC.order, helper modules without SPEC skipped"


@pytest.mark.parametrize("body, words", [
    ("import not_a_module_anywhere\n", ["broken", "ModuleNotFoundError"]),
    ("SPEC = 42\n", ["broken", "int", "not a ConditionSpec"]),
    (GOOD.format(id="alpha", order=3), ["broken", "'alpha'", "already used"]),
])
def test_registry_fails_loudly_on_a_broken_module(tmp_path, body, words):
    pkg = _package(tmp_path, f"h1_fake_conditions_{abs(hash(body)) % 10**6}",
                   {"alpha": GOOD.format(id="alpha", order=1), "broken": body})
    try:
        with pytest.raises(ConditionModuleError) as info:
            discover(pkg)
    finally:
        sys.path.remove(str(tmp_path))
    for word in words:
        assert word in str(info.value)


def test_unknown_condition_names_the_known_ones():
    with pytest.raises(KeyError, match="herniation"):
        expected("sprain", {})


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


def test_a_bulge_is_not_offered_as_a_herniation():
    """Fardon 2014: protrusion, extrusion and sequestration are herniations; a bulge is not."""
    labels = CONDITIONS["herniation"].param("severity").value_labels
    assert not any("bulge" in text.lower() for text in labels.values())


# ----------------------------------------------------------------------- the textbook rules


def test_central_rule_requires_the_traversing_root_on_both_sides():
    """Wall 1990: the roots about to leave lie anterolateral in the sac, nearest a central disc."""
    for level in LEVELS:
        lower = level.split("-")[1]
        for cid, params in (("herniation", {"level": level, "zone": "central", "severity": "severe"}),
                            ("cauda_equina", {"level": level})):
            rule = expected(cid, params)
            assert {(lower, s) for s in SIDES} <= (rule.required if rule.required is not None else rule.primary)
            assert rule.cauda_equina and rule.bilateral


@pytest.mark.parametrize("case", CASES, ids=[_case_id(c) for c in CASES])
def test_geometry_agrees_with_textbook(case):
    condition, params = case
    rule = expected(condition, params)
    impact = _run(condition, params)
    degree = _degrees(impact)
    if rule.no_roots:
        assert degree == {}, "no spinal root may be compressed"
    required = rule.primary if rule.required is None else rule.required
    if rule.primary and degree:
        top = max(degree, key=degree.get)
        assert degree[top] <= max(degree.get(p, 0.0) for p in rule.primary) + 1e-9, \
            f"most compressed {top}, textbook says one of {sorted(rule.primary)}"
    assert all(degree.get(p, 0.0) > 0.1 for p in required), f"all of {sorted(required)} compressed: {degree}"
    if rule.primary and degree:
        strongest = max(degree.get(p, 0.0) for p in rule.primary)
        for s in rule.spared:
            assert degree.get(s, 0.0) < 0.5 * strongest, f"{s} should be spared"
    for nerve, side in rule.nerves:
        assert any(n.nerve == nerve and n.side == side and n.degree > 0.1 for n in impact.nerves)
    if rule.bilateral:
        assert {side for _, side in degree} == set(SIDES)
    if rule.cauda_equina:
        for side in SIDES:
            assert max(degree.get((r, side), 0.0) for r in SADDLE) >= pic.NUMBNESS_THRESHOLD, \
                f"saddle roots on the {side} squeezed to numbness"
        assert set(impact.clinical.red_flag_ids) >= CES_IDS


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
    assert all(b >= a - 0.01 for a, b in itertools.pairwise(worst)), f"compression should grow with {key}: {worst}"
    assert worst[-1] > worst[0], f"the worst grade should compress more than the mildest: {worst}"


# ----------------------------------------------- central lesions and cauda equina, at every level


@pytest.mark.parametrize("level", LEVELS)
def test_severe_central_disc_squeezes_the_traversing_root_first_then_the_sacral_roots(level):
    """Wall 1990 (layout in the sac) and Lavy 2009 (a large central disc is the usual cause of CES)."""
    lower = level.split("-")[1]
    degree = _degrees(_run("herniation", {"level": level, "zone": "central", "severity": "severe"}))
    for side in SIDES:
        traversing = degree.get((lower, side), 0.0)
        assert traversing >= max(d for (r, s), d in degree.items() if s == side) - 1e-9, \
            f"{lower} ({side}) is among the most squeezed: {degree}"
        sacral = [degree.get((r, side), 0.0) for r in ("S2", "S3", "S4", "S5")]
        assert min(sacral) > 0.1, f"the sacral roots are reached too: {degree}"


@pytest.mark.parametrize("level", LEVELS)
def test_massive_central_disc_raises_cauda_equina_flags_at_every_level(level):
    """The issue's safety point: L1-L2, L2-L3 and L3-L4 too (GIRFT 2023; Lavy 2009)."""
    for impact in (_run("herniation", {"level": level, "zone": "central", "severity": "severe"}),
                   _run("cauda_equina", {"level": level})):
        assert set(impact.clinical.red_flag_ids) >= CES_IDS, impact.parameters
        assert "bilateral_sciatica" in impact.clinical.red_flag_ids, "acute disc, symptoms in both legs"
        assert impact.clinical.tempo == "acute"


def test_moderate_central_disc_reaches_the_traversing_roots_but_not_the_saddle():
    degree = _degrees(_run("herniation", {"level": "L4-L5", "zone": "central", "severity": "moderate"}))
    assert degree.get(("L5", "left"), 0) > 0.1 and degree.get(("L5", "right"), 0) > 0.1
    assert max(degree.get((r, s), 0.0) for r in SADDLE for s in SIDES) < pic.PAIN_THRESHOLD


# ------------------------------------------------------------ chronic conditions and red flags


@pytest.mark.parametrize("case", [c for c in CASES if CONDITIONS[c[0]].tempo == "chronic"],
                         ids=[_case_id(c) for c in CASES if CONDITIONS[c[0]].tempo == "chronic"])
def test_chronic_conditions_never_raise_the_bilateral_flag_and_say_what_to_watch_for(case):
    """Neurogenic claudication in both legs is the usual picture of stenosis (Katz 2008)."""
    impact = _run(*case)
    payload = impact.to_json()
    assert "bilateral_sciatica" not in payload["red_flag_ids"]
    assert payload["tempo"] == "chronic"
    if CONDITIONS[case[0]].red_flags.cauda_equina:
        assert payload["watch_for"], "calm sentences on what would make it an emergency"


@pytest.mark.parametrize("params", [
    {"level": "L4-L5", "zone": "central", "severity": "mild"},
    {"level": "L4-L5", "zone": "central", "severity": "moderate"},
    {"level": "L3-L4", "zone": "central", "severity": "moderate"},
])
def test_mild_and_moderate_central_stenosis_leave_the_saddle_alone(params):
    impact = _run("stenosis", params)
    degree = _degrees(impact)
    assert max(degree.get((r, s), 0.0) for r in ("S4", "S5") for s in SIDES) < pic.PAIN_THRESHOLD
    assert not CES_IDS & set(impact.clinical.red_flag_ids)
    assert not any(f.root in ("S4", "S5") for f in impact.clinical.sensory), "nothing painted in the saddle"


@pytest.mark.parametrize("level", ["L3-L4", "L4-L5"])
def test_grade_1_degenerative_slip_is_not_cauda_equina(level):
    impact = _run("spondylolisthesis", {"level": level, "type": "degenerative", "grade": "1"})
    assert max((d for (r, _), d in _degrees(impact).items() if r in ("S4", "S5")), default=0.0) < pic.PAIN_THRESHOLD
    assert not CES_IDS & set(impact.clinical.red_flag_ids)
    assert impact.clinical.red_flag_ids == ()


@pytest.mark.parametrize("level", ["L4-L5", "L5-S1"])
@pytest.mark.parametrize("grade", ["1", "2"])
def test_low_grade_isthmic_slip_gives_at_most_a_reduced_reflex(level, grade):
    """Grade 1-2 isthmic slips: radicular symptoms, at most a reduced reflex (Wiltse 1976; Hu 2008)."""
    impact = _run("spondylolisthesis", {"level": level, "type": "isthmic", "grade": grade})
    assert all(r.finding != "absent" for r in impact.clinical.reflexes)
    assert "severe_weakness" not in impact.clinical.red_flag_ids
    assert impact.clinical.red_flag_ids == ()


# ------------------------------------------------------- findings never contradict each other


def _check_consistency(impact) -> list[str]:
    """Every flag has the finding that justifies it; a weak root changes its own reflex."""
    c = impact.clinical
    problems = []
    kinds = {(f.root, f.side, f.kind) for f in c.sensory}
    ids = set(c.red_flag_ids)
    if ids & CES_IDS:
        for side in SIDES:
            if not any((r, side, "numbness") in kinds for r in SADDLE):
                problems.append(f"cauda equina flags without saddle numbness on the {side}")
    if "bilateral_sciatica" in ids and {s for (_, s, _) in kinds} != set(SIDES):
        problems.append("bilateral flag without symptoms on both sides")
    if "severe_weakness" in ids and not c.weakness:
        problems.append("severe-weakness flag without weakness findings")
    if list(c.red_flags) != [pic.RED_FLAG_TEXT[i] for i in c.red_flag_ids]:
        problems.append("red flag texts and ids disagree")
    weak = {(w.root, w.side) for w in c.weakness}
    for name, profile in REFLEXES.items():
        for side in SIDES:
            if (profile.primary_root, side) in weak:
                finding = next(r.finding for r in c.reflexes if r.reflex == name and r.side == side)
                if finding == "normal":
                    problems.append(f"{profile.primary_root} {side} weak but its {name} reflex is normal")
    for r in c.reflexes:
        if r.finding == "absent" and r.root in REFLEXES[r.reflex].roots and (r.root, r.side) not in weak:
            problems.append(f"{r.reflex} {r.side} absent without weakness of {r.root}")
    return problems


@pytest.mark.parametrize("case", CASES, ids=[_case_id(c) for c in CASES])
def test_findings_never_contradict_each_other(case):
    assert _check_consistency(_run(*case)) == []


def test_a_root_squeezed_only_by_crowding_is_not_described_with_a_zero_depth() -> None:
    """Severe central L4-L5: the sacral roots are crowded in the flattened sac (Wall 1990 puts them
    dorsal, away from the disc), so their line must not read '73% of its thickness, 0.0 mm'."""
    from explorer.conditions.explain import squeezed_lines
    from explorer.conditions.simulate import simulate

    lines = squeezed_lines(simulate("herniation", {"level": "L4-L5", "zone": "central", "severity": "severe"}))
    assert not [line for line in lines if "0.0 mm" in line]
    assert any("crowded" in line for line in lines if line.startswith("S2 nerve root"))

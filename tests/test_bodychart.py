"""The body chart figure and its text (explorer.render.bodychart, explorer.clinical.symptom_map)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from explorer.anatomy.model import load_model
from explorer.clinical.bodymap import areas
from explorer.clinical.roots import symptom_regions
from explorer.clinical.symptom_map import chart_lines, pain_paths, paint_areas
from explorer.clinical.types import SensoryFinding
from explorer.conditions.registry import CONDITIONS
from explorer.conditions.rules import expected
from explorer.conditions.simulate import simulate
from explorer.render.bodychart import (
    ChartInput,
    body_chart_figure,
    build_body_chart,
    pain_route_slots,
    shown,
    symptom_opacity,
)

# One case per condition sub-type, at typical severity.
CASES = [
    ("herniation", {"level": "L4-L5", "zone": "paracentral", "side": "left", "severity": "moderate"}),
    ("herniation", {"level": "L5-S1", "zone": "paracentral", "side": "right", "severity": "moderate"}),
    ("herniation", {"level": "L4-L5", "zone": "foraminal", "side": "left", "severity": "moderate"}),
    ("herniation", {"level": "L3-L4", "zone": "extraforaminal", "side": "right", "severity": "moderate"}),
    ("stenosis", {"level": "L4-L5", "zone": "central", "severity": "moderate"}),
    ("stenosis", {"level": "L4-L5", "zone": "lateral_recess", "side": "left", "severity": "moderate"}),
    ("stenosis", {"level": "L5-S1", "zone": "foraminal", "side": "right", "severity": "moderate"}),
    ("spondylolisthesis", {"level": "L4-L5", "type": "degenerative", "grade": "1"}),
    ("spondylolisthesis", {"level": "L5-S1", "type": "isthmic", "grade": "2"}),
    ("piriformis", {"side": "left", "severity": "moderate"}),
    ("cauda_equina", {"level": "L4-L5"}),
]


@pytest.fixture(scope="module")
def model():
    return load_model()


def _painted(condition: str, params: dict[str, str], model) -> tuple[dict, list[str]]:
    impact = simulate(condition, params, model)
    return paint_areas(impact.clinical.sensory, impact.degrees), chart_lines(impact.clinical.sensory)


def test_cases_cover_every_condition() -> None:
    assert {c for c, _ in CASES} == set(CONDITIONS)


@pytest.mark.parametrize("condition, params", CASES, ids=[f"{c}-{'-'.join(p.values())}" for c, p in CASES])
def test_chart_paints_the_textbook_roots(condition: str, params: dict[str, str], model) -> None:
    painted, lines = _painted(condition, params, model)
    sources = {(src, side) for (name, side), s in painted.items() for src in s.sources}
    pattern = expected(condition, CONDITIONS[condition].applicable(CONDITIONS[condition].validate(params)[0]))
    # A rule may require nothing (a mild slip can squeeze no root); then its primary roots are what a
    # painted chart must show.
    wanted = (pattern.required or pattern.primary) | pattern.nerves
    assert wanted, "every case should expect something"
    assert wanted <= sources, f"expected {sorted(wanted)} painted, got {sorted(sources)}"
    assert lines and all("(" in line for line in lines)
    if pattern.bilateral:
        assert {side for _, side in sources} == {"left", "right"}


def test_cauda_equina_paints_the_saddle_on_both_sides(model) -> None:
    painted, _ = _painted("cauda_equina", {"level": "L4-L5"}, model)
    for side in ("left", "right"):
        assert ("skin around the anus", side) in painted
        assert ("genitals and the skin between the legs", side) in painted


def test_piriformis_paints_the_sciatic_territory_only(model) -> None:
    painted, lines = _painted("piriformis", {"side": "left", "severity": "severe"}, model)
    assert {s for p in painted.values() for s in p.sources} == {"sciatic"}
    assert {side for _, side in painted} == {"left"}
    assert any("sciatic nerve" in line for line in lines)


def test_stronger_symptom_wins_an_area_and_text_names_root_and_side() -> None:
    sensory = [SensoryFinding("L5", "left", "pain", ("buttock", "outer side of the lower leg", "top of the foot")),
               SensoryFinding("L5", "left", "numbness", ("top of the foot", "big toe"))]
    painted = paint_areas(sensory, {("L5", "left"): 0.6})
    assert painted[("top of the foot", "left")].kind == "numbness"
    assert painted[("buttock", "left")].kind == "pain"
    assert chart_lines(sensory)[0] == "Numbness, left leg: top of the foot, big toe (L5 root)"
    paths = pain_paths(sensory, {("L5", "left"): 0.6})
    assert paths and paths[0].points, "a pain path through several areas"


def test_figure_has_one_clickable_trace_per_area_and_intensity_grows() -> None:
    fig = build_body_chart(ChartInput())
    area_ids = {a.id for a in areas()}
    metas = [t.meta for t in fig.data if t.meta in area_ids]
    assert sorted(metas) == sorted(area_ids)
    assert symptom_opacity(0.9) > symptom_opacity(0.3)


def test_selected_root_is_outlined_and_marks_show() -> None:
    fig = build_body_chart(ChartInput(selected_root=("L5", "left"), marked={"front:left:top of the foot"}))
    drawn = [t for t in fig.data if t.visible is not False]
    assert [t.name for t in drawn if t.name.startswith("Selected:")] == ["Selected: L5 left"]
    assert [t.name for t in drawn if t.showlegend and t.name == "Marked by you"] == ["Marked by you"]
    plain = body_chart_figure(ChartInput())["data"]
    assert not [t for t in plain if shown(t) and str(t.get("name")).startswith("Selected:")]
    assert not [t for t in plain if t.get("name") == "Marked by you" and t.get("showlegend")]


# Attributes a state may change on a trace: editType "style" (or "none") for scatter traces in the
# served plotly.js 4.1.1 schema (Plotly.PlotSchema.get(), read in the browser from
# explorer/static/plotly-gl3d.min.js), plus "visible", which decides the slots the browser draws.
STYLE_FIELDS = {"fillcolor", "name", "showlegend", "line.color", "line.width", "line.dash", "visible"}


def _flat(trace: dict, prefix: str = "") -> dict:
    out = {}
    for k, v in trace.items():
        if isinstance(v, dict):
            out.update(_flat(v, f"{prefix}{k}."))
        else:
            out[f"{prefix}{k}"] = v
    return out


def test_every_chart_has_the_same_traces_and_states_differ_in_style_only(model) -> None:
    charts = [ChartInput(), ChartInput(selected_root=("S4", "right")), ChartInput(marked={"back:left:heel"}),
              ChartInput(show_dermatomes=False)]
    for condition, params in CASES:
        impact = simulate(condition, params, model)
        s, d = impact.clinical.sensory, impact.degrees
        charts.append(ChartInput(paint_areas(s, d), pain_paths(s, d), ("L5", "left"), show_dermatomes=False))
    figures = [body_chart_figure(c)["data"] for c in charts]
    uids = [t["uid"] for t in figures[0]]
    assert len(set(uids)) == len(uids) and all(u.replace("-", "").isalnum() for u in uids)
    assert all([t["uid"] for t in f] == uids for f in figures), "one shape for every state"
    changed = set()
    for f in figures[1:]:
        for a, b in zip(figures[0], f, strict=True):
            fa, fb = _flat(a), _flat(b)
            changed |= {k for k in fa.keys() | fb.keys() if fa.get(k) != fb.get(k)}
    assert changed and changed <= STYLE_FIELDS, sorted(changed - STYLE_FIELDS)


def test_pain_routes_of_every_case_use_the_catalogue() -> None:
    """A route the catalogue lacks would be an extra trace (a full replot): none for the cases, and
    an unknown one is still drawn."""
    model = load_model()
    for condition, params in CASES:
        impact = simulate(condition, params, model)
        paths = pain_paths(impact.clinical.sensory, impact.degrees)
        data = body_chart_figure(ChartInput(paths=paths))["data"]
        assert not [t for t in data if t["uid"].startswith("pain-extra")]
        drawn = [t for t in data if shown(t) and t.get("name") == "Radiating pain"]
        assert len(drawn) == sum(len(p.points) for p in paths)
    assert len(pain_route_slots()) > 20
    odd = pain_paths([SensoryFinding("L5", "left", "pain", ("buttock", "heel"))], {("L5", "left"): 0.5})
    data = body_chart_figure(ChartInput(paths=odd))["data"]
    assert [t["uid"] for t in data if t["uid"].startswith("pain-extra") and shown(t)]


# --------------------------------------------------------------------------- the JS fixture
JS_FIXTURE = Path(__file__).resolve().parent / "js" / "fixtures" / "bodychart_figures.json"


def _js_fixture() -> dict[str, Any]:
    """Two real charts for tests/js/bodychart_svg.test.js: the plain dermatome map whole, and a
    left L5 pain and numbness chart with the left L5 root picked as the fields of each trace that
    differ (``{...plain trace, ...changed[uid]}``; the same keys in both: no field is dropped)."""
    route = tuple(r.plain for r in symptom_regions("L5")[0])  # the L5 pain route the catalogue has
    sensory = [SensoryFinding("L5", "left", "pain", route), SensoryFinding("L5", "left", "numbness", ("top of the foot",))]
    degrees = {("L5", "left"): 0.6}
    plain = body_chart_figure(ChartInput())
    pain = body_chart_figure(ChartInput(paint_areas(sensory, degrees), pain_paths(sensory, degrees), ("L5", "left"),
                                        show_dermatomes=False))
    assert all(a.keys() == b.keys() for a, b in zip(plain["data"], pain["data"], strict=True))
    # the fields that differ (the outlines are the same lists: not repeated)
    changed = {b["uid"]: {k: v for k, v in b.items() if a.get(k) != v}
               for a, b in zip(plain["data"], pain["data"], strict=True) if a != b}
    return json.loads(json.dumps({"plain": plain, "pain": {"layout": pain["layout"], "changed": changed}}))


def test_the_js_fixture_is_current() -> None:
    """tests/js/fixtures/bodychart_figures.json is this module's output (``LUMBAR_UPDATE_FIXTURES=1``
    rewrites it; otherwise it must be current)."""
    want = _js_fixture()
    if os.environ.get("LUMBAR_UPDATE_FIXTURES") == "1":
        JS_FIXTURE.write_text(json.dumps(want, separators=(",", ":"), sort_keys=True) + "\n")
    assert JS_FIXTURE.is_file(), "run LUMBAR_UPDATE_FIXTURES=1 python -m pytest tests/test_bodychart.py"
    assert json.loads(JS_FIXTURE.read_text()) == want, (
        "the body chart changed: LUMBAR_UPDATE_FIXTURES=1 python -m pytest tests/test_bodychart.py -k js_fixture, "
        "then node --test tests/js")
    assert all("x" not in t for t in want["pain"]["changed"].values()), "a state changes styles, not outlines"


# --------------------------------------------------------------------------- shared traces
def _chart_inputs(model) -> list[ChartInput]:
    """Charts that differ in every way a trace's look can: symptoms of several conditions (fills,
    borders, dashes, hover texts), pain routes, squeezed and selected slots, marks, the plain map."""
    charts = [ChartInput(), ChartInput(selected_root=("S4", "right")), ChartInput(marked={"back:left:heel"}),
              ChartInput(show_dermatomes=False), ChartInput(selected_root=("L5", "left"), show_dermatomes=False)]
    for condition, params in CASES:
        impact = simulate(condition, params, model)
        s, d = impact.clinical.sensory, impact.degrees
        for selected in (None, ("L5", "left")):
            charts.append(ChartInput(paint_areas(s, d), pain_paths(s, d), selected, show_dermatomes=False))
    return charts


def test_shared_traces_give_every_chart_exactly_as_built_alone(model) -> None:
    """Traces are shared between charts by look (bodychart.SHARED_TRACES): a chart built after all the
    others is the same JSON as the same chart built first, in a fresh process's state (a key that
    missed a field would hand one chart another chart's trace)."""
    from explorer.render import bodychart

    charts = _chart_inputs(model)
    alone = []
    for c in charts:
        bodychart.SHARED_TRACES.clear()
        alone.append(json.dumps(body_chart_figure(c), sort_keys=True))
    bodychart.SHARED_TRACES.clear()
    for c in reversed(charts):  # every chart now finds the traces the others made
        body_chart_figure(c)
    together = [json.dumps(body_chart_figure(c), sort_keys=True) for c in charts]
    assert together == alone
    assert len(set(alone)) == len(alone), "the inputs do differ"


def test_a_look_seen_before_is_the_same_trace_object(model) -> None:
    from explorer.render import bodychart

    impact = simulate("herniation", {"level": "L4-L5", "zone": "paracentral", "side": "left", "severity": "moderate"},
                      model)
    s, d = impact.clinical.sensory, impact.degrees
    a = body_chart_figure(ChartInput(paint_areas(s, d), pain_paths(s, d), None, show_dermatomes=False))["data"]
    b = body_chart_figure(ChartInput(paint_areas(s, d), pain_paths(s, d), ("L5", "left"), show_dermatomes=False))["data"]
    same = [x is y for x, y in zip(a, b, strict=True)]
    # only the two selected-outline slots of left L5 differ (its slot in use, no other): the rest is shared
    differ = [(x["uid"], x["visible"], y["visible"]) for x, y, s_ in zip(a, b, same, strict=True) if not s_]
    assert differ == [("selected-L5-left", False, True)]
    assert len(bodychart.SHARED_TRACES) <= bodychart.SHARED_TRACES.limit

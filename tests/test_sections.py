"""MRI-like sections (explorer/render/sections.py, explorer/ui/sections_panel.py) and their URL fields.

What is checked, and against what:

* every condition example's lesion is in the cut at its level and reaches into the canal (the
  normal dural sac) or, in a foramen, onto the root there;
* the radiological convention: an axial cut is seen from the feet, so a lesion on the patient's
  left (negative x in the model's RAS millimetres) lies on the viewer's right;
* the picture is in millimetres: the cutting plane keeps distances, the scale bar is 10 picture
  units long with equal x and y scales, and the disc's cut is as wide as the published L4-L5 body
  width the model is built from (morphometry);
* the section, cut level and posture round-trip through the URL, and bad values are named.
"""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from streamlit.testing.v1 import AppTest

from explorer.anatomy.model import load_model
from explorer.anatomy.morphometry import VERTEBRAE
from explorer.anatomy.posture import POSTURES as ANATOMY_POSTURES
from explorer.conditions.registry import CONDITIONS
from explorer.conditions.simulate import simulate
from explorer.render.sections import (
    SCALE_BAR_MM,
    cut_level,
    cut_section,
    lesion_level,
    plane_for,
    section_figure,
    section_meshes,
    section_plane,
)
from explorer.state import CUT_LEVELS, POSTURES, SECTIONS, ExplorerState, parse_query_params, to_query_params

CANAL_EXAMPLES = [(cid, ex.name, ex.params) for cid, spec in CONDITIONS.items() for ex in spec.examples
                  if lesion_level(ex.params) is not None]
FORAMINAL = ("foraminal", "extraforaminal")


@pytest.fixture(scope="module")
def model():
    return load_model()


def _cuts(model, condition: str, params: dict[str, str], section: str, posture: str = "neutral"):
    impact = simulate(condition, params, model)
    level = cut_level(None, params)
    plane = plane_for(section, level, params)
    normal = cut_section(section_meshes(model, level, posture), plane)
    squeezed = {c.id: c.degree for c in impact.compressed}
    cond = cut_section(section_meshes(model, level, posture, impact.lesion), plane, squeezed=squeezed,
                       moved=impact.lesion.replaced)
    return impact, normal, cond


@pytest.mark.parametrize(("condition", "name", "params"), CANAL_EXAMPLES, ids=[n for _, n, _ in CANAL_EXAMPLES])
def test_the_cut_at_the_lesions_level_shows_the_lesion_in_the_canal(model, condition, name, params):
    impact, normal, cond = _cuts(model, condition, params, "sagittal" if params.get("zone") in FORAMINAL else "axial")
    lesion = cond.union("lesion")
    moved = cond.union("moved")
    # A slip shows as the slipped vertebra (outlined in the lesion's colour); every other lesion as
    # lesion polygons.
    if impact.lesion.replaced and condition == "spondylolisthesis":
        assert moved.area > 100.0, f"{name}: slipped bone not in the cut"
    else:
        assert lesion.area > 5.0, f"{name}: no lesion in the cut ({lesion.area:.1f} mm2)"
    if params.get("zone") in FORAMINAL:
        # In the foramen the lesion reaches the root there (drawn squeezed, magenta).
        root = cond.union("squeezed")
        assert root.area > 1.0 and lesion.distance(root) < 1.0, f"{name}: lesion not on the root in the foramen"
    elif lesion.area > 0:
        overlap = lesion.intersection(normal.union("sac")).area
        assert overlap > 0.5, f"{name}: the lesion does not reach into the canal ({overlap:.2f} mm2)"


def test_slips_show_the_slipped_vertebra_in_the_midline_cut(model):
    _, _, cond = _cuts(model, "spondylolisthesis", {"level": "L5-S1", "type": "isthmic", "grade": "2"}, "sagittal")
    assert cond.plane.kind == "sagittal"
    assert [s.id for s in cond.by_role("moved")] == ["vertebra-L5"]


@pytest.mark.parametrize(("params", "viewer_side"), [
    ({"level": "L4-L5", "zone": "paracentral", "side": "left", "severity": "moderate"}, "right"),
    ({"level": "L5-S1", "zone": "paracentral", "side": "right", "severity": "moderate"}, "left"),
])
def test_axial_cut_puts_the_patients_left_on_the_viewers_right(model, params, viewer_side):
    _, _, cond = _cuts(model, "herniation", params, "axial")
    centre = cond.union("lesion").centroid
    # The lesion in the model's own RAS millimetres: x < 0 is the patient's left.
    world_x = float(cond.plane.to_world(np.array([[centre.x, centre.y]]))[0, 0])
    assert (world_x < 0) == (params["side"] == "left")
    assert ("right" if centre.x > 0 else "left") == viewer_side
    fig = section_figure(cond, "This condition")
    edges = {a.name: a.text for a in fig.layout.annotations if a.name and a.name.startswith("edge-")}
    assert edges["edge-right"] == "L" and edges["edge-left"] == "R"
    assert edges["edge-top"] == "A" and edges["edge-bottom"] == "P"


def test_sagittal_cut_has_the_front_on_the_viewers_left(model):
    plane = section_plane("sagittal", "L4-L5")
    front = plane.to_plane(plane.origin + np.array([[0.0, 10.0, 0.0]]))[0]  # 10 mm anterior (+y)
    head = plane.to_plane(plane.origin + np.array([[0.0, 0.0, 10.0]]))[0]  # 10 mm superior (+z)
    assert front[0] < 0 and head[1] > 0


def test_picture_coordinates_are_millimetres(model):
    rng = np.random.default_rng(13)
    for kind, side in (("axial", None), ("sagittal", None), ("parasagittal", "left"), ("recess", "right")):
        plane = section_plane(kind, "L4-L5", side)
        uv = rng.uniform(-40, 40, size=(20, 2))
        world = plane.to_world(uv)
        # Points of the picture lie in the plane and keep their distances.
        assert np.allclose((world - plane.origin) @ plane.normal, 0.0, atol=1e-9)
        assert np.allclose(np.linalg.norm(world[1:] - world[:-1], axis=1),
                           np.linalg.norm(uv[1:] - uv[:-1], axis=1))
    # The axial cut through the L4-L5 disc is as wide as the L4 body the disc is built to match
    # (body width from the model's morphometry table, a published mean), within 10 %.
    normal = cut_section(section_meshes(model, "L4-L5", "neutral"), section_plane("axial", "L4-L5"))
    disc = normal.get("disc-L4-L5")
    assert disc is not None
    minx, _, maxx, _ = disc.shape.bounds
    assert maxx - minx == pytest.approx(VERTEBRAE["L4"].body_width, rel=0.10)


def test_scale_bar_is_ten_millimetres_on_an_undistorted_picture(model):
    section = cut_section(section_meshes(model, "L4-L5", "neutral"), section_plane("axial", "L4-L5"))
    fig = section_figure(section, "Normal")
    bars = [s for s in fig.layout.shapes if s.name == "scale-bar"]
    assert len(bars) == 1
    bar = bars[0]
    assert bar.y0 == bar.y1
    label = next(a.text for a in fig.layout.annotations if a.name == "scale-bar-label")
    assert float(label.split()[0]) == pytest.approx(bar.x1 - bar.x0) == pytest.approx(SCALE_BAR_MM)
    assert fig.layout.yaxis.scaleanchor == "x" and fig.layout.yaxis.scaleratio == 1


def test_holes_stay_open_in_the_picture(model):
    """A bony ring keeps its hole: filled area = outer minus inner loop (even-odd)."""
    section = cut_section(section_meshes(model, "L4-L5", "neutral"), section_plane("axial", "L4"))
    bone = section.get("vertebra-L4")
    assert bone is not None
    # The canal's centre, 1 mm off the midline, is not bone.
    canal_y = -VERTEBRAE["L4"].body_depth / 2 - VERTEBRAE["L4"].canal_depth / 2
    assert not bone.shape.contains(shapely.Point(1.0, canal_y))
    assert bone.shape.contains(shapely.Point(0.0, 0.0))  # the body's centre is bone


def test_extension_narrows_and_flexion_widens_the_sac_in_the_picture(model):
    """The picture follows the posture: the sac's cut area at L4-L5 is ordered as the
    measurements are (Schmid 1999, Kanbara 2014: larger bent forward than leaning back)."""
    plane = section_plane("axial", "L4-L5")
    areas = {p: cut_section(section_meshes(model, "L4-L5", p), plane).union("sac").area for p in POSTURES}
    assert areas["flexion"] > areas["neutral"] > areas["extension"]


# ---------------------------------------------------------------- state and URL


def test_state_postures_are_the_anatomy_postures():
    assert POSTURES == ANATOMY_POSTURES


@pytest.mark.parametrize("state", [
    ExplorerState(section="axial"),
    ExplorerState(section="sagittal", section_level="L5", posture="flexion"),
    ExplorerState(condition="stenosis", params=(("level", "L4-L5"), ("zone", "central"), ("severity", "moderate")),
                  section="axial", section_level="L3-L4", posture="extension"),
])
def test_section_fields_round_trip_through_the_url(state):
    query = to_query_params(state)
    parsed = parse_query_params(query)
    assert parsed.errors == ()
    assert parsed.state == state


def test_default_section_fields_stay_out_of_the_link():
    assert not {"section", "cut", "posture"} & set(to_query_params(ExplorerState()))


@pytest.mark.parametrize(("key", "bad", "field", "default"), [
    ("section", "coronal", "section", "off"),
    ("cut", "L9-L10", "section_level", None),
    ("posture", "handstand", "posture", "neutral"),
    ("section", "<b>x</b>" * 30, "section", "off"),
])
def test_bad_section_values_are_named_and_fall_back(key, bad, field, default):
    parsed = parse_query_params({key: bad, "section": "axial"} if key != "section" else {key: bad})
    assert getattr(parsed.state, field) == default
    assert len(parsed.errors) == 1
    message = parsed.errors[0]
    assert bad[:20] in message
    assert len(message) < 400
    assert all(v in message for v in (SECTIONS if key == "section" else CUT_LEVELS if key == "cut" else POSTURES))


# ---------------------------------------------------------------- the panel (AppTest)

PANEL_SCRIPT = """
import streamlit as st
from explorer.state import NO_CONDITION, ExplorerState, parse_query_params
from explorer.ui.resources import get_impact, get_model
from explorer.ui.sections_panel import sections_panel, sections_toggle, with_sections

base = parse_query_params(st.query_params.to_dict()).state
state = with_sections(base)
sections_toggle(state)
impact = get_impact(state.condition, state.params) if state.condition != NO_CONDITION else None
if state.section != "off":
    st.session_state["description"] = sections_panel(get_model(), state, impact)
"""


def _panel(query: dict[str, str]) -> AppTest:
    at = AppTest.from_string(PANEL_SCRIPT, default_timeout=180)
    for k, v in query.items():
        at.query_params[k] = v
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_panel_shows_both_pictures_the_area_and_follows_the_posture():
    at = _panel({"condition": "stenosis", "level": "L4-L5", "zone": "central", "severity": "moderate",
                 "section": "axial"})
    assert at.radio(key="section").value == "axial"
    description = at.session_state["description"]
    assert description.startswith("Axial cut through L4-L5, seen from below")
    assert description.count("Dural sac area") == 2  # normal and this condition
    assert "Hamanishi" in description and "Schizas" in description
    text = " ".join(str(m.value) for m in at.markdown)
    assert "Dural sac area" in text
    at.radio(key="posture").set_value("extension").run()
    assert not at.exception
    leaning = at.session_state["description"]
    assert leaning != description
    assert "(neutral:" in leaning  # the neutral value is given beside the new one


def test_panel_for_patients_uses_everyday_posture_words():
    at = _panel({"audience": "patient", "condition": "herniation", "section": "sagittal", "zone": "foraminal",
                 "side": "left", "level": "L4-L5", "severity": "moderate"})
    # AppTest lists a radio's options as shown (formatted).
    assert list(at.radio(key="posture").options) == ["Sitting bent forward", "Standing", "Leaning back"]
    assert "foramen" in at.session_state["description"]


def test_patient_words_in_the_panel_read_at_grade_8_or_below():
    from explorer.content import reading_grade
    from explorer.ui.sections_panel import CONVENTION_TEXT, TROLLEY_TEXT

    for text in (TROLLEY_TEXT, CONVENTION_TEXT):
        assert reading_grade(text) <= 8.0, text

"""Tests for the picture of a condition: the story view, see-through occluders, the squeeze
highlight, the 3D labels and the text description (explorer.render.story / model_scene / labels)."""

from __future__ import annotations

import numpy as np
import pytest

from explorer import settings
from explorer.anatomy.model import MeshData, SpineModel, load_model
from explorer.anatomy.structures import STRUCTURES
from explorer.conditions.simulate import simulate
from explorer.render.labels import label_texts, scene_labels, short_lesion_name
from explorer.render.model_scene import describe_scene, model_box, scene_items, squeeze_intensity
from explorer.render.scene3d import build_scene_figure
from explorer.render.story import (
    choose_story_view,
    frame,
    lesion_meshes,
    plotly_camera,
    project,
    see_through_from,
    squeezed_nerves,
)
from explorer.state import ExplorerState

HERNIATION_L4L5_LEFT = {"level": "L4-L5", "zone": "paracentral", "side": "left", "severity": "moderate"}
FORAMINAL_L5S1_RIGHT = {"level": "L5-S1", "zone": "foraminal", "side": "right", "severity": "moderate"}


@pytest.fixture(scope="module")
def model():
    return load_model(save_rebuilt=False)


@pytest.fixture(scope="module")
def impacts(model):
    cases = {
        "left": ("herniation", HERNIATION_L4L5_LEFT),
        "right": ("herniation", FORAMINAL_L5S1_RIGHT),
        "slip": ("spondylolisthesis", {"level": "L4-L5", "type": "degenerative", "grade": "2"}),
        "piriformis": ("piriformis", {"side": "right", "severity": "moderate"}),
    }
    return {k: simulate(c, p, model) for k, (c, p) in cases.items()}


def _state(impact) -> ExplorerState:
    return ExplorerState(condition=impact.condition, params=tuple(impact.parameters.items()))


# ---------------------------------------------------------------- framing geometry
def test_frame_puts_every_point_inside_the_view_with_a_margin() -> None:
    rng = np.random.default_rng(1)
    pts = rng.normal(size=(200, 3)) * [30, 10, 50] + [5, -20, 40]
    for direction in ([0, -1, 0.2], [-1, 0, 0.1], [0.5, -0.8, -0.4]):
        eye, center = frame(pts, np.asarray(direction, float), aspect=1.0)
        s = project(pts, eye, center, aspect=1.0)
        assert np.abs(s).max() <= 1.0  # nothing cut off
        assert np.abs(s).max() >= 0.5  # and not lost in the middle of the view


def _wall(center: tuple[float, float, float]):
    import pyvista as pv

    return pv.Cube(center=center, x_length=20, y_length=2, z_length=20).triangulate()


def _walled_impact(replaced: dict | None = None):
    """A made-up scene for the real ray code: a 4 mm lesion at the origin between two bones, one
    wall 20 mm behind it (``vertebra-L4``, y = -20) and one 20 mm in front (``vertebra-L5``)."""
    import pyvista as pv

    from explorer.conditions.base import Lesion
    from explorer.conditions.simulate import impact_from

    model = SpineModel({"vertebra-L4": MeshData.from_polydata(_wall((0, -20, 0))),
                        "vertebra-L5": MeshData.from_polydata(_wall((0, 20, 0)))})
    lesion = Lesion(compressors={"lesion-disc": pv.Cube(center=(0, 0, 0), x_length=4, y_length=4,
                                                        z_length=4).triangulate()},
                    replaced=replaced or {}, names={"lesion-disc": "Fragment"}, focus=np.zeros(3), candidates=())
    params = {"level": "L4-L5", "zone": "central", "severity": "moderate"}
    return model, impact_from("herniation", params, lesion, (), model)


def test_see_through_names_what_stands_between_the_eye_and_the_lesion() -> None:
    """The story view's own ray code (see_through_from, the shared and per-impact locators) on a
    scene whose answer is plain: only the wall on the eye's side is in the way."""
    model, impact = _walled_impact()
    assert see_through_from(model, impact, np.array([0.0, -100.0, 0.0])) == ("vertebra-L4",)
    assert see_through_from(model, impact, np.array([0.0, 100.0, 0.0])) == ("vertebra-L5",)
    assert see_through_from(model, impact, np.array([100.0, 0.0, 0.0])) == ()


def test_see_through_sees_a_moved_structure_where_it_went_not_where_it_was() -> None:
    """A structure the condition replaced (a slipped vertebra) stands in its new place only."""
    model, impact = _walled_impact(replaced={"vertebra-L4": _wall((60, 0, 0)).rotate_z(90, point=(60, 0, 0))})
    assert see_through_from(model, impact, np.array([0.0, -100.0, 0.0])) == ()
    assert see_through_from(model, impact, np.array([100.0, 0.0, 0.0])) == ("vertebra-L4",)
    assert see_through_from(model, impact, np.array([0.0, 100.0, 0.0])) == ("vertebra-L5",)


# ---------------------------------------------------------------- the story view
def test_one_sided_lesion_is_seen_from_its_own_side_or_behind(model, impacts) -> None:
    for key, sign in (("left", -1), ("right", 1)):
        view = choose_story_view(model, impacts[key])
        direction = view.eye_mm - view.center_mm
        assert direction[1] < 0, f"{key}: the canal and the foramen are seen from behind, not from the front"
        assert direction[0] * sign >= -1e-6, f"{key}: seen from the other side ({view.direction})"


@pytest.mark.parametrize("slip_type", ["degenerative", "isthmic"])
@pytest.mark.parametrize("level", ["L3-L4", "L4-L5", "L5-S1"])
@pytest.mark.parametrize("grade", ["2", "3", "4"])
def test_slip_is_seen_side_on(model, slip_type, level, grade) -> None:
    """Slips are seen and graded on a lateral picture (Meyerding 1932): from behind no step shows."""
    impact = simulate("spondylolisthesis", {"level": level, "type": slip_type, "grade": grade})
    view = choose_story_view(model, impact)
    d = (view.eye_mm - view.center_mm) / np.linalg.norm(view.eye_mm - view.center_mm)
    assert abs(d[0]) > 0.9, f"a forward slip shows from the side, got {view.direction}"


def test_story_view_frames_lesion_and_squeezed_nerve_near_it(model, impacts) -> None:
    for key, impact in impacts.items():
        view = choose_story_view(model, impact)
        lesion = np.vstack([m.vertices for m in lesion_meshes(impact).values()])
        s = project(lesion, view.eye_mm, view.center_mm, 1.0)
        assert np.abs(s).max() <= 1.0, f"{key}: the lesion is cut off"
        assert set(view.nerve_ids) <= set(squeezed_nerves(impact))
        assert view.nerve_ids, f"{key}: no squeezed nerve framed"


def test_what_hides_the_targets_is_made_see_through(model, impacts) -> None:
    impact = impacts["left"]
    view = choose_story_view(model, impact)
    assert view.see_through, "a paracentral herniation lies behind bone from any posterior view"
    assert not set(view.see_through) & (set(view.lesion_ids) | set(view.nerve_ids))
    items = {i.id: i for i in scene_items(model, _state(impact), impact, story=view)}
    for sid in view.see_through:
        assert items[sid].opacity <= settings.SEE_THROUGH_OPACITY
    untouched = [sid for sid in STRUCTURES if STRUCTURES[sid].kind == "vertebra" and sid not in view.see_through]
    assert untouched and all(items[sid].opacity == 1.0 for sid in untouched), "other bones keep their look"


def test_plotly_camera_looks_at_the_framed_point(model, impacts) -> None:
    box = model_box(model)
    view = choose_story_view(model, impacts["right"])
    cam = plotly_camera(view, box)
    eye = np.array([cam["eye"][k] for k in "xyz"])
    center = np.array([cam["center"][k] for k in "xyz"])
    d_mm = (view.eye_mm - view.center_mm) / np.linalg.norm(view.eye_mm - view.center_mm)
    d_scene = (eye - center) / np.linalg.norm(eye - center)
    assert np.allclose(d_mm, d_scene, atol=1e-6)  # the scene is scaled uniformly (true proportions)


# ---------------------------------------------------------------- the squeeze highlight
def test_whole_squeezed_root_is_lit_by_its_degree(model, impacts) -> None:
    impact = impacts["left"]
    items = {i.id: i for i in scene_items(model, _state(impact), impact)}
    root = items["root-L5-left"]
    degree = squeezed_nerves(impact)["root-L5-left"]
    assert root.colorscale == settings.SQUEEZE_COLORSCALE
    assert root.intensity is not None and root.intensity.min() >= 0.8 * degree - 1e-6  # the whole root
    assert root.intensity.max() == pytest.approx(degree, abs=1e-3)  # deepest where pressed
    assert root.colorbar is not None, "the squeezed root carries the legend"
    for neighbour in ("root-L4-left", "root-L5-right", "root-S1-left", "sciatic-right"):
        assert items[neighbour].intensity is None and items[neighbour].color == settings.PALETTE[
            STRUCTURES[neighbour].kind]
    # on into the leg: the same side's sciatic nerve, lighter than the squeezed root
    sciatic = items["sciatic-left"]
    assert sciatic.intensity is not None and 0 < sciatic.intensity.max() < root.intensity.min()


def test_squeeze_intensity_follows_degree() -> None:
    local = np.linspace(0, 1, 50).astype(np.float32)
    slight, severe = squeeze_intensity(0.2, local, 50), squeeze_intensity(0.9, local, 50)
    assert (severe > slight).all()
    assert slight.min() >= settings.SQUEEZE_FLOOR


def test_lit_highlights_whole_structures_without_a_condition(model) -> None:
    items = {i.id: i for i in scene_items(model, ExplorerState(), None, lit={"root-L5-left": 0.7, "nope": 1})}
    assert items["root-L5-left"].intensity is not None
    assert np.allclose(items["root-L5-left"].intensity, 0.8 * 0.7)
    assert items["root-L4-left"].intensity is None
    text = describe_scene(model, ExplorerState(), None, lit={"root-L5-left": 0.7})
    assert "L5 nerve root (left)" in text and "magenta" in text


def test_legend_reaches_the_figure(model, impacts) -> None:
    impact = impacts["left"]
    fig = build_scene_figure(scene_items(model, _state(impact), impact), None, box=model_box(model))
    shown = [t for t in fig.data if t.showscale]
    assert len(shown) == 1
    assert list(shown[0].colorbar.ticktext) == list(settings.SQUEEZE_LEGEND_ENDS)


# ---------------------------------------------------------------- labels
def test_labels_name_levels_root_side_degree_role_and_lesion(model, impacts) -> None:
    impact = impacts["left"]
    view = choose_story_view(model, impact)
    texts = label_texts(scene_labels(model, impact, view))
    assert "L5" in texts and "L4" in texts
    assert any(t.startswith("left L5 root (traversing):") and "squeezed" in t for t in texts), texts
    assert any(t.startswith("left L4 root (exiting):") and "not squeezed" in t for t in texts), texts
    assert "Herniated disc material" in texts


def test_labels_are_readable_and_anchored_in_view(model, impacts) -> None:
    for key, impact in impacts.items():
        view = choose_story_view(model, impact)
        labels = scene_labels(model, impact, view)
        assert labels
        for a in labels:
            assert a["font"]["size"] >= 14
            assert a["bgcolor"].startswith("rgba(255, 255, 255")
            s = project(np.array([[a["x"], a["y"], a["z"]]]), view.eye_mm, view.center_mm, 1.0)
            assert np.abs(s).max() <= 1.0, f"{key}: label {a['text']!r} anchored out of sight"


def test_labels_can_be_switched_off_in_the_figure(model, impacts) -> None:
    impact = impacts["right"]
    labels = scene_labels(model, impact, choose_story_view(model, impact))
    with_labels = build_scene_figure([], None, annotations=labels)
    without = build_scene_figure([], None, annotations=[])
    assert len(with_labels.layout.scene.annotations) == len(labels) and not without.layout.scene.annotations


def test_short_lesion_name() -> None:
    assert short_lesion_name("Herniated disc material (L4-L5, paracentral, left)") == "Herniated disc material"
    assert short_lesion_name("Central stenosis at L4-L5: bulging disc") == "Central stenosis at L4-L5"


# ---------------------------------------------------------------- text description
def test_description_tells_view_see_through_and_highlight(model, impacts) -> None:
    impact = impacts["right"]
    view = choose_story_view(model, impact)
    text = describe_scene(model, _state(impact), impact, story=view)
    assert view.phrase in text
    assert "right L5 root (exiting)" in text and "magenta" in text
    assert "see-through" in text
    assert STRUCTURES[view.see_through[0]].name in text
    preset = describe_scene(model, _state(impact).with_(view="lateral"), impact, story=view, camera_on_story=False)
    assert settings.CAMERA_PHRASES["lateral"] in preset


# ---------------------------------------------------------------- same colours on the body chart
def test_body_chart_outlines_the_squeezed_roots_skin_in_magenta(impacts) -> None:
    from explorer.clinical.symptom_map import pain_paths, paint_areas
    from explorer.render.bodychart import ChartInput, body_chart_figure, shown

    impact = impacts["left"]
    degrees = impact.degrees
    chart = ChartInput(paint_areas(impact.clinical.sensory, degrees), pain_paths(impact.clinical.sensory, degrees),
                       None, show_dermatomes=False)
    data = body_chart_figure(chart)["data"]
    # The chart has one outline slot per root and side in every state (fixed shape); the drawn ones count.
    outlined = [t for t in data if shown(t) and str(t.get("meta") or "").startswith("squeezed:")]
    # A left paracentral L4-L5 herniation squeezes the traversing left L5 root most: its skin has the
    # thickest outline and carries the legend entry.
    assert max(outlined, key=lambda t: t["line"]["width"])["meta"] == "squeezed:L5:left"
    assert [t["meta"] for t in outlined if t.get("showlegend")] == ["squeezed:L5:left"]
    assert all(t["line"]["color"] == settings.SQUEEZE_OUTLINE_COLOR for t in outlined)
    # the symptom fills keep their own colours
    fills = {t.get("fillcolor") for t in data if t.get("fill") == "toself" and t.get("fillcolor")}
    assert not any(settings.SQUEEZE_OUTLINE_COLOR.lower() in str(f).lower() for f in fills)
    plain = body_chart_figure(ChartInput())["data"]
    assert not [t for t in plain if shown(t) and str(t.get("meta") or "").startswith("squeezed:")]


def test_preset_view_sees_through_what_hides_the_lesion_from_there(model, impacts) -> None:
    from explorer.render.scene3d import scene_point, scene_to_mm
    from explorer.render.story import view_from

    box = model_box(model)
    p = np.array([12.0, -30.0, 55.0])
    assert np.allclose(scene_to_mm(scene_point(p, box), box), p)
    impact = impacts["right"]
    front = view_from(model, impact, settings.CAMERA_PRESETS["anterior"], box, settings.CAMERA_PHRASES["anterior"])
    behind = view_from(model, impact, settings.CAMERA_PRESETS["posterior"], box, settings.CAMERA_PHRASES["posterior"])
    assert front.phrase == "from the front" and front.see_through and behind.see_through
    assert set(front.see_through) != set(behind.see_through)
    assert not set(front.see_through) & (set(front.lesion_ids) | set(front.nerve_ids))
    # seen from the front, the vertebral bodies stand before a foraminal fragment; from behind, not all of them
    assert any(STRUCTURES[s].kind == "vertebra" for s in front.see_through)


def test_symptoms_legend_tells_the_fit_not_a_squeeze(model) -> None:
    # Symptoms mode lights roots without a condition: their colour is how well they fit the
    # marked symptoms (issue 11), so the legend must not say "squeezed".
    fig = build_scene_figure(scene_items(model, ExplorerState(), None, lit={"root-L5-left": 1.0}), None,
                             box=model_box(model))
    shown = [t for t in fig.data if t.showscale]
    assert len(shown) == 1
    words = " ".join([shown[0].colorbar.title.text, *shown[0].colorbar.ticktext])
    assert "squeez" not in words and "slight" not in words and "severe" not in words, words
    assert "fit" in words


# --------------------------------------------------------------------------- the page's fast path
def _split_reference(model, items, camera, labels):
    """What the browser was sent before the fast path: the validated figure, split."""
    from explorer.frontend.transport import split_figure

    return split_figure(build_scene_figure(items, camera, height_px=560, box=model_box(model), annotations=labels))


@pytest.mark.parametrize("condition", ["herniation", "stenosis", "spondylolisthesis", "piriformis",
                                       "cauda_equina", None])
def test_scene_payload_is_the_split_figure(model, condition) -> None:
    """build_scene_payload (no plotly figure, cached parts) sends exactly what splitting the
    validated figure sent: same traces, same layout, same geometry bytes, same scene hash."""
    from explorer.frontend.transport import DeltaLedger, scene_delta
    from explorer.render.scene3d import build_scene_payload
    from explorer.render.story import story_view

    impact = simulate(condition, {}, model) if condition else None
    state = ExplorerState(condition=condition) if condition else ExplorerState()
    story = story_view(model, impact, settings.STORY_VIEW_ASPECT) if impact is not None else None
    camera = plotly_camera(story, model_box(model)) if story is not None else settings.CAMERA_PRESETS[state.view]
    labels = scene_labels(model, impact, story)
    for _ in range(2):  # the second time from the caches
        items = scene_items(model, state, impact, story=story)
        reference = _split_reference(model, items, camera, labels)
        payload = build_scene_payload(items, camera, height_px=560, box=model_box(model), annotations=labels)
        assert payload.scene == reference.scene
        assert {k: b.data for k, b in payload.geometry.items()} == {k: b.data for k, b in reference.geometry.items()}
        assert payload.scene_hash == scene_delta(reference.scene, DeltaLedger())["hash"]


def test_scene_payload_follows_a_change_of_look(model, impacts) -> None:
    """Cached traces are keyed by what they show: a dimmed or selected structure is a new trace."""
    from explorer.render.scene3d import build_scene_payload

    impact = impacts["left"]
    base = ExplorerState(condition="herniation", params=tuple(HERNIATION_L4L5_LEFT.items()))
    first = build_scene_payload(scene_items(model, base, impact), None)
    dimmed = build_scene_payload(scene_items(model, base.with_(dim_others=True), impact), None)
    selected = build_scene_payload(scene_items(model, base.with_(selected="vertebra-L3"), impact), None)
    by_meta = {t["meta"]: t for t in first.scene["data"]}
    assert {t["meta"]: t["opacity"] for t in dimmed.scene["data"]}["vertebra-L1"] < by_meta["vertebra-L1"]["opacity"]
    assert {t["meta"]: t.get("color") for t in selected.scene["data"]}["vertebra-L3"] == settings.SELECTED_COLOR
    assert by_meta["vertebra-L3"]["color"] != settings.SELECTED_COLOR
    assert len({first.scene_hash, dimmed.scene_hash, selected.scene_hash}) == 3

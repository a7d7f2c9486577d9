"""Tests for explorer.render.scene3d (pure Python, no browser)."""

from __future__ import annotations

import base64
import json
from typing import Any

import numpy as np
import pytest
import pyvista as pv

from explorer.render.scene3d import (
    HIGHLIGHT_COLOR,
    INTENSITY_UID_SUFFIX,
    UIREVISION,
    SceneItem,
    build_scene_figure,
    figure_to_json,
    plotly_js_path,
)
from explorer.settings import CAMERA_PRESETS, DEFAULT_VIEW, LIGHT_POSITION, LIGHTING, SCENE_BACKGROUND

_DTYPES = {"f4": np.float32, "f8": np.float64, "u2": np.uint16, "u4": np.uint32, "i4": np.int32}


def _sphere(resolution: int = 30, center: tuple[float, float, float] = (0.0, 0.0, 0.0)) -> tuple[Any, Any]:
    mesh = pv.Sphere(radius=20.0, center=center, theta_resolution=resolution, phi_resolution=resolution)
    mesh = mesh.triangulate()
    # float64 / int64 on purpose: the builder must compact them
    return np.asarray(mesh.points, dtype=np.float64), mesh.faces.reshape(-1, 4)[:, 1:].astype(np.int64)


def _item(id_: str, name: str, resolution: int = 30, **kw: Any) -> SceneItem:
    verts, faces = _sphere(resolution)
    return SceneItem(id=id_, name=name, vertices=verts, faces=faces, color=kw.pop("color", "#E9DFC8"), **kw)


def _decode(spec: dict[str, Any]) -> np.ndarray:
    return np.frombuffer(base64.b64decode(spec["bdata"]), dtype=_DTYPES[spec["dtype"]])


def _json(items: list[SceneItem], camera: dict[str, Any] | None = None) -> dict[str, Any]:
    return json.loads(figure_to_json(build_scene_figure(items, camera)))


def test_one_trace_per_visible_item_with_names_and_ids() -> None:
    items = [_item("vertebra-L4", "L4 vertebra"), _item("disc-L4-L5", "L4-L5 disc", opacity=0.45)]
    fig = build_scene_figure(items, CAMERA_PRESETS["lateral"])
    assert len(fig.data) == 2
    assert [t.type for t in fig.data] == ["mesh3d", "mesh3d"]
    assert [t.name for t in fig.data] == ["L4 vertebra", "L4-L5 disc"]
    assert [t.meta for t in fig.data] == ["vertebra-L4", "disc-L4-L5"]
    assert [t.uid for t in fig.data] == ["vertebra-L4", "disc-L4-L5"]
    assert fig.data[1].opacity == pytest.approx(0.45)
    assert fig.data[0].color == "#E9DFC8"
    # hover shows the name only: no %{x}/%{y}/%{z}, no secondary box
    assert fig.data[0].hovertemplate == "L4 vertebra<extra></extra>"
    assert "%{" not in fig.data[0].hovertemplate


def test_hover_text_overrides_name() -> None:
    fig = build_scene_figure([_item("root-L5-left", "L5 root (left)", hover="L5 nerve root<br>left")], None)
    assert fig.data[0].hovertemplate == "L5 nerve root<br>left<extra></extra>"


def test_hidden_items_are_omitted() -> None:
    items = [_item("a", "A"), _item("b", "B", visible=False), _item("c", "C")]
    fig = build_scene_figure(items, None)
    assert [t.meta for t in fig.data] == ["a", "c"]
    # and cost nothing in the payload
    small = len(figure_to_json(fig))
    full = len(figure_to_json(build_scene_figure([_item("a", "A"), _item("b", "B"), _item("c", "C")], None)))
    assert small < full * 0.7


def test_no_items_gives_empty_scene() -> None:
    fig = build_scene_figure([], None)
    assert len(fig.data) == 0
    assert fig.layout.scene.aspectmode == "data"


def test_typed_arrays_float32_uint16_in_json() -> None:
    item = _item("a", "A")
    trace = _json([item])["data"][0]
    for axis in "xyz":
        assert set(trace[axis]) == {"dtype", "bdata"}
        assert trace[axis]["dtype"] == "f4"
    for idx in "ijk":
        assert trace[idx]["dtype"] == "u2"
    # round trip: the browser decodes exactly the float32 vertices and the original faces
    verts = np.asarray(item.vertices)
    np.testing.assert_array_equal(_decode(trace["x"]), verts[:, 0].astype(np.float32))
    np.testing.assert_array_equal(_decode(trace["z"]), verts[:, 2].astype(np.float32))
    np.testing.assert_array_equal(_decode(trace["j"]), np.asarray(item.faces)[:, 1])


def test_to_plotly_json_keeps_typed_array_specs() -> None:
    trace = build_scene_figure([_item("a", "A")], None).to_plotly_json()["data"][0]
    x, i = trace["x"], trace["i"]
    assert isinstance(x, dict) and x["dtype"] == "f4" and "bdata" in x
    assert isinstance(i, dict) and i["dtype"] == "u2" and "bdata" in i


def test_uint32_indices_for_large_meshes() -> None:
    n = 70_000  # > 65,535 vertices: uint16 would overflow
    rng = np.random.default_rng(0)
    verts = rng.normal(size=(n, 3))
    faces = np.stack([np.arange(n - 2), np.arange(1, n - 1), np.arange(2, n)], axis=1)
    trace = _json([SceneItem("big", "Big", verts, faces, "#FFFFFF")])["data"][0]
    assert trace["i"]["dtype"] == "u4"
    assert _decode(trace["k"])[-1] == n - 1


def test_invalid_input_rejected() -> None:
    verts, faces = _sphere(8)
    with pytest.raises(ValueError, match="vertices"):
        build_scene_figure([SceneItem("a", "A", verts[:, :2], faces, "#fff")], None)
    with pytest.raises(ValueError, match="faces"):
        build_scene_figure([SceneItem("a", "A", verts, faces[:, :2], "#fff")], None)
    with pytest.raises(ValueError, match="out of range"):
        build_scene_figure([SceneItem("a", "A", verts, faces + len(verts), "#fff")], None)
    with pytest.raises(ValueError, match="intensity"):
        build_scene_figure([SceneItem("a", "A", verts, faces, "#fff", intensity=np.zeros(3))], None)


def test_camera_set_and_default() -> None:
    cam = CAMERA_PRESETS["superior"]
    layout = _json([_item("a", "A")], cam)["layout"]
    assert layout["scene"]["camera"]["eye"] == pytest.approx(cam["eye"])
    assert layout["scene"]["camera"]["up"] == cam["up"]
    default = _json([_item("a", "A")], None)["layout"]["scene"]["camera"]
    assert default["eye"] == pytest.approx(CAMERA_PRESETS[DEFAULT_VIEW]["eye"])


def test_lighting_and_shading_applied() -> None:
    trace = build_scene_figure([_item("a", "A")], None).data[0]
    for key, value in LIGHTING.items():
        assert getattr(trace.lighting, key) == pytest.approx(value)
    for key, value in LIGHT_POSITION.items():
        assert getattr(trace.lightposition, key) == pytest.approx(value)
    assert trace.flatshading is False


def test_layout_dark_hidden_axes_uirevision() -> None:
    layout = build_scene_figure([_item("a", "A")], None, height_px=640).layout
    assert layout.height == 640
    assert layout.showlegend is False
    assert (layout.margin.l, layout.margin.r, layout.margin.t, layout.margin.b) == (0, 0, 0, 0)
    assert layout.paper_bgcolor == SCENE_BACKGROUND
    assert layout.scene.bgcolor == SCENE_BACKGROUND
    assert layout.scene.aspectmode == "data"
    assert layout.uirevision == UIREVISION and layout.scene.uirevision == UIREVISION
    for axis in (layout.scene.xaxis, layout.scene.yaxis, layout.scene.zaxis):
        assert axis.visible is False
        assert axis.showgrid is False
        assert axis.showbackground is False
        assert axis.showticklabels is False


def test_title_adds_top_margin() -> None:
    layout = build_scene_figure([], None, title="Lumbar spine").layout
    assert layout.title.text == "Lumbar spine"
    assert layout.margin.t > 0


def test_intensity_uses_highlight_colorscale() -> None:
    verts, faces = _sphere(12)
    heat = np.linspace(-0.5, 1.5, len(verts))  # clipped to 0..1
    item = SceneItem("disc-L4-L5", "L4-L5 disc", verts, faces, "#B9D3E6", intensity=heat)
    flat = SceneItem("vertebra-L4", "L4 vertebra", verts, faces, "#E9DFC8")
    fig = build_scene_figure([item, flat], None)
    hot, cold = fig.data
    assert hot.colorscale[0][1].upper() == "#B9D3E6"
    assert hot.colorscale[-1][1].upper() == HIGHLIGHT_COLOR.upper()
    assert (hot.cmin, hot.cmax, hot.intensitymode, hot.showscale) == (0.0, 1.0, "vertex", False)
    assert hot.meta == "disc-L4-L5"
    # a different uid forces plotly.js to rebuild the mesh when highlighting is switched off
    assert hot.uid == "disc-L4-L5" + INTENSITY_UID_SUFFIX
    assert cold.intensity is None and cold.uid == "vertebra-L4"
    spec = json.loads(figure_to_json(fig))["data"][0]["intensity"]
    decoded = _decode(spec)
    assert spec["dtype"] == "f4"
    assert decoded.min() == 0.0 and decoded.max() == 1.0


def _bytes_per_1000_triangles(resolution: int) -> tuple[float, int]:
    item = _item("a", "A", resolution=resolution)
    base = len(figure_to_json(build_scene_figure([], None)))
    size = len(figure_to_json(build_scene_figure([item], None))) - base
    n_tri = len(item.faces)
    return 1000.0 * size / n_tri, n_tri


def test_payload_proportional_to_triangles() -> None:
    per_k = {}
    for res in (20, 60, 120):
        per_k[res], _ = _bytes_per_1000_triangles(res)
    # closed surfaces have ~2 triangles per vertex: float32 xyz (12 B) + uint16 ijk (6 B per
    # triangle), base64 (x4/3) => ~16 kB per 1000 triangles
    print("bytes per 1000 triangles:", {k: round(v) for k, v in per_k.items()})
    values = list(per_k.values())
    assert max(values) / min(values) < 1.15
    assert 12_000 < per_k[120] < 18_000
    # far smaller than decimal text (what float64 lists would cost)
    item = _item("a", "A", resolution=60)
    text = json.dumps(
        {"x": np.asarray(item.vertices).round(3).tolist(), "i": np.asarray(item.faces).tolist()}
    )
    assert len(figure_to_json(build_scene_figure([item], None))) < len(text)


def test_plotly_js_bundle_exists() -> None:
    path = plotly_js_path()
    assert path.is_file() and path.name == "plotly.min.js"
    assert path.stat().st_size > 1_000_000

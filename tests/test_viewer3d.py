"""Tests for the 3D viewer's transport (explorer.ui.viewer3d): geometry sent once, style every rerun.

Pure Python: the browser side mirrors :func:`assemble_traces` (see tests/e2e/test_viewer_perf.py
for the real browser).
"""

from __future__ import annotations

import base64
import json
import sys
from typing import Any

import numpy as np
import pytest
import pyvista as pv

from explorer.render.scene3d import SceneItem, build_scene_figure, figure_to_json
from explorer.ui import viewer3d
from explorer.ui.viewer3d import (
    GEOMETRY_KEYS,
    GEOMETRY_REF_KEY,
    assemble_traces,
    blobs_to_send,
    dequantise_intensity,
    pack_geometry,
    quantise_intensity,
    split_figure,
)


def _sphere(resolution: int = 20, center: tuple[float, float, float] = (0.0, 0.0, 0.0)) -> tuple[Any, Any]:
    mesh = pv.Sphere(radius=20.0, center=center, theta_resolution=resolution, phi_resolution=resolution).triangulate()
    return np.asarray(mesh.points, dtype=np.float64), mesh.faces.reshape(-1, 4)[:, 1:].astype(np.int64)


def _item(id_: str, color: str = "#E9DFC8", resolution: int = 20, center=(0.0, 0.0, 0.0), **kw: Any) -> SceneItem:
    verts, faces = _sphere(resolution, center)
    return SceneItem(id=id_, name=id_.title(), vertices=verts, faces=faces, color=color, **kw)


def _figure(items: list[SceneItem], camera: dict | None = None):
    return build_scene_figure(items, camera, box=(-30, 30, -30, 30, -30, 30))


def _plain(value: Any) -> Any:
    """A trace property as plain Python for comparison (numpy arrays -> lists)."""
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def _assert_round_trip(figure, payload) -> None:
    rebuilt = assemble_traces(payload.scene, payload.geometry)
    assert len(rebuilt) == len(figure.data)
    for original, trace in zip(figure.data, rebuilt):
        props = original.to_plotly_json()
        assert set(trace) == set(props), "same properties after reassembly"
        for key, value in props.items():
            got = trace[key]
            if key in GEOMETRY_KEYS:
                np.testing.assert_array_equal(np.asarray(got), np.asarray(value))
                assert np.asarray(got).dtype == np.asarray(value).dtype, key
            elif key == "intensity":
                lo, hi = float(np.min(value)), float(np.max(value))
                np.testing.assert_allclose(got, value, atol=(hi - lo) / 255 / 2 + 1e-6)
            else:
                assert _plain(got) == pytest.approx(_plain(value)) if isinstance(value, float) else _plain(got) == _plain(value), key


# --------------------------------------------------------------------------- packing
def test_pack_geometry_round_trip_and_alignment() -> None:
    verts, faces = _sphere(24)
    blob = pack_geometry(verts[:, 0], verts[:, 1], verts[:, 2], faces[:, 0], faces[:, 1], faces[:, 2])
    assert (blob.n_vertices, blob.n_faces, blob.index_dtype) == (len(verts), len(faces), "u2")
    assert len(blob.data) == 12 * len(verts) + 6 * len(faces)
    arrays = blob.arrays()
    np.testing.assert_array_equal(arrays["x"], verts[:, 0].astype(np.float32))
    np.testing.assert_array_equal(arrays["z"], verts[:, 2].astype(np.float32))
    np.testing.assert_array_equal(arrays["k"], faces[:, 2])
    # what the browser decodes: base64 -> bytes
    payload = blob.to_payload()
    assert base64.b64decode(payload["b64"]) == blob.data
    assert (payload["n"], payload["m"], payload["idx"]) == (len(verts), len(faces), "u2")


def test_pack_geometry_uses_uint32_for_large_meshes() -> None:
    n = 70_000
    x = np.arange(n, dtype=np.float32)
    idx = np.arange(n - 2)
    blob = pack_geometry(x, x, x, idx, idx + 1, idx + 2)
    assert blob.index_dtype == "u4"
    assert len(blob.data) == 12 * n + 12 * (n - 2)
    assert blob.arrays()["k"][-1] == n - 1


def test_geometry_key_follows_content() -> None:
    verts, faces = _sphere(16)
    args = (verts[:, 0], verts[:, 1], verts[:, 2], faces[:, 0], faces[:, 1], faces[:, 2])
    assert pack_geometry(*args).key == pack_geometry(*args).key
    moved = (verts[:, 0] + 1.0, *args[1:])
    assert pack_geometry(*moved).key != pack_geometry(*args).key
    flipped = (*args[:3], faces[:, 0], faces[:, 2], faces[:, 1])
    assert pack_geometry(*flipped).key != pack_geometry(*args).key


def test_pack_geometry_rejects_bad_input() -> None:
    x = np.zeros(3)
    with pytest.raises(ValueError, match="same length"):
        pack_geometry(x, x, np.zeros(2), [0], [1], [2])
    with pytest.raises(ValueError, match="out of range"):
        pack_geometry(x, x, x, [0], [1], [3])


# --------------------------------------------------------------------------- intensity
def test_quantised_intensity_keeps_the_ends_and_is_close() -> None:
    values = np.linspace(0.0, 1.0, 1001) ** 2
    spec = quantise_intensity(values)
    back = dequantise_intensity(spec)
    assert back.dtype == np.float32
    assert back[0] == 0.0 and back[-1] == pytest.approx(1.0)
    assert np.max(np.abs(back - values)) <= 0.5 / 255 + 1e-6
    # a quarter of float32's bytes
    assert len(base64.b64decode(spec["b64"])) == len(values)


def test_quantised_intensity_constant_and_non_finite() -> None:
    np.testing.assert_array_equal(dequantise_intensity(quantise_intensity(np.full(5, 0.7))), np.full(5, 0.7, np.float32))
    back = dequantise_intensity(quantise_intensity(np.array([0.0, np.nan, 1.0])))
    np.testing.assert_allclose(back, [0.0, 0.0, 1.0])


# --------------------------------------------------------------------------- split / reassemble
def test_split_then_assemble_gives_the_figure_back() -> None:
    verts, _ = _sphere(20)
    heat = np.clip(np.linspace(-0.2, 1.2, len(verts)), 0, 1)
    items = [_item("vertebra-l4"), _item("disc-l4-l5", "#B9D3E6", opacity=0.45, center=(0, 0, 30)),
             _item("root-l5-left", "#F5B700", intensity=heat, hover="L5 root: squeezed"),
             _item("hidden", visible=False)]
    figure = _figure(items, {"eye": {"x": 1.0, "y": 1.0, "z": 0.5}, "up": {"x": 0, "y": 0, "z": 1}})
    payload = split_figure(figure)
    _assert_round_trip(figure, payload)
    # the layout travels as plain JSON, equal to the figure's
    assert payload.scene["layout"] == json.loads(figure_to_json(figure))["layout"]


def test_style_payload_has_no_geometry_and_is_small() -> None:
    items = [_item(f"s{n}", resolution=40, center=(0, 0, 45 * n)) for n in range(4)]
    figure = _figure(items)
    payload = split_figure(figure)
    text = json.dumps(payload.scene)
    for trace in payload.scene["data"]:
        assert not set(GEOMETRY_KEYS) & set(trace)
        assert trace[GEOMETRY_REF_KEY] in payload.geometry
    assert len(text) < 0.05 * len(figure_to_json(figure))
    # plain JSON values only (CCv2 serialises with json.dumps and silently falls back to str())
    assert json.loads(text) == payload.scene


def test_style_change_keeps_geometry_keys_and_changes_scene_hash() -> None:
    a = split_figure(_figure([_item("vertebra-l4"), _item("disc", center=(0, 0, 40))]))
    b = split_figure(_figure([_item("vertebra-l4", "#00A6D6"), _item("disc", center=(0, 0, 40))]))
    same = split_figure(_figure([_item("vertebra-l4"), _item("disc", center=(0, 0, 40))]))
    assert a.geometry.keys() == b.geometry.keys() == same.geometry.keys()
    assert a.scene_hash != b.scene_hash
    assert a.scene_hash == same.scene_hash


def test_assemble_reports_missing_geometry() -> None:
    payload = split_figure(_figure([_item("a")]))
    with pytest.raises(KeyError):
        assemble_traces(payload.scene, {})


def test_non_mesh_and_list_traces_pass_through() -> None:
    import plotly.graph_objects as go

    figure = go.Figure([go.Scatter3d(x=[0, 1], y=[0, 1], z=[0, 1], name="line"),
                        go.Mesh3d(x=[0, 1, 0], y=[0, 0, 1], z=[0, 0, 0], i=[0], j=[1], k=[2], name="list mesh")])
    payload = split_figure(figure)
    assert payload.geometry == {}
    rebuilt = assemble_traces(payload.scene, payload.geometry)
    assert [t["name"] for t in rebuilt] == ["line", "list mesh"]
    assert rebuilt[1]["i"] == [0]


def test_real_scene_round_trip_healthy_and_herniation() -> None:
    from explorer.anatomy.model import load_model
    from explorer.conditions.simulate import simulate
    from explorer.render.model_scene import model_box, scene_items
    from explorer.state import ExplorerState

    model = load_model()
    box = model_box(model)
    params = (("level", "L4-L5"), ("severity", "moderate"), ("side", "left"), ("zone", "paracentral"))
    impact = simulate("herniation", dict(params), model)
    healthy = build_scene_figure(scene_items(model, ExplorerState(), None), None, box=box)
    sick = build_scene_figure(scene_items(model, ExplorerState(condition="herniation", params=params), impact),
                              None, box=box)
    p_healthy, p_sick = split_figure(healthy), split_figure(sick)
    _assert_round_trip(healthy, p_healthy)
    _assert_round_trip(sick, p_sick)
    # the condition adds the lesion's blob; every baked mesh is shared
    assert set(p_healthy.geometry) < set(p_sick.geometry)
    assert len(set(p_sick.geometry) - set(p_healthy.geometry)) == 1
    full = len(figure_to_json(sick))
    style = len(json.dumps(p_sick.scene))
    print(f"full figure {full} B, style {style} B")
    assert style < 60_000
    assert full > 1_000_000
    highlighted = [t for t in p_sick.scene["data"] if isinstance(t.get("intensity"), dict)]
    assert [t["meta"] for t in highlighted] == ["root-L5-left"]


# --------------------------------------------------------------------------- per-session record
class _FakeSessionState(dict):
    """Enough of st.session_state for the viewer (a dict; component state under the key)."""


@pytest.fixture()
def session(monkeypatch):
    state = _FakeSessionState()
    monkeypatch.setattr(viewer3d.st, "session_state", state)
    return state


def test_blobs_are_sent_once_per_session(session) -> None:
    first = split_figure(_figure([_item("a"), _item("b", center=(0, 0, 40))]))
    assert sorted(blobs_to_send("viewer", first)) == sorted(first.geometry)
    assert blobs_to_send("viewer", first) == []
    # a restyle needs nothing new; a new mesh (a lesion) is sent alone
    lesion = _item("lesion", center=(30, 0, 0))
    second = split_figure(_figure([_item("a", "#00A6D6"), _item("b", center=(0, 0, 40)), lesion]))
    assert blobs_to_send("viewer", second) == [k for k in second.geometry if k not in first.geometry]
    # another viewer key has its own record
    assert sorted(blobs_to_send("other", first)) == sorted(first.geometry)


def test_missing_request_resends_once(session) -> None:
    payload = split_figure(_figure([_item("a"), _item("b", center=(0, 0, 40))]))
    blobs_to_send("viewer", payload)
    lost = sorted(payload.geometry)[:1]
    session["viewer"] = {"missing": {"hashes": lost, "n": "1-5"}}
    assert blobs_to_send("viewer", payload) == lost
    # the same request (state values persist across reruns) is not handled twice
    assert blobs_to_send("viewer", payload) == []
    session["viewer"] = {"missing": {"hashes": lost, "n": "2-9"}}
    assert blobs_to_send("viewer", payload) == lost


def test_spine_viewer_sends_plain_json_in_a_list(session, monkeypatch) -> None:
    calls: list[dict[str, Any]] = []

    def fake_component(**kwargs: Any) -> dict[str, Any]:
        calls.append(kwargs)
        return {}

    monkeypatch.setattr(viewer3d, "_viewer_component", fake_component)
    monkeypatch.setattr(viewer3d, "_ensure_static_once", lambda: None)
    figure = _figure([_item("vertebra-l4"), _item("disc", center=(0, 0, 40))])
    camera = {"eye": {"x": np.float64(1.5), "y": 1.0, "z": 0.5}, "up": {"x": 0, "y": 0, "z": 1}}
    for _ in range(2):
        assert viewer3d.spine_viewer(figure, camera_request=camera, camera_request_id=3, key="viewer",
                                     height_px=640) is None
    first, second = (c["data"] for c in calls)
    # a list: CCv2 scans a top-level dict for dataframes (and imports pandas to do it)
    assert isinstance(first, list) and len(first) == 1
    assert json.loads(json.dumps(first)) == first  # json.dumps must not need a fallback
    assert set(first[0]["geometry"]) == set(split_figure(figure).geometry)
    assert second[0]["geometry"] == {}
    assert second[0]["sceneHash"] == first[0]["sceneHash"]
    assert first[0]["cameraRequest"]["eye"]["x"] == 1.5
    assert "on_missing_change" in calls[0]


def test_component_data_never_imports_pandas() -> None:
    """CCv2's serialiser only looks for dataframes in a top-level dict."""
    from streamlit.components.v2.bidi_component import serialization
    from streamlit.proto.BidiComponent_pb2 import BidiComponent

    had_pandas = "pandas" in sys.modules
    proto = BidiComponent()
    serialization.serialize_mixed_data([{"scene": {"data": []}, "config": {"a": 1}}], proto)
    assert proto.WhichOneof("data") == "json"
    if not had_pandas:
        assert "pandas" not in sys.modules


def test_javascript_placeholders_filled() -> None:
    assert "__" + "TOL__" not in viewer3d._JS_RENDERED
    for name in ("CACHE_LIMIT", "GEOMETRY_REF", "DEBOUNCE"):
        assert f"__{name}__" not in viewer3d._JS_RENDERED
    assert f'"{GEOMETRY_REF_KEY}"' in viewer3d._JS_RENDERED

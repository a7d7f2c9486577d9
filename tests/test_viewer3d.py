"""Tests for the 3D viewer's transport (explorer.ui.viewer3d): geometry sent once, style every rerun.

The browser side (explorer/frontend/*.js) is tested by ``node --test tests/js`` on JSON fixtures
written here (tests/js/fixtures/scene.json: what Python sends, and the figure's own arrays the
browser must rebuild from it); tests/e2e/test_viewer_perf.py drives the real browser.
"""

from __future__ import annotations

import base64
import json
import os
import re
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import pyvista as pv

from explorer.frontend import plotly_assets
from explorer.frontend.transport import (
    GEOMETRY_KEYS,
    GEOMETRY_REF_KEY,
    GeometryBlob,
    decode_frame,
    decode_wire,
    encode_frame,
    frame_blobs,
    pack_geometry,
    quantise_intensity,
    split_figure,
)
from explorer.render.scene3d import SceneItem, build_scene_figure, figure_to_json
from explorer.ui import viewer3d
from explorer.ui.viewer3d import blobs_to_send, viewer_settings

ROOT = Path(__file__).resolve().parents[1]
SCENE_FIXTURE = ROOT / "tests" / "js" / "fixtures" / "scene.json"
FRONTEND = ROOT / "explorer" / "frontend"


def _unpack(blob: GeometryBlob) -> dict[str, np.ndarray]:
    """Read a blob by its documented layout (the test's own reading, not the app's)."""
    n, m = blob.n_vertices, blob.n_faces
    idx = np.dtype("<u2") if blob.index_dtype == "u2" else np.dtype("<u4")
    points = np.frombuffer(blob.data, dtype="<f4", count=3 * n)
    faces = np.frombuffer(blob.data, dtype=idx, count=3 * m, offset=12 * n)
    out = {axis: points[c * n:(c + 1) * n] for c, axis in enumerate("xyz")}
    out.update({axis: faces[c * m:(c + 1) * m] for c, axis in enumerate("ijk")})
    return out


def _unquantise(spec: dict[str, Any]) -> np.ndarray:
    q = np.frombuffer(base64.b64decode(spec["b64"]), dtype=np.uint8)
    return spec["lo"] + q.astype(np.float64) * ((spec["hi"] - spec["lo"]) / 255.0)


def assemble_for_test(scene: dict[str, Any], cache: dict[str, GeometryBlob]) -> list[dict[str, Any]]:
    """Traces rebuilt from style + blobs by the documented format (the browser's job, tested in JS)."""
    out = []
    for style in scene["data"]:
        trace = dict(style)
        ref = trace.pop(GEOMETRY_REF_KEY, None)
        if ref is not None:
            trace.update(_unpack(cache[ref]))
        intensity = trace.get("intensity")
        if isinstance(intensity, dict) and intensity.get("quantised") == "u8":
            trace["intensity"] = _unquantise(intensity)
        out.append(trace)
    return out


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
    rebuilt = assemble_for_test(payload.scene, payload.geometry)
    assert len(rebuilt) == len(figure.data)
    for original, trace in zip(figure.data, rebuilt, strict=True):
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
            elif isinstance(value, float):
                assert _plain(got) == pytest.approx(_plain(value)), key
            else:
                assert _plain(got) == _plain(value), key


# --------------------------------------------------------------------------- packing
def test_pack_geometry_round_trip_and_alignment() -> None:
    verts, faces = _sphere(24)
    blob = pack_geometry(verts[:, 0], verts[:, 1], verts[:, 2], faces[:, 0], faces[:, 1], faces[:, 2])
    assert (blob.n_vertices, blob.n_faces, blob.index_dtype) == (len(verts), len(faces), "u2")
    assert len(blob.data) == 12 * len(verts) + 6 * len(faces)
    arrays = _unpack(blob)
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
    assert _unpack(blob)["k"][-1] == n - 1


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

def _zigzag_reference(values: list[int], bits: int) -> list[int]:
    """Delta + zigzag written out value by value (the documented coding, independent of numpy)."""
    out, prev, mod = [], 0, 1 << bits
    for v in values:
        d = (v - prev) % mod
        d = d - mod if d >= mod // 2 else d
        out.append(2 * d if d >= 0 else -2 * d - 1)
        prev = v
    return out


@pytest.mark.parametrize("width", [2, 4])
def test_delta_planes_layout_and_wraparound(width: int) -> None:
    from explorer.frontend.transport import delta_planes, undelta_planes

    top = (1 << (8 * width)) - 1
    values = [0, 5, 3, top, 0, top // 2, top // 2 + 1, 7, 7]
    body = delta_planes(values, width)
    assert len(body) == width * len(values)
    z = _zigzag_reference(values, 8 * width)
    # byte plane b holds byte b of every value, value after value
    for b in range(width):
        assert list(body[b * len(values):(b + 1) * len(values)]) == [(v >> (8 * b)) & 0xFF for v in z]
    assert undelta_planes(body, 0, len(values), width).tolist() == values


def test_wire_geometry_is_within_half_a_step_and_smaller() -> None:
    verts, faces = _sphere(40)
    blob = pack_geometry(verts[:, 0], verts[:, 1], verts[:, 2], faces[:, 0], faces[:, 1], faces[:, 2])
    spec, body = blob.wire
    assert spec["enc"] == "q16z" and spec["idx"] == "u2"
    assert len(body) == 6 * blob.n_vertices + 6 * blob.n_faces
    decoded = decode_wire(spec, body)
    for c, axis in enumerate("xyz"):
        span = float(verts[:, c].max() - verts[:, c].min())
        assert spec["step"][c] == pytest.approx(span / 65535)
        assert np.abs(decoded[axis] - verts[:, c]).max() <= span / 65535 / 2 + 1e-5
    for c, axis in enumerate("ijk"):
        assert np.array_equal(decoded[axis], faces[:, c])
    # what the websocket's deflate makes of it: well under the base64 of float32 it replaces
    import zlib

    def deflated(data: bytes) -> int:
        c = zlib.compressobj(6, zlib.DEFLATED, -15)
        return len(c.compress(data) + c.flush())
    assert deflated(body) < 0.6 * deflated(blob.to_payload()["b64"].encode())


def test_wire_geometry_flat_axis_and_uint32_indices() -> None:
    n = 70_000
    x = np.arange(n, dtype=np.float32) / 1000
    idx = np.array([0, n - 1, 5])
    blob = pack_geometry(x, np.full(n, 3.5, dtype=np.float32), x, idx, idx[::-1], idx)
    spec, body = blob.wire
    assert spec["idx"] == "u4" and spec["step"][1] == 0.0
    decoded = decode_wire(spec, body)
    assert np.all(decoded["y"] == np.float32(3.5))
    assert decoded["i"].tolist() == [0, n - 1, 5] and decoded["j"].tolist() == [5, n - 1, 0]


def test_frame_round_trip_and_alignment() -> None:
    verts, faces = _sphere(8)
    blobs = [pack_geometry(verts[:, 0], verts[:, 1], verts[:, 2] + dz, faces[:, 0], faces[:, 1], faces[:, 2])
             for dz in (0.0, 9.0)]
    specs, bodies = frame_blobs(blobs)
    frame = encode_frame({"geometry": specs, "text": "é ü"}, bodies)
    assert frame[:4] == b"LMB1"
    value, binary = decode_frame(frame)
    assert value["text"] == "é ü"
    assert (len(frame) - len(binary)) % 8 == 0
    for blob in blobs:
        spec = value["geometry"][blob.key]
        assert binary[spec["off"]:spec["off"] + spec["len"]] == blob.wire[1]
    with pytest.raises(ValueError, match="not a component frame"):
        decode_frame(b"{}")

def test_quantised_intensity_keeps_the_ends_and_is_close() -> None:
    values = np.linspace(0.0, 1.0, 1001) ** 2
    spec = quantise_intensity(values)
    back = _unquantise(spec)
    assert back[0] == 0.0 and back[-1] == pytest.approx(1.0)
    assert np.max(np.abs(back - values)) <= 0.5 / 255 + 1e-6
    # a quarter of float32's bytes
    assert len(base64.b64decode(spec["b64"])) == len(values)


def test_quantised_intensity_constant_and_non_finite() -> None:
    np.testing.assert_allclose(_unquantise(quantise_intensity(np.full(5, 0.7))), np.full(5, 0.7))
    back = _unquantise(quantise_intensity(np.array([0.0, np.nan, 1.0])))
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
        assemble_for_test(payload.scene, {})


def test_non_mesh_and_list_traces_pass_through() -> None:
    import plotly.graph_objects as go

    figure = go.Figure([go.Scatter3d(x=[0, 1], y=[0, 1], z=[0, 1], name="line"),
                        go.Mesh3d(x=[0, 1, 0], y=[0, 0, 1], z=[0, 0, 0], i=[0], j=[1], k=[2], name="list mesh")])
    payload = split_figure(figure)
    assert payload.geometry == {}
    rebuilt = assemble_for_test(payload.scene, payload.geometry)
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
    # Every nerve carries an intensity array (zeros while healthy: stable trace uids, scene3d.trace_uid);
    # only the squeezed root's is lit, its neighbours' stay at zero.
    lit = [t.meta for t in sick.data if t.type == "mesh3d" and t.intensity is not None and np.max(t.intensity) > 0]
    assert [m for m in lit if str(m).startswith("root-")] == ["root-L5-left"]


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


def test_spine_viewer_sends_one_binary_frame(session, monkeypatch) -> None:
    calls: list[dict[str, Any]] = []

    def fake_component(**kwargs: Any) -> dict[str, Any]:
        calls.append(kwargs)
        return {}

    monkeypatch.setattr(viewer3d, "_viewer_component", fake_component)
    monkeypatch.setattr(viewer3d, "ensure_plotly_static_once", lambda: None)
    figure = _figure([_item("vertebra-l4"), _item("disc", center=(0, 0, 40))])
    camera = {"eye": {"x": np.float64(1.5), "y": 1.0, "z": 0.5}, "up": {"x": 0, "y": 0, "z": 1}}
    for _ in range(2):
        assert viewer3d.spine_viewer(figure, camera_request=camera, camera_request_id=3, key="viewer",
                                     height_px=640) is None
    # bytes: Streamlit passes them through (a list or dict is json.dumps-ed twice per rerun)
    assert all(isinstance(c["data"], bytes) for c in calls)
    (first, first_bin), (second, second_bin) = (decode_frame(c["data"]) for c in calls)
    payload = split_figure(figure)
    assert set(first["geometry"]) == set(payload.geometry)
    for key, spec in first["geometry"].items():
        assert first_bin[spec["off"]:spec["off"] + spec["len"]] == payload.geometry[key].wire[1]
    assert second["geometry"] == {} and second_bin == b""
    assert second["sceneHash"] == first["sceneHash"]
    assert first["cameraRequest"]["eye"]["x"] == 1.5
    assert "on_missing_change" in calls[0]
    assert first["scrollRequestId"] == 0
    assert first["settings"] == viewer_settings()
    assert first["config"] == viewer3d.PLOTLY_CONFIG
    assert first["height"] == 640 and first["key"] == "viewer"
    viewer3d.spine_viewer(figure, camera_request=camera, camera_request_id=3, key="viewer", height_px=640,
                          scroll_request_id=7)
    assert decode_frame(calls[-1]["data"])[0]["scrollRequestId"] == 7


def test_bytes_reach_the_component_as_they_are() -> None:
    """CCv2 forwards ``bytes`` as its ``bytes`` field (no JSON, no dataframe scan)."""
    from streamlit.proto.BidiComponent_pb2 import BidiComponent

    proto = BidiComponent()
    proto.bytes = encode_frame({"a": 1})
    assert proto.WhichOneof("data") == "bytes"


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


# --------------------------------------------------------------------------- what the JS is given
def _fixture_scene() -> dict[str, Any]:
    """The scene fixture for tests/js: Python's payload and the figure's own arrays."""
    verts, _ = _sphere(6)
    heat = np.linspace(0.0, 1.0, len(verts)) ** 2
    items = [_item("vertebra-l4", resolution=6), _item("disc-l4-l5", "#B9D3E6", resolution=5, center=(0, 0, 30),
                                                        opacity=0.45),
             _item("root-l5-left", "#F5B700", resolution=6, intensity=heat)]
    figure = _figure(items, {"eye": {"x": 1.0, "y": 1.0, "z": 0.5}, "up": {"x": 0, "y": 0, "z": 1}})
    payload = split_figure(figure)
    expected = []
    for trace in figure.data:
        props = trace.to_plotly_json()
        entry: dict[str, Any] = {"name": props["name"], "meta": props.get("meta")}
        for axis in GEOMETRY_KEYS:
            entry[axis] = np.asarray(props[axis]).astype(np.float64 if axis in "xyz" else np.int64).tolist()
            if axis in "xyz":  # what float32 keeps
                entry[axis] = np.asarray(props[axis], dtype=np.float32).astype(np.float64).tolist()
        if props.get("intensity") is not None:
            values = np.asarray(props["intensity"], dtype=np.float64)
            entry["intensity"] = values.tolist()
            entry["intensityTolerance"] = float((values.max() - values.min()) / 255 / 2 + 1e-6)
        expected.append(entry)
    # The binary frame the viewer sends now (quantised geometry, explorer.frontend.transport), and
    # what it must decode to: the figure's own points within half a quantisation step (checked
    # here against the figure, not against the app's decoder), and exactly the float32 values
    # lo + q * step that Python's reading of the documented coding gives.
    specs, bodies = frame_blobs(payload.geometry.values())
    frame = encode_frame({"scene": payload.scene, "geometry": specs, "key": "viewer"}, bodies)
    wire_expected: dict[str, Any] = {}
    for key, blob in payload.geometry.items():
        spec, body = blob.wire
        decoded = decode_wire(spec, body)
        raw = _unpack(blob)
        for c, axis in enumerate("xyz"):
            assert np.abs(decoded[axis].astype(np.float64) - raw[axis]).max() <= spec["step"][c] / 2 + 1e-4
        for axis in "ijk":
            assert np.array_equal(decoded[axis], raw[axis])
        wire_expected[key] = {a: decoded[a].astype(np.float64).tolist() if a in "xyz" else decoded[a].tolist()
                              for a in GEOMETRY_KEYS}
    return {
        "refKey": GEOMETRY_REF_KEY,
        "payload": {"scene": payload.scene, "geometry": payload.geometry_payload()},
        "expected": expected,
        "frame": base64.b64encode(frame).decode("ascii"),
        "wireExpected": wire_expected,
    }


def _rounded(value: Any) -> Any:
    if isinstance(value, float):
        return float(f"{value:.12g}")
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_rounded(v) for v in value]
    return value


def test_js_scene_fixture_is_what_python_sends() -> None:
    """tests/js/fixtures/scene.json must be today's format (LUMBAR_UPDATE_FIXTURES=1 rewrites it)."""
    fixture = _fixture_scene()
    text = json.dumps(fixture, indent=1, sort_keys=True) + "\n"
    if os.environ.get("LUMBAR_UPDATE_FIXTURES") == "1":
        SCENE_FIXTURE.parent.mkdir(parents=True, exist_ok=True)
        SCENE_FIXTURE.write_text(text)
    assert SCENE_FIXTURE.is_file(), "run LUMBAR_UPDATE_FIXTURES=1 python -m pytest tests/test_viewer3d.py"
    # Floats compared to 12 significant digits: numpy builds differ in the last bit of the aspect
    # ratio (1.0 vs 1.0000000000000002), which is no change of format.
    assert _rounded(json.loads(SCENE_FIXTURE.read_text())) == _rounded(json.loads(text)), (
        "the viewer's payload format changed: LUMBAR_UPDATE_FIXTURES=1 python -m pytest tests/test_viewer3d.py, "
        "then node --test tests/js")
    # the fixture exercises what the browser must handle: blobs and one quantised intensity
    traces = fixture["payload"]["scene"]["data"]
    assert all(GEOMETRY_REF_KEY in t for t in traces)
    assert sum(isinstance(t.get("intensity"), dict) for t in traces) == 1


def test_every_setting_the_javascript_reads_is_sent() -> None:
    """``d.settings.X`` / ``s.X`` in viewer3d.js must be keys of :func:`viewer_settings` (plain JSON)."""
    source = (FRONTEND / "viewer3d.js").read_text()
    read = set(re.findall(r"\bsettings\.([A-Za-z]+)", source)) | set(re.findall(r"\bs\.([A-Za-z]+)", source))
    settings = viewer_settings()
    assert read, "the viewer reads its settings from data"
    assert read <= set(settings), f"JS reads settings Python does not send: {sorted(read - set(settings))}"
    assert json.loads(json.dumps(settings)) == settings
    lo, hi = settings["zoomLimits"]
    assert 0 < lo < 1.8 < hi  # the preset views (eye at about 1.8) sit inside the zoom limits


def test_no_script_text_in_python() -> None:
    """The JavaScript lives in explorer/frontend/, not in Python strings spliced with str.replace."""
    for path in (ROOT / "explorer" / "ui" / "viewer3d.py", ROOT / "explorer" / "ui" / "chart2d.py",
                 *FRONTEND.glob("*.py")):
        source = path.read_text()
        assert "export default function" not in source
        assert ".replace(\"__" not in source


def test_plotly_js_version_is_read_from_the_served_file() -> None:
    """The browser guards its workarounds on this version before Plotly has loaded (see
    tests/js/gl_workarounds.test.js for the check that it is the version they were written for)."""
    from explorer.render.scene3d import plotly_js_path

    version = plotly_assets.plotly_js_version()
    assert re.fullmatch(r"\d+\.\d+\.\d+\S*", version), version
    assert f"plotly.js v{version}" in plotly_js_path().read_bytes()[:400].decode("latin1")
    written_for = re.search(r'WRITTEN_FOR_PLOTLY = "([^"]+)"', (FRONTEND / "gl_workarounds.js").read_text())
    assert written_for is not None and written_for.group(1) == version


def test_workarounds_switched_off_by_the_environment(monkeypatch) -> None:
    monkeypatch.delenv(plotly_assets.NO_WORKAROUNDS_ENV, raising=False)
    assert plotly_assets.workarounds_off() == []
    monkeypatch.setenv(plotly_assets.NO_WORKAROUNDS_ENV, " fastValidityChecks, liveCamera ,")
    assert plotly_assets.workarounds_off() == ["fastValidityChecks", "liveCamera"]
    assert viewer_settings()["workaroundsOff"] == ["fastValidityChecks", "liveCamera"]
    # every id named in gl_workarounds.js's WORKAROUNDS table can be switched off from here
    ids = re.findall(r"^  ([a-zA-Z]+): \"", (FRONTEND / "gl_workarounds.js").read_text(), flags=re.M)
    assert {"readbackCanvases", "fastValidityChecks", "liveCamera", "pngAtDoubleResolution", "zoomLimits",
            "meshUpdateMemo", "cssSafeUids", "fastArrayAttributes", "reuseProgramLinks", "deferPickPass",
            "depthPrepassPick", "seeThroughVertexLit"} == set(ids)


def test_not_installed_project_shows_a_message_not_a_traceback(monkeypatch) -> None:
    """Without ``pip install -e .`` Streamlit knows no asset_dir and refuses file-backed JS."""
    from streamlit.errors import StreamlitAPIException

    import explorer.frontend as frontend

    shown: list[str] = []

    def refuse(*_args: Any, **_kwargs: Any) -> Any:
        raise StreamlitAPIException("Component 'explorer.viewer3d' must be declared in pyproject.toml with asset_dir")

    monkeypatch.setattr(frontend.st.components.v2, "component", refuse)
    monkeypatch.setattr(frontend.st, "error", shown.append)
    component = frontend.AssetComponent("viewer3d", js="viewer3d.js", css="viewer3d.css")
    assert component(key="viewer", data=[{}]) == {}
    assert shown == [frontend.NOT_INSTALLED_TEXT]
    assert "pip install -r requirements.txt" in shown[0]
    with pytest.raises(FileNotFoundError, match=r"no-such\.js"):
        frontend.AssetComponent("viewer3d", js="no-such.js", css="viewer3d.css")

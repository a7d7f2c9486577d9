"""Broken, hostile and shared asset files (issue 14): a bad file is rebuilt with a message naming it,
never fatal; writes are atomic; a read-only folder rebuilds once; two processes build once.

Every test builds its meshes with a cheap stand-in builder (a sphere) in a temporary folder, and
sets ``XDG_CACHE_HOME`` to a temporary folder, so nothing here touches ``assets/models`` or the
user's cache. Loads that could kill the process (before the fix, a file claiming 2,100,000,000
points made VTK abort) run in a child process.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import random
import re
import shutil
import subprocess
import sys
import time
import zlib
from pathlib import Path
from xml.etree import ElementTree

import numpy as np
import pytest
import pyvista as pv

from explorer import settings
from explorer.anatomy import model as model_module
from explorer.anatomy.model import MeshData, load_model, read_manifest
from explorer.anatomy.structures import STRUCTURES

REPO = Path(__file__).resolve().parents[1]

# A child process: load the folder in argv[1] with the stand-in builder (each build sleeps
# argv[2] seconds, to widen race windows), print what was built and said as JSON.
LOADER = """
import json, sys, time
from pathlib import Path
import pyvista as pv
import explorer.anatomy.model as m
calls = []
def fake_build(sid):
    calls.append(sid)
    time.sleep(float(sys.argv[2]))
    return pv.Sphere(radius=5.0).triangulate()
m.build_structure = fake_build
model = m.load_model(Path(sys.argv[1]))
print(json.dumps({"calls": calls, "messages": list(model.messages), "n": len(model.meshes)}))
"""


def _sphere(sid: str) -> pv.PolyData:
    return pv.Sphere(radius=5.0).triangulate()


@pytest.fixture()
def baked(tmp_path, monkeypatch):
    """A folder baked with the stand-in builder; returns it and the list of later builds."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    calls: list[str] = []

    def fake_build(sid: str) -> pv.PolyData:
        calls.append(sid)
        return _sphere(sid)

    monkeypatch.setattr(model_module, "build_structure", fake_build)
    models = tmp_path / "models"
    model_module.bake(models, log=lambda line: None)
    calls.clear()
    return models, calls


def _set_file(models: Path, sid: str, data: bytes) -> None:
    """Replace a mesh file and give the manifest its new hash (the file 'matches' the manifest)."""
    (models / f"{sid}.vtp").write_bytes(data)
    manifest_path = models / settings.MANIFEST_NAME
    manifest = json.loads(manifest_path.read_text())
    manifest["structures"][sid]["sha256"] = hashlib.sha256(data).hexdigest()
    manifest_path.write_text(json.dumps(manifest))


def _array(values: np.ndarray) -> str:
    """A VTK XML inline binary array: base64 block table, then base64 of the zlib blocks."""
    raw = values.tobytes()
    blocks = [raw[i:i + 32768] for i in range(0, len(raw), 32768)] or [b""]
    packed = [zlib.compress(b) for b in blocks]
    table = np.array([len(blocks), 32768, len(blocks[-1]), *map(len, packed)], "<u4").tobytes()
    return base64.b64encode(table).decode() + base64.b64encode(b"".join(packed)).decode()


def _vtp(points: np.ndarray, triangles: np.ndarray, n_points: int | None = None, n_polys: int | None = None,
         prolog: str = "") -> bytes:
    """A VTK XML PolyData file written by hand, so its header can say anything."""
    conn = np.asarray(triangles, "<i8").ravel()
    offsets = np.arange(3, len(conn) + 1, 3, dtype="<i8")
    n_points = len(points) if n_points is None else n_points
    n_polys = len(offsets) if n_polys is None else n_polys
    return f"""<?xml version="1.0"?>{prolog}
<VTKFile type="PolyData" version="0.1" byte_order="LittleEndian" header_type="UInt32"
         compressor="vtkZLibDataCompressor">
  <PolyData>
    <Piece NumberOfPoints="{n_points}" NumberOfVerts="0" NumberOfLines="0" NumberOfStrips="0" NumberOfPolys="{n_polys}">
      <Points>
        <DataArray type="Float64" Name="Points" NumberOfComponents="3" format="binary">
          {_array(np.asarray(points, "<f8").ravel())}
        </DataArray>
      </Points>
      <Polys>
        <DataArray type="Int64" Name="connectivity" format="binary">
          {_array(conn)}
        </DataArray>
        <DataArray type="Int64" Name="offsets" format="binary">
          {_array(offsets)}
        </DataArray>
      </Polys>
    </Piece>
  </PolyData>
</VTKFile>
""".encode()


def _triangles() -> tuple[np.ndarray, np.ndarray]:
    sphere = pv.Sphere(radius=7.0).triangulate()
    return np.asarray(sphere.points, float), np.asarray(sphere.faces).reshape(-1, 4)[:, 1:]


def _load_in_child(models: Path, cache_home: Path, delay: float = 0.0, unprivileged: bool = False,
                   wait: bool = True) -> dict | subprocess.Popen:
    """Run :data:`LOADER` on ``models`` in a child process (without root's file-permission override
    if ``unprivileged``: chmod then binds for root too)."""
    prefix: list[str] = []
    if unprivileged and os.geteuid() == 0:
        if shutil.which("setpriv") is None:
            pytest.skip("running as root without setpriv: root reads and writes any file regardless of chmod")
        prefix = ["setpriv", "--bounding-set=-dac_override,-dac_read_search"]
    env = {**os.environ, "XDG_CACHE_HOME": str(cache_home), "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen([*prefix, sys.executable, "-c", LOADER, str(models), str(delay)], cwd=REPO, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if not wait:
        return proc
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, f"the loading process died (exit {proc.returncode}): {err[-2000:]}"
    return json.loads(out.strip().splitlines()[-1])


# --- hostile files --------------------------------------------------------------------------------


def test_hand_written_file_is_a_valid_mesh(baked):
    """The test's own VTP writer makes files the loader accepts (so the faults below are the only difference)."""
    models, calls = baked
    points, triangles = _triangles()
    _set_file(models, "vertebra-L1", _vtp(points, triangles))
    assert pv.read(models / "vertebra-L1.vtp").n_cells == len(triangles)
    model = load_model(models)
    assert calls == [] and model.messages == ()
    assert model.mesh("vertebra-L1").n_triangles == len(triangles)
    np.testing.assert_allclose(model.mesh("vertebra-L1").vertices, points, atol=1e-5)


HOSTILE = {  # structure -> (file bytes given points and triangles, words the message must hold)
    "vertebra-L1": (lambda p, t: _vtp(p, t, n_points=2_100_000_000), ["2,100,000,000 points"]),
    "vertebra-L2": (lambda p, t: _vtp(p, t, n_polys=2_100_000_000), ["2,100,000,000 polygons"]),
    "vertebra-L3": (lambda p, t: _vtp(p, np.where(t == 0, 10**9, t)), ["outside"]),
    "vertebra-L4": (lambda p, t: _vtp(np.where(p > 6.0, np.nan, p), t), ["not finite"]),
    "vertebra-L5": (lambda p, t: _vtp(p, t, prolog='<!DOCTYPE l [<!ENTITY a "aaaaaaaaaa">]>'), ["<!"]),
    "disc-L1-L2": (lambda p, t: _vtp(p, t, n_points=len(p) + 1), ["Points", "block table"]),
}


def test_hostile_files_with_matching_hashes_are_rebuilt_not_fatal(baked, tmp_path):
    """Before: the 2,100,000,000-point file made VTK throw bad_alloc and abort the whole process."""
    models, _ = baked
    points, triangles = _triangles()
    for sid, (make, _) in HOSTILE.items():
        _set_file(models, sid, make(points, triangles))
    result = _load_in_child(models, tmp_path / "cache")
    assert result["n"] == len(STRUCTURES)
    assert sorted(result["calls"]) == sorted(HOSTILE)
    for sid, (_, words) in HOSTILE.items():
        said = [m for m in result["messages"] if f"{sid}.vtp" in m]
        assert said, f"no message names {sid}.vtp: {result['messages']}"
        for word in words:
            assert word in said[0], f"{sid}: {word!r} not in {said[0]!r}"
    assert load_model(models).messages == ()  # rebuilt and saved


def test_random_damage_never_escapes(baked):
    """A bounded fuzz (60 cases; set FUZZ_CASES for a longer run): damaged files with matching
    hashes either load as valid meshes or are rebuilt, never an exception or a crash."""
    models, calls = baked
    rng = random.Random(14)
    good = (models / "root-L5-left.vtp").read_bytes()
    for case in range(int(os.environ.get("FUZZ_CASES", "60"))):
        data = bytearray(good)
        for _ in range(rng.randint(1, 4)):
            how, at = rng.randrange(4), rng.randrange(len(data))
            if how == 0:
                data[at] = rng.randrange(256)
            elif how == 1:
                del data[at:at + rng.randint(1, 200)]
            elif how == 2:
                data[at:at] = rng.choice([b"9999999999", b"<", b"\x00", b'"', b"-1", b"=="])
            else:  # a count in the header changed to something absurd
                name = rng.choice(["NumberOfPoints", "NumberOfPolys", "NumberOfComponents", "NumberOfStrips"])
                value = rng.choice([0, 1, -1, 2**31, 2**32 + 5, 10**11, 2_100_000_000])
                data = bytearray(re.sub(rf'{name}="[^"]*"'.encode(), f'{name}="{value}"'.encode(), bytes(data),
                                        count=1))
        _set_file(models, "root-L5-left", bytes(data))
        calls.clear()
        model = load_model(models, save_rebuilt=False)
        mesh = model.mesh("root-L5-left")
        assert mesh.n_triangles > 0 and np.isfinite(mesh.vertices).all(), case
        assert mesh.faces.min() >= 0 and mesh.faces.max() < len(mesh.vertices), case
        assert calls in ([], ["root-L5-left"]), case
        assert bool(calls) == any("root-L5-left.vtp" in m for m in model.messages), (case, model.messages)


# --- wrong manifest entries, directories, unreadable files ---------------------------------------


@pytest.mark.parametrize("entry", [["not", "an", "object"], "abc", 3, {"sha256": 12}])
def test_manifest_entry_of_the_wrong_type_is_rebuilt(baked, entry):
    """Before: AttributeError ('list' object has no attribute 'get') out of load_model."""
    models, calls = baked
    manifest = json.loads((models / settings.MANIFEST_NAME).read_text())
    manifest["structures"]["sacrum"] = entry
    (models / settings.MANIFEST_NAME).write_text(json.dumps(manifest))
    model = load_model(models)
    assert calls == ["sacrum"]
    assert any("sacrum" in m and "manifest entry" in m for m in model.messages), model.messages
    manifest, problem = read_manifest(models)
    assert problem is None and isinstance(manifest["structures"]["sacrum"], dict)  # healed
    assert load_model(models).messages == ()


def test_odd_fields_in_a_kept_entry_do_not_break_saving(baked):
    """Before: TypeError from summing 'many' into the manifest's total when another mesh was rebuilt."""
    models, calls = baked
    manifest = json.loads((models / settings.MANIFEST_NAME).read_text())
    manifest["structures"]["sacrum"].update(triangles="many", bytes=None, file=["x"])
    (models / settings.MANIFEST_NAME).write_text(json.dumps(manifest))
    (models / "conus-medullaris.vtp").unlink()
    model = load_model(models)
    assert calls == ["conus-medullaris"] and model.mesh("sacrum").n_triangles > 0
    saved = json.loads((models / settings.MANIFEST_NAME).read_text())
    assert saved["structures"]["sacrum"]["triangles"] == model.mesh("sacrum").n_triangles
    assert saved["total_triangles"] == model.n_triangles


def test_cli_check_models_names_a_bad_manifest_entry_without_a_traceback(baked):
    """Before: exit code 1 and a traceback. The real builder rebuilds the one mesh (not saved)."""
    models, _ = baked
    manifest = json.loads((models / settings.MANIFEST_NAME).read_text())
    manifest["structures"]["nucleus-L4-L5"] = ["wrong"]
    (models / settings.MANIFEST_NAME).write_text(json.dumps(manifest))
    run = subprocess.run([sys.executable, "-m", "explorer", "check-models", "--models-dir", str(models), "--no-save"],
                         cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)}, capture_output=True, text=True,
                         timeout=300, check=False)
    assert run.returncode == 0, run.stderr[-2000:]
    assert "Traceback" not in run.stderr + run.stdout
    assert "nucleus-L4-L5" in run.stdout and "manifest entry" in run.stdout


def test_mesh_path_that_is_a_directory_is_rebuilt(baked):
    """Before: IsADirectoryError out of load_model (a traceback in the page)."""
    models, calls = baked
    (models / "femur-left.vtp").unlink()
    (models / "femur-left.vtp").mkdir()
    model = load_model(models)
    assert calls == ["femur-left"]
    assert any("femur-left.vtp is a directory" in m for m in model.messages), model.messages
    assert any("Could not save femur-left" in m and "IsADirectoryError" in m for m in model.messages), model.messages
    assert model.mesh("femur-left").n_triangles > 0


def test_mesh_path_that_is_a_pipe_is_rebuilt(baked, tmp_path):
    """Before: reading the pipe to hash it blocked for ever (the child is given 60 s)."""
    models, _ = baked
    (models / "femur-right.vtp").unlink()
    os.mkfifo(models / "femur-right.vtp")
    proc = _load_in_child(models, tmp_path / "cache", wait=False)
    try:
        out, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 0, err[-2000:]
    result = json.loads(out.strip().splitlines()[-1])
    assert result["calls"] == ["femur-right"]
    assert any("femur-right.vtp is not a regular file" in m for m in result["messages"]), result["messages"]


def test_unreadable_mesh_file_is_rebuilt(baked, tmp_path):
    """Before: PermissionError out of load_model."""
    models, _ = baked
    path = models / "piriformis-left.vtp"
    path.chmod(0)
    try:
        result = _load_in_child(models, tmp_path / "cache", unprivileged=True)
    finally:
        path.chmod(0o644)
    assert "piriformis-left" in result["calls"]
    assert any("piriformis-left.vtp cannot be read (PermissionError" in m for m in result["messages"]), \
        result["messages"]


def test_oversized_manifest_and_deep_json_are_reported(baked):
    models, calls = baked
    (models / settings.MANIFEST_NAME).write_text("[" * 100_000 + "]" * 100_000)
    model = load_model(models, save_rebuilt=False)
    assert len(calls) == len(STRUCTURES) and any("unreadable" in m for m in model.messages)


# --- atomic writes, read-only folders, two processes ----------------------------------------------


def test_interrupted_write_leaves_the_old_file_whole(baked, monkeypatch):
    """A write that dies after the data is out but before the rename changes nothing on disk.

    Before: the mesh was written in place, so a kill mid-write left half a file.
    """
    models, _ = baked
    (models / "conus-medullaris.vtp").unlink()
    before = {p.name: p.read_bytes() for p in models.iterdir() if not p.name.startswith(".")}

    def killed(src: object, dst: object) -> None:
        raise KeyboardInterrupt("killed mid-rebuild")

    monkeypatch.setattr(os, "replace", killed)
    with pytest.raises(KeyboardInterrupt):
        load_model(models)
    after = {p.name: p.read_bytes() for p in models.iterdir() if not p.name.startswith(".")}
    assert after == before
    assert not [p for p in models.iterdir() if p.name.startswith(".tmp-")]  # temporary files cleaned up


def test_read_only_folder_rebuilds_once_then_uses_the_user_cache(baked, tmp_path):
    """Before: every start rebuilt every mesh (30-50 s with the real builders)."""
    models, _ = baked
    manifest = json.loads((models / settings.MANIFEST_NAME).read_text())
    manifest["fingerprint"] = "0" * 64  # stale, and the folder cannot be written
    (models / settings.MANIFEST_NAME).write_text(json.dumps(manifest))
    cache = tmp_path / "cache"
    cache.mkdir()
    models.chmod(0o555)
    try:
        first = _load_in_child(models, cache, unprivileged=True)
        second = _load_in_child(models, cache, unprivileged=True)
    finally:
        models.chmod(0o755)
    assert sorted(first["calls"]) == sorted(STRUCTURES)
    assert any("cache" in m for m in first["messages"]), first["messages"]
    assert second["calls"] == [] and second["n"] == len(STRUCTURES)
    assert any("rebuilt earlier" in m for m in second["messages"]), second["messages"]


def test_two_processes_rebuilding_one_folder_build_once(baked, tmp_path):
    """Before: both built every mesh and wrote over each other's files."""
    models, _ = baked
    (models / settings.MANIFEST_NAME).unlink()  # everything must be rebuilt
    procs = [_load_in_child(models, tmp_path / "cache", delay=0.05, wait=False) for _ in range(2)]
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err[-2000:]
        results.append(json.loads(out.strip().splitlines()[-1]))
    assert sorted(len(r["calls"]) for r in results) == [0, len(STRUCTURES)], [r["calls"] for r in results]
    assert all(r["n"] == len(STRUCTURES) for r in results)
    assert load_model(models).messages == ()


def test_fresh_folder_loads_quickly(baked):
    """The usual start reads the files with no lock and no cache; it must stay fast."""
    models, _ = baked
    load_model(models)
    started = time.perf_counter()
    model = load_model(models)
    assert model.messages == () and time.perf_counter() - started < 2.0


BAKER = """
import sys
from pathlib import Path
import pyvista as pv
import explorer.anatomy.model as m
m.build_structure = lambda sid: pv.Sphere(radius=5.0, theta_resolution=300, phi_resolution=300).triangulate()
m.bake(Path(sys.argv[1]), log=lambda line: print(line, flush=True))
"""


def test_killed_bake_leaves_no_half_written_file(baked):
    """Kill a bake (SIGKILL, no clean-up possible) while it writes large files, three times.

    Every mesh file left is whole XML and the manifest is whole JSON. Before: files were written
    in place, so a kill mid-write left a truncated mesh (and a kill during the manifest, no manifest).
    """
    models, _ = baked
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    rng = random.Random(7)
    for _ in range(3):
        proc = subprocess.Popen([sys.executable, "-c", BAKER, str(models)], cwd=REPO, env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        for _ in range(rng.randint(2, 6)):  # let a few files be written, then kill at an odd moment
            proc.stdout.readline()
        time.sleep(rng.uniform(0.0, 0.2))
        proc.kill()
        proc.wait()
        proc.stdout.close()
        for path in models.glob("*.vtp"):
            try:
                ElementTree.parse(path)
            except ElementTree.ParseError as exc:
                pytest.fail(f"{path.name} was left half-written by the killed bake ({exc})")
        json.loads((models / settings.MANIFEST_NAME).read_text())


# --------------------------------------------------------------------------- stored states
# explorer/render/state_cache.py: one file per registry state next to the meshes. The same rules: a bad
# file is computed again (and rewritten by the next build), never fatal, and nothing is decoded before
# its sizes are checked.

STATE = ("herniation", {"level": "L4-L5", "zone": "paracentral", "side": "left", "severity": "moderate"})


@pytest.fixture(scope="module")
def real_model():
    return load_model(save_rebuilt=False)


@pytest.fixture(scope="module")
def good_state(real_model):
    from explorer.render import state_cache

    return state_cache.entry_bytes(state_cache.compute(real_model, *STATE), real_model)


def _split_state(data: bytes) -> tuple[dict, bytes]:
    from explorer.render.state_cache import MAGIC

    n = int(data[len(MAGIC):len(MAGIC) + 10])
    start = len(MAGIC) + 11
    return json.loads(data[start:start + n]), data[start + n:]


def _join_state(header: dict, body: bytes) -> bytes:
    from explorer.render.state_cache import MAGIC

    head = json.dumps(header).encode()
    return MAGIC + f"{len(head):010d}\n".encode() + head + body


@pytest.fixture()
def state_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    folder = tmp_path / "states"
    folder.mkdir()
    return folder


def _refused(real_model, state_dir: Path, data: bytes | None, reason: str) -> None:
    """The file is refused with ``reason`` in the message; the page still gets the right impact."""
    from explorer.render import state_cache

    path = state_dir / state_cache.file_name(*STATE)
    if data is not None:
        path.write_bytes(data)
    entry, why = state_cache.lookup(real_model, *STATE, states_dir=state_dir)
    assert entry is None and why is not None and reason in why, why
    impact = state_cache.impact(*STATE, real_model, state_dir)  # simulated instead, never raises
    assert [(c.id, c.degree) for c in impact.compressed] == [(c.id, c.degree) for c in
                                                            state_cache.compute(real_model, *STATE).impact.compressed]


def test_a_good_state_file_is_used(real_model, state_dir, good_state):
    from explorer.render import state_cache

    (state_dir / state_cache.file_name(*STATE)).write_bytes(good_state)
    entry, why = state_cache.lookup(real_model, *STATE, states_dir=state_dir)
    assert why is None and entry is not None and entry.impact.roots


def test_state_file_from_other_code_or_meshes_is_stale(real_model, state_dir, good_state, monkeypatch):
    from explorer.render import state_cache

    header, body = _split_state(good_state)
    header["fingerprint"] = "0" * 64  # made by other code, libraries or meshes
    _refused(real_model, state_dir, _join_state(header, body), "stale")
    # The fingerprint covers the model's meshes: the same code with one vertex moved is stale too.
    moved = {sid: MeshData(m.vertices.copy(), m.faces) for sid, m in real_model.meshes.items()}
    moved["vertebra-L4"].vertices[0, 0] += 0.01
    other = type(real_model)(moved)
    assert other.digest != real_model.digest
    assert state_cache.fingerprint(other) != state_cache.fingerprint(real_model)


def test_state_file_of_another_state_is_refused(real_model, state_dir, good_state):
    header, body = _split_state(good_state)
    header["params"] = [["level", "L5-S1"], *header["params"][1:]]
    _refused(real_model, state_dir, _join_state(header, body), "another state")


@pytest.mark.parametrize(("change", "reason"), [
    (lambda h: h["arrays"].__setitem__(0, {"dtype": "<f8", "shape": [2_000_000_000, 3]}), "bad shape"),
    (lambda h: h["arrays"].__setitem__(0, {"dtype": "|O", "shape": [3]}), "type this reader refuses"),
    (lambda h: h.__setitem__("arrays", [{"dtype": "<f8", "shape": [1_000_000, 3]}] * 8), "more than"),
    (lambda h: h.__setitem__("array_bytes", h["array_bytes"] + 8), "do not add up"),
    (lambda h: h.__setitem__("sha256", "0" * 64), "hash"),
    (lambda h: h["compressed"][0].__setitem__("id", "no-such-structure"), "not in the model"),
    (lambda h: h["lesion"]["compressors"][0].__setitem__(1, 99), "malformed"),
    (lambda h: h["story"].__setitem__("direction", "from-under-the-floor"), "unknown"),
    (lambda h: h["compressed"][0].__setitem__("degree", "lots"), "finite number"),
])
def test_hostile_state_headers_are_refused_before_decoding(real_model, state_dir, good_state, change, reason):
    header, body = _split_state(good_state)
    change(header)
    _refused(real_model, state_dir, _join_state(header, body), reason)


def test_state_zlib_bomb_is_refused(real_model, state_dir, good_state):
    """Arrays that inflate past their declared size stop at the declared size plus one byte."""
    header, _ = _split_state(good_state)
    bomb = zlib.compress(b"\0" * (64 * 1024 * 1024), 9)  # 64 MB of zeros in about 64 kB
    _refused(real_model, state_dir, _join_state(header, bomb), "not the declared size")


def test_state_faces_outside_the_points_are_refused(real_model, state_dir, good_state):
    from explorer.render import state_cache

    header, body = _split_state(good_state)
    raw = bytearray(zlib.decompress(body))
    spec = header["lesion"]["meshes"][0]
    sizes = [int(np.prod(a["shape"])) * np.dtype(a["dtype"]).itemsize for a in header["arrays"]]
    start = sum(sizes[:spec["faces"]])
    faces = np.frombuffer(bytes(raw[start:start + sizes[spec["faces"]]]), dtype="<i8").copy()
    faces[1] = 10**9  # a triangle naming a point that does not exist
    raw[start:start + len(faces) * 8] = faces.tobytes()
    header["sha256"] = hashlib.sha256(bytes(raw)).hexdigest()  # the hash 'matches'
    _refused(real_model, state_dir, _join_state(header, zlib.compress(bytes(raw))), "not triangles of its points")
    assert state_cache.MAX_FILE_BYTES < 64 * 1024 * 1024


@pytest.mark.parametrize("damage", ["empty", "truncated", "not a state", "oversized", "directory", "deep json"])
def test_damaged_state_files_are_refused(real_model, state_dir, good_state, damage):
    from explorer.render import state_cache

    path = state_dir / state_cache.file_name(*STATE)
    data: bytes | None
    if damage == "empty":
        data, reason = b"", "not a state file"
    elif damage == "truncated":
        data, reason = good_state[:-20], "declared size"
    elif damage == "not a state":
        data, reason = b"<VTKFile>" + good_state, "not a state file"
    elif damage == "oversized":
        data, reason = good_state + b"\0" * (state_cache.MAX_FILE_BYTES + 1), "bytes"
    elif damage == "directory":
        path.mkdir()
        data, reason = None, "not a regular file"
    else:
        head = b"[" * 100_000 + b"]" * 100_000
        data = state_cache.MAGIC + f"{len(head):010d}\n".encode() + head
        reason = "header"
    _refused(real_model, state_dir, data, reason)


def test_random_damage_to_a_state_file_never_escapes(real_model, state_dir, good_state):
    """Bytes flipped anywhere: the file is used (the flip changed nothing that matters) or refused."""
    from explorer.render import state_cache

    rng = random.Random(14)
    path = state_dir / state_cache.file_name(*STATE)
    refused = 0
    for _ in range(60):
        data = bytearray(good_state)
        for _ in range(rng.randint(1, 4)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        path.write_bytes(bytes(data))
        entry, why = state_cache.lookup(real_model, *STATE, states_dir=state_dir)
        assert (entry is None) == (why is not None)
        refused += entry is None
    assert refused > 30  # most flips hit the hash-checked arrays or the header


def test_state_build_survives_an_unwritable_path_and_a_killed_write(real_model, state_dir, monkeypatch):
    from explorer.render import state_cache

    path = state_dir / state_cache.file_name(*STATE)
    path.mkdir()  # a directory where the file should go: that state fails, the build goes on
    report = state_cache.build(real_model, state_dir, states=[STATE], log=lambda line: None)
    assert list(report.failed or {}) == [path.name]
    path.rmdir()

    def killed(src: object, dst: object) -> None:
        raise KeyboardInterrupt("killed mid-write")

    monkeypatch.setattr(os, "replace", killed)
    with pytest.raises(KeyboardInterrupt):
        state_cache.build(real_model, state_dir, states=[STATE], log=lambda line: None)
    assert not list(state_dir.iterdir())  # no half-written state file, no temporary file left

"""Fuzzing the baked assets: mutated ``.vtp`` meshes and ``manifest.json`` through the model loader.

The cases run in one child process (``python -m fuzz.test_fuzz_assets <folder> <out>`` from
``tests/``), so a reader that crashes the interpreter (VTK's ``bad_alloc`` abort did, issue 14)
fails this test with the case it was on, instead of killing pytest. Each case writes its outcome
as one JSON line.

- meshes: header counts set to 2,100,000,000 and other nonsense, flipped and truncated bytes,
  XML entities and DOCTYPEs, another layout, crafted block tables (a zlib bomb, sizes that do not
  add up), triangles pointing outside the points, NaN points, a 20 MB file, junk. Each mutated
  file is read with ``read_mesh_file``, half the time with the hash of the mutated bytes (a corrupt
  file whose manifest hash matches): the outcome is a sane mesh or ``MeshFileError`` naming the file.
- manifests: mutated JSON through ``read_manifest``: a manifest or a reason, never an exception.
- whole loads: a folder with a bad manifest and a few bad meshes through ``load_model`` (the
  cache holds good copies, so nothing is built): every structure present, the bad ones named.

The folder is a self-consistent copy of ``assets/models`` (meshes that do not read, say while
someone rebuilds, are replaced by a small sphere) with its own fingerprint.
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
import traceback
import zlib
from pathlib import Path

import numpy as np
import pytest

from .generators import case_ids, flip_bytes, hostile_text, quotes_too_much, rng

ROOT = Path(__file__).resolve().parents[2]
MESH_CASES = 300
MANIFEST_CASES = 150
LOAD_CASES = 20
FINGERPRINT = "fuzz-" + "0" * 59
CHILD_TIMEOUT_S = 600


# --------------------------------------------------------------------------- crafted VTK arrays
def encode_array(values: np.ndarray, block_size: int = 32768, sizes: list[int] | None = None,
                 header: list[int] | None = None, data: bytes | None = None) -> str:
    """A DataArray body as VTK writes it (UInt32 block table then zlib blocks, each base64 on its own);
    ``sizes``, ``header`` and ``data`` override the honest values."""
    raw = values.tobytes()
    blocks = [raw[i:i + block_size] for i in range(0, len(raw), block_size)] or [b""]
    compressed = [zlib.compress(b) for b in blocks]
    head = header if header is not None else [len(blocks), block_size, len(blocks[-1])]
    table = head + (sizes if sizes is not None else [len(c) for c in compressed])
    body = data if data is not None else b"".join(compressed)
    return (base64.b64encode(np.asarray(table, dtype="<u4").tobytes()) + base64.b64encode(body)).decode()


def craft_vtp(points: np.ndarray, connectivity: np.ndarray, offsets: np.ndarray, n_points: int | None = None,
              n_polys: int | None = None, points_body: str | None = None, conn_body: str | None = None) -> bytes:
    n_points = len(points) if n_points is None else n_points
    n_polys = len(offsets) if n_polys is None else n_polys
    return f"""<?xml version="1.0"?>
<VTKFile type="PolyData" version="1.0" byte_order="LittleEndian" header_type="UInt32" compressor="vtkZLibDataCompressor">
  <PolyData>
    <Piece NumberOfPoints="{n_points}" NumberOfVerts="0" NumberOfLines="0" NumberOfStrips="0" NumberOfPolys="{n_polys}">
      <Points>
        <DataArray type="Float32" NumberOfComponents="3" format="binary">
          {points_body if points_body is not None else encode_array(points.astype('<f4'))}
        </DataArray>
      </Points>
      <Polys>
        <DataArray type="Int64" Name="connectivity" format="binary">
          {conn_body if conn_body is not None else encode_array(connectivity.astype('<i8'))}
        </DataArray>
        <DataArray type="Int64" Name="offsets" format="binary">
          {encode_array(offsets.astype('<i8'))}
        </DataArray>
      </Polys>
    </Piece>
  </PolyData>
</VTKFile>
""".encode()


def _tetra(r: random.Random) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    points = np.array([[0, 0, 0], [1, 0, 0], [0, 1, 0], [0, 0, 1]], dtype=float) * r.uniform(1, 50)
    conn = np.array([0, 1, 2, 0, 1, 3, 0, 2, 3, 1, 2, 3])
    return points, conn, np.arange(3, 13, 3)


def mutate_mesh(r: random.Random, data: bytes) -> tuple[bytes, str]:
    """A broken copy of a baked mesh file, and the name of the mutation (never the file unchanged)."""
    out, what = _mutate_mesh(r, data)
    return (out, what) if out != data else (data[:-1], f"{what} (a no-op here, so truncated)")


def _mutate_mesh(r: random.Random, data: bytes) -> tuple[bytes, str]:
    text = data.decode("ascii", "replace")
    kind = r.randrange(12)
    if kind == 0:
        attr = r.choice(["NumberOfPoints", "NumberOfPolys", "NumberOfVerts", "NumberOfStrips"])
        value = r.choice(["2100000000", "0", "-1", "1e9", "", "9" * 30, " 12", "0x10", "4294967297",
                          hostile_text(r, allow_long=False).replace('"', "")])
        return re.sub(f'{attr}="[^"]*"', f'{attr}="{value}"', text, count=1).encode("utf-8", "surrogatepass"), \
            f"count {attr}={value[:20]!r}"
    if kind == 1:
        return flip_bytes(r, data), "flipped bytes"
    if kind == 2:
        return data[: r.randrange(len(data))], "truncated"
    if kind == 3:
        bomb = ('<!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
                '<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>')
        return text.replace("<VTKFile", bomb + "<VTKFile", 1).replace('version="1.0" byte', 'version="&c;" byte')\
            .encode(), "entity expansion"
    if kind == 4:
        swap = r.choice([('byte_order="LittleEndian"', 'byte_order="BigEndian"'),
                         ('header_type="UInt32"', 'header_type="UInt64"'),
                         ('compressor="vtkZLibDataCompressor"', 'compressor="vtkLZ4DataCompressor"'),
                         ('format="binary"', 'format="appended"'), ('type="Float32"', 'type="Float16"'),
                         ('type="PolyData"', 'type="UnstructuredGrid"'), ("<Piece ", "<Piece></Piece><Piece ")])
        return text.replace(*swap, 1).encode(), f"layout {swap[1][:30]}"
    points, conn, offsets = _tetra(r)
    if kind == 5:
        bad = conn.copy()
        bad[r.randrange(len(bad))] = r.choice([4, 100, -1, 2**40])
        return craft_vtp(points, bad, offsets), "triangle outside the points"
    if kind == 6:
        bad_points = points.copy()
        bad_points[r.randrange(4), r.randrange(3)] = r.choice([np.nan, np.inf, -np.inf])
        return craft_vtp(bad_points, conn, offsets), "non-finite point"
    if kind == 7:  # a zlib bomb: a block that inflates far past its declared size
        zbomb = zlib.compress(b"\0" * 50_000_000, 9)
        body = encode_array(points.astype("<f4"), header=[1, 48, 48], sizes=[len(zbomb)], data=zbomb)
        return craft_vtp(points, conn, offsets, points_body=body), "zlib bomb"
    if kind == 8:  # a block table that does not add up
        header = r.choice([[1, 48, 48], [2**31, 2**24, 1], [0, 0, 0], [1, 2**32 - 1, 48], [3, 16, 16]])
        sizes = r.choice([[1], [2**31], [], [10, 10, 10]])
        body = encode_array(points.astype("<f4"), header=header, sizes=sizes)
        return craft_vtp(points, conn, offsets, points_body=body), f"block table {header}"
    if kind == 9:
        return craft_vtp(points, conn, offsets, n_points=r.choice([3, 5, 2_100_000_000]),
                         n_polys=r.choice([3, 5, 1_000_001])), "counts that disagree with the arrays"
    if kind == 10:
        return craft_vtp(points, conn, np.array([3, 7, 9, 12])), "offsets that are not triangles"
    return r.choice([b"", b"\0" * 100, os.urandom(r.randint(1, 4000)), b"<?xml version='1.0'?><VTKFile>" * 1000,
                     ("<" * 100_000).encode(), b"<VTKFile>" + b"<a>" * 50_000]), "junk"


def mutate_manifest(r: random.Random, data: bytes, sids: list[str]) -> tuple[bytes, str]:
    manifest = json.loads(data)
    kind = r.randrange(7)
    if kind == 0:
        return flip_bytes(r, data), "flipped bytes"
    if kind == 1:
        sid = r.choice(sids)
        manifest["structures"][sid] = r.choice([None, 1, "x", [], ["sha256"], {"sha256": 5}, {"sha256": None},
                                                {"sha256": hostile_text(r)}, {}, True])
        return json.dumps(manifest).encode(), f"entry of {sid}"
    if kind == 2:
        manifest["structures"] = r.choice([None, [], "x", 3, {"x": 1}, [manifest["structures"]]])
        return json.dumps(manifest).encode(), "structures"
    if kind == 3:
        manifest["fingerprint"] = r.choice([None, 1, [], {"a": 1}, hostile_text(r)])
        return json.dumps(manifest).encode(), "fingerprint"
    if kind == 4:
        depth = r.choice([100, 10_000, 200_000])
        return ("[" * depth + "]" * depth).encode(), f"nesting {depth}"
    if kind == 5:
        return r.choice([b"", b"null", b"[]", b"\xff\xfe{", "{\"structures\": {}}".encode("utf-16"), b"NaN",
                         b'{"structures": {"a": 1e999}}', b" " * 2_000_000]), "not a manifest"
    manifest[hostile_text(r, allow_long=False)] = hostile_text(r)
    return json.dumps(manifest).encode(), "extra field"


# --------------------------------------------------------------------------- the child process
def _prepare(folder: Path) -> dict[str, bytes]:
    """A self-consistent copy of the assets in ``folder``/good (meshes that do not read become spheres)."""
    import pyvista as pv

    from explorer.anatomy import model
    from explorer.anatomy.structures import STRUCTURES

    good = folder / "good"
    good.mkdir(parents=True, exist_ok=True)
    files: dict[str, bytes] = {}
    for sid in STRUCTURES:
        source = ROOT / "assets" / "models" / f"{sid}.vtp"
        try:
            model.read_mesh_file(source)
            data = source.read_bytes()
        except model.MeshFileError:
            data = model.mesh_file_bytes(pv.Sphere(theta_resolution=8, phi_resolution=8))
        (good / f"{sid}.vtp").write_bytes(data)
        files[sid] = data
    entries = {sid: {"file": f"{sid}.vtp", "sha256": hashlib.sha256(d).hexdigest()} for sid, d in files.items()}
    (good / "manifest.json").write_text(json.dumps({"format": 1, "fingerprint": FINGERPRINT, "structures": entries}))
    return files


def _emit(out, record: dict) -> None:
    out.write(json.dumps(record) + "\n")
    out.flush()


def child(folder: Path, out_path: Path, counts: dict[str, int]) -> None:
    import pyvista as pv

    from explorer.anatomy import model
    from explorer.anatomy.structures import STRUCTURES

    model.builder_fingerprint = lambda: FINGERPRINT  # the copy's own fingerprint (the code may be mid-edit)
    model.build_structure = lambda structure_id: pv.Sphere(theta_resolution=6, phi_resolution=6)
    files = _prepare(folder)
    sids = list(STRUCTURES)
    work = folder / "work"
    with open(out_path, "w") as out:
        for case in range(counts["mesh"]):
            r = rng("mesh", case)
            sid = r.choice(sids)
            data, what = mutate_mesh(r, files[sid])
            _emit(out, {"kind": "mesh", "case": case, "started": True})
            path = folder / "meshes" / f"{sid}.vtp"
            path.parent.mkdir(exist_ok=True)
            if r.random() < 0.05:
                with open(path, "wb") as handle:  # a 20 MB file, sparse
                    handle.truncate(20 * 1024 * 1024)
                what = "20 MB file"
            else:
                path.write_bytes(data)
            digest = hashlib.sha256(path.read_bytes()).hexdigest() if r.random() < 0.5 else None
            record: dict = {"kind": "mesh", "case": case, "what": what, "file": path.name}
            try:
                mesh = model.read_mesh_file(path, digest)
                v, f = mesh.vertices, mesh.faces
                sane = (v.ndim == 2 and v.shape[1] == 3 and f.ndim == 2 and f.shape[1] == 3 and len(f) > 0
                        and bool(np.isfinite(v).all()) and int(f.min()) >= 0 and int(f.max()) < len(v))
                record.update(outcome="read" if sane else "insane mesh")
            except model.MeshFileError as exc:
                record.update(outcome="refused", message=str(exc))
            except BaseException as exc:  # noqa: BLE001 - what the fuzzer looks for
                record.update(outcome="raised", message=f"{type(exc).__name__}: {str(exc)[:300]}",
                              trace=traceback.format_exc()[-1500:])
            _emit(out, record)
        for case in range(counts["manifest"]):
            r = rng("manifest", case)
            data, what = mutate_manifest(r, (folder / "good" / "manifest.json").read_bytes(), sids)
            _emit(out, {"kind": "manifest", "case": case, "started": True})
            shutil.rmtree(work, ignore_errors=True)
            work.mkdir()
            (work / "manifest.json").write_bytes(data)
            record = {"kind": "manifest", "case": case, "what": what}
            try:
                manifest, problem = model.read_manifest(work)
                ok = (manifest is None) != (problem is None) and (manifest is None or isinstance(manifest, dict))
                record.update(outcome="ok" if ok else "bad result", message=problem or "")
            except BaseException as exc:  # noqa: BLE001
                record.update(outcome="raised", message=f"{type(exc).__name__}: {str(exc)[:300]}",
                              trace=traceback.format_exc()[-1500:])
            _emit(out, record)
        for case in range(counts["load"]):
            r = rng("load", case)
            _emit(out, {"kind": "load", "case": case, "started": True})
            shutil.rmtree(work, ignore_errors=True)
            shutil.copytree(folder / "good", work)
            broken = r.sample(sids, r.randint(1, 3))
            whats = []
            for sid in broken:
                data, what = mutate_mesh(r, files[sid])
                (work / f"{sid}.vtp").write_bytes(data)
                whats.append(f"{sid}: {what}")
            if r.random() < 0.3:
                if r.random() < 0.5:
                    (work / f"{broken[0]}.vtp").unlink()
                    (work / f"{broken[0]}.vtp").mkdir()
                    whats.append(f"{broken[0]}: a directory")
                else:
                    data, what = mutate_manifest(r, (work / "manifest.json").read_bytes(), sids)
                    (work / "manifest.json").write_bytes(data)
                    whats.append(f"manifest: {what}")
            record = {"kind": "load", "case": case, "what": "; ".join(whats), "broken": broken}
            try:
                loaded = model.load_model(work, save_rebuilt=r.random() < 0.5, cache_dir=folder / "good")
                record.update(outcome="ok" if set(loaded.meshes) == set(STRUCTURES) else "incomplete",
                              messages=list(loaded.messages))
            except BaseException as exc:  # noqa: BLE001
                record.update(outcome="raised", message=f"{type(exc).__name__}: {str(exc)[:300]}",
                              trace=traceback.format_exc()[-1500:])
            _emit(out, record)


# --------------------------------------------------------------------------- the tests
@pytest.fixture(scope="module")
def outcomes(tmp_path_factory) -> dict[str, list[dict]]:
    folder = tmp_path_factory.mktemp("assets")
    out_path = folder / "outcomes.jsonl"
    counts = {"mesh": len(case_ids("mesh", MESH_CASES)), "manifest": len(case_ids("manifest", MANIFEST_CASES)),
              "load": len(case_ids("load", LOAD_CASES))}
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "tests")])}
    proc = subprocess.run([sys.executable, "-m", "fuzz.test_fuzz_assets", str(folder), str(out_path),
                           json.dumps(counts)], cwd=ROOT / "tests", env=env, capture_output=True, text=True,
                          timeout=CHILD_TIMEOUT_S, check=False)
    records = [json.loads(line) for line in out_path.read_text().splitlines()] if out_path.exists() else []
    last = records[-1] if records else {}
    assert proc.returncode == 0, ((f"the loader took the process down (exit {proc.returncode}) at "
                                  f"{last.get('kind')} case {last.get('case')}"), proc.stderr[-2000:])
    done: dict[str, list[dict]] = {"mesh": [], "manifest": [], "load": []}
    for record in records:
        if not record.get("started"):
            done[record["kind"]].append(record)
    assert {k: len(v) for k, v in done.items()} == counts
    return done


def test_fuzz_mesh_files(outcomes):
    bad = [r for r in outcomes["mesh"] if r["outcome"] not in ("read", "refused")]
    assert bad == [], bad[:5]
    for r in outcomes["mesh"]:
        if r["outcome"] == "refused":
            assert r["file"] in r["message"] and len(r["message"]) < 400, r
    refused = sum(r["outcome"] == "refused" for r in outcomes["mesh"])
    assert refused > len(outcomes["mesh"]) // 2  # the mutations do break files


def test_fuzz_manifests(outcomes):
    bad = [r for r in outcomes["manifest"] if r["outcome"] != "ok"]
    assert bad == [], bad[:5]
    for r in outcomes["manifest"]:
        assert len(r["message"]) < 600, r["message"][:600]


def test_fuzz_whole_loads(outcomes):
    bad = [r for r in outcomes["load"] if r["outcome"] != "ok"]
    assert bad == [], bad[:5]
    for r in outcomes["load"]:
        messages = r["messages"]
        assert all(len(m) < 1000 for m in messages), messages
        assert quotes_too_much("\n".join(messages), [r["what"]]) is None
        manifest_broken = "manifest:" in r["what"]
        if not manifest_broken:  # each broken mesh is named (a broken manifest may vouch for none)
            joined = "\n".join(messages)
            unnamed = [sid for sid in r["broken"] if sid not in joined]
            # A mutation can leave a file valid (a flipped byte in the XML declaration): then it is
            # refused only for its hash, which still names it; so every broken sid must appear.
            assert unnamed == [], (unnamed, r["what"], messages)


if __name__ == "__main__":
    child(Path(sys.argv[1]), Path(sys.argv[2]), json.loads(sys.argv[3]))

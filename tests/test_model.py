"""Baked assets: fresh ones match the builders; missing, stale or corrupt ones are rebuilt with a message."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
import pyvista as pv

from explorer import settings
from explorer.anatomy import model as model_module
from explorer.anatomy.measure import signed_distance
from explorer.anatomy.model import builder_fingerprint, load_model, read_manifest
from explorer.anatomy.structures import STRUCTURES

MAX_SCENE_TRIANGLES = 80_000
MAX_ASSET_BYTES = 4_000_000


def test_every_structure_is_baked_and_fresh():
    manifest, problem = read_manifest(settings.MODELS_DIR)
    assert problem is None, f"{problem}: run `python -m explorer build-models`"
    assert manifest["fingerprint"] == builder_fingerprint(), "assets are stale: run `python -m explorer build-models`"
    assert set(manifest["structures"]) == set(STRUCTURES)
    for sid in STRUCTURES:
        assert (settings.MODELS_DIR / f"{sid}.vtp").exists()


def test_scene_is_small_enough_for_the_browser():
    manifest, _ = read_manifest(settings.MODELS_DIR)
    assert manifest["total_triangles"] <= MAX_SCENE_TRIANGLES
    assert manifest["total_bytes"] <= MAX_ASSET_BYTES


def test_baked_assets_match_the_builder(built_meshes):
    """Same shape, within floating-point noise (decimation may pick other edges on another CPU)."""
    for sid, built in built_meshes.items():
        baked = pv.read(settings.MODELS_DIR / f"{sid}.vtp")
        assert baked.n_cells == pytest.approx(built.n_cells, rel=0.01), sid
        assert np.abs(signed_distance(baked.points, built)).max() < 0.5, sid
        assert baked.volume == pytest.approx(built.volume, rel=0.01), sid


def test_every_mesh_is_valid(built_meshes):
    for sid, mesh in built_meshes.items():
        assert mesh.n_cells > 0 and mesh.n_points > 0, sid
        assert mesh.is_all_triangles, sid
        assert np.isfinite(mesh.points).all(), sid


def test_fresh_assets_load_without_messages():
    model = load_model(settings.MODELS_DIR, save_rebuilt=False)
    assert model.messages == ()
    assert set(model.meshes) == set(STRUCTURES)


@pytest.fixture()
def assets_copy(tmp_path, monkeypatch):
    """A copy of the baked assets, and a cheap stand-in builder so rebuild tests run fast.

    The user cache is a temporary folder too: stand-in meshes must never reach the real one.
    """
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    target = tmp_path / "models"
    shutil.copytree(settings.MODELS_DIR, target)
    calls: list[str] = []

    def fake_build(sid: str) -> pv.PolyData:
        calls.append(sid)
        return pv.Sphere(radius=5.0).triangulate()

    monkeypatch.setattr(model_module, "build_structure", fake_build)
    return target, calls


def test_missing_file_is_rebuilt_and_saved(assets_copy):
    models_dir, calls = assets_copy
    (models_dir / "root-L5-left.vtp").unlink()
    model = load_model(models_dir)
    assert calls == ["root-L5-left"]
    assert any("root-L5-left" in m and "missing" in m for m in model.messages)
    assert (models_dir / "root-L5-left.vtp").exists()
    assert load_model(models_dir).messages == ()  # saved and manifest updated


def test_corrupt_file_is_rebuilt(assets_copy):
    models_dir, calls = assets_copy
    (models_dir / "vertebra-L4.vtp").write_bytes(b"not a vtk file")
    model = load_model(models_dir, save_rebuilt=False)
    assert calls == ["vertebra-L4"]
    assert any("vertebra-L4" in m for m in model.messages)


def test_stale_assets_are_all_rebuilt(assets_copy):
    models_dir, calls = assets_copy
    manifest_path = models_dir / settings.MANIFEST_NAME
    manifest = json.loads(manifest_path.read_text())
    manifest["fingerprint"] = "0" * 64
    manifest_path.write_text(json.dumps(manifest))
    model = load_model(models_dir, save_rebuilt=False)
    assert sorted(calls) == sorted(STRUCTURES)
    assert any("different builder" in m for m in model.messages)


def test_unreadable_manifest_is_reported(assets_copy):
    models_dir, calls = assets_copy
    (models_dir / settings.MANIFEST_NAME).write_text("{ this is not json")
    model = load_model(models_dir, save_rebuilt=False)
    assert len(calls) == len(STRUCTURES)
    assert any("unreadable" in m for m in model.messages)

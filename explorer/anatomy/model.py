"""The spine model as plain data, and the baked assets it is loaded from.

``build_structure(id)`` runs the PyVista builder for one structure. ``bake()`` writes every mesh
to ``assets/models/<id>.vtp`` (readable with ``pyvista.read`` or ParaView) plus a manifest holding
a hash of everything the builders depend on (their source code and parameter tables).
``load_model()`` uses the baked files when they are fresh and rebuilds, saying so, the ones that
are missing, stale or corrupt.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np
import pyvista as pv
from numpy.typing import NDArray

from explorer import settings
from explorer.anatomy.structures import STRUCTURES, Structure

FORMAT_VERSION: int = 1
_ANATOMY_DIR = Path(__file__).resolve().parent
# Everything the meshes depend on: the builders' source and parameter tables, and the mesh
# resolution settings. Change any of these and the baked assets are stale.
FINGERPRINT_SOURCES: tuple[Path, ...] = tuple(
    sorted(p for p in _ANATOMY_DIR.glob("*.py") if p.name not in ("__init__.py", "model.py", "structures.py"))
)
FINGERPRINT_SETTINGS: tuple[str, ...] = ("SDF_SPACING_MM", "SMOOTHING_ITERATIONS", "TARGET_FACES")


@dataclass(frozen=True)
class MeshData:
    """A triangle mesh as plain arrays (napari style): the model knows nothing of rendering.

    Attributes
    ----------
    vertices : ndarray, shape (N, 3), float32
        Positions in mm (RAS).
    faces : ndarray, shape (M, 3), int32
        Vertex indices of each triangle.
    """

    vertices: NDArray[np.float32]
    faces: NDArray[np.int32]

    @property
    def n_triangles(self) -> int:
        return len(self.faces)

    @classmethod
    def from_polydata(cls, mesh: pv.PolyData) -> MeshData:
        tri = mesh.triangulate()
        faces = np.asarray(tri.faces).reshape(-1, 4)[:, 1:]
        return cls(np.asarray(tri.points, dtype=np.float32), faces.astype(np.int32))

    def to_polydata(self) -> pv.PolyData:
        cells = np.column_stack([np.full(len(self.faces), 3), self.faces]).ravel()
        return pv.PolyData(self.vertices.astype(float), cells)


@dataclass(frozen=True)
class SpineModel:
    """Every structure's mesh, keyed by structure id, plus what loading had to say."""

    meshes: dict[str, MeshData]
    messages: tuple[str, ...] = field(default=())

    def mesh(self, structure_id: str) -> MeshData:
        return self.meshes[structure_id]

    @cached_property
    def polydata(self) -> dict[str, pv.PolyData]:
        """Every mesh as PolyData for measuring, converted once per model (never mutate them)."""
        return {sid: m.to_polydata() for sid, m in self.meshes.items()}

    @property
    def n_triangles(self) -> int:
        return sum(m.n_triangles for m in self.meshes.values())


# ----------------------------------------------------------------------------- building


def _builders() -> dict[str, Callable[[Structure], pv.PolyData]]:
    """Kind -> builder. Modules are imported on first use: only baking needs them."""
    from importlib import import_module

    def call(module: str, func: str, *args: object) -> pv.PolyData:
        return getattr(import_module(f"explorer.anatomy.{module}"), func)(*args)

    return {
        "vertebra": lambda s: call("vertebra", "build_vertebra", s.level),
        "sacrum": lambda s: call("pelvis", "build_sacrum"),
        "hip-bone": lambda s: call("pelvis", "build_hip_bone", s.side),
        "femur": lambda s: call("pelvis", "build_femur", s.side),
        "disc": lambda s: call("discs", "build_annulus", s.level),
        "nucleus": lambda s: call("discs", "build_nucleus", s.level),
        "thecal-sac": lambda s: call("nerves", "build_thecal_sac"),
        "conus": lambda s: call("nerves", "build_conus"),
        "cauda-equina": lambda s: call("nerves", "build_cauda_equina"),
        "root": lambda s: call("nerves", "build_root", s.level, s.side),
        "sciatic": lambda s: call("nerves", "build_sciatic", s.side),
        "piriformis": lambda s: call("muscles", "build_piriformis", s.side),
    }


def build_structure(structure_id: str) -> pv.PolyData:
    """Build one structure's mesh from the parametric builders (global mm)."""
    s = STRUCTURES[structure_id]
    mesh = _builders()[s.kind](s)
    mesh = pv.PolyData(mesh.points, mesh.faces).triangulate().clean()
    if mesh.n_cells == 0:
        raise ValueError(f"builder for {structure_id!r} produced an empty mesh")
    return mesh


def builder_fingerprint() -> str:
    """SHA-256 over the builders' source and parameter modules (and the format version)."""
    h = hashlib.sha256(f"format={FORMAT_VERSION};pyvista-major={pv.__version__.split('.')[0]}".encode())
    for path in FINGERPRINT_SOURCES:
        h.update(path.name.encode())
        h.update(path.read_bytes())
    for name in FINGERPRINT_SETTINGS:
        h.update(f"{name}={getattr(settings, name)!r}".encode())
    return h.hexdigest()


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _write_mesh(models_dir: Path, sid: str, mesh: pv.PolyData) -> dict:
    path = models_dir / f"{sid}.vtp"
    mesh.save(path, binary=True)
    return {"file": path.name, "sha256": _sha256(path), "triangles": int(mesh.n_cells), "bytes": path.stat().st_size}


def _write_manifest(models_dir: Path, entries: dict[str, dict]) -> dict:
    manifest = {"format": FORMAT_VERSION, "fingerprint": builder_fingerprint(),
                "structures": {sid: entries[sid] for sid in STRUCTURES if sid in entries},
                "total_triangles": sum(e["triangles"] for e in entries.values()),
                "total_bytes": sum(e["bytes"] for e in entries.values())}
    (models_dir / settings.MANIFEST_NAME).write_text(json.dumps(manifest, indent=1) + "\n")
    return manifest


def bake(models_dir: Path = settings.MODELS_DIR, log: Callable[[str], None] = print) -> dict:
    """Build every structure, write ``<id>.vtp`` files and ``manifest.json``; return the manifest."""
    models_dir.mkdir(parents=True, exist_ok=True)
    entries: dict[str, dict] = {}
    started = time.perf_counter()
    for sid in STRUCTURES:
        t0 = time.perf_counter()
        mesh = build_structure(sid)
        entries[sid] = _write_mesh(models_dir, sid, mesh)
        log(f"built {sid:<22} {mesh.n_cells:>6} triangles  {time.perf_counter() - t0:5.2f} s")
    manifest = _write_manifest(models_dir, entries)
    log(f"baked {len(entries)} meshes, {manifest['total_triangles']} triangles, "
        f"{manifest['total_bytes'] / 1e6:.2f} MB in {time.perf_counter() - started:.1f} s")
    return manifest


# ----------------------------------------------------------------------------- loading


def read_manifest(models_dir: Path) -> tuple[dict | None, str | None]:
    """The manifest, or ``None`` with the reason it cannot be used."""
    path = models_dir / settings.MANIFEST_NAME
    if not path.exists():
        return None, f"no manifest at {path}"
    try:
        manifest = json.loads(path.read_text())
        if not isinstance(manifest.get("structures"), dict):
            raise ValueError("'structures' is missing")
    except (ValueError, OSError, AttributeError) as exc:
        return None, f"manifest {path} is unreadable ({exc})"
    return manifest, None


def _read_baked(models_dir: Path, sid: str, entry: dict | None) -> tuple[pv.PolyData | None, str | None]:
    path = models_dir / f"{sid}.vtp"
    if entry is None:
        return None, f"{sid}: not in the manifest"
    if not path.exists():
        return None, f"{sid}: file {path.name} is missing"
    if _sha256(path) != entry.get("sha256"):
        return None, f"{sid}: file {path.name} does not match its manifest hash (corrupt or edited)"
    try:
        mesh = pv.read(path)
    except Exception as exc:  # VTK raises a variety of errors on damaged files
        return None, f"{sid}: file {path.name} could not be read ({exc})"
    if not isinstance(mesh, pv.PolyData) or mesh.n_cells == 0:
        return None, f"{sid}: file {path.name} holds no triangles"
    return mesh, None


def load_model(models_dir: Path = settings.MODELS_DIR, save_rebuilt: bool = True) -> SpineModel:
    """Load baked meshes, rebuilding (and saying why) any that are missing, stale or corrupt.

    Never raises for bad asset files: the model is always complete, and ``messages`` tells what
    had to be rebuilt so the app can show it.
    """
    messages: list[str] = []
    manifest, problem = read_manifest(models_dir)
    fingerprint = builder_fingerprint()
    stale = manifest is not None and manifest.get("fingerprint") != fingerprint
    if problem:
        messages.append(f"Rebuilding all meshes: {problem}.")
    elif stale:
        messages.append("Rebuilding all meshes: the baked assets were made by different builder code or parameters.")
    entries = {} if (manifest is None or stale) else manifest["structures"]

    meshes: dict[str, MeshData] = {}
    rebuilt: dict[str, pv.PolyData] = {}
    for sid in STRUCTURES:
        mesh, why = _read_baked(models_dir, sid, entries.get(sid)) if entries else (None, None)
        if mesh is None:
            if why:
                messages.append(f"Rebuilding {why}.")
            mesh = build_structure(sid)
            rebuilt[sid] = mesh
        meshes[sid] = MeshData.from_polydata(mesh)
    if rebuilt and save_rebuilt:
        try:
            models_dir.mkdir(parents=True, exist_ok=True)
            kept = {sid: e for sid, e in entries.items() if sid not in rebuilt}
            kept.update({sid: _write_mesh(models_dir, sid, mesh) for sid, mesh in rebuilt.items()})
            _write_manifest(models_dir, kept)
        except OSError as exc:  # read-only checkout: keep the in-memory meshes
            messages.append(f"Could not save rebuilt meshes to {models_dir} ({exc}).")
    return SpineModel(meshes, tuple(messages))

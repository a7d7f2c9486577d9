"""Every registry state's costly, deterministic results, worked out once and kept on disk.

The app's states are finite: the registry's conditions times their parameters (231 states). What a
first visit of a state pays for is geometry: building the lesion (marching cubes, cleaning,
decimating, smoothing), measuring how deep it reaches into each nerve, and the story view's rays
(measured 2026-12-06, 231 states in one process: simulate p50 56 ms, up to 0.5 s for a swollen
piriformis, several seconds for the first slip at a level; story view p50 25 ms; about 40 s for all).
None of it depends on the visitor, so :func:`build` works it out for every state and writes one
file per state next to the baked meshes (``assets/states/``), and :func:`impact` reads a state's
file back instead of simulating it (about 1-3 ms).

What is stored: the lesion (its meshes' points and faces exactly as built, their names, focus,
candidates), the measured compression of each structure (degree, depth, per-vertex values), the
story view and what each preset camera must see through. What is not: the roots and nerves hit, the
clinical picture and the canal measurements, which are worked out from those on every read by the
same code as :func:`explorer.conditions.simulate.simulate` (cheap, and never stale).

Files are untrusted input (issue 14), like the baked meshes: a file is read only after its size,
its header, every array's type and shape, the decompressed size and a SHA-256 of the arrays have
been checked, and it is used only if it was made from the same inputs: a fingerprint of the source
of everything that builds or measures the geometry (``explorer/anatomy``, ``explorer/conditions``,
the story view, the settings), the versions of NumPy, SciPy, VTK and PyVista, and a digest of the
model's meshes themselves (:attr:`explorer.anatomy.model.SpineModel.digest`). A missing, stale or
corrupt file is simply computed again (and rewritten), never fatal. Writes are atomic (a temporary
file, then a rename); an asset folder that cannot be written (a read-only install) falls back to a
per-user cache folder, as the meshes do.

Built by ``python -m explorer build-models`` (the Dockerfile's build step) through
:func:`explorer.anatomy.model.bake`'s caller, and on a fresh machine by the start-up warm-up after
the first page has been served (:mod:`explorer.ui.startup`), which writes the missing files one by
one with pauses between them.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.metadata
import json
import logging
import os
import stat
import time
import zlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from explorer import settings
from explorer.anatomy.model import (
    LOCK_WAIT_S,
    SpineModel,
    atomic_write,
    default_cache_dir,
    exclusive,
    remove_stale_temporaries,
)
from explorer.anatomy.structures import STRUCTURES
from explorer.conditions.base import Lesion
from explorer.conditions.registry import CONDITIONS
from explorer.conditions.simulate import Compression, Impact, impact_from, simulate
from explorer.render import story as story_mod
from explorer.render.story import StoryView

if TYPE_CHECKING:
    import pyvista as pv

LOG = logging.getLogger(__name__)

FORMAT_VERSION: int = 1
MAGIC: bytes = b"LUMBAR-STATE\n"
STATES_DIR: Path = settings.MODELS_DIR.parent / "states"
SUFFIX: str = ".state"
# Limits checked before anything is decoded. A real state file is about 10-60 kB (arrays of a few
# thousand points), so these bound memory with a wide margin.
MAX_FILE_BYTES: int = 8 * 1024 * 1024
MAX_HEADER_BYTES: int = 256 * 1024
MAX_ARRAY_BYTES: int = 32 * 1024 * 1024  # all arrays of one file, decompressed
MAX_ARRAYS: int = 256
_DTYPES: frozenset[str] = frozenset({"<f4", "<f8", "<i4", "<i8"})
# Source of everything that builds, measures or frames the geometry stored here.
_EXPLORER = Path(__file__).resolve().parent.parent
FINGERPRINT_SOURCES: tuple[Path, ...] = (
    *sorted((_EXPLORER / "anatomy").glob("*.py")),
    *sorted((_EXPLORER / "conditions").glob("*.py")),
    _EXPLORER / "render" / "story.py",
    _EXPLORER / "render" / "scene3d.py",
    _EXPLORER / "render" / "model_scene.py",
    _EXPLORER / "render" / "state_cache.py",
    _EXPLORER / "settings.py",
    _EXPLORER / "lazy.py",
)
LIBRARIES: tuple[str, ...] = ("numpy", "scipy", "vtk", "pyvista")


class StateFileError(ValueError):
    """A state file that cannot be used, with the reason (the caller computes the state again)."""


@dataclass(frozen=True)
class StateEntry:
    """One state's costly results: the impact, its story view and each preset's see-through."""

    impact: Impact
    story: StoryView | None
    presets: dict[str, tuple[str, ...]]


# ----------------------------------------------------------------------------- keys and versions


def registry_states() -> list[tuple[str, dict[str, str]]]:
    """Every state of the registry: (condition, applicable parameters), in registry order."""
    from explorer.conditions.combos import combinations

    return [(cid, params) for cid, spec in CONDITIONS.items() for params in combinations(spec)]


def _clean(condition: str, params: Mapping[str, str]) -> dict[str, str]:
    """The applicable, validated parameters (``ValueError`` for bad ones, as :func:`simulate`)."""
    spec = CONDITIONS[condition]
    clean, errors = spec.validate(params)
    if errors:
        raise ValueError("; ".join(errors))
    return dict(spec.applicable(clean))


def file_name(condition: str, params: Mapping[str, str]) -> str:
    """The state's file name: the condition and a hash of its sorted parameters (safe characters)."""
    key = json.dumps([condition, sorted(params.items())], separators=(",", ":"))
    return f"{condition}-{hashlib.sha256(key.encode()).hexdigest()[:20]}{SUFFIX}"


def _version(name: str) -> str:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return "?"


@lru_cache(maxsize=1)
def code_fingerprint() -> str:
    """SHA-256 of the format, the library versions and the source files the results depend on."""
    h = hashlib.sha256(f"state-format={FORMAT_VERSION}".encode())
    for name in LIBRARIES:
        h.update(f"|{name}={_version(name)}".encode())
    for path in FINGERPRINT_SOURCES:
        h.update(f"|{path.parent.name}/{path.name}|".encode())
        h.update(path.read_bytes())
    return h.hexdigest()


def fingerprint(model: SpineModel) -> str:
    """What a state file must have been made with to be used for ``model``."""
    return hashlib.sha256(f"{code_fingerprint()}|{model.digest}".encode()).hexdigest()


def cache_dir(model: SpineModel) -> Path:
    """Where states are kept when :data:`STATES_DIR` cannot be written: per user, per fingerprint."""
    fp = fingerprint(model)
    return default_cache_dir(fp).with_name(f"states-{fp[:16]}")


# ----------------------------------------------------------------------------- writing


class _Arrays:
    """Arrays collected for one file, named by their position."""

    def __init__(self) -> None:
        self.items: list[np.ndarray] = []

    def add(self, array: np.ndarray) -> int:
        a = np.asarray(array)
        kind = a.dtype.newbyteorder("<").str
        if kind not in _DTYPES:
            raise TypeError(f"cannot store a {a.dtype} array")
        self.items.append(np.ascontiguousarray(a, dtype=kind))
        return len(self.items) - 1


def _mesh_spec(mesh: pv.PolyData, arrays: _Arrays) -> dict[str, Any]:
    """A lesion mesh as two arrays (points as built, VTK's padded triangle list); refuses anything else."""
    if mesh.n_verts or mesh.n_lines or mesh.n_strips or mesh.point_data.keys() or mesh.cell_data.keys() \
            or mesh.field_data.keys():
        raise TypeError("a lesion mesh with more than points and polygons is not stored")
    return {"points": arrays.add(np.asarray(mesh.points)), "faces": arrays.add(np.asarray(mesh.faces))}


def entry_bytes(entry: StateEntry, model: SpineModel) -> bytes:
    """One state as a file: magic, header length, JSON header, zlib-compressed arrays."""
    impact, arrays = entry.impact, _Arrays()
    lesion = impact.lesion
    meshes: list[dict[str, Any]] = []
    index: dict[int, int] = {}  # id(mesh) -> its place in ``meshes``: shared meshes stay shared

    def mesh_ref(mesh: pv.PolyData) -> int:
        if id(mesh) not in index:
            index[id(mesh)] = len(meshes)
            meshes.append(_mesh_spec(mesh, arrays))
        return index[id(mesh)]

    replaced = [[sid, mesh_ref(m)] for sid, m in lesion.replaced.items()]
    compressors = [[lid, mesh_ref(m)] for lid, m in lesion.compressors.items()]
    focus = np.asarray(lesion.focus)
    header = {
        "format": FORMAT_VERSION, "fingerprint": fingerprint(model), "condition": impact.condition,
        "params": sorted(impact.parameters.items()),
        "lesion": {"meshes": meshes, "replaced": replaced, "compressors": compressors,
                   "names": list(lesion.names.items()), "focus": arrays.add(focus),
                   "candidates": list(lesion.candidates), "slow": bool(lesion.slow),
                   "pinning": sorted(lesion.pinning)},
        "compressed": [{"id": c.id, "name": c.name, "degree": float(c.degree), "depth_mm": float(c.depth_mm),
                        "vertex_degree": arrays.add(c.vertex_degree), "parts": [list(p) for p in c.parts]}
                       for c in impact.compressed],
        "story": None if entry.story is None else _story_json(entry.story),
        "presets": {name: list(ids) for name, ids in entry.presets.items()},
    }
    blob = b"".join(a.tobytes() for a in arrays.items)
    header["arrays"] = [{"dtype": a.dtype.str, "shape": list(a.shape)} for a in arrays.items]
    header["array_bytes"] = len(blob)
    header["sha256"] = hashlib.sha256(blob).hexdigest()
    head = json.dumps(header, separators=(",", ":"), allow_nan=False).encode()
    return MAGIC + f"{len(head):010d}\n".encode() + head + zlib.compress(blob, 6)


def _story_json(view: StoryView) -> dict[str, Any]:
    # JSON floats round-trip exactly (repr), so the camera is stored to the bit.
    return {"direction": view.direction, "phrase": view.phrase, "eye": [float(x) for x in view.eye_mm],
            "center": [float(x) for x in view.center_mm], "see_through": list(view.see_through),
            "lesion_ids": list(view.lesion_ids), "nerve_ids": list(view.nerve_ids),
            "scores": {k: float(v) for k, v in view.scores.items()}}


# ----------------------------------------------------------------------------- reading


def _need(ok: bool, why: str) -> None:
    if not ok:
        raise StateFileError(why)


def _str_list(value: Any, what: str) -> list[str]:
    _need(isinstance(value, list) and all(isinstance(x, str) for x in value), f"{what} is not a list of names")
    return list(value)


def _number(value: Any, what: str) -> float:
    _need(isinstance(value, (int, float)) and not isinstance(value, bool) and bool(np.isfinite(value)),
          f"{what} is not a finite number")
    return float(value)


def _split_arrays(header: dict[str, Any], body: bytes) -> list[np.ndarray]:
    """The arrays the header declares, after checking their types, shapes, total size and hash."""
    specs: Any = header.get("arrays")
    _need(isinstance(specs, list) and len(specs) <= MAX_ARRAYS, "its array list is missing or too long")
    sizes: list[tuple[np.dtype, tuple[int, ...], int]] = []
    total = 0
    for spec in specs:
        _need(isinstance(spec, dict) and spec.get("dtype") in _DTYPES, "an array has a type this reader refuses")
        shape = spec.get("shape")
        _need(isinstance(shape, list) and 1 <= len(shape) <= 2
              and all(isinstance(n, int) and not isinstance(n, bool) and 0 <= n <= 10_000_000 for n in shape),
              "an array has a bad shape")
        dtype = np.dtype(spec["dtype"])
        n = int(np.prod(shape)) * dtype.itemsize
        total += n
        _need(total <= MAX_ARRAY_BYTES, f"its arrays add up to more than {MAX_ARRAY_BYTES:,} bytes")
        sizes.append((dtype, tuple(shape), n))
    _need(header.get("array_bytes") == total, "its array sizes do not add up")
    try:
        inflate = zlib.decompressobj()
        blob = inflate.decompress(body, total + 1)  # never more than declared (no zlib bomb)
    except zlib.error as exc:
        raise StateFileError(f"its arrays cannot be decompressed ({exc})") from None
    _need(len(blob) == total and inflate.eof and not inflate.unused_data, "its arrays are not the declared size")
    _need(hashlib.sha256(blob).hexdigest() == header.get("sha256"), "its arrays do not match their hash")
    out, start = [], 0
    for dtype, shape, n in sizes:
        out.append(np.frombuffer(blob, dtype=dtype, count=n // dtype.itemsize, offset=start).reshape(shape))
        start += n
    return out


def _mesh(spec: Any, arrays: list[np.ndarray]) -> pv.PolyData:
    import pyvista as pv

    _need(isinstance(spec, dict), "a lesion mesh entry is not an object")
    points, faces = (_array(arrays, spec.get(k), k) for k in ("points", "faces"))
    _need(points.ndim == 2 and points.shape[1] == 3 and len(points) > 0 and np.isfinite(points).all(),
          "a lesion mesh has bad points")
    _need(faces.dtype.kind == "i" and faces.ndim == 1 and len(faces) % 4 == 0 and len(faces) > 0,
          "a lesion mesh has bad faces")
    tri = faces.reshape(-1, 4)
    _need(bool((tri[:, 0] == 3).all()) and tri[:, 1:].min() >= 0 and tri[:, 1:].max() < len(points),
          "a lesion mesh has faces that are not triangles of its points")
    return pv.PolyData(points.copy(), faces.copy())


def _array(arrays: list[np.ndarray], ref: Any, what: str) -> np.ndarray:
    _need(isinstance(ref, int) and not isinstance(ref, bool) and 0 <= ref < len(arrays), f"{what} names no array")
    return arrays[ref]


def parse_entry(data: bytes, model: SpineModel, condition: str, params: Mapping[str, str]) -> StateEntry:
    """A state read back from :func:`entry_bytes`' output, for ``model`` and this state only.

    Raises
    ------
    StateFileError
        Naming what is wrong (not a state file, stale, another state, malformed, corrupt).
    """
    _need(data.startswith(MAGIC) and len(data) >= len(MAGIC) + 11, "is not a state file")
    raw = data[len(MAGIC):len(MAGIC) + 11]
    _need(raw[:10].isdigit() and raw[10:] == b"\n", "has an unreadable header length")
    n = int(raw[:10])
    _need(n <= MAX_HEADER_BYTES, f"declares a header of {n:,} bytes")
    start = len(MAGIC) + 11
    try:
        header = json.loads(data[start:start + n])
    except (ValueError, RecursionError) as exc:
        raise StateFileError(f"has an unreadable header ({type(exc).__name__})") from None
    _need(isinstance(header, dict), "has a header that is not an object")
    _need(header.get("format") == FORMAT_VERSION, "was written in another format")
    _need(header.get("fingerprint") == fingerprint(model), "was made by other code, libraries or meshes (stale)")
    clean = _clean(condition, params)
    _need(header.get("condition") == condition and header.get("params") == [list(p) for p in sorted(clean.items())],
          "holds another state")
    arrays = _split_arrays(header, data[start + n:])
    try:
        return _build(header, arrays, model, condition, clean)
    except StateFileError:
        raise
    except (KeyError, TypeError, ValueError, IndexError, AttributeError) as exc:
        raise StateFileError(f"has a malformed entry ({type(exc).__name__}: {str(exc)[:120]})") from None


def _build(header: dict[str, Any], arrays: list[np.ndarray], model: SpineModel, condition: str,
           clean: dict[str, str]) -> StateEntry:
    les = header["lesion"]
    _need(isinstance(les, dict), "its lesion is not an object")
    meshes = [_mesh(spec, arrays) for spec in les["meshes"]]

    def pairs(value: Any, what: str) -> list[tuple[str, int]]:
        _need(isinstance(value, list) and all(isinstance(p, list) and len(p) == 2 and isinstance(p[0], str)
                                              and isinstance(p[1], int) and 0 <= p[1] < len(meshes) for p in value),
              f"its {what} are malformed")
        return [(p[0], p[1]) for p in value]

    names = les["names"]
    _need(isinstance(names, list) and all(isinstance(p, list) and len(p) == 2 and all(isinstance(x, str) for x in p)
                                          for p in names), "its lesion names are malformed")
    focus = _array(arrays, les["focus"], "focus")
    _need(focus.shape == (3,) and np.isfinite(focus).all(), "its focus is not a point")
    lesion = Lesion(compressors={k: meshes[i] for k, i in pairs(les["compressors"], "compressors")},
                    replaced={k: meshes[i] for k, i in pairs(les["replaced"], "replaced structures")},
                    names=dict(names), focus=focus.copy(),
                    candidates=tuple(_str_list(les["candidates"], "candidates")), slow=bool(les["slow"]),
                    pinning=frozenset(_str_list(les["pinning"], "pinning")))
    compressed = []
    for c in header["compressed"]:
        sid = c["id"]
        _need(sid in model.meshes and sid in STRUCTURES, "a compressed structure is not in the model")
        degree = np.asarray(_array(arrays, c["vertex_degree"], "vertex_degree"))
        _need(degree.dtype == np.float32 and degree.shape == (len(model.meshes[sid].vertices),),
              f"{sid}'s per-vertex values do not fit its mesh")
        parts = tuple((str(r), str(s), _number(d, "a part's degree")) for r, s, d in c["parts"])
        compressed.append(Compression(sid, str(c["name"]), _number(c["degree"], "a degree"),
                                      _number(c["depth_mm"], "a depth"), degree.copy(), parts))
    impact = impact_from(condition, clean, lesion, tuple(compressed), model)
    view = None if header["story"] is None else _story(header["story"])
    presets = {str(k): tuple(_str_list(v, "a preset's see-through")) for k, v in header["presets"].items()}
    return StateEntry(impact, view, presets)


def _story(raw: dict[str, Any]) -> StoryView:
    eye, center = (np.array([_number(x, "a camera coordinate") for x in raw[k]], dtype=float) for k in ("eye", "center"))
    _need(eye.shape == (3,) and center.shape == (3,), "its camera is not two points")
    _need(raw["direction"] in story_mod.CANDIDATES, "its story direction is unknown")
    return StoryView(direction=str(raw["direction"]), phrase=str(raw["phrase"]), eye_mm=eye, center_mm=center,
                     see_through=tuple(_str_list(raw["see_through"], "see-through")),
                     lesion_ids=tuple(_str_list(raw["lesion_ids"], "lesion ids")),
                     nerve_ids=tuple(_str_list(raw["nerve_ids"], "nerve ids")),
                     scores={str(k): _number(v, "a score") for k, v in raw["scores"].items()})


def read_file(path: Path, model: SpineModel, condition: str, params: Mapping[str, str]) -> StateEntry:
    """Read and check one state file (limits first). Raises :class:`StateFileError` with the reason."""
    try:
        info = path.stat()
        _need(stat.S_ISREG(info.st_mode), f"{path.name} is not a regular file")
        _need(info.st_size <= MAX_FILE_BYTES, f"{path.name} is {info.st_size:,} bytes")
        with open(path, "rb") as handle:
            data = handle.read(MAX_FILE_BYTES + 1)
    except FileNotFoundError:
        raise StateFileError(f"{path.name} is missing") from None
    except OSError as exc:
        raise StateFileError(f"{path.name} cannot be read ({type(exc).__name__})") from None
    _need(len(data) <= MAX_FILE_BYTES, f"{path.name} grew while being read")
    try:
        return parse_entry(data, model, condition, params)
    except StateFileError as exc:
        raise StateFileError(f"{path.name} {exc}") from None


# ----------------------------------------------------------------------------- the app's entry points


def compute(model: SpineModel, condition: str, params: Mapping[str, str]) -> StateEntry:
    """Work a state out from scratch: simulate, the story view, each preset's see-through."""
    impact = simulate(condition, params, model)
    view = story_mod.choose_story_view(model, impact, settings.STORY_VIEW_ASPECT)
    presets = story_mod.preset_see_through(model, impact, _box(model)) if view is not None else {}
    return StateEntry(impact, view, presets)


def folders(model: SpineModel, states_dir: Path | None = None) -> tuple[Path, ...]:
    """Where a state is looked for: the asset folder, then the per-user cache folder."""
    return (STATES_DIR if states_dir is None else states_dir, cache_dir(model))


def lookup(model: SpineModel, condition: str, params: Mapping[str, str],
           states_dir: Path | None = None) -> tuple[StateEntry | None, str | None]:
    """The stored state, or None with the reason it cannot be used (never raises)."""
    why = None
    for n in range(2):  # the asset folder, then (only if needed) the per-user cache folder
        folder = (STATES_DIR if states_dir is None else states_dir) if n == 0 else cache_dir(model)
        try:
            return read_file(folder / file_name(condition, _clean(condition, params)), model, condition, params), None
        except StateFileError as exc:
            why = why or str(exc)
        except (ValueError, KeyError, OSError, MemoryError) as exc:
            why = why or f"{type(exc).__name__}: {str(exc)[:120]}"
    return None, why


def impact(condition: str, params: Mapping[str, str], model: SpineModel, states_dir: Path | None = None) -> Impact:
    """The state's impact: read back from its file when there is a usable one (and its story view
    and preset see-throughs handed to :mod:`explorer.render.story`), else :func:`simulate`."""
    entry, why = lookup(model, condition, params, states_dir)
    if entry is None:
        LOG.debug("State %s %s computed: %s", condition, dict(params), why)
        return simulate(condition, params, model)
    _remember(entry, model)
    return entry.impact


def _remember(entry: StateEntry, model: SpineModel) -> None:
    story_mod.remember_views(model, entry.impact, settings.STORY_VIEW_ASPECT, entry.story, entry.presets,
                             _box(model))


def _box(model: SpineModel) -> tuple[float, ...]:
    """``model_box(model)``, once per model (it scans every mesh: about 3.5 ms)."""
    from explorer.render.model_scene import model_box

    hit = _BOXES.get(id(model))
    if hit is None or hit[0] is not model:
        hit = (model, tuple(model_box(model)))
        _BOXES.clear()  # one model in use at a time (the baked one); tests may load more
        _BOXES[id(model)] = hit
    return hit[1]


_BOXES: dict[int, tuple[SpineModel, tuple[float, ...]]] = {}


def _writable(folder: Path) -> bool:
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    return os.access(folder, os.W_OK | os.X_OK)


@dataclass
class BuildReport:
    """What :func:`build` did: states already good, computed and written, and failures."""

    folder: Path | None = None
    kept: int = 0
    written: int = 0
    failed: dict[str, str] | None = None
    seconds: float = 0.0
    bytes: int = 0


def build(model: SpineModel, states_dir: Path | None = None, states: Iterable[tuple[str, Mapping[str, str]]] | None = None,
          log: Callable[[str], None] = print, pause_s: float = 0.0, wait_s: float = LOCK_WAIT_S) -> BuildReport:
    """Compute and write every state whose file is missing, stale or corrupt (good ones are kept).

    Writes to ``states_dir`` (default :data:`STATES_DIR`), or to :func:`cache_dir` if that cannot be
    written; under an exclusive lock on the folder, so two processes starting together build once.
    ``pause_s`` between states leaves the interpreter to page runs (the start-up warm-up). With
    ``wait_s=0`` nothing is built while another process holds the lock (it is building them).
    """
    report = BuildReport(failed={})
    started = time.perf_counter()
    target = STATES_DIR if states_dir is None else states_dir
    if not _writable(target):
        target = cache_dir(model)
    report.folder = target
    todo = list(registry_states() if states is None else states)
    with exclusive(target, wait_s) as held:
        if not held and wait_s <= 0:
            log(f"states: another process is building them in {target}; not building here")
            return report
        with contextlib.suppress(OSError):
            target.mkdir(parents=True, exist_ok=True)
            remove_stale_temporaries(target)
        for condition, params in todo:
            name = file_name(condition, _clean(condition, params))
            path = target / name
            try:
                read_file(path, model, condition, params)
                report.kept += 1
                continue
            except StateFileError:
                pass
            try:
                data = entry_bytes(compute(model, condition, params), model)
                atomic_write(path, data)
                report.written += 1
                report.bytes += len(data)
            except (OSError, TypeError, ValueError) as exc:
                report.failed[name] = f"{type(exc).__name__}: {str(exc)[:200]}"  # type: ignore[index]
            if pause_s:
                time.sleep(pause_s)
    report.seconds = time.perf_counter() - started
    log(f"states: {report.kept} kept, {report.written} written ({report.bytes / 1e6:.2f} MB), "
        f"{len(report.failed or {})} failed, in {report.seconds:.1f} s -> {target}")
    return report


def missing(model: SpineModel, states_dir: Path | None = None) -> int:
    """How many registry states have no usable file (checks headers only: cheap)."""
    n = 0
    for condition, params in registry_states():
        name = file_name(condition, _clean(condition, params))
        if not any(_header_ok(folder / name, model) for folder in folders(model, states_dir)):
            n += 1
    return n


def _header_ok(path: Path, model: SpineModel) -> bool:
    try:
        with open(path, "rb") as handle:
            head = handle.read(len(MAGIC) + 11 + 200)
    except OSError:
        return False
    return head.startswith(MAGIC) and f'"fingerprint":"{fingerprint(model)}"'.encode() in head


def main(argv: list[str] | None = None) -> int:
    """``python -m explorer.render.state_cache``: build every missing or stale state file."""
    import argparse

    from explorer.anatomy.model import load_model

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--states-dir", type=Path, default=STATES_DIR)
    args = parser.parse_args(argv)
    report = build(load_model(), args.states_dir)
    return 1 if report.failed else 0


if __name__ == "__main__":
    raise SystemExit(main())

"""The spine model as plain data, and the baked assets it is loaded from.

``build_structure(id)`` runs the PyVista builder for one structure. ``bake()`` writes every mesh
to ``assets/models/<id>.vtp`` (readable with ``pyvista.read`` or ParaView) plus a manifest holding
a hash of everything the builders depend on (their source code and parameter tables).
``load_model()`` uses the baked files when they are fresh and rebuilds, saying so, the ones that
are missing, stale or corrupt.

Asset files are untrusted input (issue 14): a file whose manifest hash matches may still claim
2,100,000,000 points, and VTK's reader then aborts the whole server. So VTK never reads a baked
file here: :func:`read_mesh_file` checks the XML header against size limits and decodes the arrays
itself (numpy, zlib), checking every count, offset and index before it trusts them. Anything it
does not accept is rebuilt, never fatal.

Writes are atomic (a temporary file in the same folder, then ``os.replace``), the manifest last.
If the asset folder cannot be written (a read-only install, a shared volume), the rebuilt meshes
are kept in a user cache folder keyed by the builder fingerprint, so only the first start is slow.
A rebuild holds an exclusive ``fcntl.flock`` on the folder it will write, so two processes starting
together build once: the second waits, then finds the first one's files.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import importlib.metadata
import json
import os
import re
import secrets
import stat
import tempfile
import time
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING
from xml.etree import ElementTree

import numpy as np
from numpy.typing import NDArray

from explorer import settings
from explorer.anatomy.structures import STRUCTURES, Structure

if TYPE_CHECKING:  # PyVista is imported where meshes are built or converted, not to read baked files
    import pyvista as pv

FORMAT_VERSION: int = 1
_ANATOMY_DIR = Path(__file__).resolve().parent
# Everything the meshes depend on: the builders' source and parameter tables, and the mesh
# resolution settings. Change any of these and the baked assets are stale. Modules that only
# measure or pose the finished meshes (canal, posture, measure) build nothing that is baked, so
# editing them must not force a minutes-long rebuild.
_NOT_BUILDERS: frozenset[str] = frozenset(
    {"__init__.py", "model.py", "structures.py", "canal.py", "posture.py", "measure.py"}
)
FINGERPRINT_SOURCES: tuple[Path, ...] = tuple(
    sorted(p for p in _ANATOMY_DIR.glob("*.py") if p.name not in _NOT_BUILDERS)
)
FINGERPRINT_SETTINGS: tuple[str, ...] = ("SDF_SPACING_MM", "SMOOTHING_ITERATIONS", "TARGET_FACES")

# Limits on a baked file, checked before anything is decoded. The real meshes have at most a few
# thousand points and about 100 KB per file, so these leave a wide margin and still bound memory.
MAX_MESH_FILE_BYTES: int = 16 * 1024 * 1024
MAX_MESH_POINTS: int = 500_000
MAX_MESH_TRIANGLES: int = 1_000_000
MAX_MANIFEST_BYTES: int = 1024 * 1024
# How long a process waits for another one that is rebuilding the same folder (s). flock is
# released when its holder dies, so this only matters if the holder hangs.
LOCK_WAIT_S: float = 300.0
_TMP_PREFIX = ".tmp-"
_STALE_TMP_S = 3600.0  # temporary files older than this were left by a killed writer


class MeshFileError(ValueError):
    """A baked mesh file that cannot be used, with the reason (the caller rebuilds the mesh)."""


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
        import pyvista as pv

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

    @cached_property
    def digest(self) -> str:
        """SHA-256 of every mesh's id, vertices and faces, in order (about 2 ms, once per model).

        What was computed on these exact meshes (``explorer.render.state_cache``) is valid for a
        model with the same digest, whichever file or rebuild it came from.
        """
        h = hashlib.sha256(f"meshes={len(self.meshes)}".encode())
        for sid, m in self.meshes.items():
            h.update(f"|{sid}|{m.vertices.dtype.str}{m.vertices.shape}|{m.faces.dtype.str}{m.faces.shape}|".encode())
            h.update(np.ascontiguousarray(m.vertices).tobytes())
            h.update(np.ascontiguousarray(m.faces).tobytes())
        return h.hexdigest()


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
    import pyvista as pv

    s = STRUCTURES[structure_id]
    mesh = _builders()[s.kind](s)
    mesh = pv.PolyData(mesh.points, mesh.faces).triangulate().clean()
    if mesh.n_cells == 0:
        raise ValueError(f"builder for {structure_id!r} produced an empty mesh")
    return mesh


def _pyvista_version() -> str:
    """PyVista's version without importing it (0.4 s): the installed distribution's metadata, the
    same string as ``pyvista.__version__``."""
    try:
        return importlib.metadata.version("pyvista")
    except importlib.metadata.PackageNotFoundError:  # not installed as a distribution: ask the module
        import pyvista as pv

        return str(pv.__version__)


def builder_fingerprint() -> str:
    """SHA-256 over the builders' source and parameter modules (and the format version)."""
    h = hashlib.sha256(f"format={FORMAT_VERSION};pyvista-major={_pyvista_version().split('.')[0]}".encode())
    for path in FINGERPRINT_SOURCES:
        h.update(path.name.encode())
        h.update(path.read_bytes())
    for name in FINGERPRINT_SETTINGS:
        h.update(f"{name}={getattr(settings, name)!r}".encode())
    return h.hexdigest()


# ----------------------------------------------------------------------------- files


def default_cache_dir(fingerprint: str) -> Path:
    """Where meshes rebuilt for a read-only asset folder are kept: one folder per builder fingerprint.

    ``$XDG_CACHE_HOME/lumbar-explorer/models-<fingerprint[:16]>`` (``~/.cache`` if unset).
    """
    root = os.environ.get("XDG_CACHE_HOME", "")
    if not os.path.isabs(root):  # unset or relative: the XDG spec says use ~/.cache
        try:
            root = str(Path.home() / ".cache")
        except (RuntimeError, KeyError):  # no home directory (a bare container user)
            root = os.path.join(tempfile.gettempdir(), f"cache-{os.getuid()}")
    return Path(root) / "lumbar-explorer" / f"models-{fingerprint[:16]}"


def atomic_write(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so a reader sees the old file or the whole new one, never a part.

    The bytes go to a temporary file in the same folder (same file system), are flushed to disk,
    and the temporary file is renamed over ``path`` (``os.replace`` is atomic on POSIX).
    """
    tmp = path.with_name(f"{_TMP_PREFIX}{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    try:
        with open(tmp, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(OSError):  # gone after the rename; or the folder is read-only
            tmp.unlink()


def remove_stale_temporaries(folder: Path) -> None:
    """Delete temporary files a killed writer left behind (older than an hour, so not in use)."""
    now = time.time()
    for tmp in folder.glob(f"{_TMP_PREFIX}*"):
        with contextlib.suppress(OSError):
            if now - tmp.stat().st_mtime > _STALE_TMP_S:
                tmp.unlink()


def mesh_file_bytes(mesh: pv.PolyData) -> bytes:
    """A mesh as VTK XML PolyData: inline base64, zlib-compressed, UInt32 headers.

    The layout is pinned here (not left to PyVista's defaults) because :func:`read_mesh_file`
    accepts only this layout. ParaView and ``pyvista.read`` read it as usual.
    """
    import pyvista as pv
    from vtkmodules.vtkIOXML import vtkXMLPolyDataWriter

    clean = pv.PolyData(np.asarray(mesh.points, dtype=float), mesh.faces)  # points and triangles only
    writer = vtkXMLPolyDataWriter()
    writer.SetInputData(clean)
    writer.SetDataModeToBinary()
    writer.SetCompressorTypeToZLib()
    writer.SetHeaderTypeToUInt32()
    writer.WriteToOutputStringOn()
    writer.Write()
    return writer.GetOutputString().encode("ascii")


def _write_mesh(models_dir: Path, sid: str, mesh: pv.PolyData) -> dict:
    path = models_dir / f"{sid}.vtp"
    data = mesh_file_bytes(mesh)
    parsed = _parse_vtp(data, path.name)  # the reader must accept what the writer writes
    atomic_write(path, data)
    return {"file": path.name, "sha256": hashlib.sha256(data).hexdigest(), "triangles": parsed.n_triangles,
            "bytes": len(data)}


def _write_manifest(models_dir: Path, entries: dict[str, dict]) -> dict:
    manifest = {"format": FORMAT_VERSION, "fingerprint": builder_fingerprint(),
                "structures": {sid: entries[sid] for sid in STRUCTURES if sid in entries},
                "total_triangles": sum(e["triangles"] for e in entries.values()),
                "total_bytes": sum(e["bytes"] for e in entries.values())}
    atomic_write(models_dir / settings.MANIFEST_NAME, (json.dumps(manifest, indent=1) + "\n").encode())
    return manifest


@contextlib.contextmanager
def exclusive(folder: Path, wait_s: float = LOCK_WAIT_S) -> Iterator[bool]:
    """Hold an exclusive ``flock`` on ``folder`` itself while rebuilding into it.

    The lock is taken on the folder's own file descriptor, so no lock file is left in the asset
    folder, and it is released by the kernel if the holder dies. Yields True if the lock is held.
    Without it (no fcntl, a file system without flock, or a holder hung for ``wait_s``) the caller
    goes on unlocked: the atomic renames keep every file whole, so a race costs a second build,
    never a broken file.
    """
    try:
        import fcntl
    except ImportError:  # not POSIX
        yield False
        return
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        yield False
        return
    held = False
    try:
        deadline = time.monotonic() + wait_s
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                held = True
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    break
                time.sleep(0.2)
            except OSError:  # flock not supported here
                break
        yield held
    finally:
        if held:
            fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


# ----------------------------------------------------------------------------- reading


_DTYPES: dict[str, str] = {"Float32": "f4", "Float64": "f8", "Int32": "i4", "Int64": "i8",
                           "UInt32": "u4", "UInt64": "u8"}
_COUNT = re.compile(r"[0-9]{1,12}")
MAX_BLOCKS: int = 4096  # VTK writes 32 KiB blocks: 4096 of them hold 128 MiB, more than any mesh here


def _count(element: ElementTree.Element, name: str, where: str) -> int:
    raw = element.get(name, "0")
    if not _COUNT.fullmatch(raw):
        raise MeshFileError(f"{where} {name}={raw[:20]!r} is not a whole number")
    return int(raw)


def _decode_array(element: ElementTree.Element | None, where: str, kinds: tuple[str, ...], count: int,
                  order: str, header: str) -> NDArray:
    """Decode one zlib-compressed, base64 inline ``DataArray`` holding exactly ``count`` values.

    Every size is checked before it is used: the block table must add up to ``count`` values and
    to the bytes present, and no block may inflate past its declared size (no zlib bomb).
    """
    if element is None:
        raise MeshFileError(f"{where} is missing")
    kind = element.get("type", "")
    if kind not in kinds or element.get("format") != "binary":
        raise MeshFileError(f"{where} is {kind or '?'} in {element.get('format') or '?'} format; "
                            f"expected {'/'.join(kinds)} in binary format")
    dtype = np.dtype(order + _DTYPES[kind])
    expected = count * dtype.itemsize
    text = "".join((element.text or "").split())
    word = 4 if header == "UInt32" else 8
    head_chars = 4 * ((3 * word + 2) // 3)
    try:
        n_blocks, block_size, last_size = np.frombuffer(base64.b64decode(text[:head_chars])[:3 * word],
                                                        dtype=f"{order}u{word}").tolist()
    except (binascii.Error, ValueError):
        raise MeshFileError(f"{where} has an unreadable block header") from None
    if expected == 0:
        return np.zeros(0, dtype)
    if not 0 < block_size <= 1 << 24 or not 0 < last_size <= block_size or n_blocks > MAX_BLOCKS \
            or n_blocks != -(-expected // block_size) or (n_blocks - 1) * block_size + last_size != expected:
        raise MeshFileError(f"{where}: its block table ({n_blocks} blocks of {block_size} bytes) does not hold "
                            f"the {count} values the header declares")
    table_chars = 4 * (((3 + n_blocks) * word + 2) // 3)
    try:
        sizes = np.frombuffer(base64.b64decode(text[:table_chars])[:(3 + n_blocks) * word],
                              dtype=f"{order}u{word}")[3:].tolist()
        data = base64.b64decode(text[table_chars:], validate=True)
    except (binascii.Error, ValueError):
        raise MeshFileError(f"{where} is not valid base64") from None
    if len(sizes) != n_blocks or sum(sizes) != len(data):
        raise MeshFileError(f"{where}: the compressed blocks do not add up to the {len(data)} bytes present")
    out = bytearray()
    start = 0
    for i, size in enumerate(sizes):
        want = last_size if i == n_blocks - 1 else block_size
        inflater = zlib.decompressobj()
        try:
            chunk = inflater.decompress(data[start:start + size], want + 1)
        except zlib.error:
            raise MeshFileError(f"{where}: block {i + 1} is not valid zlib data") from None
        if len(chunk) != want or not inflater.eof:
            raise MeshFileError(f"{where}: block {i + 1} inflates to a size other than the {want} bytes declared")
        out += chunk
        start += size
    return np.frombuffer(bytes(out), dtype)


def _parse_vtp(data: bytes, name: str) -> MeshData:
    """Check and decode the bytes of a baked ``.vtp`` file (the layout :func:`mesh_file_bytes` writes).

    Raises
    ------
    MeshFileError
        Saying what is wrong; nothing larger than the file's declared, capped sizes is allocated.
    """
    if not data.lstrip().startswith((b"<?xml", b"<VTKFile")):
        raise MeshFileError("is not a VTK XML file")
    if b"<!" in data:  # no DOCTYPE, hence no XML entities to expand
        raise MeshFileError("holds an XML declaration (<!...) that mesh files never have")
    try:
        root = ElementTree.fromstring(data)
    except ElementTree.ParseError as exc:
        raise MeshFileError(f"is not well-formed XML ({exc})") from None
    if root.tag != "VTKFile" or root.get("type") != "PolyData":
        raise MeshFileError("is not a VTK PolyData file")
    order = {"LittleEndian": "<", "BigEndian": ">"}.get(root.get("byte_order", ""))
    header = root.get("header_type", "UInt32")
    if order is None or header not in ("UInt32", "UInt64") or root.get("compressor") != "vtkZLibDataCompressor":
        raise MeshFileError("uses a layout this loader does not read (it reads zlib-compressed inline binary)")
    pieces = root.findall("PolyData/Piece")
    if len(pieces) != 1:
        raise MeshFileError(f"has {len(pieces)} pieces; a baked mesh has exactly one")
    piece = pieces[0]
    n_points = _count(piece, "NumberOfPoints", "the piece's")
    n_polys = _count(piece, "NumberOfPolys", "the piece's")
    others = sum(_count(piece, k, "the piece's") for k in ("NumberOfVerts", "NumberOfLines", "NumberOfStrips"))
    if n_points > MAX_MESH_POINTS or n_polys > MAX_MESH_TRIANGLES:
        raise MeshFileError(f"declares {n_points:,} points and {n_polys:,} polygons; a mesh may have at most "
                            f"{MAX_MESH_POINTS:,} points and {MAX_MESH_TRIANGLES:,} triangles")
    if n_points == 0 or n_polys == 0 or others:
        raise MeshFileError(f"holds {n_polys} polygons on {n_points} points and {others} other cells; "
                            "a baked mesh is triangles only")
    points = _decode_array(piece.find("Points/DataArray"), "Points", ("Float32", "Float64"), 3 * n_points,
                           order, header)
    polys = {a.get("Name"): a for a in piece.findall("Polys/DataArray")}
    offsets = _decode_array(polys.get("offsets"), "Polys offsets", ("Int32", "Int64"), n_polys, order, header)
    if not np.array_equal(offsets, np.arange(3, 3 * n_polys + 1, 3)):
        raise MeshFileError("has polygons that are not triangles (its offsets are not 3, 6, 9, ...)")
    connectivity = _decode_array(polys.get("connectivity"), "Polys connectivity", ("Int32", "Int64"), 3 * n_polys,
                                 order, header)
    if connectivity.min() < 0 or connectivity.max() >= n_points:
        raise MeshFileError(f"has triangles that name points outside 0..{n_points - 1}")
    vertices = points.reshape(-1, 3)
    if not np.isfinite(vertices).all():
        raise MeshFileError("has points that are not finite numbers")
    return MeshData(vertices.astype(np.float32), connectivity.reshape(-1, 3).astype(np.int32))


def read_mesh_file(path: Path, sha256: str | None = None) -> MeshData:
    """Read a baked mesh without letting VTK near it: limits first, then a checked decode.

    Parameters
    ----------
    path : Path
        A ``.vtp`` file written by :func:`bake` (or :func:`load_model`).
    sha256 : str, optional
        The hash the manifest records; a file that differs is refused.

    Raises
    ------
    MeshFileError
        Naming the file and what is wrong (missing, a directory, unreadable, too large, edited,
        malformed or out of bounds).
    """
    try:
        info = path.stat()
        if stat.S_ISDIR(info.st_mode):
            raise MeshFileError(f"file {path.name} is a directory, not a mesh file")
        if not stat.S_ISREG(info.st_mode):
            raise MeshFileError(f"file {path.name} is not a regular file")
        if info.st_size > MAX_MESH_FILE_BYTES:
            raise MeshFileError(f"file {path.name} is {info.st_size:,} bytes; a mesh file may have at most "
                                f"{MAX_MESH_FILE_BYTES:,}")
        with open(path, "rb") as handle:
            data = handle.read(MAX_MESH_FILE_BYTES + 1)
    except FileNotFoundError:
        raise MeshFileError(f"file {path.name} is missing") from None
    except OSError as exc:
        raise MeshFileError(f"file {path.name} cannot be read ({type(exc).__name__}: {exc.strerror or exc})") from None
    if len(data) > MAX_MESH_FILE_BYTES:
        raise MeshFileError(f"file {path.name} grew past {MAX_MESH_FILE_BYTES:,} bytes while being read")
    if sha256 is not None and hashlib.sha256(data).hexdigest() != sha256:
        raise MeshFileError(f"file {path.name} does not match its manifest hash (corrupt or edited)")
    try:
        return _parse_vtp(data, path.name)
    except MeshFileError as exc:
        raise MeshFileError(f"file {path.name} {exc}") from None


def read_manifest(models_dir: Path) -> tuple[dict | None, str | None]:
    """The manifest, or ``None`` with the reason it cannot be used (never raises)."""
    path = models_dir / settings.MANIFEST_NAME
    try:
        if not path.exists():
            return None, f"no manifest at {path}"
        if not path.is_file():
            raise ValueError("it is not a regular file")
        if path.stat().st_size > MAX_MANIFEST_BYTES:
            raise ValueError(f"it is over {MAX_MANIFEST_BYTES // 1024} KB")
        manifest = json.loads(path.read_bytes())
        if not isinstance(manifest, dict):
            raise ValueError(f"it holds a {type(manifest).__name__}, not a JSON object")
        if not isinstance(manifest.get("structures"), dict):
            raise ValueError("'structures' is missing or not an object")
    except (ValueError, OSError, RecursionError) as exc:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        return None, f"manifest {path} is unreadable ({type(exc).__name__}: {str(exc)[:200]})"
    return manifest, None


def _entry_problem(sid: str, entry: object) -> str | None:
    """Why a manifest entry cannot vouch for its file (None if it can)."""
    if entry is None:
        return f"{sid}: not in the manifest"
    if not isinstance(entry, dict):
        return f"{sid}: its manifest entry is a {type(entry).__name__}, not an object with a sha256"
    if not isinstance(entry.get("sha256"), str):
        return f"{sid}: its manifest entry has no sha256 text"
    return None


@dataclass
class _Found:
    """What one asset folder offers: usable meshes, and why the others cannot be used."""

    meshes: dict[str, MeshData] = field(default_factory=dict)
    entries: dict[str, dict] = field(default_factory=dict)  # manifest entries re-made from the files read
    problem: str | None = None  # a reason that applies to every mesh (no manifest, stale fingerprint)
    reasons: dict[str, str] = field(default_factory=dict)

    def missing(self) -> list[str]:
        return [sid for sid in STRUCTURES if sid not in self.meshes]


def _read_folder(models_dir: Path, fingerprint: str) -> _Found:
    found = _Found()
    manifest, problem = read_manifest(models_dir)
    if manifest is None:  # read_manifest gives a manifest or the reason there is none
        found.problem = problem
        return found
    if manifest.get("fingerprint") != fingerprint:
        found.problem = "the baked assets were made by different builder code or parameters"
        return found
    structures = manifest["structures"]
    for sid in STRUCTURES:
        entry = structures.get(sid)
        why = _entry_problem(sid, entry)
        if why is None:
            path = models_dir / f"{sid}.vtp"
            try:
                mesh = read_mesh_file(path, entry["sha256"])
                size = path.stat().st_size
                found.meshes[sid] = mesh
                # Re-made from the file, not copied: the old entry's other fields may be anything.
                found.entries[sid] = {"file": path.name, "sha256": entry["sha256"], "triangles": mesh.n_triangles,
                                      "bytes": size}
                continue
            except MeshFileError as exc:
                why = f"{sid}: {exc}"
            except OSError as exc:  # the file vanished between reading and stat
                why = f"{sid}: file {path.name} cannot be read ({exc.strerror or exc})"
        found.reasons[sid] = why
    return found


def _save(folder: Path, found: _Found, rebuilt: dict[str, pv.PolyData]) -> dict[str, str]:
    """Write the rebuilt meshes (each atomically), then a manifest naming them and the good old ones.

    Returns
    -------
    dict of str to str
        The meshes that could not be written, with the reason (one bad path, say a directory where
        a file should be, does not stop the others being saved).

    Raises
    ------
    OSError
        If the folder or the manifest cannot be written.
    """
    folder.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(folder)
    entries = dict(found.entries)
    failed: dict[str, str] = {}
    for sid, mesh in rebuilt.items():
        try:
            entries[sid] = _write_mesh(folder, sid, mesh)
        except (OSError, MeshFileError) as exc:
            failed[sid] = _why(exc)
    if len(failed) < len(rebuilt):
        _write_manifest(folder, entries)
    return failed


def load_model(models_dir: Path = settings.MODELS_DIR, save_rebuilt: bool = True,
               cache_dir: Path | None = None) -> SpineModel:
    """Load baked meshes, rebuilding (and saying why) any that are missing, stale or corrupt.

    Never raises for bad asset files: the model is always complete, and ``messages`` tells what
    had to be rebuilt so the app can show it.

    Parameters
    ----------
    models_dir : Path
        The baked assets (``assets/models``).
    save_rebuilt : bool
        Write rebuilt meshes back: to ``models_dir``, or to ``cache_dir`` if that cannot be written.
    cache_dir : Path, optional
        Where meshes rebuilt for an unwritable ``models_dir`` are kept; default
        :func:`default_cache_dir` (per user, per builder fingerprint). It is read whenever a mesh
        in ``models_dir`` is unusable, so a read-only install rebuilds once, not at every start.
    """
    fingerprint = builder_fingerprint()
    found = _read_folder(models_dir, fingerprint)
    if not found.missing():
        return SpineModel(found.meshes)  # the usual case: no lock, no cache, nothing written
    cache = cache_dir if cache_dir is not None else default_cache_dir(fingerprint)
    writable = _writable(models_dir)
    with exclusive(models_dir if writable else cache) if save_rebuilt else contextlib.nullcontext(False):
        # Another process may have rebuilt while this one waited for the lock: read again.
        found = _read_folder(models_dir, fingerprint)
        return _complete(models_dir, cache, fingerprint, found, save_rebuilt and writable, save_rebuilt)


def _writable(folder: Path) -> bool:
    """True if ``folder`` (or, if it does not exist yet, the nearest existing parent) can be written.

    ``os.access`` also sees a read-only mount (EROFS), even for root.
    """
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    return os.access(folder, os.W_OK | os.X_OK)


def _complete(models_dir: Path, cache: Path, fingerprint: str, found: _Found, save_here: bool,
              save_in_cache: bool) -> SpineModel:
    """Fill the gaps in ``found`` from the cache, then by building; save what was rebuilt.

    ``save_here``: write to ``models_dir``; ``save_in_cache``: if that is not possible or fails,
    write newly built meshes to ``cache`` instead.
    """
    messages: list[str] = []
    missing = found.missing()
    from_cache = _read_folder(cache, fingerprint) if missing and cache.resolve() != models_dir.resolve() else _Found()
    cached = [sid for sid in missing if sid in from_cache.meshes]
    to_build = [sid for sid in missing if sid not in from_cache.meshes]
    if found.problem:
        messages.append(f"Rebuilding all meshes: {found.problem}." if to_build else
                        f"Using the meshes rebuilt earlier in {cache}: {found.problem}.")
    for sid in missing:
        if sid in found.reasons:
            messages.append(f"Rebuilding {found.reasons[sid]}." if sid in to_build else
                            f"Using the copy rebuilt earlier in {cache} for {found.reasons[sid]}.")
    meshes = dict(found.meshes)
    rebuilt: dict[str, pv.PolyData] = {}
    for sid in STRUCTURES:
        if sid in cached:
            meshes[sid] = from_cache.meshes[sid]
        elif sid in to_build:
            rebuilt[sid] = build_structure(sid)
            meshes[sid] = MeshData.from_polydata(rebuilt[sid])
    unsaved = dict(rebuilt)
    if save_here and (rebuilt or cached):
        # Cached meshes are written back too: a writable folder then heals without a build.
        back = {**rebuilt, **{sid: from_cache.meshes[sid].to_polydata() for sid in cached}}
        try:
            failed = _save(models_dir, found, back)
        except (OSError, MeshFileError) as exc:
            failed = {sid: _why(exc) for sid in back}
        for sid, why in failed.items():
            messages.append(f"Could not save {sid} to {models_dir} ({why}).")
        unsaved = {sid: mesh for sid, mesh in rebuilt.items() if sid in failed}
    if unsaved and save_in_cache:  # a read-only install, or a path that cannot be written
        try:
            failed = _save(cache, from_cache, unsaved)
            if len(failed) < len(unsaved):
                messages.append(f"Saved the rebuilt meshes in the cache {cache} instead, so the next start is fast.")
            if failed:
                raise OSError(next(iter(failed.values())))
        except (OSError, MeshFileError) as exc:
            messages.append(f"Could not save rebuilt meshes in the cache {cache} either ({_why(exc)}); "
                            "they are kept in memory and will be rebuilt at the next start.")
    return SpineModel(meshes, tuple(messages))


def _why(exc: Exception) -> str:
    """An exception as a short phrase without a traceback (``PermissionError: Permission denied``)."""
    return f"{type(exc).__name__}: {getattr(exc, 'strerror', None) or exc}"


def bake(models_dir: Path = settings.MODELS_DIR, log: Callable[[str], None] = print) -> dict:
    """Build every structure, write ``<id>.vtp`` files and ``manifest.json``; return the manifest.

    Each file is written atomically and the manifest last, under the rebuild lock, so a process
    loading the folder meanwhile sees old files or new ones, never half a file.
    """
    models_dir.mkdir(parents=True, exist_ok=True)
    entries: dict[str, dict] = {}
    started = time.perf_counter()
    with exclusive(models_dir):
        remove_stale_temporaries(models_dir)
        for sid in STRUCTURES:
            t0 = time.perf_counter()
            mesh = build_structure(sid)
            entries[sid] = _write_mesh(models_dir, sid, mesh)
            log(f"built {sid:<22} {mesh.n_cells:>6} triangles  {time.perf_counter() - t0:5.2f} s")
        manifest = _write_manifest(models_dir, entries)
    log(f"baked {len(entries)} meshes, {manifest['total_triangles']} triangles, "
        f"{manifest['total_bytes'] / 1e6:.2f} MB in {time.perf_counter() - started:.1f} s")
    return manifest

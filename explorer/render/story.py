"""The story view of a condition: where the camera looks from, and what it sees through.

A condition's picture is its lesion and the nerve it squeezes. This module chooses, for any
condition, a camera that shows both at first sight, without knowing condition ids:

1. a few candidate directions (from behind, behind-and-to-one-side, one side, behind-and-below...)
   are each framed on the lesion and the squeezed part of the nerve (their bounding box fits the
   view with a margin, in Plotly's perspective camera);
2. rays are cast from each candidate eye to sample points of the lesion and the squeezed nerve
   against every other structure (one VTK cell locator of the healthy model, built once and shared,
   and a small one of the impact's own meshes): a structure that stands in front is an occluder;
   a direction's score rewards how much of the view the targets cover and how little has to be
   made see-through, and follows the lesion's side (a one-sided lesion is seen from its own side)
   and a slipped bone's motion (seen side-on, so the step shows). Rays are cast only for
   candidates that can still win (branch and bound; the same winner as scoring them all);
3. the chosen view's occluders are listed, so the scene can make exactly them see-through.

Everything is in millimetres on the patient's axes (RAS: +x right, +y anterior, +z up) until
:func:`plotly_camera` converts to Plotly's normalised scene units.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np

from explorer import settings
from explorer.anatomy.model import MeshData, SpineModel
from explorer.anatomy.structures import STRUCTURES
from explorer.conditions.simulate import Impact
from explorer.lazy import lazy_callable, lazy_module
from explorer.render.scene3d import scene_point, scene_to_mm

if TYPE_CHECKING:
    import pyvista as pv

    # The two VTK modules needed, not the `vtk` package, which loads every VTK module (2-5 s of a first run).
    from vtkmodules.vtkCommonCore import vtkIdList, vtkPoints
    from vtkmodules.vtkCommonDataModel import vtkGenericCell, vtkStaticCellLocator
else:  # imported on first use (explorer/lazy.py): the first page needs none of it
    pv = lazy_module("pyvista")
    vtkIdList = lazy_callable("vtkmodules.vtkCommonCore", "vtkIdList")
    vtkPoints = lazy_callable("vtkmodules.vtkCommonCore", "vtkPoints")
    vtkStaticCellLocator = lazy_callable("vtkmodules.vtkCommonDataModel", "vtkStaticCellLocator")
    vtkGenericCell = lazy_callable("vtkmodules.vtkCommonDataModel", "vtkGenericCell")

# Plotly's 3D camera: perspective with a 45 degree vertical field of view (gl-plot3d's fovy).
FOVY_RAD: float = math.pi / 4
NERVE_KINDS: tuple[str, ...] = ("root", "sciatic", "cauda-equina", "conus")
# Bundles of many roots in one mesh: lit only where pressed (lit whole, a slight touch would
# paint the whole cauda equina).
BUNDLE_KINDS: tuple[str, ...] = ("cauda-equina", "conus")
# A squeezed nerve is framed where it is squeezed: the part within this distance of the lesion
# (a root runs from the conus to the thigh; framing all of it would make everything tiny).
FRAME_NERVE_RADIUS_MM: float = 32.0
# Structures squeezed less than this fraction of the worst one are highlighted but not framed.
FRAME_DEGREE_FRACTION: float = 0.5
FRAME_MARGIN: float = 0.18          # fraction of the half-view left free around the framed box
MIN_HALF_VIEW_MM: float = 38.0      # never closer than a ~85 mm tall view (keeps the context)
SAMPLES_PER_TARGET: int = 100       # rays cast per target (lesion, nerve) and direction
BEHIND_WEIGHT: float = 0.3         # preference for views from behind
COVER_ENOUGH: float = 0.06         # grid share at which a target counts as plainly visible
GRID_CELLS: int = 48                # coverage is counted on a GRID_CELLS x GRID_CELLS screen grid
SIDE_OFFSET_MM: float = 6.0         # a lesion this far off the midline has a side
# How strongly a slip asks for a side view (slips are graded on a lateral picture, Meyerding 1932). At 2.5
# an isthmic L5-S1 grade 2 and every degenerative L5-S1 slip opened from behind, where no step shows.
SLIP_WEIGHT: float = 4.5
SLIP_MM: float = 3.0                # a replaced bone moved this far has slipped
FADE_RAY_FRACTION: float = 0.02     # an occluder blocking this share of the rays is made see-through
OPAQUE_FROM: float = 0.5            # structures at least this opaque hide what is behind them

# Candidate eye directions (from the target towards the eye, RAS) and how each reads in words.
# Left-side directions are listed first: on a tie the left view wins (as the "Left side" preset).
CANDIDATES: dict[str, tuple[tuple[float, float, float], str]] = {
    "posterior": ((0.0, -1.0, 0.15), "from behind"),
    "posterolateral-left": ((-0.75, -0.7, 0.2), "from behind and to the left"),
    "posterolateral-right": ((0.75, -0.7, 0.2), "from behind and to the right"),
    "lateral-left": ((-1.0, -0.12, 0.12), "from the left side"),
    "lateral-right": ((1.0, -0.12, 0.12), "from the right side"),
    "posterior-below-left": ((-0.5, -0.8, -0.45), "from behind, below and to the left"),
    "posterior-below-right": ((0.5, -0.8, -0.45), "from behind, below and to the right"),
    "posterior-below": ((0.0, -0.88, -0.45), "from behind and below"),
    "posterior-above": ((0.0, -0.8, 0.6), "from behind and above"),
}


@dataclass(frozen=True)
class StoryView:
    """The camera that tells a condition's story and what it must see through.

    Attributes
    ----------
    direction : str
        Key of :data:`CANDIDATES` that won.
    phrase : str
        How the view reads in a sentence ("from behind and to the left").
    eye_mm, center_mm : numpy.ndarray
        Camera position and look-at point (mm, RAS).
    see_through : tuple of str
        Structure ids standing between the eye and the lesion or squeezed nerve.
    lesion_ids, nerve_ids : tuple of str
        What the view was framed on (lesion meshes; squeezed nerve structures).
    scores : dict
        Candidate -> score (for tests and tuning), for the candidates scored exactly: one that could
        not have won is left out (:func:`choose_story_view` prunes them).
    """

    direction: str
    phrase: str
    eye_mm: np.ndarray
    center_mm: np.ndarray
    see_through: tuple[str, ...]
    lesion_ids: tuple[str, ...]
    nerve_ids: tuple[str, ...]
    scores: dict[str, float] = field(default_factory=dict)


def lesion_meshes(impact: Impact) -> dict[str, MeshData]:
    """The lesion as drawn: named replaced structures (a slipped vertebra, a swollen muscle) and
    compressors that are not one of them, keyed by the trace id they are drawn with.

    Remembered per impact (triangulating the meshes cost about 30 ms on every rerun); the
    meshes are shared, never mutate them.
    """
    key = id(impact)
    hit = _LESION_CACHE.get(key)
    if hit is not None and hit[0] is impact:
        return dict(hit[1])
    out = _lesion_meshes(impact)
    if len(_LESION_CACHE) >= _CACHE_LIMIT:
        _LESION_CACHE.pop(next(iter(_LESION_CACHE)))
    # The impact is kept with its meshes, so its id cannot be reused while the entry lives.
    _LESION_CACHE[key] = (impact, out)
    return dict(out)


_LESION_CACHE: dict[int, tuple[Impact, dict[str, MeshData]]] = {}


def _lesion_meshes(impact: Impact) -> dict[str, MeshData]:
    out: dict[str, MeshData] = {}
    replaced_ids = {id(m) for m in impact.lesion.replaced.values()}
    for sid, mesh in impact.lesion.replaced.items():
        if sid in impact.lesion.names:
            out[sid] = MeshData.from_polydata(mesh)
    for lid, mesh in impact.lesion.compressors.items():
        if id(mesh) not in replaced_ids:
            out[lid] = MeshData.from_polydata(mesh)
    return out


def squeezed_nerves(impact: Impact) -> dict[str, float]:
    """Squeezed nerve structures (roots, sciatic nerve, cauda equina) -> degree 0..1."""
    return {c.id: c.degree for c in impact.compressed if STRUCTURES[c.id].kind in NERVE_KINDS}


def framed_nerves(impact: Impact) -> tuple[str, ...]:
    """The squeezed nerves the camera frames: those squeezed at least half as much as the worst."""
    degrees = squeezed_nerves(impact)
    singles = {sid: d for sid, d in degrees.items() if STRUCTURES[sid].kind not in BUNDLE_KINDS}
    degrees = singles or degrees  # a bundle is framed only when no single root is squeezed
    if not degrees:
        return ()
    worst = max(degrees.values())
    return tuple(sid for sid, d in degrees.items() if d >= FRAME_DEGREE_FRACTION * worst)


def _subsample(points: np.ndarray, n: int) -> np.ndarray:
    if len(points) <= n:
        return points
    return points[np.linspace(0, len(points) - 1, n).round().astype(int)]


def _near(points: np.ndarray, others: np.ndarray, radius: float) -> np.ndarray:
    """The rows of ``points`` within ``radius`` mm of any row of ``others``."""
    from scipy.spatial import cKDTree

    dist, _ = cKDTree(others).query(points)
    return points[dist <= radius]


def _basis(direction: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Unit (back, right, up) of a camera whose eye lies along ``direction``, z kept up."""
    back = direction / np.linalg.norm(direction)
    up = np.array([0.0, 0.0, 1.0]) - back[2] * back
    up /= np.linalg.norm(up)
    right = np.cross(up, back)  # the screen's +x
    return back, right, up


def frame(points: np.ndarray, direction: np.ndarray, aspect: float) -> tuple[np.ndarray, np.ndarray]:
    """Eye and look-at point (mm) so that ``points`` fill a perspective view with a margin.

    Parameters
    ----------
    points : numpy.ndarray
        (N, 3) points to frame, mm.
    direction : numpy.ndarray
        From the look-at point towards the eye.
    aspect : float
        The view's width / height.
    """
    back, right, up = _basis(np.asarray(direction, dtype=float))
    lo, hi = points.min(axis=0), points.max(axis=0)
    center = (lo + hi) / 2
    q = points - center
    x, y, z = q @ right, q @ up, q @ back
    # Centre the framed box on the screen, not just in space.
    center = center + right * (x.max() + x.min()) / 2 + up * (y.max() + y.min()) / 2
    x, y = x - (x.max() + x.min()) / 2, y - (y.max() + y.min()) / 2
    tan_v = math.tan(FOVY_RAD / 2) * (1 - FRAME_MARGIN)
    tan_h = tan_v * aspect
    need = np.maximum(np.abs(x) / tan_h, np.abs(y) / tan_v) + z
    dist = float(need.max())
    dist = max(dist, MIN_HALF_VIEW_MM / math.tan(FOVY_RAD / 2))
    return center + back * dist, center


def project(points: np.ndarray, eye: np.ndarray, center: np.ndarray, aspect: float) -> np.ndarray:
    """Screen coordinates (-1..1 on both axes inside the view) of ``points`` for this camera."""
    back, right, up = _basis(eye - center)
    q = points - eye
    depth = -(q @ back)
    depth = np.where(depth > 1e-6, depth, 1e-6)
    t = math.tan(FOVY_RAD / 2)
    return np.column_stack([(q @ right) / depth / (t * aspect), (q @ up) / depth / t])


def coverage(points: np.ndarray, eye: np.ndarray, center: np.ndarray, aspect: float) -> float:
    """Share of a coarse screen grid the projected points fall in (a proxy for pixel coverage)."""
    s = project(points, eye, center, aspect)
    inside = np.all(np.abs(s) < 1, axis=1)
    if not inside.any():
        return 0.0
    cells = np.floor((s[inside] + 1) / 2 * GRID_CELLS).astype(int)
    # Distinct (column, row) cells; both lie in 0..GRID_CELLS, so one integer key per cell.
    return len(np.unique(cells[:, 0] * (GRID_CELLS + 1) + cells[:, 1])) / GRID_CELLS**2


class _Locator:
    """Meshes in one static cell locator; a ray's answer is a bit mask of the meshes it passes through.

    Bit ``bit_of[sid]`` stands for mesh ``sid``. Queries pass their own VTK cell, point and id
    objects, so one locator can serve several sessions' threads at once.
    """

    def __init__(self, meshes: Mapping[str, MeshData], bit_of: Mapping[str, int]) -> None:
        self.cell_bit: list[int] = []
        self.locator: vtkStaticCellLocator | None = None
        parts = []
        for sid, mesh in meshes.items():
            poly = mesh.to_polydata()
            poly.cell_data["owner"] = np.full(poly.n_cells, bit_of[sid], dtype=np.int32)
            parts.append(poly)
        if parts:  # an empty locator would complain on stderr; masks() answers without it
            self.merged = pv.merge(parts, merge_points=False)
            owner = np.asarray(self.merged.cell_data["owner"])
            bit = [1 << n for n in range(int(owner.max()) + 1)]
            self.cell_bit = [bit[n] for n in owner.tolist()]  # one int object per mesh, shared
            self.locator = vtkStaticCellLocator()
            # One cell per bucket: rays cost about half as much as with the default 10 (measured:
            # 13 vs 29 us a ray on the model, the same cells hit), for a build of about 11 ms.
            self.locator.SetNumberOfCellsPerNode(1)
            self.locator.SetDataSet(self.merged)
            self.locator.BuildLocator()

    def masks(self, eye: np.ndarray, targets: np.ndarray, stop_mm: float) -> list[int]:
        """For each target point, the meshes the segment from ``eye`` to ``stop_mm`` short of it crosses."""
        if self.locator is None or not len(targets):
            return [0] * len(targets)
        return [self.mask(eye_t, end) for eye_t, end in _segments(eye, targets, stop_mm)]

    def mask(self, eye: Sequence[float], end: Sequence[float], query: tuple | None = None) -> int:
        """The meshes the segment ``eye`` -> ``end`` crosses (a bit mask)."""
        if self.locator is None:
            return 0
        points, cells, cell = query if query is not None else (vtkPoints(), vtkIdList(), vtkGenericCell())
        cells.Reset()
        self.locator.IntersectWithLine(eye, end, 1e-6, points, cells, cell)
        bits, out = self.cell_bit, 0
        for i in range(cells.GetNumberOfIds()):
            out |= bits[cells.GetId(i)]
        return out


def _segments(eye: np.ndarray, targets: np.ndarray, stop_mm: float) -> list[tuple[list[float], list[float]]]:
    """(eye, end) per target: the segment from ``eye`` to ``stop_mm`` short of the target point."""
    seg = targets - eye
    # Summed in the order np.linalg.norm sums one row (x, y, then z): the same bits as row by row.
    length = np.sqrt(seg[:, 0] * seg[:, 0] + seg[:, 1] * seg[:, 1] + seg[:, 2] * seg[:, 2])
    ends = eye + seg * np.maximum(0.0, (length - stop_mm) / length)[:, None]
    eye_l = eye.tolist()
    return [(eye_l, end) for end in ends.tolist()]


def _names(mask: int, ids: Sequence[str]) -> set[str]:
    return {ids[n] for n in range(mask.bit_length()) if mask >> n & 1}


def _model_locator(model: SpineModel) -> _Locator:
    """Every healthy structure of ``model`` in one locator, built once per model (about 40 ms).

    Bits follow the model's mesh order. Before this was shared, every story view merged the meshes
    and built a locator of its own (three of them, about 45 ms a call).
    """
    with _MODEL_LOCK:
        hit = _MODEL_LOCATORS.get(id(model))
        if hit is None or hit[0] is not model:
            hit = (model, _Locator(model.meshes, {sid: n for n, sid in enumerate(model.meshes)}))
            _MODEL_LOCATORS.clear()  # one model in use at a time (the baked one); tests may load more
            _MODEL_LOCATORS[id(model)] = hit
        return hit[1]


def warm_up(model: SpineModel) -> None:
    """Build ``model``'s shared locator now (for a start-up warm-up: the first story view of the
    process then does not wait for it)."""
    _model_locator(model)


_MODEL_LOCATORS: dict[int, tuple[SpineModel, _Locator]] = {}
_MODEL_LOCK = threading.Lock()


def slip_motions(model: SpineModel, impact: Impact) -> list[np.ndarray]:
    """Unit directions in which a replaced bone's outline moved (a slipped vertebra), if any.

    The front and back edges are compared separately (bounding-box corners): an isthmic slip
    carries the body forward and down while its arch stays behind, so no single mean shift
    describes it.
    """
    out: list[np.ndarray] = []
    for sid, mesh in impact.lesion.replaced.items():
        s = STRUCTURES.get(sid)
        if s is None or s.layer not in settings.BONE_LAYERS or sid not in model.meshes:
            continue
        new, old = np.asarray(mesh.points), model.meshes[sid].vertices
        moves = [new.min(axis=0) - old.min(axis=0), new.max(axis=0) - old.max(axis=0)]
        if max(float(np.linalg.norm(m)) for m in moves) < SLIP_MM:
            continue
        out += [m / np.linalg.norm(m) for m in moves if np.linalg.norm(m) >= SLIP_MM / 2]
    return out


def _opacity(sid: str) -> float:
    s = STRUCTURES.get(sid)
    return 1.0 if s is None else settings.OPACITY.get(s.kind, 1.0)


@dataclass
class RayScene:
    """What the rays of one impact need, for every candidate camera and every preset.

    Structures are bits: the model's meshes first (in their replaced shape where the condition
    replaced them), then lesion meshes and replaced structures that are not in the model. The
    healthy model's shared locator answers for every structure the condition left alone; a small
    locator of the impact's own meshes (replaced structures, lesion meshes) answers for the rest.
    """

    lesion: dict[str, MeshData]
    nerve_ids: tuple[str, ...]
    lesion_pts: np.ndarray
    nerve_pts: np.ndarray
    framed: np.ndarray
    lesion_samples: np.ndarray
    nerve_samples: np.ndarray
    ids: list[str]              # bit -> structure or lesion id
    healthy: _Locator           # the model's locator (bits 0..len(model.meshes) - 1)
    healthy_keep: int           # model bits whose healthy shape still stands
    own: _Locator               # replaced structures and lesion meshes
    own_main: int               # bits of ``own`` that count on rays to the targets (replaced structures)
    occluders: int              # every structure but the targets (the lesion and the framed nerves)
    opaque: int                 # occluders that hide what is behind them
    nerves: int                 # the framed nerves (they cannot be cut away)
    lesion_bits: int            # the lesion meshes (they may hide the nerve they squeeze)

    def main(self, eye: np.ndarray, targets: np.ndarray) -> list[int]:
        """Per target point: the structures (bits) on the ray from ``eye`` to 1.5 mm short of it."""
        query = (vtkPoints(), vtkIdList(), vtkGenericCell())
        own = self.own_main != 0
        out = []
        for eye_t, end in _segments(eye, targets, 1.5):
            m = self.healthy.mask(eye_t, end, query) & self.healthy_keep
            if own:
                m |= self.own.mask(eye_t, end, query) & self.own_main
            out.append(m)
        return out


def ray_scene(model: SpineModel, impact: Impact) -> RayScene | None:
    """The rays' set-up for this impact (None without a lesion mesh), remembered per impact."""
    key = id(impact)
    hit = _RAY_SCENES.get(key)
    if hit is not None and hit[0] is impact and hit[1] is model:
        return hit[2]
    scene = _build_ray_scene(model, impact)
    with _RAY_SCENES_LOCK:
        while len(_RAY_SCENES) >= _RAY_SCENES_LIMIT:
            _RAY_SCENES.pop(next(iter(_RAY_SCENES)))
        _RAY_SCENES[key] = (impact, model, scene)  # kept with the impact: its id cannot be reused meanwhile
    return scene


_RAY_SCENES: dict[int, tuple[Impact, SpineModel, RayScene | None]] = {}
_RAY_SCENES_LOCK = threading.Lock()
# A state's story view and its preset views are asked for together, and both are cached on their
# own: a few scenes suffice (each holds a locator of the impact's meshes, up to about 1-2 MB).
_RAY_SCENES_LIMIT: int = 16


def _build_ray_scene(model: SpineModel, impact: Impact) -> RayScene | None:
    lesion = lesion_meshes(impact)
    if not lesion:
        return None
    nerve_ids = framed_nerves(impact)
    lesion_pts = np.vstack([m.vertices for m in lesion.values()]).astype(float)
    replaced = {sid: MeshData.from_polydata(poly) for sid, poly in impact.lesion.replaced.items()}
    meshes: dict[str, MeshData] = dict(model.meshes) | replaced
    nerve_pts = np.zeros((0, 3))
    if nerve_ids:
        allnerve = np.vstack([meshes[sid].vertices for sid in nerve_ids]).astype(float)
        nerve_pts = _near(allnerve, lesion_pts, FRAME_NERVE_RADIUS_MM)
    framed = np.vstack([lesion_pts, nerve_pts]) if len(nerve_pts) else lesion_pts
    # Bits: the model's structures, then replaced structures not in the model, then lesion meshes
    # that are not a replaced structure (a lesion id may repeat a model id: it is its own mesh).
    ids = list(model.meshes) + [sid for sid in replaced if sid not in model.meshes]
    bit_of = {sid: n for n, sid in enumerate(ids)}
    extra = [lid for lid in lesion if lid not in replaced]
    lesion_bit = {lid: bit_of[lid] if lid in replaced else len(ids) + extra.index(lid) for lid in lesion}
    ids += extra
    own_meshes = {f"r:{sid}": m for sid, m in replaced.items()} | {f"l:{lid}": m for lid, m in lesion.items()
                                                                   if lid not in replaced}
    own_bits = {f"r:{sid}": bit_of[sid] for sid in replaced} | {f"l:{lid}": lesion_bit[lid] for lid in lesion
                                                                if lid not in replaced}
    targets = set(lesion) | set(nerve_ids)

    def bits(sids: Iterable[str]) -> int:
        return sum(1 << bit_of[sid] for sid in sids)

    occluders = bits(sid for sid in meshes if sid not in targets)
    return RayScene(
        lesion=lesion, nerve_ids=nerve_ids, lesion_pts=lesion_pts, nerve_pts=nerve_pts, framed=framed,
        lesion_samples=_subsample(lesion_pts, SAMPLES_PER_TARGET),
        nerve_samples=_subsample(nerve_pts, SAMPLES_PER_TARGET),
        ids=ids, healthy=_model_locator(model),
        healthy_keep=bits(sid for sid in model.meshes if sid not in replaced),
        own=_Locator(own_meshes, own_bits), own_main=bits(replaced),
        occluders=occluders, opaque=bits(sid for sid in meshes if sid not in targets and _opacity(sid) >= OPAQUE_FROM),
        nerves=bits(nerve_ids), lesion_bits=sum(1 << b for b in set(lesion_bit.values())),
    )


def _score(cover_l: float, cover_n: float, vis_l: float, vis_n: float, vis_under: float, n_blocking: int,
           d: np.ndarray, side: float, slips: list[np.ndarray]) -> float:
    """A candidate direction's score (higher is better). Rising in every visibility, falling in
    ``n_blocking``: with the visibilities at their best and the blockers found so far it bounds
    the score from above (:func:`choose_story_view` prunes with that)."""
    # Coverage counts until the targets are plainly visible; past that, fewer cut-aways win.
    score = (min(cover_l / COVER_ENOUGH, 1.0) + min(cover_n / COVER_ENOUGH, 1.0)
             + 0.5 * (vis_l + vis_n) + 0.5 * vis_under - 0.04 * n_blocking)
    # The canal, the lateral recess, the foramen and the buttock are drawn from behind in the
    # textbooks (the surgeon's view too): a side view has to be clearly better to win.
    score += BEHIND_WEIGHT * max(-float(d[1]), 0.0)
    if side and d[0] * side < -0.1:
        score -= 1.0  # a one-sided lesion is seen from its own side...
    elif side and d[0] * side > 0.3:
        score += 0.15  # ...and preferably from a little to that side
    if not side:
        score -= 0.05 * max(float(d[0]), 0.0)  # a two-sided picture: the left view on a tie
    if slips:  # a slip shows side-on: look across the plane the bone moved in
        score += SLIP_WEIGHT * float(np.mean([1.0 - abs(float(d @ m)) for m in slips]))
    elif not side:
        score -= 0.2 * abs(float(d[0]))  # a central lesion is seen straight on
    return score


# A candidate is dropped once its best possible score is this far below the best exact score
# found: far more than the 1e-9 tie margin, so the winner is the one scoring every candidate gives.
PRUNE_MARGIN: float = 1e-6
PRUNE_EVERY: int = 8  # rays between two bound checks


@dataclass
class _Candidate:
    name: str
    d: np.ndarray
    eye: np.ndarray
    center: np.ndarray
    cover_l: float
    cover_n: float
    score: float | None = None
    hits: list[int] = field(default_factory=list)

    def bound(self, side: float, slips: list[np.ndarray], vis_l: float = 1.0, vis_n: float = 1.0,
              vis_under: float = 1.0, n_blocking: int = 0) -> float:
        return _score(self.cover_l, self.cover_n, vis_l, vis_n, vis_under, n_blocking, self.d, side, slips)


def choose_story_view(model: SpineModel, impact: Impact, aspect: float = 1.0) -> StoryView | None:
    """The camera that shows this impact's lesion and squeezed nerve best (see the module doc).

    Every candidate's score has cheap terms (coverage, direction) and ray-cast ones (visibility,
    cut-aways) that can only lower it from their best. Candidates are scored in order of that
    upper bound, and rays stop for a candidate once its bound falls clearly below the best exact
    score so far (branch and bound): the same view as scoring every candidate fully, with rays
    cast for about a third of them.

    Parameters
    ----------
    model : SpineModel
        The healthy model (its meshes stand in front of the targets unless replaced).
    impact : Impact
        What the condition did.
    aspect : float, default 1.0
        The view's width / height (the box must fit both ways).

    Returns
    -------
    StoryView or None
        ``None`` when the impact has no lesion mesh. Its ``scores`` hold the candidates scored
        exactly; a candidate that could not have won is left out.
    """
    sc = ray_scene(model, impact)
    if sc is None:
        return None
    offset = float(sc.framed[:, 0].mean())
    side = 0.0 if abs(offset) < SIDE_OFFSET_MM else math.copysign(1.0, offset)
    slips = slip_motions(model, impact)
    cands = []
    for name, (vec, _phrase) in CANDIDATES.items():
        d = np.asarray(vec, dtype=float)
        d /= np.linalg.norm(d)
        eye, center = frame(sc.framed, d, aspect)
        cov_l = coverage(sc.lesion_pts, eye, center, aspect)
        cov_n = coverage(sc.nerve_pts, eye, center, aspect) if len(sc.nerve_pts) else 0.0
        cands.append(_Candidate(name, d, eye, center, cov_l, cov_n))
    best = -math.inf
    for c in sorted(cands, key=lambda c: -c.bound(side, slips)):  # stable: list order on ties
        if c.bound(side, slips) < best - PRUNE_MARGIN:
            break  # sorted by bound: no later candidate can win either
        c.score = _rays_and_score(sc, c, side, slips, best)
        if c.score is not None:
            best = max(best, c.score)
    # The same rule as scoring every candidate in list order: a later one wins only if clearly better.
    winner, top = cands[0], -math.inf
    scores: dict[str, float] = {}
    for c in cands:
        if c.score is None:
            continue
        scores[c.name] = round(c.score, 4)
        if top == -math.inf or c.score > top + 1e-9:
            winner, top = c, c.score
    return StoryView(direction=winner.name, phrase=CANDIDATES[winner.name][1], eye_mm=winner.eye,
                     center_mm=winner.center, see_through=_faded(winner.hits, sc.ids),
                     lesion_ids=tuple(sc.lesion), nerve_ids=sc.nerve_ids, scores=scores)


@lru_cache(maxsize=8)
def _spread(n: int) -> tuple[int, ...]:
    """0..n-1 in bit-reversed order: neighbouring samples (which tend to meet the same structures)
    come far apart, so the first few rays already see most of what blocks the view."""
    width = max(1, (n - 1).bit_length())
    return tuple(sorted(range(n), key=lambda i: int(f"{i:0{width}b}"[::-1], 2)))


def _rays_and_score(sc: RayScene, c: _Candidate, side: float, slips: list[np.ndarray], best: float) -> float | None:
    """Cast the candidate's rays and return its exact score, or None as soon as its upper bound
    falls below ``best - PRUNE_MARGIN`` (it cannot win).

    The order of the rays changes nothing in the score (counts and a union); rays to the lesion and
    to the nerve alternate, each in :func:`_spread` order, and the lesion's own rays (cheap, and
    rarely blocked) come last.
    """
    n_l, n_n = len(sc.lesion_samples), len(sc.nerve_samples)
    n_u = n_n  # the lesion may hide the nerve it squeezes: rays to the nerve samples, lesion only
    query = (vtkPoints(), vtkIdList(), vtkGenericCell())
    own = sc.own_main != 0
    segs = _segments(c.eye, np.vstack([sc.lesion_samples, sc.nerve_samples]), 1.5)
    under = _segments(c.eye, sc.nerve_samples, 2.5) if n_u else []
    lesion_order, nerve_order = _spread(n_l), [n_l + i for i in _spread(n_n)]
    main_order = [k for pair in zip(lesion_order, nerve_order, strict=False) for k in pair]
    main_order += [*lesion_order[len(nerve_order):], *nerve_order[len(lesion_order):]]
    hits = [0] * (n_l + n_n)
    hidden_l = hidden_n = hidden_u = 0
    blocking = 0
    for step, k in enumerate(main_order + [-1 - i for i in range(n_u)]):
        if k >= 0:
            eye_t, end = segs[k]
            m = sc.healthy.mask(eye_t, end, query) & sc.healthy_keep
            if own:
                m |= sc.own.mask(eye_t, end, query) & sc.own_main
            hit = hits[k] = m & sc.occluders
            opaque = hit & sc.opaque
            blocking |= opaque
            if k < n_l:
                # The highlighted nerves cannot be cut away: a lesion behind them counts as hidden.
                hidden_l += bool(opaque or m & sc.nerves)
            else:
                hidden_n += bool(opaque)
        else:
            eye_t, end = under[-1 - k]
            hidden_u += bool(sc.own.mask(eye_t, end, query) & sc.lesion_bits)
        if (step + 1) % PRUNE_EVERY == 0:
            bound = c.bound(side, slips, (n_l - hidden_l) / n_l if n_l else 1.0,
                            (n_n - hidden_n) / n_n if n_n else 1.0, (n_u - hidden_u) / n_u if n_u else 1.0,
                            blocking.bit_count())
            if bound < best - PRUNE_MARGIN:
                return None
    c.hits = hits
    # Each share as np.mean of booleans gave it before: a count over the number of rays.
    vis_l = (n_l - hidden_l) / n_l if n_l else 1.0
    vis_n = (n_n - hidden_n) / n_n if n_n else 1.0
    vis_under = (n_u - hidden_u) / n_u if n_u else 1.0
    return _score(c.cover_l, c.cover_n, vis_l, vis_n, vis_under, blocking.bit_count(), c.d, side, slips)


def see_through_from(model: SpineModel, impact: Impact, eye_mm: np.ndarray) -> tuple[str, ...]:
    """What stands between an eye (mm) and the lesion or the framed squeezed nerve (a preset view)."""
    sc = ray_scene(model, impact)
    if sc is None:
        return ()
    hits = sc.main(np.asarray(eye_mm, dtype=float), np.vstack([sc.lesion_samples, sc.nerve_samples]))
    return _faded([m & sc.occluders for m in hits], sc.ids)


def _faded(hits: list[int], ids: Sequence[str]) -> tuple[str, ...]:
    """The structures blocking at least FADE_RAY_FRACTION of the rays (at least one ray)."""
    counts: dict[str, int] = {}
    for hit in hits:
        for h in _names(hit, ids):
            counts[h] = counts.get(h, 0) + 1
    threshold = max(1, int(FADE_RAY_FRACTION * len(hits)))
    return tuple(sorted(h for h, c in counts.items() if c >= threshold))


def view_from(model: SpineModel, impact: Impact, camera: Mapping[str, Mapping[str, float]],
              box: Sequence[float], phrase: str) -> StoryView | None:
    """The story view's targets seen from another camera (a preset): what to make see-through there."""
    story = story_view(model, impact, settings.STORY_VIEW_ASPECT)
    if story is None:
        return None
    eye = scene_to_mm(camera["eye"], box)
    key = _preset_key(model, impact, eye)
    hit = _CACHE.get(key, _MISSING)
    if hit is _MISSING:
        hit = _preset_view(story, camera, box, phrase, see_through_from(model, impact, eye))
        _remember(key, hit)
    return hit  # type: ignore[return-value]


def _preset_view(story: StoryView, camera: Mapping[str, Mapping[str, float]], box: Sequence[float], phrase: str,
                 see_through: tuple[str, ...]) -> StoryView:
    return replace(story, direction="preset", phrase=phrase, eye_mm=scene_to_mm(camera["eye"], box),
                   center_mm=scene_to_mm(camera.get("center", {}), box), see_through=see_through, scores={})


def preset_see_through(model: SpineModel, impact: Impact, box: Sequence[float]) -> dict[str, tuple[str, ...]]:
    """What each preset camera (``settings.CAMERA_PRESETS``) must see through: :func:`see_through_from`
    from each preset's eye (what :func:`view_from` gives a page showing that preset)."""
    return {name: see_through_from(model, impact, scene_to_mm(camera["eye"], box))
            for name, camera in settings.CAMERA_PRESETS.items()}


def remember_views(model: SpineModel, impact: Impact, aspect: float, story: StoryView | None,
                   presets: Mapping[str, tuple[str, ...]], box: Sequence[float]) -> None:
    """Hand :func:`story_view` and :func:`view_from` answers worked out before (a state read back
    from ``explorer.render.state_cache``, computed by these same functions on the same model), so
    they return them instead of casting rays. A preset not in ``presets`` is computed as usual."""
    _remember(_story_key(model, impact, aspect), story)
    if story is None:
        return
    for name, see_through in presets.items():
        camera = settings.CAMERA_PRESETS.get(name)
        if camera is not None:
            eye = scene_to_mm(camera["eye"], box)
            _remember(_preset_key(model, impact, eye),
                      _preset_view(story, camera, box, settings.CAMERA_PHRASES[name], tuple(see_through)))


def _story_key(model: SpineModel, impact: Impact, aspect: float) -> tuple:
    return (id(model), impact.condition, tuple(sorted(impact.parameters.items())), round(float(aspect), 2))


def _preset_key(model: SpineModel, impact: Impact, eye: np.ndarray) -> tuple:
    return ("preset", id(model), impact.condition, tuple(sorted(impact.parameters.items())), tuple(np.round(eye, 1)))


def _remember(key: tuple, view: StoryView | None) -> None:
    with _CACHE_LOCK:
        _CACHE.pop(key, None)
        while len(_CACHE) >= _CACHE_LIMIT:
            _CACHE.pop(next(iter(_CACHE)))
        _CACHE[key] = view


_CACHE: dict[tuple, StoryView | None] = {}
_MISSING = object()
_CACHE_LOCK = threading.Lock()
# Story views are small (about 2 kB): room for every registry state's story view and its presets.
_CACHE_LIMIT: int = 2048


def clear_caches() -> None:
    """Forget every remembered story view, preset view, ray scene and lesion mesh (the shared
    locator of the healthy model stays): for tests and benchmarks of a state never seen before."""
    with _CACHE_LOCK:
        _CACHE.clear()
    with _RAY_SCENES_LOCK:
        _RAY_SCENES.clear()
    _LESION_CACHE.clear()


def story_view(model: SpineModel, impact: Impact, aspect: float = 1.0) -> StoryView | None:
    """:func:`choose_story_view`, remembered per model, condition, parameters and aspect."""
    key = _story_key(model, impact, aspect)
    hit = _CACHE.get(key, _MISSING)
    if hit is _MISSING:
        hit = choose_story_view(model, impact, aspect)
        _remember(key, hit)
    return hit  # type: ignore[return-value]


def plotly_camera(view: StoryView, box: Sequence[float]) -> dict[str, dict[str, float]]:
    """The story view as a Plotly scene camera for a scene with the fixed extent ``box`` (mm)."""
    return {"eye": scene_point(view.eye_mm.tolist(), box), "center": scene_point(view.center_mm.tolist(), box),
            "up": {"x": 0.0, "y": 0.0, "z": 1.0}}

"""The story view of a condition: where the camera looks from, and what it sees through.

A condition's picture is its lesion and the nerve it squeezes. This module chooses, for any
condition, a camera that shows both at first sight, without knowing condition ids:

1. a few candidate directions (from behind, behind-and-to-one-side, one side, behind-and-below...)
   are each framed on the lesion and the squeezed part of the nerve (their bounding box fits the
   view with a margin, in Plotly's perspective camera);
2. rays are cast from each candidate eye to sample points of the lesion and the squeezed nerve
   against every other structure (a VTK cell locator): a structure that stands in front is an
   occluder; a direction's score rewards how much of the view the targets cover and how little
   has to be made see-through, and follows the lesion's side (a one-sided lesion is seen from its
   own side) and a slipped bone's motion (seen side-on, so the step shows);
3. the chosen view's occluders are listed, so the scene can make exactly them see-through.

Everything is in millimetres on the patient's axes (RAS: +x right, +y anterior, +z up) until
:func:`plotly_camera` converts to Plotly's normalised scene units.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
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
    from vtkmodules.vtkCommonDataModel import vtkStaticCellLocator
else:  # imported on first use (explorer/lazy.py): the first page needs none of it
    pv = lazy_module("pyvista")
    vtkIdList = lazy_callable("vtkmodules.vtkCommonCore", "vtkIdList")
    vtkPoints = lazy_callable("vtkmodules.vtkCommonCore", "vtkPoints")
    vtkStaticCellLocator = lazy_callable("vtkmodules.vtkCommonDataModel", "vtkStaticCellLocator")

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
        Candidate -> score (for tests and tuning).
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
    return len({(int(a), int(b)) for a, b in cells}) / GRID_CELLS**2


class Occluders:
    """Every structure but the targets in one cell locator, to ask what a ray passes through."""

    def __init__(self, meshes: Mapping[str, MeshData]) -> None:
        self.ids: list[str] = list(meshes)
        parts = []
        for n, sid in enumerate(self.ids):
            poly = meshes[sid].to_polydata()
            poly.cell_data["owner"] = np.full(poly.n_cells, n, dtype=np.int32)
            parts.append(poly)
        self.owner = np.zeros(0, dtype=np.int32)
        self.locator = vtkStaticCellLocator()
        if parts:  # an empty locator would complain on stderr; blockers() answers without it
            merged = pv.merge(parts, merge_points=False)
            self.owner = np.asarray(merged.cell_data["owner"])
            self.locator.SetDataSet(merged)
            self.locator.BuildLocator()
        self._points = vtkPoints()
        self._cells = vtkIdList()

    def blockers(self, eye: np.ndarray, targets: np.ndarray, stop_mm: float = 1.5) -> list[set[str]]:
        """For each target point, the structures the segment from ``eye`` to it passes through."""
        out: list[set[str]] = []
        if not self.ids:
            return [set() for _ in targets]
        for p in targets:
            seg = p - eye
            length = float(np.linalg.norm(seg))
            end = eye + seg * max(0.0, (length - stop_mm) / length)
            self._cells.Reset()
            self.locator.IntersectWithLine(tuple(eye), tuple(end), 1e-6, self._points, self._cells)
            hit = {self.ids[self.owner[self._cells.GetId(i)]] for i in range(self._cells.GetNumberOfIds())}
            out.append(hit)
        return out


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


def choose_story_view(model: SpineModel, impact: Impact, aspect: float = 1.0) -> StoryView | None:
    """The camera that shows this impact's lesion and squeezed nerve best (see the module doc).

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
        ``None`` when the impact has no lesion mesh.
    """
    lesion = lesion_meshes(impact)
    if not lesion:
        return None
    nerve_ids = framed_nerves(impact)
    lesion_pts = np.vstack([m.vertices for m in lesion.values()]).astype(float)
    meshes: dict[str, MeshData] = dict(model.meshes)
    for sid, poly in impact.lesion.replaced.items():
        meshes[sid] = MeshData.from_polydata(poly)
    nerve_pts = np.zeros((0, 3))
    if nerve_ids:
        allnerve = np.vstack([meshes[sid].vertices for sid in nerve_ids]).astype(float)
        nerve_pts = _near(allnerve, lesion_pts, FRAME_NERVE_RADIUS_MM)
    framed = np.vstack([lesion_pts, nerve_pts]) if len(nerve_pts) else lesion_pts
    # Every other structure may stand in the way (replaced ones in their new shape).
    targets = set(lesion) | set(nerve_ids)
    occluders = Occluders({sid: m for sid, m in meshes.items() if sid not in targets})
    lesion_cover = Occluders(lesion)
    nerve_cover = Occluders({sid: meshes[sid] for sid in nerve_ids})
    lesion_samples = _subsample(lesion_pts, SAMPLES_PER_TARGET)
    nerve_samples = _subsample(nerve_pts, SAMPLES_PER_TARGET)
    offset = float(framed[:, 0].mean())
    side = 0.0 if abs(offset) < SIDE_OFFSET_MM else math.copysign(1.0, offset)
    slips = slip_motions(model, impact)

    best: tuple[float, str, np.ndarray, np.ndarray, list[set[str]]] | None = None
    scores: dict[str, float] = {}
    for name, (vec, _phrase) in CANDIDATES.items():
        d = np.asarray(vec, dtype=float)
        d /= np.linalg.norm(d)
        eye, center = frame(framed, d, aspect)
        hits = occluders.blockers(eye, np.vstack([lesion_samples, nerve_samples]))
        opaque = [{h for h in hit if _opacity(h) >= OPAQUE_FROM} for hit in hits]
        n_l = len(lesion_samples)
        # The highlighted nerves cannot be cut away: a lesion behind them counts as hidden.
        over = nerve_cover.blockers(eye, lesion_samples) if nerve_ids else [set() for _ in lesion_samples]
        vis_l = float(np.mean([not h and not o for h, o in zip(opaque[:n_l], over, strict=False)])) if n_l else 1.0
        vis_n = float(np.mean([not h for h in opaque[n_l:]])) if len(opaque) > n_l else 1.0
        # The lesion may hide the nerve it squeezes (a swollen muscle over the sciatic nerve).
        under = lesion_cover.blockers(eye, nerve_samples, stop_mm=2.5) if len(nerve_samples) else []
        vis_under = float(np.mean([not h for h in under])) if under else 1.0
        cov_l = coverage(lesion_pts, eye, center, aspect)
        cov_n = coverage(nerve_pts, eye, center, aspect) if len(nerve_pts) else 0.0
        blocking = {h for hit in opaque for h in hit}
        # Coverage counts until the targets are plainly visible; past that, fewer cut-aways win.
        score = (min(cov_l / COVER_ENOUGH, 1.0) + min(cov_n / COVER_ENOUGH, 1.0)
                 + 0.5 * (vis_l + vis_n) + 0.5 * vis_under - 0.04 * len(blocking))
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
        scores[name] = round(score, 4)
        if best is None or score > best[0] + 1e-9:
            best = (score, name, eye, center, hits)
    assert best is not None
    _, name, eye, center, hits = best
    see_through = _faded(hits)
    return StoryView(direction=name, phrase=CANDIDATES[name][1], eye_mm=eye, center_mm=center,
                     see_through=see_through, lesion_ids=tuple(lesion), nerve_ids=nerve_ids, scores=scores)


def see_through_from(model: SpineModel, impact: Impact, eye_mm: np.ndarray) -> tuple[str, ...]:
    """What stands between an eye (mm) and the lesion or the framed squeezed nerve (a preset view)."""
    lesion = lesion_meshes(impact)
    if not lesion:
        return ()
    meshes: dict[str, MeshData] = dict(model.meshes)
    for sid, poly in impact.lesion.replaced.items():
        meshes[sid] = MeshData.from_polydata(poly)
    nerve_ids = framed_nerves(impact)
    lesion_pts = np.vstack([m.vertices for m in lesion.values()]).astype(float)
    samples = [_subsample(lesion_pts, SAMPLES_PER_TARGET)]
    if nerve_ids:
        allnerve = np.vstack([meshes[sid].vertices for sid in nerve_ids]).astype(float)
        samples.append(_subsample(_near(allnerve, lesion_pts, FRAME_NERVE_RADIUS_MM), SAMPLES_PER_TARGET))
    targets = set(lesion) | set(nerve_ids)
    occluders = Occluders({sid: m for sid, m in meshes.items() if sid not in targets})
    return _faded(occluders.blockers(np.asarray(eye_mm, dtype=float), np.vstack(samples)))


def _faded(hits: list[set[str]]) -> tuple[str, ...]:
    """The structures blocking at least FADE_RAY_FRACTION of the rays (at least one ray)."""
    counts: dict[str, int] = {}
    for hit in hits:
        for h in hit:
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
    center = scene_to_mm(camera.get("center", {}), box)
    key = ("preset", id(model), impact.condition, tuple(sorted(impact.parameters.items())), tuple(np.round(eye, 1)))
    if key not in _CACHE:
        if len(_CACHE) >= _CACHE_LIMIT:
            _CACHE.pop(next(iter(_CACHE)))
        _CACHE[key] = replace(story, direction="preset", phrase=phrase, eye_mm=eye, center_mm=center,
                              see_through=see_through_from(model, impact, eye), scores={})
    return _CACHE[key]


_CACHE: dict[tuple, StoryView | None] = {}
_CACHE_LIMIT: int = 256


def story_view(model: SpineModel, impact: Impact, aspect: float = 1.0) -> StoryView | None:
    """:func:`choose_story_view`, remembered per model, condition, parameters and aspect."""
    key = (id(model), impact.condition, tuple(sorted(impact.parameters.items())), round(float(aspect), 2))
    if key not in _CACHE:
        if len(_CACHE) >= _CACHE_LIMIT:
            _CACHE.pop(next(iter(_CACHE)))
        _CACHE[key] = choose_story_view(model, impact, aspect)
    return _CACHE[key]


def plotly_camera(view: StoryView, box: Sequence[float]) -> dict[str, dict[str, float]]:
    """The story view as a Plotly scene camera for a scene with the fixed extent ``box`` (mm)."""
    return {"eye": scene_point(view.eye_mm.tolist(), box), "center": scene_point(view.center_mm.tolist(), box),
            "up": {"x": 0.0, "y": 0.0, "z": 1.0}}

"""simulate(condition, params) -> Impact: deform the model, measure compression, map to the clinic.

Pure Python (no Streamlit, no Plotly). Compression is *measured*: every sample of every candidate
nerve's centre line gets its penetration depth into the lesion (signed distance to the lesion's
surface), and a nerve's degree is its deepest intrusion divided by its own thickness *there*
(a root inside the dural sac is thinner than in its foramen), clipped to 0..1. The lowest roots
of the cauda equina (S4, S5, coccygeal, one mesh) are measured root by root on their own centre
lines, so each side and each root gets its own degree. The dural sac's degree is how deep the
lesion reaches into it over its half depth. The per-vertex values are kept for the 3D highlight
(a value on the same mesh, not a new mesh).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from typing import TYPE_CHECKING

import numpy as np

from explorer.anatomy.canal import CanalMeasurements, measure_canal
from explorer.anatomy.measure import signed_distance
from explorer.anatomy.model import SpineModel
from explorer.anatomy.morphometry import DISC_LEVELS, ROOT_DIAMETER, SCIATIC_DIAMETER
from explorer.anatomy.nerves import (
    CAUDA_ROOT_RADIUS_MM,
    canal_stations,
    cauda_course,
    intrathecal_mask,
    root_course,
    sciatic_course,
)
from explorer.anatomy.structures import STRUCTURES
from explorer.anatomy.sweep import smooth_path
from explorer.clinical.types import ROOT_ORDER, ClinicalPicture, NerveHit, RootHit
from explorer.conditions.base import ConditionSpec, Lesion
from explorer.conditions.registry import CONDITIONS
from explorer.lazy import lazy_callable, lazy_module

if TYPE_CHECKING:
    import pyvista as pv
    from scipy.spatial import cKDTree
else:  # imported on first use (explorer/lazy.py): the first page needs none of it
    pv = lazy_module("pyvista")
    cKDTree = lazy_callable("scipy.spatial", "cKDTree")

# Thickness (mm) that a full-depth squeeze must reach for degree 1, per nerve kind.
CAUDA_BUNDLE_THICKNESS_MM: float = 6.0  # S4, S5 and coccygeal roots lie together
THECAL_SAC_HALF_DEPTH_MM: float = 6.0  # a lesion reaching the sac's centre flattens it
CONTACT_MARGIN_MM: float = 0.75  # vertices this close to the lesion glow faintly (contact)
MIN_DEGREE: float = 0.02  # below this, a touch is not reported as compression
FAR_MM: float = 10.0  # beyond this outside a lesion's box, a point is not measured (> any nerve radius)
# Roots inside the dural sac float in spinal fluid. Once a lesion takes a large share of the sac's
# cross-section they are crowded together and pressed whatever their lane: from CROWDING[0] of the
# cross-section taken (about 40 %: a dural sac area below 75-100 mm2, out of a normal 150-180 mm2,
# is symptomatic stenosis: Schonstrom NS, Bolender NF, Spengler DM. Spine. 1985;10(9):806-811) to fully
# crushed at CROWDING[1] (the sac flattened). For slowly narrowing canals the roots have time to
# adapt and crowding starts only at CROWDING[0] + SLOW_CROWDING_RESERVE of the cross-section taken
# (about two thirds: a residual sac of about 50 mm2, where redundant, crowded roots become common:
# Savarese LG, et al. Arq Neuropsiquiatr. 2014;72(10):782-787).
CROWDING: tuple[float, float] = (0.4, 0.8)
SLOW_CROWDING_RESERVE: float = 0.25
CROWDING_SPAN_MM: float = 6.0  # a crowded cross-section squeezes the roots this far above and below
SAC_GRID_RINGS: tuple[float, ...] = (0.15, 0.35, 0.55, 0.75, 0.92)  # of the sac's half axes
SAC_GRID_ANGLES: int = 24
SAC_GRID_PLANES_MM: tuple[float, ...] = (-4.0, 0.0, 4.0)  # around each station


@dataclass(frozen=True)
class Compression:
    """One compressed structure: how much, and where along its mesh."""

    id: str
    name: str
    degree: float
    depth_mm: float
    vertex_degree: np.ndarray = field(repr=False, compare=False)
    parts: tuple[tuple[str, str, float], ...] = field(default=(), compare=False)
    """(root, side, degree) of the roots inside a mesh that holds several (the cauda equina)."""


@dataclass(frozen=True)
class Impact:
    """Everything a condition does, ready for the 3D view, the text and the CLI."""

    condition: str
    condition_name: str
    parameters: dict[str, str]
    compressed: tuple[Compression, ...]
    roots: tuple[RootHit, ...]
    nerves: tuple[NerveHit, ...]
    clinical: ClinicalPicture
    lesion: Lesion = field(repr=False, compare=False)
    model: SpineModel | None = field(default=None, repr=False, compare=False)

    @cached_property
    def measurements(self) -> CanalMeasurements | None:
        """The canal measured at the lesion's disc level, upright (``explorer.anatomy.canal``).

        None for a condition without a level in the canal (piriformis) or without a model. Measured
        on first use and kept (about 0.05-0.2 s with the healthy level's cuts cached), so a page
        that does not show the numbers does not pay for them.
        """
        level = self.parameters.get("level")
        if self.model is None or level not in DISC_LEVELS:
            return None
        return measure_canal(self.model, level, self.lesion, "neutral")

    @property
    def degrees(self) -> dict[tuple[str, str], float]:
        """How squeezed each root or nerve is: (root or nerve, side) -> degree 0..1."""
        return {(h.root, h.side): h.degree for h in self.roots} | {(h.nerve, h.side): h.degree for h in self.nerves}

    def to_json(self) -> dict:
        """The CLI / test view of the impact (plain JSON types)."""
        c = self.clinical
        return {
            "condition": self.condition,
            "condition_name": self.condition_name,
            "parameters": dict(self.parameters),
            "compressed": [{"id": x.id, "name": x.name, "degree": round(x.degree, 3), "depth_mm": round(x.depth_mm, 2)}
                           for x in self.compressed],
            "roots": [{"root": r.root, "side": r.side, "degree": round(r.degree, 3)} for r in self.roots],
            "nerves": [{"nerve": n.nerve, "side": n.side, "degree": round(n.degree, 3)} for n in self.nerves],
            "sensory": [{"root": s.root, "side": s.side, "kind": s.kind, "regions": list(s.regions)} for s in c.sensory],
            "weakness": [{"root": w.root, "side": w.side, "movement": w.movement, "muscle": w.muscle, "test": w.test}
                         for w in c.weakness],
            "reflexes": [{"reflex": r.reflex, "root": r.root, "side": r.side, "finding": r.finding} for r in c.reflexes],
            "red_flags": list(c.red_flags),
            "red_flag_ids": list(c.red_flag_ids),
            "tempo": c.tempo,
            "watch_for": list(c.watch_for),
            "features": list(c.features),
            "measurements": None if self.measurements is None else self.measurements.to_json(),
        }


def nerve_thickness(structure_id: str) -> float:
    """The thickness (mm) a lesion must squeeze through for degree 1."""
    s = STRUCTURES[structure_id]
    if s.kind == "root":
        return ROOT_DIAMETER[str(s.level)]
    if s.kind == "sciatic":
        return SCIATIC_DIAMETER
    if s.kind == "cauda-equina":
        return CAUDA_BUNDLE_THICKNESS_MM
    return THECAL_SAC_HALF_DEPTH_MM


def penetration(points: np.ndarray, compressors: Mapping[str, pv.PolyData], far: float = FAR_MM) -> np.ndarray:
    """How deep (mm) each point lies inside any compressor (0 on its surface, minus outside).

    Points farther than ``far`` outside a compressor's bounding box are not measured (the costly
    part) and get ``-far``: by default :data:`FAR_MM`, thicker than any nerve's radius, so they
    never count (0 when only inside / outside matters).
    """
    depth = np.full(len(points), -max(far, 1e-3))
    for mesh in compressors.values():
        lo, hi = np.reshape(mesh.bounds, (3, 2)).T
        near = np.all((points >= lo - far) & (points <= hi + far), axis=1)
        if near.any():
            depth[near] = np.maximum(depth[near], -signed_distance(points[near], mesh))
    return depth


@lru_cache(maxsize=64)
def _centerline(structure_id: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, tuple[tuple[str, str], ...]] | None:
    """Dense centre line, radius (mm), inside-the-sac mask and the root of each sample.

    None for the sac itself. The last item names (root, side) per sample for meshes that hold
    several roots (the cauda equina); empty for a single nerve.
    """
    s = STRUCTURES[structure_id]
    level, side = str(s.level), str(s.side)  # set for every root and sciatic nerve
    if s.kind == "root":
        path, radii = root_course(level, side)
        return path, radii, intrathecal_mask(level, side, path), ()
    if s.kind == "sciatic":
        path = smooth_path(sciatic_course(side), spacing_mm=2.0)
        return path, np.full(len(path), SCIATIC_DIAMETER / 2), np.zeros(len(path), dtype=bool), ()
    if s.kind == "cauda-equina":
        pieces = [(root, side, *cauda_course(root, side)) for side in ("left", "right") for root in CAUDA_ROOT_RADIUS_MM]
        path = np.vstack([p[2] for p in pieces])
        radii = np.concatenate([p[3] for p in pieces])
        owner = tuple((p[0], p[1]) for p in pieces for _ in range(len(p[2])))
        return path, radii, np.ones(len(path), dtype=bool), owner
    return None


@lru_cache(maxsize=1)
def _sac_grid() -> np.ndarray:
    """Sample points (global mm) filling the sac's cross-section at every canal station, station
    by station, plane by plane (see :func:`sac_occupancy` for the layout)."""
    rings = np.array(SAC_GRID_RINGS)
    angles = np.linspace(0.0, 2 * np.pi, SAC_GRID_ANGLES, endpoint=False)
    rr, aa = (g.ravel() for g in np.meshgrid(rings, angles))
    points = []
    for st in canal_stations():
        for z in SAC_GRID_PLANES_MM:
            local = np.column_stack([rr * st.sac_half_width * np.cos(aa), rr * st.sac_half_depth * np.sin(aa),
                                     np.full(len(rr), z)])
            points.append(st.frame.to_global(local))
    return np.vstack(points)


def sac_occupancy(lesion: Lesion) -> np.ndarray:
    """Share (0..1) of the sac's cross-section taken by the lesion at each canal station.

    The worst of a few planes around the station; an area-weighted count of grid samples.
    """
    points = _sac_grid()
    inside = penetration(points, lesion.compressors, far=0.0) > 0.0
    # meshgrid order: angle-major, ring-minor; a ring's weight ~ its radius (area of its annulus)
    w = np.tile(np.array(SAC_GRID_RINGS), SAC_GRID_ANGLES)
    stations = len(canal_stations())
    per_plane = len(SAC_GRID_RINGS) * SAC_GRID_ANGLES
    shares = (inside * np.tile(w, stations * len(SAC_GRID_PLANES_MM))).reshape(stations, len(SAC_GRID_PLANES_MM), per_plane)
    return (shares.sum(axis=2) / w.sum()).max(axis=1)


def crowding(occupancy: float, reserve: float = 0.0) -> float:
    """How squeezed (0..1) every root inside the sac is when ``occupancy`` of it is taken."""
    lo, hi = CROWDING[0] + reserve, CROWDING[1] + reserve
    return float(np.clip((occupancy - lo) / (hi - lo), 0.0, 1.0))


def _crowding_along(path: np.ndarray, inside: np.ndarray, crowd: np.ndarray) -> np.ndarray:
    """Crowding share for each sample of a centre line (0 outside the sac)."""
    out = np.zeros(len(path))
    for i in np.flatnonzero(crowd > 0.0):
        near = np.abs(canal_stations()[i].frame.to_local(path)[:, 2]) < CROWDING_SPAN_MM
        out = np.where(inside & near, np.maximum(out, crowd[i]), out)
    return out


def measure(lesion: Lesion, meshes: Mapping[str, pv.PolyData]) -> tuple[Compression, ...]:
    """Compression of every candidate nerve structure, deepest first.

    Tubes are measured on their dense centre line (every 2-3 mm), so a small fragment between two
    rings of the display mesh is not missed: a lesion reaching ``d`` mm from the centre of a nerve
    of radius ``r`` intrudes ``r - d`` mm into it, a share ``(r - d) / 2r`` of its thickness there.
    Roots inside the sac are also squeezed by crowding when the lesion takes a large share of the
    sac's cross-section (:func:`crowding`); in a slowly narrowing canal (``lesion.slow``) only by
    crowding, since they move into the room left. For the dural sac the depth is that of the
    lesion's surface inside it. Per-vertex values (for the highlight) come from one distance evaluation of all query
    points per lesion mesh.
    """
    queries: list[np.ndarray] = []
    plan: list[tuple[str, tuple | None, np.ndarray | None]] = []
    for sid in lesion.candidates:
        vertices = np.asarray(meshes[sid].points)
        line = _centerline(sid)
        if line is None:
            queries.append(vertices)
            plan.append((sid, None, None))
        else:
            queries.append(line[0])
            plan.append((sid, line, _nearest(sid, vertices)))
    depth_all = penetration(np.vstack(queries), lesion.compressors)
    # Roots in the sac of a slow lesion meet only its pinning parts where they lie.
    pinned = {k: m for k, m in lesion.compressors.items() if k in lesion.pinning}
    pin_all = penetration(np.vstack(queries), pinned) if (lesion.slow and pinned) else None
    reserve = SLOW_CROWDING_RESERVE if lesion.slow else 0.0
    crowd = np.array([crowding(a, reserve) for a in sac_occupancy(lesion)])
    out: list[Compression] = []
    start = 0
    for (sid, line, nearest), q in zip(plan, queries, strict=True):
        depth = depth_all[start:start + len(q)]
        pin = None if pin_all is None else pin_all[start:start + len(q)]
        start += len(q)
        parts: tuple[tuple[str, str, float], ...] = ()
        if line is None:
            # A sac-like body: how deep the lesion's own surface reaches inside it, which does
            # not depend on where the display mesh happens to have vertices.
            thickness = nerve_thickness(sid)
            deepest = max(float((-signed_distance(c.points, meshes[sid])).max()) for c in lesion.compressors.values())
            degree = float(np.clip(deepest / thickness, 0.0, 1.0))
            per_vertex = np.clip((depth + CONTACT_MARGIN_MM) / thickness, 0.0, 1.0)
        else:
            path, radii, inside, owner = line
            in_sac = -np.inf if pin is None else radii + pin
            intrusion = np.where(inside & lesion.slow, in_sac, radii + depth)
            share = np.maximum(intrusion / (2 * radii), _crowding_along(path, inside, crowd))
            best = int(np.argmax(share))
            degree = float(np.clip(share[best], 0.0, 1.0))
            deepest = float(max(intrusion[best], 0.0))
            per_vertex = np.clip(np.maximum((intrusion + CONTACT_MARGIN_MM) / (2 * radii), share)[nearest], 0.0, 1.0)
            if owner:
                worst: dict[tuple[str, str], float] = {}
                for key, value in zip(owner, share, strict=True):
                    worst[key] = max(worst.get(key, 0.0), float(value))
                parts = tuple((r, side, min(v, 1.0)) for (r, side), v in worst.items() if v >= MIN_DEGREE)
        if degree >= MIN_DEGREE:
            out.append(Compression(sid, STRUCTURES[sid].name, degree, deepest, per_vertex.astype(np.float32), parts))
    return tuple(sorted(out, key=lambda c: -c.degree))


def _nearest(sid: str, vertices: np.ndarray) -> np.ndarray:
    """Index of the nearest centre-line sample for every display vertex (cached per mesh)."""
    key = (sid, len(vertices), float(vertices[:, 2].sum()))
    hit = _NEAREST.get(key)
    if hit is None:
        line = _centerline(sid)
        assert line is not None  # only nerves with a centre line get here
        hit = cKDTree(line[0]).query(vertices)[1]
        _NEAREST[key] = hit
    return hit


_NEAREST: dict[tuple[str, int, float], np.ndarray] = {}


def _hits(compressed: tuple[Compression, ...]) -> tuple[tuple[RootHit, ...], tuple[NerveHit, ...]]:
    roots: dict[tuple[str, str], float] = {}
    nerves: list[NerveHit] = []
    for c in compressed:
        s = STRUCTURES[c.id]
        if s.kind == "root":
            key = (str(s.level), str(s.side))
            roots[key] = max(roots.get(key, 0.0), c.degree)
        elif s.kind == "sciatic":
            nerves.append(NerveHit("sciatic", str(s.side), c.degree))
        elif s.kind == "cauda-equina":
            # The lowest roots share one mesh but are measured one by one (the coccygeal root
            # has no findings of its own).
            for root, side, d in c.parts:
                if root in ROOT_ORDER:
                    roots[(root, side)] = max(roots.get((root, side), 0.0), d)
    root_hits = tuple(RootHit(r, s, d) for (r, s), d in sorted(roots.items(),
                                                            key=lambda kv: (ROOT_ORDER.index(kv[0][0]), kv[0][1])))
    return root_hits, tuple(sorted(nerves, key=lambda n: n.side))


@lru_cache(maxsize=1)
def _default_model() -> SpineModel:
    from explorer.anatomy.model import load_model

    return load_model(save_rebuilt=False)


def simulate(condition: str, params: Mapping[str, str], model: SpineModel | None = None) -> Impact:
    """Run a condition on the model and return its impact.

    Parameters
    ----------
    condition : str
        A condition id from the registry.
    params : mapping
        Parameter values; validated by the condition spec (bad values raise ``ValueError``
        with the allowed values; callers that must not fail validate first).
    model : SpineModel, optional
        The meshes to measure on; defaults to the baked model.
    """
    spec: ConditionSpec = CONDITIONS[condition]
    clean, errors = spec.validate(params)
    if errors:
        raise ValueError("; ".join(errors))
    lesion = spec.build_lesion(clean)
    model = _default_model() if model is None else model
    return impact_from(condition, clean, lesion, measure(lesion, model.polydata), model)


def impact_from(condition: str, clean: Mapping[str, str], lesion: Lesion, compressed: tuple[Compression, ...],
                model: SpineModel) -> Impact:
    """The impact of a lesion whose compression has been measured: the roots and nerves it squeezes
    and the clinical picture, worked out from ``compressed`` (cheap; the geometry is the costly part).

    :func:`simulate` ends here, and so does a state read back from ``explorer.render.state_cache``
    (its lesion and measured compression stored on disk), so both give the same clinical picture.
    """
    spec: ConditionSpec = CONDITIONS[condition]
    roots, nerves = _hits(compressed)
    from explorer.clinical.picture import clinical_picture

    applicable = spec.applicable(clean)
    picture = clinical_picture(condition, applicable, roots, nerves)
    return Impact(condition, spec.name, applicable, compressed, roots, nerves, picture, lesion, model)

"""simulate(condition, params) -> Impact: deform the model, measure compression, map to the clinic.

Pure Python (no Streamlit, no Plotly). Compression is *measured*: every vertex of every candidate
nerve mesh gets its penetration depth into the lesion (signed distance to the lesion's surface),
and a structure's degree is its deepest penetration divided by its own thickness, clipped to 0..1.
The per-vertex values are kept for the 3D highlight (a value on the same mesh, not a new mesh).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
import pyvista as pv
from scipy.spatial import cKDTree

from explorer.anatomy.measure import signed_distance
from explorer.anatomy.model import SpineModel
from explorer.anatomy.morphometry import ROOT_DIAMETER, SCIATIC_DIAMETER
from explorer.anatomy.nerves import root_course, sciatic_course
from explorer.anatomy.structures import STRUCTURES
from explorer.anatomy.sweep import smooth_path
from explorer.clinical.types import ROOT_ORDER, ClinicalPicture, NerveHit, RootHit
from explorer.conditions.base import ConditionSpec, Lesion
from explorer.conditions.registry import CONDITIONS

# Thickness (mm) that a full-depth squeeze must reach for degree 1, per nerve kind.
CAUDA_BUNDLE_THICKNESS_MM: float = 6.0  # S4, S5 and coccygeal roots lie together
THECAL_SAC_HALF_DEPTH_MM: float = 6.0  # a lesion reaching the sac's centre flattens it
CONTACT_MARGIN_MM: float = 0.75  # vertices this close to the lesion glow faintly (contact)
MIN_DEGREE: float = 0.02  # below this, a touch is not reported as compression


@dataclass(frozen=True)
class Compression:
    """One compressed structure: how much, and where along its mesh."""

    id: str
    name: str
    degree: float
    depth_mm: float
    vertex_degree: np.ndarray = field(repr=False, compare=False)


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
            "features": list(c.features),
        }


def nerve_thickness(structure_id: str) -> float:
    """The thickness (mm) a lesion must squeeze through for degree 1."""
    s = STRUCTURES[structure_id]
    if s.kind == "root":
        return ROOT_DIAMETER[s.level]
    if s.kind == "sciatic":
        return SCIATIC_DIAMETER
    if s.kind == "cauda-equina":
        return CAUDA_BUNDLE_THICKNESS_MM
    return THECAL_SAC_HALF_DEPTH_MM


def penetration(points: np.ndarray, compressors: Mapping[str, pv.PolyData]) -> np.ndarray:
    """How deep (mm) each point lies inside any compressor (0 outside, minus for nearby)."""
    depth = np.full(len(points), -np.inf)
    for mesh in compressors.values():
        depth = np.maximum(depth, -signed_distance(points, mesh))
    return depth


def _centerline(structure_id: str) -> tuple[np.ndarray, np.ndarray] | None:
    """Dense centre line and radius (mm) of a tube-shaped nerve, or None for sac-like meshes."""
    s = STRUCTURES[structure_id]
    if s.kind == "root":
        return root_course(s.level, s.side)
    if s.kind == "sciatic":
        path = smooth_path(sciatic_course(s.side), spacing_mm=2.0)
        return path, np.full(len(path), SCIATIC_DIAMETER / 2)
    return None


def measure(lesion: Lesion, meshes: Mapping[str, pv.PolyData]) -> tuple[Compression, ...]:
    """Compression of every candidate nerve structure, deepest first.

    Tubes are measured on their dense centre line (every 2-3 mm), so a small fragment between two
    rings of the display mesh is not missed: a lesion reaching ``d`` mm from the centre of a nerve
    of radius ``r`` intrudes ``r - d`` mm into it. For the sac-like dural sac and cauda equina the
    depth is that of the lesion's surface inside them. Per-vertex values (for the highlight) come
    from one distance evaluation of all query points per lesion mesh.
    """
    queries: list[np.ndarray] = []
    plan: list[tuple[str, np.ndarray | None, np.ndarray | None]] = []
    for sid in lesion.candidates:
        vertices = np.asarray(meshes[sid].points)
        line = _centerline(sid)
        if line is None:
            queries.append(vertices)
            plan.append((sid, None, None))
        else:
            queries.append(line[0])
            plan.append((sid, line[1], cKDTree(line[0]).query(vertices)[1]))
    depth_all = penetration(np.vstack(queries), lesion.compressors)
    out: list[Compression] = []
    start = 0
    for (sid, radii, nearest), q in zip(plan, queries):
        depth = depth_all[start:start + len(q)]
        start += len(q)
        if radii is None:
            # A sac-like body: how deep the lesion's own surface reaches inside it, which does
            # not depend on where the display mesh happens to have vertices.
            per_vertex = depth
            deepest = max(float((-signed_distance(c.points, meshes[sid])).max()) for c in lesion.compressors.values())
        else:
            per_vertex = (radii + depth)[nearest]
            deepest = float((radii + depth).max())
        thickness = nerve_thickness(sid)
        degree = float(np.clip(deepest / thickness, 0.0, 1.0))
        if degree >= MIN_DEGREE:
            vertex_degree = np.clip((per_vertex + CONTACT_MARGIN_MM) / thickness, 0.0, 1.0)
            out.append(Compression(sid, STRUCTURES[sid].name, degree, deepest, vertex_degree.astype(np.float32)))
    return tuple(sorted(out, key=lambda c: -c.degree))


def _hits(compressed: tuple[Compression, ...], meshes: Mapping[str, pv.PolyData]
          ) -> tuple[tuple[RootHit, ...], tuple[NerveHit, ...]]:
    roots: dict[tuple[str, str], float] = {}
    nerves: list[NerveHit] = []
    for c in compressed:
        s = STRUCTURES[c.id]
        if s.kind == "root":
            roots[(s.level, s.side)] = max(roots.get((s.level, s.side), 0.0), c.degree)
        elif s.kind == "sciatic":
            nerves.append(NerveHit("sciatic", s.side, c.degree))
        elif s.kind == "cauda-equina":
            # The lowest sacral roots share one mesh: split the squeeze by side of the body.
            x = np.asarray(meshes[c.id].points)[:, 0]
            for side, mask in (("left", x < 0), ("right", x > 0)):
                d = float(c.vertex_degree[mask].max()) if mask.any() else 0.0
                d = max(0.0, d - CONTACT_MARGIN_MM / nerve_thickness(c.id))
                if d >= MIN_DEGREE:
                    for root in ("S4", "S5"):
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
    meshes = (_default_model() if model is None else model).polydata
    compressed = measure(lesion, meshes)
    roots, nerves = _hits(compressed, meshes)
    from explorer.clinical.picture import clinical_picture

    applicable = spec.applicable(clean)
    picture = clinical_picture(condition, applicable, roots, nerves)
    return Impact(condition, spec.name, applicable, compressed, roots, nerves, picture, lesion)

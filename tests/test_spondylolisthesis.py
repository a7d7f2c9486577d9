"""Spondylolisthesis: every level x type x grade builds closed meshes, slips by its Meyerding
grade, and squeezes the root the textbook names, measured on the geometry.

Textbook rules checked (see the module's docstring for sources): a degenerative slip squeezes the
*traversing* root (L5 at L4-L5) on both sides and, with more slip, the sacral roots in the sac; an
isthmic slip squeezes the *exiting* root (L5 at L5-S1) on both sides and widens the canal.
"""

from __future__ import annotations

from functools import cache
from itertools import pairwise

import numpy as np
import pytest

from explorer.anatomy.layout import spine_layout
from explorer.anatomy.measure import signed_distance
from explorer.anatomy.model import SpineModel, build_structure, load_model
from explorer.anatomy.morphometry import DISC_LEVELS, ROOT_DIAMETER
from explorer.anatomy.nerves import root_course
from explorer.anatomy.structures import STRUCTURES
from explorer.anatomy.vertebra import build_vertebra
from explorer.conditions import spondylolisthesis as sp

COMBOS = [(level, kind, grade) for level in DISC_LEVELS for kind in sp.TYPES for grade in sp.GRADES]
SIDES = ("left", "right")
MIN_DEGREE = 0.02  # below this a touch is not compression

# ------------------------------------------------------------------ helpers (cached)
# A small stand-in for simulate(): tubes are measured on their centre line (a lesion reaching d mm
# from the centre of a nerve of radius r intrudes r - d), sac-like meshes on their dense surface.
# Degree = deepest intrusion / the nerve's thickness, clipped to 0..1.
THICKNESS_MM = {"cauda-equina": 6.0, "thecal-sac": 12.0}


@cache
def lesion(level: str, kind: str, grade: str):
    return sp.build_lesion({"level": level, "type": kind, "grade": grade})


@cache
def _samples(structure_id: str) -> tuple[np.ndarray, np.ndarray | float, float]:
    s = STRUCTURES[structure_id]
    if s.kind == "root":
        path, radii = root_course(s.level, s.side)
        return path, radii, ROOT_DIAMETER[s.level]
    mesh = build_structure(structure_id).subdivide(1, subfilter="linear")
    return np.asarray(mesh.points), 0.0, THICKNESS_MM[structure_id]


def degree(les, structure_id: str) -> float:
    points, radii, thickness = _samples(structure_id)
    depth = np.full(len(points), -np.inf)
    for mesh in les.compressors.values():
        depth = np.maximum(depth, -signed_distance(points, mesh))
    return float(np.clip((radii + depth).max() / thickness, 0.0, 1.0))


@cache
def default_model() -> SpineModel:
    """The model the app simulates on (loaded as simulate loads its default model), once per session."""
    return load_model(save_rebuilt=False)


@cache
def degrees(level: str, kind: str, grade: str) -> dict[str, float]:
    """Degree of every candidate nerve, measured exactly as the app measures it (simulate.measure:
    centre lines, local thickness, roots in the sac of a slow narrowing squeezed only by crowding)."""
    from explorer.conditions.simulate import measure

    les = lesion(level, kind, grade)
    found = {c.id: c.degree for c in measure(les, default_model().polydata)}
    return {sid: found.get(sid, 0.0) for sid in les.candidates if sid != "thecal-sac"}


def expected_root(level: str, kind: str) -> str:
    """Traversing (lower) root for degenerative, exiting (upper) root for isthmic."""
    upper, lower = level.split("-")
    return lower if kind == "degenerative" else upper


@cache
def _base(structure_id: str):
    return build_structure(structure_id)


def _centroid(mesh) -> np.ndarray:
    return np.asarray(mesh.extract_surface(algorithm="dataset_surface").center_of_mass(), dtype=float)


def _arch_and_front(mesh):
    """The two pieces of an isthmic vertebra: (arch left behind, front piece with the body)."""
    pieces = [b.extract_surface(algorithm="dataset_surface") for b in mesh.split_bodies()]
    assert len(pieces) == 2
    return tuple(sorted(pieces, key=lambda p: p.volume))


# ------------------------------------------------------------------------------ spec


def test_spec_parameters_and_defaults():
    spec = sp.SPEC
    assert spec.id == "spondylolisthesis" and spec.name == "Spondylolisthesis"
    assert spec.defaults() == {"level": "L4-L5", "type": "degenerative", "grade": "1"}
    assert spec.param("level").values == DISC_LEVELS
    assert set(spec.param("type").values) == {"isthmic", "degenerative"}
    assert spec.param("grade").values == ("1", "2", "3", "4")
    labels = spec.param("grade").value_labels
    for grade, text in (("1", "0-25 %"), ("2", "25-50 %"), ("3", "50-75 %"), ("4", "75-100 %")):
        assert text in labels[grade]
    params, errors = spec.validate({"grade": "5", "type": "isthmic"})
    assert params["grade"] == "1" and params["type"] == "isthmic" and len(errors) == 1


def test_slip_fraction_is_mid_range():
    for grade, fraction in sp.SLIP_FRACTION.items():
        g = int(grade)
        assert fraction == pytest.approx((g - 0.5) * 0.25)


# ------------------------------------------------------------------------------ meshes


@pytest.mark.parametrize("level,kind,grade", COMBOS)
def test_lesion_builds_closed_meshes(level, kind, grade):
    les = lesion(level, kind, grade)
    upper = level.split("-")[0]
    assert f"vertebra-{upper}" in les.replaced and f"disc-{level}" in les.replaced and f"nucleus-{level}" in les.replaced
    prefix = "lesion-canal-narrowing" if kind == "degenerative" else "lesion-foraminal-stenosis"
    stretched = {"lesion-roots-stretched"} if kind == "isthmic" and grade in ("3", "4") else set()
    assert set(les.compressors) == {f"{prefix}-{side}" for side in SIDES} | stretched
    for sid, mesh in {**les.compressors, **les.replaced}.items():
        assert mesh.n_cells > 50, sid
        assert mesh.n_open_edges == 0, f"{sid} is not closed"
    for sid in les.compressors:
        assert les.names[sid] and f"grade {grade}, {kind}" in les.names[sid]
    assert all(sid in STRUCTURES for sid in les.candidates)
    assert f"root-{upper}-left" in les.candidates and "cauda-equina" in les.candidates
    assert np.isfinite(les.focus).all() and les.focus.shape == (3,)


@pytest.mark.parametrize("level,kind,grade", COMBOS)
def test_slip_distance_matches_grade(level, kind, grade):
    """The body's centroid moves forward along the lower endplate by the grade's slip."""
    les = lesion(level, kind, grade)
    geom = sp.slip_geometry(level, kind, grade)
    upper, lower = level.split("-")
    if kind == "degenerative":
        moved, before = les.replaced[f"vertebra-{upper}"], build_vertebra(upper)
    else:  # the bigger of the two pieces carries the body
        moved = _arch_and_front(les.replaced[f"vertebra-{upper}"])[1]
        before = sp.isthmic_pieces(upper)[0].copy()
        before.points = geom.upper_frame.to_global(np.asarray(before.points))
    shift = geom.lower_frame.axes.T @ (_centroid(moved) - _centroid(before))
    depth = sp.endplate_depth(lower)
    assert shift[1] == pytest.approx(sp.SLIP_FRACTION[grade] * depth, abs=0.05)
    g = int(grade)
    assert (g - 1) * 0.25 < shift[1] / depth < g * 0.25  # inside Meyerding's range
    assert shift[0] == pytest.approx(0.0, abs=0.05)
    assert -shift[2] == pytest.approx(geom.descent_mm, abs=0.05)
    assert (geom.descent_mm > 0) == (kind == "isthmic")


@pytest.mark.parametrize("level", DISC_LEVELS)
def test_isthmic_arch_stays_behind_with_a_gap_at_the_pars(level):
    upper = level.split("-")[0]
    for grade in ("1", "4"):
        arch, front = _arch_and_front(lesion(level, "isthmic", grade).replaced[f"vertebra-{upper}"])
        # The arch with the spinous process has not moved: it lies where the intact bone was...
        before = build_vertebra(upper)
        assert signed_distance(np.asarray(arch.points), before).max() < 0.8
        assert arch.bounds[2] == pytest.approx(before.bounds[2], abs=0.5)  # spinous tip, same place
        # ...while the body has gone forward.
        assert front.center_of_mass()[1] > before.center_of_mass()[1] + 3.0
        # The pieces never touch: a real gap at the pars.
        gap = signed_distance(np.asarray(arch.points), front).min()
        assert gap > 1.0, f"pars gap only {gap:.2f} mm"


def test_discs_shear_with_the_slipped_vertebra():
    level, kind, grade = "L4-L5", "isthmic", "3"
    les = lesion(level, kind, grade)
    geom = sp.slip_geometry(level, kind, grade)
    for sid, moves_at_top in (("disc-L4-L5", True), ("disc-L3-L4", False)):
        before = np.asarray(_base(sid).points)
        after = np.asarray(les.replaced[sid].points)
        assert before.shape == after.shape
        height = spine_layout().disc[sid.removeprefix("disc-")].to_local(before)[:, 2]
        top, bottom = height > np.percentile(height, 97), height < np.percentile(height, 3)
        moved_top = np.linalg.norm(after[top] - before[top] - geom.shift, axis=1).mean()
        moved_bottom = np.linalg.norm(after[bottom] - before[bottom], axis=1).mean()
        if moves_at_top:  # the disc below: its top goes with the vertebra, its bottom stays
            assert moved_top < 1.0 and moved_bottom < 1.0
        else:  # the disc above: its bottom goes with the vertebra, its top stays
            assert np.linalg.norm(after[top] - before[top], axis=1).mean() < 1.0
            assert np.linalg.norm(after[bottom] - before[bottom] - geom.shift, axis=1).mean() < 1.0


# ---------------------------------------------------------------------- compression


@pytest.mark.parametrize("level,kind,grade", COMBOS)
def test_expected_root_is_the_most_compressed(level, kind, grade):
    d = degrees(level, kind, grade)
    root = expected_root(level, kind)
    mine = [d[f"root-{root}-{side}"] for side in SIDES]
    if kind == "degenerative" and grade in ("1", "2"):
        # Low-grade degenerative slips are often silent (Kalichman 2009): if anything, this root.
        assert max(d.values()) <= max(mine) + 1e-6, d
        return
    assert min(mine) > 0.1, f"{root} not compressed: {d}"
    assert mine[0] == pytest.approx(mine[1], abs=0.05)  # both sides alike
    others = {sid: v for sid, v in d.items() if sid not in {f"root-{root}-{s}" for s in SIDES}}
    worst = max(others, key=others.get)
    assert min(mine) >= others[worst] - 1e-6, f"{worst} ({others[worst]:.2f}) beats {root} ({min(mine):.2f})"


@pytest.mark.parametrize("level", DISC_LEVELS)
@pytest.mark.parametrize("kind", sp.TYPES)
def test_degree_increases_with_grade(level, kind):
    root = expected_root(level, kind)
    totals = [sum(degrees(level, kind, g).values()) for g in sp.GRADES]
    assert all(hi >= lo - 0.01 for lo, hi in pairwise(totals)), f"total squeeze grows with the grade: {totals}"
    for side in SIDES:
        series = [degrees(level, kind, g)[f"root-{root}-{side}"] for g in sp.GRADES]
        assert series[-1] > series[0] and series[-1] > 0.5, series
        assert all(hi >= lo - 0.01 for lo, hi in pairwise(series)), f"{level} {kind} {side}: {series}"


@pytest.mark.parametrize("level", DISC_LEVELS)
def test_low_grade_isthmic_spares_everything_but_the_exiting_root(level):
    upper = level.split("-")[0]
    for grade in ("1", "2"):
        d = degrees(level, "isthmic", grade)
        spared = {sid: v for sid, v in d.items() if sid not in (f"root-{upper}-left", f"root-{upper}-right")}
        assert max(spared.values()) < MIN_DEGREE, spared  # the canal widens: nothing else is touched


def test_high_grade_isthmic_l5_s1_also_stretches_s1():
    """High-grade isthmic slips can stretch S1 and the cauda equina over the sacral dome (Hu 2008)."""
    g2, g4 = degrees("L5-S1", "isthmic", "2"), degrees("L5-S1", "isthmic", "4")
    for side in SIDES:
        assert g2[f"root-S1-{side}"] < MIN_DEGREE
        assert g4[f"root-S1-{side}"] > 0.3
        assert g4[f"root-L5-{side}"] >= g4[f"root-S1-{side}"]  # the exiting root stays the most squeezed


@pytest.mark.parametrize("level", DISC_LEVELS)
def test_degenerative_spares_the_exiting_root_and_reaches_the_sac_later(level):
    upper, lower = level.split("-")
    for grade in sp.GRADES:
        d = degrees(level, "degenerative", grade)
        assert max(d[f"root-{upper}-{s}"] for s in SIDES) < MIN_DEGREE
    sacral = [f"root-{r}-{s}" for r in ("S2", "S3") for s in SIDES]
    grade1, grade3 = degrees(level, "degenerative", "1"), degrees(level, "degenerative", "3")
    assert max(grade3[sid] for sid in sacral) > 0.5  # the sacral roots in the sac, at higher grades
    assert max(grade1[sid] for sid in sacral) < max(grade1[f"root-{lower}-{s}"] for s in SIDES) + 1e-6


def test_default_is_degenerative_l4_l5_squeezing_l5():
    d = degrees(*sp.SPEC.defaults().values())
    assert d["root-L5-left"] > 0.2 and d["root-L5-right"] > 0.2
    assert d["root-L4-left"] < MIN_DEGREE

"""Piriformis syndrome: the swollen muscle squeezes the sciatic nerve on its own side only, more
with each severity, and never a spinal nerve root (measured on the geometry)."""

from __future__ import annotations

from functools import cache

import numpy as np
import pytest

from explorer.anatomy.layout import greater_sciatic_foramen
from explorer.anatomy.measure import signed_distance
from explorer.anatomy.model import build_structure
from explorer.anatomy.morphometry import ROOT_DIAMETER, SCIATIC_DIAMETER
from explorer.anatomy.muscles import PIRIFORMIS_BELLY_RADIUS_MM, piriformis_samples
from explorer.anatomy.nerves import root_course, sciatic_course
from explorer.anatomy.structures import STRUCTURES
from explorer.anatomy.sweep import smooth_path
from explorer.conditions import piriformis as pm

SIDES = ("left", "right")
SEVERITIES = ("mild", "moderate", "severe")
MIN_DEGREE = 0.02


def _other(side: str) -> str:
    return "right" if side == "left" else "left"


# A small stand-in for simulate(): tubes measured on their centre line; degree = deepest intrusion
# (radius + depth of the centre inside the lesion) / the nerve's thickness, clipped to 0..1.
@cache
def _centre_line(structure_id: str) -> tuple[np.ndarray, np.ndarray | float, float]:
    s = STRUCTURES[structure_id]
    if s.kind == "sciatic":
        return smooth_path(sciatic_course(s.side), spacing_mm=2.0), SCIATIC_DIAMETER / 2, SCIATIC_DIAMETER
    path, radii = root_course(s.level, s.side)
    return path, radii, ROOT_DIAMETER[s.level]


def degree(compressors, structure_id: str) -> float:
    points, radii, thickness = _centre_line(structure_id)
    depth = np.full(len(points), -np.inf)
    for mesh in compressors.values():
        depth = np.maximum(depth, -signed_distance(points, mesh))
    return float(np.clip((radii + depth).max() / thickness, 0.0, 1.0))


@cache
def lesion(side: str, severity: str):
    return pm.build_lesion({"side": side, "severity": severity})


@cache
def degrees(side: str, severity: str) -> dict[str, float]:
    les = lesion(side, severity)
    ids = set(les.candidates) | {f"sciatic-{_other(side)}"}
    ids |= {f"root-{r}-{s}" for r in ("L4", "L5", "S1", "S2") for s in SIDES}
    return {sid: degree(les.compressors, sid) for sid in sorted(ids)}


def test_spec():
    spec = pm.SPEC
    assert spec.id == "piriformis" and spec.name == "Piriformis syndrome"
    assert spec.defaults() == {"side": "left", "severity": "moderate"}
    assert spec.param("severity").values == SEVERITIES
    assert pm.SWELLING["mild"] < pm.SWELLING["moderate"] < pm.SWELLING["severe"]


@pytest.mark.parametrize("side", SIDES)
@pytest.mark.parametrize("severity", SEVERITIES)
def test_lesion_replaces_the_muscle_with_a_closed_swollen_one(side, severity):
    les = lesion(side, severity)
    mesh = les.replaced[f"piriformis-{side}"]
    assert set(les.replaced) == {f"piriformis-{side}"}
    assert set(les.compressors) == {f"lesion-piriformis-{side}"}
    assert les.compressors[f"lesion-piriformis-{side}"] is mesh
    assert mesh.n_cells > 200 and mesh.n_open_edges == 0
    assert les.names[f"lesion-piriformis-{side}"] == f"Swollen, tight piriformis ({side})"
    assert les.candidates == (f"sciatic-{side}", f"root-S1-{side}", f"root-S2-{side}", f"root-L5-{side}")
    assert np.allclose(les.focus, greater_sciatic_foramen(side))
    healthy = build_structure(f"piriformis-{side}")
    assert mesh.volume > healthy.volume * 1.15
    # Still on the patient's side, still reaching from the sacrum to the trochanter.
    assert np.sign(mesh.center[0]) == (1 if side == "right" else -1)
    assert mesh.bounds[1] - mesh.bounds[0] == pytest.approx(healthy.bounds[1] - healthy.bounds[0], abs=6.0)


def test_only_the_belly_swells():
    _, radii = piriformis_samples("left")
    for factor in pm.SWELLING.values():
        grown = pm.swollen_radii(radii, factor)
        belly = radii > PIRIFORMIS_BELLY_RADIUS_MM - 0.05
        assert np.allclose(grown[belly], radii[belly] * factor, rtol=0.01)
        assert np.allclose(grown[radii <= radii.min() + 1e-9], radii.min())  # thin ends unchanged
    assert np.allclose(pm.swollen_radii(radii, 1.0), radii)


def test_healthy_piriformis_leaves_the_nerve_free():
    healthy = {"m": build_structure("piriformis-left")}
    assert degree(healthy, "sciatic-left") < MIN_DEGREE


@pytest.mark.parametrize("side", SIDES)
def test_sciatic_squeeze_grows_with_severity_on_its_own_side_only(side):
    series = [degrees(side, sev)[f"sciatic-{side}"] for sev in SEVERITIES]
    assert series[0] >= MIN_DEGREE
    assert series[0] < series[1] < series[2], series
    for sev in SEVERITIES:
        d = degrees(side, sev)
        assert d[f"sciatic-{_other(side)}"] == 0.0
        roots = {sid: v for sid, v in d.items() if sid.startswith("root-")}
        assert max(roots.values()) < MIN_DEGREE, roots  # outside the spine: no root is touched

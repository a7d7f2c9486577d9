"""Piriformis syndrome: a tight, swollen piriformis muscle squeezes the sciatic nerve in the buttock.

Piriformis runs from the front of the sacrum, out through the greater sciatic foramen, to the top
of the greater trochanter. In most people the sciatic nerve leaves the pelvis through the same
foramen just below the muscle (Beaton LE, Anson BJ. The relation of the sciatic nerve and of its
subdivisions to the piriformis muscle. Anat Rec. 1937;70(1):1-5; Smoll NR. Variations of the
piriformis and sciatic nerve with clinical consequence: a review. Clin Anat. 2010;23(1):8-17).
When the muscle is thickened, in spasm or irritated (after a fall on the buttock, overuse, long
sitting), its belly presses on the nerve where the two share that tight opening. The result is
buttock pain and sciatica-like pain down the back of the leg that worsens with sitting and with
stretching the muscle (hip flexion, adduction and internal rotation), while the spinal nerve roots
are normal: the compression is outside the spine, so a lumbar MRI does not explain the symptoms
(Hopayian K, Song F, Riera R, Sambandan S. The clinical features of the piriformis syndrome: a
systematic review. Eur Spine J. 2010;19(12):2095-2109; Hicks BL, Lam JC, Varacallo M. Piriformis
Syndrome. In: StatPearls. StatPearls Publishing; 2023).

The model thickens the muscle's belly (the part in the foramen) by :data:`SWELLING` and leaves
its flat origin on the sacrum and its tendon alone; the belly then pushes into the sciatic nerve
just below it, and the squeeze is measured on that geometry. The sacral roots that run on the
front of the muscle inside the pelvis are not reached, as in the real syndrome.

Tempo: chronic (weeks to months of buttock pain). It cannot cause cauda equina syndrome; symptoms
in both legs or in the saddle area point to a spinal cause instead.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np

from explorer.anatomy.implicit import narrow_band, surface_from_field
from explorer.anatomy.layout import greater_sciatic_foramen
from explorer.anatomy.muscles import (
    MUSCLE_SMOOTHING_ITERATIONS,
    MUSCLE_SPACING_MM,
    PIRIFORMIS_BELLY_RADIUS_MM,
    PIRIFORMIS_ORIGIN_RADIUS_MM,
    PIRIFORMIS_TENDON_RADIUS_MM,
    piriformis_samples,
)
from explorer.anatomy.pelvis import sphere_sweep
from explorer.conditions.base import (
    SEVERITY_VALUES,
    ConditionExample,
    ConditionSpec,
    ExpectedPattern,
    Lesion,
    ParamSpec,
    RedFlagRules,
    RootSide,
    side_param,
)
from explorer.lazy import lazy_module
from explorer.settings import TARGET_FACES

if TYPE_CHECKING:
    import pyvista as pv
else:  # imported on first use (explorer/lazy.py): the first page needs none of it
    pv = lazy_module("pyvista")

# How much thicker the belly gets (factor on its radius); the ends of the muscle keep their size.
SWELLING: dict[str, float] = {"mild": 1.45, "moderate": 1.7, "severe": 2.0}
SEVERITY_LABELS: dict[str, str] = {
    "mild": "Mild (tight, slightly thickened muscle)",
    "moderate": "Moderate (thickened, swollen belly)",
    "severe": "Severe (markedly swollen belly)",
}


def swollen_radii(radii: np.ndarray, factor: float) -> np.ndarray:
    """Sphere radii of a swollen piriformis: the belly grows by ``factor``, the ends do not.

    Each sphere grows in proportion to how close it is to belly thickness, so the thin origin
    and the tendon keep their size and the muscle stays fusiform.
    """
    base = max(PIRIFORMIS_ORIGIN_RADIUS_MM, PIRIFORMIS_TENDON_RADIUS_MM)
    weight = np.clip((radii - base) / (PIRIFORMIS_BELLY_RADIUS_MM - base), 0.0, 1.0)
    return radii * (1.0 + (factor - 1.0) * weight)


@lru_cache(maxsize=8)
def swollen_piriformis(side: str, severity: str) -> pv.PolyData:
    """The swollen piriformis of ``side`` as a closed mesh in global mm (meshed like the healthy one)."""
    centers, radii = piriformis_samples(side)
    radii = swollen_radii(radii, SWELLING[severity])
    lo = centers.min(axis=0) - radii.max() - 2.0
    hi = centers.max(axis=0) + radii.max() + 2.0
    return surface_from_field(
        narrow_band(lambda p: sphere_sweep(p, centers, radii), MUSCLE_SPACING_MM),
        (lo[0], hi[0], lo[1], hi[1], lo[2], hi[2]),
        spacing=MUSCLE_SPACING_MM,
        smoothing_iterations=MUSCLE_SMOOTHING_ITERATIONS,
        target_faces=TARGET_FACES["muscle"],
    )


def build_lesion(params: Mapping[str, str]) -> Lesion:
    """The swollen muscle replaces the healthy one and is what presses on the nerve."""
    side, severity = params["side"], params["severity"]
    mesh = swollen_piriformis(side, severity)
    name = f"Swollen, tight piriformis ({side})"
    return Lesion(
        compressors={f"lesion-piriformis-{side}": mesh},
        replaced={f"piriformis-{side}": mesh},
        names={f"lesion-piriformis-{side}": name, f"piriformis-{side}": name},
        focus=greater_sciatic_foramen(side),
        candidates=(f"sciatic-{side}", f"root-S1-{side}", f"root-S2-{side}", f"root-L5-{side}"),
    )


# ------------------------------------------------------------------------ clinical knowledge


def expected(params: Mapping[str, str]) -> ExpectedPattern:
    """The sciatic nerve in the buttock, no spinal root (Hicks 2023; Hopayian 2010)."""
    side = params.get("side", "left")
    return ExpectedPattern(nerves=frozenset({("sciatic", side)}), no_roots=True,
                           explanation="The sciatic nerve is squeezed in the buttock, under piriformis, "
                                       "outside the spine: no spinal root is involved.")


FEATURES: tuple[str, ...] = (
    "Deep buttock pain, worse after sitting for a while (especially on a hard seat) and on getting up.",
    ("FAIR test positive: bending the hip, bringing the knee across the body and turning the leg inward "
    "(flexion, adduction, internal rotation) stretches piriformis over the sciatic nerve and brings on "
    "the buttock pain."),
    "Tenderness deep in the buttock over the sciatic notch, where the nerve passes under piriformis.",
    ("The low back examines normally and the reflexes are usually normal, because the nerve roots "
    "themselves are not squeezed."),
    "It is diagnosed after spinal causes of sciatica have been ruled out; experts do not agree on firm criteria.",
)


def features(params: Mapping[str, str], degrees: Mapping[RootSide, float]) -> tuple[str, ...]:
    """Typical features (Hopayian 2010; Fishman 2002 for the FAIR test)."""
    return FEATURES


SPEC = ConditionSpec(
    id="piriformis",
    name="Piriformis syndrome",
    summary="A tight, swollen piriformis muscle in the buttock presses on the sciatic nerve below it; "
            "the spinal nerve roots are not involved.",
    params=(
        side_param(),
        ParamSpec("severity", "Severity", SEVERITY_VALUES, "moderate", value_labels=SEVERITY_LABELS,
                  plain_label="How swollen the muscle is",
                  plain_value_labels={"mild": "Tight", "moderate": "Swollen", "severe": "Very swollen"}),
    ),
    build_lesion=build_lesion,
    expected=expected,
    tempo="chronic",
    features=features,
    red_flags=RedFlagRules(cauda_equina=False, bilateral_sciatica=False, severe_weakness=True),
    examples=(ConditionExample("Piriformis syndrome (left)", {"side": "left", "severity": "moderate"}),),
    order=40,
)

"""Cauda equina syndrome: a massive central disc herniation fills the canal and squeezes many
roots of the cauda equina at once, on both sides: the roots about to leave at the next level
(anterolateral in the sac, nearest the disc: Wall EJ, Cohen MS, Massie JB, Rydevik B, Garfin SR.
Cauda equina anatomy I: intrathecal nerve root organization. Spine. 1990;15(12):1244-1247) and the
sacral roots S2-S5 behind them that serve the bladder, bowel, sexual function and the skin of the
saddle area. A large central herniation is its commonest cause, most often at L4-L5 or L5-S1
(Lavy C, James A, Wilson-MacDonald J, Fairbank J. Cauda equina syndrome. BMJ. 2009;338:b936),
but it can happen at any lumbar level.

It is a surgical emergency: immediate referral, an emergency MRI scan and, if confirmed,
decompression as soon as possible, day or night (GIRFT national suspected cauda equina syndrome
pathway, NHS England 2023; British Association of Spine Surgeons (BASS) standards). Older work
set a 48-hour limit (Ahn UM, Ahn NU, Buchowski JM, et al. Cauda equina syndrome secondary to
lumbar disc herniation: a meta-analysis of surgical outcomes. Spine. 2000;25(12):1515-1522);
later studies question a fixed limit and find that what matters most is operating before the
bladder stops emptying (retention), so the advice now is not to wait.

Tempo: acute. The red flags come from the geometry (the sacral roots squeezed on both sides),
not from the condition's name.
"""

from __future__ import annotations

from collections.abc import Mapping

from explorer.anatomy.structures import ROOTS
from explorer.conditions.base import (
    ConditionExample,
    ConditionSpec,
    ExpectedPattern,
    Lesion,
    RedFlagRules,
    RootSide,
    both_sides,
    level_param,
    root_ids,
    roots_below,
)
from explorer.conditions.herniation import fragment

# The massive fragment reaches past the middle of the dural sac (indent 1 = the sac's full depth).
MASSIVE_INDENT: float = 1.15
MASSIVE_WIDTH_MM: float = 17.0


def build_lesion(params: Mapping[str, str]) -> Lesion:
    level = params["level"]
    mesh, focus = fragment(level, "central", "left", MASSIVE_INDENT, MASSIVE_WIDTH_MM, 0.55, migrate=True)
    upper = level.split("-")[0]
    below = ROOTS[ROOTS.index(upper) + 1:]
    return Lesion(compressors={"lesion-disc": mesh}, replaced={},
                  names={"lesion-disc": f"Massive central disc herniation at {level} filling the canal"},
                  focus=focus, candidates=root_ids(below) + ("cauda-equina", "thecal-sac"))


def expected(params: Mapping[str, str]) -> ExpectedPattern:
    """Every root still in the sac below the disc, on both sides, the traversing ones and the
    sacral roots S2-S5 included (Lavy 2009; Wall 1990)."""
    upper, lower = params.get("level", "L4-L5").split("-")
    return ExpectedPattern(both_sides(*roots_below(lower)), both_sides(upper),
                           required=both_sides(lower, "S2", "S3", "S4", "S5"), bilateral=True, cauda_equina=True,
                           explanation=f"A massive central disc at {params.get('level', 'L4-L5')} fills the canal "
                                       f"and squeezes the roots in the sac on both sides: the {lower} roots nearest "
                                       f"the disc and the sacral roots for the bladder, bowel and saddle area.")


FEATURES: tuple[str, ...] = (
    ("Emergency: immediate referral for an emergency MRI scan and, if confirmed, surgical decompression as "
    "soon as possible, day or night; do not wait for the bladder to stop working."),
    "Usually from a large central disc herniation at L4-L5 or L5-S1; it may start as sciatica in one or both legs.",
    ("The examiner checks feeling in the saddle area, anal tone and squeeze, and measures how much urine is "
    "left in the bladder after passing water."),
    ("Results are much better if surgery happens before the bladder stops emptying (retention). An older "
    "review set a 48-hour limit; later studies question any fixed limit, so surgery should not be delayed."),
)


def features(params: Mapping[str, str], degrees: Mapping[RootSide, float]) -> tuple[str, ...]:
    """Typical features (GIRFT 2023; Lavy 2009; Ahn 2000 and the later debate on timing)."""
    return FEATURES


SPEC = ConditionSpec(
    id="cauda_equina",
    name="Cauda equina syndrome",
    summary="A huge central disc herniation squeezes the whole bundle of nerve roots: an emergency.",
    params=(level_param("L4-L5"),),
    build_lesion=build_lesion,
    expected=expected,
    tempo="acute",
    features=features,
    red_flags=RedFlagRules(cauda_equina=True, bilateral_sciatica=True, severe_weakness=True),
    examples=(
        ConditionExample("Cauda equina syndrome (L4-L5)", {"level": "L4-L5"}),
        ConditionExample("Cauda equina syndrome (L5-S1)", {"level": "L5-S1"}),
        ConditionExample("Cauda equina syndrome (L2-L3)", {"level": "L2-L3"}),
    ),
    order=50,
)

"""Cauda equina syndrome: a massive central disc herniation fills the canal and squeezes many
roots of the cauda equina at once, on both sides, including the sacral roots S2-S5 that serve the
bladder, bowel, sexual function and the skin of the saddle area.

It is a surgical emergency: urgent MRI and decompression as soon as possible (outcomes are better
before the bladder stops emptying; Ahn UM, Ahn NU, Buchowski JM, et al. Cauda equina syndrome
secondary to lumbar disc herniation: a meta-analysis of surgical outcomes. Spine.
2000;25(12):1515-1522. Also: Lavy C, James A, Wilson-MacDonald J, Fairbank J. Cauda equina
syndrome. BMJ. 2009;338:b936). A large central herniation is its commonest cause, most often at
L4-L5 or L5-S1.
"""

from __future__ import annotations

from collections.abc import Mapping

from explorer.anatomy.structures import ROOTS
from explorer.conditions.base import ConditionSpec, Lesion, level_param, root_ids
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


SPEC = ConditionSpec(
    id="cauda_equina",
    name="Cauda equina syndrome",
    summary="A huge central disc herniation squeezes the whole bundle of nerve roots: an emergency.",
    params=(level_param("L4-L5"),),
    build_lesion=build_lesion,
)

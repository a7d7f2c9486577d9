"""Textbook rules: which nerve a condition at a level and zone affects.

These are written from the teaching literature, independently of the geometry, so the tests can
check that the measured geometry agrees with them for every combination of parameters.

Sources
-------
- Traversing vs exiting root: a paracentral (subarticular) disc herniation affects the root that
  traverses the level and exits one level lower; a foraminal or extraforaminal herniation affects
  the root exiting at that level (Amin RM, Andrade NS, Neuman BJ. Lumbar disc herniation. Curr Rev
  Musculoskelet Med. 2017;10(4):507-516; Fardon DF, et al. Lumbar disc nomenclature: version 2.0.
  Spine J. 2014;14(11):2525-2545).
- Stenosis: central stenosis affects the roots in the dural sac (bilaterally, typically the
  traversing root first); lateral recess stenosis the traversing root; foraminal stenosis the
  exiting root (Genevay S, Atlas SJ. Lumbar spinal stenosis. Best Pract Res Clin Rheumatol.
  2010;24(2):253-265).
- Spondylolisthesis: isthmic slips squeeze the exiting root in the foramen (L5 at L5-S1);
  degenerative slips cause central and lateral recess stenosis of the traversing root (L5 at
  L4-L5) (Kalichman L, Hunter DJ. Diagnosis and conservative management of degenerative lumbar
  spondylolisthesis. Eur Spine J. 2008;17(3):327-335).
- Piriformis syndrome affects the sciatic nerve outside the spine, not a spinal root (Hicks BL,
  Lam JC, Varacallo M. Piriformis syndrome. StatPearls, 2023).
- Cauda equina syndrome: compression of the sacral roots S2-S5 on both sides (Lavy C, et al.
  Cauda equina syndrome. BMJ. 2009;338:b936).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

SIDES: tuple[str, ...] = ("left", "right")
ROOTS: tuple[str, ...] = ("L1", "L2", "L3", "L4", "L5", "S1", "S2", "S3", "S4", "S5")


@dataclass(frozen=True)
class ExpectedPattern:
    """What the textbook says a condition affects.

    Attributes
    ----------
    primary : frozenset of (root, side)
        Roots one of which must be the most compressed (empty: no root need be affected).
    required : frozenset of (root, side) or None
        Roots that must all be compressed; defaults to ``primary``.
    spared : frozenset of (root, side)
        Roots that must be clearly less compressed than the primary ones (or untouched).
    nerves : frozenset of (nerve, side)
        Peripheral nerves that must be compressed (piriformis).
    no_roots : bool
        No spinal root may be compressed at all.
    bilateral : bool
        Both sides must be affected.
    explanation : str
        One sentence of why, for the summary and the student text.
    """

    primary: frozenset[tuple[str, str]] = field(default_factory=frozenset)
    spared: frozenset[tuple[str, str]] = field(default_factory=frozenset)
    nerves: frozenset[tuple[str, str]] = field(default_factory=frozenset)
    no_roots: bool = False
    bilateral: bool = False
    explanation: str = ""
    required: frozenset[tuple[str, str]] | None = None


def _both(root: str) -> frozenset[tuple[str, str]]:
    return frozenset((root, s) for s in SIDES)


def expected(condition: str, params: Mapping[str, str]) -> ExpectedPattern:
    """The textbook pattern for a condition with these (validated) parameters."""
    level = params.get("level", "L4-L5")
    upper, lower = level.split("-")
    side = params.get("side", "left")
    other = "right" if side == "left" else "left"
    zone = params.get("zone", "")
    if condition == "herniation":
        if zone == "paracentral":
            return ExpectedPattern(frozenset({(lower, side)}), frozenset({(upper, side), (lower, other)}),
                                   explanation=f"A paracentral {level} disc catches the traversing {lower} root, "
                                               f"which crosses this disc to exit one level lower; the {upper} root "
                                               f"has already left above the disc.")
        if zone in ("foraminal", "extraforaminal"):
            return ExpectedPattern(frozenset({(upper, side)}), frozenset({(lower, side)}),
                                   explanation=f"A {zone} {level} disc catches the exiting {upper} root in or just "
                                               f"outside its foramen; the traversing {lower} root is still inside "
                                               f"the canal, out of reach.")
        severe = params.get("severity") == "severe"
        return ExpectedPattern(frozenset(), _both(upper), bilateral=severe,
                               explanation="A central disc presses on the dural sac from the front; when large it "
                                           "squeezes roots of the cauda equina on both sides.")
    if condition == "stenosis":
        if zone == "central":
            in_sac = frozenset((r, s) for r in ROOTS[ROOTS.index(lower):] for s in SIDES)
            return ExpectedPattern(in_sac, _both(upper), required=_both(lower), bilateral=True,
                                   explanation=f"A narrow central canal at {level} squeezes the roots inside the "
                                               f"dural sac on both sides: the traversing {lower} roots and the "
                                               f"sacral roots still travelling down.")
        if zone == "lateral_recess":
            return ExpectedPattern(frozenset({(lower, side)}), frozenset({(upper, side), (lower, other)}),
                                   explanation=f"The lateral recess is where the traversing {lower} root runs, so "
                                               f"narrowing there squeezes it.")
        return ExpectedPattern(frozenset({(upper, side)}), frozenset({(lower, side)}),
                               explanation=f"The {level} foramen is where the {upper} root exits, so narrowing "
                                           f"there squeezes the exiting root.")
    if condition == "spondylolisthesis":
        if params.get("type") == "isthmic":
            return ExpectedPattern(_both(upper), frozenset(), bilateral=True,
                                   explanation=f"With a pars defect the {upper} body slides forward and its "
                                               f"foramina narrow: the exiting {upper} roots are squeezed.")
        return ExpectedPattern(_both(lower), frozenset(), bilateral=True,
                               explanation=f"In a degenerative slip the whole {upper} vertebra slides forward and "
                                           f"narrows the canal and lateral recesses: the traversing {lower} roots "
                                           f"are squeezed.")
    if condition == "piriformis":
        return ExpectedPattern(nerves=frozenset({("sciatic", side)}), no_roots=True,
                               explanation="The sciatic nerve is squeezed in the buttock, under piriformis, "
                                           "outside the spine: no spinal root is involved.")
    if condition == "cauda_equina":
        below = frozenset((r, s) for r in ROOTS[ROOTS.index(upper) + 1:] for s in SIDES)
        return ExpectedPattern(below, frozenset(), required=_both("S2") | _both("S3"), bilateral=True,
                               explanation="A massive central disc fills the canal and squeezes many roots on both "
                                           "sides, including the sacral roots for the bladder, bowel and saddle "
                                           "area.")
    raise KeyError(f"unknown condition {condition!r}")

"""Textbook rules: which nerve a condition with given parameters affects.

Each condition module writes its own rule (``SPEC.expected``), from the teaching literature and
independently of the geometry, so the tests can check that the measured geometry agrees with it
for every combination of parameters. :func:`expected` is the one entry point by condition id.

Sources (cited in each condition module)
----------------------------------------
- Traversing vs exiting root: Amin RM, Andrade NS, Neuman BJ. Lumbar disc herniation. Curr Rev
  Musculoskelet Med. 2017;10(4):507-516; Fardon DF, et al. Lumbar disc nomenclature: version 2.0.
  Spine J. 2014;14(11):2525-2545.
- Roots inside the sac: the next to leave lie anterolateral, the lower sacral roots dorsal (Wall EJ,
  Cohen MS, Massie JB, Rydevik B, Garfin SR. Cauda equina anatomy I: intrathecal nerve root
  organization. Spine. 1990;15(12):1244-1247).
- Stenosis: Genevay S, Atlas SJ. Lumbar spinal stenosis. Best Pract Res Clin Rheumatol.
  2010;24(2):253-265.
- Spondylolisthesis: Wiltse 1976; Meyerding 1932; Kalichman L, Hunter DJ. Eur Spine J.
  2008;17(3):327-335.
- Piriformis: Hicks BL, Lam JC, Varacallo M. Piriformis syndrome. StatPearls, 2023.
- Cauda equina syndrome: Lavy C, et al. Cauda equina syndrome. BMJ. 2009;338:b936.
"""

from __future__ import annotations

from collections.abc import Mapping

from explorer.conditions.base import SIDE_VALUES, SPINAL_ROOTS, ExpectedPattern
from explorer.conditions.registry import CONDITIONS

SIDES: tuple[str, ...] = SIDE_VALUES
ROOTS: tuple[str, ...] = SPINAL_ROOTS

__all__ = ["ROOTS", "SIDES", "ExpectedPattern", "expected"]


def expected(condition: str, params: Mapping[str, str]) -> ExpectedPattern:
    """The textbook pattern for a condition with these (validated) parameters.

    Raises
    ------
    KeyError
        For an unknown condition id (the message lists the known ones).
    """
    spec = CONDITIONS.get(condition)
    if spec is None:
        raise KeyError(f"unknown condition {condition!r}; known: {', '.join(CONDITIONS)}")
    return spec.expected(params)

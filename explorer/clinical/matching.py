"""Symptoms to cause: which roots (or the sciatic nerve) best explain what a person reports.

Pure and deterministic. The person marks skin areas on each side (any symptom there), and may
add weak movements and changed reflexes. Each candidate root on each side is scored on:

* **areas**: a marked area inside the root's dermatome counts 1, one on its usual pain path only
  counts 0.5 (pain spreads wider than the dermatome) [LEE2008] [HARRISON_BACK];
  ``fit = explained / marked`` on that side (how much of the report the root explains) and
  ``cover = marked dermatome areas / dermatome areas`` (how much of the root's own map is marked);
* **weakness**: each marked movement the root powers counts 1 (its ISNCSCI key muscle or a
  teaching extra) [ISNCSCI2019];
* **reflexes**: a reduced or absent reflex whose main root this is counts 1; one the root only
  contributes to counts 0.5 [HOPPENFELD].

``score = 3 * fit + 1 * cover + 1 * weakness + 1 * reflexes`` (the weights are a teaching choice:
the map of symptoms leads, the examination confirms). The sciatic nerve is scored the same way
with its own territory, so a pattern spread over L5 and S1 below the knee can point to it.
Then :func:`candidate_conditions` lists the conditions and levels that the textbook rules
(:func:`explorer.conditions.rules.expected`) say squeeze the best roots.

This is for learning: real diagnosis needs a clinician, an examination and often imaging.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field

from explorer.clinical.bodymap import AREA_ROOTS
from explorer.clinical.roots import NERVES, REFLEXES, ROOTS, movements_of, symptom_regions
from explorer.clinical.types import ROOT_ORDER
from explorer.conditions.combos import combinations
from explorer.conditions.registry import CONDITIONS
from explorer.conditions.rules import expected

SIDES: tuple[str, ...] = ("left", "right")
AREA_WEIGHT, PAIN_ONLY_WEIGHT = 1.0, 0.5
FIT_WEIGHT, COVER_WEIGHT, WEAKNESS_WEIGHT, REFLEX_WEIGHT = 3.0, 1.0, 1.0, 1.0
# Severity used when listing which conditions could produce a pattern (the typical case).
TYPICAL = {"severity": "moderate", "grade": "1"}


@dataclass(frozen=True)
class SymptomReport:
    """What a person reports.

    Attributes
    ----------
    areas : collection of (area name, side)
        Skin areas with symptoms (pain, tingling or numbness), by their everyday names.
    weak : collection of (movement, side)
        Weak movements, as named in :mod:`explorer.clinical.roots` (``Movement.movement``).
    reflexes : collection of (reflex id, side)
        Reflexes found reduced or absent (``patellar``, ``medial_hamstring``, ``achilles``).
    """

    areas: frozenset[tuple[str, str]] = field(default_factory=frozenset)
    weak: frozenset[tuple[str, str]] = field(default_factory=frozenset)
    reflexes: frozenset[tuple[str, str]] = field(default_factory=frozenset)

    @property
    def is_empty(self) -> bool:
        return not (self.areas or self.weak or self.reflexes)


@dataclass(frozen=True)
class RootMatch:
    """How well one root (or the sciatic nerve) on one side explains a report."""

    source: str
    side: str
    score: float
    reasons: tuple[str, ...]
    unexplained: tuple[str, ...]


def _dermatome(source: str) -> set[str]:
    """A root's skin areas (its dermatome, with the chart's extra areas), or a nerve's territory."""
    _, tingling, numb = symptom_regions(source)
    return {r.plain for r in tingling + numb} | {n for n, root in AREA_ROOTS.items() if root == source}


def _pain_only(source: str) -> set[str]:
    return {r.plain for r in symptom_regions(source)[0]} - _dermatome(source)


def _movements(source: str) -> dict[str, str]:
    return {m.movement: m.muscle for m in movements_of(source)}


def movement_names() -> tuple[str, ...]:
    """Every movement a person can mark as weak, in root order, no repeats."""
    return tuple(dict.fromkeys(m for r in ROOT_ORDER for m in _movements(r)))


def _score(source: str, side: str, report: SymptomReport) -> RootMatch:
    marked = {name for name, s in report.areas if s == side}
    derm, pain = _dermatome(source), _pain_only(source)
    in_derm, in_pain = sorted(marked & derm), sorted(marked & pain)
    explained = AREA_WEIGHT * len(in_derm) + PAIN_ONLY_WEIGHT * len(in_pain)
    fit = explained / len(marked) if marked else 0.0
    cover = len(in_derm) / len(derm) if derm else 0.0
    label = f"{source} root" if source in ROOTS else f"{source} nerve"
    reasons: list[str] = []
    if in_derm:
        reasons.append(f"{', '.join(in_derm).capitalize()}: in the {label}'s skin area (dermatome).")
    if in_pain:
        reasons.append(f"{', '.join(in_pain).capitalize()}: where pain from the {label} usually spreads.")
    moves = _movements(source)
    weak = sorted(m for m, s in report.weak if s == side and m in moves)
    for m in weak:
        reasons.append(f"Weakness in {m[0].lower() + m[1:]}: the {label} powers the {moves[m]}.")
    reflex_points = 0.0
    for reflex_id, s in sorted(report.reflexes):
        reflex = REFLEXES.get(reflex_id)
        if s != side or reflex is None or source not in reflex.roots:
            continue
        main = reflex.primary_root == source
        reflex_points += 1.0 if main else 0.5
        reasons.append(f"Reduced {reflex.name} ({reflex.clinical_name}): "
                       f"{'mainly' if main else 'partly'} carried by {source}.")
    score = FIT_WEIGHT * fit + COVER_WEIGHT * cover + WEAKNESS_WEIGHT * len(weak) + REFLEX_WEIGHT * reflex_points
    unexplained = tuple(sorted(marked - derm - pain))
    return RootMatch(source, side, round(score, 4), tuple(reasons), unexplained)


def rank_roots(report: SymptomReport, include_nerves: bool = True) -> list[RootMatch]:
    """Roots (and the sciatic nerve) on each side, best match first; those scoring 0 are left out.

    Ties keep root order (L1 before S5, left before right), so the result is deterministic.
    """
    sources = list(ROOT_ORDER) + (list(NERVES) if include_nerves else [])
    matches = [_score(src, side, report) for side in SIDES for src in sources]
    order = {(m.source, m.side): i for i, m in enumerate(matches)}
    return sorted((m for m in matches if m.score > 0), key=lambda m: (-m.score, order[(m.source, m.side)]))


@dataclass(frozen=True)
class CandidateCondition:
    """A condition and its parameters that the textbook says squeezes a matching root."""

    condition: str
    params: tuple[tuple[str, str], ...]
    label: str
    reason: str
    fits: tuple[str, ...]  # "L5 left", ...


def _label(condition: str, params: Mapping[str, str]) -> str:
    spec = CONDITIONS[condition]
    parts = [spec.param(p).label_for(v) for p, v in params.items() if p not in ("severity", "grade")]
    return f"{spec.name}: {', '.join(parts)}" if parts else spec.name


def candidate_conditions(matches: list[RootMatch], top: int = 2, limit: int = 8) -> list[CandidateCondition]:
    """Conditions whose textbook pattern includes one of the ``top`` best-matching roots or nerves.

    Each listed condition squeezes the matched root as its main target (``primary``) or, for the
    sciatic nerve, as its nerve. Causes of the best match come first, and among them the most
    specific (one root before many).
    """
    rank = {(m.source, m.side): i for i, m in enumerate(matches[:top])}
    wanted = set(rank)
    if not wanted:
        return []
    found: list[tuple[tuple[int, int], CandidateCondition]] = []
    seen: set[tuple[str, tuple[tuple[str, str], ...]]] = set()
    for cid, spec in CONDITIONS.items():
        for params in combinations(spec):
            if any(params.get(k, v) != v for k, v in TYPICAL.items() if k in params):
                continue
            pattern = expected(cid, params)
            hits = (pattern.primary | pattern.nerves) & wanted
            if not hits:
                continue
            applicable = tuple(spec.applicable(params).items())
            if (cid, applicable) in seen:
                continue
            seen.add((cid, applicable))
            fits = tuple(sorted(f"{r} {s}" for r, s in hits))
            breadth = len(pattern.primary | pattern.nerves)
            best = min(rank[h] for h in hits)
            found.append(((best, breadth), CandidateCondition(cid, applicable, _label(cid, dict(applicable)),
                                                      pattern.explanation, fits)))
    found.sort(key=lambda item: item[0])
    return [c for _, c in found[:limit]]


def report_from_root(root: str, side: str, with_exam: bool = False) -> SymptomReport:
    """A textbook report drawn from one root: its dermatome (and, with ``with_exam``, its weak
    movements and reflex). Used by the tests and as examples in the app."""
    areas = frozenset((name, side) for name in _dermatome(root))
    if not with_exam:
        return SymptomReport(areas=areas)
    weak = frozenset((m, side) for m in _movements(root))
    reflexes = frozenset((rid, side) for rid, r in REFLEXES.items() if r.primary_root == root)
    return SymptomReport(areas=areas, weak=weak, reflexes=reflexes)


def unknown_names(report: SymptomReport, allowed_areas: Collection[str]) -> list[str]:
    """Names in ``report`` that are not known areas, movements or reflexes (for clear messages)."""
    bad = [n for n, _ in report.areas if n not in allowed_areas]
    bad += [m for m, _ in report.weak if m not in movement_names()]
    bad += [r for r, _ in report.reflexes if r not in REFLEXES]
    return bad

"""Symptoms to cause: which nerve roots or peripheral nerves best explain what a person reports.

Pure and deterministic. A report lists *findings*, each on one side: skin areas with symptoms
(pain, tingling or numbness), weak movements, reduced reflexes and, optionally, movements or
reflexes that were tested and found normal. Every root ``L1`` .. ``S5`` and every peripheral nerve
in :data:`explorer.clinical.roots.NERVES` (sciatic, common fibular, femoral) on each side is a
*candidate*.

How a candidate is scored
-------------------------
Each finding is explained fully (weight 1), partly (weight 0.5) or not at all:

* an area inside the root's dermatome or the nerve's skin territory: fully; an area only on the
  root's usual pain path (pain spreads wider than the dermatome): partly [LEE2008] [HARRISON_BACK];
  the lower back: partly by every root L1-S1 (back pain often comes with a root problem) and not
  by a peripheral nerve;
* a weak movement the candidate powers: fully; one it only helps with (``Movement.minor``, e.g.
  L3 and L1 for hip flexion, whose ISNCSCI 2019 key root is L2): partly [ISNCSCI2019] [STANDRING];
* a reduced reflex: fully by its main root or by a nerve its arc runs through (femoral: knee
  jerk), partly by a root that only contributes [HOPPENFELD] [PRESTON_SHAPIRO];
* a movement or reflex tested *normal*: explained when the candidate does not power it (or only
  helps); when the candidate is the main supply, it is not explained and costs 0.5 (a mild
  lesion can spare a muscle, so it counts half against).

``fits`` is the number of findings explained at least partly, ``of`` the number of findings (both
sides: one root cannot explain the other leg). ``evidence`` is the weighted sum.

Order
-----
The fit leads: candidates are ranked on ``fits`` (the scale a person reads, "fits 5 of 6
findings"). Among candidates that explain the same number of findings (a near-tie), the more
common cause comes first, then the one that explains them more fully (``evidence``). Candidates
with the same ``fits`` and ``evidence`` are a *tie* (``tied_with``) unless one is a rare cause and
the other is not: rare causes are demoted, not tied. :func:`separators` lists the examination
findings that would tell close candidates apart (e.g. foot inversion, tibialis posterior, is weak
in L5 radiculopathy but spared in a common fibular palsy).

Base rates
----------
Each candidate has a base-rate penalty (:data:`BASE_RATES`; only its order matters, and
``>= 0.5`` marks a rare cause):

* L5 and S1: none. Together they account for the large majority of lumbar radiculopathies
  (Tarulli AW, Raynor EM. Lumbosacral radiculopathy. Neurol Clin. 2007;25(2):387-405) [TARULLI2007].
* L4: 0.1; L1-L3 (upper lumbar radiculopathy is uncommon) and S2-S5 (rarely alone; usually part of
  a cauda equina picture): 0.3 [TARULLI2007].
* common fibular (peroneal) nerve: 0.15. Its palsy at the fibular head is the commonest
  mononeuropathy of the leg, but leg pain and numbness come more often from an L5 root
  [PRESTON_SHAPIRO] [BAIMA2008].
* When the report has a foot drop (weak ankle dorsiflexion) on that side, the foot-drop rates
  apply instead (:data:`FOOT_DROP_RATES`): a common fibular palsy at the fibular neck is the most
  frequent cause of foot drop, then an L5 radiculopathy; L4 is an uncommon cause although
  dorsiflexion is its ISNCSCI key muscle (Stewart JD. Foot drop: where, why and what to do?
  Pract Neurol. 2008;8(3):158-169) [STEWART2008].
* femoral nerve: 0.6. Isolated femoral neuropathy is rare; most are from pelvic or hip surgery or
  bleeding in the pelvis [PRESTON_SHAPIRO].
* sciatic nerve (piriformis syndrome): 0.6. Piriformis syndrome is a diagnosis of exclusion
  without agreed criteria; estimates of how much sciatica it causes range from well under 1% to
  about 6%, and some series claim far more, so sources disagree [HOPAYIAN2010].

The conditions that squeeze a matching root (or the sciatic nerve) come from the textbook rules
(:func:`explorer.conditions.rules.expected`). The common fibular and femoral nerves are squeezed
outside the spine and are not modelled as a condition in this app.

This is for learning: real diagnosis needs a clinician, an examination and often imaging.

References
----------
TARULLI2007
    Tarulli AW, Raynor EM. Lumbosacral radiculopathy. Neurol Clin. 2007;25(2):387-405.
HOPAYIAN2010
    Hopayian K, Song F, Riera R, Sambandan S. The clinical features of the piriformis syndrome:
    a systematic review. Eur Spine J. 2010;19(12):2095-2109.
PRESTON_SHAPIRO
    Preston DC, Shapiro BE. Electromyography and Neuromuscular Disorders, 3rd ed. Elsevier; 2013.
BAIMA2008
    Baima J, Krivickas L. Evaluation and treatment of peroneal neuropathy. Curr Rev Musculoskelet
    Med. 2008;1(2):147-153.
STEWART2008
    Stewart JD. Foot drop: where, why and what to do? Pract Neurol. 2008;8(3):158-169.
ENGLAND2005
    England JD, Gronseth GS, Franklin G, et al. Distal symmetric polyneuropathy: a definition for
    clinical research. Neurology. 2005;64(2):199-207.
GIRFT2023
    Getting It Right First Time. National suspected cauda equina syndrome pathway. NHS England; 2023.
Others (ISNCSCI2019, LEE2008, HARRISON_BACK, HOPPENFELD, STANDRING): see
:mod:`explorer.clinical.roots`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from explorer.clinical.bodymap import AREA_ROOTS, LOWER_BACK, area_names
from explorer.clinical.roots import NERVES, REFLEXES, ROOTS, Movement, movements_of, symptom_regions
from explorer.clinical.types import ROOT_ORDER
from explorer.conditions.combos import combinations
from explorer.conditions.registry import CONDITIONS
from explorer.conditions.rules import expected

SIDES: tuple[str, ...] = ("left", "right")
# The reflexes a person or examiner can report (the anal wink belongs to the cauda equina check).
CHECKABLE_REFLEXES: tuple[str, ...] = ("patellar", "medial_hamstring", "achilles")
FULL, PARTLY = 1.0, 0.5
NORMAL_AGAINST = 0.5  # cost of a tested-normal movement or reflex that the candidate mainly supplies
TIE_TOLERANCE = 1e-6  # evidence is a multiple of 0.5, so equal means equal
RARE = 0.5  # base-rate penalty from which a cause counts as rare
CLOSE = 1  # candidates within one explained finding of each other get separators
BACK_ROOTS: frozenset[str] = frozenset({"L1", "L2", "L3", "L4", "L5", "S1"})
# Severity used when listing which conditions could produce a pattern (the typical case).
TYPICAL = {"severity": "moderate", "grade": "1"}
SADDLE_AREAS: frozenset[str] = frozenset({"genitals and the skin between the legs", "skin around the anus",
                                          "inner buttocks"})
FOOT_AREAS: frozenset[str] = frozenset({"top of the foot", "big toe", "sole of the foot", "heel",
                                        "outer edge of the foot and little toe", "inner edge of the foot (arch)"})
MAX_SEPARATORS = 6


@dataclass(frozen=True)
class BaseRate:
    """How common a cause is, as a penalty in findings and a short label."""

    penalty: float
    label: str


BASE_RATES: Mapping[str, BaseRate] = MappingProxyType(
    {
        "L5": BaseRate(0.0, "common"),
        "S1": BaseRate(0.0, "common"),
        "L4": BaseRate(0.1, "less common"),
        "L3": BaseRate(0.3, "uncommon"),
        "L2": BaseRate(0.3, "uncommon"),
        "L1": BaseRate(0.3, "uncommon"),
        "S2": BaseRate(0.3, "uncommon alone"),
        "S3": BaseRate(0.3, "uncommon alone"),
        "S4": BaseRate(0.3, "uncommon alone"),
        "S5": BaseRate(0.3, "uncommon alone"),
        "common_peroneal": BaseRate(0.15, "common"),
        "femoral": BaseRate(0.6, "rare"),
        "sciatic": BaseRate(0.6, "rare"),
    }
)

# Rates among the causes of a foot drop [STEWART2008]; other sources keep BASE_RATES.
FOOT_DROP_RATES: Mapping[str, BaseRate] = MappingProxyType(
    {
        "common_peroneal": BaseRate(0.0, "commonest cause of foot drop"),
        "L5": BaseRate(0.05, "common cause of foot drop"),
        "L4": BaseRate(0.3, "uncommon cause of foot drop"),
    }
)
DORSIFLEXION = "Pulling the foot up (ankle dorsiflexion)"

# Extra ways to tell a root from a nerve that are not in the tables (history, tests).
PAIR_NOTES: Mapping[str, str] = MappingProxyType(
    {
        "sciatic": ("Back pain, and leg pain made worse by coughing or by lifting the straight leg, favour a root; "
                    "buttock pain worse on sitting, with tenderness deep in the buttock, favours piriformis "
                    "syndrome, which is diagnosed only after spinal causes are ruled out (Hopayian 2010)."),
        "common_peroneal": ("Pressure at the outer side of the knee (crossed legs, a tight cast, recent weight loss) "
                            "points to the common fibular nerve; nerve conduction tests and EMG tell it from an L5 "
                            "root problem (Preston and Shapiro 2013)."),
        "femoral": ("A femoral nerve problem often follows pelvic or hip surgery or bleeding in the pelvis; "
                    "EMG of the hip adductors and the back muscles tells it from an L3 or L4 root problem "
                    "(Preston and Shapiro 2013)."),
    }
)


@dataclass(frozen=True)
class SymptomReport:
    """What a person reports.

    Attributes
    ----------
    areas : frozenset of (area name, side)
        Skin areas with symptoms (pain, tingling or numbness), by their everyday names.
    weak : frozenset of (movement, side)
        Weak movements, as named in :mod:`explorer.clinical.roots` (``Movement.movement``).
    reflexes : frozenset of (reflex id, side)
        Reflexes found reduced or absent (``patellar``, ``medial_hamstring``, ``achilles``).
    normal : frozenset of (movement or reflex id, side)
        Movements or reflexes tested and found normal (they count against a candidate that mainly
        supplies them).
    """

    areas: frozenset[tuple[str, str]] = field(default_factory=frozenset)
    weak: frozenset[tuple[str, str]] = field(default_factory=frozenset)
    reflexes: frozenset[tuple[str, str]] = field(default_factory=frozenset)
    normal: frozenset[tuple[str, str]] = field(default_factory=frozenset)

    @property
    def is_empty(self) -> bool:
        return not (self.areas or self.weak or self.reflexes)

    def findings(self) -> tuple[Finding, ...]:
        """Every finding in a fixed order: areas, weakness, reflexes, normal; by side then name."""
        out: list[Finding] = []
        for kind, items in (("area", self.areas), ("weak", self.weak), ("reflex", self.reflexes),
                            ("normal", self.normal)):
            out += [Finding(kind, name, side) for name, side in sorted(items, key=lambda t: (t[1], t[0]))]
        return tuple(out)


@dataclass(frozen=True)
class Finding:
    """One finding on one side: ``kind`` is ``area``, ``weak``, ``reflex`` or ``normal``."""

    kind: str
    name: str
    side: str

    @property
    def text(self) -> str:
        """Plain words, e.g. ``"left: weak lifting the big toe (great-toe extension)"``."""
        if self.kind == "area":
            return f"{self.side}: {self.name}"
        what = _reflex_words(self.name) if self.name in REFLEXES else _movement_words(self.name)
        prefix = {"weak": "weak", "reflex": "reduced", "normal": "normal"}[self.kind]
        return f"{self.side}: {prefix} {what}"


@dataclass(frozen=True)
class Candidate:
    """How well one root or nerve on one side explains a report.

    Attributes
    ----------
    source : str
        ``L1`` .. ``S5`` or a key of :data:`~explorer.clinical.roots.NERVES`.
    side : str
        ``left`` or ``right``.
    fits, of : int
        Findings explained (at least partly), and all findings.
    partly : int
        How many of ``fits`` are explained only partly.
    evidence : float
        Weighted fit (1 per fully explained finding, 0.5 per partly explained one, minus 0.5 per
        tested-normal finding it mainly supplies).
    explains, does_not_explain : tuple of str
        One plain sentence per finding.
    tied_with : tuple of str
        Ids of candidates with the same evidence.
    separate_by : tuple of str
        Examination findings that would tell it from its ties and close rivals.
    cover : float
        Share of the candidate's own skin area that is marked (last tie-break only: the more
        specific map first, e.g. S5 before S4 for the skin right at the anus).
    base_rate : BaseRate
        How common this cause is for this report (:func:`base_rate`).
    """

    source: str
    side: str
    fits: int
    of: int
    partly: int
    evidence: float
    explains: tuple[str, ...]
    does_not_explain: tuple[str, ...]
    cover: float = 0.0
    tied_with: tuple[str, ...] = ()
    separate_by: tuple[str, ...] = ()
    base_rate: BaseRate = BaseRate(0.0, "common")

    @property
    def id(self) -> str:
        return f"{self.source}-{self.side}"

    @property
    def kind(self) -> str:
        return "root" if self.source in ROOTS else "nerve"

    @property
    def name(self) -> str:
        return source_label(self.source)

    @property
    def rare(self) -> bool:
        """A rare cause (piriformis syndrome, femoral neuropathy): never tied with a common one."""
        return self.base_rate.penalty >= RARE

    @property
    def fit_text(self) -> str:
        """E.g. ``"fits 5 of 6 findings (1 only partly)"``."""
        noun = "finding" if self.of == 1 else "findings"
        extra = f" ({self.partly} only partly)" if self.partly else ""
        return f"fits {self.fits} of {self.of} {noun}{extra}"


# --------------------------------------------------------------------------- tables
def source_label(source: str) -> str:
    """``"L5 nerve root"`` or the nerve's everyday name (``"common fibular (peroneal) nerve"``)."""
    return f"{source} nerve root" if source in ROOTS else NERVES[source].name


def _short_label(source: str) -> str:
    return source if source in ROOTS else NERVES[source].name.replace(" nerve", "").replace(" (peroneal)", "")


def _territory(source: str) -> set[str]:
    """A root's dermatome (with the chart's extra areas) or a nerve's skin territory."""
    _, tingling, numb = symptom_regions(source)
    return {r.plain for r in tingling + numb} | {n for n, root in AREA_ROOTS.items() if root == source}


def _pain_only(source: str) -> set[str]:
    return {r.plain for r in symptom_regions(source)[0]} - _territory(source)


def _movements(source: str) -> dict[str, Movement]:
    return {m.movement: m for m in movements_of(source)}


def _movement_role(source: str, movement: str) -> str | None:
    m = _movements(source).get(movement)
    return None if m is None else ("minor" if m.minor else "main")


def _reflex_role(source: str, reflex_id: str) -> str | None:
    if source in ROOTS:
        reflex = REFLEXES[reflex_id]
        if source not in reflex.roots:
            return None
        return "main" if reflex.primary_root == source else "minor"
    return "main" if reflex_id in NERVES[source].reflexes else None


def _article(label: str) -> str:
    """"an" before a root name said with a vowel sound ("an L5", "an S1"), else "a"."""
    return "an" if label[:1] in "AEIOUaeiouLS" else "a"


def _movement_words(movement: str) -> str:
    return movement[0].lower() + movement[1:]


def _reflex_words(reflex_id: str) -> str:
    r = REFLEXES[reflex_id]
    return f"{r.name} ({r.clinical_name})"


def movement_names() -> tuple[str, ...]:
    """Every movement a person can mark as weak, in root order (then the nerves'), no repeats."""
    return tuple(dict.fromkeys(m for s in (*ROOT_ORDER, *NERVES) for m in _movements(s)))


def allowed_names() -> dict[str, list[str]]:
    """The names :func:`match_json` accepts: sides, areas, movements and reflexes."""
    return {"sides": list(SIDES), "areas": list(area_names()), "movements": list(movement_names()),
            "reflexes": list(CHECKABLE_REFLEXES)}


# --------------------------------------------------------------------------- scoring
def _score_finding(source: str, side: str, f: Finding) -> tuple[float, bool, str]:
    """(weight, explained?, sentence) for one finding and one candidate."""
    label = source_label(source)
    if f.side != side:
        return 0.0, False, f"{f.text}: on the other side."
    if f.kind == "area":
        if f.name in _territory(source):
            where = "skin area (dermatome)" if source in ROOTS else "skin area"
            return FULL, True, f"{f.text}: in the {label}'s {where}."
        if f.name in _pain_only(source):
            return PARTLY, True, f"{f.text}: partly; pain from the {label} often spreads there."
        if f.name == LOWER_BACK.plain and source in BACK_ROOTS:
            return PARTLY, True, f"{f.text}: partly; back pain often comes with a root problem."
        return 0.0, False, f"{f.text}: outside the {label}'s areas."
    if f.kind == "weak":
        role = _movement_role(source, f.name)
        if role is None:
            return 0.0, False, f"{f.text}: the {label} does not power it."
        muscle = _movements(source)[f.name].muscle
        if role == "minor":
            return PARTLY, True, f"{f.text}: partly; the {label} only helps ({muscle})."
        return FULL, True, f"{f.text}: the {label} powers the {muscle}."
    if f.kind == "reflex":
        role = _reflex_role(source, f.name)
        if role is None:
            return 0.0, False, f"{f.text}: the {label} does not carry it."
        if role == "minor":
            return PARTLY, True, f"{f.text}: partly carried by the {label}."
        return FULL, True, f"{f.text}: {'mainly carried by' if source in ROOTS else 'runs through'} the {label}."
    # A tested-normal movement or reflex.
    role = _reflex_role(source, f.name) if f.name in REFLEXES else _movement_role(source, f.name)
    if role == "main":
        return -NORMAL_AGAINST, False, f"{f.text}: {_article(label)} {label} problem usually changes it."
    if role == "minor":
        return 0.0, True, f"{f.text}: fits; the {label} only helps with it."
    return 0.0, True, f"{f.text}: fits; the {label} does not supply it."


def base_rate(source: str, side: str, report: SymptomReport) -> BaseRate:
    """How common ``source`` is as the cause: the foot-drop rates when dorsiflexion is weak on
    ``side`` [STEWART2008], else :data:`BASE_RATES`."""
    if (DORSIFLEXION, side) in report.weak and source in FOOT_DROP_RATES:
        return FOOT_DROP_RATES[source]
    return BASE_RATES[source]


def _score(source: str, side: str, report: SymptomReport) -> Candidate:
    findings = report.findings()
    explains: list[str] = []
    missing: list[str] = []
    evidence, partly, positive = 0.0, 0, False
    for f in findings:
        weight, ok, sentence = _score_finding(source, side, f)
        evidence += weight
        positive = positive or weight > 0
        (explains if ok else missing).append(sentence)
        partly += ok and 0 < weight < FULL
    territory = _territory(source)
    marked = {name for name, s in report.areas if s == side}
    cover = len(marked & territory) / len(territory) if territory else 0.0
    fits = len(explains) if positive else 0
    return Candidate(source, side, fits, len(findings), partly, round(evidence, 4), tuple(explains),
                     tuple(missing), round(cover, 4), base_rate=base_rate(source, side, report))


def _order_key(c: Candidate) -> tuple[int, float, float, float, int, int]:
    sources = (*ROOT_ORDER, *NERVES)
    return (-c.fits, c.base_rate.penalty, -c.evidence, -c.cover, sources.index(c.source), SIDES.index(c.side))


def _tied(a: Candidate, b: Candidate) -> bool:
    """Same count, same weighted fit, and both common or both rare (a rare cause is demoted, not tied)."""
    return a.fits == b.fits and abs(a.evidence - b.evidence) < TIE_TOLERANCE and a.rare == b.rare


def rank(report: SymptomReport) -> list[Candidate]:
    """Every root and nerve on each side that explains at least one finding, best first.

    Sorted on the number of findings explained (the scale a person reads), then the base rate
    (the more common cause first), then the weighted fit (fully before partly explained), then
    how much of the candidate's own skin area is marked, then root order (deterministic). Each
    candidate carries its ties and, for the leading ones, the findings that would separate it
    from close rivals.
    """
    scored = [_score(src, side, report) for side in SIDES for src in (*ROOT_ORDER, *NERVES)]
    ranked = sorted((c for c in scored if c.fits > 0), key=_order_key)
    out = []
    for i, c in enumerate(ranked):
        ties = tuple(o.id for o in ranked if o is not c and _tied(o, c))
        rivals = [o for o in ranked[:6] if o is not c and o.side == c.side and abs(o.fits - c.fits) <= CLOSE]
        seps = separators(c, rivals, report) if (i < 6 and rivals) else ()
        out.append(Candidate(c.source, c.side, c.fits, c.of, c.partly, c.evidence, c.explains,
                             c.does_not_explain, c.cover, ties, seps, c.base_rate))
    return out


def separators(c: Candidate, rivals: Sequence[Candidate], report: SymptomReport) -> tuple[str, ...]:
    """Examination findings not yet in the report that tell ``c`` from its ``rivals`` (same side).

    A movement or reflex separates when some of the group (``c`` and the rivals) supply it and
    others do not supply it at all (a root that only helps counts with those that supply it).
    Movements that split the group the same way are told in one sentence. Each split is valued by
    the pairs it separates, weighted by how common each cause is (a split against a rare rival is
    worth less); the medial hamstring jerk, the least reliable test, comes after the others. When a
    peripheral nerve is in the group, a note on telling a root from that nerve follows.
    """
    group = [c.source, *(r.source for r in rivals)]
    known = {name for name, s in report.weak | report.reflexes | report.normal if s == c.side}
    weight = {s: 1.0 - base_rate(s, c.side, report).penalty for s in group}
    splits: dict[tuple[str, tuple[str, ...], tuple[str, ...]], list[str]] = {}
    checks: list[tuple[str, str]] = [("reflex", r) for r in CHECKABLE_REFLEXES]
    checks += [("move", m) for m in movement_names()]
    for kind, name in checks:
        if name in known:
            continue
        roles = {s: (_reflex_role(s, name) if kind == "reflex" else _movement_role(s, name)) for s in group}
        affected = tuple(s for s in group if roles[s] is not None)
        spared = tuple(s for s in group if roles[s] is None)
        if not spared or not any(roles[s] == "main" for s in affected):
            continue
        splits.setdefault((kind if kind == "reflex" else "move", affected, spared), []).append(name)
    items: list[tuple[float, int, str]] = []
    for order, ((kind, affected, spared), names) in enumerate(splits.items()):
        value = sum(weight[a] for a in affected) * sum(weight[b] for b in spared)
        if kind == "reflex":
            what = " or ".join(f"{REFLEXES[n].name} ({REFLEXES[n].clinical_name})" for n in names)
            change = "reduced"
        else:
            what = " or ".join(_movement_words(n) + _muscle_note(n, affected) for n in names)
            change = "weak"
        text = (f"{what[0].upper() + what[1:]}: {change} with {_join(_sep_label(s) for s in affected)}; "
                f"normal with {_join(_sep_label(s) for s in spared)}.")
        last = 1 if names == ["medial_hamstring"] else 0
        items.append((last - value, order, text))
    items.sort()
    out = [text for _, _, text in items[:MAX_SEPARATORS]]
    nerves_in_group = [s for s in group if s in PAIR_NOTES]
    if nerves_in_group and any(s in ROOTS for s in group):
        out += [PAIR_NOTES[s] for s in dict.fromkeys(nerves_in_group)]
    return tuple(out)


def _muscle_note(movement: str, sources: Sequence[str]) -> str:
    """`` (muscle, nerve)`` inside the movement's brackets, from a root's table when one has it."""
    for s in sorted(sources, key=lambda x: x not in ROOTS):
        m = _movements(s).get(movement)
        if m is not None:
            muscle = m.muscle.replace(" (", ", ").replace(")", "")
            return f" [{muscle}]"
    return ""


def _sep_label(source: str) -> str:
    return f"the {source} root" if source in ROOTS else f"the {NERVES[source].name.replace(' (peroneal)', '')}"


def _join(words: Iterable[str]) -> str:
    items = list(words)
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


# --------------------------------------------------------------------------- causes
@dataclass(frozen=True)
class CandidateCondition:
    """A condition and its parameters that the textbook says squeezes a matching root or nerve."""

    condition: str
    params: tuple[tuple[str, str], ...]
    label: str
    reason: str
    fits: tuple[str, ...]  # candidate ids, e.g. "L5-left"


def _label(condition: str, params: Mapping[str, str]) -> str:
    spec = CONDITIONS[condition]
    parts = [spec.param(p).label_for(v) for p, v in params.items() if p not in ("severity", "grade")]
    return f"{spec.name}: {', '.join(parts)}" if parts else spec.name


def conditions_for(candidates: Sequence[Candidate], limit: int = 8) -> list[CandidateCondition]:
    """Conditions whose textbook pattern squeezes one of ``candidates`` (roots as the main target,
    nerves as the nerve), at the typical severity. Causes of earlier candidates come first, and
    among them the most specific (one root before many)."""
    rank_of = {(c.source, c.side): i for i, c in enumerate(candidates)}
    if not rank_of:
        return []
    found: list[tuple[tuple[int, int], CandidateCondition]] = []
    seen: set[tuple[str, tuple[tuple[str, str], ...]]] = set()
    for cid, spec in CONDITIONS.items():
        for params in combinations(spec):
            if any(params.get(k, v) != v for k, v in TYPICAL.items() if k in params):
                continue
            pattern = expected(cid, params)
            hits = (pattern.primary | pattern.nerves) & set(rank_of)
            applicable = tuple(spec.applicable(params).items())
            if not hits or (cid, applicable) in seen:
                continue
            seen.add((cid, applicable))
            fits = tuple(sorted(f"{r}-{s}" for r, s in hits))
            key = (min(rank_of[h] for h in hits), len(pattern.primary | pattern.nerves))
            found.append((key, CandidateCondition(cid, applicable, _label(cid, dict(applicable)),
                                                  pattern.explanation, fits)))
    found.sort(key=lambda item: item[0])
    return [c for _, c in found[:limit]]


def outside_spine_note(source: str) -> str | None:
    """For a nerve the app does not model as a condition, a sentence saying so; else ``None``."""
    if source in ROOTS or source == "sciatic":
        return None
    return (f"The {NERVES[source].name} is squeezed outside the spine (for example "
            f"{'at the outer knee' if source == 'common_peroneal' else 'in the pelvis or groin'}); "
            "this app does not model that as a condition.")


# --------------------------------------------------------------------------- report-level notes
def notes(report: SymptomReport, candidates: Sequence[Candidate]) -> list[str]:
    """Plain notes about the whole report: both sides, the saddle area, both feet, base rates."""
    out: list[str] = []
    sides = {s for _, s in report.areas | report.weak | report.reflexes}
    saddle = sorted({n for n, _ in report.areas} & SADDLE_AREAS)
    if saddle:
        out.append("Symptoms in the saddle area (" + ", ".join(saddle) + ") can mean the nerves at the bottom "
                   "of the spine (the cauda equina) are squeezed. With new bladder or bowel trouble, or numbness "
                   "there, go to an emergency department now (GIRFT 2023).")
    if len(sides) == 2:
        left = {n for n, s in report.areas if s == "left"}
        right = {n for n, s in report.areas if s == "right"}
        feet = left & right & FOOT_AREAS
        if feet and left == right and left <= FOOT_AREAS | {"back of the calf", "inner side of the lower leg",
                                                              "outer side of the lower leg"}:
            out.append("The same areas of both feet: symmetric tingling or numbness in both feet is most often a "
                       "peripheral polyneuropathy (for example from diabetes), not a problem in the spine "
                       "(England 2005). A clinician can check for it.")
        else:
            out.append("Findings on both sides: one root or nerve cannot explain them. Several roots on both "
                       "sides can be squeezed in the middle of the spinal canal (central stenosis, a large "
                       "central disc), but symptoms in both legs have other causes too, such as a peripheral "
                       "polyneuropathy when both feet are affected alike. Saddle numbness or bladder or bowel "
                       "change point to the cauda equina and need emergency care.")
    if candidates:
        out.append("How the list is ordered: the fit comes first; when two fit about equally, the more common "
                   "cause is listed first. L5 and S1 cause most sciatica from the spine (Tarulli 2007); a common "
                   "fibular nerve palsy at the knee is the commonest nerve cause of foot drop; femoral neuropathy "
                   "and piriformis syndrome are rare, and piriformis syndrome is diagnosed only after spinal "
                   "causes are ruled out (Hopayian 2010).")
    return out


# --------------------------------------------------------------------------- input names and JSON
def _shorten(value: object, limit: int = 80) -> str:
    text = str(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _lookup(kind: str, value: str, table: Mapping[str, str], allowed: Sequence[str]) -> str:
    key = " ".join(str(value).split()).lower()
    if key in table:
        return table[key]
    raise ValueError(f"unknown {kind} {_shorten(value)!r}; allowed: {', '.join(allowed)}")


def _movement_table() -> dict[str, str]:
    table: dict[str, str] = {}
    for m in movement_names():
        table[m.lower()] = m
        head, _, rest = m.partition(" (")
        table.setdefault(head.lower(), m)
        if rest:
            table.setdefault(rest.rstrip(")").lower(), m)
    return table


def _reflex_table() -> dict[str, str]:
    table: dict[str, str] = {}
    for rid in CHECKABLE_REFLEXES:
        r = REFLEXES[rid]
        for alias in (rid, rid.replace("_", " "), r.name, r.clinical_name):
            table.setdefault(alias.lower(), rid)
    return table


def _side(value: str, what: str) -> str:
    side = str(value).strip().lower()
    if side not in SIDES:
        raise ValueError(f"unknown side {_shorten(value)!r} for {_shorten(what)!r}; allowed: {', '.join(SIDES)}")
    return side


def parse_report(
    areas: Iterable[tuple[str, str]] = (),
    weak: Iterable[tuple[str, str]] = (),
    reflexes: Iterable[tuple[str, str]] = (),
    normal: Iterable[tuple[str, str]] = (),
) -> SymptomReport:
    """A :class:`SymptomReport` from ``(side, name)`` pairs, names matched case-insensitively.

    A movement may be given in full, by its words before the parenthesis ("lifting the big toe")
    or by the clinical term inside it ("great-toe extension"); a reflex by its id, its everyday
    name ("ankle jerk") or its clinical name. ``normal`` takes movements or reflexes.

    Raises
    ------
    ValueError
        Naming the bad value (shortened to 80 characters) and the allowed names.
    """
    area_table = {n.lower(): n for n in area_names()}
    moves, refl = _movement_table(), _reflex_table()
    out_areas = {(_lookup("area", n, area_table, area_names()), _side(s, n)) for s, n in areas}
    out_weak = {(_lookup("movement", n, moves, movement_names()), _side(s, n)) for s, n in weak}
    out_reflexes = {(_lookup("reflex", n, refl, CHECKABLE_REFLEXES), _side(s, n)) for s, n in reflexes}
    out_normal = set()
    for s, n in normal:
        key = " ".join(str(n).split()).lower()
        name = refl.get(key) or _lookup("movement or reflex", n, moves, (*movement_names(), *CHECKABLE_REFLEXES))
        out_normal.add((name, _side(s, n)))
    return SymptomReport(frozenset(out_areas), frozenset(out_weak), frozenset(out_reflexes), frozenset(out_normal))


def candidate_json(c: Candidate, conditions: Sequence[CandidateCondition]) -> dict[str, Any]:
    """One candidate in the :func:`match_json` layout (``conditions``: its own causes)."""
    mine = [x for x in conditions if c.id in x.fits]
    data: dict[str, Any] = {
        "id": c.id, "kind": c.kind, "name": c.name, "side": c.side, "fits": c.fits, "of": c.of,
        "partly": c.partly, "fit_text": c.fit_text, "base_rate": c.base_rate.label,
        "explains": list(c.explains), "does_not_explain": list(c.does_not_explain),
        "tied_with": list(c.tied_with), "separate_by": list(c.separate_by),
        "conditions": [{"condition": x.condition, "params": dict(x.params), "label": x.label} for x in mine],
    }
    note = outside_spine_note(c.source)
    if note:
        data["outside_spine"] = note
    return data


def match(report: SymptomReport, limit: int = 8) -> dict[str, Any]:
    """The ranked candidates (at most ``limit``) and notes for a parsed report, as plain data."""
    ranked = rank(report)[:limit]
    return {"candidates": [candidate_json(c, conditions_for([c])) for c in ranked], "notes": notes(report, ranked)}


def match_json(
    areas: Iterable[tuple[str, str]],
    weak: Iterable[tuple[str, str]],
    reflexes: Iterable[tuple[str, str]],
    normal: Iterable[tuple[str, str]] = (),
) -> dict[str, Any]:
    """Symptoms to cause as JSON-ready data (the contract in team/CONTRACTS.md).

    Parameters
    ----------
    areas, weak, reflexes : iterable of (side, name)
        Skin areas with symptoms, weak movements and reduced reflexes; names as listed by
        :func:`allowed_names` (``python -m explorer match --names --json``).
    normal : iterable of (side, name), optional
        Movements or reflexes tested and found normal.

    Returns
    -------
    dict
        ``{"candidates": [...], "notes": [...]}``, candidates best first, each with ``id``,
        ``kind``, ``name``, ``side``, ``fits``, ``of``, ``explains``, ``does_not_explain``,
        ``tied_with``, ``separate_by`` and ``conditions``.

    Raises
    ------
    ValueError
        For an unknown name or side (the message names it and the allowed ones).
    """
    return match(parse_report(areas, weak, reflexes, normal))


def report_from_root(root: str, side: str, with_exam: bool = False) -> SymptomReport:
    """A textbook report drawn from one root: its dermatome (and, with ``with_exam``, the movements
    it mainly powers and the reflex it mainly carries). Used by the tests and as app examples."""
    areas = frozenset((name, side) for name in _territory(root))
    if not with_exam:
        return SymptomReport(areas=areas)
    weak = frozenset((m.movement, side) for m in movements_of(root) if not m.minor)
    reflexes = frozenset((rid, side) for rid, r in REFLEXES.items() if r.primary_root == root)
    return SymptomReport(areas=areas, weak=weak, reflexes=reflexes)


def parse_side_name(value: str, what: str) -> tuple[str, str]:
    """``"left:top of the foot"`` -> ``("left", "top of the foot")`` (for the command line).

    Raises
    ------
    ValueError
        If there is no ``side:`` prefix; the message names the value.
    """
    side, sep, name = str(value).partition(":")
    if not sep or not name.strip():
        raise ValueError(f"{what} {_shorten(value)!r} must be SIDE:NAME, e.g. left:\"top of the foot\"; "
                         f"sides: {', '.join(SIDES)}")
    return side.strip(), name.strip().strip('"').strip("'")


def format_text(result: Mapping[str, Any], limit: int = 6) -> str:
    """A :func:`match_json` result as a readable table with details under each candidate."""
    rows = result.get("candidates", [])[:limit]
    said: set[str] = set()  # each separator once: ties share them
    lines = [f"{'#':<3}{'Candidate':<40}{'Fit':<40}{'How common':<30}Tied with"]
    for i, c in enumerate(rows, start=1):
        lines.append(f"{i:<3}{(c['name'] + ', ' + c['side']):<40}{c['fit_text']:<40}{c['base_rate']:<30}"
                     f"{', '.join(c['tied_with']) or '-'}")
        lines += [f"     explains: {e}" for e in c["explains"]]
        lines += [f"     does not explain: {e}" for e in c["does_not_explain"]]
        lines += [f"     would separate: {s}" for s in c["separate_by"] if s not in said]
        said.update(c["separate_by"])
        lines += [f"     could be caused by: {x['label']}" for x in c["conditions"][:4]]
        if c.get("outside_spine"):
            lines.append(f"     {c['outside_spine']}")
    if not rows:
        lines.append("   (nothing marked fits a root or nerve)")
    lines += ["", *(f"Note: {n}" for n in result.get("notes", []))]
    lines.append("For learning, not a diagnosis: only a clinician who examines you can say what is wrong.")
    return "\n".join(lines)

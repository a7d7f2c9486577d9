"""From measured compression to the clinical picture: symptoms, examination findings, red flags.

:func:`clinical_picture` is pure and deterministic. It turns the roots and nerves that the
geometry found squeezed (each with a degree from 0, just touching, to 1, badly squashed) into
what the person feels and what an examiner would find, using textbook rules.

Rules
-----
1. **Severity ladder for a root** (pain comes before tingling, tingling before numbness, numbness
   before weakness, as compression of a root worsens [HARRISON_BACK]). A root squeezed to degree
   ``d`` gives, on its own side:

   * ``d >= PAIN_THRESHOLD``: pain (kind ``"pain"``) radiating along the root's usual pain
     path (``RootProfile.pain_regions``);
   * ``d >= TINGLING_THRESHOLD``: tingling over its dermatome (``RootProfile.regions``);
   * ``d >= NUMBNESS_THRESHOLD``: numbness at the far end of the dermatome, around the ISNCSCI key
     sensory point (``RootProfile.distal_regions``) [ISNCSCI2019] [LEE2008];
   * ``d >= WEAKNESS_THRESHOLD``: weakness of every movement the root powers
     (``RootProfile.key_muscles``: the ISNCSCI key muscle and the teaching extras);
   * its reflex is ``reduced`` at ``d >= REFLEX_REDUCED_THRESHOLD`` and ``absent`` at
     ``d >= REFLEX_ABSENT_THRESHOLD``. A root that only contributes to a reflex (L3 for the knee
     jerk, whose main root is L4) can make it ``reduced`` but never ``absent``.

   Several hits on the same root and side are merged by taking the worst degree. Degrees are
   clipped to 0..1.

2. **Reflexes are always reported for both legs.** The picture lists the knee jerk
   (``patellar``), the medial hamstring reflex and the ankle jerk (``achilles``) for the left and
   the right leg, ``normal`` where nothing affects them, because examiners judge reflexes by
   comparing the two sides. A normal reflex names its main root; a changed one names the root (or
   nerve) that changed it. The anal wink (S2-S4) is not a :class:`ReflexFinding`; its loss is part
   of the bowel red flag.

3. **Peripheral nerve** (a :class:`NerveHit`; today only ``"sciatic"``, squeezed by piriformis
   outside the spine) [HOPAYIAN2010]. Findings use the nerve id in the ``root`` field
   (``SensoryFinding.root == "sciatic"``, likewise for weakness and reflexes):

   * pain in the buttock and down the back of the thigh into the calf and foot from
     ``PAIN_THRESHOLD``; tingling in the lower leg and foot from ``TINGLING_THRESHOLD``; numbness
     of the top and sole of the foot from ``NUMBNESS_THRESHOLD``;
   * weakness of the foot and ankle only from ``NERVE_WEAKNESS_THRESHOLD`` (higher than for a
     root);
   * reflexes stay normal, except the ankle jerk, which is ``reduced`` (never ``absent``) from
     ``NERVE_REFLEX_REDUCED_THRESHOLD``.

4. **Red flags** (ids in :data:`RED_FLAG_IDS`, each with a plain sentence in
   :data:`RED_FLAG_TEXT`), from the condition's own rules (``ConditionSpec.red_flags``) and its
   tempo, never from its name:

   * cauda equina (``saddle_anaesthesia``, ``bladder``, ``bowel``, ``sexual_function``) when any of
     the saddle roots S3-S5 is squeezed to ``>= NUMBNESS_THRESHOLD`` on *both* sides, whatever the
     level of the lesion: a central lesion at any level reaches them inside the sac [TODD2017]
     [GIRFT2023]. The flag therefore always comes with saddle numbness on both sides among the
     sensory findings;
   * ``bilateral_sciatica`` when roots on both sides are squeezed to ``>= BILATERAL_DEGREE`` (the
     tingling threshold, so tingling is listed on both sides), only for conditions whose rules
     allow it: a warning sign of cauda equina syndrome for an *acute* disc lesion [GIRFT2023]; for
     slowly narrowing canals (stenosis, slips) symptoms in both legs are the usual picture
     (neurogenic claudication) [KATZ2008], and the condition's calm ``watch_for`` sentences say
     what would make it an emergency instead;
   * ``severe_weakness`` when a root or nerve that powers a movement is squeezed to
     ``>= PROGRESSIVE_WEAKNESS_DEGREE``, above the weakness threshold (so weakness is listed) and at
     the absent-reflex threshold.

5. **Typical features** come from the condition module (``ConditionSpec.features``), given its
   parameters (loose spellings normalised here: see :data:`SUBTYPE_KEYS`) and the squeezed roots.
   An unknown condition gives no features and the default (acute) red-flag rules.

Thresholds (degree of compression, 0..1): pain 0.05, tingling 0.25, numbness 0.45, reflex reduced
0.5, weakness 0.6, reflex absent 0.85 (the main root only), severe-weakness flag 0.85; for a
peripheral nerve, weakness 0.75 and a reduced ankle jerk 0.85; cauda equina flags at saddle
numbness (0.45) on both sides; bilateral flag at tingling (0.25) on both sides.

Consistency (checked by a test over every parameter combination of every condition): the
thresholds are ordered ``PAIN < TINGLING = BILATERAL < NUMBNESS < REFLEX_REDUCED < WEAKNESS <
REFLEX_ABSENT = PROGRESSIVE_WEAKNESS``, so a root weak enough to give weakness also changes its
reflex, a severe-weakness flag comes with weakness and an absent main reflex, the bilateral flag
with symptoms on both sides and the cauda equina flags with saddle numbness on both sides.

6. **Order** is deterministic: left leg before right; within a side, roots in
   :data:`ROOT_ORDER` then nerves; within a root, pain, tingling, numbness; movements in table
   order; reflexes patellar, medial hamstring, Achilles (their main roots' order).

The thresholds are teaching choices that respect the textbook order, not measured values; real
people vary and one squeezed root often gives pain without any deficit.

References
----------
ISNCSCI2019, LEE2008, HARRISON_BACK, TODD2017, HOPAYIAN2010
    See :mod:`explorer.clinical.roots`.
DEVILLE2000
    Devillé WL, van der Windt DA, Dzaferagic A, Bezemer PD, Bouter LM. The test of Lasègue:
    systematic review of the accuracy in diagnosing herniated discs. Spine. 2000;25(9):1140-1147.
ESTRIDGE1982
    Estridge MN, Rouhe SA, Johnson NG. The femoral stretching test. A valuable sign in diagnosing
    upper lumbar disc herniations. J Neurosurg. 1982;57(6):813-817.
FARDON2014
    Fardon DF, Williams AL, Dohring EJ, et al. Lumbar disc nomenclature: version 2.0. Spine J.
    2014;14(11):2525-2545. (Central, subarticular, foraminal and extraforaminal zones.)
KATZ2008
    Katz JN, Harris MB. Lumbar spinal stenosis. N Engl J Med. 2008;358(8):818-825.
WILTSE1976
    Wiltse LL, Newman PH, Macnab I. Classification of spondylolisis and spondylolisthesis.
    Clin Orthop Relat Res. 1976;(117):23-29.
KALICHMAN2009
    Kalichman L, Kim DH, Li L, et al. Spondylolysis and spondylolisthesis: prevalence and
    association with low back pain in the adult community-based population. Spine.
    2009;34(2):199-205.
MEYERDING1932
    Meyerding HW. Spondylolisthesis. Surg Gynecol Obstet. 1932;54:371-377.
FISHMAN2002
    Fishman LM, Dombi GW, Michaelsen C, et al. Piriformis syndrome: diagnosis, treatment, and
    outcome - a 10-year study. Arch Phys Med Rehabil. 2002;83(3):295-301. (FAIR test.)
GIRFT2023
    Getting It Right First Time. National suspected cauda equina syndrome (CES) pathway. NHS
    England, 2023. (Bilateral radicular symptoms, saddle sensory change, bladder or bowel change
    and sexual dysfunction as warning signs; immediate referral and emergency MRI.)
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence

from explorer.clinical.roots import (
    NERVE_ORDER,
    NERVES,
    REFLEXES,
    ROOTS,
    BodyRegion,
    Movement,
    movements_of,
    symptom_regions,
)
from explorer.clinical.types import (
    ROOT_ORDER,
    ClinicalPicture,
    NerveHit,
    ReflexFinding,
    RootHit,
    SensoryFinding,
    WeaknessFinding,
)
from explorer.conditions.base import RedFlagRules
from explorer.conditions.registry import CONDITIONS as REGISTRY

# --- Thresholds on the compression degree (0 touching .. 1 badly squashed). One place for all. ---
PAIN_THRESHOLD = 0.05
TINGLING_THRESHOLD = 0.25
NUMBNESS_THRESHOLD = 0.45
REFLEX_REDUCED_THRESHOLD = 0.5
WEAKNESS_THRESHOLD = 0.6
REFLEX_ABSENT_THRESHOLD = 0.85
# A big nerve outside the spine tolerates more before motor fibres fail (piriformis rarely weakens).
NERVE_WEAKNESS_THRESHOLD = 0.75
NERVE_REFLEX_REDUCED_THRESHOLD = 0.85
# Cauda equina flags need saddle numbness (S3-S5 at the numbness level) on both sides.
CAUDA_EQUINA_SACRAL_DEGREE = NUMBNESS_THRESHOLD
BILATERAL_DEGREE = TINGLING_THRESHOLD
PROGRESSIVE_WEAKNESS_DEGREE = REFLEX_ABSENT_THRESHOLD

SIDES: tuple[str, ...] = ("left", "right")
SENSORY_KINDS: tuple[str, ...] = ("pain", "tingling", "numbness")
# Reflexes reported for each leg, in the order of their main roots.
LEG_REFLEXES: tuple[str, ...] = ("patellar", "medial_hamstring", "achilles")
REFLEX_GRADES: tuple[str, ...] = ("normal", "reduced", "absent")
SADDLE_ROOTS: tuple[str, ...] = ("S3", "S4", "S5")  # the skin a saddle would touch

CONDITIONS: tuple[str, ...] = tuple(REGISTRY)
CONDITION_ALIASES: Mapping[str, str] = {
    "disc_herniation": "herniation",
    "herniated_disc": "herniation",
    "spinal_stenosis": "stenosis",
    "piriformis_syndrome": "piriformis",
    "cauda_equina_syndrome": "cauda_equina",
}
# Parameter names that may hold the sub-type (zone of a herniation, type of stenosis or slip).
SUBTYPE_KEYS: tuple[str, ...] = ("zone", "type", "kind", "location", "variant")
SUBTYPE_ALIASES: Mapping[str, str] = {
    "posterolateral": "paracentral",
    "subarticular": "paracentral",
    "far_lateral": "extraforaminal",
    "lateral": "lateral_recess",
    "recess": "lateral_recess",
    "isthmic_spondylolisthesis": "isthmic",
    "degenerative_spondylolisthesis": "degenerative",
}
LEVEL_KEYS: tuple[str, ...] = ("level", "disc", "segment")
GRADE_KEYS: tuple[str, ...] = ("grade", "meyerding")
GRADES: tuple[str, ...] = ("1", "2", "3", "4", "5")

# --- Red flags: ids (see CONTRACTS.md) and plain, specific sentences. ---
RED_FLAG_TEXT: Mapping[str, str] = {
    "saddle_anaesthesia": "Saddle anaesthesia: numbness around the anus, the genitals and the inner buttocks (the skin "
                          "that would touch a saddle)",
    "bladder": "Bladder disturbance: difficulty starting to pass urine, a weak stream, not feeling the bladder fill, "
               "or being unable to empty it with leaking from overflow",
    "bowel": "Bowel incontinence or loss of anal tone (weak anal squeeze, absent anal wink)",
    "sexual_function": "New loss of sexual function or of feeling in the genitals",
    "bilateral_sciatica": "Sciatica in both legs from a disc: a warning sign of cauda equina syndrome",
    "severe_weakness": "Rapidly progressing or severe weakness, such as foot drop (the foot slaps or drags)",
}
RED_FLAG_IDS: tuple[str, ...] = tuple(RED_FLAG_TEXT)
CAUDA_EQUINA_IDS: tuple[str, ...] = ("saddle_anaesthesia", "bladder", "bowel", "sexual_function")
RED_FLAG_SADDLE = RED_FLAG_TEXT["saddle_anaesthesia"]
RED_FLAG_BLADDER = RED_FLAG_TEXT["bladder"]
RED_FLAG_BOWEL = RED_FLAG_TEXT["bowel"]
RED_FLAG_SEXUAL = RED_FLAG_TEXT["sexual_function"]
RED_FLAG_BILATERAL = RED_FLAG_TEXT["bilateral_sciatica"]
RED_FLAG_MOTOR = RED_FLAG_TEXT["severe_weakness"]
RED_FLAG_ORDER: tuple[str, ...] = tuple(RED_FLAG_TEXT.values())
CAUDA_EQUINA_FLAGS: tuple[str, ...] = tuple(RED_FLAG_TEXT[i] for i in CAUDA_EQUINA_IDS)

_ROOT_RANK: Mapping[str, int] = {r: i for i, r in enumerate(ROOT_ORDER + NERVE_ORDER)}
_LEVEL_RE = re.compile(r"(L[1-5]|S1)[\W_]*(L[1-5]|S1)")


def clinical_picture(
    condition: str,
    params: Mapping[str, str],
    roots: Sequence[RootHit],
    nerves: Sequence[NerveHit],
) -> ClinicalPicture:
    """What a person with these squeezed roots and nerves feels, and what an examiner finds.

    The rules (thresholds, both-legs reflexes, sciatic nerve, red flags, features, ordering) are
    listed in the module docstring.

    Parameters
    ----------
    condition : str
        One of :data:`CONDITIONS` (a few long names such as ``"disc_herniation"`` are accepted);
        anything else gives no condition features.
    params : mapping of str to str
        Condition parameters. The sub-type is read from the first of :data:`SUBTYPE_KEYS` present
        (herniation: ``central``, ``paracentral``, ``foraminal``, ``extraforaminal``; stenosis:
        ``central``, ``lateral_recess``, ``foraminal``; spondylolisthesis: ``isthmic``,
        ``degenerative``), the level from :data:`LEVEL_KEYS` (``"L4-L5"``) and the slip grade
        from :data:`GRADE_KEYS` (``"1"`` .. ``"5"`` or ``"I"`` .. ``"V"``).
    roots : sequence of RootHit
        Squeezed roots with degree 0..1.
    nerves : sequence of NerveHit
        Squeezed peripheral nerves (``"sciatic"``).

    Returns
    -------
    ClinicalPicture

    Raises
    ------
    ValueError
        If a hit names an unknown root, nerve or side (a programming error upstream).
    """
    root_deg = _worst(((h.root, h.side, h.degree) for h in roots), ROOTS, "root")
    nerve_deg = _worst(((h.nerve, h.side, h.degree) for h in nerves), NERVES, "nerve")
    sources = sorted({**root_deg, **nerve_deg}.items(), key=lambda kv: _sort_key(kv[0][1], kv[0][0]))

    sensory: list[SensoryFinding] = []
    weakness: list[WeaknessFinding] = []
    for (name, side), d in sources:
        levels = zip((PAIN_THRESHOLD, TINGLING_THRESHOLD, NUMBNESS_THRESHOLD), ("pain", "tingling", "numbness"),
                     symptom_regions(name), strict=True)
        sensory += [SensoryFinding(name, side, kind, _plain(regions)) for at, kind, regions in levels if d >= at]
        if d >= (WEAKNESS_THRESHOLD if name in ROOTS else NERVE_WEAKNESS_THRESHOLD):
            weakness += [_weak(name, side, m) for m in movements_of(name)]

    spec = REGISTRY.get(_canonical(condition))
    rules = spec.red_flags if spec else RedFlagRules()
    flag_ids = _red_flags(rules, root_deg, nerve_deg)
    return ClinicalPicture(
        sensory=tuple(sensory),
        weakness=tuple(weakness),
        reflexes=_reflexes(root_deg, nerve_deg),
        red_flags=tuple(RED_FLAG_TEXT[i] for i in flag_ids),
        features=tuple(dict.fromkeys(spec.features(_normalised(spec, params), root_deg))) if spec else (),
        red_flag_ids=flag_ids,
        watch_for=rules.watch_for,
        tempo=spec.tempo if spec else "acute",
    )


def reflex_grade(degree: float, primary: bool = True) -> str:
    """Reflex grade for one root squeezed to ``degree``.

    Parameters
    ----------
    degree : float
        Compression degree 0..1.
    primary : bool
        Whether this is the reflex's main root; a contributing root can only reduce it.

    Returns
    -------
    str
        ``normal``, ``reduced`` or ``absent``.
    """
    if degree >= REFLEX_ABSENT_THRESHOLD and primary:
        return "absent"
    if degree >= REFLEX_REDUCED_THRESHOLD:
        return "reduced"
    return "normal"


# --- helpers ---


def _sort_key(side: str, name: str) -> tuple[int, int]:
    return SIDES.index(side), _ROOT_RANK[name]


def _worst(
    hits: Iterable[tuple[str, str, float]], known: Mapping[str, object], what: str
) -> dict[tuple[str, str], float]:
    """Merge hits per (name, side), keeping the worst degree, clipped to 0..1."""
    out: dict[tuple[str, str], float] = {}
    for name, side, degree in hits:
        if name not in known:
            raise ValueError(f"Unknown {what} {name!r}; expected one of {', '.join(known)}.")
        if side not in SIDES:
            raise ValueError(f"Unknown side {side!r} for {what} {name}; expected 'left' or 'right'.")
        d = min(max(float(degree), 0.0), 1.0)
        out[(name, side)] = max(d, out.get((name, side), 0.0))
    return out


def _plain(regions: tuple[BodyRegion, ...]) -> tuple[str, ...]:
    return tuple(r.plain for r in regions)


def _weak(name: str, side: str, m: Movement) -> WeaknessFinding:
    return WeaknessFinding(root=name, side=side, movement=m.movement, muscle=m.muscle, test=m.test)


def _reflexes(
    root_deg: Mapping[tuple[str, str], float], nerve_deg: Mapping[tuple[str, str], float]
) -> tuple[ReflexFinding, ...]:
    out: list[ReflexFinding] = []
    for side in SIDES:
        for reflex in LEG_REFLEXES:
            profile = REFLEXES[reflex]
            # Candidates: (grade rank, source); the worst wins, the main root breaks ties.
            best = (0, profile.primary_root)
            for root in profile.roots:
                grade = reflex_grade(root_deg.get((root, side), 0.0), root == profile.primary_root)
                rank = REFLEX_GRADES.index(grade)
                if rank > best[0] or (rank == best[0] and rank > 0 and root == profile.primary_root):
                    best = (rank, root)
            sciatic = nerve_deg.get(("sciatic", side), 0.0)
            if reflex == "achilles" and sciatic >= NERVE_REFLEX_REDUCED_THRESHOLD and best[0] < 1:
                best = (1, "sciatic")  # a nerve outside the spine dulls, but does not abolish, the ankle jerk
            out.append(ReflexFinding(reflex=reflex, root=best[1], side=side, finding=REFLEX_GRADES[best[0]]))
    return tuple(out)


def _red_flags(
    rules: RedFlagRules, root_deg: Mapping[tuple[str, str], float], nerve_deg: Mapping[tuple[str, str], float]
) -> tuple[str, ...]:
    """Red flag ids justified by the findings, as the condition's rules allow (module docstring)."""
    flags: set[str] = set()

    def sides_with(names: Iterable[str], at: float) -> set[str]:
        names = set(names)
        return {side for (name, side), d in root_deg.items() if name in names and d >= at}

    if rules.cauda_equina and sides_with(SADDLE_ROOTS, CAUDA_EQUINA_SACRAL_DEGREE) == set(SIDES):
        flags.update(CAUDA_EQUINA_IDS)
    if rules.bilateral_sciatica and sides_with(ROOTS, BILATERAL_DEGREE) == set(SIDES):
        flags.add("bilateral_sciatica")
    movers = {r for r, p in ROOTS.items() if p.key_muscles}
    if rules.severe_weakness and (sides_with(movers, PROGRESSIVE_WEAKNESS_DEGREE) or any(
            d >= PROGRESSIVE_WEAKNESS_DEGREE and NERVES[n].movements for (n, _), d in nerve_deg.items())):
        flags.add("severe_weakness")
    return tuple(f for f in RED_FLAG_IDS if f in flags)


def _canonical(condition: str) -> str:
    key = _norm(condition)
    return CONDITION_ALIASES.get(key, key)


def _norm(value: str) -> str:
    return re.sub(r"[\s\-]+", "_", str(value).strip().lower())


def _param(params: Mapping[str, str], keys: tuple[str, ...]) -> str | None:
    for key in keys:
        if key in params and str(params[key]).strip():
            return str(params[key]).strip()
    return None


def _subtype(params: Mapping[str, str]) -> str | None:
    raw = _param(params, SUBTYPE_KEYS)
    if raw is None:
        return None
    value = _norm(raw)
    return SUBTYPE_ALIASES.get(value, value)


def _level(params: Mapping[str, str]) -> tuple[str, str] | None:
    raw = _param(params, LEVEL_KEYS)
    match = _LEVEL_RE.fullmatch(raw.strip().upper()) if raw else None
    if not match:
        return None
    upper, lower = match.groups()
    order = ROOT_ORDER.index
    return (upper, lower) if order(lower) == order(upper) + 1 else None


def _grade(params: Mapping[str, str]) -> str | None:
    raw = _param(params, GRADE_KEYS)
    if raw is None:
        return None
    value = raw.strip().upper().removeprefix("GRADE").strip()
    value = {"I": "1", "II": "2", "III": "3", "IV": "4", "V": "5"}.get(value, value)
    return value if value in GRADES else None


def _normalised(spec, params: Mapping[str, str]) -> dict[str, str]:
    """Loosely spelled parameters in the condition's own names and values.

    The sub-type (first of :data:`SUBTYPE_KEYS`) goes to whichever of ``zone`` / ``type`` the
    condition has, the level to ``level`` (``"L4-L5"``) and the grade to ``grade`` (``"1"``..``"5"``);
    values the condition does not know are dropped.
    """
    names = {p.name for p in spec.params}
    out: dict[str, str] = {k: str(v) for k, v in params.items() if k in names}
    subtype = _subtype(params)
    for key in ("zone", "type"):
        if key in names:
            out.pop(key, None)
            if subtype:
                out[key] = subtype
    level = _level(params)
    out.pop("level", None)
    if level:
        out["level"] = f"{level[0]}-{level[1]}"
    grade = _grade(params)
    out.pop("grade", None)
    if grade:
        out["grade"] = grade
    return out

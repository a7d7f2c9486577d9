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

4. **Red flags** (plain sentences, in :data:`RED_FLAG_ORDER`):

   * cauda equina (saddle numbness, bladder, bowel and anal tone, sexual function) when any of
     S2-S5 is squeezed to ``>= CAUDA_EQUINA_SACRAL_DEGREE`` on *both* sides (to the numbness level,
     ``CHRONIC_CAUDA_EQUINA_SACRAL_DEGREE``, for the slowly narrowing canals of stenosis and
     degenerative spondylolisthesis), or whenever the
     condition is ``cauda_equina`` [TODD2017];
   * symptoms in both legs when roots on both sides are squeezed to ``>= BILATERAL_DEGREE`` (the
     tingling threshold);
   * severe or worsening weakness when any root or nerve that powers a movement is squeezed to
     ``>= PROGRESSIVE_WEAKNESS_DEGREE`` (which is above the weakness threshold).

5. **Typical features** of the condition, as short original sentences, refined by its parameters
   (see :data:`CONDITIONS` and :data:`SUBTYPE_KEYS`) and by which roots are squeezed
   (straight-leg raise for L4-S1, femoral stretch for L2-L4) [DEVILLE2000] [ESTRIDGE1982]
   [KATZ2008] [WILTSE1976] [HOPAYIAN2010] [FISHMAN2002] [AHN2000]. An unknown condition gives no
   features; unknown parameter values are ignored.

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
AHN2000
    Ahn UM, Ahn NU, Buchowski JM, et al. Cauda equina syndrome secondary to lumbar disc
    herniation: a meta-analysis of surgical outcomes. Spine. 2000;25(12):1515-1522.
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
CAUDA_EQUINA_SACRAL_DEGREE = 0.3
# Slowly narrowing canals (stenosis, degenerative slips) rarely cause cauda equina syndrome: the
# roots adapt, and the usual picture is neurogenic claudication [KATZ2008]. For them the flags need
# the sacral roots squeezed to the numbness level (saddle anaesthesia), not just touched.
CHRONIC_CONDITIONS: frozenset[str] = frozenset({"stenosis", "spondylolisthesis"})
CHRONIC_CAUDA_EQUINA_SACRAL_DEGREE = NUMBNESS_THRESHOLD
BILATERAL_DEGREE = TINGLING_THRESHOLD
PROGRESSIVE_WEAKNESS_DEGREE = 0.85

SIDES: tuple[str, ...] = ("left", "right")
SENSORY_KINDS: tuple[str, ...] = ("pain", "tingling", "numbness")
# Reflexes reported for each leg, in the order of their main roots.
LEG_REFLEXES: tuple[str, ...] = ("patellar", "medial_hamstring", "achilles")
REFLEX_GRADES: tuple[str, ...] = ("normal", "reduced", "absent")
SACRAL_ROOTS: tuple[str, ...] = ("S2", "S3", "S4", "S5")
SLR_ROOTS: tuple[str, ...] = ("L4", "L5", "S1")  # straight-leg raise stretches the sciatic roots
FEMORAL_STRETCH_ROOTS: tuple[str, ...] = ("L2", "L3", "L4")  # femoral stretch test, upper lumbar roots

CONDITIONS: tuple[str, ...] = ("herniation", "stenosis", "spondylolisthesis", "piriformis", "cauda_equina")
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

# --- Red flags (plain, specific). ---
RED_FLAG_SADDLE = (
    "Saddle anaesthesia: numbness around the anus, the genitals and the inner buttocks (the skin that "
    "would touch a saddle)"
)
RED_FLAG_BLADDER = (
    "Bladder disturbance: difficulty starting to pass urine, a weak stream, not feeling the bladder fill, "
    "or being unable to empty it with leaking from overflow"
)
RED_FLAG_BOWEL = "Bowel incontinence or loss of anal tone (weak anal squeeze, absent anal wink)"
RED_FLAG_SEXUAL = "New loss of sexual function or of feeling in the genitals"
RED_FLAG_BILATERAL = "Bilateral leg symptoms: sciatica, tingling or numbness in both legs"
RED_FLAG_MOTOR = "Rapidly progressing or severe weakness, such as foot drop (the foot slaps or drags)"
RED_FLAG_ORDER: tuple[str, ...] = (
    RED_FLAG_SADDLE,
    RED_FLAG_BLADDER,
    RED_FLAG_BOWEL,
    RED_FLAG_SEXUAL,
    RED_FLAG_BILATERAL,
    RED_FLAG_MOTOR,
)
CAUDA_EQUINA_FLAGS: tuple[str, ...] = (RED_FLAG_SADDLE, RED_FLAG_BLADDER, RED_FLAG_BOWEL, RED_FLAG_SEXUAL)

# --- Typical features (original wording). ---
HERNIATION_COMMON: tuple[str, ...] = (
    "Sciatica: pain shooting down the leg along one nerve root, usually worse than the back pain.",
    "Sitting, bending forward, coughing, sneezing or straining usually make the leg pain worse.",
)
HERNIATION_SLR = (
    "Straight-leg raise: lifting the straightened leg while lying on the back brings on the leg pain, "
    "typically between about 30 and 70 degrees (stretches the L4-S1 roots; sensitive but not specific)."
)
HERNIATION_CROSSED_SLR = (
    "Crossed straight-leg raise: lifting the good leg brings pain into the painful leg. It is found less "
    "often, but when present it points much more specifically to a disc herniation."
)
HERNIATION_FEMORAL = (
    "Femoral stretch test: lying face down, bending the knee (and lifting the thigh) brings on pain in "
    "the front of the thigh, because it stretches the L2-L4 roots (an upper lumbar or an L3-L4 "
    "foraminal herniation)."
)
HERNIATION_ZONE: Mapping[str, tuple[str, ...]] = {
    "central": (
        (
            "A central herniation presses on the middle of the nerve sac: back pain can outweigh leg pain, "
            "and both legs may be affected."
        ),
        "A large central herniation can squeeze the whole cauda equina; watch for the red flags.",
    ),
    "paracentral": (
        (
            "A paracentral (posterolateral) herniation, the most common kind, squeezes the root that passes "
            "down past the disc (the traversing root) on one side."
        ),
    ),
    "foraminal": (
        (
            "A foraminal herniation squeezes the root leaving through the foramen at that level (the exiting "
            "root), one level higher than a paracentral herniation would; the pain is often severe."
        ),
    ),
    "extraforaminal": (
        (
            "A far-lateral (extraforaminal) herniation lies outside the foramen and squeezes the exiting root "
            "there; it is easy to miss on a scan that only looks at the canal."
        ),
    ),
}
STENOSIS_COMMON: tuple[str, ...] = (
    (
        "Usually after the age of 50, from wear and tear: a bulging disc, a thickened ligamentum flavum and "
        "enlarged facet joints narrow the space for the nerves."
    ),
)
STENOSIS_CENTRAL: tuple[str, ...] = (
    (
        "Neurogenic claudication: pain, heaviness, tingling or weakness in the buttocks and legs that comes "
        "on with walking or standing and eases after a few minutes of sitting or bending forward."
    ),
    (
        "Shopping-cart sign: leaning forward on a cart lets the person walk further, because bending forward "
        "widens the canal; cycling and walking uphill are often easier than walking downhill."
    ),
    "Usually both legs; the examination at rest may be normal.",
    (
        "Foot pulses are normal. Claudication from narrowed leg arteries differs: the pulses are often weak "
        "and the pain eases by simply standing still, without sitting or bending."
    ),
)
STENOSIS_LATERAL: tuple[str, ...] = (
    "Radicular pain down one leg along a single root, brought on by standing and walking and eased by sitting.",
    (
        "Kemp test: leaning backwards and turning towards the painful side narrows the lateral canal and may "
        "reproduce the leg pain (a simple but not very accurate test)."
    ),
)
STENOSIS_SUBTYPE: Mapping[str, tuple[str, ...]] = {
    "central": STENOSIS_CENTRAL,
    "lateral_recess": STENOSIS_LATERAL
    + ("Lateral recess stenosis traps the traversing root (for example L5 at L4-L5) in the gutter beside the canal.",),
    "foraminal": STENOSIS_LATERAL
    + ("Foraminal stenosis traps the exiting root (for example L4 at L4-L5) in its foramen.",),
}
SPONDYLO_COMMON: tuple[str, ...] = ("One vertebra has slipped forward on the one below it.",)
SPONDYLO_SUBTYPE: Mapping[str, tuple[str, ...]] = {
    "isthmic": (
        (
            "Isthmic type: a stress fracture of the pars interarticularis, often from adolescence, typically "
            "in young, active people (gymnasts, fast bowlers, footballers)."
        ),
        "Low back pain made worse by arching backwards (extension) and eased by rest.",
        "Tight hamstrings, sometimes with a short-stepped, stiff walk.",
        (
            "Most often at L5-S1, where the loose bony arch and scar tissue squeeze the exiting L5 root in the "
            "foramen, not the S1 root."
        ),
    ),
    "degenerative": (
        (
            "Degenerative type: worn facet joints let the vertebra slide, mostly at L4-L5, in people over 50 "
            "and more often in women."
        ),
        (
            "It narrows the canal, so neurogenic claudication is common, and it squeezes the traversing L5 "
            "root in the lateral recess."
        ),
    ),
}
MEYERDING_GRADES: Mapping[str, str] = {
    "1": "Meyerding grade I: slipped forward by less than a quarter of the vertebral body.",
    "2": "Meyerding grade II: slipped forward by a quarter to a half of the vertebral body.",
    "3": "Meyerding grade III: slipped forward by a half to three quarters of the vertebral body.",
    "4": "Meyerding grade IV: slipped forward by more than three quarters of the vertebral body.",
    "5": "Meyerding grade V (spondyloptosis): the vertebra has slipped completely off the one below.",
}
PIRIFORMIS_FEATURES: tuple[str, ...] = (
    "Deep buttock pain, worse after sitting for a while (especially on a hard seat) and on getting up.",
    (
        "FAIR test positive: bending the hip, bringing the knee across the body and turning the leg inward "
        "(flexion, adduction, internal rotation) stretches piriformis over the sciatic nerve and brings on "
        "the buttock pain."
    ),
    "Tenderness deep in the buttock over the sciatic notch, where the nerve passes under piriformis.",
    (
        "The low back examines normally and the reflexes are usually normal, because the nerve roots "
        "themselves are not squeezed."
    ),
    "It is diagnosed after spinal causes of sciatica have been ruled out; experts do not agree on firm criteria.",
)
CAUDA_EQUINA_FEATURES: tuple[str, ...] = (
    (
        "Emergency: needs an urgent MRI scan and, if confirmed, surgical decompression as soon as possible, "
        "ideally within 48 hours of the symptoms starting."
    ),
    "Usually from a large central disc herniation at L4-L5 or L5-S1; it may start as sciatica in one or both legs.",
    (
        "The examiner checks feeling in the saddle area, anal tone and squeeze, and measures how much urine is "
        "left in the bladder after passing water."
    ),
    "Results are much better if surgery happens before the bladder stops emptying (retention).",
)

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
                     symptom_regions(name))
        sensory += [SensoryFinding(name, side, kind, _plain(regions)) for at, kind, regions in levels if d >= at]
        if d >= (WEAKNESS_THRESHOLD if name in ROOTS else NERVE_WEAKNESS_THRESHOLD):
            weakness += [_weak(name, side, m) for m in movements_of(name)]

    return ClinicalPicture(
        sensory=tuple(sensory),
        weakness=tuple(weakness),
        reflexes=_reflexes(root_deg, nerve_deg),
        red_flags=_red_flags(_canonical(condition), root_deg, nerve_deg),
        features=_features(_canonical(condition), params, root_deg),
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
    condition: str, root_deg: Mapping[tuple[str, str], float], nerve_deg: Mapping[tuple[str, str], float]
) -> tuple[str, ...]:
    flags: set[str] = set()

    def sides_with(names: Iterable[str], at: float) -> set[str]:
        names = set(names)
        return {side for (name, side), d in root_deg.items() if name in names and d >= at}

    sacral_at = CHRONIC_CAUDA_EQUINA_SACRAL_DEGREE if condition in CHRONIC_CONDITIONS else CAUDA_EQUINA_SACRAL_DEGREE
    if condition == "cauda_equina" or sides_with(SACRAL_ROOTS, sacral_at) == set(SIDES):
        flags.update(CAUDA_EQUINA_FLAGS)
    if sides_with(ROOTS, BILATERAL_DEGREE) == set(SIDES):
        flags.add(RED_FLAG_BILATERAL)
    movers = {r for r, p in ROOTS.items() if p.key_muscles}
    if sides_with(movers, PROGRESSIVE_WEAKNESS_DEGREE) or any(
        d >= PROGRESSIVE_WEAKNESS_DEGREE and NERVES[n].movements for (n, _), d in nerve_deg.items()
    ):
        flags.add(RED_FLAG_MOTOR)
    return tuple(f for f in RED_FLAG_ORDER if f in flags)


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
    return value if value in MEYERDING_GRADES else None


def _features(condition: str, params: Mapping[str, str], root_deg: Mapping[tuple[str, str], float]) -> tuple[str, ...]:
    hit = {name for (name, _), d in root_deg.items() if d >= PAIN_THRESHOLD}
    both_sides = {side for (_, side), d in root_deg.items() if d >= PAIN_THRESHOLD} == set(SIDES)
    subtype = _subtype(params)
    level = _level(params)
    out: list[str] = []
    if condition == "herniation":
        out += HERNIATION_COMMON
        out += HERNIATION_ZONE.get(subtype or "", ())
        if level and subtype in ("central", "paracentral"):
            out.append(f"At {level[0]}-{level[1]} the root most at risk is {level[1]}, the traversing root.")
        elif level and subtype in ("foraminal", "extraforaminal"):
            out.append(f"At {level[0]}-{level[1]} the root most at risk is {level[0]}, the exiting root.")
        if hit & set(SLR_ROOTS):
            out.append(HERNIATION_SLR)
            if subtype not in ("foraminal", "extraforaminal"):
                out.append(HERNIATION_CROSSED_SLR)
        if hit & set(FEMORAL_STRETCH_ROOTS):
            out.append(HERNIATION_FEMORAL)
    elif condition == "stenosis":
        out += STENOSIS_COMMON
        # Without a stated type, squeezed roots on both sides suggest central stenosis.
        kind = subtype if subtype in STENOSIS_SUBTYPE else ("central" if both_sides or not hit else None)
        out += STENOSIS_SUBTYPE.get(kind or "", STENOSIS_LATERAL)
    elif condition == "spondylolisthesis":
        out += SPONDYLO_COMMON
        out += SPONDYLO_SUBTYPE.get(subtype or "", ())
        if level and subtype == "isthmic":
            out.append(f"At {level[0]}-{level[1]} the root at risk is {level[0]}, the exiting root.")
        elif level and subtype == "degenerative":
            out.append(f"At {level[0]}-{level[1]} the root at risk is {level[1]}, the traversing root.")
        grade = _grade(params)
        if grade:
            out.append(MEYERDING_GRADES[grade])
    elif condition == "piriformis":
        out += PIRIFORMIS_FEATURES
    elif condition == "cauda_equina":
        out += CAUDA_EQUINA_FEATURES
    return tuple(dict.fromkeys(out))  # keep order, drop repeats

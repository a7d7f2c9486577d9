"""What each lumbar and sacral nerve root (L1..S5) supplies: skin, muscles, a reflex, pelvic organs.

One frozen :class:`RootProfile` per root, in :data:`ROOTS`. Every skin area is a
:class:`BodyRegion` with an everyday name (what patients read, and what
:class:`~explorer.clinical.types.SensoryFinding` carries) and the anatomical term (for students).
The peripheral nerves that mimic a root (sciatic, common fibular, femoral) have their own small
profiles in :data:`NERVES`: piriformis syndrome squeezes the sciatic nerve outside the spine, and
the symptom matching needs each nerve's skin, muscles and reflexes to tell it from a root.

What the table holds, and where it comes from
---------------------------------------------
* ``key_point`` / ``key_muscles`` marked ``isncsci=True``: the sensory key points and key muscles
  of the international standard used to grade spinal injuries [ISNCSCI2019]. They are the best
  agreed single spots and movements for each root. ISNCSCI tests S4 and S5 together ("S4-5"), so
  both roots carry the same key point and the same key function (voluntary anal contraction).
* Movements marked ``isncsci=False`` are extras that clinical teaching adds for lumbar
  radiculopathy (for example hip abduction for L5, hip extension and toe flexion for S1, knee
  extension for L4) [HARRISON_BACK] [MAGEE].
* ``regions`` (the dermatome) follows the evidence-based map of [LEE2008], with everyday wording
  from [STATPEARLS_DERMATOMES]. ``distal_regions`` is the far end of the dermatome around the
  key point, where numbness is usually found first. ``pain_regions`` is where radicular pain
  from the root is usually felt; it is wider than the dermatome (for example L5 and S1 pain
  starts in the buttock) [HARRISON_BACK].
* ``reflex``: the tendon reflex that depends mostly on this root. Patellar (knee jerk) L3-L4,
  chiefly L4; medial hamstring L5 (less reliable); Achilles (ankle jerk) S1; the anal wink
  (anocutaneous reflex) S2-S4 [HOPPENFELD] [ESENE2012] [ISNCSCI2019].
* ``autonomic``: S2-S4 carry the parasympathetic supply of the bladder, the bowel and sexual
  function, which is why cauda equina compression is an emergency [TODD2017].

Charts of dermatomes disagree; see :data:`SOURCES_DISAGREE` for what the content should say.

References
----------
ISNCSCI2019
    American Spinal Injury Association. International Standards for Neurological Classification
    of Spinal Cord Injury (ISNCSCI), revised 2019. Richmond, VA: ASIA; 2019.
LEE2008
    Lee MWL, McPhee RW, Stringer MD. An evidence-based approach to human dermatomes.
    Clin Anat. 2008;21(5):363-373.
KEEGAN1948
    Keegan JJ, Garrett FD. The segmental distribution of the cutaneous nerves in the limbs of
    man. Anat Rec. 1948;102(4):409-437.
FOERSTER1933
    Foerster O. The dermatomes in man. Brain. 1933;56(1):1-39.
STATPEARLS_DERMATOMES
    Whitman PA, Adigun OO. Anatomy, Skin, Dermatomes. In: StatPearls. Treasure Island, FL:
    StatPearls Publishing; 2023.
HARRISON_BACK
    Engstrom JW, Deyo RA. Back and neck pain. In: Harrison's Principles of Internal Medicine,
    19th ed. McGraw-Hill; 2015. (Table "Lumbosacral radiculopathy: neurologic features".)
HOPPENFELD
    Hoppenfeld S. Physical Examination of the Spine and Extremities. Appleton-Century-Crofts;
    1976. (Lumbar root levels: patellar reflex L4, Achilles reflex S1.)
MAGEE
    Magee DJ. Orthopedic Physical Assessment, 6th ed. Saunders; 2014. Chapter 9, Lumbar spine
    (myotome testing; medial hamstring reflex tested prone).
ESENE2012
    Esene IN, Meher A, Elzoghby MA, et al. Diagnostic performance of the medial hamstring reflex
    in L5 radiculopathy. Surg Neurol Int. 2012;3:104.
TODD2017
    Todd NV. Guidelines for cauda equina syndrome. Red flags and white flags. Systematic review
    and implications for triage. Br J Neurosurg. 2017;31(3):336-339.
STANDRING
    Standring S, ed. Gray's Anatomy, 42nd ed. Elsevier; 2020. Segmental supply of the lower-limb
    muscles used here: iliopsoas L1-L3 (mainly L2-L3), adductors L2-L4 via the obturator nerve,
    tibialis posterior L5 (L4) via the tibial nerve, fibularis longus and brevis L5-S1 via the
    superficial fibular nerve, gluteus medius L4-S1 (mainly L5) via the superior gluteal nerve.
PRESTON_SHAPIRO
    Preston DC, Shapiro BE. Electromyography and Neuromuscular Disorders, 3rd ed. 2013. A common
    fibular palsy weakens dorsiflexion, toe extension and eversion but spares inversion (tibial
    nerve) and hip abduction (superior gluteal nerve), and leaves the reflexes normal; a femoral
    neuropathy weakens knee extension (and hip flexion when proximal), reduces the knee jerk and
    spares hip adduction (obturator nerve).
BAIMA2008
    Baima J, Krivickas L. Evaluation and treatment of peroneal neuropathy. Curr Rev Musculoskelet
    Med. 2008;1(2):147-153.

Changes for symptom matching (issue 10): ISNCSCI 2019 gives hip flexion to L2 alone; L1 and L3
only help (``Movement.minor``) [STANDRING]. Foot inversion (L5, L4 helping) and eversion (L5,
S1) and hip adduction (L3, L4, L2 helping) were added because they separate a root from a
peripheral nerve [PRESTON_SHAPIRO]. The common fibular and femoral nerves joined the sciatic
nerve in :data:`NERVES`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from explorer.clinical.types import ROOT_ORDER

SOURCES: Mapping[str, str] = MappingProxyType(
    {
        "ISNCSCI2019": "American Spinal Injury Association. International Standards for Neurological "
        "Classification of Spinal Cord Injury (ISNCSCI), revised 2019. Richmond, VA: ASIA; 2019.",
        "LEE2008": "Lee MWL, McPhee RW, Stringer MD. An evidence-based approach to human dermatomes. "
        "Clin Anat. 2008;21(5):363-373.",
        "KEEGAN1948": "Keegan JJ, Garrett FD. The segmental distribution of the cutaneous nerves in the "
        "limbs of man. Anat Rec. 1948;102(4):409-437.",
        "FOERSTER1933": "Foerster O. The dermatomes in man. Brain. 1933;56(1):1-39.",
        "STATPEARLS_DERMATOMES": "Whitman PA, Adigun OO. Anatomy, Skin, Dermatomes. In: StatPearls. "
        "Treasure Island, FL: StatPearls Publishing; 2023.",
        "HARRISON_BACK": "Engstrom JW, Deyo RA. Back and neck pain. In: Harrison's Principles of Internal "
        "Medicine, 19th ed. McGraw-Hill; 2015.",
        "HOPPENFELD": "Hoppenfeld S. Physical Examination of the Spine and Extremities. Appleton-Century-Crofts; 1976.",
        "MAGEE": "Magee DJ. Orthopedic Physical Assessment, 6th ed. Saunders; 2014.",
        "ESENE2012": "Esene IN, Meher A, Elzoghby MA, et al. Diagnostic performance of the medial hamstring "
        "reflex in L5 radiculopathy. Surg Neurol Int. 2012;3:104.",
        "TODD2017": "Todd NV. Guidelines for cauda equina syndrome. Red flags and white flags. Systematic "
        "review and implications for triage. Br J Neurosurg. 2017;31(3):336-339.",
        "HOPAYIAN2010": "Hopayian K, Song F, Riera R, Sambandan S. The clinical features of the piriformis "
        "syndrome: a systematic review. Eur Spine J. 2010;19(12):2095-2109.",
        "STANDRING": "Standring S, ed. Gray's Anatomy: The Anatomical Basis of Clinical Practice, 42nd ed. "
        "Elsevier; 2020. (Lumbar and sacral plexuses; innervation of the muscles of the lower limb.)",
        "PRESTON_SHAPIRO": "Preston DC, Shapiro BE. Electromyography and Neuromuscular Disorders, 3rd ed. "
        "Elsevier Saunders; 2013. (Chapters on fibular (peroneal) neuropathy, femoral neuropathy and "
        "lumbosacral radiculopathy.)",
        "BAIMA2008": "Baima J, Krivickas L. Evaluation and treatment of peroneal neuropathy. Curr Rev "
        "Musculoskelet Med. 2008;1(2):147-153.",
    }
)

SOURCES_DISAGREE: str = (
    "Dermatome charts do not agree with each other. Foerster (1933) mapped the areas left with "
    "feeling after cutting the roots above and below one root, and drew patches that do not reach "
    "the spine. Keegan and Garrett (1948) mapped numbness in people with disc herniations and drew "
    "long bands running all the way from the back to the foot; their L4 band crosses from the outer "
    "thigh to the inner foot and big toe, whereas other charts keep L4 on the inner side of the "
    "lower leg and give the big toe to L5. Charts also differ on whether the back of the thigh and "
    "calf belong to S1 or S2. This app uses the evidence-based map of Lee, McPhee and Stringer "
    "(2008), which keeps only the areas that the better studies agree on, and it uses the ISNCSCI "
    "2019 key sensory points as the single most reliable spot for each root. Neighbouring "
    "dermatomes overlap and vary between people, so a one-root lesion usually numbs a smaller "
    "area than any chart shows, and pain from a root (radicular pain) does not keep to the "
    "dermatome at all. Reflex roots are also taught differently: the knee jerk is given as L3-L4 "
    "(some texts L2-L4), chiefly L4; the ankle jerk as S1 (some texts S1-S2); the medial hamstring "
    "reflex as L5 (some texts L5-S1), and it is hard to obtain even in healthy people, so only a "
    "clear difference between the two sides counts. ISNCSCI tests knee extension for L3 and ankle "
    "dorsiflexion for L4, while radiculopathy teaching often tests knee extension for L4 and ankle "
    "dorsiflexion for L4-L5 (foot drop is most often from L5)."
)


@dataclass(frozen=True)
class BodyRegion:
    """A patch of skin, named twice.

    Attributes
    ----------
    plain : str
        Everyday words, for patients and for :class:`SensoryFinding.regions`.
    anatomical : str
        The anatomical term, for students.
    """

    plain: str
    anatomical: str


@dataclass(frozen=True)
class Movement:
    """A movement that a root powers, the muscle that makes it, and how it is tested.

    Attributes
    ----------
    movement : str
        Everyday words with the clinical term in brackets, e.g. "Lifting the big toe (great-toe
        extension)".
    muscle : str
        The main muscle(s).
    test : str
        How an examiner checks it at the bedside, in plain words.
    isncsci : bool
        True for the ISNCSCI 2019 key muscle (or key function) of this root; False for a
        clinical-teaching extra.
    source : str
        Key into :data:`SOURCES`.
    minor : bool
        True when this root (or nerve) only helps with the movement (e.g. L3 and L1 with hip
        flexion, whose ISNCSCI key root is L2): weakness of that movement alone points to it less.
    """

    movement: str
    muscle: str
    test: str
    isncsci: bool
    source: str
    minor: bool = False


@dataclass(frozen=True)
class ReflexProfile:
    """A reflex used to check the lower lumbar and sacral roots.

    Attributes
    ----------
    reflex : str
        Id: ``patellar``, ``medial_hamstring``, ``achilles`` or ``anal_wink``.
    name : str
        Everyday name.
    clinical_name : str
        Name used by clinicians.
    roots : tuple of str
        Roots that carry it, in :data:`ROOT_ORDER`.
    primary_root : str
        The root it mainly depends on; compression of another listed root can only reduce it.
    test : str
        How it is tested, in plain words.
    note : str
        Reliability and caveats.
    sources : tuple of str
        Keys into :data:`SOURCES`.
    """

    reflex: str
    name: str
    clinical_name: str
    roots: tuple[str, ...]
    primary_root: str
    test: str
    note: str
    sources: tuple[str, ...]


@dataclass(frozen=True)
class RootProfile:
    """Everything the clinical layer knows about one nerve root.

    Attributes
    ----------
    root : str
        ``L1`` .. ``S5``.
    regions : tuple of BodyRegion
        The dermatome [LEE2008], from top to bottom.
    distal_regions : tuple of BodyRegion
        The part of ``regions`` around the key point, where numbness shows first.
    pain_regions : tuple of BodyRegion
        Where pain from this root is usually felt (wider than the dermatome) [HARRISON_BACK].
    key_point : str
        ISNCSCI 2019 key sensory point, in the standard's anatomical terms.
    key_point_plain : str
        The same spot in everyday words.
    isncsci_level : str
        The ISNCSCI level the key point belongs to (``S4-5`` for both S4 and S5).
    key_muscles : tuple of Movement
        ISNCSCI key muscle first (if any), then clinical-teaching extras.
    reflex : str or None
        Id of the reflex in :data:`REFLEXES` that this root serves, if any.
    autonomic : tuple of str
        Pelvic organ functions carried by this root (S2-S4).
    sources : tuple of str
        Keys into :data:`SOURCES`.
    """

    root: str
    regions: tuple[BodyRegion, ...]
    distal_regions: tuple[BodyRegion, ...]
    pain_regions: tuple[BodyRegion, ...]
    key_point: str
    key_point_plain: str
    isncsci_level: str
    key_muscles: tuple[Movement, ...] = field(default=())
    reflex: str | None = None
    autonomic: tuple[str, ...] = field(default=())
    sources: tuple[str, ...] = field(default=())

    @property
    def isncsci_muscles(self) -> tuple[Movement, ...]:
        """Only the ISNCSCI key muscle(s) / key function."""
        return tuple(m for m in self.key_muscles if m.isncsci)


@dataclass(frozen=True)
class NerveProfile:
    """A peripheral nerve that can be squeezed outside the spine.

    Attributes
    ----------
    nerve : str
        Id, e.g. ``sciatic``.
    name : str
        Everyday name.
    root_fibres : tuple of str
        Roots whose fibres run in it.
    pain_regions, tingling_regions, numb_regions : tuple of BodyRegion
        Where pain, tingling and numbness are felt as the squeeze gets worse.
    movements : tuple of Movement
        Movements that weaken only when it is badly squeezed.
    sources : tuple of str
        Keys into :data:`SOURCES`.
    reflexes : tuple of str
        Reflexes (ids in :data:`REFLEXES`) whose arc runs through the nerve (femoral: the knee jerk).
    """

    nerve: str
    name: str
    root_fibres: tuple[str, ...]
    pain_regions: tuple[BodyRegion, ...]
    tingling_regions: tuple[BodyRegion, ...]
    numb_regions: tuple[BodyRegion, ...]
    movements: tuple[Movement, ...]
    sources: tuple[str, ...]
    reflexes: tuple[str, ...] = ()


# --- Skin regions: one object per patch, reused by every root so a name always means one place. ---
GROIN = BodyRegion("groin", "inguinal region")
UPPER_FRONT_THIGH = BodyRegion("top of the front of the thigh", "upper anterior thigh")
MID_FRONT_THIGH = BodyRegion("middle of the front of the thigh", "mid-anterior thigh")
OUTER_FRONT_THIGH = BodyRegion("outer front of the thigh", "anterolateral thigh")
LOWER_INNER_THIGH = BodyRegion("lower inner thigh", "distal anteromedial thigh")
FRONT_KNEE = BodyRegion("front of the knee", "anterior knee (patellar region)")
INNER_KNEE = BodyRegion("inner side of the knee", "medial knee (over the medial femoral condyle)")
INNER_LOWER_LEG = BodyRegion("inner side of the lower leg", "medial leg (medial crural region)")
INNER_ANKLE = BodyRegion("inner ankle", "medial malleolus")
INNER_FOOT = BodyRegion("inner edge of the foot (arch)", "medial border of the foot")
BUTTOCK = BodyRegion("buttock", "gluteal region")
OUTER_BACK_THIGH = BodyRegion("outer back of the thigh", "posterolateral thigh")
OUTER_LOWER_LEG = BodyRegion("outer side of the lower leg", "lateral leg (anterolateral crural region)")
TOP_FOOT = BodyRegion("top of the foot", "dorsum of the foot")
BIG_TOE = BodyRegion("big toe", "hallux (great toe)")
BACK_CALF = BodyRegion("back of the calf", "posterior leg (sural region)")
HEEL = BodyRegion("heel", "heel (calcaneal region)")
OUTER_FOOT = BodyRegion("outer edge of the foot and little toe", "lateral border of the foot and fifth toe")
SOLE = BodyRegion("sole of the foot", "plantar surface of the foot")
BACK_THIGH = BodyRegion("back of the thigh", "posterior thigh")
BACK_KNEE = BodyRegion("back of the knee", "popliteal fossa")
BUTTOCK_CREASE = BodyRegion("buttock crease", "infragluteal fold")
SITTING_BONE = BodyRegion("sitting bone", "ischial tuberosity")
INNER_BUTTOCKS = BodyRegion("inner buttocks", "medial gluteal skin")
SADDLE = BodyRegion("genitals and the skin between the legs", "perineum and external genitalia")
AROUND_ANUS = BodyRegion("skin around the anus", "perianal skin")

# --- Movements (tests in plain words) ---
_HIP_FLEXION = "Bending the hip (hip flexion)"
_HIP_FLEXION_TEST = (
    "Lying on the back, the person lifts the thigh towards the chest while the examiner presses down "
    "just above the knee."
)
_KNEE_EXTENSION = "Straightening the knee (knee extension)"
_KNEE_EXTENSION_TEST = (
    "Sitting on the edge of the bed, the person straightens the knee against the examiner's hand on "
    "the shin; rising from a squat or a low chair shows milder weakness."
)
_DORSIFLEXION = "Pulling the foot up (ankle dorsiflexion)"
_DORSIFLEXION_TEST = (
    "The person pulls the foot up towards the shin while the examiner pushes it down; walking on the "
    "heels shows milder weakness, and a foot that slaps or drags is called foot drop."
)
_TOE_EXTENSION_TEST = "The person holds the big toe up while the examiner tries to press it down with one finger."
_PLANTARFLEXION = "Pointing the foot down (ankle plantar flexion)"
_PLANTARFLEXION_TEST = (
    "The person rises up on tiptoe on one leg, about ten times; the weaker side tires first. The calf "
    "is so strong that pushing against the examiner's hand misses mild weakness."
)
_ANAL_SQUEEZE = "Squeezing the anus (voluntary anal contraction)"
_ANAL_SQUEEZE_TEST = "During a gentle rectal examination, the person squeezes the examiner's gloved finger."
_TOE_EXTENSION = "Lifting the big toe (great-toe extension)"
_HIP_ADDUCTION = "Pulling the thighs together (hip adduction)"
_HIP_ADDUCTION_TEST = (
    "Lying on the back, the person squeezes the knees together against the examiner's hands placed between them."
)
_HIP_ABDUCTION = "Moving the leg out to the side (hip abduction)"
_HIP_ABDUCTION_TEST = (
    "Lying on the other side, the person lifts the straight top leg against the examiner's hand; when standing "
    "on the weak leg alone, the pelvis drops on the other side (Trendelenburg sign)."
)
_INVERSION = "Turning the foot in (foot inversion)"
_INVERSION_TEST = (
    "With the foot pointed down a little, the person turns the sole inwards against the examiner's hand on the "
    "inner edge of the foot."
)
_EVERSION = "Turning the foot out (foot eversion)"
_EVERSION_TEST = "The person turns the sole outwards against the examiner's hand on the outer edge of the foot."
_PLANTAR_TOE_FLEXION = "Curling the toes down (toe flexion)"
_TOE_FLEXION_TEST = "The person curls the toes down against the examiner's fingers under them."


def _m(movement: str, muscle: str, test: str, isncsci: bool, source: str = "ISNCSCI2019",
       minor: bool = False) -> Movement:
    return Movement(movement=movement, muscle=muscle, test=test, isncsci=isncsci, source=source, minor=minor)


_ANAL = _m(_ANAL_SQUEEZE, "external anal sphincter", _ANAL_SQUEEZE_TEST, True)
_PELVIC_ORGANS = ("bladder", "bowel", "sexual function")

_PROFILES: tuple[RootProfile, ...] = (
    RootProfile(
        root="L1",
        # Lee 2008: a band over the groin and the top of the thigh in front.
        regions=(GROIN, UPPER_FRONT_THIGH),
        distal_regions=(UPPER_FRONT_THIGH,),
        pain_regions=(GROIN, UPPER_FRONT_THIGH),
        key_point="Upper anterior thigh, half way between the T12 and L2 key points",  # ISNCSCI 2019
        key_point_plain="Top of the front of the thigh, just below the groin crease",
        isncsci_level="L1",
        # No ISNCSCI key muscle for L1; it adds a little to hip flexion (teaching extra).
        key_muscles=(_m(_HIP_FLEXION, "iliopsoas (mostly L2-L3)", _HIP_FLEXION_TEST, False, "HARRISON_BACK",
                        minor=True),),
        sources=("ISNCSCI2019", "LEE2008", "STATPEARLS_DERMATOMES"),
    ),
    RootProfile(
        root="L2",
        regions=(MID_FRONT_THIGH,),
        distal_regions=(MID_FRONT_THIGH,),
        pain_regions=(UPPER_FRONT_THIGH, MID_FRONT_THIGH),  # Harrison: anterior thigh
        key_point="Mid-anterior thigh",  # ISNCSCI 2019
        key_point_plain="Middle of the front of the thigh",
        isncsci_level="L2",
        key_muscles=(
            _m(_HIP_FLEXION, "iliopsoas", _HIP_FLEXION_TEST, True),  # ISNCSCI 2019: hip flexors are the L2 key muscle
            # Obturator nerve L2-L4, mostly L3-L4 [STANDRING]; L2 helps.
            _m(_HIP_ADDUCTION, "thigh adductors (obturator nerve)", _HIP_ADDUCTION_TEST, False, "STANDRING",
               minor=True),
        ),
        sources=("ISNCSCI2019", "LEE2008", "STATPEARLS_DERMATOMES", "HARRISON_BACK"),
    ),
    RootProfile(
        root="L3",
        regions=(LOWER_INNER_THIGH, INNER_KNEE),
        distal_regions=(INNER_KNEE,),
        pain_regions=(MID_FRONT_THIGH, LOWER_INNER_THIGH, FRONT_KNEE),  # Harrison: anterior thigh, knee
        key_point="Medial femoral condyle",  # ISNCSCI 2019
        key_point_plain="Bony bump on the inner side of the knee",
        isncsci_level="L3",
        key_muscles=(
            _m(_KNEE_EXTENSION, "quadriceps", _KNEE_EXTENSION_TEST, True),  # ISNCSCI: knee extensors
            _m(_HIP_ADDUCTION, "thigh adductors (obturator nerve)", _HIP_ADDUCTION_TEST, False, "HARRISON_BACK"),
            # Iliopsoas is L2-L3; ISNCSCI 2019 tests hip flexion for L2, so L3 only helps [STANDRING].
            _m(_HIP_FLEXION, "iliopsoas (with L2)", _HIP_FLEXION_TEST, False, "STANDRING", minor=True),
        ),
        reflex="patellar",  # minor contributor; L4 is the main root
        sources=("ISNCSCI2019", "LEE2008", "STATPEARLS_DERMATOMES", "HARRISON_BACK", "HOPPENFELD"),
    ),
    RootProfile(
        root="L4",
        # Lee 2008 keeps L4 on the inner lower leg down to the inner ankle and edge of the foot.
        regions=(INNER_LOWER_LEG, INNER_ANKLE, INNER_FOOT),
        distal_regions=(INNER_ANKLE, INNER_FOOT),
        pain_regions=(OUTER_FRONT_THIGH, FRONT_KNEE, INNER_LOWER_LEG),  # Harrison: knee, medial calf
        key_point="Medial malleolus",  # ISNCSCI 2019
        key_point_plain="Inner ankle bone",
        isncsci_level="L4",
        key_muscles=(
            _m(_DORSIFLEXION, "tibialis anterior", _DORSIFLEXION_TEST, True),  # ISNCSCI: ankle dorsiflexors
            _m(_KNEE_EXTENSION, "quadriceps", _KNEE_EXTENSION_TEST, False, "HARRISON_BACK"),
            _m(_HIP_ADDUCTION, "thigh adductors (obturator nerve)", _HIP_ADDUCTION_TEST, False, "HARRISON_BACK"),
            # Tibialis posterior is L5 with some L4 [STANDRING]; tibialis anterior also turns the foot in.
            _m(_INVERSION, "tibialis posterior (mostly L5)", _INVERSION_TEST, False, "STANDRING", minor=True),
        ),
        reflex="patellar",
        sources=("ISNCSCI2019", "LEE2008", "STATPEARLS_DERMATOMES", "HARRISON_BACK", "HOPPENFELD"),
    ),
    RootProfile(
        root="L5",
        regions=(OUTER_LOWER_LEG, TOP_FOOT, BIG_TOE),
        distal_regions=(TOP_FOOT, BIG_TOE),
        pain_regions=(BUTTOCK, OUTER_BACK_THIGH, OUTER_LOWER_LEG, TOP_FOOT),  # Harrison
        key_point="Dorsum of the foot at the third metatarsophalangeal joint",  # ISNCSCI 2019
        key_point_plain="Top of the foot, at the base of the middle toe",
        isncsci_level="L5",
        key_muscles=(
            # ISNCSCI: long toe extensors.
            _m(_TOE_EXTENSION, "extensor hallucis longus", _TOE_EXTENSION_TEST, True),
            _m(_DORSIFLEXION, "tibialis anterior (shared with L4)", _DORSIFLEXION_TEST, False, "HARRISON_BACK"),
            # Gluteus medius: superior gluteal nerve, L4-S1, mainly L5 [STANDRING].
            _m(_HIP_ABDUCTION, "gluteus medius (superior gluteal nerve)", _HIP_ABDUCTION_TEST, False, "HARRISON_BACK"),
            # Tibialis posterior: tibial nerve, L5 (L4). It separates L5 from a common fibular palsy,
            # which spares it [PRESTON_SHAPIRO].
            _m(_INVERSION, "tibialis posterior (tibial nerve)", _INVERSION_TEST, False, "STANDRING"),
            _m(_EVERSION, "fibularis longus and brevis (superficial fibular nerve)", _EVERSION_TEST, False,
               "HARRISON_BACK"),
        ),
        reflex="medial_hamstring",
        sources=("ISNCSCI2019", "LEE2008", "STATPEARLS_DERMATOMES", "HARRISON_BACK", "ESENE2012"),
    ),
    RootProfile(
        root="S1",
        regions=(BACK_CALF, HEEL, OUTER_FOOT, SOLE),
        distal_regions=(HEEL, OUTER_FOOT, SOLE),
        pain_regions=(BUTTOCK, BACK_THIGH, BACK_CALF, SOLE),  # Harrison
        key_point="Lateral heel (calcaneus)",  # ISNCSCI 2019
        key_point_plain="Outer side of the heel",
        isncsci_level="S1",
        key_muscles=(
            _m(_PLANTARFLEXION, "gastrocnemius and soleus", _PLANTARFLEXION_TEST, True),  # ISNCSCI
            _m(
                "Pushing the leg backwards (hip extension)",
                "gluteus maximus",
                "Lying face down with the knee bent, the person lifts the thigh off the bed against the "
                "examiner's hand.",
                False,
                "HARRISON_BACK",
            ),
            _m(
                _PLANTAR_TOE_FLEXION,
                "long toe flexors (flexor hallucis longus, flexor digitorum longus)",
                _TOE_FLEXION_TEST,
                False,
                "HARRISON_BACK",
            ),
            # Fibularis longus and brevis: L5-S1 [STANDRING].
            _m(_EVERSION, "fibularis longus and brevis (superficial fibular nerve)", _EVERSION_TEST, False,
               "STANDRING"),
        ),
        reflex="achilles",
        sources=("ISNCSCI2019", "LEE2008", "STATPEARLS_DERMATOMES", "HARRISON_BACK", "HOPPENFELD"),
    ),
    RootProfile(
        root="S2",
        regions=(BACK_THIGH, BACK_KNEE),  # Lee 2008 gives the back of the thigh to S2
        distal_regions=(BACK_KNEE,),
        pain_regions=(BACK_THIGH, BACK_KNEE),
        key_point="Popliteal fossa in the mid-line",  # ISNCSCI 2019
        key_point_plain="Middle of the back of the knee",
        isncsci_level="S2",
        reflex="anal_wink",
        autonomic=_PELVIC_ORGANS,
        sources=("ISNCSCI2019", "LEE2008", "STATPEARLS_DERMATOMES", "TODD2017"),
    ),
    RootProfile(
        root="S3",
        regions=(BUTTOCK_CREASE, SITTING_BONE, INNER_BUTTOCKS),
        distal_regions=(BUTTOCK_CREASE, SITTING_BONE),
        pain_regions=(BUTTOCK_CREASE, SITTING_BONE, INNER_BUTTOCKS),
        key_point="Ischial tuberosity or infragluteal fold",  # ISNCSCI 2019
        key_point_plain="Sitting bone, at the crease under the buttock",
        isncsci_level="S3",
        reflex="anal_wink",
        autonomic=_PELVIC_ORGANS,
        sources=("ISNCSCI2019", "LEE2008", "STATPEARLS_DERMATOMES", "TODD2017"),
    ),
    RootProfile(
        root="S4",
        regions=(AROUND_ANUS, SADDLE),
        distal_regions=(AROUND_ANUS,),
        pain_regions=(AROUND_ANUS, SADDLE),
        key_point="Perianal area within 1 cm of the mucocutaneous junction",  # ISNCSCI 2019 (S4-5)
        key_point_plain="Skin right next to the anus",
        isncsci_level="S4-5",
        key_muscles=(_ANAL,),  # ISNCSCI: voluntary anal contraction (S4-5)
        reflex="anal_wink",
        autonomic=_PELVIC_ORGANS,
        sources=("ISNCSCI2019", "LEE2008", "STATPEARLS_DERMATOMES", "TODD2017"),
    ),
    RootProfile(
        root="S5",
        regions=(AROUND_ANUS,),  # innermost ring of the saddle
        distal_regions=(AROUND_ANUS,),
        pain_regions=(AROUND_ANUS,),
        key_point="Perianal area within 1 cm of the mucocutaneous junction",  # ISNCSCI 2019 (S4-5)
        key_point_plain="Skin right next to the anus",
        isncsci_level="S4-5",
        key_muscles=(_ANAL,),
        sources=("ISNCSCI2019", "LEE2008", "STATPEARLS_DERMATOMES"),
    ),
)

ROOTS: Mapping[str, RootProfile] = MappingProxyType({p.root: p for p in _PROFILES})

REFLEXES: Mapping[str, ReflexProfile] = MappingProxyType(
    {
        "patellar": ReflexProfile(
            reflex="patellar",
            name="knee jerk",
            clinical_name="patellar reflex",
            roots=("L3", "L4"),
            primary_root="L4",
            test=(
                "With the knee bent and relaxed, the examiner taps the tendon just below the kneecap; the "
                "front thigh muscle tightens and the lower leg kicks forward."
            ),
            note="Carried by L3 and L4, chiefly L4; some texts include L2.",
            sources=("HOPPENFELD", "HARRISON_BACK"),
        ),
        "medial_hamstring": ReflexProfile(
            reflex="medial_hamstring",
            name="inner hamstring jerk",
            clinical_name="medial hamstring reflex",
            roots=("L5",),
            primary_root="L5",
            test=(
                "Lying face down with the knee a little bent, the examiner presses a thumb on the inner "
                "hamstring tendon behind the knee and taps the thumb; the tendon tightens under it."
            ),
            note=(
                "Less reliable than the knee and ankle jerks: it is often faint in healthy people, so only "
                "a clear difference between the two legs counts. Some texts give L5-S1."
            ),
            sources=("ESENE2012", "MAGEE"),
        ),
        "achilles": ReflexProfile(
            reflex="achilles",
            name="ankle jerk",
            clinical_name="Achilles reflex",
            roots=("S1",),
            primary_root="S1",
            test=(
                "The examiner gently pushes the foot up and taps the thick tendon at the back of the ankle; "
                "the calf tightens and the foot points down."
            ),
            note="Carried chiefly by S1 (some texts S1-S2). It fades with age, so compare the two sides.",
            sources=("HOPPENFELD", "HARRISON_BACK"),
        ),
        "anal_wink": ReflexProfile(
            reflex="anal_wink",
            name="anal wink",
            clinical_name="anocutaneous reflex",
            roots=("S2", "S3", "S4"),
            primary_root="S3",  # no single root dominates (S2-S4); S3 is the middle one
            test="Lightly stroking the skin beside the anus makes the ring of muscle around it briefly tighten.",
            note=(
                "Checked when cauda equina compression is suspected, together with saddle sensation and "
                "anal squeeze; the related bulbocavernosus reflex tests the same roots."
            ),
            sources=("ISNCSCI2019", "TODD2017"),
        ),
    }
)

NERVES: Mapping[str, NerveProfile] = MappingProxyType(
    {
        "sciatic": NerveProfile(
            nerve="sciatic",
            name="sciatic nerve",
            # The sciatic nerve carries L4-S3 fibres; piriformis symptoms mostly follow L5 and S1.
            root_fibres=("L4", "L5", "S1", "S2", "S3"),
            pain_regions=(BUTTOCK, BACK_THIGH, BACK_CALF, OUTER_LOWER_LEG, TOP_FOOT, SOLE),
            # Below the knee the sciatic nerve (through its tibial, fibular and sural branches)
            # supplies all the skin except the inner side, which is the saphenous nerve's [STANDRING].
            tingling_regions=(OUTER_LOWER_LEG, BACK_CALF, TOP_FOOT, BIG_TOE, HEEL, OUTER_FOOT, SOLE),
            numb_regions=(TOP_FOOT, SOLE),
            movements=(
                # The common fibular (peroneal) part of the nerve is the one more often affected.
                _m(
                    _DORSIFLEXION,
                    "tibialis anterior (common fibular part of the sciatic nerve)",
                    _DORSIFLEXION_TEST,
                    False,
                    "HOPAYIAN2010",
                ),
                _m(
                    _PLANTARFLEXION,
                    "gastrocnemius and soleus (tibial part of the sciatic nerve)",
                    _PLANTARFLEXION_TEST,
                    False,
                    "HOPAYIAN2010",
                ),
                _m(_TOE_EXTENSION, "extensor hallucis longus (common fibular part)", _TOE_EXTENSION_TEST, False,
                   "STANDRING"),
                _m(_INVERSION, "tibialis posterior (tibial part)", _INVERSION_TEST, False, "STANDRING"),
                _m(_EVERSION, "fibularis longus and brevis (common fibular part)", _EVERSION_TEST, False,
                   "STANDRING"),
                _m(_PLANTAR_TOE_FLEXION, "long toe flexors (tibial part)", _TOE_FLEXION_TEST, False, "STANDRING"),
            ),
            sources=("HOPAYIAN2010", "STANDRING"),
        ),
        "common_peroneal": NerveProfile(
            nerve="common_peroneal",
            name="common fibular (peroneal) nerve",
            # Squeezed where it winds round the neck of the fibula, below the outer knee [BAIMA2008].
            root_fibres=("L4", "L5", "S1", "S2"),
            pain_regions=(OUTER_LOWER_LEG, TOP_FOOT),
            tingling_regions=(OUTER_LOWER_LEG, TOP_FOOT, BIG_TOE),
            numb_regions=(OUTER_LOWER_LEG, TOP_FOOT),
            movements=(
                _m(_DORSIFLEXION, "tibialis anterior (deep fibular nerve)", _DORSIFLEXION_TEST, False,
                   "PRESTON_SHAPIRO"),
                _m(_TOE_EXTENSION, "extensor hallucis longus (deep fibular nerve)", _TOE_EXTENSION_TEST, False,
                   "PRESTON_SHAPIRO"),
                _m(_EVERSION, "fibularis longus and brevis (superficial fibular nerve)", _EVERSION_TEST, False,
                   "PRESTON_SHAPIRO"),
            ),
            sources=("PRESTON_SHAPIRO", "BAIMA2008", "STANDRING"),
        ),
        "femoral": NerveProfile(
            nerve="femoral",
            name="femoral nerve",
            root_fibres=("L2", "L3", "L4"),
            pain_regions=(GROIN, MID_FRONT_THIGH, FRONT_KNEE, INNER_LOWER_LEG),
            # Front and inner thigh (anterior cutaneous branches) and, through the saphenous
            # nerve, the inner side of the knee, leg and foot. The outer thigh is the lateral
            # femoral cutaneous nerve's, not the femoral nerve's [STANDRING] [PRESTON_SHAPIRO].
            tingling_regions=(MID_FRONT_THIGH, LOWER_INNER_THIGH, FRONT_KNEE, INNER_KNEE, INNER_LOWER_LEG,
                              INNER_ANKLE, INNER_FOOT),
            numb_regions=(MID_FRONT_THIGH, INNER_LOWER_LEG),
            movements=(
                _m(_KNEE_EXTENSION, "quadriceps", _KNEE_EXTENSION_TEST, False, "PRESTON_SHAPIRO"),
                # Iliacus only: psoas gets its branches straight from the roots, so hip flexion is
                # weak only with a lesion high in the pelvis, and only partly [PRESTON_SHAPIRO].
                _m(_HIP_FLEXION, "iliacus (psoas is supplied by the roots directly)", _HIP_FLEXION_TEST, False,
                   "PRESTON_SHAPIRO", minor=True),
            ),
            reflexes=("patellar",),
            sources=("PRESTON_SHAPIRO", "STANDRING"),
        ),
    }
)

NERVE_ORDER: tuple[str, ...] = tuple(NERVES)

REGIONS: Mapping[str, BodyRegion] = MappingProxyType(
    {r.plain: r for profile in _PROFILES for r in profile.regions + profile.distal_regions + profile.pain_regions}
    | {r.plain: r for n in NERVES.values() for r in n.pain_regions + n.tingling_regions + n.numb_regions}
)


def root_profile(root: str) -> RootProfile:
    """The profile of ``root`` (``L1`` .. ``S5``).

    Raises
    ------
    ValueError
        If ``root`` is not one of :data:`ROOT_ORDER`.
    """
    try:
        return ROOTS[root]
    except KeyError:
        raise ValueError(f"Unknown nerve root {root!r}; expected one of {', '.join(ROOT_ORDER)}.") from None


def symptom_regions(source: str) -> tuple[tuple[BodyRegion, ...], tuple[BodyRegion, ...], tuple[BodyRegion, ...]]:
    """Where a root (``L1`` .. ``S5``) or a peripheral nerve (a key of :data:`NERVES`) gives pain, tingling and
    numbness, in that order (for a root: its pain path, its dermatome, the dermatome's far end).

    Raises
    ------
    KeyError
        If ``source`` is neither a root nor a nerve.
    """
    if source in ROOTS:
        p = ROOTS[source]
        return p.pain_regions, p.regions, p.distal_regions
    n = NERVES[source]
    return n.pain_regions, n.tingling_regions, n.numb_regions


def movements_of(source: str) -> tuple[Movement, ...]:
    """The movements a root (its key muscles) or a peripheral nerve powers."""
    return ROOTS[source].key_muscles if source in ROOTS else NERVES[source].movements


def anatomical_term(plain: str) -> str:
    """The anatomical term for an everyday region name used in :class:`SensoryFinding.regions`.

    Raises
    ------
    ValueError
        If the name is not one of :data:`REGIONS`.
    """
    try:
        return REGIONS[plain].anatomical
    except KeyError:
        raise ValueError(f"Unknown body region {plain!r}.") from None

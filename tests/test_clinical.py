"""Clinical layer: the root table matches the standards, and compression gives the textbook picture."""

from __future__ import annotations

import pytest

from explorer.clinical import picture as pic
from explorer.clinical.picture import clinical_picture, reflex_grade
from explorer.clinical.roots import NERVES, REFLEXES, REGIONS, ROOTS, SOURCES, SOURCES_DISAGREE, anatomical_term
from explorer.clinical.types import ROOT_ORDER, ClinicalPicture, NerveHit, RootHit

# Written from the ISNCSCI 2019 worksheet (sensory key points), independently of roots.py.
ISNCSCI_KEY_POINTS = {
    "L1": "Upper anterior thigh, half way between the T12 and L2 key points",
    "L2": "Mid-anterior thigh",
    "L3": "Medial femoral condyle",
    "L4": "Medial malleolus",
    "L5": "Dorsum of the foot at the third metatarsophalangeal joint",
    "S1": "Lateral heel (calcaneus)",
    "S2": "Popliteal fossa in the mid-line",
    "S3": "Ischial tuberosity or infragluteal fold",
    "S4": "Perianal area within 1 cm of the mucocutaneous junction",
    "S5": "Perianal area within 1 cm of the mucocutaneous junction",
}
# ISNCSCI 2019 key muscles (muscle word that must appear); None where the standard has none.
ISNCSCI_KEY_MUSCLES = {
    "L1": None,
    "L2": "iliopsoas",
    "L3": "quadriceps",
    "L4": "tibialis anterior",
    "L5": "extensor hallucis longus",
    "S1": "gastrocnemius",
    "S2": None,
    "S3": None,
    "S4": "anal",
    "S5": "anal",
}
THREE_REFLEXES = ("patellar", "medial_hamstring", "achilles")


def one(root: str, degree: float, side: str = "left", condition: str = "herniation") -> ClinicalPicture:
    return clinical_picture(condition, {}, [RootHit(root, side, degree)], [])


def reflex(p: ClinicalPicture, name: str, side: str) -> str:
    (found,) = [r.finding for r in p.reflexes if r.reflex == name and r.side == side]
    return found


def kinds(p: ClinicalPicture) -> set[str]:
    return {s.kind for s in p.sensory}


def finding_keys(p: ClinicalPicture) -> set[tuple]:
    """Everything present, in a form where 'more severe' is a superset (reflexes: changed ones)."""
    keys: set[tuple] = {("sensory", s.root, s.side, s.kind, r) for s in p.sensory for r in s.regions}
    keys |= {("weakness", w.root, w.side, w.movement) for w in p.weakness}
    keys |= {("reflex", r.reflex, r.side) for r in p.reflexes if r.finding != "normal"}
    keys |= {("flag", f) for f in p.red_flags}
    return keys


# --- the table ---


def test_table_covers_every_root_in_order():
    assert tuple(ROOTS) == ROOT_ORDER


@pytest.mark.parametrize("root", ROOT_ORDER)
def test_each_root_has_regions_and_key_point(root):
    p = ROOTS[root]
    assert p.regions and p.distal_regions and p.pain_regions
    assert set(p.distal_regions) <= set(p.regions), "numbness area must lie inside the dermatome"
    assert p.key_point and p.key_point_plain
    for r in p.regions + p.pain_regions:
        assert r.plain and r.anatomical
        assert r.plain == r.plain.lower(), "plain region names are everyday lower-case words"
    assert all(s in SOURCES for s in p.sources)
    assert all(m.source in SOURCES for m in p.key_muscles)
    assert all(m.test.endswith(".") and m.muscle for m in p.key_muscles)


def test_isncsci_key_points_exact():
    assert {r: ROOTS[r].key_point for r in ROOT_ORDER} == ISNCSCI_KEY_POINTS
    assert ROOTS["S4"].isncsci_level == ROOTS["S5"].isncsci_level == "S4-5"


@pytest.mark.parametrize("root", ROOT_ORDER)
def test_isncsci_key_muscles(root):
    isncsci = ROOTS[root].isncsci_muscles
    expected = ISNCSCI_KEY_MUSCLES[root]
    if expected is None:
        assert isncsci == ()
    else:
        assert len(isncsci) == 1 and expected in isncsci[0].muscle
        assert ROOTS[root].key_muscles[0] == isncsci[0], "the ISNCSCI key muscle comes first"


def test_teaching_extras_are_marked():
    extras = {r: [m.movement for m in ROOTS[r].key_muscles if not m.isncsci] for r in ROOT_ORDER}
    assert any("hip abduction" in m for m in extras["L5"])
    assert any("hip extension" in m for m in extras["S1"]) and any("toe flexion" in m for m in extras["S1"])
    assert any("knee extension" in m for m in extras["L4"])


def test_dermatome_content_in_plain_and_anatomical_words():
    def plains(root):
        return {r.plain for r in ROOTS[root].regions}

    assert {"outer side of the lower leg", "top of the foot", "big toe"} <= plains("L5")
    assert {"heel", "sole of the foot", "back of the calf"} <= plains("S1")
    assert any("outer edge of the foot" in r for r in plains("S1"))
    assert {"back of the thigh", "back of the knee"} <= plains("S2")
    assert "buttock crease" in plains("S3")
    assert "skin around the anus" in plains("S4") and "skin around the anus" in plains("S5")
    assert anatomical_term("top of the foot") == "dorsum of the foot"
    assert anatomical_term("back of the knee") == "popliteal fossa"
    assert "lateral" in anatomical_term("outer side of the lower leg")
    with pytest.raises(ValueError, match="'elbow'"):
        anatomical_term("elbow")


def test_region_names_are_unambiguous():
    # One everyday name always means one place (the body chart draws by name).
    for profile in ROOTS.values():
        for r in profile.regions + profile.pain_regions + profile.distal_regions:
            assert REGIONS[r.plain] == r


def test_reflex_mapping():
    assert REFLEXES["patellar"].roots == ("L3", "L4") and REFLEXES["patellar"].primary_root == "L4"
    assert REFLEXES["achilles"].roots == ("S1",)
    assert REFLEXES["medial_hamstring"].roots == ("L5",)
    assert "reliable" in REFLEXES["medial_hamstring"].note
    by_root = {r: ROOTS[r].reflex for r in ROOT_ORDER}
    assert by_root == {
        "L1": None,
        "L2": None,
        "L3": "patellar",
        "L4": "patellar",
        "L5": "medial_hamstring",
        "S1": "achilles",
        "S2": "anal_wink",
        "S3": "anal_wink",
        "S4": "anal_wink",
        "S5": None,
    }


def test_autonomic_roles_s2_to_s4():
    for root in ROOT_ORDER:
        expected = {"bladder", "bowel", "sexual function"} if root in ("S2", "S3", "S4") else set()
        assert set(ROOTS[root].autonomic) == expected


def test_sources_disagree_note_names_the_charts():
    for word in ("Keegan", "Foerster", "Lee", "ISNCSCI"):
        assert word in SOURCES_DISAGREE


def test_thresholds_keep_the_textbook_order():
    assert 0 < pic.PAIN_THRESHOLD < pic.TINGLING_THRESHOLD < pic.NUMBNESS_THRESHOLD < pic.WEAKNESS_THRESHOLD
    assert pic.REFLEX_REDUCED_THRESHOLD < pic.REFLEX_ABSENT_THRESHOLD <= 1
    assert pic.WEAKNESS_THRESHOLD <= pic.PROGRESSIVE_WEAKNESS_DEGREE
    assert pic.WEAKNESS_THRESHOLD < pic.NERVE_WEAKNESS_THRESHOLD


# --- the picture ---


DEGREES = [i / 40 for i in range(41)]


@pytest.mark.parametrize("root", ROOT_ORDER)
def test_severity_is_monotonic_and_ordered(root):
    first_seen: dict[str, float] = {}
    previous: set[tuple] = set()
    for d in DEGREES:
        p = one(root, d)
        keys = finding_keys(p)
        assert previous <= keys, f"{root}: raising the degree to {d} removed {previous - keys}"
        previous = keys
        present = kinds(p) | ({"weakness"} if p.weakness else set())
        for k in present:
            first_seen.setdefault(k, d)
    order = [k for k in ("pain", "tingling", "numbness", "weakness") if k in first_seen]
    assert order[:3] == ["pain", "tingling", "numbness"]
    assert [first_seen[k] for k in order] == sorted(first_seen[k] for k in order)
    assert len({first_seen[k] for k in order}) == len(order), "each step appears at its own degree"
    assert ("weakness" in first_seen) == bool(ROOTS[root].key_muscles)


def test_nothing_below_pain_threshold():
    p = one("L5", pic.PAIN_THRESHOLD / 2)
    assert p.sensory == () and p.weakness == () and p.red_flags == ()
    assert all(r.finding == "normal" for r in p.reflexes)


def test_l5_at_0_7():
    p = one("L5", 0.7)
    movements = " ".join(w.movement for w in p.weakness)
    assert "great-toe extension" in movements
    assert "ankle dorsiflexion" in movements
    assert all(w.root == "L5" for w in p.weakness)
    (numb,) = [s for s in p.sensory if s.kind == "numbness"]
    assert "top of the foot" in numb.regions and "big toe" in numb.regions
    assert reflex(p, "medial_hamstring", "left") == "reduced"
    assert reflex(p, "achilles", "left") == "normal"
    assert reflex(p, "patellar", "left") == "normal"
    assert p.red_flags == ()


@pytest.mark.parametrize("degree,expected", [(0.55, "reduced"), (0.9, "absent")])
def test_s1_reduces_then_abolishes_achilles(degree, expected):
    p = one("S1", degree)
    assert reflex(p, "achilles", "left") == expected
    assert reflex(p, "patellar", "left") == "normal"
    assert {s.kind for s in p.sensory} == {"pain", "tingling", "numbness"}
    assert any("heel" in s.regions for s in p.sensory if s.kind == "numbness")


def test_l4_reduces_patellar():
    p = one("L4", 0.6)
    assert reflex(p, "patellar", "left") == "reduced"
    assert [r.root for r in p.reflexes if r.reflex == "patellar" and r.side == "left"] == ["L4"]
    assert reflex(p, "achilles", "left") == "normal"


def test_l3_alone_can_only_reduce_patellar():
    assert reflex(one("L3", 1.0), "patellar", "left") == "reduced"
    assert reflex(one("L4", 1.0), "patellar", "left") == "absent"
    assert reflex_grade(0.9, primary=False) == "reduced"


def test_reflexes_always_listed_for_both_legs_in_order():
    for p in (one("L5", 0.7), clinical_picture("herniation", {}, [], [])):
        assert [(r.side, r.reflex) for r in p.reflexes] == [(s, n) for s in ("left", "right") for n in THREE_REFLEXES]


def test_saddle_numbness_on_both_sides_raises_cauda_equina_flags():
    """GIRFT 2023: saddle sensory loss with bladder, bowel or sexual change is cauda equina syndrome."""
    hits = [RootHit(r, s, pic.NUMBNESS_THRESHOLD) for r in ("S3", "S4", "S5") for s in ("left", "right")]
    p = clinical_picture("herniation", {"zone": "central"}, hits, [])
    assert set(pic.CAUDA_EQUINA_IDS) <= set(p.red_flag_ids)
    assert pic.RED_FLAG_SADDLE in p.red_flags and pic.RED_FLAG_BLADDER in p.red_flags and pic.RED_FLAG_BOWEL in p.red_flags
    assert "Saddle anaesthesia" in p.red_flags[0]
    assert "bilateral_sciatica" in p.red_flag_ids, "an acute disc with symptoms in both legs"
    numb = {(f.root, f.side) for f in p.sensory if f.kind == "numbness"}
    assert {side for root, side in numb if root in ("S3", "S4", "S5")} == {"left", "right"}


def test_saddle_tingling_alone_is_not_the_cauda_equina_flag_set():
    hits = [RootHit(r, s, pic.TINGLING_THRESHOLD) for r in ("S3", "S4", "S5") for s in ("left", "right")]
    p = clinical_picture("herniation", {"zone": "central"}, hits, [])
    assert not set(pic.CAUDA_EQUINA_IDS) & set(p.red_flag_ids)


def test_one_sided_sacral_compression_is_not_cauda_equina():
    p = clinical_picture("herniation", {}, [RootHit("S2", "left", 0.9), RootHit("S3", "left", 0.9)], [])
    assert pic.RED_FLAG_SADDLE not in p.red_flags and pic.RED_FLAG_BILATERAL not in p.red_flags


def test_cauda_equina_flags_come_from_findings_not_the_condition_name():
    assert clinical_picture("cauda_equina", {}, [], []).red_flag_ids == ()
    hits = [RootHit(r, s, 0.9) for r in ("L5", "S1", "S2", "S3", "S4", "S5") for s in ("left", "right")]
    p = clinical_picture("cauda_equina", {"level": "L4-L5"}, hits, [])
    assert set(pic.CAUDA_EQUINA_IDS) <= set(p.red_flag_ids)


def test_cauda_equina_features_say_as_soon_as_possible_not_48_hours_as_the_aim():
    """GIRFT 2023 / BASS: emergency decompression as soon as possible, day or night."""
    text = " ".join(clinical_picture("cauda_equina", {}, [], []).features)
    assert "as soon as possible" in text and "day or night" in text
    assert "ideally within 48 hours" not in text


def test_bilateral_flag_only_for_acute_conditions():
    both = [RootHit("L5", "left", 0.3), RootHit("L5", "right", 0.3)]
    acute = clinical_picture("herniation", {"zone": "central"}, both, [])
    assert acute.red_flag_ids == ("bilateral_sciatica",) and acute.tempo == "acute"
    for chronic in ("stenosis", "spondylolisthesis"):
        p = clinical_picture(chronic, {}, both, [])
        assert p.red_flag_ids == () and p.red_flags == (), chronic
        assert p.tempo == "chronic" and p.watch_for, "calm sentences on when it would be an emergency"
        text = " ".join(p.watch_for).lower()
        assert "numb" in text and ("urine" in text or "bladder" in text) and "weak" in text
    p = clinical_picture("stenosis", {}, both, [])
    assert any("claudication" in f.lower() for f in p.features), "both sides without a type reads as central"


def test_severe_weakness_flag():
    p = one("L5", 0.9)
    assert p.red_flags == (pic.RED_FLAG_MOTOR,) and p.red_flag_ids == ("severe_weakness",)
    assert one("L5", 0.8).red_flags == ()


def test_piriformis_low_degree():
    p = clinical_picture("piriformis", {}, [], [NerveHit("sciatic", "right", 0.2)])
    (pain,) = p.sensory
    assert pain.root == "sciatic" and pain.kind == "pain" and pain.side == "right"
    assert "buttock" in pain.regions and "back of the thigh" in pain.regions
    assert p.weakness == ()
    assert all(r.finding == "normal" for r in p.reflexes)
    assert all(r.root in ROOT_ORDER for r in p.reflexes), "no reflex is blamed on the sciatic nerve"
    assert any("FAIR" in f for f in p.features)
    assert any("sitting" in f for f in p.features)
    assert p.red_flags == ()
    assert p.red_flag_ids == ()


def test_piriformis_high_degree():
    p = clinical_picture("piriformis", {}, [], [NerveHit("sciatic", "left", 0.9)])
    assert {s.kind for s in p.sensory} == {"pain", "tingling", "numbness"}
    assert p.weakness and all(w.root == "sciatic" for w in p.weakness)
    assert reflex(p, "achilles", "left") == "reduced"
    assert reflex(p, "patellar", "left") == "normal" and reflex(p, "medial_hamstring", "left") == "normal"
    assert reflex(p, "achilles", "right") == "normal"
    moderate = clinical_picture("piriformis", {}, [], [NerveHit("sciatic", "left", 0.7)])
    assert moderate.weakness == () and reflex(moderate, "achilles", "left") == "normal"
    assert "sciatic" in NERVES


@pytest.mark.parametrize("root", ROOT_ORDER)
@pytest.mark.parametrize("side", ["left", "right"])
def test_sides_never_swap(root, side):
    p = one(root, 1.0, side=side)
    other = "right" if side == "left" else "left"
    assert p.sensory and all(s.side == side for s in p.sensory)
    assert all(w.side == side for w in p.weakness)
    assert all(r.finding == "normal" for r in p.reflexes if r.side == other)


def test_sciatic_sides_never_swap():
    p = clinical_picture("piriformis", {}, [], [NerveHit("sciatic", "left", 1.0)])
    assert all(s.side == "left" for s in p.sensory) and all(w.side == "left" for w in p.weakness)
    assert all(r.finding == "normal" for r in p.reflexes if r.side == "right")


def test_order_is_deterministic():
    hits = [
        RootHit("S1", "right", 0.7),
        RootHit("L4", "left", 0.7),
        RootHit("L5", "left", 0.7),
        RootHit("S1", "left", 0.3),
    ]
    p = clinical_picture("herniation", {}, hits, [NerveHit("sciatic", "left", 0.3)])
    assert p == clinical_picture("herniation", {}, list(reversed(hits)), [NerveHit("sciatic", "left", 0.3)])
    sources = list(dict.fromkeys((s.side, s.root) for s in p.sensory))
    assert sources == [("left", "L4"), ("left", "L5"), ("left", "S1"), ("left", "sciatic"), ("right", "S1")]
    for s_list in ([s for s in p.sensory if s.root == "L5"],):
        assert [s.kind for s in s_list] == ["pain", "tingling", "numbness"]


def test_duplicate_hits_take_the_worst_and_degrees_are_clipped():
    a = clinical_picture("herniation", {}, [RootHit("L5", "left", 0.2), RootHit("L5", "left", 0.7)], [])
    assert a == one("L5", 0.7)
    assert one("L5", 1.7) == one("L5", 1.0)
    assert one("L5", -0.5).sensory == ()


def test_bad_hits_raise_clear_errors():
    with pytest.raises(ValueError, match="L9"):
        clinical_picture("herniation", {}, [RootHit("L9", "left", 0.5)], [])
    with pytest.raises(ValueError, match="middle"):
        clinical_picture("herniation", {}, [RootHit("L5", "middle", 0.5)], [])
    with pytest.raises(ValueError, match="ulnar"):
        clinical_picture("herniation", {}, [], [NerveHit("ulnar", "left", 0.5)])


# --- features per condition and parameter ---


def test_herniation_features_follow_roots_and_zone():
    low = clinical_picture("herniation", {"zone": "paracentral", "level": "L4-L5"}, [RootHit("L5", "left", 0.5)], [])
    text = " ".join(low.features)
    assert "Straight-leg raise" in text and "Crossed straight-leg raise" in text
    assert "Femoral stretch" not in text
    assert "L5, the traversing root" in text
    assert "coughing" in text and "sitting" in text.lower()

    upper = clinical_picture("herniation", {"zone": "foraminal", "level": "L3-L4"}, [RootHit("L3", "left", 0.5)], [])
    text = " ".join(upper.features)
    assert "Femoral stretch" in text and "Straight-leg raise" not in text
    assert "L3, the exiting root" in text

    central = clinical_picture("herniation", {"zone": "central"}, [], [])
    assert any("both legs" in f for f in central.features)


def test_stenosis_features_by_type():
    central = " ".join(clinical_picture("stenosis", {"type": "central"}, [], []).features)
    assert "claudication" in central.lower() and "Shopping-cart" in central
    lateral = " ".join(
        clinical_picture("stenosis", {"type": "lateral-recess"}, [RootHit("L5", "left", 0.3)], []).features
    )
    assert "Kemp" in lateral and "one leg" in lateral and "Shopping-cart" not in lateral


def test_spondylolisthesis_features_by_type():
    isthmic = " ".join(
        clinical_picture("spondylolisthesis", {"type": "isthmic", "level": "L5-S1", "grade": "II"}, [], []).features
    )
    assert "hamstring" in isthmic and "extension" in isthmic and "L5, the exiting root" in isthmic
    assert "grade II" in isthmic
    degenerative = " ".join(
        clinical_picture("spondylolisthesis", {"type": "degenerative", "level": "L4-L5"}, [], []).features
    )
    assert "L4-L5" in degenerative and "women" in degenerative and "L5, the traversing root" in degenerative


def test_unknown_condition_and_bad_params_are_harmless():
    from explorer.conditions import herniation, spondylolisthesis

    assert clinical_picture("sprain", {}, [], []).features == ()
    p = clinical_picture("spondylolisthesis", {"type": "wobbly", "level": "L9-L3", "grade": "7"}, [], [])
    assert p.features == spondylolisthesis.COMMON
    assert clinical_picture("Disc herniation", {}, [], []).features[: len(herniation.COMMON)] == herniation.COMMON


def test_every_condition_has_features_and_no_duplicates():
    for condition in pic.CONDITIONS:
        features = clinical_picture(condition, {}, [RootHit("L5", "left", 0.5)], []).features
        assert features and len(features) == len(set(features))


def test_stenosis_does_not_say_foot_pulses_are_always_normal():
    """Peripheral arterial disease often coexists with stenosis (Katz 2008): check both."""
    text = " ".join(clinical_picture("stenosis", {"zone": "central"}, [], []).features)
    assert "Foot pulses are normal." not in text and "usually normal" in text and "both" in text


def test_isthmic_features_allow_s1_in_high_grade_slips():
    text = " ".join(clinical_picture("spondylolisthesis", {"type": "isthmic", "level": "L5-S1"}, [], []).features)
    assert "low-grade" in text.lower() and "high-grade" in text.lower() and "S1" in text


def test_chronic_narrowing_raises_cauda_equina_flags_only_with_saddle_numbness():
    tingling = [RootHit(r, s, 0.35) for r in ("S3", "S4", "S5") for s in ("left", "right")]
    assert pic.RED_FLAG_SADDLE not in clinical_picture("stenosis", {"zone": "central"}, tingling, []).red_flags
    numb = [RootHit(r, s, pic.NUMBNESS_THRESHOLD) for r in ("S3", "S4", "S5") for s in ("left", "right")]
    p = clinical_picture("stenosis", {"zone": "central"}, numb, [])
    assert pic.RED_FLAG_SADDLE in p.red_flags and "bilateral_sciatica" not in p.red_flag_ids

"""The peripheral nerves and the movements added for symptom matching (explorer.clinical.roots).

Expected values from: ISNCSCI 2019 (hip flexors are the L2 key muscle); Standring, Gray's Anatomy
42nd ed. 2020 (iliopsoas L1-L3 mainly L2-L3; adductors L2-L4 via the obturator nerve; tibialis
posterior L5 (L4) via the tibial nerve; fibularis longus and brevis L5-S1 via the superficial
fibular nerve); Preston & Shapiro, Electromyography and Neuromuscular Disorders 3rd ed. 2013 (a
common fibular palsy spares inversion and hip abduction and leaves the reflexes normal; a femoral
neuropathy weakens knee extension, reduces the knee jerk and spares hip adduction).
"""

from __future__ import annotations

import pytest

from explorer.clinical.roots import NERVES, REFLEXES, ROOTS, SOURCES, movements_of, symptom_regions

INVERSION = "Turning the foot in (foot inversion)"
EVERSION = "Turning the foot out (foot eversion)"
HIP_FLEXION = "Bending the hip (hip flexion)"
HIP_ADDUCTION = "Pulling the thighs together (hip adduction)"
HIP_ABDUCTION = "Moving the leg out to the side (hip abduction)"
KNEE_EXTENSION = "Straightening the knee (knee extension)"


def _moves(source: str) -> dict[str, bool]:
    """movement -> minor? for a root or nerve."""
    return {m.movement: m.minor for m in movements_of(source)}


def test_contract_nerves_exist_with_sources_and_regions() -> None:
    assert {"sciatic", "common_peroneal", "femoral"} <= set(NERVES)
    for nerve in NERVES.values():
        pain, tingling, numb = symptom_regions(nerve.nerve)
        assert pain and tingling and numb and set(numb) <= set(tingling)
        assert all(s in SOURCES for s in nerve.sources)
        assert all(m.source in SOURCES and m.test.endswith(".") for m in nerve.movements)
        assert all(r in REFLEXES for r in nerve.reflexes)


def test_hip_flexion_is_l2_with_l1_and_l3_only_helping() -> None:
    assert _moves("L2")[HIP_FLEXION] is False and ROOTS["L2"].key_muscles[0].isncsci
    assert _moves("L1")[HIP_FLEXION] is True and _moves("L3")[HIP_FLEXION] is True


def test_inversion_eversion_and_adduction_follow_the_segmental_supply() -> None:
    assert _moves("L5")[INVERSION] is False and _moves("L4")[INVERSION] is True
    assert INVERSION not in _moves("S1")
    assert _moves("L5")[EVERSION] is False and _moves("S1")[EVERSION] is False
    assert _moves("L3")[HIP_ADDUCTION] is False and _moves("L4")[HIP_ADDUCTION] is False
    assert _moves("L2")[HIP_ADDUCTION] is True
    assert HIP_ABDUCTION in _moves("L5")


def test_common_fibular_palsy_spares_inversion_hip_abduction_and_reflexes() -> None:
    moves = _moves("common_peroneal")
    foot_drop = {"Pulling the foot up (ankle dorsiflexion)", "Lifting the big toe (great-toe extension)", EVERSION}
    assert foot_drop <= set(moves)
    assert INVERSION not in moves and HIP_ABDUCTION not in moves
    assert NERVES["common_peroneal"].reflexes == ()
    territory = {r.plain for r in symptom_regions("common_peroneal")[1]}
    assert {"outer side of the lower leg", "top of the foot"} <= territory
    assert "sole of the foot" not in territory  # the sole is tibial nerve skin


def test_femoral_neuropathy_spares_adduction_and_carries_the_knee_jerk() -> None:
    moves = _moves("femoral")
    assert moves[KNEE_EXTENSION] is False and moves[HIP_FLEXION] is True
    assert HIP_ADDUCTION not in moves
    assert NERVES["femoral"].reflexes == ("patellar",)
    territory = {r.plain for r in symptom_regions("femoral")[1]}
    assert {"middle of the front of the thigh", "inner side of the lower leg"} <= territory  # saphenous
    assert "outer front of the thigh" not in territory  # lateral femoral cutaneous nerve


@pytest.mark.parametrize("nerve", ["sciatic", "common_peroneal"])
def test_no_nerve_below_the_hip_powers_hip_abduction_or_extension(nerve: str) -> None:
    assert not {HIP_ABDUCTION, "Pushing the leg backwards (hip extension)"} & set(_moves(nerve))

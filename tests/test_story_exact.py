"""The fast story view gives exactly what the slow one gave (explorer.render.story).

The story view used to score every candidate direction fully and build three cell locators per call;
it now shares one locator of the healthy model, casts only the rays it needs and stops scoring a
candidate once it cannot win (branch and bound). None of that may change a result.

``tests/fixtures/story_reference.json`` was written ONCE by the OLD code (story.py at commit adb04b1,
before these changes) for 17 states chosen across the registry: every condition, one- and two-sided
lesions, replaced structures (slipped vertebrae, a swollen piriformis) and each of the nine
candidate directions as a winner. Regenerating it with the new code would prove nothing: if the
story view is changed on purpose, say so and rewrite the fixture from the changed code in the same
commit. The comparison over all 231 states of the registry was a one-off script (every field equal).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from explorer import settings
from explorer.anatomy.model import MeshData, load_model
from explorer.conditions.simulate import simulate
from explorer.render import story
from explorer.render.model_scene import model_box
from explorer.render.scene3d import scene_to_mm

FIXTURE = Path(__file__).parent / "fixtures" / "story_reference.json"
STATES = json.loads(FIXTURE.read_text())["states"]


def _id(state: dict) -> str:
    return state["condition"] + ":" + ",".join(f"{k}={v}" for k, v in sorted(state["params"].items()))


@pytest.fixture(scope="module")
def model():
    return load_model(save_rebuilt=False)


@pytest.mark.parametrize("state", STATES, ids=_id)
def test_story_view_is_the_one_the_old_code_chose(model, state) -> None:
    impact = simulate(state["condition"], state["params"], model)
    view = story.choose_story_view(model, impact, settings.STORY_VIEW_ASPECT)
    old = state["story"]
    assert view is not None
    assert view.direction == old["direction"] and view.phrase == old["phrase"]
    assert view.eye_mm.tolist() == old["eye"] and view.center_mm.tolist() == old["center"]  # to the bit
    assert list(view.see_through) == old["see_through"]
    assert list(view.lesion_ids) == old["lesion_ids"] and list(view.nerve_ids) == old["nerve_ids"]
    # Scores of the candidates still scored are unchanged; the winner is scored and was the best.
    assert view.direction in view.scores
    for name, score in view.scores.items():
        assert score == old["scores"][name], name
    assert old["scores"][view.direction] == max(old["scores"].values())


@pytest.mark.parametrize("state", STATES[::3], ids=_id)
def test_preset_views_see_through_what_the_old_code_did(model, state) -> None:
    impact = simulate(state["condition"], state["params"], model)
    box = model_box(model)
    for name, camera in settings.CAMERA_PRESETS.items():
        eye = scene_to_mm(camera["eye"], box)
        assert list(story.see_through_from(model, impact, eye)) == state["presets"][name], name


def test_pruning_drops_only_candidates_that_could_not_win(model, monkeypatch) -> None:
    """With pruning off every candidate is scored: the same view, and every dropped one scores lower."""
    impact = simulate("herniation", {"level": "L4-L5", "zone": "paracentral", "side": "left"}, model)
    pruned = story.choose_story_view(model, impact)
    monkeypatch.setattr(story, "PRUNE_MARGIN", math.inf)
    full = story.choose_story_view(model, impact)
    assert pruned is not None and full is not None
    assert set(full.scores) == set(story.CANDIDATES)
    assert len(pruned.scores) < len(full.scores), "branch and bound should skip some candidates here"
    assert (pruned.direction, pruned.see_through) == (full.direction, full.see_through)
    assert np.array_equal(pruned.eye_mm, full.eye_mm)
    for name in set(full.scores) - set(pruned.scores):
        assert full.scores[name] < full.scores[full.direction]


@pytest.mark.parametrize(("condition", "params"), [
    ("piriformis", {"side": "right", "severity": "severe"}),
    ("spondylolisthesis", {"level": "L4-L5", "type": "isthmic", "grade": "3"}),
])
def test_shared_locator_filters_replaced_and_target_structures(model, condition, params) -> None:
    """A replaced structure is seen in its new shape only, wherever the old one stood: every ray of
    the ray scene (shared healthy locator, per-impact locator, bit masks) names exactly the meshes
    that VTK's OBB tree finds on the same segment, mesh by mesh, in the scene as the condition left
    it (the healthy meshes with the replaced ones swapped in)."""
    impact = simulate(condition, params, model)
    sc = story.ray_scene(model, impact)
    assert sc is not None
    if condition == "piriformis":
        bit = sc.ids.index("piriformis-right")
        assert "piriformis-right" in sc.lesion  # the swollen muscle is the lesion: never cut away
        assert not sc.occluders >> bit & 1 and not sc.healthy_keep >> bit & 1 and sc.own_main >> bit & 1
    polys = {sid: m.to_polydata() for sid, m in model.meshes.items()}
    polys |= {sid: MeshData.from_polydata(m).to_polydata() for sid, m in impact.lesion.replaced.items()}
    targets = np.vstack([sc.lesion_samples, sc.nerve_samples])[::3]
    box = model_box(model)
    seen: set[str] = set()
    for name in ("posterior", "oblique", "lateral"):
        eye = scene_to_mm(settings.CAMERA_PRESETS[name]["eye"], box)
        for target, mask in zip(targets, sc.main(eye, targets), strict=True):
            end = target - 1.5 * (target - eye) / np.linalg.norm(target - eye)
            expected = {sid for sid, poly in polys.items() if len(poly.ray_trace(eye, end)[1])}
            got = {sc.ids[n] for n in range(mask.bit_length()) if mask >> n & 1}
            assert got == expected, (name, target.tolist())
            seen |= got
    assert seen & set(impact.lesion.replaced), "some ray should meet a replaced structure"

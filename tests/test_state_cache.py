"""Stored states (explorer.render.state_cache): a state read back from its file is exactly the state
computed from scratch, for every one of the registry's states, and a page's first visit of a stored
state builds no lesion and casts no ray.

The reference is the app's own computation (simulate, the story view, the presets' see-through) run
in this test: the cache must not change a clinical result or a camera, to the bit. The story code
itself is checked against the old code's answers in tests/test_story_exact.py, and the clinical
rules against the textbook in tests/test_rules.py.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from explorer import settings
from explorer.anatomy.model import load_model
from explorer.conditions.registry import CONDITIONS
from explorer.render import state_cache, story
from explorer.render.model_scene import model_box
from explorer.render.scene3d import scene_to_mm

STATES = state_cache.registry_states()


@pytest.fixture(scope="module")
def model():
    return load_model(save_rebuilt=False)


@pytest.fixture(autouse=True)
def _own_cache_home(tmp_path, monkeypatch):
    # cache_dir() is looked in too: keep the user's own cache out of these tests.
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))


def _same_mesh(a, b) -> bool:
    return (np.array_equal(a.points, b.points) and a.points.dtype == b.points.dtype
            and np.array_equal(a.faces, b.faces))


def assert_same_entry(fresh: state_cache.StateEntry, back: state_cache.StateEntry, measurements: bool) -> None:
    a, b = fresh.impact, back.impact
    assert (b.condition, b.condition_name, b.parameters) == (a.condition, a.condition_name, a.parameters)
    assert [(c.id, c.name, c.degree, c.depth_mm, c.parts) for c in b.compressed] == \
        [(c.id, c.name, c.degree, c.depth_mm, c.parts) for c in a.compressed]
    for x, y in zip(a.compressed, b.compressed, strict=True):
        assert y.vertex_degree.dtype == x.vertex_degree.dtype and np.array_equal(y.vertex_degree, x.vertex_degree), x.id
    assert b.roots == a.roots and b.nerves == a.nerves and b.clinical == a.clinical
    la, lb = a.lesion, b.lesion
    assert list(lb.compressors) == list(la.compressors) and list(lb.replaced) == list(la.replaced)
    for k in la.compressors:
        assert _same_mesh(la.compressors[k], lb.compressors[k]), k
    for k in la.replaced:
        assert _same_mesh(la.replaced[k], lb.replaced[k]), k
    # A compressor that is a replaced structure's mesh (a swollen muscle) is still the same object:
    # the scene draws it once, the story view frames it as the lesion.
    shared_a = {k for k, m in la.compressors.items() if any(m is r for r in la.replaced.values())}
    shared_b = {k for k, m in lb.compressors.items() if any(m is r for r in lb.replaced.values())}
    assert shared_b == shared_a
    assert (lb.names, lb.candidates, lb.slow, lb.pinning) == (la.names, la.candidates, la.slow, la.pinning)
    assert lb.focus.dtype == la.focus.dtype and np.array_equal(lb.focus, la.focus)
    if measurements:
        assert b.to_json() == a.to_json()
    sa, sb = fresh.story, back.story
    assert (sa is None) == (sb is None)
    if sa is not None and sb is not None:
        assert (sb.direction, sb.phrase, sb.see_through, sb.lesion_ids, sb.nerve_ids, sb.scores) == \
            (sa.direction, sa.phrase, sa.see_through, sa.lesion_ids, sa.nerve_ids, sa.scores)
        assert sb.eye_mm.tolist() == sa.eye_mm.tolist() and sb.center_mm.tolist() == sa.center_mm.tolist()
    assert back.presets == fresh.presets


def test_every_registry_state_reads_back_exactly(model) -> None:
    """All of the registry's states (231 today): computed, written, read back, compared field by
    field; the canal measurements (worked out from the read-back lesion) on every 8th state."""
    assert len(STATES) >= 200 and {c for c, _ in STATES} == set(CONDITIONS)
    for n, (condition, params) in enumerate(STATES):
        fresh = state_cache.compute(model, condition, params)
        assert fresh.story is not None and set(fresh.presets) == set(settings.CAMERA_PRESETS)
        back = state_cache.parse_entry(state_cache.entry_bytes(fresh, model), model, condition, params)
        assert_same_entry(fresh, back, measurements=n % 8 == 0)


CHOSEN = [("herniation", {"level": "L4-L5", "zone": "paracentral", "side": "left", "severity": "moderate"}),
          ("spondylolisthesis", {"level": "L5-S1", "type": "isthmic", "grade": "2"}),
          ("piriformis", {"side": "right", "severity": "severe"})]


def test_a_stored_state_builds_no_lesion_and_casts_no_ray(model, tmp_path, monkeypatch) -> None:
    """What the page asks for a stored state (its impact, story view, a preset's view) comes from
    the file: equal to the fresh answers, with the lesion builders and the rays switched off."""
    fresh = {c: state_cache.compute(model, c, p) for c, p in CHOSEN}
    report = state_cache.build(model, tmp_path, states=CHOSEN, log=lambda line: None)
    assert (report.written, report.kept, report.failed) == (3, 0, {})
    story.clear_caches()

    def forbidden(*args, **kwargs):
        raise AssertionError("computed although stored")

    for condition, _ in CHOSEN:
        monkeypatch.setitem(CONDITIONS, condition, dataclasses.replace(CONDITIONS[condition], build_lesion=forbidden))
    monkeypatch.setattr(story, "choose_story_view", forbidden)
    monkeypatch.setattr(story, "see_through_from", forbidden)
    box = model_box(model)
    for condition, params in CHOSEN:
        impact = state_cache.impact(condition, params, model, tmp_path)
        view = story.story_view(model, impact, settings.STORY_VIEW_ASPECT)
        expected = fresh[condition]
        assert view is not None and expected.story is not None
        assert (view.direction, view.see_through) == (expected.story.direction, expected.story.see_through)
        assert view.eye_mm.tolist() == expected.story.eye_mm.tolist()
        for name, camera in settings.CAMERA_PRESETS.items():
            preset = story.view_from(model, impact, camera, box, settings.CAMERA_PHRASES[name])
            assert preset is not None and preset.see_through == expected.presets[name], name
            assert preset.eye_mm.tolist() == scene_to_mm(camera["eye"], box).tolist()
            assert preset.phrase == settings.CAMERA_PHRASES[name] and preset.direction == "preset"


def test_build_keeps_good_files_and_rewrites_bad_ones(model, tmp_path) -> None:
    states = CHOSEN[:2]
    first = state_cache.build(model, tmp_path, states=states, log=lambda line: None)
    assert first.written == 2 and first.bytes > 0
    again = state_cache.build(model, tmp_path, states=states, log=lambda line: None)
    assert (again.kept, again.written) == (2, 0)
    path = tmp_path / state_cache.file_name(*states[0])
    path.write_bytes(path.read_bytes()[:-10])  # cut short
    healed = state_cache.build(model, tmp_path, states=states, log=lambda line: None)
    assert (healed.kept, healed.written) == (1, 1)
    state_cache.read_file(path, model, *states[0])  # whole again
    assert state_cache.missing(model, tmp_path) == len(STATES) - 2


def test_a_missing_state_is_simulated(model, tmp_path) -> None:
    condition, params = CHOSEN[0]
    entry, why = state_cache.lookup(model, condition, params, tmp_path)
    assert entry is None and why is not None and "missing" in why
    impact = state_cache.impact(condition, params, model, tmp_path)
    assert impact.to_json() == state_cache.compute(model, condition, params).impact.to_json()


def test_bad_parameters_still_raise_as_simulate_does(model, tmp_path) -> None:
    with pytest.raises(ValueError, match="level"):
        state_cache.impact("herniation", {"level": "L9-L10"}, model, tmp_path)

"""Settings are complete: every view, layer and structure kind has its label, phrase and colour."""

from __future__ import annotations

import re

from explorer import settings
from explorer.anatomy.structures import STRUCTURES
from explorer.render.model_scene import item_style
from explorer.state import DEFAULT_STATE


def test_every_view_has_label_and_phrase():
    assert set(settings.CAMERA_PRESETS) == set(settings.CAMERA_LABELS) == set(settings.CAMERA_PHRASES)
    assert settings.DEFAULT_VIEW in settings.CAMERA_PRESETS


def test_every_structure_has_a_known_layer_and_a_colour():
    assert set(settings.LAYER_LABELS) == set(settings.LAYERS)
    for s in STRUCTURES.values():
        assert s.layer in settings.LAYERS
        color, opacity = item_style(s, DEFAULT_STATE)
        assert re.fullmatch(r"#[0-9A-Fa-f]{6}", color)
        assert 0.0 < opacity <= 1.0


def test_structure_ids_follow_the_design_scheme():
    pattern = re.compile(r"(vertebra-L[1-5]|(disc|nucleus)-L[1-5]-(L[2-5]|S1)|root-(L[1-5]|S[1-3])-(left|right)|"
                         r"(sciatic|piriformis|hip-bone|femur)-(left|right)|thecal-sac|cauda-equina|"
                         r"conus-medullaris|sacrum)")
    for sid in STRUCTURES:
        assert pattern.fullmatch(sid), sid

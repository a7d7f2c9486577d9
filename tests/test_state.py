"""ExplorerState round-trips through the URL, and bad links fall back with a clear message."""

from __future__ import annotations

import pytest

from explorer import settings
from explorer.state import DEFAULT_STATE, ExplorerState, parse_query_params, to_query_params


def test_default_state_has_short_link():
    assert to_query_params(DEFAULT_STATE) == {}
    assert parse_query_params({}).state == DEFAULT_STATE


@pytest.mark.parametrize(
    "state",
    [
        ExplorerState(view="lateral"),
        ExplorerState(layers=("bones", "nerves"), bone_opacity=0.3),
        ExplorerState(layers=(), selected="root-L5-left"),
        ExplorerState(view="superior", selected="disc-L4-L5", bone_opacity=0.6),
    ],
)
def test_round_trip(state):
    parsed = parse_query_params(to_query_params(state))
    assert parsed.errors == ()
    assert parsed.state == state


@pytest.mark.parametrize(
    "params,bad_value,field",
    [
        ({"view": "sideways"}, "sideways", "view"),
        ({"bone_opacity": "0.42"}, "0.42", "bone_opacity"),
        ({"bone_opacity": "lots"}, "lots", "bone_opacity"),
        ({"selected": "root-L9-left"}, "root-L9-left", "selected"),
        ({"colour": "red"}, "colour", None),
    ],
)
def test_bad_values_name_the_value_and_fall_back(params, bad_value, field):
    parsed = parse_query_params(params)
    assert len(parsed.errors) == 1
    assert bad_value in parsed.errors[0]
    if field:
        assert getattr(parsed.state, field) == getattr(DEFAULT_STATE, field)


def test_bad_view_message_lists_allowed_values():
    message = parse_query_params({"view": "x"}).errors[0]
    assert all(view in message for view in settings.CAMERA_PRESETS)


def test_unknown_layer_is_reported_but_good_layers_kept():
    parsed = parse_query_params({"layers": "bones,skin,nerves"})
    assert parsed.state.layers == ("bones", "nerves")
    assert "skin" in parsed.errors[0]


def test_list_values_take_the_last():
    assert parse_query_params({"view": ["lateral", "posterior"]}).state.view == "posterior"


def test_condition_round_trip_keeps_only_applicable_params():
    parsed = parse_query_params({"condition": "herniation", "level": "L5-S1", "zone": "central", "side": "right",
                                 "severity": "severe", "audience": "patient"})
    assert parsed.errors == ()
    assert parsed.state.param_dict == {"level": "L5-S1", "zone": "central", "severity": "severe"}  # no side
    assert parse_query_params(to_query_params(parsed.state)).state == parsed.state


def test_condition_defaults_fill_missing_params():
    state = parse_query_params({"condition": "herniation"}).state
    assert state.param_dict == {"level": "L4-L5", "zone": "paracentral", "side": "left", "severity": "moderate"}


@pytest.mark.parametrize("params,bad", [({"condition": "flu"}, "flu"),
                                         ({"condition": "herniation", "level": "L9-L10"}, "L9-L10"),
                                         ({"audience": "surgeon"}, "surgeon")])
def test_bad_condition_values_are_named(params, bad):
    parsed = parse_query_params(params)
    assert any(bad in e for e in parsed.errors)


def test_params_of_another_condition_are_ignored_silently():
    parsed = parse_query_params({"condition": "stenosis", "grade": "2"})
    assert parsed.errors == ()


@pytest.mark.parametrize("value,labels", [("0", False), ("1", True)])
def test_labels_flag_parses(value, labels):
    parsed = parse_query_params({"labels": value})
    assert parsed.errors == ()
    assert parsed.state.labels is labels


def test_labels_default_on_and_off_round_trips():
    assert DEFAULT_STATE.labels is True
    assert "labels" not in to_query_params(DEFAULT_STATE)
    off = ExplorerState(labels=False)
    assert to_query_params(off) == {"labels": "0"}
    assert parse_query_params(to_query_params(off)).state == off


def test_bad_labels_value_is_named_and_falls_back_to_on():
    parsed = parse_query_params({"labels": "maybe"})
    assert parsed.state.labels is True
    assert len(parsed.errors) == 1 and "'maybe'" in parsed.errors[0] and "0" in parsed.errors[0]


def test_long_bad_value_is_shortened_in_the_message():
    long_value = "x" * 5000
    message = parse_query_params({"view": long_value}).errors[0]
    assert len(message) < 400
    assert "x" * 60 in message and "x" * 100 not in message

"""Crafted component events: a click whose value is not the expected shape is ignored, never raised.

The events come from the browser, so a visitor (or a script on the websocket) can send anything.
Each handler is called with a fake ``st.session_state`` holding a crafted event.
"""

from __future__ import annotations

import pytest
import streamlit as st
from support import AttrDict, Exploding

from explorer.anatomy.structures import STRUCTURES
from explorer.ui import where_felt
from explorer.ui.events import MAX_ID_CHARS, clicked_id

HOSTILE_IDS: list[object] = [
    ["vertebra-L4"], {"id": "vertebra-L4"}, 4, 4.5, True, None, b"vertebra-L4", "x" * 300_000,
    "vertebra-L4 ", "VERTEBRA-L4", "![x](http://203.0.113.9/p.png)", float("nan"), ("vertebra-L4",),
]
HOSTILE_EVENTS: list[object] = [
    *(AttrDict(clicked={"id": v, "name": "n"}) for v in HOSTILE_IDS),
    *({"clicked": {"id": v}} for v in HOSTILE_IDS),
    AttrDict(clicked=["vertebra-L4"]), AttrDict(clicked="vertebra-L4"), AttrDict(clicked=7),
    AttrDict(clicked={}), AttrDict(), {"clicked": None}, "clicked", 12, [], Exploding(),
]


@pytest.mark.parametrize("event", HOSTILE_EVENTS, ids=lambda e: type(e).__name__)
def test_clicked_id_rejects_every_malformed_event(event):
    assert clicked_id(event, allowed=STRUCTURES) is None


@pytest.mark.parametrize("event", [AttrDict(clicked={"id": "vertebra-L4", "name": "L4"}),
                                   {"clicked": {"id": "vertebra-L4"}}])
def test_clicked_id_accepts_a_known_id(event):
    assert clicked_id(event, allowed=STRUCTURES) == "vertebra-L4"


def test_clicked_id_refuses_overlong_strings_even_if_allowed():
    long_id = "a" * (MAX_ID_CHARS + 1)
    assert clicked_id({"clicked": {"id": long_id}}, allowed={long_id}) is None


@pytest.fixture()
def fake_state(monkeypatch):
    """A plain dict standing in for ``st.session_state`` (the handlers read and write it)."""
    state: dict[str, object] = {}
    monkeypatch.setattr(st, "session_state", state)
    return state


@pytest.mark.parametrize("mode", ["condition", "symptoms"])
@pytest.mark.parametrize("event", HOSTILE_EVENTS, ids=lambda e: type(e).__name__)
def test_chart_click_handler_ignores_crafted_events(fake_state, event, mode):
    fake_state.update({"body_chart": event, "mode": mode, "selected": None})
    before = dict(fake_state)
    where_felt.on_chart_click()
    assert fake_state == before


def test_chart_click_handler_still_acts_on_a_real_click(fake_state):
    area_id, area = next((i, a) for i, a in where_felt.AREAS_BY_ID.items() if a.root)
    fake_state.update({"body_chart": AttrDict(clicked={"id": area_id}), "mode": "symptoms"})
    where_felt.on_chart_click()
    assert fake_state[f"marked_{area.side}"] == [area.name]
    fake_state.update({"mode": "condition"})
    where_felt.on_chart_click()
    assert fake_state["root_choice"] == f"{area.root} {area.side}"


def test_structure_click_handler_ignores_crafted_events(fake_state):
    from explorer.ui import viewer_panel

    for event in HOSTILE_EVENTS:
        fake_state.clear()
        fake_state.update({"viewer": event, "selected": "disc-L4-L5"})
        viewer_panel.on_structure_clicked()
        assert fake_state["selected"] == "disc-L4-L5"
    fake_state["viewer"] = AttrDict(clicked={"id": "vertebra-L4"})
    viewer_panel.on_structure_clicked()
    assert fake_state["selected"] == "vertebra-L4"

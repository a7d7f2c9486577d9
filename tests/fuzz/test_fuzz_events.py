"""Fuzzing the browser's component events: random payloads for the 3D view and the body chart.

A visitor, or a script on the websocket, can send any value as a component's state. Each case
builds one (JSON as the browser sends it, and sometimes Python objects no JSON decoder makes: a
mapping whose lookups raise, a ``str`` subclass, a list nested thousands deep) and hands it to
the one validator (``events.clicked_id``), to the click handlers of the 3D view and the body
chart with a fake ``st.session_state``, and to the 3D view's other readers (the geometry resend
request and the reported camera). Nothing may raise; a malformed or unknown id is ignored and the
state is left as it was; a known id still acts; what is logged quotes at most 80 characters of
the payload.
"""

from __future__ import annotations

import logging
import random
import types

import pytest
import streamlit as st
from support import AttrDict, Exploding

from explorer.anatomy.structures import STRUCTURES
from explorer.ui import events, viewer3d, viewer_panel, where_felt

from .generators import case_ids, events_json, hostile_text, quotes_too_much, rng

EVENT_CASES = 200


class RaisingMapping(dict):
    def get(self, key: object, default: object = None) -> object:
        raise KeyError(key)


class BadEq(str):
    """A str subclass whose comparisons and hash raise."""

    def __eq__(self, other: object) -> bool:
        raise RuntimeError("eq")

    def __hash__(self) -> int:
        raise RuntimeError("hash")


def _deep(depth: int) -> list:
    out: list = []
    for _ in range(depth):
        out = [out]
    return out


def _self_ref() -> list:
    loop: list = []
    loop.append(loop)
    return loop


def exotic(r: random.Random) -> object:
    return r.choice([Exploding(), RaisingMapping(id="vertebra-L4"), BadEq("vertebra-L4"), _deep(r.choice([50, 5000])),
                     _self_ref(), b"vertebra-L4", bytearray(b"x" * 1000), {1, 2}, frozenset({"vertebra-L4"}),
                     complex(1, 2), ["x"] * 100_000, {"k" * 1000: "v" * 100_000}, range(10**9), object()])


def event_case(r: random.Random, allowed: list[str]) -> tuple[object, str | None]:
    """A crafted event and the id it validly names (None if it names none)."""
    roll = r.random()
    if roll < 0.2:
        ident: object = r.choice(allowed)
    elif roll < 0.3:
        ident = r.choice(allowed) + r.choice([" ", "\u200b", "x", "-left"])
    elif roll < 0.7:
        ident = events_json(r)
    elif roll < 0.8:
        ident = hostile_text(r)
    else:
        ident = exotic(r)
    inner_roll = r.random()
    inner: object
    if inner_roll < 0.7:
        inner = {"id": ident, **({"name": hostile_text(r, allow_long=False)} if r.random() < 0.5 else {})}
    elif inner_roll < 0.85:
        inner = ident
    else:
        inner = exotic(r) if r.random() < 0.5 else events_json(r)
    outer_roll = r.random()
    event: object
    if outer_roll < 0.6:
        event = AttrDict(clicked=inner)
    elif outer_roll < 0.8:
        event = {"clicked": inner, **({"missing": events_json(r)} if r.random() < 0.5 else {})}
    elif outer_roll < 0.9:
        event = events_json(r)
    else:
        event = exotic(r)
    valid = (outer_roll < 0.8 and not isinstance(inner, RaisingMapping) and isinstance(inner, dict)
             and type(ident) is str and ident in allowed and inner.get("id") is ident)
    return event, (ident if valid else None)  # type: ignore[return-value]


def _payload_strings(event: object) -> list[str]:
    """Long strings inside an event (what a log line must not quote at length)."""
    out: list[str] = []
    stack = [event]
    seen: set[int] = set()
    while stack and len(out) < 50 and len(seen) < 1000:  # bounded: an event may hold itself
        item = stack.pop()
        if id(item) in seen:
            continue
        seen.add(id(item))
        if isinstance(item, str) and len(item) > 80:
            out.append(str.__str__(item))
        elif isinstance(item, dict) and not isinstance(item, RaisingMapping):
            stack.extend([*item.keys(), *item.values()][:20])
        elif isinstance(item, (list, tuple)) and len(item) < 50:
            stack.extend(item)
    return out


@pytest.fixture()
def fake_state(monkeypatch):
    state: dict[str, object] = {}
    monkeypatch.setattr(st, "session_state", state)
    return state


def _check_logs(caplog, event: object) -> None:
    payload = _payload_strings(event)
    for record in caplog.records:
        message = record.getMessage()
        assert len(message) < 400, message[:400]
        assert quotes_too_much(message, payload) is None, message[:300]


@pytest.mark.parametrize("case_no", case_ids("events", EVENT_CASES))
def test_fuzz_click_events(fake_state, caplog, case_no):
    caplog.set_level(logging.INFO, logger=events.__name__)
    r = rng("events", case_no)
    structures = list(STRUCTURES)
    areas = list(where_felt.AREAS_BY_ID)

    # The validator on its own.
    event, named = event_case(r, structures)
    got = events.clicked_id(event, STRUCTURES)
    assert got == named, (named, got)

    # The 3D view's click handler: the selection changes only for a valid, known id.
    fake_state.update({"viewer": event, "selected": "disc-L4-L5"})
    viewer_panel.on_structure_clicked()
    assert fake_state["selected"] == (named or "disc-L4-L5")

    # The body chart's click handler, in both modes: a malformed or unknown area changes nothing.
    chart_event, area = event_case(r, areas)
    mode = r.choice(["condition", "symptoms"])
    fake_state.clear()
    fake_state.update({"body_chart": chart_event, "mode": mode, "selected": None})
    before = dict(fake_state)
    where_felt.on_chart_click()
    if area is None:  # (a real area may change nothing: in condition mode, one with no root)
        assert fake_state == before
    _check_logs(caplog, event)
    _check_logs(caplog, chart_event)


@pytest.mark.parametrize("case_no", case_ids("viewer-state", EVENT_CASES // 2))
def test_fuzz_viewer_state(fake_state, case_no):
    """The 3D view's resend request (``missing``) and reported camera, as the browser sends them (JSON)."""
    r = rng("viewer-state", case_no)
    geometry = {f"blob-{i}": None for i in range(r.randint(0, 5))}
    payload = types.SimpleNamespace(geometry=geometry)
    for _ in range(r.randint(1, 4)):
        fake_state["viewer"] = r.choice([
            events_json(r),
            {"missing": {"n": events_json(r), "hashes": events_json(r)}},
            {"missing": {"n": r.randint(0, 3), "hashes": [*geometry, *(events_json(r) for _ in range(3))]}},
            {"camera": events_json(r)},
            {"camera": {"eye": events_json(r), "up": events_json(r), "center": {"x": events_json(r)}}},
        ])
        sent = viewer3d.blobs_to_send("viewer", payload)  # type: ignore[arg-type]
        assert isinstance(sent, list) and set(sent) <= set(geometry)
        camera = viewer3d.reported_camera("viewer")
        assert camera is None or isinstance(camera, dict)

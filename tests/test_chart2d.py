"""The body chart's Python side (explorer.ui.chart2d): what one rerun sends to the browser."""

from __future__ import annotations

import json
from typing import Any

import pytest

from explorer.frontend.transport import decode_frame
from explorer.render.bodychart import ChartInput, build_body_chart
from explorer.ui import chart2d


class _FakeSessionState(dict):
    def __getattr__(self, name: str) -> Any:
        return self[name]


@pytest.fixture()
def calls(monkeypatch) -> list[dict[str, Any]]:
    sent: list[dict[str, Any]] = []
    monkeypatch.setattr(chart2d.st, "session_state", _FakeSessionState())
    monkeypatch.setattr(chart2d, "_chart_component", lambda **kw: sent.append(kw) or {})
    return sent


def test_body_chart_sends_a_frame_with_the_changes_only(calls: list[dict[str, Any]]) -> None:
    plain = chart2d.chart_payload(build_body_chart(ChartInput()))
    marked = chart2d.chart_payload(build_body_chart(ChartInput(selected_root=("L5", "left"))))
    for figure in (plain, plain, marked, marked, marked):
        chart2d.body_chart(figure, key="chart", height_px=500, description="The body chart in words.")
    assert all(isinstance(c["data"], bytes) for c in calls)
    first, same, changed, _, _ = (decode_frame(c["data"])[0] for c in calls)
    # the constants travel in every frame (encoded once per process)
    for d in (first, same, changed):
        assert d["errorText"] == chart2d.ERROR_TEXT and d["downloadName"] == "lumbar-body-chart"
        # the chart draws without Plotly: nothing about its bundle is sent
        assert not {"plotlyUrl", "plotlyJsVersion", "workaroundsOff", "config"} & set(d)
        assert d["height"] == 500 and d["testId"] == "body-chart"
        assert d["ariaLabel"] == "The body chart in words."
    assert first["figure"]["base"] is None and len(first["figure"]["traces"]) == len(plain.scene["data"])
    # the same figure again: nothing to redraw, the same bytes (Streamlit's browser cache then
    # sends a reference instead of the element)
    assert same["figure"]["traces"] == {} and same["figure"]["hash"] == first["figure"]["hash"]
    assert calls[3]["data"] == calls[4]["data"]
    # a root outlined: far fewer traces than the whole chart
    assert changed["figure"]["base"] == first["figure"]["hash"]
    assert 0 < len(changed["figure"]["traces"]) + len(changed["figure"].get("patches", {})) < len(plain.scene["data"])



def test_a_shared_trace_is_digested_once_and_as_its_json() -> None:
    """A plain figure's traces are digested once per object (chart2d.TRACE_DIGESTS), and the digest is
    the one its JSON gives: equal traces built apart have equal digests, a changed look another."""
    from explorer.render.bodychart import body_chart_figure

    plain = body_chart_figure(ChartInput())
    again = body_chart_figure(ChartInput())
    picked = body_chart_figure(ChartInput(selected_root=("L5", "left")))
    first = chart2d.chart_payload(plain)
    copied = chart2d.chart_payload(json.loads(json.dumps(plain)))  # new objects, same JSON
    assert chart2d.chart_payload(again).digests == first.digests == copied.digests
    assert first.scene_hash == copied.scene_hash
    other = chart2d.chart_payload(picked)
    changed = [k for k, a, b in zip(first.keys, first.digests, other.digests, strict=True) if a != b]
    assert changed == ["uid:selected-L5-left"]
    # a digest remembered for a trace object is that object's own (ids are not reused while kept)
    for trace, digest in zip(plain["data"], first.digests, strict=True):
        assert chart2d.TRACE_DIGESTS.get(id(trace)) == (trace, digest)

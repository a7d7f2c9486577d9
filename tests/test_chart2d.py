"""The body chart's Python side (explorer.ui.chart2d): what one rerun sends to the browser."""

from __future__ import annotations

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


"""The body chart figure: the lower body from the front and the back, with dermatomes and symptoms.

Plain 2D Plotly (SVG) traces, one filled trace per named skin area so hover tells the area, its
root and its symptom, and a click can report the area (its id is the trace's ``customdata``).
The figure is a pure function of what it is given; :mod:`explorer.ui.chart2d` draws it.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import plotly.graph_objects as go
import plotly.io as pio

from explorer import settings
from explorer.clinical.bodymap import VIEW_CENTRES, VIEW_LABELS, Area, areas, key_points, outline_rings, to_chart
from explorer.clinical.symptom_map import KIND_LABELS, AreaSymptom, PainPath

# Paul Tol's "light" scheme (colour-blind safe) for the plain dermatome map; labels name each
# root as well, so colour is never the only cue.
DERMATOME_COLORS: Mapping[str, str] = {
    "L1": "#77AADD", "L2": "#99DDFF", "L3": "#BBCC33", "L4": "#44BB99", "L5": "#EEDD88",
    "S1": "#EE8866", "S2": "#FFAABB", "S3": "#AAAA00", "S4": "#DDDDDD", "S5": "#BBBBBB",
}
NEUTRAL_SKIN = "#FFFFFF"
Y_RANGE = (-9.0, 106.0)
X_RANGE = (-43.0, 43.0)
# Roots labelled on the chart (S4 and S5 are too small to carry a label; hover names them).
LABELLED_ROOTS = ("L1", "L2", "L3", "L4", "L5", "S1", "S2", "S3")
MIN_LABELLED_AREA = 25.0  # square chart units
# One Plotly trace as a plain dict.
Trace = dict[str, Any]


@dataclass(frozen=True)
class ChartInput:
    """Everything the chart shows.

    Attributes
    ----------
    symptoms : mapping (area name, side) -> AreaSymptom
        From :func:`explorer.clinical.symptom_map.paint_areas`; empty for the plain dermatome map.
    paths : sequence of PainPath
        Radiating pain routes.
    selected_root : (root, side) or None
        A root to outline (picked on the chart, in a list, or in 3D).
    marked : collection of area ids
        Areas the person marked in the symptoms-to-cause mode.
    show_dermatomes : bool
        Colour every dermatome (the plain map) rather than grey skin under the symptoms.
    squeezed_roots : mapping (root, side) -> degree, or None
        Roots squeezed by the condition, whose skin area is outlined in the 3D view's squeeze
        magenta (the same colour language as the 3D picture). ``None`` takes the roots named as
        the sources of ``symptoms``.
    """

    symptoms: Mapping[tuple[str, str], AreaSymptom] = field(default_factory=dict)
    paths: Sequence[PainPath] = ()
    selected_root: tuple[str, str] | None = None
    marked: Collection[str] = frozenset()
    show_dermatomes: bool = True
    squeezed_roots: Mapping[tuple[str, str], float] | None = None


def _xy(rings: Sequence[Sequence[tuple[float, float]]]) -> tuple[list[float | None], list[float | None]]:
    xs: list[float | None] = []
    ys: list[float | None] = []
    for ring in rings:
        if xs:
            xs.append(None)
            ys.append(None)
        xs += [p[0] for p in ring]
        ys += [p[1] for p in ring]
    return xs, ys


@cache
def _area_xy(area_id: str) -> tuple[list[float | None], list[float | None]]:
    """An area's outline as Plotly line coordinates (fixed: computed once per process; never mutate)."""
    return _xy(_areas_by_id()[area_id].rings)


@cache
def _areas_by_id() -> dict[str, Area]:
    return {a.id: a for a in areas()}


@cache
def _root_rings_xy(root: str, side: str) -> tuple[list[float | None], list[float | None]] | None:
    """The outline of every area of one root on one side (fixed; never mutate)."""
    rings = [ring for a in areas() if a.root == root and a.side == side for ring in a.rings]
    return _xy(rings) if rings else None


def _alpha(hex_color: str, alpha: float) -> str:
    r, g, b = (int(hex_color[i:i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r},{g},{b},{alpha:.2f})"


def symptom_opacity(degree: float) -> float:
    """Fill opacity of an affected area: stronger compression, stronger colour (0.35..0.95)."""
    return 0.35 + 0.6 * min(max(degree, 0.0), 1.0)


def area_hover(area: Area, symptom: AreaSymptom | None, marked: bool = False) -> str:
    """Hover text: the area, its dermatome, and what is felt there."""
    root = f"{area.root} dermatome" if area.root else "supplied by several roots"
    text = f"<b>{area.name.capitalize()}</b> ({area.region.anatomical}), {area.side}<br>{root}"
    if symptom is not None:
        text += f"<br>{KIND_LABELS[symptom.kind]} from {', '.join(symptom.sources)} ({round(symptom.degree * 100)}% squeezed)"
    if marked:
        text += "<br>Marked by you"
    return text


def _area_trace(area: Area, chart: ChartInput) -> Trace:
    symptom = chart.symptoms.get((area.name, area.side))
    marked = area.id in chart.marked
    base = DERMATOME_COLORS.get(area.root or "", NEUTRAL_SKIN) if chart.show_dermatomes else settings.CHART_SKIN
    fill: str = base
    border: dict[str, Any] = {"color": "#FFFFFF" if chart.show_dermatomes else "#D5CEC6", "width": 0.8}
    if symptom is not None:
        fill = _alpha(settings.SYMPTOM_COLORS[symptom.kind], symptom_opacity(symptom.degree))
        border = {"color": "#3A3A3A", "width": 1.6, "dash": settings.SYMPTOM_BORDERS[symptom.kind]}
    if marked:
        fill = _alpha(settings.MARKED_COLOR, 0.7)
        border = {"color": "#2B1240", "width": 2.0}
    xs, ys = _area_xy(area.id)
    return {
        "type": "scatter", "x": xs, "y": ys, "mode": "lines", "fill": "toself", "fillcolor": fill, "line": border,
        "hoveron": "fills", "hoverinfo": "text", "text": area_hover(area, symptom, marked), "name": area.name,
        # One id per point: Plotly reports the clicked point's customdata.
        "customdata": [area.id] * len(xs), "meta": area.id, "showlegend": False,
    }


def _selected_trace(chart: ChartInput) -> Trace | None:
    if chart.selected_root is None:
        return None
    root, side = chart.selected_root
    xy = _root_rings_xy(root, side)
    if xy is None:
        return None
    return {"type": "scatter", "x": xy[0], "y": xy[1], "mode": "lines",
            "line": {"color": settings.SELECTED_COLOR, "width": 3.5},
            "hoverinfo": "skip", "name": f"Selected: {root} {side}", "legendgroup": "selected", "showlegend": True,
            "uid": "selected"}


ROOT_NAMES: frozenset[str] = frozenset(DERMATOME_COLORS)


def squeezed_roots(chart: ChartInput) -> dict[tuple[str, str], float]:
    """(root, side) -> degree of the roots to outline in magenta (given, or the symptoms' sources)."""
    if chart.squeezed_roots is not None:
        return dict(chart.squeezed_roots)
    out: dict[tuple[str, str], float] = {}
    for (_name, side), symptom in chart.symptoms.items():
        for source in symptom.sources:
            if source in ROOT_NAMES:
                out[(source, side)] = max(out.get((source, side), 0.0), symptom.degree)
    return out


def _squeezed_traces(chart: ChartInput) -> list[Trace]:
    """The squeezed roots' skin areas outlined in the squeeze magenta, thicker when squeezed harder."""
    out: list[Trace] = []
    for (root, side), degree in sorted(squeezed_roots(chart).items(), key=lambda kv: -kv[1]):
        xy = _root_rings_xy(root, side)
        if xy is None:
            continue
        out.append({"type": "scatter", "x": xy[0], "y": xy[1], "mode": "lines", "hoverinfo": "skip",
                    "line": {"color": settings.SQUEEZE_OUTLINE_COLOR, "width": 2.5 + 2.0 * min(degree, 1.0)},
                    "name": "Skin of the squeezed root (magenta, as in 3D)", "legendgroup": "squeezed",
                    "showlegend": not out, "meta": f"squeezed:{root}:{side}"})
    return out


@cache
def _outline_traces() -> tuple[Trace, ...]:
    xs, ys = _xy(outline_rings())
    return ({"type": "scatter", "x": xs, "y": ys, "mode": "lines",
             "line": {"color": settings.CHART_OUTLINE, "width": 1.6},
             "hoverinfo": "skip", "showlegend": False, "name": "outline", "uid": "outline"},)


def _path_traces(paths: Sequence[PainPath]) -> list[Trace]:
    out: list[Trace] = []
    color = settings.PAIN_PATH_COLOR
    for i, path in enumerate(paths):
        for view, pts in path.points:
            out.append({
                "type": "scatter", "x": [p[0] for p in pts], "y": [p[1] for p in pts], "mode": "lines+markers",
                "line": {"color": color, "width": 2.5 + 3.5 * path.degree, "shape": "spline"},
                "marker": {"symbol": "arrow", "angleref": "previous", "size": [0] * (len(pts) - 1) + [16],
                           "color": color},
                "hoverinfo": "text",
                "text": f"Pain runs from {path.names[0]} to {path.names[-1]} ({path.source}, {path.side})",
                "name": "Radiating pain", "legendgroup": "pain-path", "uid": f"pain-path:{i}:{view}",
                "showlegend": i == 0 and view == path.points[0][0],
            })
    return out


@cache
def _key_point_trace() -> Trace:
    pts = key_points()
    return {
        "type": "scatter", "x": [p.x for p in pts], "y": [p.y for p in pts], "mode": "markers",
        "marker": {"symbol": "circle", "size": 7, "color": "#000000", "line": {"color": "#FFFFFF", "width": 1.5}},
        "hoverinfo": "text", "text": [f"ISNCSCI key sensory point {p.root} ({p.side}): {p.label}" for p in pts],
        "name": "Key sensory point (ISNCSCI)", "showlegend": True, "uid": "key-points",
    }


@cache
def _root_labels() -> Trace:
    xs, ys, texts = [], [], []
    for root in LABELLED_ROOTS:
        for view in VIEW_CENTRES:
            for side in ("left", "right"):
                candidates = [a for a in areas() if a.root == root and a.view == view and a.side == side]
                if not candidates:
                    continue
                biggest = max(candidates, key=lambda a: a.polygon().area)
                if biggest.polygon().area < MIN_LABELLED_AREA:
                    continue  # a thin strip in this view; the other view carries the label
                point = biggest.polygon().representative_point()
                x, y = point.x, point.y
                # keep the label off its key sensory point
                if any(k.view == view and k.side == side and abs(k.x - x) < 2.5 and abs(k.y - y) < 2.5
                       for k in key_points()):
                    y += 4.0
                xs.append(x)
                ys.append(y)
                texts.append(root)
    return {"type": "scatter", "x": xs, "y": ys, "mode": "text", "text": texts, "hoverinfo": "skip",
            "showlegend": False, "name": "labels", "uid": "root-labels",
            "textfont": {"size": 14, "color": settings.CHART_TEXT, "family": "Arial, sans-serif"}}


def _legend_swatches(chart: ChartInput) -> list[Trace]:
    """Legend-only entries for the symptom kinds (fills cannot show in the legend themselves)."""
    out: list[Trace] = []
    for kind in ("numbness", "tingling", "pain"):
        out.append({"type": "scatter", "x": [None], "y": [None], "mode": "markers",
                    "name": f"{KIND_LABELS[kind]} ({settings.SYMPTOM_BORDERS[kind]} border)",
                    "marker": {"symbol": "square", "size": 14, "color": settings.SYMPTOM_COLORS[kind]},
                    "showlegend": True, "hoverinfo": "skip", "uid": f"legend:{kind}"})
    if chart.marked:
        out.append({"type": "scatter", "x": [None], "y": [None], "mode": "markers", "name": "Marked by you",
                    "marker": {"symbol": "square", "size": 14, "color": settings.MARKED_COLOR},
                    "showlegend": True, "hoverinfo": "skip", "uid": "legend:marked"})
    return out


@cache
def _template() -> dict[str, Any]:
    """Plotly's default template as plain JSON (a ``go.Figure`` applies it itself; the chart's
    fonts, colours and hover labels were designed with it)."""
    return dict(pio.templates[pio.templates.default].to_plotly_json())


@cache
def _annotations() -> tuple[dict[str, Any], ...]:
    notes = []
    for view, centre in VIEW_CENTRES.items():
        notes.append({"x": centre, "y": 104.5, "text": f"<b>{VIEW_LABELS[view]}</b>", "showarrow": False,
                      "font": {"size": 16, "color": settings.CHART_TEXT}})
        for side in ("left", "right"):
            x, _ = to_chart(view, side, 9.0, 0.0)
            notes.append({"x": x, "y": -5.5, "text": f"{side.capitalize()}", "showarrow": False,
                          "font": {"size": 13, "color": settings.CHART_TEXT}})
    return tuple(notes)


# Every trace has an identity that stays from one chart to the next (areas: ``meta``; the others:
# ``uid``), so the browser is sent only the fields that changed (explorer.frontend.transport).
def body_chart_figure(chart: ChartInput, height_px: int = settings.CHART_HEIGHT_PX,
                      title: str | None = None) -> dict[str, Any]:
    """The body chart as a plain Plotly figure dict (``{"data": [...], "layout": {...}}``).

    Built without plotly's graph objects: validating about 150 scatter traces cost about 80 ms
    of server CPU per rerun, and every value here is fixed by this module (the tests validate
    the same figure through :func:`build_body_chart`). The outlines, labels and key points are
    computed once per process and shared between figures: treat the result as read-only.

    Parameters
    ----------
    chart : ChartInput
        Symptoms, pain paths, selection and marks to show.
    height_px : int
        Figure height in pixels; the width follows the container and the aspect ratio is kept.
    title : str or None
        Optional title above the chart.
    """
    traces: list[Trace] = [_area_trace(a, chart) for a in areas()]
    traces += _outline_traces()
    traces += _squeezed_traces(chart)
    selected = _selected_trace(chart)
    if selected is not None:
        traces.append(selected)
    traces += _path_traces(chart.paths)
    traces.append(_root_labels())
    traces.append(_key_point_trace())
    if chart.symptoms or chart.marked:
        traces += _legend_swatches(chart)
    layout: dict[str, Any] = {
        "height": height_px, "margin": {"l": 4, "r": 4, "t": 36 if title else 8, "b": 4},
        "paper_bgcolor": "#FFFFFF", "plot_bgcolor": "#FFFFFF", "hovermode": "closest", "dragmode": False,
        "xaxis": {"range": list(X_RANGE), "visible": False, "fixedrange": True},
        "yaxis": {"range": list(Y_RANGE), "visible": False, "fixedrange": True, "scaleanchor": "x", "scaleratio": 1},
        "legend": {"orientation": "h", "x": 0.0, "y": -0.01, "yanchor": "top", "font": {"size": 13}},
        "annotations": list(_annotations()), "hoverlabel": {"font": {"size": 14}}, "uirevision": "body-chart",
        "template": _template(),
    }
    if title:
        layout["title"] = {"text": title, "x": 0.02, "font": {"size": 16}}
    return {"data": traces, "layout": layout}


def build_body_chart(chart: ChartInput, height_px: int = settings.CHART_HEIGHT_PX, title: str | None = None) -> go.Figure:
    """The body chart as a validated :class:`plotly.graph_objects.Figure` (for tests and tools).

    The same figure as :func:`body_chart_figure`, checked by plotly's validators (an invalid
    property raises here); the page sends the plain dict.
    """
    return go.Figure(body_chart_figure(chart, height_px, title))

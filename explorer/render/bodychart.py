"""The body chart figure: the lower body from the front and the back, with dermatomes and symptoms.

A figure in Plotly's format (plain 2D scatter traces), one filled trace per named skin area so
hover tells the area, its root and its symptom, and a click can report the area (its id is the
trace's ``meta``). The figure is a pure function of what it is given; :mod:`explorer.ui.chart2d`
sends it and the browser draws it as SVG without Plotly (``explorer/frontend/bodychart_svg.js``,
which draws this subset of the format as plotly.js does); :func:`build_body_chart` validates it
with plotly's own validators in the tests.

**Fixed shape.** Every chart has the same traces in the same order with the same ``uid``: the
areas, the body outline, one outline slot per (root, side) for "squeezed" and one for "selected",
one slot per known pain route (root or nerve, side, view; :func:`pain_route_slots`), the labels,
the key points and the legend swatches. Apart from which slots are in use (``visible``), a state
changes only style attributes (fill colours, line colours, widths and dashes, ``showlegend``,
``name``): the browser gets only those fields (explorer/frontend/transport.py) and the SVG
renderer sets only those attributes on the one element it keeps per trace (its ``uid``); the
outlines' coordinates are sent once. Unused slots are ``visible: false`` (not drawn; see
:func:`_slot_style`). Why an area's hover text is its ``name``: a hover on a fill shows the
trace's ``text`` or, without one, its ``name`` (plotly.js scatter/hover.js; the SVG renderer
does the same). A pain route the catalogue does not know is drawn as an extra trace after the
slots (correct, but it sends that trace whole).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import plotly.graph_objects as go

from explorer import settings
from explorer.clinical.bodymap import (
    SIDES,
    VIEW_CENTRES,
    VIEW_LABELS,
    Area,
    areas,
    key_points,
    outline_rings,
    to_chart,
)
from explorer.clinical.roots import NERVES, symptom_regions
from explorer.clinical.symptom_map import KIND_LABELS, AreaSymptom, PainPath, pain_paths
from explorer.clinical.types import ROOT_ORDER, SensoryFinding
from explorer.render.memo import Memo

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


# ----------------------------------------------------------------------------- fixed slots
# A slot the current state does not use is left out of the drawing (``visible: false``).
SQUEEZED_NAME = "Skin of the squeezed root (magenta, as in 3D)"
PAIN_PATH_NAME = "Radiating pain"
LEGEND_KINDS: tuple[str, ...] = ("numbness", "tingling", "pain")


def css_safe(text: str) -> str:
    """``text`` with every run of characters outside ``[A-Za-z0-9]`` as one ``-``: plotly.js puts
    trace uids in CSS selectors (gl_workarounds.js ``cssSafeUids`` escapes others in the browser)."""
    return "".join(c if c.isascii() and c.isalnum() else "-" for c in text).strip("-")


def shown(trace: Mapping[str, Any]) -> bool:
    """Whether a trace of :func:`body_chart_figure` is drawn in this state (an unused slot is not)."""
    return trace.get("visible", True) is not False


def _area_style(area: Area, chart: ChartInput) -> Trace:
    """What changes with the state: fill, border, hover text (held in ``name``: see the module doc)."""
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
    return {"fillcolor": fill, "line": border, "name": area_hover(area, symptom, marked)}


@cache
def _area_static(area_id: str) -> Trace:
    """The part of an area's trace no state changes (shared between figures; never mutate)."""
    xs, ys = _area_xy(area_id)
    return {
        "type": "scatter", "x": xs, "y": ys, "mode": "lines", "fill": "toself", "hoveron": "fills",
        "hoverinfo": "text",
        # A click reports the area's `meta` (explorer/frontend/bodychart_svg.js).
        "meta": area_id, "showlegend": False, "uid": "area-" + css_safe(area_id),
    }


# Traces shared between charts: one dict per distinct look of a slot (an area with its fill,
# border and hover text; a root outline slot in or out of use ...), the same object in every chart
# that shows that look. Why: a state no session has seen shares most of its 143 traces with charts
# built before, and a shared trace is digested and diffed once per process
# (explorer.ui.chart2d._trace_digest, explorer.frontend.transport._patch remember by object),
# not once per new state. Never mutate them (figures are read-only already).
SHARED_TRACES: Memo[Trace] = Memo(8192)


def _shared(make: Callable[..., Trace], *look: Any) -> Trace:
    """The one trace ``make(*look)`` (``look``: the slot and every value its trace depends on), made once."""
    return SHARED_TRACES.get_or_make((make.__name__, *look), lambda: make(*look))


def _area_look(area_id: str, fill: str, line: tuple[tuple[str, Any], ...], name: str) -> Trace:
    return {**_area_static(area_id), "fillcolor": fill, "line": dict(line), "name": name}


def _area_trace(area: Area, chart: ChartInput) -> Trace:
    style = _area_style(area, chart)
    return _shared(_area_look, area.id, style["fillcolor"], tuple(style["line"].items()), style["name"])


@cache
def root_slots() -> tuple[tuple[str, str], ...]:
    """Every (root, side) with skin on the chart, in slot order (root order, left before right)."""
    return tuple((r, s) for r in DERMATOME_COLORS for s in SIDES if _root_rings_xy(r, s) is not None)


def _slot_style(used: bool, legend: bool, group: str) -> Trace:
    """A slot's use: drawn or not (``visible``), and whether it carries its group's legend entry.

    Every slot is always sent (the same traces in every state), so a change of use is a change
    of ``visible``: one display write in the browser (``bodychart_svg.js``), no outline resent.
    """
    return {"visible": used, "showlegend": used and legend, "legendgroup": group}


@cache
def _squeezed_static(root: str, side: str) -> Trace:
    xy = _root_rings_xy(root, side)
    assert xy is not None  # only for root_slots()
    return {"type": "scatter", "x": xy[0], "y": xy[1], "mode": "lines", "hoverinfo": "skip",
            "name": SQUEEZED_NAME, "meta": f"squeezed:{root}:{side}", "uid": f"squeezed-{root}-{side}"}


def squeezed_width(degree: float) -> float:
    """Outline width of a squeezed root's skin: thicker when squeezed harder."""
    return 2.5 + 2.0 * min(degree, 1.0)


def _squeezed_traces(chart: ChartInput) -> list[Trace]:
    """One slot per (root, side): the squeezed roots' skin areas outlined in the squeeze magenta.

    The legend entry sits on the most squeezed one (its line width is the legend's sample), as
    when only the squeezed roots were drawn, most squeezed first."""
    degrees = squeezed_roots(chart)
    ranked = sorted(((k, d) for k, d in degrees.items() if _root_rings_xy(*k) is not None), key=lambda kv: -kv[1])
    carrier = ranked[0][0] if ranked else None
    out: list[Trace] = []
    for root, side in root_slots():
        degree = degrees.get((root, side))
        width = squeezed_width(degree if degree is not None else 0.0)
        out.append(_shared(_squeezed_look, root, side, width, degree is not None, carrier == (root, side)))
    return out


def _squeezed_look(root: str, side: str, width: float, used: bool, legend: bool) -> Trace:
    return {**_squeezed_static(root, side), "line": {"color": settings.SQUEEZE_OUTLINE_COLOR, "width": width},
            **_slot_style(used, legend, "squeezed")}


@cache
def _selected_static(root: str, side: str) -> Trace:
    xy = _root_rings_xy(root, side)
    assert xy is not None  # only for root_slots()
    return {"type": "scatter", "x": xy[0], "y": xy[1], "mode": "lines",
            "line": {"color": settings.SELECTED_COLOR, "width": 3.5},
            "hoverinfo": "skip", "name": f"Selected: {root} {side}", "uid": f"selected-{root}-{side}"}


def _selected_traces(chart: ChartInput) -> list[Trace]:
    """One slot per (root, side); the selected root's skin outlined in cyan."""
    return [_shared(_selected_look, root, side, chart.selected_root == (root, side)) for root, side in root_slots()]


def _selected_look(root: str, side: str, used: bool) -> Trace:
    return {**_selected_static(root, side), **_slot_style(used, True, "selected")}


# --------------------------------------------------------------------------- pain routes
@dataclass(frozen=True)
class RouteSlot:
    """One known route of radiating pain on the chart: a root or nerve, a side, a view."""

    source: str
    side: str
    view: str
    points: tuple[tuple[float, float], ...]
    first: str
    last: str

    @property
    def uid(self) -> str:
        return css_safe(f"pain-{self.source}-{self.side}-{self.view}")


@cache
def pain_route_slots() -> tuple[RouteSlot, ...]:
    """Every pain route the clinical layer can draw: each root's and nerve's pain path
    (``explorer.clinical.roots.symptom_regions``), each side, each view it crosses (what
    :func:`explorer.clinical.symptom_map.pain_paths` makes of a pain finding)."""
    out: list[RouteSlot] = []
    for source in (*ROOT_ORDER, *NERVES):
        regions = tuple(r.plain for r in symptom_regions(source)[0])
        for side in SIDES:
            for path in pain_paths([SensoryFinding(source, side, "pain", regions)], {}):
                for view, pts in path.points:
                    out.append(RouteSlot(source, side, view, tuple(pts), path.names[0], path.names[-1]))
    return tuple(out)


@cache
def _route_index() -> dict[tuple[str, str, str], int]:
    return {(r.source, r.side, r.view): i for i, r in enumerate(pain_route_slots())}


def path_width(degree: float) -> float:
    """Line width of a pain route: thicker when the source is squeezed harder."""
    return 2.5 + 3.5 * degree


def _path_static(pts: Sequence[tuple[float, float]], text: str, uid: str) -> Trace:
    color = settings.PAIN_PATH_COLOR
    return {
        "type": "scatter", "x": [p[0] for p in pts], "y": [p[1] for p in pts], "mode": "lines+markers",
        "marker": {"symbol": "arrow", "angleref": "previous", "size": [0] * (len(pts) - 1) + [16], "color": color},
        "text": text, "name": PAIN_PATH_NAME, "uid": uid,
    }


@cache
def _route_static(index: int) -> Trace:
    r = pain_route_slots()[index]
    return _path_static(r.points, f"Pain runs from {r.first} to {r.last} ({r.source}, {r.side})", r.uid)


def _path_line(degree: float) -> dict[str, Any]:
    return {"color": settings.PAIN_PATH_COLOR, "width": path_width(degree), "shape": "spline"}


def _path_traces(paths: Sequence[PainPath]) -> list[Trace]:
    """One slot per known route, then any route the catalogue does not know (drawn as before).

    The legend entry sits on the first route of the first path, as when only the paths were drawn."""
    slots = pain_route_slots()
    index = _route_index()
    used: dict[int, tuple[float, bool]] = {}
    extra: list[Trace] = []
    for i, path in enumerate(paths):
        for view, pts in path.points:
            legend = i == 0 and view == path.points[0][0]
            k = index.get((path.source, path.side, view))
            if k is not None and k not in used and slots[k].points == tuple(pts) \
                    and (slots[k].first, slots[k].last) == (path.names[0], path.names[-1]):
                used[k] = (path.degree, legend)
                continue
            text = f"Pain runs from {path.names[0]} to {path.names[-1]} ({path.source}, {path.side})"
            extra.append({**_path_static(pts, text, css_safe(f"pain-extra-{len(extra)}-{view}")),
                          "line": _path_line(path.degree), "hoverinfo": "text",
                          **_slot_style(True, legend, "pain-path")})
    out: list[Trace] = []
    for k in range(len(slots)):
        degree, legend = used.get(k, (0.0, False))
        out.append(_shared(_route_look, k, degree, k in used, legend))
    return out + extra


def _route_look(index: int, degree: float, used: bool, legend: bool) -> Trace:
    return {**_route_static(index), "line": _path_line(degree), "hoverinfo": "text",
            **_slot_style(used, legend, "pain-path")}


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


@cache
def _outline_traces() -> tuple[Trace, ...]:
    xs, ys = _xy(outline_rings())
    return ({"type": "scatter", "x": xs, "y": ys, "mode": "lines",
             "line": {"color": settings.CHART_OUTLINE, "width": 1.6},
             "hoverinfo": "skip", "showlegend": False, "name": "outline", "uid": "outline"},)


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
    """Legend-only entries for the symptom kinds (fills cannot show in the legend themselves) and
    the marks: always there, in the legend only when the state has symptoms or marks."""
    kinds = bool(chart.symptoms or chart.marked)
    return [*(_shared(_kind_swatch, kind, kinds) for kind in LEGEND_KINDS), _shared(_marked_swatch, bool(chart.marked))]


def _kind_swatch(kind: str, shown_in_legend: bool) -> Trace:
    return {"type": "scatter", "x": [None], "y": [None], "mode": "markers",
            "name": f"{KIND_LABELS[kind]} ({settings.SYMPTOM_BORDERS[kind]} border)",
            "marker": {"symbol": "square", "size": 14, "color": settings.SYMPTOM_COLORS[kind]},
            "showlegend": shown_in_legend, "hoverinfo": "skip", "uid": f"legend-{kind}"}


def _marked_swatch(shown_in_legend: bool) -> Trace:
    return {"type": "scatter", "x": [None], "y": [None], "mode": "markers", "name": "Marked by you",
            "marker": {"symbol": "square", "size": 14, "color": settings.MARKED_COLOR},
            "showlegend": shown_in_legend, "hoverinfo": "skip", "uid": "legend-marked"}


# The font of the chart's words where the figure names none (the legend): Plotly's default family
# and colour, as the page drew them with Plotly (measured: the legend's text was #444). The figure
# used to carry Plotly's whole default template (7 kB of JSON per first load) for this.
CHART_FONT: Mapping[str, str] = {"family": '"Open Sans", verdana, arial, sans-serif', "color": "#444"}


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


# Every trace has a uid that stays from one chart to the next, and every chart has the same traces
# (module docstring): the browser is sent only the fields that changed (explorer.frontend.transport)
# and the SVG renderer sets only those attributes (explorer/frontend/bodychart_svg.js).
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
    traces += _selected_traces(chart)
    traces += _path_traces(chart.paths)
    traces.append(_root_labels())
    traces.append(_key_point_trace())
    traces += _legend_swatches(chart)
    layout: dict[str, Any] = {
        "height": height_px, "margin": {"l": 4, "r": 4, "t": 36 if title else 8, "b": 4},
        "paper_bgcolor": "#FFFFFF", "plot_bgcolor": "#FFFFFF", "hovermode": "closest", "dragmode": False,
        "xaxis": {"range": list(X_RANGE), "visible": False, "fixedrange": True},
        "yaxis": {"range": list(Y_RANGE), "visible": False, "fixedrange": True, "scaleanchor": "x", "scaleratio": 1},
        "legend": {"orientation": "h", "x": 0.0, "y": -0.01, "yanchor": "top", "font": {"size": 13}},
        "annotations": list(_annotations()), "hoverlabel": {"font": {"size": 14}}, "uirevision": "body-chart",
        "font": dict(CHART_FONT),
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

"""MRI-like sections cut from the same meshes as the 3D view: an axial cut through a disc or a
vertebral body, a midline sagittal cut, and a parasagittal cut through a foramen.

Pure: no Streamlit. PyVista slices each closed mesh with a plane; the slice's line segments are
joined into closed loops (``PolyData.strip``), and each structure's loops are combined even-odd
(shapely), so a ring of bone around the canal keeps its hole. The picture uses T2-like greys
(spinal fluid and the disc nucleus bright, bone mid-grey, annulus and ligament dark, roots dark
dots in the bright fluid), with the lesion in the 3D view's violet and squeezed roots in its
magenta.

Display conventions are those of a scan, so a person can compare the picture with their own:

* axial cuts are seen **from below** (from the feet), front (anterior) at the top, so the
  patient's left is on the viewer's right (the radiological convention);
* sagittal cuts are seen **from the patient's left**, front on the viewer's left, head at the top.

All coordinates of a figure are millimetres in the plane of the cut (1 unit = 1 mm), which is what
the scale bar shows.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

import numpy as np
import plotly.graph_objects as go
import shapely
from numpy.typing import NDArray
from plotly.colors import sample_colorscale
from shapely.geometry import LineString, MultiPolygon, Point, Polygon
from shapely.geometry.polygon import orient

from explorer import settings
from explorer.anatomy.canal import CanalMeasurements
from explorer.anatomy.frames import Frame
from explorer.anatomy.layout import pedicle_box, side_sign, spine_layout
from explorer.anatomy.model import SpineModel
from explorer.anatomy.morphometry import S1_ENDPLATE_DEPTH, VERTEBRAE
from explorer.anatomy.posture import posed_canal_frame, posed_level, segment_motion
from explorer.anatomy.structures import STRUCTURES
from explorer.lazy import lazy_module
from explorer.render.model_scene import LESION_COLOR
from explorer.state import CUT_LEVELS

if TYPE_CHECKING:
    import pyvista as pv
else:  # imported on first use (explorer/lazy.py): the first page needs none of it
    pv = lazy_module("pyvista")

DEFAULT_CUT_LEVEL: str = "L4-L5"

# What part of the cut each figure shows (mm, in the plane's own axes, around the plane's origin).
# Axial: the body in front, the canal, the laminae and the spinous process behind; wide enough for
# the facet joints and the start of the transverse processes. Sagittal: two bodies and the disc.
AXIAL_HALF_WIDTH_MM: float = 48.0
AXIAL_FRONT_MM: float = 30.0   # in front of the disc centre
AXIAL_BACK_MM: float = 68.0    # behind the disc centre (canal, lamina, spinous process)
# Through a disc the spinous process is not cut: measured on the model, everything but slivers of
# the hip bones lies within 42 mm of the midline, 18 mm in front of and 41 mm behind the disc centre
# (27 and 61 mm with the sacrum at L5-S1), so a tighter window shows the canal a third larger.
AXIAL_DISC_HALF_WIDTH_MM: float = 44.0
AXIAL_DISC_FRONT_MM: float = 24.0
AXIAL_DISC_BACK_MM: float = 48.0
SAGITTAL_HALF_HEIGHT_MM: float = 48.0
# A cut through a foramen or a recess: the upper vertebra's cut (body, pedicle, facets) spans about
# 13-17 mm in front of to 41 mm behind the disc centre and 8 mm below to 38 mm above it (measured at
# L1-L2..L5-S1), so this window frames the foramen, its walls and the disc below it.
FORAMEN_U_RANGE_MM: tuple[float, float] = (-30.0, 50.0)
FORAMEN_V_RANGE_MM: tuple[float, float] = (-40.0, 44.0)
SAGITTAL_FRONT_MM: float = 32.0
SAGITTAL_BACK_MM: float = 78.0
SCALE_BAR_MM: float = 10.0
MIN_LOOP_AREA_MM2: float = 0.2  # slivers from a plane grazing a surface are dropped

# T2-like greys and the app's colours, per role: (fill, outline, legend name).
SOFT_TISSUE_GREY: str = "#2A2A2A"  # the background: muscle and fat around the spine
ROLE_STYLE: dict[str, tuple[str, str, str]] = {
    "bone": ("#8C8C8C", "#5E5E5E", "Bone"),
    "moved": ("#8C8C8C", LESION_COLOR, "Slipped bone"),
    "annulus": ("#454545", "#5A5A5A", "Disc: outer ring (annulus)"),
    "ligament": ("#1C1C1C", "#4A4A4A", "Ligamentum flavum"),
    "nucleus": ("#D9D9D9", "#9A9A9A", "Disc: soft centre (nucleus)"),
    "sac": ("#F4F4F4", "#BDBDBD", "Dural sac (spinal fluid)"),
    "cauda": ("#505050", "#303030", "Nerve roots in the sac"),
    "root": ("#5C5C5C", "#A8A8A8", "Nerve root"),
    "muscle": ("#3C3C3C", "#555555", "Muscle"),
    "lesion": (LESION_COLOR, "#4B3470", "Lesion"),
    "squeezed": (settings.HIGHLIGHT_COLOR, "#FFFFFF", "Squeezed nerve"),
}
# Painter's order: later roles are drawn on top.
ROLE_ORDER: tuple[str, ...] = ("muscle", "bone", "moved", "annulus", "ligament", "nucleus", "sac", "cauda", "root", "lesion", "squeezed")
KIND_ROLE: dict[str, str] = {
    "vertebra": "bone", "sacrum": "bone", "hip-bone": "bone", "femur": "bone",
    "disc": "annulus", "nucleus": "nucleus",
    "thecal-sac": "sac", "cauda-equina": "cauda", "conus": "cauda",
    "root": "root", "sciatic": "root", "piriformis": "muscle",
}
LESION_PREFIX: str = "lesion"
# Meshes that are not in the structure registry (built for the sections by explorer.anatomy.posture).
EXTRA_ROLES: dict[str, tuple[str, str]] = {"ligamentum-flavum": ("ligament", "Ligamentum flavum")}
SQUEEZE_MIN_DEGREE: float = 0.02  # as simulate.MIN_DEGREE: below this a touch is not a squeeze


Loop = NDArray[np.float64]  # (N, 2) closed ring in plane millimetres


@dataclass(frozen=True)
class SectionPlane:
    """A cutting plane and how its picture is oriented.

    Attributes
    ----------
    kind : str
        ``"axial"``, ``"sagittal"`` (midline), ``"parasagittal"`` (through a foramen) or
        ``"recess"`` (through a lateral recess).
    level : str
        The level cut (``"L4-L5"`` or ``"L4"``).
    side : str or None
        For a parasagittal or recess cut, the patient's side cut.
    origin : ndarray, shape (3,)
        A point of the plane (mm, RAS).
    normal : ndarray, shape (3,)
        Unit normal of the plane.
    u, v : ndarray, shape (3,)
        Unit vectors of the picture's horizontal (to the viewer's right) and vertical (up) axes.
    u_range, v_range : tuple of float
        The part of the plane shown (mm along ``u`` and ``v`` from ``origin``).
    """

    kind: str
    level: str
    side: str | None
    origin: NDArray[np.float64]
    normal: NDArray[np.float64]
    u: NDArray[np.float64]
    v: NDArray[np.float64]
    u_range: tuple[float, float]
    v_range: tuple[float, float]

    def to_plane(self, points: NDArray[np.floating]) -> NDArray[np.float64]:
        """Points (mm, RAS, shape (N, 3)) as picture coordinates (mm, shape (N, 2))."""
        rel = np.asarray(points, dtype=float) - self.origin
        return np.column_stack([rel @ self.u, rel @ self.v])

    def to_world(self, uv: NDArray[np.floating]) -> NDArray[np.float64]:
        """Picture coordinates (mm, shape (N, 2)) back to RAS millimetres."""
        uv = np.atleast_2d(np.asarray(uv, dtype=float))
        return self.origin + uv[:, :1] * self.u + uv[:, 1:2] * self.v

    @property
    def edge_words(self) -> dict[str, str]:
        """What lies at each edge of the picture: keys top, bottom, left, right."""
        if self.kind == "axial":
            return {"top": "Front", "bottom": "Back", "left": "Patient's right", "right": "Patient's left"}
        return {"top": "Head end", "bottom": "Feet end", "left": "Front", "right": "Back"}

    @property
    def edge_letters(self) -> dict[str, str]:
        """The scan letters at each edge (A anterior, P posterior, R, L, S superior, I inferior)."""
        if self.kind == "axial":
            return {"top": "A", "bottom": "P", "left": "R", "right": "L"}
        return {"top": "S", "bottom": "I", "left": "A", "right": "P"}


def _level_frame(level: str) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Origin and axes (columns: local x right, y front, z up) of a disc or a lumbar body."""
    lay = spine_layout()
    if level in lay.disc:
        f = lay.disc[level]
    elif level in lay.vertebra:
        f = lay.vertebra[level]
    else:
        raise ValueError(f"unknown cut level {level!r}; use one of {', '.join(CUT_LEVELS)}")
    return np.asarray(f.origin, dtype=float), np.asarray(f.axes, dtype=float)


def foramen_offset_mm(level: str) -> float:
    """How far from the midline (mm) a parasagittal cut through the level's foramen lies.

    The foramen below a lumbar pedicle lies in line with that pedicle, so the cut passes through
    the pedicle's middle (the vertebra above a disc level, or the body itself for a body level).
    """
    upper = level.split("-")[0]
    return float(pedicle_box(VERTEBRAE[upper], "right").center[0])


def recess_offset_mm(level: str) -> float:
    """How far from the midline (mm) a parasagittal cut through the lateral recess lies: 3.5 mm
    inside the canal's side wall, where the traversing root runs (``layout.lateral_recess_local``)."""
    upper = level.split("-")[0]
    return float(VERTEBRAE[upper].canal_width / 2 - 3.5)


def section_plane(kind: str, level: str, side: str | None = None, posture: str = "neutral") -> SectionPlane:
    """The plane of a section through ``level``.

    Parameters
    ----------
    kind : str
        ``"axial"`` (in the disc's or body's own mid-plane, so it follows the lordosis as a scan's
        angled slices do), ``"sagittal"`` (the midline), ``"parasagittal"`` (through the foramen
        on ``side``) or ``"recess"`` (through the lateral recess on ``side``).
    level : str
        A disc level (``"L4-L5"``) or a lumbar body (``"L4"``).
    side : str, optional
        ``"left"`` or ``"right"``; needed for ``"parasagittal"``.
    posture : str
        For an axial cut through a disc: the cut turns with the segment by half its angle, the
        plane in which :func:`explorer.anatomy.canal.measure_canal` measures the sac, so the
        picture shows the very cut that was measured.
    """
    origin, axes = _level_frame(level)
    if kind == "axial" and posture != "neutral" and level in spine_layout().disc:
        canal = posed_canal_frame(level, posture)
        axes = np.asarray(canal.axes, dtype=float)
        origin = canal.to_global(np.array([0.0, -segment_motion(level, posture).canal_offset_y, 0.0]))
    right, front, up = axes[:, 0], axes[:, 1], axes[:, 2]
    if kind == "axial":
        # Seen from the feet with the front at the top: the patient's right on the viewer's left.
        if level in spine_layout().disc:
            return SectionPlane(kind, level, None, origin, up, -right, front,
                                (-AXIAL_DISC_HALF_WIDTH_MM, AXIAL_DISC_HALF_WIDTH_MM),
                                (-AXIAL_DISC_BACK_MM, AXIAL_DISC_FRONT_MM))
        return SectionPlane(kind, level, None, origin, up, -right, front,
                            (-AXIAL_HALF_WIDTH_MM, AXIAL_HALF_WIDTH_MM), (-AXIAL_BACK_MM, AXIAL_FRONT_MM))
    if kind in ("sagittal", "parasagittal", "recess"):
        if kind != "sagittal":
            if side not in ("left", "right"):
                raise ValueError(f"a {kind} cut needs a side (left or right), got {side!r}")
            offset = foramen_offset_mm(level) if kind == "parasagittal" else recess_offset_mm(level)
            origin = origin + side_sign(side) * offset * right
        # Seen from the patient's left: the front on the viewer's left, the head at the top.
        if kind != "sagittal":
            return SectionPlane(kind, level, side, origin, right, -front, up, FORAMEN_U_RANGE_MM, FORAMEN_V_RANGE_MM)
        return SectionPlane(kind, level, None, origin, right, -front, up,
                            (-SAGITTAL_FRONT_MM, SAGITTAL_BACK_MM), (-SAGITTAL_HALF_HEIGHT_MM, SAGITTAL_HALF_HEIGHT_MM))
    raise ValueError(f"unknown section kind {kind!r}; use axial, sagittal, parasagittal or recess")


@dataclass(frozen=True)
class CutShape:
    """One structure's cut: filled area(s), possibly with holes, in picture millimetres."""

    id: str
    name: str
    role: str
    shape: MultiPolygon

    @property
    def area_mm2(self) -> float:
        return float(self.shape.area)


@dataclass(frozen=True)
class Section:
    """Everything a cut shows: the plane and each structure's cut, in painter's order."""

    plane: SectionPlane
    shapes: tuple[CutShape, ...]
    squeezed: Mapping[str, float] = field(default_factory=dict)

    def by_role(self, role: str) -> list[CutShape]:
        return [s for s in self.shapes if s.role == role]

    def get(self, structure_id: str) -> CutShape | None:
        return next((s for s in self.shapes if s.id == structure_id), None)

    def union(self, role: str) -> MultiPolygon:
        """All cut areas of one role as one shape (empty when the role is not cut)."""
        return _as_multi(shapely.union_all([s.shape for s in self.by_role(role)]))


def _as_multi(geom: object) -> MultiPolygon:
    if isinstance(geom, MultiPolygon):
        return geom
    if isinstance(geom, Polygon):
        return MultiPolygon([geom]) if not geom.is_empty else MultiPolygon()
    polys = [g for g in getattr(geom, "geoms", []) if isinstance(g, Polygon) and not g.is_empty]
    return MultiPolygon(polys)


def slice_loops(mesh: pv.PolyData, plane: SectionPlane) -> list[Loop]:
    """The closed loops where ``mesh`` meets the plane, in picture millimetres.

    A closed surface cut by a plane gives closed curves; ``strip(join=True)`` joins the slice's
    segments into polylines. An open polyline (a mesh with a hole at the plane) is closed by its
    end points, which is what a filled drawing needs.
    """
    lo, hi = np.asarray(mesh.bounds).reshape(3, 2).T
    corners = np.array([[x, y, z] for x in (lo[0], hi[0]) for y in (lo[1], hi[1]) for z in (lo[2], hi[2])])
    d = (corners - plane.origin) @ plane.normal
    if d.min() > 0 or d.max() < 0:  # the box does not reach the plane
        return []
    cut = mesh.slice(normal=plane.normal, origin=plane.origin)
    if cut.n_points == 0:
        return []
    strips = cut.strip(join=True)
    pts = plane.to_plane(np.asarray(strips.points))
    loops: list[Loop] = []
    cells = np.asarray(strips.lines)
    i = 0
    while i < len(cells):
        n = int(cells[i])
        ids = cells[i + 1:i + 1 + n]
        i += n + 1
        if n >= 3:
            loops.append(pts[ids])
    return loops


def loops_to_shape(loops: Iterable[Loop]) -> MultiPolygon:
    """Loops combined even-odd: a loop inside another one is a hole (the canal in a bony ring)."""
    result: object = Polygon()
    for ring in loops:
        poly = Polygon(ring)
        if not poly.is_valid:
            poly = shapely.make_valid(poly)
        if poly.area < MIN_LOOP_AREA_MM2:
            continue
        result = shapely.symmetric_difference(result, poly)
    return _as_multi(result)


def role_of(structure_id: str) -> str | None:
    """The picture role of a structure id or a lesion id (None: not drawn in sections)."""
    if structure_id.startswith(LESION_PREFIX):
        return "lesion"
    if structure_id in EXTRA_ROLES:
        return EXTRA_ROLES[structure_id][0]
    s = STRUCTURES.get(structure_id)
    return KIND_ROLE.get(s.kind) if s is not None else None


def cut_section(meshes: Mapping[str, pv.PolyData], plane: SectionPlane,
                names: Mapping[str, str] | None = None, squeezed: Mapping[str, float] | None = None,
                moved: Iterable[str] = ()) -> Section:
    """Cut every mesh with ``plane``.

    Parameters
    ----------
    meshes : mapping
        Structure or lesion id -> closed mesh (mm, RAS). Ids starting with ``lesion`` are lesions.
    plane : SectionPlane
        Where to cut.
    names : mapping, optional
        Id -> hover name (lesion names); structures default to their registry name.
    squeezed : mapping, optional
        Nerve id -> degree 0..1 of compression; those nerves are drawn in magenta.
    moved : iterable of str
        Ids of bones the condition moved (a slipped vertebra): outlined in the lesion's violet.
    """
    names = names or {}
    moved = frozenset(moved)
    squeezed = {k: v for k, v in (squeezed or {}).items() if v >= SQUEEZE_MIN_DEGREE}
    window = shapely.box(plane.u_range[0], plane.v_range[0], plane.u_range[1], plane.v_range[1])
    shapes: list[CutShape] = []
    for sid, mesh in meshes.items():
        role = role_of(sid)
        if role is None:
            continue
        if sid in squeezed and role in ("root", "cauda"):
            role = "squeezed"
        elif sid in moved and role == "bone":
            role = "moved"
        shape = _as_multi(loops_to_shape(slice_loops(mesh, plane)).intersection(window))
        if shape.is_empty:
            continue
        name = names.get(sid) or (STRUCTURES[sid].name if sid in STRUCTURES else EXTRA_ROLES.get(sid, ("", sid))[1])
        shapes.append(CutShape(sid, name, role, shape))
    shapes.sort(key=lambda s: ROLE_ORDER.index(s.role))
    return Section(plane, tuple(shapes), dict(squeezed))


# --------------------------------------------------------------------------------------------
# The figure
# --------------------------------------------------------------------------------------------


def _ring_xy(shape: MultiPolygon) -> tuple[list[float | None], list[float | None]]:
    """Outline coordinates of every polygon and hole, separated by None (one Plotly trace).

    Exteriors run counter-clockwise and holes clockwise, so the SVG's non-zero fill leaves the
    holes open.
    """
    xs: list[float | None] = []
    ys: list[float | None] = []
    for poly in shape.geoms:
        poly = orient(poly, sign=1.0)
        for ring in (poly.exterior, *poly.interiors):
            c = np.asarray(ring.coords)
            xs.extend(np.round(c[:, 0], 2).tolist() + [None])
            ys.extend(np.round(c[:, 1], 2).tolist() + [None])
    return xs, ys


def squeeze_color(degree: float) -> str:
    """The 3D view's magenta for a squeeze of ``degree`` (0..1), light for slight, deep for severe."""
    t = float(np.clip(degree, settings.SQUEEZE_FLOOR, 1.0))
    return str(sample_colorscale([list(p) for p in settings.SQUEEZE_COLORSCALE], [t])[0])


def scale_bar(plane: SectionPlane, length_mm: float = SCALE_BAR_MM) -> tuple[float, float, float]:
    """Where the scale bar goes: (x0, x1, y) in picture mm, bottom-left corner of the picture."""
    x0 = plane.u_range[0] + 5.0
    y = plane.v_range[0] + 5.0
    return x0, x0 + length_mm, y


def section_figure(section: Section, title: str, words: bool = False, height: int = 420,
                   notes: Iterable[tuple[float, float, str]] = (), measured: Measured | None = None) -> go.Figure:
    """A Plotly figure of a section: filled structures, orientation marks, a scale bar and the
    measurement drawn on it.

    Parameters
    ----------
    section : Section
        The cut to draw.
    title : str
        Shown above the picture ("Normal", "This condition").
    words : bool
        Edge marks in words ("Front", "Patient's left") instead of scan letters (A, L).
    height : int
        Figure height (px); the width follows the page column.
    notes : iterable of (u, v, text)
        Short labels placed at picture coordinates (mm).
    measured : Measured, optional
        The measurement this cut shows (:func:`measured_marks`): its lines are drawn on the cut and
        its label under the picture.
    """
    plane = section.plane
    fig = go.Figure()
    shown_roles: set[str] = set()
    for cut in section.shapes:
        fill, line, legend = ROLE_STYLE[cut.role]
        if cut.role == "squeezed":
            fill = squeeze_color(section.squeezed.get(cut.id, 1.0))
        xs, ys = _ring_xy(cut.shape)
        fig.add_trace(go.Scatter(
            x=xs, y=ys, mode="lines", fill="toself", fillcolor=fill,
            line={"color": line, "width": 2.2 if cut.role in ("lesion", "squeezed", "moved") else 0.8},
            name=legend, legendgroup=cut.role, showlegend=cut.role not in shown_roles,
            hoveron="fills", hoverinfo="text", text=cut.name,
            meta={"id": cut.id, "role": cut.role},
        ))
        shown_roles.add(cut.role)
    if measured is not None:
        _draw_marks(fig, measured)
    (u0, u1), (v0, v1) = plane.u_range, plane.v_range
    marks = plane.edge_words if words else plane.edge_letters
    # The orientation marks sit in the margins, just outside the picture ("x domain" / "y domain"
    # follow the picture's drawn edges), so they never cover anatomy.
    mark_font = {"color": "#222222", "size": 14 if words else 17}
    edge = {"showarrow": False, "font": mark_font, "xref": "x domain", "yref": "y domain"}
    fig.add_annotation(x=0.5, y=1.0, yanchor="bottom", text=marks["top"], name="edge-top", **edge)
    fig.add_annotation(x=0.5, y=0.0, yanchor="top", text=marks["bottom"], name="edge-bottom", **edge)
    fig.add_annotation(x=0.0, y=0.5, xanchor="right", text=marks["left"], name="edge-left",
                       textangle=-90 if words else 0, **edge)
    fig.add_annotation(x=1.0, y=0.5, xanchor="left", text=marks["right"], name="edge-right",
                       textangle=90 if words else 0, **edge)
    x0, x1, y = scale_bar(plane)
    fig.add_shape(type="line", x0=x0, x1=x1, y0=y, y1=y, line={"color": "#FFFFFF", "width": 3},
                  name="scale-bar")
    fig.add_annotation(x=(x0 + x1) / 2, y=y, yanchor="bottom", text=f"{SCALE_BAR_MM:g} mm", showarrow=False,
                       font={"color": "#FFFFFF", "size": 13}, name="scale-bar-label")
    for nu, nv, text in notes:
        fig.add_annotation(x=nu, y=nv, text=text, showarrow=False, font={"color": "#FFFFFF", "size": 13},
                           bgcolor="rgba(0,0,0,0.6)")
    label_px = 0
    if measured is not None:
        label_px = LABEL_LINE_PX * (measured.label.count("<br>") + 1) + 8
        fig.add_annotation(x=0.5, y=0.0, xref="x domain", yref="y domain", yanchor="top", yshift=-EDGE_MARK_PX,
                           text=f"<b>{measured.label}</b>", showarrow=False, name="measure-label",
                           font={"color": "#111111", "size": 15}, bgcolor=MEASURE_COLOR,
                           bordercolor=MEASURE_HALO, borderwidth=1, borderpad=3)
    axis = {"visible": False, "showgrid": False, "zeroline": False, "fixedrange": True, "constrain": "domain"}
    side_px = SIDE_WORDS_PX if words else EDGE_MARK_PX
    fig.update_layout(
        title={"text": title, "x": 0.5, "xanchor": "center", "y": 1.0, "yanchor": "top", "yref": "container",
               "pad": {"t": 4}, "font": {"size": 17}},
        height=height,
        margin={"l": side_px, "r": side_px, "t": TITLE_PX + EDGE_MARK_PX, "b": EDGE_MARK_PX + label_px},
        plot_bgcolor=SOFT_TISSUE_GREY, paper_bgcolor="#FFFFFF",
        # On a narrow screen the picture is bound by the width: it stays under its title and the
        # spare height goes below the label.
        xaxis={**axis, "range": [u0, u1], "constraintoward": "center"},
        yaxis={**axis, "range": [v0, v1], "scaleanchor": "x", "scaleratio": 1, "constraintoward": "top"},
        showlegend=False, hovermode="closest", dragmode=False,
    )
    return fig


# Figure margins (px): the title, the orientation marks around the picture, the measurement label.
TITLE_PX: int = 28
EDGE_MARK_PX: int = 24
SIDE_WORDS_PX: int = 24
LABEL_LINE_PX: int = 22


def _draw_marks(fig: go.Figure, measured: Measured) -> None:
    """Each mark over a black halo (readable on white fluid and on grey bone): the measured value in
    yellow with end dots, what it is read against in thin white, an area's edge dotted yellow."""
    styles = {  # style -> (colour, width, halo width, end dots, dash)
        "main": (MEASURE_COLOR, 3.5, 7.0, True, "solid"),
        "guide": ("#FFFFFF", 1.6, 3.6, False, "dash"),
        "outline": (MEASURE_COLOR, 1.6, 0.0, False, "dot"),
    }
    # Outlines and guides first, so the measured value is drawn on top.
    for mark in sorted(measured.marks, key=lambda m: m.style == "main"):
        colour, width, halo, dots, dash = styles[mark.style]
        xs = [p[0] for p in mark.points]
        ys = [p[1] for p in mark.points]
        layers = ((MEASURE_HALO, halo, "solid"), (colour, width, dash)) if halo else ((colour, width, dash),)
        for c, w, d in layers:
            fig.add_trace(go.Scatter(
                x=xs, y=ys, mode="lines+markers" if dots else "lines",
                line={"color": c, "width": w, "dash": d},
                marker={"size": w + 3, "color": c, "symbol": "circle"},
                hoverinfo="text", text=f"{mark.name.replace('-', ' ')}: {mark.length_mm:.1f} mm",
                showlegend=False, meta={"mark": mark.name, "length_mm": round(mark.length_mm, 2),
                                        "halo": c == MEASURE_HALO},
            ))


def section_key(section: Section) -> list[tuple[str, str]]:
    """(colour, words) of each role shown, for a key under the pictures."""
    out: list[tuple[str, str]] = []
    for role in ROLE_ORDER:
        if section.by_role(role):
            fill, _, legend = ROLE_STYLE[role]
            out.append((fill, legend))
    return out


def lesion_side_in_picture(section: Section) -> str | None:
    """Which half of the picture (viewer's ``"left"``/``"right"``) holds most of the lesion."""
    lesion = section.union("lesion")
    if lesion.is_empty:
        return None
    return "right" if lesion.centroid.x > 0 else "left"


# --------------------------------------------------------------------------------------------
# Measurements drawn on the picture
# --------------------------------------------------------------------------------------------

# Measurement marks: yellow with a black halo, apart from the lesion's violet and the squeeze's
# magenta, and readable on the white sac as on the grey bone.
MEASURE_COLOR: str = "#FFD400"
MEASURE_HALO: str = "#000000"
BACK_EDGE_MM: float = 12.0  # how far the back-edge marks run along each body's back wall
ROMAN: dict[int, str] = {1: "I", 2: "II", 3: "III", 4: "IV", 5: "V"}
# Meyerding 1932: the slip of the upper body's back edge in % of the lower endplate's depth.
MEYERDING_RANGES: dict[int, tuple[float, float]] = {1: (0.0, 25.0), 2: (25.0, 50.0), 3: (50.0, 75.0),
                                                     4: (75.0, 100.0), 5: (100.0, float("inf"))}
WALL_ROLES: tuple[str, ...] = ("bone", "moved", "annulus", "nucleus", "ligament", "lesion")
FORAMEN_WALL_ROLES: tuple[str, ...] = ("bone", "moved", "annulus", "nucleus", "lesion")


@dataclass(frozen=True)
class Mark:
    """One measuring line on the picture (picture mm)."""

    name: str
    points: tuple[tuple[float, float], ...]
    style: str = "main"  # "main": the measured value (yellow); "guide": what it is read against
                         # (white: endplate, back edges); "outline": a measured area's edge (dotted)

    @property
    def length_mm(self) -> float:
        p = np.asarray(self.points, dtype=float)
        return float(np.linalg.norm(np.diff(p, axis=0), axis=1).sum())


@dataclass(frozen=True)
class Measured:
    """What a cut's measurement looks like on the picture: its marks and one label."""

    kind: str  # "slip", "foramen" or "canal"
    marks: tuple[Mark, ...]
    label: str  # lines separated by "<br>", each short enough for a phone's column
    value: float

    def mark(self, name: str) -> Mark | None:
        return next((m for m in self.marks if m.name == name), None)


def meyerding_words(slip_percent: float, grade: int | None) -> str:
    """The slip and its grade as the picture labels them ("Slip 38%: Meyerding grade II")."""
    if not grade:
        return "No forward slip: the back edges line up"
    suffix = " (spondyloptosis)" if grade == 5 else ""
    return f"Slip {slip_percent:.0f}%: Meyerding grade {ROMAN.get(grade, str(grade))}{suffix}"


def _in_plane(plane: SectionPlane, frame: Frame) -> tuple[NDArray[np.float64], NDArray[np.float64],
                                                         NDArray[np.float64]]:
    """A frame's origin and its front (+y) and up (+z) axes as picture coordinates and unit vectors."""
    o = plane.to_plane(frame.origin[None, :])[0]
    tips = plane.to_plane(frame.origin[None, :] + frame.axes[:, 1:3].T)
    front, up = tips[0] - o, tips[1] - o
    return o, front / np.linalg.norm(front), up / np.linalg.norm(up)


def _body_points(shape: MultiPolygon, origin: NDArray[np.float64], front: NDArray[np.float64]) -> NDArray[np.float64]:
    """Outline points (every 0.5 mm) of the piece of a bone's cut that reaches furthest forward:
    the vertebral body (the arch behind the canal is a separate piece in a midline cut)."""
    pieces = [p for p in shape.geoms if p.area > 20.0]
    if not pieces:
        return np.empty((0, 2))
    def reach(p: Polygon) -> float:
        return float(((np.asarray(p.exterior.coords) - origin) @ front).max())
    body = max(pieces, key=reach)
    return np.asarray(shapely.segmentize(body, 0.5).exterior.coords)


def endplate_edges(shape: MultiPolygon, frame: Frame, plane: SectionPlane, depth: float,
                   top: bool) -> tuple[NDArray[np.float64], NDArray[np.float64]] | None:
    """The back and front edges (picture mm) of a body's upper (``top``) or lower endplate in the
    picture, read as :mod:`explorer.anatomy.canal` reads them on the mesh: in the body's frame,
    the 3 mm band at the endplate, within the body's depth of its front; the band's most posterior
    and most anterior points."""
    o, front, up = _in_plane(plane, frame)
    pts = _body_points(shape, o, front)
    if len(pts) == 0:
        return None
    a, b = (pts - o) @ front, (pts - o) @ up
    keep = (b > -10.0) if top else (b < 0.0)
    if not keep.any():
        return None
    a, b, pts = a[keep], b[keep], pts[keep]
    body = a > a.max() - depth - 2.0
    a, b, pts = a[body], b[body], pts[body]
    band = (b > b.max() - 3.0) if top else (b < b.min() + 3.0)
    a, pts = a[band], pts[band]
    return pts[int(np.argmin(a))], pts[int(np.argmax(a))]


def _moved_frame(frame: Frame, level: str, posture: str) -> Frame:
    """The upper vertebra's frame carried with the segment's movement in ``posture``."""
    if posture == "neutral":
        return frame
    motion = segment_motion(level, posture)
    pts = motion.rigid(np.vstack([frame.origin, frame.origin + frame.axes.T]))
    return Frame(pts[0], (pts[1:] - pts[0]).T)


def slip_marks(section: Section, level: str, slip_percent: float, grade: int | None,
               posture: str = "neutral") -> Measured | None:
    """Meyerding's measurement on a midline sagittal cut.

    The upper endplate of the lower body is marked across its depth (as measured on the picture);
    the back edge of the lower body runs down from its back corner; the slip is the marked segment
    from there forward along the endplate, ``slip_percent`` of the endplate's depth (the number
    :func:`explorer.anatomy.canal.measure_canal` gives), and the back edge of the upper body rises
    from its end. Meyerding HW. Spondylolisthesis. Surg Gynecol Obstet. 1932;54:371-377.
    """
    upper, lower = disc_level_of(level).split("-")
    lower_id = "sacrum" if lower == "S1" else f"vertebra-{lower}"
    low_cut = section.get(lower_id)
    if low_cut is None or section.get(f"vertebra-{upper}") is None:
        return None
    layout = spine_layout()
    low_frame = layout.upper_endplate[lower]
    depth = S1_ENDPLATE_DEPTH if lower == "S1" else VERTEBRAE[lower].body_depth
    edges = endplate_edges(low_cut.shape, low_frame, section.plane, depth, top=True)
    if edges is None:
        return None
    back, front_edge = edges
    _, front, up = _in_plane(section.plane, low_frame)
    width = float((front_edge - back) @ front)
    end = back + front * width * slip_percent / 100.0
    # The upper body's back edge rises from the slip's end, square to the endplate, past the
    # upper body's back-lower corner (across the disc space) and up its back wall.
    corner = upper_back_corner(section, level, posture)
    rise = max(float((corner - end) @ up), 0.0) if corner is not None else 0.0
    marks = (
        Mark("endplate", (tuple(back), tuple(back + front * width)), "guide"),
        Mark("back-edge-lower", (tuple(back), tuple(back - up * BACK_EDGE_MM)), "guide"),
        Mark("back-edge-upper", (tuple(end), tuple(end + up * (rise + BACK_EDGE_MM))), "guide"),
        Mark("slip", (tuple(back), tuple(end))),
    )
    return Measured("slip", tuple(Mark(m.name, tuple((float(x), float(y)) for x, y in m.points), m.style)
                                  for m in marks), meyerding_words(slip_percent, grade), float(slip_percent))


def upper_back_corner(section: Section, level: str, posture: str = "neutral") -> NDArray[np.float64] | None:
    """The upper body's back-lower corner as the picture shows it (picture mm), to check the marks."""
    upper = disc_level_of(level).split("-")[0]
    cut = section.get(f"vertebra-{upper}")
    if cut is None:
        return None
    frame = _moved_frame(spine_layout().vertebra[upper], disc_level_of(level), posture)
    edges = endplate_edges(cut.shape, frame, section.plane, VERTEBRAE[upper].body_depth, top=False)
    return None if edges is None else edges[0]


def _free_piece(start: tuple[float, float], end: tuple[float, float], walls: object,
                anchor: tuple[float, float]) -> LineString | None:
    """The free stretch of a segment between ``walls`` nearest ``anchor`` (as canal.free_run)."""
    line = LineString([start, end])
    free = line.difference(walls) if not getattr(walls, "is_empty", True) else line
    pieces = [g for g in getattr(free, "geoms", [free]) if isinstance(g, LineString) and g.length > 0]
    if not pieces:
        return None
    return min(pieces, key=lambda g: g.distance(Point(anchor)))


def _walls(section: Section, roles: Iterable[str]) -> object:
    return shapely.union_all([s.shape for s in section.shapes if s.role in roles])


def foramen_marks(section: Section, level: str, height_mm: float, lee: int | None) -> Measured | None:
    """The foraminal height on a cut through the foramen: a vertical line from the lower border of
    the upper pedicle down to the next wall below (bone, disc or lesion), ``height_mm`` long (the
    number :func:`explorer.anatomy.canal.measure_canal` gives), on the line where the picture's own
    free height comes nearest it (Hasegawa 1995; grade: Lee 2010)."""
    upper = disc_level_of(level).split("-")[0]
    pedicle = section.get(f"vertebra-{upper}")
    if pedicle is None or section.plane.side is None:
        return None
    root = section.get(f"root-{upper}-{section.plane.side}")
    centre = root.shape.centroid if root is not None else pedicle.shape.centroid
    walls = _walls(section, FORAMEN_WALL_ROLES)
    best: tuple[float, float, float] | None = None  # (mismatch, u, top)
    # Lines from the root's back to well in front of it (the picture's u runs backwards).
    for du in np.arange(-30.0, 4.0, 0.5):
        u = float(centre.x + du)
        above = pedicle.shape.intersection(LineString([(u, centre.y - 2.0), (u, centre.y + 30.0)]))
        if above.is_empty:
            continue
        top = float(above.bounds[1])
        piece = _free_piece((u, top - 0.05), (u, top - 40.0), walls, (u, top - 0.1))
        run = piece.length if piece is not None else 0.0
        mismatch = abs(run - height_mm)
        if best is None or mismatch < best[0]:
            best = (mismatch, u, top)
    if best is None:
        return None
    _, u, top = best
    grade = f"<br>Lee grade {lee} of 3" if lee is not None else ""
    mark = Mark("foramen-height", ((u, top), (u, top - float(height_mm))))
    return Measured("foramen", (mark,), f"Foramen height {height_mm:.1f} mm{grade}", float(height_mm))


def canal_marks(section: Section, canal_ap_mm: float, sac_area_mm2: float, grade_words: str) -> Measured | None:
    """On an axial cut through a disc: the canal's front-to-back diameter in the midline, from the
    back of the disc (or whatever sits in front of the sac) backwards, ``canal_ap_mm`` long, and the
    outline of the sac left after every wall and lesion has taken its share, labelled with the area
    :func:`explorer.anatomy.canal.measure_canal` measured."""
    sac_shapes = section.union("sac")
    if sac_shapes.is_empty:
        return None
    walls = _walls(section, WALL_ROLES)
    upper = VERTEBRAE[section.plane.level.split("-")[0]]
    origin = Point(0.0, -(upper.body_depth / 2 + upper.canal_depth / 2))  # the canal's centre
    sac = min(sac_shapes.geoms, key=lambda g: g.distance(origin))
    residual = _as_multi(sac.difference(walls) if not getattr(walls, "is_empty", True) else sac)
    centre = sac.centroid
    piece = _free_piece((0.0, centre.y + 30.0), (0.0, centre.y - 30.0), walls, (0.0, centre.y))
    marks: list[Mark] = []
    if piece is not None:
        front = max(piece.coords, key=lambda c: c[1])[1]
        marks.append(Mark("canal-ap", ((0.0, float(front)), (0.0, float(front) - float(canal_ap_mm)))))
    for i, poly in enumerate(residual.geoms):
        ring = np.asarray(orient(poly, 1.0).exterior.coords)
        marks.append(Mark(f"sac-outline-{i}", tuple((float(x), float(y)) for x, y in ring), "outline"))
    label = f"Sac {sac_area_mm2:.0f} mm²: {grade_words}<br>Canal {canal_ap_mm:.1f} mm front to back"
    return Measured("canal", tuple(marks), label, float(sac_area_mm2))


def measured_marks(section: Section, measures: CanalMeasurements | None, plain: bool = False) -> Measured | None:
    """The measurement this cut shows, drawn from ``measures`` (``None``: nothing to draw);
    ``plain``: the label in patients' words (the same numbers)."""
    if measures is None:
        return None
    plane = section.plane
    level = measures.level
    out: Measured | None = None
    if plane.kind == "sagittal" and measures.slip_percent is not None:
        out = slip_marks(section, level, measures.slip_percent, measures.meyerding_grade, measures.posture)
    elif plane.kind == "parasagittal" and plane.side in measures.foraminal_height_mm:
        out = foramen_marks(section, level, measures.foraminal_height_mm[plane.side],
                            measures.lee_grade.get(plane.side))
    elif plane.kind == "axial" and "-" in plane.level:
        words = {"normal": "normal", "relative": "relative stenosis", "absolute": "absolute stenosis"}
        out = canal_marks(section, measures.canal_ap_mm, measures.sac_area_mm2,
                          words.get(measures.hamanishi, measures.hamanishi))
    if out is None or not plain:
        return out
    return replace(out, label=plain_label(out.kind, measures, plane.side))


PLAIN_SAC_WORDS: dict[str, str] = {"normal": "normal", "relative": "a little narrow", "absolute": "very narrow"}
PLAIN_LEE_WORDS: dict[int, str] = {0: "plenty of room", 1: "a little tight", 2: "tight", 3: "squashed"}


def plain_label(kind: str, measures: CanalMeasurements, side: str | None) -> str:
    """A picture's measurement label in patients' words (short lines, the same numbers)."""
    if kind == "slip":
        grade = measures.meyerding_grade
        if not grade or measures.slip_percent is None:
            return "No slip: the bones line up"
        return f"Slipped {measures.slip_percent:.0f}%: grade {ROMAN.get(grade, str(grade))} of V"
    if kind == "foramen" and side is not None:
        lee = measures.lee_grade.get(side)
        lee_words = f"<br>Grade {lee} of 3: {PLAIN_LEE_WORDS.get(lee, '')}" if lee is not None else ""
        return f"Nerve's exit hole: {measures.foraminal_height_mm[side]:.1f} mm high{lee_words}"
    return (f"Room for nerves: {measures.sac_area_mm2:.0f} mm², {PLAIN_SAC_WORDS.get(measures.hamanishi, '')}"
            f"<br>Canal depth: {measures.canal_ap_mm:.1f} mm")


# --------------------------------------------------------------------------------------------
# Which cut, and the meshes it cuts
# --------------------------------------------------------------------------------------------

FORAMINAL_ZONES: frozenset[str] = frozenset({"foraminal", "extraforaminal"})


def lesion_level(params: Mapping[str, str]) -> str | None:
    """The disc level a condition's lesion sits at (None when it has none, e.g. piriformis)."""
    level = params.get("level")
    return level if level in CUT_LEVELS else None


def cut_level(section_level: str | None, params: Mapping[str, str]) -> str:
    """Where to cut: the level asked for, else the lesion's level, else L4-L5."""
    return section_level or lesion_level(params) or DEFAULT_CUT_LEVEL


def disc_level_of(level: str) -> str:
    """The disc level a cut belongs to: itself, or for a body the disc below it (L4 -> L4-L5)."""
    if "-" in level:
        return level
    nxt = {"L1": "L2", "L2": "L3", "L3": "L4", "L4": "L5", "L5": "S1"}[level]
    return f"{level}-{nxt}"


def plane_for(section: str, level: str, params: Mapping[str, str], posture: str = "neutral") -> SectionPlane:
    """The plane of ``section`` (``axial`` or ``sagittal``) for a condition's parameters.

    A sagittal cut is the midline one (central lesions, slips), the parasagittal one through the
    foramen on the lesion's side for a foraminal or extraforaminal lesion (the foraminal height and
    the root in it show there, not in the midline), or one through the lateral recess for a
    lateral recess stenosis.
    """
    if section == "axial":
        return section_plane("axial", level, posture=posture)
    side = params.get("side")
    if side in ("left", "right"):
        if params.get("zone") in FORAMINAL_ZONES:
            return section_plane("parasagittal", level, side)
        if params.get("zone") == "lateral_recess":
            return section_plane("recess", level, side)
    return section_plane("sagittal", level)


def plane_words(plane: SectionPlane) -> str:
    """The cut in words, with how it is seen ("Axial cut through L4-L5, seen from below as on a scan")."""
    if plane.kind == "axial":
        return f"Axial cut through {plane.level}, seen from below as on a scan"
    if plane.kind == "parasagittal":
        return (f"Sagittal cut through the {plane.side} {plane.level} foramen, seen from the patient's left "
                "as on a scan")
    if plane.kind == "recess":
        return (f"Sagittal cut through the {plane.side} lateral recess at {plane.level}, seen from the patient's "
                "left as on a scan")
    return f"Midline sagittal cut through {plane.level}, seen from the patient's left as on a scan"


NERVE_ROLES: frozenset[str] = frozenset({"root", "cauda"})


def section_meshes(model: SpineModel, level: str, posture: str, lesion: object = None) -> dict[str, pv.PolyData]:
    """Every mesh a section may cut, with the segment at disc ``level`` in ``posture``.

    The segment's own meshes (its two bones, disc, sac, roots, ligamentum flavum and the lesion)
    come from :func:`explorer.anatomy.posture.posed_level`. The rest of the model follows the same
    movement, so a sagittal cut stays whole: bones and discs above the disc turn with the vertebra
    above, nerves that pass through the level (the sacral roots in the sac) bend as soft tissue,
    and everything below stays put.

    Parameters
    ----------
    model : SpineModel
        The neutral model (never modified).
    level : str
        A disc level (``"L4-L5"``).
    posture : str
        ``"flexion"``, ``"neutral"`` or ``"extension"``.
    lesion : pyvista.PolyData or Lesion, optional
        As for ``posed_level``: a condition's lesion (its compressors become ``"lesion"``, its
        replaced meshes such as a slipped vertebra stand in for the model's).
    """
    posed = posed_level(model, level, posture, lesion)
    replaced: Mapping[str, pv.PolyData] = getattr(lesion, "replaced", {}) or {}
    out: dict[str, pv.PolyData] = {}
    motion = segment_motion(level, posture) if posture != "neutral" else None
    centre = spine_layout().disc[level]
    for sid, mesh in model.polydata.items():
        if sid in posed:
            continue
        mesh = replaced.get(sid, mesh)
        role = role_of(sid)
        if role is None:
            continue
        if motion is not None:
            pts = np.asarray(mesh.points, dtype=float)
            if role in NERVE_ROLES:
                mesh = pv.PolyData(motion.soft(pts), mesh.faces)
            elif float(centre.to_local(pts.mean(axis=0, keepdims=True))[0, 2]) > 0:
                mesh = pv.PolyData(motion.rigid(pts), mesh.faces)
        out[sid] = mesh
    out.update(posed)
    return out

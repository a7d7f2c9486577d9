"""From the model, the state and a condition's impact to what the 3D scene shows (colours,
opacity, visibility, per-vertex highlight) and its text equivalent. Pure: no Streamlit; Plotly only
through ``scene3d``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from explorer import settings
from explorer.anatomy.model import MeshData, SpineModel
from explorer.anatomy.structures import STRUCTURES, Structure
from explorer.conditions.explain import degree_word
from explorer.conditions.simulate import Impact
from explorer.render.labels import root_words
from explorer.render.memo import Memo
from explorer.render.scene3d import SceneItem
from explorer.render.story import BUNDLE_KINDS, StoryView, squeezed_nerves, story_view
from explorer.state import ExplorerState

LESION_COLOR: str = "#7B5EA7"  # violet: disc material and stenotic tissue, apart from bone, nerve and muscle
DIMMED_OPACITY_FACTOR: float = 0.18
SCIATIC_ROOTS: frozenset[str] = frozenset({"L4", "L5", "S1", "S2", "S3"})  # the sacral plexus roots of the sciatic nerve
CARRIED_ON_FACTOR: float = 0.5  # the sciatic nerve downstream of a squeezed root is lit at half its degree
SCENE_MARGIN_MM: float = 10.0
# Symptoms mode lights roots by how well they fit the marked symptoms, not by a squeeze: its legend
# says so (the colour scale is the same).
FIT_LEGEND_TITLE: str = "fits the symptoms"
FIT_LEGEND_ENDS: tuple[str, str] = ("less", "best")
# Kinds a condition can light or press (squeezed_highlight, Impact.compressed): their traces always
# carry a highlight (zeros when healthy), so a condition change only updates the values.
HIGHLIGHTABLE_KINDS: frozenset[str] = frozenset({"root", "sciatic", "thecal-sac", "cauda-equina", "conus"})


# Lesion meshes as arrays, per mesh object (kept with its entry, so its id is not reused): the
# same arrays on every rerun let the scene's packed geometry be remembered (scene3d._blob).
_MESH_DATA: Memo[tuple[Any, MeshData]] = Memo(256)


def mesh_data(mesh: Any) -> MeshData:
    """:meth:`MeshData.from_polydata`, once per mesh object (shared: never mutate the arrays)."""
    hit = _MESH_DATA.get(id(mesh))
    if hit is not None and hit[0] is mesh:
        return hit[1]
    data = MeshData.from_polydata(mesh)
    _MESH_DATA.put(id(mesh), (mesh, data))
    return data


def _palette_key(s: Structure) -> str:
    return "muscle" if s.kind == "piriformis" else s.kind


def item_style(s: Structure, state: ExplorerState) -> tuple[str, float]:
    """Colour and opacity of a structure in this state."""
    color = settings.SELECTED_COLOR if state.selected == s.id else settings.PALETTE[_palette_key(s)]
    opacity = settings.OPACITY.get(s.kind, 1.0)
    if s.layer in settings.BONE_LAYERS:
        opacity = state.bone_opacity
    return color, opacity


def hover_text(s: Structure) -> str:
    """What hovering a structure shows: its name."""
    return s.name


def model_box(model: SpineModel) -> tuple[float, ...]:
    """The scene's fixed extent (mm), so layers and lesions never rescale the view."""
    pts = np.vstack([m.vertices for m in model.meshes.values()])
    lo, hi = pts.min(axis=0) - SCENE_MARGIN_MM, pts.max(axis=0) + SCENE_MARGIN_MM
    return (lo[0], hi[0], lo[1], hi[1], lo[2], hi[2])


def squeeze_intensity(degree: float, vertex_degree: np.ndarray | None, n_vertices: int) -> np.ndarray:
    """Per-vertex highlight of a squeezed nerve: the whole structure at its degree, deepest where pressed.

    The whole root carries 80% of its measured degree, rising to the full degree at the point of
    compression, never below :data:`settings.SQUEEZE_FLOOR` (so slight still shows magenta).
    """
    base = np.full(n_vertices, 0.8 * degree, dtype=np.float32)
    if vertex_degree is not None and len(vertex_degree) == n_vertices and float(vertex_degree.max()) > 0:
        local = np.clip(vertex_degree / float(vertex_degree.max()), 0.0, 1.0)
        base = base + 0.2 * degree * local.astype(np.float32)
    return np.clip(base, settings.SQUEEZE_FLOOR, 1.0).astype(np.float32)


def squeeze_legend(title: str = settings.SQUEEZE_LEGEND_TITLE,
                   ends: tuple[str, str] = settings.SQUEEZE_LEGEND_ENDS) -> dict[str, Any]:
    """The colour bar "squeezed: slight -> severe" (Plotly ``colorbar``), across the bottom right.

    Parameters
    ----------
    title, ends
        What the colour means and the words at its light and deep ends (symptoms mode:
        :data:`FIT_LEGEND_TITLE`, :data:`FIT_LEGEND_ENDS`).
    """
    lo, hi = ends
    font = {"size": settings.LABEL_FONT_PX - 1, "color": settings.LABEL_TEXT_COLOR}
    return {
        "orientation": "h", "title": {"text": title, "side": "top", "font": font},
        # The end words sit inside the bar's ends, and may reach past them into the padding:
        # Plotly hides a tick label that overflows its axis by default ("severe" went missing).
        "tickvals": [settings.SQUEEZE_FLOOR + 0.1, 0.9], "ticktext": [lo, hi], "tickfont": font,
        "ticklabeloverflow": "allow",
        "len": 0.34, "lenmode": "fraction", "thickness": 12, "x": 0.975, "xanchor": "right", "y": 0.015,
        "yanchor": "bottom", "bgcolor": settings.LABEL_BACKGROUND, "outlinewidth": 0, "ticks": "", "xpad": 22,
        "ypad": 6,
    }


def carried_on(squeezed: Mapping[str, float]) -> dict[str, float]:
    """The sciatic nerve that carries a squeezed L4-S3 root's fibres on into the leg, at half its degree."""
    out: dict[str, float] = {}
    for sid, degree in squeezed.items():
        s = STRUCTURES[sid]
        target = f"sciatic-{s.side}"
        if s.kind == "root" and s.level in SCIATIC_ROOTS and target in STRUCTURES and target not in squeezed:
            out[target] = max(out.get(target, 0.0), CARRIED_ON_FACTOR * degree)
    return out


def squeezed_highlight(impact: Impact | None, lit: Mapping[str, float] | None = None) -> dict[str, float]:
    """Structure id -> strength 0..1 of the whole-structure magenta: squeezed nerves (and, lighter,
    the sciatic nerve their fibres run on in), or ``lit``."""
    out: dict[str, float] = {}
    if impact is not None:
        squeezed = {sid: d for sid, d in squeezed_nerves(impact).items() if STRUCTURES[sid].kind not in BUNDLE_KINDS}
        out.update(carried_on(squeezed))
        out.update(squeezed)
    for sid, strength in (lit or {}).items():
        if sid in STRUCTURES:
            out[sid] = max(out.get(sid, 0.0), float(np.clip(strength, 0.0, 1.0)))
    return out


def scene_items(model: SpineModel, state: ExplorerState, impact: Impact | None = None,
                lit: Mapping[str, float] | None = None, story: StoryView | None = None) -> list[SceneItem]:
    """One scene item per structure (visible when its layer is on), plus the lesion itself.

    Parameters
    ----------
    model, state, impact
        The meshes, what the person looks at, and what the condition did (or ``None``).
    lit : mapping of str to float, optional
        Structure id -> strength 0..1: whole structures to light in the squeeze colours without a
        condition (the symptoms mode lights the best-fitting roots).
    story : StoryView, optional
        The view the camera was framed for; what stands between it and the targets is made
        see-through (:data:`settings.SEE_THROUGH_OPACITY`).

    Notes
    -----
    Squeezed nerves are lit whole in :data:`settings.SQUEEZE_COLORSCALE` at their measured
    degree (deepest where pressed); a squeezed dural sac keeps the local highlight only (lit
    whole, it would veil the roots inside). The first lit nerve carries the legend. With
    ``dim_others`` everything that is neither lesion nor squeezed fades.
    """
    replaced: Mapping[str, MeshData] = {}
    local: dict[str, np.ndarray] = {}
    if impact is not None:
        replaced = {sid: mesh_data(m) for sid, m in impact.lesion.replaced.items()}
        local = {c.id: c.vertex_degree for c in impact.compressed}
    whole = squeezed_highlight(impact, lit)
    see_through = set(story.see_through) if story is not None else set()
    items: list[SceneItem] = []
    legend_given = False
    for sid, s in STRUCTURES.items():
        mesh = replaced.get(sid) or model.meshes.get(sid)
        if mesh is None:
            continue
        color, opacity = item_style(s, state)
        intensity = local.get(sid)
        if intensity is not None and len(intensity) != len(mesh.vertices):
            intensity = None  # a replaced mesh no longer matches the measured vertices
        colorscale = None
        colorbar = None
        hover = s.name
        if sid in whole:
            intensity = squeeze_intensity(whole[sid], intensity, len(mesh.vertices))
            colorscale = settings.SQUEEZE_COLORSCALE
            if sid in local:
                hover = f"{s.name}: {degree_word(whole[sid])} squeezed"
            elif impact is not None:
                hover = f"{s.name}: carries the squeezed root's fibres into the leg"
            else:
                hover = f"{s.name}: lit"
            opacity = 1.0
            if not legend_given and s.layer in state.layers:
                # Lit without a condition (symptoms mode), the colour tells the fit, not a squeeze.
                legend = squeeze_legend() if impact is not None else squeeze_legend(FIT_LEGEND_TITLE, FIT_LEGEND_ENDS)
                colorbar, legend_given = legend, True
        elif intensity is not None:
            hover = f"{s.name}: squeezed"
        if sid in see_through:
            opacity = min(opacity, settings.SEE_THROUGH_OPACITY)
        if state.dim_others and (impact is not None or lit) and sid not in local and sid not in replaced \
                and sid not in whole:
            opacity *= DIMMED_OPACITY_FACTOR
        items.append(SceneItem(id=sid, name=s.name, vertices=mesh.vertices, faces=mesh.faces, color=color,
                               opacity=opacity, visible=s.layer in state.layers, hover=hover, intensity=intensity,
                               colorscale=colorscale, colorbar=colorbar,
                               highlightable=s.kind in HIGHLIGHTABLE_KINDS))
    if impact is not None:
        shown = {id(m) for m in impact.lesion.replaced.values()}
        for lid, mesh in impact.lesion.compressors.items():
            if id(mesh) in shown:
                continue
            data = mesh_data(mesh)
            name = impact.lesion.names.get(lid, "Lesion")
            items.append(SceneItem(id=lid, name=name, vertices=data.vertices, faces=data.faces, color=LESION_COLOR,
                                   opacity=0.95, visible=True, hover=name))
    return items


def describe_scene(model: SpineModel, state: ExplorerState, impact: Impact | None = None,
                   story: StoryView | None = None, lit: Mapping[str, float] | None = None,
                   camera_on_story: bool = True) -> str:
    """A plain-text description of the 3D view, for screen readers and tests.

    It says from where the view looks (the story view for a condition, unless the person picked a
    preset: ``camera_on_story=False``), what is made see-through, and what is lit and why.
    """
    shown = [settings.LAYER_LABELS[layer].lower() for layer in settings.LAYERS if layer in state.layers]
    visible = [s for s in STRUCTURES.values() if s.layer in state.layers and s.id in model.meshes]
    levels = sorted({s.level for s in visible if s.kind == "vertebra" and s.level})
    roots = sorted({s.level for s in visible if s.kind == "root" and s.level}, key=lambda r: (r[0] != "L", r))
    if impact is not None and story is None:
        story = story_view(model, impact, settings.STORY_VIEW_ASPECT)
    if story is not None and camera_on_story:
        parts = [f"3D model of the lower back seen {story.phrase}, close in on the lesion and the squeezed nerve."]
    else:
        parts = [f"3D model of the lower back seen {settings.CAMERA_PHRASES[state.view]}."]
    parts.append("All layers are hidden." if not shown else "Showing " + ", ".join(shown) + ".")
    if levels:
        parts.append(f"Vertebrae {levels[0]} to {levels[-1]} sit on the sacrum.")
    if "pelvis" in state.layers:
        parts.append("The hip bones and the upper thigh bones (femurs) frame the sacrum.")
    if any(s.kind == "disc" for s in visible):
        parts.append("A disc lies between each pair of vertebrae, its soft centre (nucleus) visible through the outer ring.")
    if roots:
        parts.append(
            f"Nerve roots {roots[0]} to {roots[-1]} on both sides leave the dural sac; each lumbar root exits "
            "below the pedicle of its own vertebra (L4 at L4-L5, L5 at L5-S1). The L4, L5 and S1-S3 roots "
            "join into the sciatic nerve, which leaves the pelvis below the piriformis muscle."
        )
    if impact is not None:
        names = list(impact.lesion.names.values())
        parts.append(f"Shown in violet: {'; '.join(names)}.")
        words = [w for sid, w in root_words(impact).items() if sid in squeezed_nerves(impact)]
        if words:
            parts.append("Lit in magenta, deeper the harder it is squeezed: " + "; ".join(words) + ".")
            carried = carried_on(squeezed_nerves(impact))
            if carried:
                names = [STRUCTURES[sid].name for sid in carried]
                parts.append(f"Lighter magenta: {', '.join(names)}, which carries those fibres on into the leg.")
        else:
            parts.append("No nerve is squeezed at this severity.")
        if story is not None and story.see_through:
            hidden = [STRUCTURES[sid].name for sid in story.see_through
                      if sid in STRUCTURES and STRUCTURES[sid].layer in state.layers]
            if hidden:
                parts.append("Made see-through so the lesion and the nerve show: " + ", ".join(hidden) + ".")
    elif lit:
        names = [STRUCTURES[sid].name for sid in sorted(lit, key=lambda k: -lit[k]) if sid in STRUCTURES]
        if names:
            parts.append("Lit in magenta (the roots that best fit the marked symptoms): " + ", ".join(names) + ".")
    if state.selected:
        parts.append(f"Selected: {STRUCTURES[state.selected].name}.")
    return " ".join(parts)

"""From the model, the state and a condition's impact to what the 3D scene shows (colours,
opacity, visibility, per-vertex highlight) and its text equivalent. Pure: no Streamlit; Plotly only
through ``scene3d``.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from explorer import settings
from explorer.anatomy.model import MeshData, SpineModel
from explorer.anatomy.structures import STRUCTURES, Structure
from explorer.conditions.simulate import Impact
from explorer.render.scene3d import SceneItem, scene_point
from explorer.state import ExplorerState

LESION_COLOR: str = "#7B5EA7"  # violet: disc material and stenotic tissue, apart from bone, nerve and muscle
DIMMED_OPACITY_FACTOR: float = 0.18
SCENE_MARGIN_MM: float = 10.0
FOCUS_DISTANCE: float = 0.85  # how close "go to the lesion" brings the camera (normalised units)


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


def scene_items(model: SpineModel, state: ExplorerState, impact: Impact | None = None) -> list[SceneItem]:
    """One scene item per structure (visible when its layer is on), plus the lesion itself.

    Compressed structures carry their per-vertex degree as the highlight; with ``dim_others`` the
    rest fades so the lesion and the squeezed nerve stand out.
    """
    replaced: Mapping[str, MeshData] = {}
    highlight: dict[str, np.ndarray] = {}
    if impact is not None:
        replaced = {sid: MeshData.from_polydata(m) for sid, m in impact.lesion.replaced.items()}
        highlight = {c.id: c.vertex_degree for c in impact.compressed}
    items: list[SceneItem] = []
    for sid, s in STRUCTURES.items():
        mesh = replaced.get(sid) or model.meshes.get(sid)
        if mesh is None:
            continue
        color, opacity = item_style(s, state)
        intensity = highlight.get(sid)
        if intensity is not None and len(intensity) != len(mesh.vertices):
            intensity = None  # a replaced mesh no longer matches the measured vertices
        if state.dim_others and impact is not None and sid not in highlight and sid not in replaced:
            opacity *= DIMMED_OPACITY_FACTOR
        name = s.name if intensity is None else f"{s.name}: squeezed"
        items.append(SceneItem(id=sid, name=s.name, vertices=mesh.vertices, faces=mesh.faces, color=color,
                               opacity=opacity, visible=s.layer in state.layers, hover=name, intensity=intensity))
    if impact is not None:
        shown = {id(m) for m in impact.lesion.replaced.values()}
        for lid, mesh in impact.lesion.compressors.items():
            if id(mesh) in shown:
                continue
            data = MeshData.from_polydata(mesh)
            name = impact.lesion.names.get(lid, "Lesion")
            items.append(SceneItem(id=lid, name=name, vertices=data.vertices, faces=data.faces, color=LESION_COLOR,
                                   opacity=0.95, visible=True, hover=name))
    return items


def focus_camera(view_camera: Mapping[str, Mapping[str, float]], focus_mm: np.ndarray,
                 box: tuple[float, ...]) -> dict[str, dict[str, float]]:
    """A camera looking at the lesion from the current preset's direction, closer in."""
    center = scene_point(focus_mm, box)
    eye = np.array([view_camera["eye"][k] for k in "xyz"]) - np.array([view_camera.get("center", {}).get(k, 0.0)
                                                                      for k in "xyz"])
    eye = eye / np.linalg.norm(eye) * FOCUS_DISTANCE
    return {"eye": {k: center[k] + float(v) for k, v in zip("xyz", eye)}, "center": center,
            "up": dict(view_camera["up"])}


def describe_scene(model: SpineModel, state: ExplorerState, impact: Impact | None = None) -> str:
    """A plain-text description of the 3D view, for screen readers and tests."""
    shown = [settings.LAYER_LABELS[layer].lower() for layer in settings.LAYERS if layer in state.layers]
    visible = [s for s in STRUCTURES.values() if s.layer in state.layers and s.id in model.meshes]
    levels = sorted({s.level for s in visible if s.kind == "vertebra"})
    roots = sorted({s.level for s in visible if s.kind == "root"}, key=lambda r: (r[0] != "L", r))
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
        squeezed = [c.name for c in impact.compressed if STRUCTURES[c.id].kind in ("root", "sciatic")]
        parts.append(f"Shown in violet: {'; '.join(names)}.")
        if squeezed:
            parts.append("Highlighted in magenta where squeezed: " + ", ".join(squeezed) + ".")
    if state.selected:
        parts.append(f"Selected: {STRUCTURES[state.selected].name}.")
    return " ".join(parts)

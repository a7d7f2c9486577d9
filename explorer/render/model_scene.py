"""From the model and the state to what the 3D scene shows (colours, opacity, visibility) and
its text equivalent. Pure: no Streamlit; Plotly only through ``scene3d``.
"""

from __future__ import annotations

from explorer import settings
from explorer.anatomy.model import SpineModel
from explorer.anatomy.structures import STRUCTURES, Structure
from explorer.render.scene3d import SceneItem
from explorer.state import ExplorerState


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
    """What hovering a structure shows: its name and, for nerves, the level."""
    return s.name


def scene_items(model: SpineModel, state: ExplorerState) -> list[SceneItem]:
    """One scene item per structure, visible when its layer is switched on."""
    items: list[SceneItem] = []
    for sid, s in STRUCTURES.items():
        mesh = model.meshes.get(sid)
        if mesh is None:
            continue
        color, opacity = item_style(s, state)
        items.append(
            SceneItem(
                id=sid,
                name=s.name,
                vertices=mesh.vertices,
                faces=mesh.faces,
                color=color,
                opacity=opacity,
                visible=s.layer in state.layers,
                hover=hover_text(s),
            )
        )
    return items


def describe_scene(model: SpineModel, state: ExplorerState) -> str:
    """A plain-text description of the 3D view, for screen readers and tests."""
    shown = [settings.LAYER_LABELS[layer].lower() for layer in settings.LAYERS if layer in state.layers]
    visible = [s for s in STRUCTURES.values() if s.layer in state.layers and s.id in model.meshes]
    levels = sorted({s.level for s in visible if s.kind == "vertebra"})
    roots = sorted({s.level for s in visible if s.kind == "root"}, key=lambda r: (r[0] != "L", r))
    parts = [f"3D model of the lower back seen {settings.CAMERA_PHRASES[state.view]}."]
    if not shown:
        parts.append("All layers are hidden.")
    else:
        parts.append("Showing " + ", ".join(shown) + ".")
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
    if state.selected:
        parts.append(f"Selected: {STRUCTURES[state.selected].name}.")
    return " ".join(parts)

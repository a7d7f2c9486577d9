"""The 3D view on the page: picks the camera for this state and hands the figure to the viewer."""

from __future__ import annotations

import streamlit as st

from explorer import settings
from explorer.anatomy.model import SpineModel
from explorer.anatomy.structures import STRUCTURES
from explorer.conditions.simulate import Impact
from explorer.render.model_scene import describe_scene, focus_camera, scene_items
from explorer.render.scene3d import build_scene_figure
from explorer.state import ExplorerState
from explorer.ui.resources import get_box
from explorer.ui.viewer3d import spine_viewer

VIEWER_HEIGHT_PX = 640


def _on_structure_clicked() -> None:
    event = st.session_state.get("viewer")
    clicked = getattr(event, "clicked", None) if event is not None else None
    if isinstance(clicked, dict) and clicked.get("id") in STRUCTURES:
        st.session_state["selected"] = clicked["id"]


def viewer_panel(model: SpineModel, state: ExplorerState, impact: Impact | None,
                 height_px: int = VIEWER_HEIGHT_PX) -> None:
    """Draw the 3D viewer for this state (the camera only moves when a camera request is new)."""
    box = get_box()
    camera = settings.CAMERA_PRESETS[state.view]
    if impact is not None and st.session_state.get("camera_focus"):
        camera = focus_camera(camera, impact.lesion.focus, box)
    figure = build_scene_figure(scene_items(model, state, impact), camera, height_px=height_px, box=box)
    spine_viewer(figure, camera_request=camera, camera_request_id=st.session_state.get("camera_request_id", 0),
                 key="viewer", height_px=height_px, description=describe_scene(model, state, impact),
                 on_click=_on_structure_clicked)

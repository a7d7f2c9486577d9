"""The page layout: sidebar controls, the 3D view, and the panels beside it."""

from __future__ import annotations

import streamlit as st

from explorer import settings
from explorer.anatomy.model import SpineModel, load_model
from explorer.anatomy.structures import STRUCTURES
from explorer.render.model_scene import describe_scene, scene_items
from explorer.render.scene3d import build_scene_figure
from explorer.state import ExplorerState
from explorer.ui.controls import sidebar_controls, sync_url
from explorer.ui.viewer3d import spine_viewer

DISCLAIMER = (
    "For education only. This model is a simplified, average adult spine; it is not medical advice "
    "and cannot diagnose you. If you have back or leg symptoms, see a health professional."
)
VIEWER_HEIGHT_PX = 720


@st.cache_resource(show_spinner="Loading the 3D model...")
def get_model() -> SpineModel:
    """The baked meshes, shared by every session (never mutate them)."""
    return load_model()


def _on_structure_clicked() -> None:
    event = st.session_state.get("viewer")
    clicked = getattr(event, "clicked", None) if event is not None else None
    if isinstance(clicked, dict) and clicked.get("id") in STRUCTURES:
        st.session_state["selected"] = clicked["id"]


def _selection_panel(state: ExplorerState) -> None:
    st.subheader("Selected structure")
    if not state.selected:
        st.write("Click a structure in the 3D view to select it. Hover over it to see its name.")
        return
    s = STRUCTURES[state.selected]
    st.markdown(f"**{s.name}**")
    facts = [f"Layer: {settings.LAYER_LABELS[s.layer].lower()}"]
    if s.level:
        facts.append(f"Level: {s.level}")
    if s.side:
        facts.append(f"Side: patient's {s.side}")
    st.write(" · ".join(facts))
    if st.button("Clear selection", key="clear_selection"):
        st.session_state["selected"] = None
        st.rerun()


def main() -> None:
    st.set_page_config(page_title="Lumbar Explorer", page_icon=":bone:", layout="wide",
                       initial_sidebar_state="expanded")
    model = get_model()
    state, url_errors = sidebar_controls()
    sync_url(state)

    st.title("Lumbar Explorer")
    st.caption("The lower back and its nerves in 3D: drag to rotate, scroll to zoom, click a structure to select it.")
    for message in url_errors:
        st.warning(message)
    for message in model.messages:
        st.info(message)

    view_col, side_col = st.columns([3, 1], gap="medium")
    with view_col:
        figure = build_scene_figure(scene_items(model, state), settings.CAMERA_PRESETS[state.view],
                                    height_px=VIEWER_HEIGHT_PX)
        spine_viewer(figure, camera_request=settings.CAMERA_PRESETS[state.view],
                     camera_request_id=st.session_state.get("camera_request_id", 0),
                     key="viewer", height_px=VIEWER_HEIGHT_PX,
                     description=describe_scene(model, state), on_click=_on_structure_clicked)
    with side_col:
        _selection_panel(state)
        st.subheader("What you are looking at")
        st.write(describe_scene(model, state))
    st.divider()
    st.caption(DISCLAIMER)

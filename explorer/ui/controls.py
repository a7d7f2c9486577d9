"""Sidebar widgets and the two-way link between them, ExplorerState and the URL."""

from __future__ import annotations

import streamlit as st

from explorer import settings
from explorer.state import ExplorerState, parse_query_params, to_query_params

OPACITY_LABELS: dict[float, str] = {1.0: "Solid", 0.6: "See-through", 0.3: "Faint"}


def _init_from_url() -> None:
    """On a session's first run, seed the widgets from the link it was opened with."""
    if st.session_state.get("_initialised"):
        return
    parsed = parse_query_params(st.query_params.to_dict())
    s = parsed.state
    for layer in settings.LAYERS:
        st.session_state[f"layer_{layer}"] = layer in s.layers
    st.session_state["bone_opacity"] = s.bone_opacity
    st.session_state["view"] = s.view
    st.session_state["selected"] = s.selected
    st.session_state["camera_request_id"] = 0
    st.session_state["url_errors"] = parsed.errors
    st.session_state["_initialised"] = True


def _on_view_change() -> None:
    # A new request id tells the viewer to move the camera; otherwise it keeps the person's view.
    st.session_state["camera_request_id"] = st.session_state.get("camera_request_id", 0) + 1


def sidebar_controls() -> tuple[ExplorerState, tuple[str, ...]]:
    """Draw the sidebar and return the current state plus any problems with the opening link."""
    _init_from_url()
    with st.sidebar:
        st.header("Show")
        for layer in settings.LAYERS:
            st.checkbox(settings.LAYER_LABELS[layer], key=f"layer_{layer}")
        st.select_slider("Bone opacity", options=list(settings.BONE_OPACITY_CHOICES), key="bone_opacity",
                         format_func=lambda v: OPACITY_LABELS.get(v, f"{v:g}"),
                         help="Make the bones see-through so the nerves inside show.")
        st.header("View")
        st.radio("Camera", options=list(settings.CAMERA_PRESETS), key="view",
                 format_func=lambda v: settings.CAMERA_LABELS[v], on_change=_on_view_change,
                 label_visibility="collapsed")
        st.button("Reset camera to this view", on_click=_on_view_change, key="reset_camera")
    state = ExplorerState(
        view=st.session_state["view"],
        layers=tuple(layer for layer in settings.LAYERS if st.session_state[f"layer_{layer}"]),
        bone_opacity=float(st.session_state["bone_opacity"]),
        selected=st.session_state.get("selected"),
    )
    return state, tuple(st.session_state.get("url_errors", ()))


def sync_url(state: ExplorerState) -> None:
    """Write the state into the URL so the view can be bookmarked and shared."""
    wanted = to_query_params(state)
    if st.query_params.to_dict() != wanted:
        st.query_params.from_dict(wanted)

"""The 3D view on the page: picks the camera for this state and hands the figure to the viewer.

A condition tells its story by itself: when the condition or its parameters change (and on the
first run of a session opened from a link), the camera moves to the condition's story view
(:mod:`explorer.render.story`), framed on the lesion and the squeezed nerve. Anything else (layers,
opacity, audience, a click) leaves the camera where the person put it. "Go to the lesion" also
returns to the story view; a preset view button shows that preset.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import streamlit as st

from explorer import settings
from explorer.anatomy.model import SpineModel
from explorer.anatomy.structures import STRUCTURES
from explorer.conditions.simulate import Impact
from explorer.frontend.transport import ScenePayload
from explorer.render.labels import VIEW_H, VIEW_W, scene_labels
from explorer.render.memo import Memo
from explorer.render.model_scene import describe_scene, scene_items
from explorer.render.scene3d import build_scene_payload
from explorer.render.story import plotly_camera, story_view, view_from
from explorer.state import ExplorerState
from explorer.ui.events import clicked_id
from explorer.ui.resources import get_box
from explorer.ui.viewer3d import spine_viewer

VIEWER_HEIGHT_PX = 640
STORY_KEY = "viewer_story_for"  # the (condition, params) the camera was last sent to

# The 3D view of a state (scene payload, its words, its camera), built once per process and shared
# by every session in that state (issue 14: most of a rerun's server CPU was rebuilding it).
_VIEWS: Memo[tuple[object, object, ScenePayload, str, Mapping[str, Any]]] = Memo(128)


def on_structure_clicked() -> None:
    # The event comes from the browser: clicked_id validates it (a known structure id or None).
    sid = clicked_id(st.session_state.get("viewer"), STRUCTURES)
    if sid is not None:
        st.session_state["selected"] = sid


def _story_requested(state: ExplorerState, impact: Impact | None) -> None:
    """A new condition or new parameters (or a first run from a link): ask for the story view."""
    shown = (state.condition, state.params) if impact is not None else None
    if shown is None or st.session_state.get(STORY_KEY) == shown:
        if shown is None:
            st.session_state[STORY_KEY] = None
        return
    st.session_state[STORY_KEY] = shown
    st.session_state["camera_request_id"] = st.session_state.get("camera_request_id", 0) + 1
    st.session_state["camera_focus"] = True  # the story view; a preset button sets it back to False


def viewer_panel(model: SpineModel, state: ExplorerState, impact: Impact | None,
                 height_px: int = VIEWER_HEIGHT_PX, lit: Mapping[str, float] | None = None) -> str:
    """Draw the 3D viewer for this state (the camera only moves when a camera request is new).

    Parameters
    ----------
    model, state, impact
        The meshes, the state and the condition's impact (``None`` for the healthy spine).
    height_px : int
        Height of the 3D view.
    lit : mapping of str to float, optional
        Structure id -> strength 0..1: whole structures to light without a condition (symptoms mode).

    Returns
    -------
    str
        The text description of what the view shows (from where, what is see-through, what is lit):
        the screen reader's label, for the page to show as text too.
    """
    _story_requested(state, impact)
    focus = bool(st.session_state.get("camera_focus"))
    lit_key = tuple(sorted((str(k), float(v)) for k, v in lit.items())) if lit else None
    key = (id(model), id(impact), state, focus, lit_key, int(height_px))
    hit = _VIEWS.get(key)
    if hit is None or hit[0] is not model or hit[1] is not impact:  # ids are only reused once freed
        payload, description, camera = _build_view(model, state, impact, height_px, lit, focus)
        hit = _VIEWS.put(key, (model, impact, payload, description, camera))
    _, _, payload, description, camera = hit
    spine_viewer(payload, camera_request=camera, camera_request_id=st.session_state.get("camera_request_id", 0),
                 key="viewer", height_px=height_px, description=description,
                 on_click=on_structure_clicked,
                 # "Show ... in 3D" buttons and same-tab links bump this to bring the view into sight.
                 scroll_request_id=int(st.session_state.get("viewer_scroll_request", 0) or 0),
                 # The band the story framing and the labels were laid out for: the browser fits it
                 # to the view's real size (a phone, the patient layout's narrow column).
                 label_band=(VIEW_W, VIEW_H))
    return description


def _build_view(model: SpineModel, state: ExplorerState, impact: Impact | None, height_px: int,
                lit: Mapping[str, float] | None, focus: bool) -> tuple[ScenePayload, str, Mapping[str, Any]]:
    """The scene payload, its text description and the camera for this state (pure: no session)."""
    box = get_box()
    story = story_view(model, impact, settings.STORY_VIEW_ASPECT) if impact is not None else None
    on_story = story is not None and focus
    camera = plotly_camera(story, box) if story is not None and on_story else settings.CAMERA_PRESETS[state.view]
    if story is not None and impact is not None and not on_story:  # a preset view: see through what hides the lesion from there
        story = view_from(model, impact, camera, box, settings.CAMERA_PHRASES[state.view])
    labels = scene_labels(model, impact, story) if getattr(state, "labels", True) else []
    payload = build_scene_payload(scene_items(model, state, impact, lit=lit, story=story), camera,
                                  height_px=height_px, box=box, annotations=labels)
    description = describe_scene(model, state, impact, story=story, lit=lit, camera_on_story=on_story)
    return payload, description, camera

"""Cached resources shared by every session: the model, condition impacts, the scene box.

``st.cache_resource`` shares these across sessions, so they must never be mutated.
"""

from __future__ import annotations

import streamlit as st

from explorer.anatomy.model import SpineModel, load_model
from explorer.conditions.simulate import Impact, simulate
from explorer.render.model_scene import model_box


@st.cache_resource(show_spinner="Loading the 3D model...")
def get_model() -> SpineModel:
    """The baked meshes, shared by every session (never mutate them)."""
    return load_model()


@st.cache_resource(max_entries=128, show_spinner="Measuring the compression...")
def get_impact(condition: str, params: tuple[tuple[str, str], ...]) -> Impact:
    """A condition's impact, shared by every session (pure function of its parameters)."""
    return simulate(condition, dict(params), get_model())


@st.cache_resource
def get_box() -> tuple[float, ...]:
    """The scene's fixed extent (mm)."""
    return model_box(get_model())

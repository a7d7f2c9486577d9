"""The floor for interaction latency: a bare Streamlit app plus the project's own 3D viewer.

One selectbox in the sidebar (as the minimal app) and the explorer's viewer component showing the
same model as the explorer (every structure, the same camera and size), with the chosen nerve
root lit in the squeeze colours: each change recolours one nerve. Nothing else on the page (no
texts, no body chart, no simulation). With software WebGL one frame of the 66k-triangle scene
costs about 0.3-0.4 s, which this app pays as the explorer does: the explorer / floor ratio is
the cost of everything the explorer adds on top of drawing its model.

    streamlit run benchmarks/floor_app.py
"""

import streamlit as st

from explorer import settings
from explorer.render.model_scene import scene_items
from explorer.render.scene3d import build_scene_figure
from explorer.state import ExplorerState
from explorer.ui.resources import get_box, get_model
from explorer.ui.viewer3d import spine_viewer

# The choices the benchmark picks in turn (labels as in the minimal app) -> the root lit.
CHOICES = {"Alpha": "root-L4-left", "Bravo": "root-L5-left", "Charlie": "root-S1-left",
           "Delta": "root-L4-right", "Echo": "root-L5-right", "Foxtrot": "root-S1-right"}
HEIGHT_PX = 560  # the explorer page's viewer height (explorer.ui.page.VIEWER_HEIGHT_PX)

with st.sidebar:
    choice = st.selectbox("Choice", list(CHOICES), key="choice")
model, box = get_model(), get_box()
camera = settings.CAMERA_PRESETS[settings.DEFAULT_VIEW]
items = scene_items(model, ExplorerState(), lit={CHOICES[choice]: 0.8})
spine_viewer(build_scene_figure(items, camera, height_px=HEIGHT_PX, box=box), camera_request=camera,
             camera_request_id=0, key="viewer", height_px=HEIGHT_PX)
st.write(f"Selected: {choice}")

"""The body chart in the page: a small Streamlit Components v2 component around ``Plotly.react``.

Why not ``st.plotly_chart``: its selection events report points, not clicks on filled areas, and
it would load a second copy of Plotly. This component draws into one persistent div with the
``plotly.min.js`` the 3D viewer already serves (loaded once per page by the shared
``explorer/frontend/plotly_loader.js``), and reports a click on an area as the area's id (the
trace's ``meta``). The browser side is ``explorer/frontend/chart2d.js``. Keyboard and
screen-reader users get the same choices in lists beside the chart (see :mod:`explorer.ui.page`),
so the click is a shortcut, not the only way.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from explorer.frontend import AssetComponent
from explorer.frontend.plotly_assets import ensure_plotly_static_once, plotly_js_version, plotly_url, workarounds_off
from explorer.render.scene3d import figure_to_json

if TYPE_CHECKING:
    from plotly.graph_objects import Figure

# The JavaScript and CSS are files in explorer/frontend/ (chart2d.js imports the shared Plotly
# loader); created on first use in a script run (see explorer/frontend/__init__.py).
_chart_component = AssetComponent("chart2d", js="chart2d.js", css="chart2d.css")

CHART_CONFIG: dict[str, Any] = {
    "displaylogo": False,
    "responsive": True,
    "displayModeBar": True,
    "showSendToCloud": False,
    "plotlyServerURL": "",
    "modeBarButtonsToRemove": ["zoom2d", "pan2d", "select2d", "lasso2d", "zoomIn2d", "zoomOut2d", "autoScale2d",
                               "resetScale2d"],
    "toImageButtonOptions": {"format": "png", "filename": "lumbar-body-chart", "scale": 2},
}
ERROR_TEXT = "The body chart could not be drawn. The same information is listed in words below it."


def _noop() -> None:
    """CCv2 only surfaces a trigger value that has an ``on_<key>_change`` callback."""


def body_chart(
    figure: Figure,
    *,
    key: str,
    height_px: int,
    description: str,
    on_click: Callable[[], None] | None = None,
    test_id: str = "body-chart",
) -> None:
    """Show the body chart (a click reaches ``on_click``, which reads it with
    :func:`explorer.ui.events.clicked_id`, the one place that validates browser events).

    Parameters
    ----------
    figure : plotly.graph_objects.Figure
        From :func:`explorer.render.bodychart.build_body_chart`.
    key : str
        Constant Streamlit key (keeps the same element across reruns).
    height_px : int
        Height in pixels.
    description : str
        Text alternative for screen readers (the chart in words).
    on_click : callable or None
        Callback run before the rerun a click causes; ``st.session_state[key].clicked["id"]`` is
        the clicked area's id.
    test_id : str
        ``data-testid`` of the chart element.
    """
    ensure_plotly_static_once()
    data = {
        "figure": figure_to_json(figure),
        "height": int(height_px),
        "ariaLabel": description,
        "plotlyUrl": plotly_url(),
        "plotlyJsVersion": plotly_js_version(),
        "workaroundsOff": workarounds_off(),
        "config": CHART_CONFIG,
        "errorText": ERROR_TEXT,
        "testId": test_id,
    }
    # A one-element list, not a dict: CCv2 scans a top-level dict for dataframes, which imports
    # pandas (about a second of cold start).
    _chart_component(key=key, data=[data], width="stretch", height="content", on_clicked_change=on_click or _noop)

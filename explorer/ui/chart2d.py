"""The body chart in the page: a small Streamlit Components v2 component around ``Plotly.react``.

Why not ``st.plotly_chart``: its selection events report points, not clicks on filled areas, and
it would load a second copy of Plotly. This component draws into one persistent div with the
``plotly.min.js`` the 3D viewer already serves (loaded once, by the shared ``PLOTLY_LOADER_JS``), and reports a click on an area as the area's id
(the trace's ``meta``). Keyboard and screen-reader users get the same choices in lists beside the
chart (see :mod:`explorer.ui.page`), so the click is a shortcut, not the only way.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import streamlit as st

from explorer.render.scene3d import figure_to_json
from explorer.ui.viewer3d import PLOTLY_LOADER_JS, compact_js, ensure_plotly_static, plotly_url

if TYPE_CHECKING:
    from plotly.graph_objects import Figure

COMPONENT_NAME: str = "lumbar_explorer.chart2d"

_CSS = """
.lumbar-chart { width: 100%; }
.lumbar-chart-msg { margin: 0; padding: 0.75rem 1rem; border: 2px solid #B3261E; border-radius: 0.5rem; }
.lumbar-chart-msg[hidden] { display: none; }
"""

_JS = """
async function draw(st) {
  while (st.dirty) {
    st.dirty = false;
    const d = st.latest;
    const Plotly = await loadPlotly(d.plotlyUrl);
    if (d.figure !== st.figureText) {
      const fig = JSON.parse(d.figure);
      fig.layout.autosize = true;
      delete fig.layout.width;
      if (!st.plotted) {
        await Plotly.newPlot(st.gd, fig.data, fig.layout, d.config);
        st.plotted = true;
        st.gd.on("plotly_click", (ev) => {
          const pt = ev?.points?.[0];
          const id = pt ? String((pt.data ?? pt.fullData ?? {}).meta ?? "") : "";
          if (id) st.api.setTriggerValue("clicked", { id, n: (st.clicks = (st.clicks || 0) + 1) });
        });
      } else {
        await Plotly.react(st.gd, fig.data, fig.layout, d.config);
      }
      st.figureText = d.figure;
    }
    // Tests and benchmarks wait for this to change: the figure of the last rerun is drawn.
    st.gd.dataset.renderSeq = String(Number(st.gd.dataset.renderSeq || 0) + 1);
  }
}

async function pump(st) {
  if (st.busy) return;
  st.busy = true;
  try {
    await draw(st);
    st.msg.hidden = true;
  } catch (err) {
    console.error("lumbar body chart:", err);
    st.msg.textContent = st.latest.errorText + " (" + (err?.message ?? err) + ")";
    st.msg.hidden = false;
  } finally {
    st.busy = false;
  }
}

export default function (component) {
  const { setTriggerValue, parentElement } = component;
  // Sent as a one-element list (see body_chart): a top-level dict would make Streamlit import pandas.
  const data = Array.isArray(component.data) ? component.data[0] : component.data;
  if (!data) return;
  let wrap = parentElement.querySelector(":scope > .lumbar-chart-wrap");
  if (!wrap || !wrap.__chart) {
    wrap?.remove();
    wrap = document.createElement("div");
    wrap.className = "lumbar-chart-wrap";
    const gd = document.createElement("div");
    gd.className = "lumbar-chart";
    gd.setAttribute("data-testid", data.testId);
    gd.setAttribute("role", "figure");
    const msg = document.createElement("p");
    msg.className = "lumbar-chart-msg";
    msg.setAttribute("role", "status");
    msg.hidden = true;
    wrap.append(gd, msg);
    parentElement.appendChild(wrap);
    wrap.__chart = { gd, msg, plotted: false, busy: false, dirty: false };
  }
  const st = wrap.__chart;
  st.api = { setTriggerValue };
  st.latest = data;
  st.dirty = true;
  st.gd.style.height = data.height + "px";
  st.gd.setAttribute("aria-label", data.ariaLabel);
  pump(st);
  return () => {
    setTimeout(() => {
      if (!wrap.isConnected && window.Plotly && st.plotted) window.Plotly.purge(st.gd);
    }, 0);
  };
}
"""

_chart_component = st.components.v2.component(COMPONENT_NAME, css=_CSS, js=compact_js(PLOTLY_LOADER_JS + _JS),
                                              isolate_styles=False)

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
) -> str | None:
    """Show the body chart; return the id of the area clicked in this run, if any.

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
    ensure_plotly_static()
    data = {
        "figure": figure_to_json(figure),
        "height": int(height_px),
        "ariaLabel": description,
        "plotlyUrl": plotly_url(),
        "config": CHART_CONFIG,
        "errorText": ERROR_TEXT,
        "testId": test_id,
    }
    # A one-element list, not a dict: CCv2 scans a top-level dict for dataframes, which imports
    # pandas (about a second of cold start).
    result = _chart_component(key=key, data=[data], width="stretch", height="content",
                              on_clicked_change=on_click or _noop)
    clicked = result.get("clicked")
    return str(clicked["id"]) if isinstance(clicked, dict) and clicked.get("id") else None

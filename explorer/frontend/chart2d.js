// The body chart: one persistent Plotly div updated in place; a click on an area is reported to
// Python as the area's id (the trace's `meta`). Python side: explorer/ui/chart2d.py.
// Uses the plotly.min.js the 3D viewer serves, loaded once per page (plotly_loader.js).

import { loadPlotly } from "./plotly_loader.js";

// The id of the clicked area, or "" (a click on no area, or on a trace without meta).
export function clickedAreaId(ev) {
  const pt = ev?.points?.[0];
  return pt ? String((pt.data ?? pt.fullData ?? {}).meta ?? "") : "";
}

async function draw(st) {
  while (st.dirty) {
    st.dirty = false;
    const d = st.latest;
    const Plotly = await loadPlotly(d.plotlyUrl, d.plotlyJsVersion, d.workaroundsOff);
    if (d.figure !== st.figureText) {
      const fig = JSON.parse(d.figure);
      fig.layout.autosize = true;
      delete fig.layout.width;
      if (!st.plotted) {
        await Plotly.newPlot(st.gd, fig.data, fig.layout, d.config);
        st.plotted = true;
        st.gd.on("plotly_click", (ev) => {
          const id = clickedAreaId(ev);
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

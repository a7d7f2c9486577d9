// The body chart: one persistent Plotly div updated in place; a click on an area is reported to
// Python as the area's id (the trace's `meta`). Python side: explorer/ui/chart2d.py.
// Uses the plotly.min.js the 3D viewer serves, loaded once per page (plotly_loader.js).

import { applyDelta } from "./delta.js";
import { frameGroup } from "./frame_group.js";
import { componentData } from "./geometry.js";
import { fastArrayAttributes, withCssSafeUids } from "./gl_workarounds.js";
import { loadPlotly, shared, workarounds } from "./plotly_loader.js";

const RESEND_RETRY_MS = 4000;

// Timing marks for benchmarks/profile_switch.py (only when the page set window.__lumbar3d.marks).
function mark(what) {
  if (shared().marks) performance.mark("lumbar:" + what);
}

// The id of the clicked area, or "" (a click on no area, or on a trace without meta).
export function clickedAreaId(ev) {
  const pt = ev?.points?.[0];
  return pt ? String((pt.data ?? pt.fullData ?? {}).meta ?? "") : "";
}

// The traces Plotly draws: the figure's slots in use. Python sends the same traces every time
// (explorer/render/bodychart.py, "fixed shape"), an unused slot with `visible: false`, so a change
// patches a few style fields. Plotly is given only the slots in use, the very objects of the
// scene (unchanged ones identical): when the same slots stay in use, the same traces with the
// same uids come in the same order and Plotly.react restyles in place (fills, widths, hover
// texts: editType "style"); when others are used, it replots these traces only. An unused slot
// handed to Plotly costs its defaults pass on every react (measured: 70 hidden slots doubled it).
export function drawnTraces(data) {
  return data.filter((t) => t && t.visible !== false);
}

async function draw(st) {
  while (st.dirty) {
    st.dirty = false;
    const d = st.latest;
    const Plotly = await loadPlotly(d.plotlyUrl, d.plotlyJsVersion, d.workaroundsOff);
    // The same memo as the 3D view's (one per page: Plotly.PlotSchema is shared).
    if (workarounds(d.workaroundsOff).enabled("fastArrayAttributes", Plotly.version)) {
      shared().arrayAttrs = fastArrayAttributes(Plotly.PlotSchema);
    }
    const fig = st.scene;
    if (!fig || st.sceneWanted) {  // a change built on a figure this page does not have
      askForFigure(st);
      continue;
    }
    if (fig.hash !== st.drawnHash) {
      // Unchanged traces are the objects drawn last time: Plotly.react restyles only the others.
      const layout = Object.assign({}, fig.layout, { autosize: true });
      delete layout.width;
      const drawn = drawnTraces(fig.data);
      const data = workarounds(d.workaroundsOff).enabled("cssSafeUids", Plotly.version)
        ? withCssSafeUids(drawn, (st.safeUids ??= new WeakMap())) : drawn;
      if (!st.plotted) {
        await Plotly.newPlot(st.gd, data, layout, d.config);
        st.plotted = true;
        frameGroup(shared()).join(st.groupId);
        st.gd.on("plotly_click", (ev) => {
          const id = clickedAreaId(ev);
          if (id) st.api.setTriggerValue("clicked", { id, n: (st.clicks = (st.clicks || 0) + 1) });
        });
      } else {
        // In the same task as the 3D view's redraw when this rerun changes both (frame_group.js).
        mark("chart-turn-asked");
        await frameGroup(shared()).turn(st.groupId);
        mark("chart-react-start");
        await Plotly.react(st.gd, data, layout, d.config);
        mark("chart-react-end");
      }
      st.drawnHash = fig.hash;
    }
    // Tests and benchmarks wait for this to change: the figure of the last rerun is drawn.
    st.gd.dataset.renderSeq = String(Number(st.gd.dataset.renderSeq || 0) + 1);
  }
}

// Ask Python (a rerun) for the whole figure; at most once per RESEND_RETRY_MS.
function askForFigure(st) {
  const now = performance.now();
  if (st.askedAt && now - st.askedAt < RESEND_RETRY_MS) return;
  st.askedAt = now;
  st.api.setStateValue("missing", { scene: true, n: (st.asks = (st.asks || 0) + 1) + "-" + Date.now() });
}

// Apply every payload's changes as it arrives, in order (each builds on the one before).
function takeFigure(st, msg) {
  if (!msg || (st.scene && st.scene.hash === msg.hash)) return;
  const next = applyDelta(st.scene ?? null, msg);
  if (next) {
    st.scene = next;
    st.sceneWanted = false;
  } else {
    st.sceneWanted = true;
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
  const { setStateValue, setTriggerValue, parentElement } = component;
  // A binary frame, or a one-element list (see body_chart: a top-level dict would make Streamlit
  // import pandas); geometry.js componentData reads both.
  const data = componentData(component.data);
  if (!data) return;
  mark("chart-data");
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
    wrap.__chart = { gd, msg, plotted: false, busy: false, dirty: false, groupId: "chart:" + data.testId };
  }
  const st = wrap.__chart;
  st.api = { setStateValue, setTriggerValue };
  st.latest = data;
  takeFigure(st, data.figure);
  st.dirty = true;
  st.gd.style.height = data.height + "px";
  st.gd.setAttribute("aria-label", data.ariaLabel);
  pump(st);
  return () => {
    setTimeout(() => {
      if (wrap.isConnected) return;
      frameGroup(shared()).leave(st.groupId);
      if (window.Plotly && st.plotted) window.Plotly.purge(st.gd);
    }, 0);
  };
}

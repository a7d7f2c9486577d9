// The body chart: one persistent SVG drawn by bodychart_svg.js (no Plotly: it draws before the
// Plotly bundle has loaded, and a change sets only the attributes that changed). A click on an
// area is reported to Python as the area's id (the trace's `meta`). Python side:
// explorer/ui/chart2d.py; the figure: explorer/render/bodychart.py.

import { BodyChart } from "./bodychart_svg.js";
import { applyDelta } from "./delta.js";
import { frameGroup } from "./frame_group.js";
import { componentData } from "./geometry.js";
import { shared } from "./page_shared.js";

const RESEND_RETRY_MS = 4000;
// Plotly's camera icon (plotly.js src/fonts/ploticon.js, MIT): the download button keeps the look
// of the modebar the chart had.
const CAMERA_ICON = "m500 450c-83 0-150-67-150-150 0-83 67-150 150-150 83 0 150 67 150 150 0 83-67 150-150 150z"
  + "m400 150h-120c-16 0-34 13-39 29l-31 93c-6 15-23 28-40 28h-340c-16 0-34-13-39-28l-31-94c-6-15-23-28-40-28h-120"
  + "c-55 0-100-45-100-100v-450c0-55 45-100 100-100h800c55 0 100 45 100 100v450c0 55-45 100-100 100z"
  + "m-400-550c-138 0-250 112-250 250 0 138 112 250 250 250 138 0 250-112 250-250 0-138-112-250-250-250z"
  + "m365 380c-19 0-35 16-35 35 0 19 16 35 35 35 19 0 35-16 35-35 0-19-16-35-35-35z";


// Timing marks for benchmarks (only when the page set window.__lumbar3d.marks).
function mark(what) {
  if (shared().marks) performance.mark("lumbar:" + what);
}

// The trace-like view tests and tools read as `element.data` (as they did on Plotly's div): the
// figure's traces, unused slots included (`visible: false`).
function exposeData(st) {
  if (Object.getOwnPropertyDescriptor(st.gd, "data")) return;
  Object.defineProperty(st.gd, "data", { configurable: true, get: () => st.scene?.data ?? [] });
  Object.defineProperty(st.gd, "layout", { configurable: true, get: () => st.scene?.layout ?? {} });
  // the renderer (its plot frame and last render's counts) for benchmarks/chart_switch.py
  Object.defineProperty(st.gd, "_chart", { configurable: true, get: () => st.chart });
}

async function draw(st) {
  while (st.dirty) {
    st.dirty = false;
    const fig = st.scene;
    if (!fig || st.sceneWanted) {  // a change built on a figure this page does not have
      askForFigure(st);
      continue;
    }
    const width = st.gd.clientWidth;
    const height = st.latest.height;
    if (!width) continue;  // not laid out yet: the resize observer draws it
    if (fig.hash !== st.drawnHash || width !== st.drawnWidth || height !== st.drawnHeight) {
      if (st.drawnHash !== undefined && fig.hash !== st.drawnHash) {
        // In the same task as the 3D view's redraw when this rerun changes both (frame_group.js).
        mark("chart-turn-asked");
        await frameGroup(shared()).turn(st.groupId);
        if (st.dirty) continue;  // a newer figure arrived while waiting
      }
      mark("chart-react-start");
      st.lastStats = st.chart.render(fig, width, height);
      mark("chart-react-end");
      if (st.drawnHash === undefined) frameGroup(shared()).join(st.groupId);
      st.drawnHash = fig.hash;
      st.drawnWidth = width;
      st.drawnHeight = height;
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

// The chart as a PNG file (the download button; Plotly's modebar offered the same).
async function downloadPng(st, name = "lumbar-body-chart", scale = 2) {
  const svg = st.chart.svg;
  const w = Number(svg.getAttribute("width")), h = Number(svg.getAttribute("height"));
  const text = new XMLSerializer().serializeToString(svg);
  const url = URL.createObjectURL(new Blob([text], { type: "image/svg+xml" }));
  try {
    const img = new Image();
    await new Promise((resolve, reject) => { img.onload = resolve; img.onerror = reject; img.src = url; });
    const canvas = document.createElement("canvas");
    canvas.width = w * scale;
    canvas.height = h * scale;
    const ctx = canvas.getContext("2d");
    ctx.scale(scale, scale);
    ctx.drawImage(img, 0, 0, w, h);
    const a = document.createElement("a");
    a.download = name + ".png";
    a.href = canvas.toDataURL("image/png");
    a.click();
  } finally {
    URL.revokeObjectURL(url);
  }
}

function modebar(st) {
  const bar = document.createElement("div");
  bar.className = "lumbar-chart-modebar";
  const btn = document.createElement("button");
  btn.type = "button";
  btn.className = "lumbar-chart-btn";
  btn.setAttribute("aria-label", "Download plot as a PNG");
  btn.title = "Download plot as a PNG";
  btn.innerHTML = '<svg viewBox="0 0 1000 1000" width="1em" height="1em" aria-hidden="true">'
    + `<path transform="matrix(1 0 0 -1 0 850)" d="${CAMERA_ICON}"/></svg>`;
  btn.addEventListener("click", () => {
    downloadPng(st, st.latest.downloadName, st.latest.downloadScale).catch((err) => console.error("lumbar body chart:", err));
  });
  bar.appendChild(btn);
  return bar;
}

export default function (component) {
  const { setStateValue, setTriggerValue, parentElement } = component;
  // A binary frame, or a one-element list (see body_chart: a top-level dict would make Streamlit
  // import pandas); geometry.js componentData reads both.
  let data;
  try {
    data = componentData(component.data);
  } catch (err) {  // a frame that is not ours: say so in the console, keep the page
    console.error("lumbar body chart:", err);
    return;
  }
  if (!data || typeof data !== "object") return;
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
    const st = { gd, msg, busy: false, dirty: false, groupId: "chart:" + data.testId };
    st.chart = new BodyChart(gd, {
      onClick: (id) => st.api.setTriggerValue("clicked", { id, n: (st.clicks = (st.clicks || 0) + 1) }),
    });
    gd.appendChild(modebar(st));
    exposeData(st);
    // A new column width redraws at once (no waiting for the 3D view: nothing else changes).
    if (typeof ResizeObserver === "function") {
      st.resize = new ResizeObserver(() => {
        if (st.gd.clientWidth && st.gd.clientWidth !== st.drawnWidth) { st.dirty = true; pump(st); }
      });
      st.resize.observe(gd);
    }
    wrap.__chart = st;
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
      st.resize?.disconnect();
    }, 0);
  };
}

// The 3D viewer: one persistent Plotly graph div updated in place with Plotly.react, so the camera
// the person rotated survives every rerun; clicks on meshes are reported back to Python.
// Python side: explorer/ui/viewer3d.py (what `data` holds is documented there).
//
// Streamlit calls the default export on mount and again for every rerun whose `data` changed,
// with the same `parentElement` (a plain div: isolate_styles=False). Everything that must outlive
// one call (the graph div, listeners, the last camera request applied) is kept on the DOM node,
// and in the window-level object (plotly_loader.js: shared()) so a remount reuses them.

import {
  bandFit, cameraDistance, chooseCamera, clampCamera, clone, sameCamera, scaledLabels, sceneRevision, zoomedOut,
  zoomLimits,
} from "./camera.js";
import { applyDelta } from "./delta.js";
import { assemble, componentData, GeometryCache } from "./geometry.js";
import {
  fastArrayAttributes, installDepthPrepass, installMeshUpdateMemo, installPickDeferral, installVertexLitSeeThrough,
  liveCamera as readCamera, pngAtDoubleResolution, setZoomLimits, withCssSafeUids, withFastWebGL,
} from "./gl_workarounds.js";
import { frameGroup } from "./frame_group.js";
import { ClickFilter, takeScrollRequest, TouchRouter, WheelGate } from "./interaction.js";
import { loadPlotly, shared, workarounds } from "./plotly_loader.js";

const RESEND_RETRY_MS = 4000;  // ask again if missing geometry has not arrived by then
const RESEND_MAX_TRIES = 4;
const LATE_CLICK_MS = 700;
const HINT_MS = 1600;
const WHEEL_SETTLE_MS = 250;  // Plotly's camera eases for a few frames after a wheel step

const G = shared();
G.requests ??= 0;

// In-page timing marks ("lumbar:<what>") for benchmarks/profile_switch.py; only when a page sets
// window.__lumbar3d.marks (the benchmark's init script does), so a long session collects none.
function mark(what) {
  if (G.marks) performance.mark("lumbar:" + what);
}

// A requested camera and the live one after Plotly.react are the same view within this (normalised
// units: the axes box spans about -1..1; 1e-4 is far below a pixel).
const SAME_CAMERA_TOL = 1e-4;

function plotlyVersion() { return String(window.Plotly?.version ?? ""); }

function uses(st, id) {
  return workarounds(st.latest.settings.workaroundsOff).enabled(id, plotlyVersion());
}

function liveCamera(st) { return readCamera(st.gd, uses(st, "liveCamera")); }

function hasWebGL() {
  if (G.webgl === undefined) {
    try {
      const canvas = document.createElement("canvas");
      const ctx = canvas.getContext("webgl2") || canvas.getContext("webgl");
      G.webgl = !!ctx;
      ctx?.getExtension("WEBGL_lose_context")?.loseContext();  // free the probe context
    } catch (e) {
      G.webgl = false;
    }
  }
  return G.webgl;
}

function screenPixelRatio() {
  return Math.min(2, Math.max(1, window.devicePixelRatio || 1));
}

function geometryCache(settings) {
  if (!G.geometryCache) {
    G.geometryCache = new GeometryCache(settings.cacheLimitBytes);
    G.geometry = G.geometryCache.blobs;  // hash -> blob; tests and benchmarks read and clear it
  }
  return G.geometryCache;
}

// Shorter on small screens: a phone keeps room to scroll past the model. Taller on tall screens
// (a projector): the picture is framed to the view's height, so that is what makes it larger.
function viewerHeight(d) {
  const s = d.settings;
  const h = Number(d.height);
  if (window.innerWidth < s.smallScreenWidthPx) {
    return Math.max(200, Math.min(h, Math.round(window.innerHeight * s.smallScreenHeightFraction)));
  }
  if (s.tallScreenHeightPx && window.innerHeight >= s.tallScreenHeightPx) {
    const tall = Math.min(s.tallScreenMaxHeightPx, Math.round(window.innerHeight * s.tallScreenHeightFraction));
    return Math.max(h, tall);
  }
  return h;
}

// A cache miss: ask Python (a rerun) to send these blobs again (and, with `scene`, the whole
// scene rather than its changes); retry a few times.
function requestMissing(st, missing, scene = false) {
  const key = [...missing].sort().join(",") + (scene ? "+scene" : "");
  const now = performance.now();
  const req = st.missingReq;
  if (req && req.key === key && now - req.t < RESEND_RETRY_MS) return;
  const tries = req && req.key === key ? req.tries + 1 : 1;
  if (tries > RESEND_MAX_TRIES) throw new Error("the 3D model's geometry did not arrive");
  st.missingReq = { key, t: now, tries };
  st.api.setStateValue("missing", { hashes: missing, scene, n: ++G.requests + "-" + Date.now() });
  clearTimeout(st.retryTimer);
  st.retryTimer = setTimeout(() => { st.dirty = true; pump(st); }, RESEND_RETRY_MS + 50);
}

function showMessage(st, text) {
  st.msg.textContent = text;
  st.msg.hidden = false;
  st.gd.hidden = true;
}

function pointInfo(ev) {
  const pt = ev?.points?.[0];
  if (!pt) return null;
  const trace = pt.data ?? pt.fullData ?? {};
  const id = String(trace.meta ?? "");  // uid may carry a suffix (scene3d.trace_uid)
  return id ? { id, name: String(trace.name ?? "") } : null;
}

function report(st, info) {
  if (info) st.api.setTriggerValue("clicked", info);
}

function rememberCamera(st) {
  const mem = (G.memory[st.latest.key] ??= {});
  mem.camera = liveCamera(st);
}

// Zoom limits: inside Plotly's camera view where allowed (exact). Otherwise the camera is checked
// after each camera change and once the wheel stops, and moved back along its line of sight if
// outside them. Plotly reports a wheel zoom before applying it, so with the live-camera
// workaround also off (gd.layout's camera only) the last wheel step may overshoot the limit.
function applyZoomLimits(st) {
  st.limitsInside = uses(st, "zoomLimits") && setZoomLimits(st.gd, st.limits);
}

function enforceZoomLimits(st) {
  const cam = liveCamera(st);
  const d = cameraDistance(cam);
  if (!(d > 0) || (d >= st.limits[0] * 0.999 && d <= st.limits[1] * 1.001)) return;
  window.Plotly.relayout(st.gd, { "scene.camera": clampCamera(cam, st.limits) });
}

function showHint(st, on) {
  clearTimeout(st.hintTimer);
  st.wrap.classList.toggle("lumbar-3d-hinting", on);
  if (on) st.hintTimer = setTimeout(() => st.wrap.classList.remove("lumbar-3d-hinting"), HINT_MS);
}

// Pinch: move the eye towards or away from the centre by `scale`, once per frame.
function pinchZoom(st, scale) {
  st.pinchScale = (st.pinchScale ?? 1) * scale;
  if (st.pinchFrame) return;
  st.pinchFrame = requestAnimationFrame(() => {
    st.pinchFrame = null;
    const s = st.pinchScale;
    st.pinchScale = 1;
    const cam = liveCamera(st);
    if (!cam?.eye) return;
    const c = cam.center ?? { x: 0, y: 0, z: 0 };
    const next = clone(cam);
    for (const a of ["x", "y", "z"]) next.eye[a] = c[a] + (cam.eye[a] - c[a]) * s;
    window.Plotly.relayout(st.gd, { "scene.camera": clampCamera(next, st.limits) });
  });
}

function attachWheelAndTouch(st) {
  const { wrap } = st;
  st.wheel = new WheelGate();
  st.touch = new TouchRouter();
  // Capture phase on the wrapper: runs before Plotly's listeners on the canvas, and stopping the
  // event here keeps it from them (they would call preventDefault and zoom instead of scrolling).
  wrap.addEventListener("pointerdown", () => { st.wheel.pointerDown(); showHint(st, false); }, true);
  wrap.addEventListener("pointerleave", (e) => { if (e.pointerType === "mouse") st.wheel.leave(); });
  wrap.addEventListener("wheel", (e) => {
    const decision = st.wheel.decide({
      deltaY: e.deltaY, ctrlKey: e.ctrlKey, metaKey: e.metaKey,
      distance: cameraDistance(liveCamera(st)), limits: st.limits,
    });
    if (decision === "page") {
      e.stopPropagation();  // the browser scrolls the page
      showHint(st, true);
    } else if (decision === "hold") {
      e.stopPropagation();
      e.preventDefault();
    } else if (!st.limitsInside) {
      clearTimeout(st.clampTimer);
      st.clampTimer = setTimeout(() => enforceZoomLimits(st), WHEEL_SETTLE_MS);
    }
  }, { capture: true, passive: false });
  const onTouch = (e) => {
    const touches = Array.from(e.touches, (t) => ({ x: t.clientX, y: t.clientY }));
    const route = st.touch.route(e.type, touches);
    if (route === "page") {
      e.stopPropagation();
    } else if (route === "pinch") {
      e.stopPropagation();
      if (e.cancelable) e.preventDefault();
      pinchZoom(st, st.touch.scale);
    }
  };
  for (const type of ["touchstart", "touchmove", "touchend", "touchcancel"]) {
    wrap.addEventListener(type, onTouch, { capture: true, passive: false });
  }
  const onKey = (e) => { st.wheel.key(e.key); };
  window.addEventListener("keydown", onKey, true);
  return () => window.removeEventListener("keydown", onKey, true);
}

// The pick pass (gl_workarounds.js, deferPickPass): Plotly's picking buffer is drawn and read back
// only while the pointer is over the view or the keyboard focus is inside it, and at the moment
// either arrives. The listeners run in the capture phase on the wrapper, before Plotly's own
// mouse listener on the canvas looks anything up.
function pickDeferral(st) {
  return st.gd?._fullLayout?.scene?._scene?.glplot?.__lumbarPick ?? null;
}

function installPickPass(st) {
  if (!uses(st, "deferPickPass")) return;
  const ctl = installPickDeferral(st.gd?._fullLayout?.scene?._scene?.glplot, (G.pickStats ??= {}));
  ctl?.setOver(st.pointerOver || st.focusWithin);
}

// The transparency pass's depth-only draw with each opaque mesh's picking program (gl_workarounds.js,
// depthPrepassPick). Installed before the pick deferral, so it sees every framebuffer bound.
function installDepthPass(st) {
  if (!uses(st, "depthPrepassPick")) return;
  installDepthPrepass(st.gd?._fullLayout?.scene?._scene?.glplot, (G.depthStats ??= {}));
}

// Faded meshes lit at their vertices in the transparency pass (gl_workarounds.js, seeThroughVertexLit).
function installVertexLit(st) {
  if (!uses(st, "seeThroughVertexLit")) return;
  installVertexLitSeeThrough(st.gd?._fullLayout?.scene?._scene?.glplot, (G.vertexLitStats ??= {}));
}

function attachPickListeners(st) {
  const { wrap } = st;
  const update = () => pickDeferral(st)?.setOver(st.pointerOver || st.focusWithin);
  const refresh = () => {
    const ctl = pickDeferral(st);
    if (ctl?.stale()) ctl.refresh();
  };
  const arrive = () => {
    if (st.pointerOver) return refresh();
    st.pointerOver = true;
    return update();
  };
  for (const type of ["pointerover", "pointermove", "pointerdown"]) {
    wrap.addEventListener(type, arrive, { capture: true, passive: true });
  }
  // A touch ends with a pointerleave before the mouse events the browser makes from the tap
  // (which Plotly picks with): only a mouse or pen leaving ends it.
  wrap.addEventListener("pointerleave", (e) => {
    if (e.pointerType === "touch") return;
    st.pointerOver = false;
    update();
  });
  // Anything else that may make Plotly look up the picking buffer draws a deferred pass first.
  for (const type of ["mousemove", "mousedown", "mouseover", "touchstart", "wheel"]) {
    wrap.addEventListener(type, refresh, { capture: true, passive: true });
  }
  wrap.addEventListener("focusin", () => { st.focusWithin = true; update(); });
  wrap.addEventListener("focusout", (e) => {
    st.focusWithin = !!(e.relatedTarget && wrap.contains(e.relatedTarget));
    update();
  });
}

function attachListeners(st) {
  const { gd, wrap } = st;
  attachPickListeners(st);
  const s = st.latest.settings;
  const clicks = new ClickFilter({ tolerancePx: s.clickTolerancePx, lateMs: LATE_CLICK_MS });
  const onDown = (e) => clicks.down(e.clientX, e.clientY);
  const onMove = (e) => clicks.move(e.clientX, e.clientY);
  const onUp = (e) => report(st, clicks.up(e.clientX, e.clientY));
  wrap.addEventListener("pointerdown", onDown, true);
  window.addEventListener("pointermove", onMove, true);
  window.addEventListener("pointerup", onUp, true);
  window.addEventListener("pointercancel", onUp, true);
  const removeWheel = attachWheelAndTouch(st);
  st.removeWindowListeners = () => {
    window.removeEventListener("pointermove", onMove, true);
    window.removeEventListener("pointerup", onUp, true);
    window.removeEventListener("pointercancel", onUp, true);
    removeWheel();
  };

  wrap.addEventListener("click", (e) => {
    const btn = e.target?.closest?.(".modebar-btn");
    if (!btn || !String(btn.getAttribute("data-title") || "").startsWith("Download plot")) return;
    if (uses(st, "pngAtDoubleResolution")) pngAtDoubleResolution(gd);
  }, true);

  gd.on("plotly_click", (ev) => report(st, clicks.plotlyClick(pointInfo(ev))));
  gd.on("plotly_hover", (ev) => report(st, clicks.hover(pointInfo(ev))));
  gd.on("plotly_unhover", () => clicks.unhover());

  gd.on("plotly_relayout", (ev) => {
    if (!ev || !Object.keys(ev).some((k) => k.startsWith("scene"))) return;
    enforceZoomLimits(st);
    rememberCamera(st);
    if (!st.latest?.reportCamera) return;
    clearTimeout(st.cameraTimer);
    st.cameraTimer = setTimeout(() => {
      const cam = liveCamera(st);
      const text = JSON.stringify(cam);
      if (cam && text !== st.reportedCamera) {
        st.reportedCamera = text;
        st.api.setStateValue("camera", cam);
      }
    }, s.cameraReportDebounceMs);
  });

  // Streamlit resizes columns/sidebar without a window resize event. The observer also fires
  // once right after observe(): skip sizes already drawn (a resize redraws the whole scene).
  let resizeTimer = null;
  st.resizeObserver = new ResizeObserver(() => {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(() => {
      if (!gd.isConnected || !gd._fullLayout) return;
      const size = gd.clientWidth + "x" + gd.clientHeight;
      if (size === st.drawnSize) return;
      st.drawnSize = size;
      window.Plotly.Plots.resize(gd);
      // A new size may need the labels at another scale: redraw the scene (the camera stays).
      if (st.latest && viewFit(st, st.latest).scale !== st.labelScale) {
        st.dirty = true;
        pump(st);
      }
    }, 100);
  });
  st.resizeObserver.observe(wrap);
}

// How the picture laid out by Python (a band of d.labelBand px) fits this view (camera.js bandFit).
function viewFit(st, d) {
  return bandFit(d.labelBand, st.gd.clientWidth || st.wrap.clientWidth, viewerHeight(d));
}

// Draw the latest payload. Returns false while waiting for geometry from Python.
async function render(st, d) {
  const Plotly = await loadPlotly(d.plotlyUrl, d.plotlyJsVersion, d.settings.workaroundsOff);
  if (uses(st, "fastArrayAttributes")) G.arrayAttrs = fastArrayAttributes(Plotly.PlotSchema);
  const gd = st.gd;
  const mem = (G.memory[d.key] ??= {});
  // A new scene is drawn in the same task as the body chart's redraw when this rerun changes both
  // (frame_group.js). Waited for before the camera is read, so a rotation meanwhile is kept.
  if (st.plotted && mem.scene && !mem.sceneWanted && mem.scene.hash !== st.sceneHash) {
    mark("3d-turn-asked");
    await frameGroup(G).turn(st.groupId);
    mark("3d-turn-granted");
  }
  const wasPlotted = st.plotted;
  const fit = viewFit(st, d);
  // A view the app chooses (story or preset) steps back on a view narrower than it was framed for.
  const request = zoomedOut(d.cameraRequest, fit.zoom);
  const { camera, newRequest } = chooseCamera({
    request, requestId: d.cameraRequestId, appliedRequestId: mem.requestId,
    plotted: st.plotted, live: st.plotted ? liveCamera(st) : null, remembered: mem.camera,
  });
  st.limits = zoomLimits(d.settings.zoomLimits, request);
  // Before the react: a requested camera nearer than the limits in force would be drawn clamped to
  // them first (and moved by a relayout after: a second frame).
  if (st.plotted) applyZoomLimits(st);

  // A new request gets a new scene uirevision, so the react below applies its camera (sceneRevision).
  if (newRequest) st.revisions = (st.revisions ?? 0) + 1;
  let reacted = false;

  const scene = mem.scene;
  if (!scene || mem.sceneWanted) {  // a change built on a scene this page does not have
    requestMissing(st, [], true);
    return false;
  }
  if (!st.plotted || scene.hash !== st.sceneHash || fit.scale !== st.labelScale) {
    const cache = geometryCache(d.settings);
    const assembled = assemble(scene, cache, d.settings.geometryRef);
    const { missing, used } = assembled;
    const data = uses(st, "cssSafeUids") ? withCssSafeUids(assembled.data, (G.safeUids ??= new WeakMap()))
      : assembled.data;
    if (missing.length) {
      requestMissing(st, missing);
      return false;
    }
    st.missingReq = null;
    clearTimeout(st.retryTimer);
    const layout = clone(scene.layout) || {};
    layout.scene ??= {};
    if (camera) layout.scene.camera = camera;
    layout.scene.uirevision = sceneRevision(layout.scene.uirevision ?? layout.uirevision, st.revisions ?? 0);
    layout.autosize = true;
    // Width and height follow the container (shorter on a phone than the figure asks for).
    delete layout.width;
    delete layout.height;
    if (Array.isArray(layout.scene.annotations)) {
      layout.scene.annotations = scaledLabels(layout.scene.annotations, fit.scale);
    }
    const config = Object.assign({}, d.config, { plotGlPixelRatio: screenPixelRatio() });
    if (!st.plotted) {
      const draw = () => Plotly.newPlot(gd, data, layout, config);
      const links = uses(st, "reuseProgramLinks") ? (G.programLinks ??= {}) : null;
      const made = (ctx) => { st.contexts = [...(st.contexts ?? []), ctx]; };
      await (uses(st, "fastValidityChecks") ? withFastWebGL(HTMLCanvasElement.prototype, draw, { links, made })
        : draw());
      st.plotted = true;
      st.drawnSize = gd.clientWidth + "x" + gd.clientHeight;
      attachListeners(st);
      frameGroup(G).join(st.groupId);
    } else {
      mark("3d-react-start");
      const reacting = Plotly.react(gd, data, layout, config);
      // Plotly.react issues the new frame's WebGL commands in its synchronous part; hand them to
      // the GPU process now, so it draws while this task goes on (the body chart's react runs
      // next in the same task, frame_group.js) instead of from the end of the task. WebGL's
      // flush() does not wait for anything.
      for (const ctx of st.contexts ?? []) if (ctx.canvas?.isConnected && !ctx.isContextLost()) ctx.flush();
      // The 3D react's own (synchronous) part ends here; "3d-react-end" comes after the body chart's
      // react granted in the same task (so a timer around the whole promise counts both).
      mark("3d-react-sync");
      await reacting;
      mark("3d-react-end");
      reacted = true;
    }
    // Later reacts rewrite only the WebGL buffers of traces that changed (G.meshUpdates counts them).
    if (uses(st, "meshUpdateMemo")) installMeshUpdateMemo(gd, (G.meshUpdates ??= {}));
    installDepthPass(st);
    installVertexLit(st);
    installPickPass(st);
    st.sceneHash = scene.hash;
    st.labelScale = fit.scale;
    cache.trim(used);
  }
  applyZoomLimits(st);
  // Apply a requested view explicitly when the react above did not (no react: the same scene with
  // a new request, e.g. the same preset picked twice; or Plotly kept another camera). A relayout
  // draws the whole scene again, so it is skipped when the react already shows the requested view
  // (G.cameraRelayouts counts both outcomes). A first draw already has it.
  if (newRequest && wasPlotted) {
    const counts = (G.cameraRelayouts ??= { done: 0, skipped: 0 });
    if (reacted && sameCamera(liveCamera(st), camera, SAME_CAMERA_TOL)) {
      counts.skipped += 1;
    } else {
      counts.done += 1;
      mark("3d-relayout");
      await Plotly.relayout(gd, { "scene.camera": camera });
    }
  }
  mem.requestId = d.cameraRequestId;
  mem.camera = liveCamera(st);
  // Tests and benchmarks wait for this to change: the figure sent by the last rerun is drawn.
  gd.dataset.renderSeq = String(Number(gd.dataset.renderSeq || 0) + 1);
  return true;
}

async function pump(st) {
  if (st.busy) return;  // the running loop will pick up st.latest
  st.busy = true;
  try {
    let drawn = true;
    while (st.dirty) {
      st.dirty = false;
      drawn = await render(st, st.latest);
    }
    if (drawn || st.plotted) {
      st.gd.hidden = false;
      st.msg.hidden = true;
    }
  } catch (err) {
    console.error("lumbar 3D viewer:", err);
    const text = err?.isLoadError ? st.latest.loadErrorText : st.latest.renderErrorText;
    showMessage(st, text + " (" + (err?.message ?? err) + ")");
  } finally {
    st.busy = false;
  }
}

// "Show ... in 3D": a new scroll request id brings the viewer to the top of the screen (CSS
// scroll-margin-top keeps it below Streamlit's header).
function scrollIfRequested(st, d) {
  if (!takeScrollRequest((G.memory[d.key] ??= {}), d.scrollRequestId)) return;
  requestAnimationFrame(() => st.wrap.scrollIntoView({ behavior: "smooth", block: "start" }));
}

function teardownIfRemoved(wrap) {
  // Called when Streamlit unmounts the component, but also when a stale call is cancelled while
  // the element lives on; only purge once the node has really left the document.
  setTimeout(() => {
    const st = wrap.__lumbar3d;
    if (!st || wrap.isConnected) return;
    // The camera keeps easing for a few frames after the last plotly_relayout: store the
    // final one for a later remount (same key) before the scene is destroyed.
    if (st.plotted) {
      try { rememberCamera(st); } catch (e) { /* scene already gone */ }
    }
    clearTimeout(st.cameraTimer);
    clearTimeout(st.retryTimer);
    clearTimeout(st.hintTimer);
    clearTimeout(st.clampTimer);
    st.resizeObserver?.disconnect();
    st.removeWindowListeners?.();
    window.removeEventListener("resize", st.onWindowResize);
    if (window.Plotly && st.plotted) window.Plotly.purge(st.gd);  // frees the WebGL context
    frameGroup(G).leave(st.groupId);
    wrap.__lumbar3d = null;
  }, 0);
}

// Every payload's scene changes are applied as they arrive, in order (each builds on the one
// before; the drawing loop may skip a payload superseded before it was drawn).
function takeScene(mem, msg) {
  if (!msg || (mem.scene && mem.scene.hash === msg.hash)) return;  // the same payload again (remount)
  const next = applyDelta(mem.scene ?? null, msg);
  if (next) {
    mem.scene = next;
    mem.sceneWanted = false;
  } else {
    mem.sceneWanted = true;
  }
}

function mount(parentElement, d) {
  const wrap = document.createElement("div");
  wrap.className = "lumbar-3d-wrap";
  const gd = document.createElement("div");
  gd.className = "lumbar-3d";
  gd.id = "lumbar-3d-" + String(d.key).replace(/[^A-Za-z0-9_-]/g, "_");
  gd.setAttribute("data-testid", "lumbar-3d");
  gd.setAttribute("role", "figure");  // not "img": it holds focusable modebar buttons
  const msg = document.createElement("p");
  msg.className = "lumbar-3d-fallback";
  msg.setAttribute("role", "status");
  msg.hidden = true;
  const hint = document.createElement("p");
  hint.className = "lumbar-3d-hint";
  hint.setAttribute("aria-hidden", "true");  // a mouse hint; the wheel is not the only way to zoom
  hint.setAttribute("data-testid", "lumbar-3d-hint");
  wrap.append(gd, msg, hint);
  parentElement.appendChild(wrap);
  const st = { wrap, gd, msg, hint, plotted: false, busy: false, dirty: false, limits: [0, Infinity],
               groupId: "viewer:" + gd.id };
  st.onWindowResize = () => { if (st.latest) st.gd.style.height = viewerHeight(st.latest) + "px"; };
  window.addEventListener("resize", st.onWindowResize);
  wrap.__lumbar3d = st;
  return wrap;
}

export default function (component) {
  const { data, setStateValue, setTriggerValue, parentElement } = component;
  // A binary frame, or the payload in a one-element list (explorer/ui/viewer3d.py; geometry.js).
  const d = componentData(data);
  if (!d) return;
  mark("3d-data");
  geometryCache(d.settings).store(d.geometry);  // every payload's blobs, even one superseded before drawn
  takeScene((G.memory[d.key] ??= {}), d.scene);
  let wrap = parentElement.querySelector(":scope > .lumbar-3d-wrap");
  if (!wrap || !wrap.__lumbar3d) {
    wrap?.remove();
    wrap = mount(parentElement, d);
  }
  const st = wrap.__lumbar3d;
  st.api = { setStateValue, setTriggerValue };
  st.latest = d;
  st.dirty = true;
  st.gd.style.height = viewerHeight(d) + "px";
  st.gd.style.setProperty("--lumbar-3d-bg", d.settings.background);
  st.gd.setAttribute("aria-label", d.ariaLabel);
  st.hint.textContent = d.settings.wheelHint;
  scrollIfRequested(st, d);
  if (!hasWebGL()) {
    showMessage(st, d.fallbackText);
  } else {
    pump(st);
  }
  return () => teardownIfRemoved(wrap);
}

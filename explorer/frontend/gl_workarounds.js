// Every place the front end works around a browser cost or reaches into Plotly's internals.
//
// Each workaround below
//  * says why it exists,
//  * can be switched off: Python's setting (LUMBAR_NO_WORKAROUNDS=all or a comma list of the ids
//    below, sent as data), the page's URL (?no_workarounds=all or ?no_workarounds=id,id), or
//    localStorage["lumbar.no_workarounds"] (survives Streamlit rewriting the URL), and
//  * only runs on the plotly.js version it was written and measured for (WRITTEN_FOR_PLOTLY):
//    on another version it is skipped with one console warning, and the public-API path is used.
// tests/js/gl_workarounds.test.js fails when the plotly package's plotly.js is not that version,
// so an upgrade makes someone re-check every entry here.

export const WRITTEN_FOR_PLOTLY = "4.1.1";

export const WORKAROUNDS = Object.freeze({
  // plotly.js draws 3D text labels into a 2D canvas and reads its pixels back (getImageData);
  // that canvas is created while plotly.min.js is evaluated. Read-back from a GPU canvas is slow
  // with software WebGL, so 2D canvases created while the script loads are CPU-backed
  // (willReadFrequently). getContext is replaced page-wide only while the script evaluates.
  readbackCanvases: "CPU-backed 2D canvases while plotly.min.js loads (3D text labels read pixels back)",
  // plotly.js's WebGL helpers check their shader/program caches with gl.isShader / gl.isProgram
  // and re-read gl.getProgramParameter for every mesh (about 1,900 calls for this scene). Each is
  // a synchronous round trip to the GPU process, which with software WebGL may be busy painting
  // (0.2-0.4 s per first draw on a quiet machine). For contexts created during our newPlot, they
  // are answered from what the context created, deleted and linked (the answers WebGL gives).
  fastValidityChecks: "answer isShader/isProgram/getProgramParameter without a GPU round trip during newPlot",
  // The live camera: _fullLayout.scene._scene.getCamera() is current even mid-drag and while
  // the camera eases after one; gd.layout.scene.camera only after plotly_relayout.
  liveCamera: "read the 3D camera from the scene object (current mid-drag)",
  // The 3D scene is drawn at the screen's pixel ratio (Plotly's default is 2x even on 1x screens:
  // four times the pixels to fill); the modebar's PNG download re-plots a copy with the graph's
  // config, so _context.plotGlPixelRatio is set to 2 for the moment of the click.
  pngAtDoubleResolution: "PNG downloads at 2x while the screen draws at 1x",
  // Wheel zoom limits: the 3D camera's view clamps its distance (Plotly creates it with 0.01-100)
  // through view.setDistanceLimits(lo, hi). (The controls' own `distanceLimits` setter passes
  // its array as `lo` and sets no limit in 4.1.1.) Without this the viewer corrects the camera
  // after a zoom instead (a visible jump back, one extra redraw).
  zoomLimits: "clamp wheel zoom inside Plotly's camera view (setDistanceLimits)",
  // Plotly.react hands every mesh3d trace to its WebGL mesh's update(), which rebuilds and
  // re-uploads all of the mesh's buffers (about 156 bytes a triangle: 10-12 MB for this scene)
  // even when nothing about that trace changed. The mesh trace's update is wrapped: an unchanged
  // trace is skipped, a trace whose highlight values or opacity alone changed gets only those
  // buffers rewritten (triangle UVs, triangle colours), anything else takes Plotly's own path.
  meshUpdateMemo: "update only the WebGL buffers of mesh traces whose highlight or opacity changed",
});

function parseList(text) {
  return String(text || "").split(",").map((s) => s.trim()).filter(Boolean);
}

// Which workarounds run. `off`: ids (or "all") switched off by Python's setting; `search`: the
// page's query string; `stored`: localStorage's value.
export class Workarounds {
  constructor({ off = [], search = "", stored = "", warn = (...a) => console.warn(...a) } = {}) {
    const fromUrl = new URLSearchParams(search).get("no_workarounds");
    this.off = new Set([...off, ...parseList(fromUrl), ...parseList(stored)]);
    this.warn = warn;
    this.warned = new Set();
  }

  // True if workaround `id` may run with plotly.js `version` (warns once per id when skipped
  // because of the version).
  enabled(id, version) {
    if (!(id in WORKAROUNDS)) throw new Error("unknown workaround " + id);
    if (this.off.has("all") || this.off.has(id)) return false;
    if (String(version) !== WRITTEN_FOR_PLOTLY) {
      if (!this.warned.has(id)) {
        this.warned.add(id);
        this.warn(`lumbar viewer: workaround "${id}" skipped: written for plotly.js ${WRITTEN_FOR_PLOTLY}, `
          + `found ${version}. Re-check explorer/frontend/gl_workarounds.js.`);
      }
      return false;
    }
    return true;
  }
}

// ---- readbackCanvases
// Replace proto.getContext so that 2D contexts default to willReadFrequently; returns restore().
export function readbackCanvasesWhileLoading(proto) {
  const original = proto.getContext;
  const patched = function (type, options) {
    if (type === "2d" && (options == null || options.willReadFrequently === undefined)) {
      options = Object.assign({}, options, { willReadFrequently: true });
    }
    return original.call(this, type, options);
  };
  proto.getContext = patched;
  return () => { if (proto.getContext === patched) proto.getContext = original; };
}

// ---- fastValidityChecks
export function fastValidityChecks(gl) {
  if (!gl || gl.__lumbarFast) return gl;
  const proto = Object.getPrototypeOf(gl);
  const live = new WeakSet();
  const params = new WeakMap();  // program -> Map(pname -> value), valid until relinked
  let lost = false;
  gl.canvas?.addEventListener?.("webglcontextlost", () => { lost = true; });
  const direct = () => lost || gl.isContextLost();
  gl.createShader = function (type) { const o = proto.createShader.call(this, type); if (o) live.add(o); return o; };
  gl.createProgram = function () { const o = proto.createProgram.call(this); if (o) live.add(o); return o; };
  gl.deleteShader = function (o) { live.delete(o); return proto.deleteShader.call(this, o); };
  gl.deleteProgram = function (o) { live.delete(o); params.delete(o); return proto.deleteProgram.call(this, o); };
  gl.linkProgram = function (o) { params.delete(o); return proto.linkProgram.call(this, o); };
  gl.isShader = function (o) { return direct() ? proto.isShader.call(this, o) : !!o && live.has(o); };
  gl.isProgram = function (o) { return direct() ? proto.isProgram.call(this, o) : !!o && live.has(o); };
  gl.getProgramParameter = function (o, pname) {
    if (direct() || !o || !live.has(o)) return proto.getProgramParameter.call(this, o, pname);
    let m = params.get(o);
    if (!m) params.set(o, (m = new Map()));
    if (!m.has(pname)) m.set(pname, proto.getProgramParameter.call(this, o, pname));
    return m.get(pname);
  };
  gl.__lumbarFast = true;
  return gl;
}

// Run fn() with WebGL contexts created meanwhile (Plotly's scene) given fastValidityChecks;
// proto.getContext is replaced page-wide only until fn() settles.
export async function withFastWebGL(proto, fn) {
  const original = proto.getContext;
  const patched = function (type, ...rest) {
    const ctx = original.call(this, type, ...rest);
    return /webgl/i.test(String(type)) ? fastValidityChecks(ctx) : ctx;
  };
  proto.getContext = patched;
  try {
    return await fn();
  } finally {
    if (proto.getContext === patched) proto.getContext = original;
  }
}

// ---- liveCamera (internal path) with the public fallback
export function liveCamera(gd, useInternals) {
  const internal = useInternals ? gd?._fullLayout?.scene?._scene?.getCamera?.() : null;
  const cam = internal ?? gd?.layout?.scene?.camera ?? null;
  return cam ? JSON.parse(JSON.stringify(cam)) : null;
}

// ---- pngAtDoubleResolution: 2x for the download started by this click; returns false if the
// graph has no context to change.
export function pngAtDoubleResolution(gd, schedule = (f) => setTimeout(f, 0)) {
  const ctx = gd?._context;
  if (!ctx) return false;
  const live = ctx.plotGlPixelRatio;
  ctx.plotGlPixelRatio = 2;
  schedule(() => { ctx.plotGlPixelRatio = live; });
  return true;
}

// ---- zoomLimits: returns false when the camera controls are not there (caller falls back).
export function setZoomLimits(gd, [lo, hi]) {
  const view = gd?._fullLayout?.scene?._scene?.camera?.view;
  if (typeof view?.setDistanceLimits !== "function") return false;
  view.setDistanceLimits(lo, hi);
  return true;
}

// ---- meshUpdateMemo
// Trace properties that shape a mesh's look in WebGL beside its geometry, highlight values and
// opacity: a change in any of them takes Plotly's full update.
export const MESH_LOOK_KEYS = Object.freeze([
  "color", "colorscale", "cmin", "cmax", "cauto", "cmid", "reversescale", "autocolorscale", "coloraxis",
  "intensitymode", "lighting", "lightposition", "flatshading", "contour", "alphahull", "delaunayaxis",
  "vertexcolor", "facecolor", "opacityscale", "visible",
]);
const GEOMETRY_KEYS = ["x", "y", "z", "i", "j", "k"];

function sameValues(a, b) {
  if (a === b) return true;
  if (!a || !b || a.length !== b.length) return false;
  for (let t = 0; t < a.length; t++) if (a[t] !== b[t]) return false;
  return true;
}

function lookKey(trace) {
  const look = {};
  for (const k of MESH_LOOK_KEYS) if (trace[k] !== undefined) look[k] = trace[k];
  return JSON.stringify(look);
}

// What a mesh trace's update must redo, from the trace drawn before (`prev`) to `next` (Plotly's
// full traces). `sameScale`: the scene's data scale is the one `prev` was drawn with.
// Returns {full: true} when geometry or look changed (Plotly's own update), else which of
// {intensity, opacity} changed (both false: nothing to upload).
export function meshUpdatePlan(prev, next, sameScale = true) {
  if (!prev || !next) return { full: true, why: "new" };
  if (!sameScale) return { full: true, why: "scale" };
  // The geometry arrays come from the viewer's cache: the same typed arrays while unchanged.
  if (GEOMETRY_KEYS.some((k) => prev[k] !== next[k])) return { full: true, why: "geometry" };
  if (lookKey(prev) !== lookKey(next)) return { full: true, why: "look" };
  return { full: false, intensity: !sameValues(prev.intensity, next.intensity), opacity: prev.opacity !== next.opacity };
}

// The triangle UVs gl-mesh3d builds from per-vertex intensity: for each triangle, its corners in
// the order k, j, i, each (value - lo) / (hi - lo), 0.
export function triangleUVs(i, j, k, intensity, lo, hi) {
  const m = i.length;
  const out = new Float32Array(6 * m);
  const span = hi - lo;
  for (let t = 0, o = 0; t < m; t++) {
    out[o] = (intensity[k[t]] - lo) / span; out[o + 2] = (intensity[j[t]] - lo) / span;
    out[o + 4] = (intensity[i[t]] - lo) / span;
    o += 6;
  }
  return out;
}

// The triangle colours gl-mesh3d builds for one mesh colour: every corner [r, g, b, a * opacity].
export function triangleColors(m, rgba, opacity) {
  const out = new Float32Array(12 * m);
  const a = rgba[3] * opacity;
  for (let o = 0; o < out.length; o += 4) {
    out[o] = rgba[0]; out[o + 1] = rgba[1]; out[o + 2] = rgba[2]; out[o + 3] = a;
  }
  return out;
}

// "#RRGGBB" -> [r, g, b, 1] in 0..1 (what Plotly passes as meshColor); null for anything else.
export function hexRgba(color) {
  const m = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(String(color ?? ""));
  return m ? [parseInt(m[1], 16) / 255, parseInt(m[2], 16) / 255, parseInt(m[3], 16) / 255, 1] : null;
}

// Rewrite only the buffers `plan` names on a Plotly mesh3d trace object; false (nothing touched)
// when this trace is not one the partial path can reproduce exactly.
export function applyPartialUpdate(trace, next, plan) {
  const mesh = trace?.mesh;
  const m = next?.i?.length;
  if (!mesh || !m || mesh.triangleCount !== m) return false;  // gl-mesh3d dropped non-finite triangles
  let uvs = null, colors = null;
  if (plan.intensity) {
    const lo = Number(next.cmin), hi = Number(next.cmax);
    if (!next.intensity || next.intensitymode !== "vertex" || !(hi > lo) || next.intensity.length !== next.x.length
        || typeof mesh.triangleUVs?.update !== "function") return false;
    uvs = triangleUVs(next.i, next.j, next.k, next.intensity, lo, hi);
  }
  if (plan.opacity) {
    const rgba = next.intensity ? [1, 1, 1, 1] : hexRgba(next.color);
    if (!rgba || !(next.opacity >= 0) || typeof mesh.triangleColors?.update !== "function") return false;
    colors = { data: triangleColors(m, rgba, next.opacity), alpha: next.opacity < 1 || rgba[3] < 1 };
  }
  if (uvs) {
    mesh.triangleUVs.update(uvs);
    mesh.intensity = next.intensity;  // what gl-mesh3d picks with
  }
  if (colors) {
    mesh.triangleColors.update(colors.data);
    mesh.opacity = next.opacity;
    mesh.hasAlpha = colors.alpha;
  }
  mesh.dirty = true;
  trace.data = next;
  if (!next.intensity) trace.color = next.color;
  return true;
}

// Wrap the update() of the scene's mesh3d trace objects (their shared prototype, once per page).
// `stats` counts what each update did: {full, partial, skipped}. Returns false when the scene or
// a mesh trace is not where this version of Plotly keeps them (nothing changed then).
export function installMeshUpdateMemo(gd, stats = {}) {
  const traces = gd?._fullLayout?.scene?._scene?.traces;
  const sample = traces && Object.values(traces).find((t) => t?.mesh && t?.data?.type === "mesh3d");
  const proto = sample && Object.getPrototypeOf(sample);
  if (!proto || typeof proto.update !== "function") return false;
  const scale = JSON.stringify(gd._fullLayout.scene._scene.dataScale ?? null);
  for (const t of Object.values(traces)) if (t && t.__lumbarScale === undefined) t.__lumbarScale = scale;
  if (proto.__lumbarMemo) { proto.__lumbarMemo.stats = stats; return true; }
  const original = proto.update;
  const memo = { stats };
  proto.update = function (data) {
    const scale = JSON.stringify(this.scene?.dataScale ?? null);
    const plan = meshUpdatePlan(this.data, data, this.__lumbarScale === scale);
    const s = memo.stats;
    if (!plan.full && !plan.intensity && !plan.opacity) {
      this.data = data;
      s.skipped = (s.skipped || 0) + 1;
      return undefined;
    }
    if (!plan.full && applyPartialUpdate(this, data, plan)) {
      s.partial = (s.partial || 0) + 1;
      return undefined;
    }
    s.full = (s.full || 0) + 1;
    // The last full updates and why (diagnostics for tests and benchmarks).
    (s.log ??= []).push({ uid: String(data?.uid ?? ""), why: plan.why ?? "partial path refused",
                          triangles: data?.i?.length ?? 0 });
    if (s.log.length > 200) s.log.splice(0, s.log.length - 200);
    const out = original.call(this, data);
    this.__lumbarScale = scale;
    return out;
  };
  proto.__lumbarMemo = memo;
  return true;
}

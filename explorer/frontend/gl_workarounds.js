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
  // gl.isBuffer too: the transparency pass (a-big-triangle) asks it once in every frame, in the
  // middle of the frame, so the page waited there for the GPU to draw the opaque meshes
  // (measured 50-110 ms of main thread per frame; the floor app pays it as well).
  fastValidityChecks: "answer isShader/isProgram/isBuffer/getProgramParameter without a GPU round trip",
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
  // buffers rewritten (triangle UVs, triangle colours). A trace whose colours changed (another
  // colour scale: a nerve lit or no longer lit; a flat colour) keeps its geometry buffers: the
  // lighting and opacity are set, the UVs and colours rewritten, and the colour scale's texture
  // (256x256 RGBA, 256 KB in gl-mesh3d) is taken from a pool shared by the scene's meshes, made
  // once per colour scale per page. Anything else takes Plotly's own path.
  meshUpdateMemo: "update only the WebGL buffers of mesh traces whose highlight, colours or opacity changed",
  // plotly.js builds CSS selectors from trace uids without escaping them (Plots.cleanPlot removes a
  // gone trace's colour bar with select(".cb" + uid)). A ":" makes that throw (the body chart's
  // "pain-path:0:back": every Plotly.react dropping such a trace failed), a "~" makes it match
  // nothing (the 3D nerves' "root-L5-left~intensity": a gone trace's squeeze legend stayed on
  // screen beside the new one). Uids are handed to Plotly with every other character escaped.
  cssSafeUids: "hand Plotly trace uids made of letters, digits, '-' and '_' only (it uses them in CSS selectors)",
  // Every Plotly.react that recalculates (a highlight or a colour changed: each condition change)
  // runs PlotSchema.findArrayAttributes on every trace, which walks the trace type's whole
  // attribute schema (thousands of entries, two array copies per entry) to find the few
  // attributes that hold arrays: measured about 110 ms of each change's main-thread time (the
  // 43 traces of the 3D view and the body chart's areas). The walk depends only on the schema:
  // it is done once per trace type and remembered (which attribute paths may hold arrays), and
  // each trace is then looked up along those paths only. The first calls per trace type are
  // checked against Plotly's own answer; one difference switches the memo off for the page.
  fastArrayAttributes: "find a trace's array attributes from a per-type list of candidate paths, not a schema walk",
  // gl-shader (inside plotly.js) builds each shader of each new mesh twice: a throwaway program
  // linked only to read back its uniforms and attributes (then deleted), and the real one, cached
  // by source. Reading the throwaway's link status waits for the GPU process to link it: six
  // links per mesh (its triangle, line, point, pick and contour shaders), measured 150-250 ms of
  // main thread for every condition change that adds a lesion mesh, and one such wait per shader
  // of each of the 43 meshes on the first draw. On contexts made during our newPlot, a program
  // whose shader sources and attribute bindings equal those of a program linked before is linked
  // only when it is used: its link status, log, uniform and attribute lists are the first one's
  // (the same sources link to the same program). Anything else asked of it links it first.
  reuseProgramLinks: "answer a new program's link status and reflection from an earlier program with the same sources",
  // After every redraw that changed anything (each condition change, each camera step), gl-plot3d
  // (inside plotly.js) draws every mesh a second time into a hidden picking framebuffer (each
  // mesh in its own id colour), and 1 ms later reads that framebuffer back with a synchronous
  // readPixels into a CPU copy; hover labels and clicks on meshes look the pointer up in that
  // copy. With software WebGL the second draw and the read-back (the page waits for the GPU to
  // finish the whole frame) cost 135-200 ms of each change, although nobody points at the view
  // while picking a condition in the sidebar. While neither the pointer is over the 3D view nor
  // the keyboard focus inside it, the pass is recorded instead of drawn (the framebuffer is
  // still cleared, the CPU copy reads "nothing here"); the moment the pointer comes over the view
  // (or focus comes in), before Plotly's own mouse listener looks anything up, the recorded pass
  // is drawn and read back with the camera of the frame on screen: the same pixels Plotly would
  // have read. While the pointer is over the view, Plotly's own pass runs in every frame.
  deferPickPass: "draw and read back Plotly's 3D picking buffer only when the pointer or focus is over the view",
  // When any mesh is see-through, each gl-plot3d frame draws every opaque mesh twice: once onto the
  // screen, then again into its transparency framebuffer with every colour channel masked, only to
  // fill that framebuffer's depth (the see-through meshes are then tested against it). That second
  // draw still runs gl-mesh3d's lit fragment shader (normals, Cook-Torrance specular, colour
  // texture) for every covered pixel, although it writes no colour: measured 35-105 ms of each
  // 190-440 ms software frame of this scene (the floor app pays it too: its default view has 6
  // see-through meshes, a story view 14-17). In that depth-only draw an opaque mesh is drawn with its
  // own picking program (gl-mesh3d's drawPick: the same triangles from the same vertex array,
  // gl_Position by the same expression, the same discard outside the clip box; an opaque mesh's
  // colours all have alpha 1, so the lit shader's other discard, alpha 0, never fires): the same
  // depth, so the same picture (full frames read back: 0 pixels differ), for 23-47 ms less a frame.
  depthPrepassPick: "fill the transparency pass's depth with each opaque mesh's picking program, not its lit shader",
  // A faded mesh (the story view's see-through occluders, opacity 0.12) is drawn in the transparency
  // pass by gl-mesh3d's lit fragment shader: per pixel a Cook-Torrance specular term (exp, pow, five
  // normalisations) for every covered pixel of both its faces. With software WebGL that shader is
  // most of what a faded mesh costs (frame of a story view with the faded meshes drawn by a flat
  // shader instead: 0.62-0.76x, without them at all: 0.56-0.75x). Meshes at most
  // VERTEX_LIT_MAX_OPACITY opaque are drawn with the same lighting worked out at their vertices
  // (for the front and the back face) and interpolated across each triangle (Gouraud): at 12%
  // opacity the light of a faded bone moves a pixel by a few levels of 255 at most. More opaque
  // meshes (discs, the sac, the lesion) keep gl-mesh3d's own shader.
  seeThroughVertexLit: "light faded (see-through) meshes at their vertices, not per pixel",
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
  // Buffers: WebGL's isBuffer is true for a buffer of this context that was bound at least once
  // and not deleted since (a created, never bound buffer is not a buffer yet).
  const buffers = new WeakSet(), bound = new WeakSet();
  gl.createBuffer = function () { const o = proto.createBuffer.call(this); if (o) buffers.add(o); return o; };
  gl.deleteBuffer = function (o) { buffers.delete(o); return proto.deleteBuffer.call(this, o); };
  gl.bindBuffer = function (target, o) {
    if (o && buffers.has(o)) bound.add(o);
    return proto.bindBuffer.call(this, target, o);
  };
  gl.isBuffer = function (o) {
    return direct() ? proto.isBuffer.call(this, o) : !!o && buffers.has(o) && bound.has(o);
  };
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

// ---- reuseProgramLinks
// WebGL program queries whose answers depend only on what was linked (same sources and attribute
// bindings: same answers), recorded from the first program of each kind.
const LINK_PARAMS = { LINK_STATUS: 35714, ACTIVE_UNIFORMS: 35718, ACTIVE_ATTRIBUTES: 35721 };
// Functions that take a program and need it really linked (or change what a link would use).
const PROGRAM_USES = ["useProgram", "getUniformLocation", "getAttribLocation", "validateProgram", "getUniform",
  "getAttachedShaders", "detachShader", "attachShader", "bindAttribLocation", "getUniformBlockIndex",
  "uniformBlockBinding", "getActiveUniforms", "getActiveUniformBlockParameter", "getActiveUniformBlockName",
  "getFragDataLocation", "transformFeedbackVaryings", "getTransformFeedbackVarying"];
// Functions that change a shader some deferred program may still have to be linked with.
const SHADER_CHANGES = ["shaderSource", "compileShader", "deleteShader"];

// Wrap `gl` (after fastValidityChecks, whose answers it builds on) so a program whose vertex and
// fragment sources and attribute bindings equal those of a program linked earlier is not linked
// until something uses it; `stats` counts {linked, deferred, realized}. A lost context takes
// WebGL's own path.
export function reuseProgramLinks(gl, stats = {}) {
  if (!gl || gl.__lumbarLinks) return gl;
  const prev = {};  // the functions wrapped, as they were (fastValidityChecks' or WebGL's own)
  const names = ["createShader", "linkProgram", "deleteProgram", "getProgramParameter", "getActiveUniform",
    "getActiveAttrib", "getProgramInfoLog", ...PROGRAM_USES, ...SHADER_CHANGES];
  for (const n of names) if (typeof gl[n] === "function") prev[n] = gl[n];
  if (!prev.linkProgram || !prev.getProgramParameter || !prev.attachShader) return gl;
  const VERTEX = gl.VERTEX_SHADER ?? 35633;
  const linkParams = new Set(Object.keys(LINK_PARAMS).map((k) => gl[k] ?? LINK_PARAMS[k]));
  const kind = new WeakMap(), source = new WeakMap();  // shader -> type, source
  const attached = new WeakMap(), bindings = new WeakMap();  // program -> shaders, [location, name]
  const known = new Map();  // what was linked (key) -> answers recorded from the first program
  const learning = new WeakMap(), deferred = new Map();  // program -> the record it answers from
  let lost = false;
  gl.canvas?.addEventListener?.("webglcontextlost", () => { lost = true; });
  const direct = () => lost || gl.isContextLost();
  // What a link of `program` would use, or null when part of it is not known here (a shader made
  // or sourced before this wrapper: such programs are always linked).
  const keyOf = (program) => {
    const shaders = attached.get(program) ?? [];
    if (shaders.length < 2 || shaders.some((sh) => !kind.has(sh) || !source.has(sh))) return null;
    const text = (type) => shaders.filter((sh) => (kind.get(sh) === VERTEX) === (type === VERTEX))
      .map((sh) => source.get(sh)).join("\u0001");
    const bound = (bindings.get(program) ?? []).map(([loc, name]) => loc + "=" + name).sort();
    return JSON.stringify([text(VERTEX), text(0), bound]);
  };
  const realize = (program) => {
    const rec = deferred.get(program);
    if (!rec) return;
    deferred.delete(program);
    prev.linkProgram.call(gl, program);
    learning.set(program, rec);
    stats.realized = (stats.realized || 0) + 1;
  };
  const realizeAll = () => { for (const p of [...deferred.keys()]) realize(p); };
  // A recorded answer for a deferred program, or WebGL's (recorded when the program was linked here).
  const answer = (program, table, key, ask) => {
    const rec = deferred.get(program);
    if (rec) {
      if (rec[table].has(key)) return rec[table].get(key);
      realize(program);
    }
    const value = ask();
    const learnt = learning.get(program);
    if (learnt && !direct()) learnt[table].set(key, value);
    return value;
  };

  gl.createShader = function (type) {
    const sh = prev.createShader.call(this, type);
    if (sh) kind.set(sh, type);
    return sh;
  };
  gl.shaderSource = function (sh, src) {
    realizeAll();
    source.set(sh, String(src));
    return prev.shaderSource.call(this, sh, src);
  };
  for (const n of ["compileShader", "deleteShader"]) {
    if (prev[n]) gl[n] = function (...a) { realizeAll(); return prev[n].apply(this, a); };
  }
  for (const n of PROGRAM_USES) {
    if (!prev[n]) continue;
    gl[n] = function (program, ...rest) {
      if (program) realize(program);
      if (n === "attachShader" && program) attached.set(program, [...(attached.get(program) ?? []), rest[0]]);
      if (n === "detachShader" && program) attached.set(program, (attached.get(program) ?? []).filter((s) => s !== rest[0]));
      if (n === "bindAttribLocation" && program) bindings.set(program, [...(bindings.get(program) ?? []), [rest[0], rest[1]]]);
      return prev[n].call(this, program, ...rest);
    };
  }
  gl.linkProgram = function (program) {
    realize(program);
    learning.delete(program);
    if (!program || direct()) return prev.linkProgram.call(this, program);
    const key = keyOf(program);
    if (key === null) return prev.linkProgram.call(this, program);
    const rec = known.get(key);
    if (rec && rec.params.get(gl.LINK_STATUS ?? LINK_PARAMS.LINK_STATUS) === true) {
      deferred.set(program, rec);
      stats.deferred = (stats.deferred || 0) + 1;
      return undefined;
    }
    const fresh = rec ?? { params: new Map(), uniforms: new Map(), attribs: new Map(), log: new Map() };
    known.set(key, fresh);
    learning.set(program, fresh);
    stats.linked = (stats.linked || 0) + 1;
    return prev.linkProgram.call(this, program);
  };
  gl.deleteProgram = function (program) {
    deferred.delete(program);  // never linked: nothing else to undo
    learning.delete(program);
    return prev.deleteProgram.call(this, program);
  };
  gl.getProgramParameter = function (program, pname) {
    if (!linkParams.has(pname)) {
      if (program) realize(program);
      return prev.getProgramParameter.call(this, program, pname);
    }
    return answer(program, "params", pname, () => prev.getProgramParameter.call(this, program, pname));
  };
  gl.getActiveUniform = function (program, i) {
    return answer(program, "uniforms", i, () => prev.getActiveUniform.call(this, program, i));
  };
  gl.getActiveAttrib = function (program, i) {
    return answer(program, "attribs", i, () => prev.getActiveAttrib.call(this, program, i));
  };
  gl.getProgramInfoLog = function (program) {
    return answer(program, "log", 0, () => prev.getProgramInfoLog.call(this, program));
  };
  gl.__lumbarLinks = stats;
  return gl;
}

// Run fn() with WebGL contexts created meanwhile (Plotly's scene) given fastValidityChecks (and
// reuseProgramLinks when `links` is set: its stats object); proto.getContext is replaced page-wide
// only until fn() settles.
// `made(ctx)` is told of each WebGL context.
export async function withFastWebGL(proto, fn, { links = null, made = null } = {}) {
  const original = proto.getContext;
  const patched = function (type, ...rest) {
    const ctx = original.call(this, type, ...rest);
    if (!ctx || !/webgl/i.test(String(type))) return ctx;
    fastValidityChecks(ctx);
    if (links) reuseProgramLinks(ctx, links);
    made?.(ctx);
    return ctx;
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
// Look keys that change only colours, lighting uniforms or the colour texture (not geometry,
// normals or which buffers exist): the colour path handles a change confined to them.
export const COLOUR_KEYS = Object.freeze(["color", "colorscale", "cmin", "cmax", "cauto", "cmid", "reversescale",
  "autocolorscale", "lighting", "lightposition"]);
// Lighting settings that shape the normals (a change takes Plotly's full update).
const NORMAL_LIGHTING_KEYS = ["vertexnormalsepsilon", "facenormalsepsilon"];

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
  // From a colour scale to one flat colour or back: gl-mesh3d keeps the old colour texture.
  if ((prev.intensity == null) !== (next.intensity == null)) return { full: true, why: "look" };
  const intensity = !sameValues(prev.intensity, next.intensity), opacity = prev.opacity !== next.opacity;
  if (lookKey(prev) !== lookKey(next)) {
    return colourOnly(prev, next) ? { full: false, colour: true, intensity, opacity } : { full: true, why: "look" };
  }
  return { full: false, intensity, opacity };
}

// True when what differs between two traces' looks is only colours and lighting uniforms, and both
// are coloured the same way (both by intensity per vertex, or both one flat colour).
export function colourOnly(prev, next) {
  const byIntensity = (t) => t.intensity != null;
  if (byIntensity(prev) !== byIntensity(next)) return false;
  if (byIntensity(next) && (next.intensitymode !== "vertex" || prev.intensitymode !== "vertex")) return false;
  for (const k of MESH_LOOK_KEYS) {
    if (JSON.stringify(prev[k]) === JSON.stringify(next[k])) continue;
    if (!COLOUR_KEYS.includes(k)) return false;
    if (k === "lighting" && NORMAL_LIGHTING_KEYS.some((e) => prev.lighting?.[e] !== next.lighting?.[e])) return false;
  }
  return true;
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
  let alphaTexture = null;
  if (plan.opacity) {
    const rgba = next.intensity ? [1, 1, 1, 1] : hexRgba(next.color);
    if (!rgba || !(next.opacity >= 0) || typeof mesh.triangleColors?.update !== "function") return false;
    // A flat colour: the opacity goes into a 1x1 texture's alpha (pooledAlphaTexture); the colours
    // are rewritten (at alpha 1) only if they were uploaded with another alpha.
    alphaTexture = next.intensity ? null : pooledAlphaTexture(mesh, next.opacity);
    const baked = alphaTexture ? 1 : next.opacity;
    colors = { data: mesh.__bakedOpacity === baked ? null : triangleColors(m, rgba, baked),
               baked, alpha: next.opacity < 1 || rgba[3] < 1 };
  }
  if (uvs) {
    mesh.triangleUVs.update(uvs);
    mesh.intensity = next.intensity;  // what gl-mesh3d picks with
  }
  if (colors) {
    if (colors.data) mesh.triangleColors.update(colors.data);
    mesh.__bakedOpacity = colors.baked;
    if (alphaTexture) {
      useTexture(mesh, alphaTexture);
    } else if (!next.intensity) {
      ownTextureBack(mesh);  // the pool was full: the opacity is in the colours, the texture white
    }
    mesh.opacity = next.opacity;
    mesh.hasAlpha = colors.alpha;
  }
  mesh.dirty = true;
  trace.data = next;
  if (!next.intensity) trace.color = next.color;
  return true;
}

// gl-mesh3d update() parameters that carry geometry or per-vertex data (rebuilt and uploaded
// as whole buffers); the colour path passes the others (lighting, opacity: uniforms and flags).
const HEAVY_PARAMS = ["positions", "cells", "vertexIntensity", "vertexIntensityBounds", "cellIntensity",
  "cellIntensityBounds", "meshColor", "vertexColors", "cellColors", "vertexUVs", "cellUVs", "vertexNormals",
  "cellNormals", "pointSizes", "colormap", "texture"];
export const TEXTURE_POOL_MAX = 16;  // distinct colour scales kept per WebGL context

// A gl-texture2d texture on a new handle, clamped at its edges as gl-texture2d's own
// createTexture makes them (WebGL's default wrap is REPEAT: sampling a colour scale at 0 or 1
// would then blend in its other end) and sampled NEAREST until someone sets other filters (the
// default minification filter wants mipmaps: an incomplete texture samples black).
function newTexture(gl, Texture) {
  const handle = gl.createTexture();
  const tex = new Texture(gl, handle, 1, 1, gl.RGBA, gl.UNSIGNED_BYTE);  // gl-texture2d's constructor
  if (typeof gl.texParameteri === "function") {
    gl.bindTexture(gl.TEXTURE_2D, handle);
    gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_WRAP_S, gl.CLAMP_TO_EDGE);
    gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_WRAP_T, gl.CLAMP_TO_EDGE);
    gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_MIN_FILTER, gl.NEAREST);
    gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_MAG_FILTER, gl.NEAREST);
  }
  return tex;
}

// The pooled 1x1 texture [255, 255, 255, alpha] for `mesh`'s context: a flat-coloured mesh's
// opacity. gl-mesh3d's triangle shader multiplies the texture's alpha into the colour exactly as
// it multiplies the colour's alpha (litColor = texture.a * (...); gl_FragColor = litColor *
// color.a), so with the colours uploaded at alpha 1 an opacity change is a texture swap (4 bytes
// once per opacity per page) instead of rewriting every triangle's colours (48 bytes a
// triangle, 200-240 KB for a vertebra or a hip bone made see-through). 8-bit alpha: at most
// 0.5/255 from the float opacity. Null when the pool is full or the types are not the expected ones.
export function pooledAlphaTexture(mesh, opacity) {
  const gl = mesh?.gl, own = mesh?.__ownTexture ?? mesh?.texture;
  const Texture = own?.constructor;
  if (!gl || typeof Texture !== "function" || typeof gl.createTexture !== "function"
      || typeof gl.texImage2D !== "function") return null;
  const alpha = Math.round(Math.min(1, Math.max(0, opacity)) * 255);
  const key = "alpha:" + alpha;
  const pool = (gl.__lumbarTexturePool ??= new Map());
  let tex = pool.get(key);
  if (!tex) {
    if (pool.size >= TEXTURE_POOL_MAX) return null;
    tex = newTexture(gl, Texture);
    gl.texImage2D(gl.TEXTURE_2D, 0, gl.RGBA, 1, 1, 0, gl.RGBA, gl.UNSIGNED_BYTE, new Uint8Array([255, 255, 255, alpha]));
    pool.set(key, tex);
  }
  return { key, texture: tex };
}

// The pooled texture holding `colormap` (gl-mesh3d's colour scale texture) for `mesh`'s context,
// made on first use by gl-mesh3d's own code (one 256 KB upload per colour scale per page); null
// when the pool is full or the texture type is not the expected one (the caller lets gl-mesh3d
// upload into the mesh's own texture instead).
export function pooledColormapTexture(mesh, colormap, update) {
  const gl = mesh?.gl, own = mesh?.__ownTexture ?? mesh?.texture;
  const Texture = own?.constructor;
  if (!gl || typeof Texture !== "function" || typeof gl.createTexture !== "function") return null;
  const key = JSON.stringify([colormap, mesh.opacityscale ?? null]);
  const pool = (gl.__lumbarTexturePool ??= new Map());
  let tex = pool.get(key);
  if (!tex) {
    if (pool.size >= TEXTURE_POOL_MAX) return null;
    tex = newTexture(gl, Texture);
    const current = mesh.texture;
    mesh.texture = tex;
    try {
      update.call(mesh, { colormap });  // gl-mesh3d sizes it 256x256, fills it, makes its mipmaps
    } finally {
      mesh.texture = current;
    }
    pool.set(key, tex);
  }
  return { key, texture: tex };
}

// Give `mesh` its own texture back (before gl-mesh3d writes into it or disposes of it: a pooled
// texture is shared and must outlive every mesh).
function ownTextureBack(mesh) {
  if (mesh?.__ownTexture) {
    mesh.texture = mesh.__ownTexture;
    mesh.__ownTexture = null;
    mesh.__lumbarTextureKey = null;
  }
}

// Draw `mesh` with a pooled texture ({key, texture}); its own is kept for its disposal.
function useTexture(mesh, pooled) {
  if (mesh.__lumbarTextureKey === pooled.key) return;
  if (!mesh.__ownTexture) mesh.__ownTexture = mesh.texture;
  guardDispose(mesh);
  mesh.texture = pooled.texture;
  mesh.__lumbarTextureKey = pooled.key;
}

function guardDispose(mesh) {
  if (mesh.__lumbarDisposeGuard) return;
  const dispose = mesh.dispose;
  mesh.dispose = function (...args) {
    ownTextureBack(this);
    return dispose.apply(this, args);
  };
  mesh.__lumbarDisposeGuard = true;
}

// The colour path: run Plotly's trace update with the gl-mesh3d update captured (Plotly computes
// the colour scale and the lighting exactly as it would), then hand gl-mesh3d only the uniforms
// and flags, take the colour texture from the pool, and rewrite the UVs and colours. `original`:
// Plotly's update of the trace object. False (nothing touched on the mesh) when it cannot.
export function applyColourUpdate(trace, next, plan, original) {
  const mesh = trace?.mesh;
  const m = next?.i?.length;
  if (!mesh || !m || mesh.triangleCount !== m || typeof mesh.update !== "function"
      || typeof mesh.triangleColors?.update !== "function" || typeof mesh.triangleUVs?.update !== "function") return false;
  const flat = next.intensity == null;
  if (!flat && (!(Number(next.cmax) > Number(next.cmin)) || next.intensity.length !== next.x.length)) return false;
  const update = mesh.update;  // gl-mesh3d's (from its prototype)
  const ownUpdate = Object.prototype.hasOwnProperty.call(mesh, "update");
  const prevData = trace.data, prevColor = trace.color;
  let params = null;
  mesh.update = (p) => { params = p; };
  try {
    original.call(trace, next);
  } finally {
    if (ownUpdate) mesh.update = update; else delete mesh.update;
  }
  const rgba = flat ? params?.meshColor : [1, 1, 1, 1];
  if (!params || !rgba || !(next.opacity >= 0)) {  // Plotly refused the trace or colours it another way
    trace.data = prevData;
    trace.color = prevColor;
    return false;
  }
  const rest = {};
  for (const [k, v] of Object.entries(params)) if (!HEAVY_PARAMS.includes(k)) rest[k] = v;
  if (!flat && params.colormap) {
    const pooled = pooledColormapTexture(mesh, params.colormap, update);
    if (pooled) {
      useTexture(mesh, pooled);
    } else {
      ownTextureBack(mesh);
      rest.colormap = params.colormap;  // into the mesh's own texture, as gl-mesh3d does
    }
  }
  update.call(mesh, rest);  // lighting, light position, opacity (sets hasAlpha from it)
  if (!flat) {
    mesh.triangleUVs.update(triangleUVs(next.i, next.j, next.k, next.intensity, Number(next.cmin), Number(next.cmax)));
    mesh.intensity = next.intensity;
  }
  if (flat) {
    // The opacity in a 1x1 texture's alpha when the pool has room (see pooledAlphaTexture).
    const alphaTexture = pooledAlphaTexture(mesh, next.opacity);
    const baked = alphaTexture ? 1 : next.opacity;
    mesh.triangleColors.update(triangleColors(m, rgba, baked));
    mesh.__bakedOpacity = baked;
    if (alphaTexture) useTexture(mesh, alphaTexture); else ownTextureBack(mesh);
  } else if (plan.opacity) {
    mesh.triangleColors.update(triangleColors(m, rgba, next.opacity));
    mesh.__bakedOpacity = next.opacity;
  }
  if (rgba[3] < 1) mesh.hasAlpha = true;
  mesh.dirty = true;
  return true;
}

// Wrap the update() of the scene's mesh3d trace objects (their shared prototype, once per page).
// `stats` counts what each update did: {full, partial, colour, skipped}. Returns false when the scene or
// a mesh trace is not where this version of Plotly keeps them (nothing changed then).
export function installMeshUpdateMemo(gd, stats = {}) {
  const traces = gd?._fullLayout?.scene?._scene?.traces;
  const sample = traces && Object.values(traces).find((t) => t?.mesh && t?.data?.type === "mesh3d");
  const proto = sample && Object.getPrototypeOf(sample);
  if (!proto || typeof proto.update !== "function") return false;
  const scale = JSON.stringify(gd._fullLayout.scene._scene.dataScale ?? null);
  for (const t of Object.values(traces)) {
    if (!t || t.__lumbarScale !== undefined) continue;
    t.__lumbarScale = scale;
    // Drawn before the memo was installed (the first Plotly.newPlot): gl-mesh3d baked this opacity.
    if (t.mesh && t.mesh.__bakedOpacity === undefined) t.mesh.__bakedOpacity = t.data?.opacity;
  }
  if (proto.__lumbarMemo) { proto.__lumbarMemo.stats = stats; return true; }
  const original = proto.update;
  const memo = { stats };
  proto.update = function (data) {
    const scale = JSON.stringify(this.scene?.dataScale ?? null);
    const plan = meshUpdatePlan(this.data, data, this.__lumbarScale === scale);
    const s = memo.stats;
    if (!plan.full && !plan.colour && !plan.intensity && !plan.opacity) {
      this.data = data;
      s.skipped = (s.skipped || 0) + 1;
      return undefined;
    }
    if (!plan.full && plan.colour && applyColourUpdate(this, data, plan, original)) {
      s.colour = (s.colour || 0) + 1;
      return undefined;
    }
    if (!plan.full && !plan.colour && applyPartialUpdate(this, data, plan)) {
      s.partial = (s.partial || 0) + 1;
      return undefined;
    }
    s.full = (s.full || 0) + 1;
    ownTextureBack(this.mesh);  // Plotly's update writes the colour scale into the mesh's texture
    // The last full updates and why (diagnostics for tests and benchmarks).
    (s.log ??= []).push({ uid: String(data?.uid ?? ""), why: plan.why ?? "partial path refused",
                          triangles: data?.i?.length ?? 0 });
    if (s.log.length > 200) s.log.splice(0, s.log.length - 200);
    const out = original.call(this, data);
    this.__lumbarScale = scale;
    if (this.mesh) this.mesh.__bakedOpacity = data?.opacity;  // gl-mesh3d bakes it into the colours
    return out;
  };
  proto.__lumbarMemo = memo;
  return true;
}

// ---- cssSafeUids
const CSS_SAFE = /^[A-Za-z0-9_-]*$/;

// `uid` with every character outside [A-Za-z0-9-] written as "_<hex code>_" (so distinct uids stay
// distinct: "_" itself is escaped too).
export function cssSafeUid(uid) {
  const text = String(uid);
  if (CSS_SAFE.test(text) && !text.includes("_")) return text;
  return text.replace(/[^A-Za-z0-9-]/g, (c) => "_" + c.codePointAt(0).toString(16) + "_");
}

// `data` with unsafe uids replaced; a trace needing no change is passed through, one that does
// becomes a copy remembered per trace object in `cache` (a WeakMap), so an unchanged trace is the
// same object on every call (Plotly.react sees it unchanged).
export function withCssSafeUids(data, cache) {
  return data.map((t) => {
    if (!t || t.uid == null || cssSafeUid(t.uid) === String(t.uid)) return t;
    let safe = cache.get(t);
    if (!safe) {
      safe = { ...t, uid: cssSafeUid(t.uid) };
      cache.set(t, safe);
    }
    return safe;
  });
}

// ---- fastArrayAttributes
// Plotly's isArrayOrTypedArray and isPlainObject (lib/is_array.js, lib/is_plain_object.js).
function isArrayOrTypedArray(a) {
  return Array.isArray(a) || (ArrayBuffer.isView(a) && !(a instanceof DataView));
}

// Plotly asks `window.process.versions` on every call (an Electron check); a name missing on `window`
// is a slow lookup (the window's named-property interceptor). A CPU profile of a loaded machine put
// 20 ms of each body-chart react in this function. Whether the page runs in Electron does not
// change while it runs: asked once.
let electronPage;
function isPlainObject(obj) {
  electronPage ??= !!globalThis.window?.process?.versions;
  if (electronPage) return Object.prototype.toString.call(obj) === "[object Object]";
  return Object.prototype.toString.call(obj) === "[object Object]"
    && Object.prototype.hasOwnProperty.call(Object.getPrototypeOf(obj), "hasOwnProperty");
}

// The attribute paths of schema `attrs` that findArrayAttributes looks up in a trace: walked with
// Plotly's own crawl, kept where its callback would look (plot_api/plot_schema.js: a data_array
// or arrayOk attribute, except colorbar.tickvals/ticktext), each as {stack, linked}: the names
// from the top and, per level, whether that level is an array of objects (_isLinkedToArray).
export function arrayAttributePaths(crawl, attrs) {
  const out = [];
  let stack = [], linked = [];
  crawl(attrs, (attr, name, _attrs, level) => {
    stack = stack.slice(0, level).concat([name]);
    linked = linked.slice(0, level).concat([attr && attr._isLinkedToArray]);
    const splittable = attr && (attr.valType === "data_array" || attr.arrayOk === true)
      && !(stack[level - 1] === "colorbar" && (name === "ticktext" || name === "tickvals"));
    if (splittable) out.push({ stack, linked });
  });
  return out;
}

// findArrayAttributes' answer for `trace` along `paths` (its crawlIntoTrace, in the same order).
export function arrayAttributesAlong(paths, trace) {
  const out = [];
  const into = (container, stack, linked, i, partial) => {
    const item = container[stack[i]];
    const here = partial + stack[i];
    if (i === stack.length - 1) {
      if (isArrayOrTypedArray(item)) out.push(here);
    } else if (linked[i]) {
      if (Array.isArray(item)) {
        for (let j = 0; j < item.length; j++) {
          if (isPlainObject(item[j])) into(item[j], stack, linked, i + 1, here + "[" + j + "].");
        }
      }
    } else if (isPlainObject(item)) {
      into(item, stack, linked, i + 1, here + ".");
    }
  };
  for (const { stack, linked } of paths) into(trace, stack, linked, 0, "");
  return out;
}

const sameList = (a, b) => Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((x, i) => x === b[i]);

// Replace PlotSchema.findArrayAttributes (Plotly.PlotSchema: the object Plotly's doCalcdata calls
// it on) with the per-type memo. `checks`: calls per trace type answered both ways and compared.
// Returns the stats object ({fast, slow, types, mismatch}), or null when PlotSchema is not the
// expected shape (nothing changed).
export function fastArrayAttributes(PlotSchema, { checks = 3, warn = (...a) => console.warn(...a) } = {}) {
  if (typeof PlotSchema?.findArrayAttributes !== "function" || typeof PlotSchema?.crawl !== "function") return null;
  if (PlotSchema.__lumbarArrayAttrs) return PlotSchema.__lumbarArrayAttrs;
  const original = PlotSchema.findArrayAttributes;
  const stats = { fast: 0, slow: 0, types: 0, mismatch: null };
  const plans = new Map();  // trace module (one per trace type) -> {paths, checked}
  PlotSchema.findArrayAttributes = function (trace) {
    const key = trace?._module;
    if (stats.mismatch || !key || trace.transforms !== undefined) {
      stats.slow += 1;
      return original.call(this, trace);
    }
    let plan = plans.get(key);
    if (!plan) {
      // The schemas Plotly walks for this trace (its top-level crawl calls: the base attributes,
      // then the type's), recorded while Plotly answers this first call itself.
      const roots = [];
      const crawl = PlotSchema.crawl;
      PlotSchema.crawl = function (attrs, cb, level, ...rest) {
        if (!level) roots.push(attrs);
        return crawl.call(this, attrs, cb, level, ...rest);
      };
      let answer;
      try {
        answer = original.call(this, trace);
      } finally {
        PlotSchema.crawl = crawl;
      }
      const walk = (attrs, cb) => crawl.call(PlotSchema, attrs, cb);
      plan = { paths: roots.flatMap((attrs) => arrayAttributePaths(walk, attrs)), checked: 0 };
      plans.set(key, plan);
      stats.types += 1;
      stats.slow += 1;
      if (!sameList(arrayAttributesAlong(plan.paths, trace), answer)) stats.mismatch = String(trace.type);
      return answer;
    }
    const fast = arrayAttributesAlong(plan.paths, trace);
    if (plan.checked < checks) {
      plan.checked += 1;
      const answer = original.call(this, trace);
      if (!sameList(fast, answer)) {
        stats.mismatch = String(trace.type);
        warn(`lumbar viewer: fastArrayAttributes switched off (a ${trace.type} trace answered differently)`);
        return answer;
      }
    }
    stats.fast += 1;
    return fast;
  };
  PlotSchema.__lumbarArrayAttrs = stats;
  return stats;
}

// ---- shared by the workarounds below, which wrap methods of the scene's objects
// The controller a workaround left on gl-plot3d scene `glplot` under `marker` (installed once per
// scene), its stats now `stats`; undefined when it is not installed yet.
function installedBefore(glplot, marker, stats) {
  const ctl = glplot?.[marker];
  if (ctl) ctl.stats = stats;
  return ctl;
}

// True when `glplot` has the shape these workarounds were written for: `objects`, `add`, and a WebGL
// context with each of `glMethods` (another shape, after a Plotly upgrade: Plotly draws on its own).
function sceneShaped(glplot, glMethods) {
  const gl = glplot?.gl;
  return Boolean(gl && Array.isArray(glplot.objects) && typeof glplot.add === "function"
    && glMethods.every((n) => typeof gl[n] === "function"));
}

// The framebuffer bound on `gl` now (null: the canvas). Read once at install; the wrappers then
// follow bindFramebuffer on the client side, which never waits for the GPU.
function boundFramebuffer(gl) {
  try { return gl.getParameter?.(gl.FRAMEBUFFER_BINDING ?? 0x8CA6) ?? null; } catch (e) { return null; }
}

// Replace `method` of every object of gl-plot3d scene `glplot`, those there now and those added
// later, with `makeWrapper(original)`; the original stays on the object as `keepAs`, which also marks
// it wrapped (so a second install does not wrap twice).
function wrapEveryObject(glplot, method, keepAs, makeWrapper) {
  const wrap = (obj) => {
    if (!obj || typeof obj[method] !== "function" || obj[keepAs]) return;
    const original = obj[method];
    obj[keepAs] = original;
    obj[method] = makeWrapper(original);
  };
  glplot.objects.forEach(wrap);
  const add = glplot.add;
  glplot.add = function (obj) {
    wrap(obj);
    return add.call(this, obj);
  };
}

// True when gl-mesh3d mesh `m` draws triangles only: edges, points and contour lines are drawn by
// other programs in the same call, which a workaround that swaps the triangle program must leave alone.
function trianglesOnly(m) {
  return m.triangleCount > 0 && !(m.edgeCount > 0) && !(m.pointCount > 0) && !(m.contourEnable && m.contourCount > 0);
}

// ---- deferPickPass
// gl-plot3d's scene (gd._fullLayout.scene._scene.glplot): `objects` (what it draws, in order),
// `cameraParams` (the matrices of the frame drawn last), `gl`, `add`, `_stopped`, `contextLost`.
// Its pick pass (createScene's drawPick) is, per picking buffer (gl-select-static): `begin()`
// (bind its framebuffer, set the viewport to its size, clearColor(1, 1, 1, 1), clear colour and
// depth), `obj.pixelRatio = 1; obj.drawPick(cameraParams)` for each object picked into it, then
// `end()` (unbind, and 1 ms later: bind, readPixels of the whole buffer into its CPU copy).
// Everything recorded here is what those calls show: the framebuffer bound when an object's
// drawPick is called, the viewport set on it, the readPixels made while it is bound.
const PICK_CLEAR = 0x4000 | 0x100;  // COLOR_BUFFER_BIT | DEPTH_BUFFER_BIT

// Install on `glplot` (once per scene; later calls return the same controller). `stats` counts
// {passes, deferred, drawsSkipped, readsSkipped, reads, redrawn, lateReads}. Returns the
// controller ({setOver(bool), refresh(), stale()}) or null when the scene is not the shape this
// was written for (nothing changed then: Plotly picks as it always does).
export function installPickDeferral(glplot, stats = {}) {
  const before = installedBefore(glplot, "__lumbarPick", stats);
  if (before) return before;
  if (!sceneShaped(glplot, ["bindFramebuffer", "viewport", "clear", "readPixels", "clearColor"])
      || !glplot.cameraParams) return null;
  const gl = glplot.gl;
  const FRAMEBUFFER = gl.FRAMEBUFFER ?? 0x8D40;
  const orig = {};
  for (const n of ["bindFramebuffer", "viewport", "clear", "readPixels"]) orig[n] = gl[n];
  let bound = boundFramebuffer(gl);  // followed by the bindFramebuffer wrapper below
  let clears = 0;       // counts clears of framebuffers: a new pick pass starts with one
  const cleared = new WeakMap();  // framebuffer -> the clear count of its last clear
  // pick framebuffer -> {fb, objects, pass, stale, read: readPixels arguments, readPass}
  const recs = new Map();
  const ctl = {
    stats, over: false,
    stale: () => [...recs.values()].some((r) => r.stale),
    setOver(on) {
      ctl.over = !!on;
      if (ctl.over) ctl.refresh();
    },
    // Draw and read back every deferred pass now (true if one was); the camera is the one of the
    // frame on screen (gl-plot3d draws the pick pass of a frame with that frame's matrices).
    refresh() {
      const todo = [...recs.values()].filter((r) => r.stale);
      if (!todo.length || glplot._stopped || glplot.contextLost || gl.isContextLost?.()) return false;
      const was = bound;
      gl.colorMask(true, true, true, true);
      gl.depthMask(true);
      gl.disable(gl.BLEND);
      gl.enable(gl.DEPTH_TEST);
      gl.depthFunc(gl.LEQUAL);
      for (const rec of todo) {
        rec.stale = false;
        orig.bindFramebuffer.call(gl, FRAMEBUFFER, rec.fb);
        const size = viewports.get(rec.fb);
        if (size) orig.viewport.apply(gl, size);
        gl.clearColor(1, 1, 1, 1);
        orig.clear.call(gl, PICK_CLEAR);
        const live = new Set(glplot.objects);  // one removed since the pass is gone (its buffers too)
        for (const obj of rec.objects) {
          if (!live.has(obj)) continue;
          obj.pixelRatio = 1;
          obj.__lumbarDrawPick.call(obj, glplot.cameraParams);
        }
        stats.redrawn = (stats.redrawn || 0) + 1;
        // The pass's own read-back already happened (skipped): do it now into the same CPU copy.
        // If it is still to come (within 1 ms of the pass), it now reads for real.
        if (rec.read && rec.readPass === rec.pass) {
          orig.readPixels.apply(gl, rec.read);
          stats.lateReads = (stats.lateReads || 0) + 1;
        }
      }
      orig.bindFramebuffer.call(gl, FRAMEBUFFER, was);
      bound = was;
      // gl-plot3d sets the viewport, clear colour and the rest at the start of its next frame.
      if (was === null) orig.viewport.call(gl, 0, 0, gl.drawingBufferWidth, gl.drawingBufferHeight);
      return true;
    },
  };
  gl.bindFramebuffer = function (target, fb) {
    if (target === FRAMEBUFFER) bound = fb ?? null;
    return orig.bindFramebuffer.call(this, target, fb);
  };
  const viewports = new WeakMap();  // framebuffer -> the viewport last set while it was bound (its size)
  gl.viewport = function (...a) {
    if (bound) viewports.set(bound, a);
    return orig.viewport.apply(this, a);
  };
  gl.clear = function (mask) {
    if (bound) cleared.set(bound, ++clears);
    return orig.clear.call(this, mask);
  };
  gl.readPixels = function (...a) {
    const rec = bound && recs.get(bound);
    if (rec) {
      if (rec.stale) {
        // What a read of the cleared buffer gives: "nothing here" everywhere it reads.
        const dest = a[6];
        if (dest && typeof dest.fill === "function") dest.fill(255, 0, Math.min(dest.length, 4 * a[2] * a[3]));
        rec.read = a;
        rec.readPass = rec.pass;
        stats.readsSkipped = (stats.readsSkipped || 0) + 1;
        return undefined;
      }
      stats.reads = (stats.reads || 0) + 1;
    }
    return orig.readPixels.apply(this, a);
  };
  wrapEveryObject(glplot, "drawPick", "__lumbarDrawPick", (drawPick) => function (params) {
    const fb = bound;
    if (!fb) return drawPick.call(this, params);  // not gl-plot3d's pick pass
    let rec = recs.get(fb);
    if (!rec) {
      rec = { fb, objects: [], pass: -1, stale: false, read: null, readPass: -2 };
      recs.set(fb, rec);
    }
    const pass = cleared.get(fb) ?? 0;
    if (rec.pass !== pass) {  // the first object of a new pass into this buffer
      rec.pass = pass;
      rec.objects = [];
      rec.stale = !ctl.over;
      stats.passes = (stats.passes || 0) + 1;
      if (rec.stale) stats.deferred = (stats.deferred || 0) + 1;
    }
    if (!rec.stale) return drawPick.call(this, params);
    rec.objects.push(this);
    stats.drawsSkipped = (stats.drawsSkipped || 0) + 1;
    return undefined;
  });
  glplot.__lumbarPick = ctl;
  return ctl;
}

// ---- depthPrepassPick
// gl-plot3d's frame (createScene's redraw), when an object is see-through: after the opaque objects
// are drawn onto the screen, its accumulation framebuffer is bound, its depth cleared, every colour
// channel masked (colorMask(false, false, false, false)) and each opaque object's draw() called again;
// then the colour mask is restored for the see-through objects. An object's draw() called while a
// framebuffer is bound and every colour channel is masked is that depth-only draw (the screen pass
// runs with no framebuffer bound, the pick pass calls drawPick, not draw).
const CULL_FACE = 0x0B44;

// True when drawPick draws exactly the depth that draw() would for gl-mesh3d mesh `m`: an opaque
// mesh of triangles only (drawPick also draws edges and points, draw() contour lines: those keep
// their own draw), with gl-mesh3d's triangle and picking programs.
export function pickDrawsSameDepth(m) {
  return !!m && typeof m.drawPick === "function" && typeof m.isOpaque === "function" && m.isOpaque() === true
    && !!m.triShader && !!m.pickShader && !!m.triangleVAO && trianglesOnly(m);
}

// Install on `glplot` (once per scene; later calls return the same controller with `stats` swapped
// in). `stats` counts {picked: depth-only draws done with the picking program, kept: depth-only draws
// left to draw()}. Returns the controller ({stats}) or null when the scene is not the shape this was
// written for (nothing changed then).
export function installDepthPrepass(glplot, stats = {}) {
  const before = installedBefore(glplot, "__lumbarDepth", stats);
  if (before) return before;
  if (!sceneShaped(glplot, ["bindFramebuffer", "colorMask", "disable"])) return null;
  const gl = glplot.gl;
  const FRAMEBUFFER = gl.FRAMEBUFFER ?? 0x8D40;
  const ctl = { stats };
  let bound = boundFramebuffer(gl);  // followed by the bindFramebuffer wrapper below
  let masked = false;  // every colour channel masked
  const bindFramebuffer = gl.bindFramebuffer, colorMask = gl.colorMask;
  gl.bindFramebuffer = function (target, fb) {
    if (target === FRAMEBUFFER) bound = fb ?? null;
    return bindFramebuffer.call(this, target, fb);
  };
  gl.colorMask = function (r, g, b, a) {
    masked = !r && !g && !b && !a;
    return colorMask.call(this, r, g, b, a);
  };
  wrapEveryObject(glplot, "draw", "__lumbarDraw", (draw) => function (params) {
    if (!bound || !masked) return draw.call(this, params);
    if (!pickDrawsSameDepth(this)) {
      ctl.stats.kept = (ctl.stats.kept || 0) + 1;
      return draw.call(this, params);
    }
    ctl.stats.picked = (ctl.stats.picked || 0) + 1;
    gl.disable(CULL_FACE);  // as draw() does (drawPick leaves culling as it finds it)
    // Plotly's own drawPick (deferPickPass wraps the method to record pick passes: this is not one).
    return (this.__lumbarDrawPick ?? this.drawPick).call(this, params);
  });
  glplot.__lumbarDepth = ctl;
  return ctl;
}

// ---- seeThroughVertexLit
// gl-mesh3d's draw() (drawTransparent is the same function) binds this.triShader, hands it the frame's
// uniforms (model, view, projection, inverseModel, eyePosition, lightPosition, clipBounds, kambient,
// kdiffuse, kspecular, roughness, fresnel, texture) in one assignment, binds the triangle vertex
// array and draws. For a faded mesh that shader is swapped, for the call, for a stand-in with the
// same two members that uses our program: gl-mesh3d's vertex and fragment code with the lighting
// moved into the vertex shader. Its attributes are bound to the locations of the mesh's own
// program, so the mesh's vertex array feeds it unchanged.
export const VERTEX_LIT_MAX_OPACITY = 0.2;  // the story's faded meshes are 0.12; discs 0.45, the sac 0.3

// gl-mesh3d 2.x's triangle shader (plotly.js 4.1.1), lighting moved to the vertex stage. The
// specular and diffuse terms are computed exactly as there, for the normal as seen from either side
// (gl-mesh3d flips the normal for front-facing fragments).
const LIGHTING_GLSL = `
float beckmannDistribution(float x, float roughness) {
  float NdotH = max(x, 0.0001);
  float cos2Alpha = NdotH * NdotH;
  float tan2Alpha = (cos2Alpha - 1.0) / cos2Alpha;
  float roughness2 = roughness * roughness;
  float denom = 3.141592653589793 * roughness2 * cos2Alpha * cos2Alpha;
  return exp(tan2Alpha / roughness2) / denom;
}
float cookTorranceSpecular(vec3 lightDirection, vec3 viewDirection, vec3 surfaceNormal, float roughness, float fresnel) {
  float VdotN = max(dot(viewDirection, surfaceNormal), 0.0);
  float LdotN = max(dot(lightDirection, surfaceNormal), 0.0);
  vec3 H = normalize(lightDirection + viewDirection);
  float NdotH = max(dot(surfaceNormal, H), 0.0);
  float VdotH = max(dot(viewDirection, H), 0.000001);
  float LdotH = max(dot(lightDirection, H), 0.000001);
  float G1 = (2.0 * NdotH * VdotN) / VdotH;
  float G2 = (2.0 * NdotH * LdotN) / LdotH;
  float G = min(1.0, min(G1, G2));
  float D = beckmannDistribution(NdotH, roughness);
  float F = pow(1.0 - VdotN, fresnel);
  return G * F * D / max(3.14159265 * VdotN, 0.000001);
}`;

export const VERTEX_LIT_VERT = `precision highp float;
attribute vec3 position, normal;
attribute vec4 color;
attribute vec2 uv;
uniform mat4 model, view, projection, inverseModel;
uniform vec3 eyePosition, lightPosition;
uniform float roughness, fresnel, kambient, kdiffuse, kspecular;
uniform sampler2D texture;
varying vec4 f_front, f_back;
varying vec3 f_data;
${LIGHTING_GLSL}
vec4 lit(vec4 surfaceColor, vec3 N, vec3 L, vec3 V) {
  float specular = min(1.0, max(0.0, cookTorranceSpecular(L, V, N, roughness, fresnel)));
  float diffuse = min(kambient + kdiffuse * max(dot(N, L), 0.0), 1.0);
  return surfaceColor.a * vec4(diffuse * surfaceColor.rgb + kspecular * vec3(1.0) * specular, 1.0) * color.a;
}
void main() {
  gl_Position = projection * (view * (model * vec4(position, 1.0)));
  vec4 cameraCoordinate = view * vec4(position, 1.0);
  cameraCoordinate.xyz /= cameraCoordinate.w;
  vec3 L = normalize(lightPosition - cameraCoordinate.xyz);
  vec3 V = normalize(eyePosition - cameraCoordinate.xyz);
  vec3 N = normalize((vec4(normal, 0.0) * inverseModel).xyz);
  // The colour texture read at the vertex (a faded mesh has one flat colour: the same texel).
  vec4 surfaceColor = vec4(color.rgb, 1.0) * texture2D(texture, uv);
  f_front = lit(surfaceColor, -N, L, V);
  f_back = lit(surfaceColor, N, L, V);
  f_data = position;
}`;

export const VERTEX_LIT_FRAG = `precision highp float;
uniform vec3 clipBounds[2];
varying vec4 f_front, f_back;
varying vec3 f_data;
bool outOfRange(float a, float b, float p) { return p > max(a, b) || p < min(a, b); }
bool outOfRange(vec3 a, vec3 b, vec3 p) {
  return outOfRange(a.x, b.x, p.x) || outOfRange(a.y, b.y, p.y) || outOfRange(a.z, b.z, p.z);
}
void main() {
  if (outOfRange(clipBounds[0], clipBounds[1], f_data)) discard;
  gl_FragColor = gl_FrontFacing ? f_front : f_back;
}`;

const VERTEX_LIT_ATTRIBUTES = ["position", "normal", "color", "uv"];

// True when mesh `m` is a faded gl-mesh3d mesh of triangles only (edges, points and contour lines
// are drawn by other programs in the same draw(): such a mesh keeps its own).
export function vertexLitApplies(m, maxOpacity = VERTEX_LIT_MAX_OPACITY) {
  // (gl-mesh3d discards fragments of alpha 0: a mesh of opacity 0 keeps its own shader.)
  return !!m && typeof m.drawTransparent === "function" && typeof m.opacity === "number"
    && m.opacity > 0 && m.opacity <= maxOpacity && !!m.triShader?.program && !!m.triangleVAO && trianglesOnly(m);
}

// Our program on context `gl`, its attributes at the locations `own` (the mesh's gl-mesh3d program)
// gives them, with its uniform locations; null if it does not compile or link (the caller falls back).
export function vertexLitProgram(gl, own) {
  const shader = (type, src) => {
    const sh = gl.createShader(type);
    gl.shaderSource(sh, src);
    gl.compileShader(sh);
    return sh;
  };
  const vs = shader(gl.VERTEX_SHADER, VERTEX_LIT_VERT), fs = shader(gl.FRAGMENT_SHADER, VERTEX_LIT_FRAG);
  const program = gl.createProgram();
  gl.attachShader(program, vs);
  gl.attachShader(program, fs);
  const attributes = {};
  for (const name of VERTEX_LIT_ATTRIBUTES) {
    const at = gl.getAttribLocation(own, name);
    if (!(at >= 0)) return null;  // not the program this was written for
    attributes[name] = at;
    gl.bindAttribLocation(program, at, name);
  }
  gl.linkProgram(program);
  if (!gl.getProgramParameter(program, gl.LINK_STATUS)) {
    console.warn("lumbar viewer: seeThroughVertexLit did not link:", gl.getProgramInfoLog(program),
                 gl.getShaderInfoLog(vs), gl.getShaderInfoLog(fs));
    return null;
  }
  const uniforms = {};
  for (const name of ["model", "view", "projection", "inverseModel", "eyePosition", "lightPosition",
    "roughness", "fresnel", "kambient", "kdiffuse", "kspecular", "texture", "clipBounds[0]", "clipBounds[1]"]) {
    uniforms[name] = gl.getUniformLocation(program, name);
  }
  return { program, attributes, uniforms };
}

// Hand the uniforms gl-mesh3d's draw() computed (`u`) to our program `p`.
export function setVertexLitUniforms(gl, p, u) {
  const loc = p.uniforms;
  for (const name of ["model", "view", "projection", "inverseModel"]) {
    if (loc[name] && u[name]) gl.uniformMatrix4fv(loc[name], false, u[name]);
  }
  for (const name of ["eyePosition", "lightPosition"]) {
    if (loc[name] && u[name]) gl.uniform3fv(loc[name], u[name]);
  }
  for (const name of ["roughness", "fresnel", "kambient", "kdiffuse", "kspecular"]) {
    if (loc[name]) gl.uniform1f(loc[name], Number(u[name]));
  }
  if (loc.texture) gl.uniform1i(loc.texture, Number(u.texture) || 0);
  if (u.clipBounds) {
    if (loc["clipBounds[0]"]) gl.uniform3fv(loc["clipBounds[0]"], u.clipBounds[0]);
    if (loc["clipBounds[1]"]) gl.uniform3fv(loc["clipBounds[1]"], u.clipBounds[1]);
  }
}

// Install on `glplot` (once per scene). `stats` counts {vertexLit: faded meshes drawn by our
// program, own: transparent draws left to gl-mesh3d's shader, failed: our program could not be
// made}. Returns the controller ({stats}) or null when the scene is not the shape this was written for.
export function installVertexLitSeeThrough(glplot, stats = {}, maxOpacity = VERTEX_LIT_MAX_OPACITY) {
  const before = installedBefore(glplot, "__lumbarVertexLit", stats);
  if (before) return before;
  if (!sceneShaped(glplot, ["createProgram", "useProgram", "uniformMatrix4fv"])) return null;
  const gl = glplot.gl;
  const ctl = { stats, program: undefined };  // undefined: not made yet; null: could not be made
  wrapEveryObject(glplot, "drawTransparent", "__lumbarVertexLit", (drawTransparent) => function (params) {
    if (!vertexLitApplies(this, maxOpacity)) {
      ctl.stats.own = (ctl.stats.own || 0) + 1;
      return drawTransparent.call(this, params);
    }
    if (ctl.program === undefined) ctl.program = vertexLitProgram(gl, this.triShader.program);
    if (!ctl.program) {
      ctl.stats.failed = (ctl.stats.failed || 0) + 1;
      return drawTransparent.call(this, params);
    }
    const p = ctl.program, own = this.triShader;
    // What draw() does with its triangle shader: bind() it, then assign the uniforms.
    this.triShader = {
      program: own.program,
      bind() { gl.useProgram(p.program); },
      set uniforms(u) { setVertexLitUniforms(gl, p, u); },
      get uniforms() { return {}; },
    };
    ctl.stats.vertexLit = (ctl.stats.vertexLit || 0) + 1;
    try {
      return drawTransparent.call(this, params);
    } finally {
      this.triShader = own;
    }
  });
  glplot.__lumbarVertexLit = ctl;
  return ctl;
}

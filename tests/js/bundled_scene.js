// gl-plot3d's createScene (its render loop, transparency pass and pick pass) and gl-select-static
// (the picking buffer, its delayed read-back and its query), taken out of
// explorer/static/plotly-gl3d.min.js and run in Node on a stand-in WebGL context that keeps real
// pixels for each framebuffer. Stand-ins replace only what these passes do not go through (camera,
// axes, spikes, shaders). Used by the tests of deferPickPass (pick_pass.test.js) and
// depthPrepassPick (depth_prepass.test.js): if a Plotly upgrade moves or changes any of this,
// they fail.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";

const SRC = readFileSync(new URL("../../explorer/static/plotly-gl3d.min.js", import.meta.url), "latin1");
const HEADER = /(?<=[,{])(\d+)\((a(?:,o(?:,i)?)?)\)\{/g;
const NEXT = /\},\d+\(a(?:,o(?:,i)?)?\)\{/g;

// The bundle's module `id` (its body and the names of its parameters).
export function moduleSource(id) {
  HEADER.lastIndex = 0;
  let m;
  while ((m = HEADER.exec(SRC)) && m[1] !== String(id));
  assert.ok(m, `module ${id} not found in the bundle: the workarounds that rely on it must be re-checked against this plotly.js`);
  NEXT.lastIndex = HEADER.lastIndex;
  const end = NEXT.exec(SRC);
  return { params: m[2].split(","), body: SRC.slice(HEADER.lastIndex, end.index) };
}

// The module whose source holds every one of `marks` (minified code: names may change, these do not).
export function findModule(marks) {
  const hits = [];
  HEADER.lastIndex = 0;
  let m;
  while ((m = HEADER.exec(SRC))) {
    NEXT.lastIndex = HEADER.lastIndex;
    const end = NEXT.exec(SRC);
    const body = SRC.slice(HEADER.lastIndex, end ? end.index : SRC.length);
    if (marks.every((k) => body.includes(k))) hits.push(m[1]);
  }
  assert.equal(hits.length, 1, `one bundle module with ${JSON.stringify(marks)}, found ${hits.length}: `
    + "the workarounds that rely on it must be re-checked against this plotly.js");
  return hits[0];
}

// Run bundle modules: `stubs` maps a module id to its exports (a stand-in); others are taken from
// the bundle and evaluated with the same require.
export function loader(stubs) {
  const cache = new Map();
  const req = (id) => {
    if (id in stubs) return stubs[id];
    if (cache.has(id)) return cache.get(id).exports;
    const { params, body } = moduleSource(id);
    const module = { exports: {} };
    cache.set(id, module);
    req.g = globalThis;
    new Function(...params, body)(module, module.exports, req);
    return module.exports;
  };
  return req;
}

// The ids createScene requires, in its order: camera, axes, axes pixels, spikes, select-static,
// fbo, a-big-triangle, mouse-change, perspective, ortho, accumulation shader, is-mobile.
export function sceneModule() {
  const id = findModule(["createScene:", "drawPick", "pickRadius"]);
  const deps = [...moduleSource(id).body.matchAll(/\b[\w$]+=i\((\d+)\)/g)].map((m) => m[1]);
  assert.equal(deps.length, 12, `createScene's module requires 12 modules, found ${deps}`);
  const selectId = findModule(["_readCallback", "readPixels", "mallocUint8"]);
  assert.equal(deps[4], selectId, "createScene picks with gl-select-static");
  return { id, deps, selectId };
}

// A WebGL stand-in: framebuffers with real RGBA pixels (clear, readPixels, and the stand-in
// meshes' drawPick fill them); every call counted.
export function pixelGl(width = 8, height = 4) {
  const calls = {};
  const count = (n) => { calls[n] = (calls[n] || 0) + 1; };
  const fbs = new Map();
  const canvasFb = { id: "canvas", w: width, h: height, px: new Uint8Array(width * height * 4) };
  let bound = null, clearColor = [0, 0, 0, 0], viewport = [0, 0, width, height], mask = [true, true, true, true];
  const target = () => bound ?? canvasFb;
  const gl = {
    FRAMEBUFFER: 0x8D40, FRAMEBUFFER_BINDING: 0x8CA6, COLOR_BUFFER_BIT: 0x4000, DEPTH_BUFFER_BIT: 0x100,
    RGBA: 0x1908, UNSIGNED_BYTE: 0x1401, BLEND: 0x0BE2, DEPTH_TEST: 0x0B71, CULL_FACE: 0x0B44, LEQUAL: 0x0203,
    LESS: 0x0201, FUNC_ADD: 0x8006, ONE: 1, ONE_MINUS_SRC_ALPHA: 0x0303,
    drawingBufferWidth: width, drawingBufferHeight: height,
    calls, canvasFb, fbs,
    get bound() { return bound; },
    get viewportNow() { return viewport; },
    get colourMasked() { return mask.every((m) => !m); },
    newFramebuffer(w, h) {
      const fb = { id: "fb" + fbs.size, w, h, px: new Uint8Array(w * h * 4) };
      fbs.set(fb.id, fb);
      return fb;
    },
    bindFramebuffer(t, fb) { count("bindFramebuffer"); bound = fb ?? null; },
    viewport(...a) { count("viewport"); viewport = a; },
    clearColor(...c) { clearColor = c; },
    clear(mask) {
      count(bound ? "clearFramebuffer" : "clearCanvas");
      if (mask & 0x4000) {
        const t = target(), c = clearColor.map((v) => Math.round(v * 255));
        for (let o = 0; o < t.px.length; o += 4) t.px.set(c, o);
      }
    },
    readPixels(x, y, w, h, format, type, dest) {
      count("readPixels");
      const t = target();
      for (let r = 0; r < h; r++) {
        for (let q = 0; q < w; q++) dest.set(t.px.subarray(4 * ((y + r) * t.w + x + q), 4 * ((y + r) * t.w + x + q) + 4), 4 * (r * w + q));
      }
    },
    // Fill columns [x0, x1) of the bound framebuffer (a stand-in mesh's picking colours).
    fillColumns(x0, x1, rgba) {
      const t = target();
      for (let r = 0; r < t.h; r++) for (let q = x0; q < Math.min(x1, t.w); q++) t.px.set(rgba, 4 * (r * t.w + q));
    },
    getParameter(p) { return p === 0x8CA6 ? bound : null; },
    colorMask(...m) { mask = m; }, depthMask() {}, enable() {}, disable() {}, depthFunc() {}, blendEquation() {}, blendFunc() {},
    isContextLost() { return false; },
  };
  return gl;
}

// gl-fbo stand-in: binds its framebuffer and sets the viewport to its size, as gl-fbo's bind does.
export function fboModule(gl) {
  return function createFbo(_gl, w, h) {
    const fb = gl.newFramebuffer(w, h);
    return {
      handle: fb, color: [{ bind() {} }],
      get shape() { return [fb.w, fb.h]; },
      set shape(s) { fb.w = s[0]; fb.h = s[1]; fb.px = new Uint8Array(s[0] * s[1] * 4); },
      bind() { gl.bindFramebuffer(gl.FRAMEBUFFER, fb); gl.viewport(0, 0, fb.w, fb.h); },
      dispose() {},
    };
  };
}

// A stand-in mesh: draws its pick id into columns [x0, x1) of the picking buffer (4 x 2: the
// canvas's 8 x 4 pixels at a pixel ratio of 2; gl-plot3d picks at CSS pixels).
export function mesh(gl, name, x0, x1) {
  return {
    name, x0, x1, pickSlots: 1, dirty: true, bounds: [[0, 0, 0], [1, 1, 1]], picks: [], draws: 0,
    setPickBase(id) { this.pickId = id; },
    isOpaque() { return true; }, isTransparent() { return false; },
    draw() { this.draws += 1; },
    drawPick(params) {
      this.picks.push({ params, pixelRatio: this.pixelRatio, fb: gl.bound?.id ?? null });
      gl.fillColumns(this.x0, this.x1, [this.pickId, 0, 0, 0]);
    },
    pick(sel) { return sel && sel.id === this.pickId ? { position: [0, 0, 0], dataCoordinate: [0, 0, 0], index: 0 } : null; },
    dispose() {},
  };
}

// A gl-plot3d scene from the bundle on the stand-in context; `frame()` runs one animation frame,
// `mouse(x, y)` is its mouse listener (mouse-change's callback), `settle()` lets the 1 ms
// read-back timer run.
export async function bundledScene() {
  const { deps } = sceneModule();
  const gl = pixelGl();
  const frames = [];
  let mouse = null;
  const stubs = {
    [deps[0]]: () => { throw new Error("camera: the scene is given one"); },
    [deps[1]]: () => ({ enable: false, autoTicks: false, update() {}, draw() {}, isTransparent: () => false,
                        drawTransparent() {}, dispose() {} }),
    [deps[2]]: () => null,
    [deps[3]]: () => ({ draw() {}, dispose() {} }),
    [deps[5]]: fboModule(gl),
    [deps[6]]: () => {},
    [deps[7]]: (el, cb) => { mouse = cb; return { enabled: true }; },
    [deps[8]]: (out) => out, [deps[9]]: (out) => out,
    [deps[10]]: () => ({ bind() {}, uniforms: {}, dispose() {} }),
    [deps[11]]: () => false,
    1888: { mallocUint8: (n) => new Uint8Array(n), free() {} },  // typedarray-pool
  };
  const saved = { window: globalThis.window, raf: globalThis.requestAnimationFrame };
  globalThis.window = { innerWidth: 8, innerHeight: 4, addEventListener() {}, removeEventListener() {} };
  globalThis.requestAnimationFrame = (f) => frames.push(f);
  try {
    const req = loader(stubs);
    const { createScene } = req(sceneModule().id);
    const canvas = { width: 8, height: 4, style: {}, parentNode: null, addEventListener() {}, removeEventListener() {} };
    const camera = { tick: () => false, matrix: new Array(16).fill(0), _ortho: false };
    const scene = createScene({ canvas, gl, cameraObject: camera, autoResize: false, pixelRatio: 2, pickRadius: 1 });
    return {
      scene, gl,
      frame() { const f = frames.splice(0); for (const cb of f) cb(); },
      mouse: (x, y) => { mouse(0, x, y, { shift: false, alt: false, control: false, meta: false }); return scene.selection.object; },
      settle: () => new Promise((r) => setTimeout(r, 10)),
      restore() { globalThis.window = saved.window; globalThis.requestAnimationFrame = saved.raf; },
    };
  } catch (e) {
    globalThis.window = saved.window;
    globalThis.requestAnimationFrame = saved.raf;
    throw e;
  }
}

// Run `body(s)` on a fresh bundled scene holding `meshes(gl)` (added, one frame drawn and its
// read-back settled), restoring the globals the scene needed afterwards.
export async function withScene(meshes, body) {
  const s = await bundledScene();
  try {
    const made = meshes(s.gl);
    for (const m of made) s.scene.add(m);
    s.frame();
    await s.settle();
    return await body(s, made);
  } finally {
    s.restore();
  }
}

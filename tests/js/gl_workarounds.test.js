// The browser workarounds (explorer/frontend/gl_workarounds.js): switches, the Plotly version
// guard, and what each does, on stand-in objects. The first test fails when the plotly package's
// plotly.js is not the version the workarounds were written for: re-check each of them, then
// update WRITTEN_FOR_PLOTLY.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, openSync, readSync, closeSync } from "node:fs";
import { test } from "node:test";

import {
  fastValidityChecks, liveCamera, pngAtDoubleResolution, readbackCanvasesWhileLoading, setZoomLimits,
  withFastWebGL, Workarounds, WORKAROUNDS, WRITTEN_FOR_PLOTLY,
} from "../../explorer/frontend/gl_workarounds.js";

// The plotly.min.js the app serves: the plotly Python package's copy (PLOTLY_MIN_JS overrides).
function plotlyMinJs() {
  if (process.env.PLOTLY_MIN_JS) return process.env.PLOTLY_MIN_JS;
  const python = process.env.PYTHON || "python3";
  const code = "import os, plotly; print(os.path.join(os.path.dirname(plotly.__file__), 'package_data', 'plotly.min.js'))";
  return execFileSync(python, ["-c", code], { encoding: "utf8" }).trim();
}

function headerVersion(path) {
  const fd = openSync(path, "r");
  const buf = Buffer.alloc(400);
  readSync(fd, buf, 0, 400, 0);
  closeSync(fd);
  const m = /plotly\.js v(\d+\.\d+\.\d+\S*)/.exec(buf.toString("latin1"));
  return m ? m[1] : null;
}

test("the installed plotly.js is the version the workarounds were written for", () => {
  const path = plotlyMinJs();
  assert.ok(existsSync(path), `plotly.min.js not found at ${path}`);
  const found = headerVersion(path);
  assert.ok(found, `no version in the header of ${path}`);
  assert.equal(found, WRITTEN_FOR_PLOTLY,
    `plotly.js is now ${found}, the workarounds in explorer/frontend/gl_workarounds.js were written for `
    + `${WRITTEN_FOR_PLOTLY}: they are skipped in the browser until each is re-checked against the new `
    + "version and WRITTEN_FOR_PLOTLY updated");
});

test("every workaround says why, and runs only on its plotly.js version", () => {
  const warnings = [];
  const w = new Workarounds({ warn: (m) => warnings.push(m) });
  for (const [id, why] of Object.entries(WORKAROUNDS)) {
    assert.ok(why.length > 20, id);
    assert.equal(w.enabled(id, WRITTEN_FOR_PLOTLY), true, id);
    assert.equal(w.enabled(id, "9.9.9"), false, id);
    assert.equal(w.enabled(id, "9.9.9"), false, id);
  }
  assert.equal(warnings.length, Object.keys(WORKAROUNDS).length, "one warning per workaround, not per call");
  assert.match(warnings[0], /written for plotly\.js .* found 9\.9\.9/);
  assert.throws(() => w.enabled("noSuchWorkaround", WRITTEN_FOR_PLOTLY), /unknown workaround/);
});

test("off switches: Python's setting, the URL and localStorage; 'all' turns every one off", () => {
  const v = WRITTEN_FOR_PLOTLY;
  assert.equal(new Workarounds({ off: ["liveCamera"] }).enabled("liveCamera", v), false);
  assert.equal(new Workarounds({ off: ["liveCamera"] }).enabled("zoomLimits", v), true);
  const url = new Workarounds({ search: "?condition=herniation&no_workarounds=fastValidityChecks,zoomLimits" });
  assert.equal(url.enabled("fastValidityChecks", v), false);
  assert.equal(url.enabled("zoomLimits", v), false);
  assert.equal(url.enabled("readbackCanvases", v), true);
  const all = new Workarounds({ stored: "all" });
  for (const id of Object.keys(WORKAROUNDS)) assert.equal(all.enabled(id, v), false, id);
});

function fakeCanvasProto() {
  const calls = [];
  const proto = { getContext(type, options) { calls.push([type, options]); return { type, options }; } };
  return { proto, calls };
}

test("readbackCanvases: 2D contexts default to willReadFrequently until restored", () => {
  const { proto, calls } = fakeCanvasProto();
  const original = proto.getContext;
  const restore = readbackCanvasesWhileLoading(proto);
  proto.getContext("2d");
  proto.getContext("2d", { willReadFrequently: false, alpha: false });
  proto.getContext("webgl", { antialias: true });
  restore();
  assert.equal(proto.getContext, original, "getContext is the browser's own again");
  proto.getContext("2d");
  assert.deepEqual(calls, [
    ["2d", { willReadFrequently: true }],
    ["2d", { willReadFrequently: false, alpha: false }],  // an explicit choice is kept
    ["webgl", { antialias: true }],
    ["2d", undefined],
  ]);
});

// A stand-in WebGL context whose prototype counts the calls that would go to the GPU process.
function fakeGl() {
  const counts = { isShader: 0, isProgram: 0, getProgramParameter: 0 };
  let lost = false;
  class Proto {
    createShader() { return { kind: "shader" }; }
    createProgram() { return { kind: "program" }; }
    deleteShader() {}
    deleteProgram() {}
    linkProgram() {}
    createBuffer() { return { kind: "buffer" }; }
    deleteBuffer() {}
    bindBuffer() {}
    isBuffer() { counts.isBuffer = (counts.isBuffer ?? 0) + 1; return true; }
    isShader() { counts.isShader++; return true; }
    isProgram() { counts.isProgram++; return true; }
    getProgramParameter(o, p) { counts.getProgramParameter++; return p * 2; }
    isContextLost() { return lost; }
  }
  return { gl: new Proto(), counts, lose: () => { lost = true; } };
}

test("fastValidityChecks answers validity checks from what the context created, deleted and linked", () => {
  const { gl, counts, lose } = fakeGl();
  fastValidityChecks(gl);
  const shader = gl.createShader(1);
  const program = gl.createProgram();
  assert.equal(gl.isShader(shader), true);
  assert.equal(gl.isProgram(program), true);
  assert.equal(gl.isProgram({}), false, "a program this context did not create");
  assert.equal(gl.getProgramParameter(program, 21), 42);
  assert.equal(gl.getProgramParameter(program, 21), 42);
  assert.deepEqual(counts, { isShader: 0, isProgram: 0, getProgramParameter: 1 }, "one GPU call, then cached");
  gl.linkProgram(program);
  gl.getProgramParameter(program, 21);
  assert.equal(counts.getProgramParameter, 2, "relinking forgets the cached answers");
  gl.deleteProgram(program);
  assert.equal(gl.isProgram(program), false);
  lose();
  assert.equal(gl.isShader(shader), true, "a lost context asks the real WebGL again");
  assert.equal(counts.isShader, 1);
  assert.equal(fastValidityChecks(gl), gl, "wrapping twice is a no-op");
});

test("fastValidityChecks answers isBuffer as WebGL does: created, bound once, not deleted", () => {
  const { gl, counts, lose } = fakeGl();
  fastValidityChecks(gl);
  const buffer = gl.createBuffer();
  assert.equal(gl.isBuffer(buffer), false, "created but never bound: not a buffer yet");
  gl.bindBuffer(34962, buffer);
  gl.bindBuffer(34962, null);
  assert.equal(gl.isBuffer(buffer), true);
  assert.equal(gl.isBuffer({ kind: "buffer" }), false, "a buffer this context did not create");
  assert.equal(gl.isBuffer(null), false);
  gl.deleteBuffer(buffer);
  assert.equal(gl.isBuffer(buffer), false);
  assert.equal(counts.isBuffer, undefined, "no GPU round trip");
  lose();
  assert.equal(gl.isBuffer(buffer), true, "a lost context asks the real WebGL again");
  assert.equal(counts.isBuffer, 1);
});

test("withFastWebGL wraps WebGL contexts created inside, and restores getContext even on failure", async () => {
  const made = [];
  const proto = { getContext(type) { const ctx = type === "2d" ? { type } : Object.assign(fakeGl().gl, { type }); made.push(ctx); return ctx; } };
  const original = proto.getContext;
  await withFastWebGL(proto, async () => { proto.getContext("webgl2"); proto.getContext("2d"); });
  assert.equal(proto.getContext, original);
  assert.equal(made[0].__lumbarFast, true);
  assert.equal(made[1].__lumbarFast, undefined);
  await assert.rejects(withFastWebGL(proto, async () => { throw new Error("boom"); }), /boom/);
  assert.equal(proto.getContext, original);
});

test("liveCamera reads the scene's own camera, or the layout's when internals are off", () => {
  const internal = { eye: { x: 1, y: 2, z: 3 } };
  const layout = { eye: { x: 9, y: 9, z: 9 } };
  const gd = { _fullLayout: { scene: { _scene: { getCamera: () => internal } } }, layout: { scene: { camera: layout } } };
  assert.deepEqual(liveCamera(gd, true), internal);
  assert.notEqual(liveCamera(gd, true), internal, "a copy");
  assert.deepEqual(liveCamera(gd, false), layout);
  assert.equal(liveCamera({}, true), null);
});

test("pngAtDoubleResolution sets 2x for the click, then restores the screen's ratio", () => {
  const gd = { _context: { plotGlPixelRatio: 1 } };
  let later = null;
  assert.equal(pngAtDoubleResolution(gd, (f) => { later = f; }), true);
  assert.equal(gd._context.plotGlPixelRatio, 2);
  later();
  assert.equal(gd._context.plotGlPixelRatio, 1);
  assert.equal(pngAtDoubleResolution({}), false);
});

test("setZoomLimits calls the camera view's setDistanceLimits(lo, hi)", () => {
  const got = [];
  const gd = { _fullLayout: { scene: { _scene: { camera: { view: { setDistanceLimits: (lo, hi) => got.push([lo, hi]) } } } } } };
  assert.equal(setZoomLimits(gd, [0.35, 4]), true);
  assert.deepEqual(got, [[0.35, 4]]);
  assert.equal(setZoomLimits({ _fullLayout: {} }, [0.35, 4]), false, "no scene: the caller falls back");
});

test("cssSafeUids: uids Plotly puts in CSS selectors become letters, digits, '-' and '_' only, still distinct", async () => {
  const { cssSafeUid, withCssSafeUids } = await import("../../explorer/frontend/gl_workarounds.js");
  for (const uid of ["pain-path:0:back", "root-L5-left~intensity", "legend:marked", "a_b", "a:b", "a_3a_b"]) {
    assert.match(cssSafeUid(uid), /^[A-Za-z0-9_-]+$/, uid);
  }
  assert.equal(cssSafeUid("vertebra-L4"), "vertebra-L4", "safe ids are kept as they are");
  const many = ["a:b", "a_b", "a_3a_b", "a~b", "a-b", "ab"];
  assert.equal(new Set(many.map(cssSafeUid)).size, many.length, "distinct uids stay distinct");
  // The selector Plotly builds is valid and names that element only (CSS class syntax).
  assert.doesNotMatch(".cb" + cssSafeUid("pain-path:0:back"), /[:~]/);
  const cache = new WeakMap();
  const keep = { uid: "outline" }, unsafe = { uid: "pain-path:1:front", x: [1] };
  const first = withCssSafeUids([keep, unsafe], cache);
  assert.equal(first[0], keep, "a safe trace is passed through");
  assert.notEqual(first[1], unsafe);
  assert.equal(unsafe.uid, "pain-path:1:front", "the scene's own trace is not changed");
  assert.equal(withCssSafeUids([keep, unsafe], cache)[1], first[1], "the same copy every time: Plotly sees it unchanged");
  assert.deepEqual(first[1].x, [1]);
});

// A stand-in WebGL context for program links: each native link is counted; a program's answers
// depend on its shaders' sources (as a real link's do).
function linkingGl() {
  const calls = { link: 0, status: 0, uniform: 0, use: 0, location: 0 };
  let lost = false;
  class Proto {
    constructor() { Object.assign(this, { VERTEX_SHADER: 35633, FRAGMENT_SHADER: 35632, LINK_STATUS: 35714,
                                          ACTIVE_UNIFORMS: 35718, ACTIVE_ATTRIBUTES: 35721, DELETE_STATUS: 35712 }); }
    createShader(type) { return { type, src: null }; }
    shaderSource(sh, src) { sh.src = src; }
    compileShader() {}
    deleteShader() {}
    createProgram() { return { shaders: [], linked: null }; }
    attachShader(p, sh) { p.shaders.push(sh); }
    detachShader(p, sh) { p.shaders = p.shaders.filter((x) => x !== sh); }
    bindAttribLocation() {}
    linkProgram(p) { calls.link++; p.linked = p.shaders.map((sh) => sh.src).sort().join("|"); }
    deleteProgram(p) { p.deleted = true; }
    getProgramParameter(p, pname) {
      if (p.linked === null) throw new Error("asked before linking");
      if (pname === this.LINK_STATUS) { calls.status++; return !p.linked.includes("bad"); }
      if (pname === this.ACTIVE_UNIFORMS) return p.linked.length % 5;
      if (pname === this.ACTIVE_ATTRIBUTES) return 2;
      return 0;
    }
    getActiveUniform(p, i) { calls.uniform++; return { name: p.linked + "#u" + i, type: 5126, size: 1 }; }
    getActiveAttrib(p, i) { return { name: p.linked + "#a" + i, type: 35664, size: 1 }; }
    getProgramInfoLog(p) { return p.linked.includes("bad") ? "bad shader" : ""; }
    useProgram(p) { calls.use++; if (p && p.linked === null) throw new Error("used before linking"); }
    getUniformLocation(p, name) { calls.location++; if (p.linked === null) throw new Error("unlinked"); return { p, name }; }
    isContextLost() { return lost; }
  }
  return { gl: new Proto(), calls, lose: () => { lost = true; } };
}

// What gl-shader does for each shader of a new mesh: a throwaway program to read the uniforms and
// attributes (linked, asked, deleted), then the real one (with attribute bindings) it draws with.
function throwaway(gl, vsrc, fsrc) {
  const vs = gl.createShader(gl.VERTEX_SHADER); gl.shaderSource(vs, vsrc); gl.compileShader(vs);
  const fs = gl.createShader(gl.FRAGMENT_SHADER); gl.shaderSource(fs, fsrc); gl.compileShader(fs);
  const p = gl.createProgram();
  gl.attachShader(p, fs);
  gl.attachShader(p, vs);
  gl.linkProgram(p);
  const ok = gl.getProgramParameter(p, gl.LINK_STATUS);
  const n = gl.getProgramParameter(p, gl.ACTIVE_UNIFORMS);
  const uniforms = Array.from({ length: n }, (_, i) => gl.getActiveUniform(p, i).name);
  const attribs = [0, 1].map((i) => gl.getActiveAttrib(p, i).name);
  const log = gl.getProgramInfoLog(p);
  gl.deleteProgram(p);
  return { ok, uniforms, attribs, log, vs, fs };
}

test("reuseProgramLinks: a program like one linked before is answered from it and not linked", async () => {
  const { reuseProgramLinks } = await import("../../explorer/frontend/gl_workarounds.js");
  const plain = linkingGl();
  const expected = [throwaway(plain.gl, "v1", "f1"), throwaway(plain.gl, "v1", "f1"), throwaway(plain.gl, "v2", "f1")];
  const { gl, calls } = linkingGl();
  const stats = {};
  fastValidityChecks(gl);
  reuseProgramLinks(gl, stats);
  const got = [throwaway(gl, "v1", "f1"), throwaway(gl, "v1", "f1"), throwaway(gl, "v2", "f1")];
  for (const k of ["ok", "uniforms", "attribs", "log"]) assert.deepEqual(got.map((g) => g[k]), expected.map((e) => e[k]), k);
  assert.equal(calls.link, 2, "the second v1/f1 program was never linked");
  assert.deepEqual(stats, { linked: 2, deferred: 1 });
  // A deferred program that is used is linked first, with the shaders it had.
  const vs = gl.createShader(gl.VERTEX_SHADER); gl.shaderSource(vs, "v1");
  const fs = gl.createShader(gl.FRAGMENT_SHADER); gl.shaderSource(fs, "f1");
  const p = gl.createProgram();
  gl.attachShader(p, vs); gl.attachShader(p, fs);
  gl.linkProgram(p);
  assert.equal(gl.getProgramParameter(p, gl.LINK_STATUS), true);
  assert.equal(calls.link, 2);
  gl.useProgram(p);
  assert.equal(calls.link, 3, "linked when used");
  assert.equal(p.linked, "f1|v1");
  assert.equal(stats.realized, 1);
  // Attribute bindings are part of what is linked: the same sources with bindings link anew.
  const q = gl.createProgram();
  gl.attachShader(q, vs); gl.attachShader(q, fs); gl.bindAttribLocation(q, 0, "position");
  gl.linkProgram(q);
  assert.equal(calls.link, 4);
  // Changing a shader's source links every deferred program first (with the old source).
  const r = gl.createProgram();
  gl.attachShader(r, vs); gl.attachShader(r, fs);
  gl.linkProgram(r);
  assert.equal(calls.link, 4);
  gl.shaderSource(vs, "v9");
  assert.equal(r.linked, "f1|v1", "linked with the source it had when linkProgram was called");
  assert.equal(calls.link, 5);
});

test("reuseProgramLinks: failed links are not reused, other questions link first, a lost context links", async () => {
  const { reuseProgramLinks } = await import("../../explorer/frontend/gl_workarounds.js");
  const { gl, calls, lose } = linkingGl();
  reuseProgramLinks(gl, {});
  assert.equal(throwaway(gl, "bad", "f").ok, false);
  assert.equal(throwaway(gl, "bad", "f").log, "bad shader");
  assert.equal(calls.link, 2, "a failed link is linked again next time (its log is WebGL's)");
  throwaway(gl, "v", "f");
  const vs = gl.createShader(gl.VERTEX_SHADER); gl.shaderSource(vs, "v");
  const fs = gl.createShader(gl.FRAGMENT_SHADER); gl.shaderSource(fs, "f");
  const p = gl.createProgram(); gl.attachShader(p, vs); gl.attachShader(p, fs);
  gl.linkProgram(p);
  assert.equal(calls.link, 3);
  assert.equal(gl.getProgramParameter(p, gl.DELETE_STATUS), 0, "a question not recorded: linked, then WebGL answers");
  assert.equal(calls.link, 4);
  lose();
  throwaway(gl, "v", "f");
  assert.equal(calls.link, 5, "a lost context always links");
  const other = linkingGl();
  const unknown = other.gl.createShader(other.gl.VERTEX_SHADER);  // made before the wrapper
  other.gl.shaderSource(unknown, "v");
  reuseProgramLinks(other.gl, {});
  for (let n = 0; n < 2; n++) {
    const f = other.gl.createShader(other.gl.FRAGMENT_SHADER); other.gl.shaderSource(f, "f");
    const q = other.gl.createProgram(); other.gl.attachShader(q, unknown); other.gl.attachShader(q, f);
    other.gl.linkProgram(q);
  }
  assert.equal(other.calls.link, 2, "a shader this wrapper did not see: always linked");
});


// The mesh update memo (explorer/frontend/gl_workarounds.js, meshUpdateMemo): which WebGL buffers a
// change of a Plotly mesh3d trace rewrites, checked on stand-in trace objects and against the
// gl-mesh3d code inside the plotly.min.js the app serves.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { test } from "node:test";

import {
  applyPartialUpdate, hexRgba, installMeshUpdateMemo, meshUpdatePlan, TEXTURE_POOL_MAX, triangleColors, triangleUVs,
} from "../../explorer/frontend/gl_workarounds.js";

const geometry = () => ({
  x: new Float32Array([0, 1, 0, 1]), y: new Float32Array([0, 0, 1, 1]), z: new Float32Array([0, 0, 0, 1]),
  i: new Uint16Array([0, 1]), j: new Uint16Array([1, 3]), k: new Uint16Array([2, 2]),
});
const G = geometry();
const trace = (over = {}) => ({
  type: "mesh3d", ...G, color: "#F5B700", opacity: 1, intensity: new Float32Array([0, 0, 0, 0]),
  intensitymode: "vertex", cmin: 0, cmax: 1, colorscale: [[0, "#F5B700"], [1, "#C51B7D"]],
  lighting: { ambient: 0.5 }, lightposition: { x: 1, y: 2, z: 3 }, flatshading: false, ...over,
});

test("an unchanged trace needs nothing, a highlight or opacity change only that", () => {
  assert.deepEqual(meshUpdatePlan(trace(), trace()), { full: false, intensity: false, opacity: false });
  const lit = trace({ intensity: new Float32Array([0, 0.5, 1, 0]) });
  assert.deepEqual(meshUpdatePlan(trace(), lit), { full: false, intensity: true, opacity: false });
  assert.deepEqual(meshUpdatePlan(trace(), trace({ opacity: 0.3 })), { full: false, intensity: false, opacity: true });
  // equal values in a new array (decoded again on every rerun) are no change
  assert.equal(meshUpdatePlan(trace(), trace({ intensity: new Float32Array(4) })).intensity, false);
});

test("new geometry, a look beyond colours or another data scale take Plotly's full update", () => {
  assert.equal(meshUpdatePlan(trace(), trace({ x: new Float32Array([0, 1, 0, 1]) })).full, true);
  assert.equal(meshUpdatePlan(trace(), trace({ flatshading: true })).full, true);
  assert.equal(meshUpdatePlan(trace(), trace({ visible: false })).full, true);
  assert.equal(meshUpdatePlan(trace(), trace({ opacityscale: [[0, 0], [1, 1]] })).full, true);
  assert.equal(meshUpdatePlan(trace(), trace({ lighting: { ambient: 0.5, vertexnormalsepsilon: 1e-3 } })).full, true,
               "the normals' epsilon shapes the normals");
  assert.equal(meshUpdatePlan(trace(), trace({ intensity: undefined })).full, true, "intensity to flat colour");
  assert.equal(meshUpdatePlan(trace(), trace(), false).full, true);
  assert.equal(meshUpdatePlan(null, trace()).full, true);
});

test("a change of colours only (colour scale, flat colour, lighting) takes the colour path", () => {
  const squeeze = [[0, "#F7A8E0"], [1, "#8A005E"]];
  assert.deepEqual(meshUpdatePlan(trace(), trace({ colorscale: squeeze })),
                   { full: false, colour: true, intensity: false, opacity: false });
  const lit = meshUpdatePlan(trace(), trace({ colorscale: squeeze, intensity: new Float32Array([0, 1, 1, 0]) }));
  assert.deepEqual(lit, { full: false, colour: true, intensity: true, opacity: false });
  const flat = trace({ intensity: undefined, colorscale: undefined, intensitymode: undefined });
  assert.equal(meshUpdatePlan(flat, { ...flat, color: "#00A6D6" }).colour, true);
  assert.equal(meshUpdatePlan(trace(), trace({ lighting: { ambient: 0.6 } })).colour, true);
});

// gl-mesh3d's loop, written out: each triangle's corners from the last to the first.
function reference(i, j, k, intensity, lo, hi) {
  const out = [];
  for (let t = 0; t < i.length; t++) {
    const cell = [i[t], j[t], k[t]];
    for (let q = 0; q < 3; q++) out.push((intensity[cell[2 - q]] - lo) / (hi - lo), 0);
  }
  return Float32Array.from(out);
}

test("triangle UVs and colours are laid out as gl-mesh3d lays them out", () => {
  const I = new Float32Array([0.1, 0.4, 0.7, 1]);
  assert.deepEqual(triangleUVs(G.i, G.j, G.k, I, 0, 1), reference(G.i, G.j, G.k, I, 0, 1));
  assert.deepEqual(triangleUVs(G.i, G.j, G.k, I, 0.1, 0.6), reference(G.i, G.j, G.k, I, 0.1, 0.6));
  const c = triangleColors(2, [0.2, 0.4, 0.6, 1], 0.5);
  assert.equal(c.length, 2 * 3 * 4);
  for (let o = 0; o < c.length; o += 4) assert.deepEqual([...c.subarray(o, o + 4)], [...Float32Array.from([0.2, 0.4, 0.6, 0.5])]);
  assert.deepEqual(hexRgba("#FF8000"), [1, 128 / 255, 0, 1]);
  assert.equal(hexRgba("rgb(1,2,3)"), null);
});

function fakeBuffer() {
  return { uploads: [], update(a) { this.uploads.push(a); } };
}

function fakeScene(n) {
  const calls = [];
  function MeshTrace(uid) {
    this.uid = uid;
    this.scene = scene;
    this.mesh = { triangleCount: 2, triangleUVs: fakeBuffer(), triangleColors: fakeBuffer() };
    this.data = null;
  }
  MeshTrace.prototype.update = function (data) { calls.push(this.uid); this.data = data; };
  const scene = { dataScale: [1, 1, 1], traces: {} };
  for (let t = 0; t < n; t++) {
    const tr = new MeshTrace("t" + t);
    tr.update(trace());
    scene.traces[tr.uid] = tr;
  }
  calls.length = 0;
  return { gd: { _fullLayout: { scene: { _scene: scene } } }, scene, calls };
}

test("installed, the memo skips unchanged traces and rewrites only the changed buffers", () => {
  const { gd, scene, calls } = fakeScene(3);
  const stats = {};
  assert.equal(installMeshUpdateMemo(gd, stats), true);
  const [a, b, c] = Object.values(scene.traces);
  a.update(trace());  // unchanged
  const lit = trace({ intensity: new Float32Array([0, 0.5, 1, 0]) });
  b.update(lit);
  c.update(trace({ flatshading: true }));  // another look: Plotly's own
  assert.deepEqual(calls, ["t2"]);
  assert.deepEqual({ ...stats, log: undefined }, { skipped: 1, partial: 1, full: 1, log: undefined });
  assert.deepEqual(stats.log, [{ uid: "", why: "look", triangles: 2 }]);
  assert.equal(a.mesh.triangleUVs.uploads.length + a.mesh.triangleColors.uploads.length, 0);
  assert.deepEqual(b.mesh.triangleUVs.uploads, [reference(G.i, G.j, G.k, lit.intensity, 0, 1)]);
  assert.equal(b.mesh.triangleColors.uploads.length, 0);
  assert.equal(b.data, lit);
  // an opacity change rewrites the colours with the new alpha and marks the mesh see-through
  b.update(trace({ ...lit, opacity: 0.25 }));
  assert.equal(b.mesh.triangleColors.uploads.length, 1);
  assert.equal(b.mesh.triangleColors.uploads[0][3], 0.25);
  assert.equal(b.mesh.opacity, 0.25);
  assert.equal(b.mesh.hasAlpha, true);
  // a new data scale: everything again, through Plotly
  scene.dataScale = [2, 1, 1];
  a.update(trace());
  assert.deepEqual(calls, ["t2", "t0"]);
});

test("a mesh whose triangles gl-mesh3d filtered is not patched", () => {
  const tr = { mesh: { triangleCount: 1, triangleUVs: fakeBuffer(), triangleColors: fakeBuffer() }, data: trace() };
  assert.equal(applyPartialUpdate(tr, trace({ opacity: 0.5 }), { intensity: false, opacity: true }), false);
  assert.equal(tr.mesh.triangleColors.uploads.length, 0);
  assert.equal(installMeshUpdateMemo({}), false, "no scene: nothing installed");
});

// The partial path reproduces gl-mesh3d's own update: check the bundled code still builds its
// triangle buffers that way (corners in reverse order, UV (value - lo) / (hi - lo), colour alpha
// times the opacity) and still has the buffers the memo rewrites.
test("the served plotly.min.js builds mesh buffers the way the memo rewrites them", () => {
  const python = process.env.PYTHON || "python3";
  const code = "import os, plotly; print(os.path.join(os.path.dirname(plotly.__file__), 'package_data', 'plotly.min.js'))";
  const path = process.env.PLOTLY_MIN_JS || execFileSync(python, ["-c", code], { encoding: "utf8" }).trim();
  const src = readFileSync(path, "latin1");
  // gl-mesh3d's update ends with its triangle buffers, normals included (the cone and streamtube
  // meshes have none).
  const at = src.lastIndexOf("this.triangleUVs.update(", src.indexOf("this.triangleNormals.update("));
  assert.ok(at > 0, "gl-mesh3d's triangleUVs buffer not found");
  const body = src.slice(src.lastIndexOf(".update=function", at), at);
  assert.match(body, /case 3:/);
  const tri = body.slice(body.lastIndexOf("case 3:"));
  assert.match(tri, /\w+=\w+\[2-\w+\]/, "corners taken in reverse order");
  assert.match(tri, /\[\(\w+\[\w+\]-(\w+)\)\/\(\w+-\1\),0\]/, "UV = (value - lo) / (hi - lo), 0");
  assert.match(tri, /\w+\[3\]\*this\.opacity/, "colour alpha times the opacity");
  assert.match(body, /"opacity"in \w+&&\(this\.opacity=/);
  assert.match(src.slice(at - 200, at), /this\.triangleColors\.update\(/);
});

// A stand-in for a gl-mesh3d mesh: update(params) as gl-mesh3d does it (flags and uniforms from
// the params; a colormap written into this.texture; positions and cells rebuild every buffer).
function fakeGl() {
  let n = 0;
  return { RGBA: 6408, UNSIGNED_BYTE: 5121, created: 0, createTexture() { this.created += 1; return { handle: ++n }; } };
}
function FakeTexture(gl, handle) { this.gl = gl; this.handle = handle; this.pixels = []; this.disposed = false; }
FakeTexture.prototype.setPixels = function (p) { this.pixels.push(p); };
FakeTexture.prototype.dispose = function () { this.disposed = true; };
function FakeMesh(gl) {
  this.gl = gl;
  this.texture = new FakeTexture(gl, gl.createTexture());
  this.triangleCount = 2;
  this.buffers = { positions: fakeBuffer(), normals: fakeBuffer(), ids: fakeBuffer() };
  this.triangleUVs = fakeBuffer();
  this.triangleColors = fakeBuffer();
  this.params = [];
}
FakeMesh.prototype.update = function (p) {
  this.params.push(Object.keys(p).sort());
  this.hasAlpha = false;
  if ("opacity" in p) { this.opacity = p.opacity; if (p.opacity < 1) this.hasAlpha = true; }
  if ("ambient" in p) this.ambientLight = p.ambient;
  if (p.colormap) this.texture.setPixels(JSON.stringify(p.colormap));
  if (p.positions && p.cells) {
    for (const b of Object.values(this.buffers)) b.update("rebuilt");
    this.triangleUVs.update("rebuilt");
    this.triangleColors.update("rebuilt");
  }
};
FakeMesh.prototype.dispose = function () { this.texture.dispose(); };
// Plotly's mesh3d trace object: update(data) builds gl-mesh3d's params from the trace.
function FakeTrace(gl) { this.mesh = new FakeMesh(gl); this.scene = { dataScale: [1, 1, 1] }; this.data = null; }
FakeTrace.prototype.update = function (data) {
  this.data = data;
  const p = { positions: [[0, 0, 0]], cells: [[0, 1, 2]], opacity: data.opacity, ambient: data.lighting.ambient };
  if (data.intensity) {
    this.color = "#fff";
    Object.assign(p, { vertexIntensity: data.intensity, vertexIntensityBounds: [data.cmin, data.cmax],
                       colormap: data.colorscale.map(([index, rgb]) => ({ index, rgb })) });
  } else {
    this.color = data.color;
    p.meshColor = hexRgba(data.color);
  }
  this.mesh.update(p);
};

test("the colour path keeps the geometry buffers and shares one texture per colour scale", () => {
  const gl = fakeGl();
  const traces = [new FakeTrace(gl), new FakeTrace(gl), new FakeTrace(gl)];
  for (const t of traces) t.update(trace());
  const gd = { _fullLayout: { scene: { _scene: { dataScale: [1, 1, 1], traces: { a: traces[0], b: traces[1], c: traces[2] } } } } };
  const stats = {};
  assert.equal(installMeshUpdateMemo(gd, stats), true);
  for (const t of traces) for (const b of [...Object.values(t.mesh.buffers), t.mesh.triangleUVs, t.mesh.triangleColors]) b.uploads.length = 0;
  const squeeze = [[0, "#F7A8E0"], [1, "#8A005E"]];
  const lit = trace({ colorscale: squeeze, intensity: new Float32Array([0.2, 0.9, 1, 0.2]), lighting: { ambient: 0.7 } });
  traces[0].update(lit);
  traces[1].update(lit);
  assert.equal(stats.colour, 2);
  for (const t of traces.slice(0, 2)) {
    assert.deepEqual(Object.values(t.mesh.buffers).map((b) => b.uploads.length), [0, 0, 0], "geometry not re-uploaded");
    assert.deepEqual(t.mesh.triangleUVs.uploads, [reference(G.i, G.j, G.k, lit.intensity, 0, 1)]);
    assert.equal(t.mesh.triangleColors.uploads.length, 0, "same opacity: colours untouched");
    assert.equal(t.mesh.ambientLight, 0.7, "lighting still set");
    assert.equal(t.data, lit);
    assert.equal(t.color, "#fff");
  }
  // one pooled texture for the squeeze scale, filled once, shared by both meshes
  assert.equal(traces[0].mesh.texture, traces[1].mesh.texture);
  assert.equal(traces[0].mesh.texture.pixels.length, 1);
  assert.equal(gl.__lumbarTexturePool.size, 1);
  // back to the healthy scale: another pooled texture (made once), no geometry
  traces[0].update(trace());
  assert.equal(gl.__lumbarTexturePool.size, 2);
  assert.notEqual(traces[0].mesh.texture, traces[1].mesh.texture);
  traces[2].update(trace({ opacity: 0.4, colorscale: squeeze }));
  assert.equal(traces[2].mesh.texture, traces[1].mesh.texture, "the squeeze texture again, not uploaded again");
  assert.equal(traces[1].mesh.texture.pixels.length, 1);
  assert.equal(traces[2].mesh.triangleColors.uploads[0][3], Math.fround(0.4));
  assert.equal(traces[2].mesh.hasAlpha, true);
  // disposing of a mesh disposes of its own texture, never the shared one
  const own = traces[2].mesh.__ownTexture;
  traces[2].mesh.dispose();
  assert.equal(own.disposed, true);
  assert.equal(traces[1].mesh.texture.disposed, false);
  // a full update (new geometry) gives the mesh its own texture back first
  const shared = traces[1].mesh.texture;
  traces[1].update(trace({ ...lit, x: new Float32Array([0, 2, 0, 2]) }));
  assert.notEqual(traces[1].mesh.texture, shared);
  assert.equal(shared.pixels.length, 1, "the shared texture was not written into");
  assert.equal(traces[1].mesh.buffers.positions.uploads.length, 1);
});

test("a flat colour change rewrites the colours from Plotly's own mesh colour", () => {
  const gl = fakeGl();
  const t = new FakeTrace(gl);
  const flat = trace({ intensity: undefined, colorscale: undefined, intensitymode: undefined, color: "#E8DCC8" });
  t.update(flat);
  const gd = { _fullLayout: { scene: { _scene: { dataScale: [1, 1, 1], traces: { t } } } } };
  const stats = {};
  installMeshUpdateMemo(gd, stats);
  for (const b of [...Object.values(t.mesh.buffers), t.mesh.triangleColors]) b.uploads.length = 0;
  t.update({ ...flat, color: "#FF0000", opacity: 0.5 });
  assert.equal(stats.colour, 1);
  assert.equal(t.mesh.triangleColors.uploads.length, 1);
  assert.deepEqual([...t.mesh.triangleColors.uploads[0].subarray(0, 4)], [1, 0, 0, 0.5]);
  assert.equal(t.color, "#FF0000");
  assert.equal(t.mesh.buffers.positions.uploads.length, 0);
  assert.equal(gl.created, 1, "a flat mesh needs no colour texture");
});

test("the pool is bounded: past TEXTURE_POOL_MAX colour scales gl-mesh3d uploads into the mesh's own texture", () => {
  const gl = fakeGl();
  const t = new FakeTrace(gl);
  t.update(trace());
  const gd = { _fullLayout: { scene: { _scene: { dataScale: [1, 1, 1], traces: { t } } } } };
  const st = {};
  installMeshUpdateMemo(gd, st);
  for (let n = 0; n < TEXTURE_POOL_MAX + 2; n++) {
    t.update(trace({ colorscale: [[0, "#000000"], [1, "#0000" + String(n).padStart(2, "0")]] }));
  }
  assert.equal(gl.__lumbarTexturePool.size, TEXTURE_POOL_MAX);
  assert.equal(t.mesh.__ownTexture, null, "back on its own texture");
  assert.equal(t.mesh.texture.pixels.length, 3, "its first scale, then the two past the pool, were written into it");
});

// The colour path leans on gl-mesh3d and gl-texture2d as the served bundle has them: a colormap
// written into this.texture (256x256, mipmapped), the texture constructor's arguments (gl, handle,
// width, height, format, type), the mesh disposing of this.texture, Plotly's mesh3d trace handing
// the flat colour as meshColor and the colour scale as colormap, and uniforms set without
// positions/cells (no buffer rebuilt).
test("the served gl3d bundle has what the colour path relies on", () => {
  const src = readFileSync(new URL("../../explorer/static/plotly-gl3d.min.js", import.meta.url), "latin1");
  const at = src.lastIndexOf("this.triangleUVs.update(", src.indexOf("this.triangleNormals.update("));
  const start = src.lastIndexOf(".update=function", at);
  const body = src.slice(start, at);
  assert.match(body, /\w+\.colormap&&\(this\.texture\.shape=\[256,256\],[^)]*this\.texture\.setPixels\(\w+\(\w+\.colormap,this\.opacityscale\)\),this\.texture\.generateMipmap\(\)\)/,
               "gl-mesh3d writes the colour scale into this.texture");
  assert.match(body, /var (\w+)=\w+\.cells,(\w+)=\w+\.positions;if\(!\(!\2\|\|!\1\)\)/,
               "buffers are rebuilt only when positions and cells are given");
  assert.match(body, /this\.hasAlpha=!1,"opacity"in \w+&&\(this\.opacity=\w+\.opacity,this\.opacity<1&&\(this\.hasAlpha=!0\)\)/);
  const dispose = src.slice(at, src.indexOf("}", src.indexOf(".dispose=function(){", at)));
  assert.match(dispose, /\.dispose=function\(\)\{this\.texture\.dispose\(\)/, "the mesh disposes of this.texture");
  assert.match(src, /function \w+\((\w+),(\w+),(\w+),(\w+),(\w+),(\w+)\)\{this\.gl=\1,this\.handle=\2,this\.format=\5,this\.type=\6,this\._shape=\[\3,\4\]/,
               "gl-texture2d's constructor (gl, handle, width, height, format, type)");
  assert.match(src, /i\.colormap=\w+\(e\)\}else e\.vertexcolor\?[^:]*:e\.facecolor\?[^:]*:\(this\.color=e\.color,i\.meshColor=\w+\(e\.color\)\);this\.mesh\.update\(i\)/,
               "Plotly's mesh3d trace: colour scale as colormap, a flat colour as meshColor, one mesh.update");
});

// A WebGL stand-in that records texture uploads and parameters (what pooledAlphaTexture calls).
function recordingGl() {
  const gl = fakeGl();
  Object.assign(gl, { TEXTURE_2D: 3553, TEXTURE_WRAP_S: 10242, TEXTURE_WRAP_T: 10243, TEXTURE_MIN_FILTER: 10241,
                      TEXTURE_MAG_FILTER: 10240, CLAMP_TO_EDGE: 33071, NEAREST: 9728, bound: null, params: [], pixels: [] });
  gl.bindTexture = (_t, h) => { gl.bound = h; };
  gl.texParameteri = (_t, p, v) => { gl.params.push([gl.bound, p, v]); };
  gl.texImage2D = (...a) => { gl.pixels.push([gl.bound, [...a[a.length - 1]]]); };
  return gl;
}

test("a flat mesh made see-through swaps in a 1x1 alpha texture instead of rewriting its colours", () => {
  const gl = recordingGl();
  const [a, b] = [new FakeTrace(gl), new FakeTrace(gl)];
  const bone = trace({ intensity: undefined, colorscale: undefined, intensitymode: undefined, color: "#E8DCC8" });
  a.update(bone);
  b.update(bone);
  const gd = { _fullLayout: { scene: { _scene: { dataScale: [1, 1, 1], traces: { a, b } } } } };
  const stats = {};
  installMeshUpdateMemo(gd, stats);
  a.mesh.triangleColors.uploads.length = 0;
  const own = a.mesh.texture;
  a.update({ ...bone, opacity: 0.12 });
  b.update({ ...bone, opacity: 0.12 });
  assert.equal(stats.partial, 2);
  assert.equal(a.mesh.triangleColors.uploads.length, 0, "colours were uploaded at alpha 1: left alone");
  assert.equal(a.mesh.texture, b.mesh.texture, "one pooled alpha texture for both");
  assert.deepEqual(gl.pixels, [[a.mesh.texture.handle, [255, 255, 255, Math.round(0.12 * 255)]]], "4 bytes, once");
  const clamp = gl.params.filter(([h]) => h === a.mesh.texture.handle).map(([, p, v]) => [p, v]);
  assert.deepEqual(clamp, [[gl.TEXTURE_WRAP_S, gl.CLAMP_TO_EDGE], [gl.TEXTURE_WRAP_T, gl.CLAMP_TO_EDGE],
                           [gl.TEXTURE_MIN_FILTER, gl.NEAREST], [gl.TEXTURE_MAG_FILTER, gl.NEAREST]]);
  assert.equal(a.mesh.hasAlpha, true);
  assert.equal(a.mesh.opacity, 0.12);
  // opaque again: the alpha-255 texture (no colours either); disposal still frees its own texture
  a.update(bone);
  assert.equal(a.mesh.triangleColors.uploads.length, 0);
  assert.equal(a.mesh.hasAlpha, false);
  assert.deepEqual(gl.pixels.at(-1)[1], [255, 255, 255, 255]);
  a.mesh.dispose();
  assert.equal(own.disposed, true);
  assert.equal(b.mesh.texture.disposed, false);
  // colours first uploaded see-through (a full update at 0.5): rewritten once at alpha 1, then textures only
  const c = new FakeTrace(gl);
  c.update({ ...bone, opacity: 0.5 });
  c.mesh.triangleColors.uploads.length = 0;
  c.update({ ...bone, opacity: 0.3 });
  assert.equal(c.mesh.triangleColors.uploads.length, 1);
  assert.equal(c.mesh.triangleColors.uploads[0][3], 1);
  c.update({ ...bone, opacity: 0.7 });
  assert.equal(c.mesh.triangleColors.uploads.length, 1);
  // a new flat colour with the mesh see-through: colours at alpha 1, the opacity stays in the texture
  c.update({ ...bone, opacity: 0.7, color: "#FF0000" });
  assert.equal(c.mesh.triangleColors.uploads.at(-1)[3], 1);
  assert.equal(c.mesh.__lumbarTextureKey, "alpha:" + Math.round(0.7 * 255));
});

// The mesh update memo (explorer/frontend/gl_workarounds.js, meshUpdateMemo): which WebGL buffers a
// change of a Plotly mesh3d trace rewrites, checked on stand-in trace objects and against the
// gl-mesh3d code inside the plotly.min.js the app serves.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { test } from "node:test";

import {
  applyPartialUpdate, hexRgba, installMeshUpdateMemo, meshUpdatePlan, triangleColors, triangleUVs,
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

test("new geometry, another look or another data scale take Plotly's full update", () => {
  assert.equal(meshUpdatePlan(trace(), trace({ x: new Float32Array([0, 1, 0, 1]) })).full, true);
  assert.equal(meshUpdatePlan(trace(), trace({ colorscale: [[0, "#F7A8E0"], [1, "#8A005E"]] })).full, true);
  assert.equal(meshUpdatePlan(trace(), trace({ color: "#00A6D6" })).full, true);
  assert.equal(meshUpdatePlan(trace(), trace({ lighting: { ambient: 0.6 } })).full, true);
  assert.equal(meshUpdatePlan(trace(), trace(), false).full, true);
  assert.equal(meshUpdatePlan(null, trace()).full, true);
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
  c.update(trace({ colorscale: [[0, "#F7A8E0"], [1, "#8A005E"]] }));  // another look: Plotly's own
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

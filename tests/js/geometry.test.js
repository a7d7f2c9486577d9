// Geometry assembly from cached blobs and intensity dequantisation (explorer/frontend/geometry.js),
// on the payload Python sends (fixtures/scene.json, written by tests/test_viewer3d.py).
import assert from "node:assert/strict";
import { test } from "node:test";

import {
  assemble, base64Bytes, componentData, decodeBlob, GeometryCache, intensityArray, undeltaPlanes,
} from "../../explorer/frontend/geometry.js";
import { fixture } from "./helpers.js";

const scene = fixture("scene.json");

function b64(bytes) { return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64"); }

test("the fixture's traces come back with the figure's own vertices, triangles and intensity", () => {
  const cache = new GeometryCache(1e9);
  cache.store(scene.payload.geometry);
  const { data, missing, used } = assemble(scene.payload.scene, cache, scene.refKey);
  assert.deepEqual(missing, []);
  assert.equal(used.size, Object.keys(scene.payload.geometry).length);
  assert.equal(data.length, scene.expected.length);
  data.forEach((trace, t) => {
    const want = scene.expected[t];
    assert.equal(trace.name, want.name);
    assert.equal(trace.meta, want.meta);
    assert.ok(!(scene.refKey in trace), "the blob reference is removed before Plotly sees the trace");
    for (const axis of ["x", "y", "z"]) {
      assert.ok(trace[axis] instanceof Float32Array, axis);
      assert.deepEqual(Array.from(trace[axis]), want[axis], `${want.name} ${axis}`);
    }
    for (const axis of ["i", "j", "k"]) {
      assert.ok(trace[axis] instanceof Uint16Array, axis);
      assert.deepEqual(Array.from(trace[axis]), want[axis], `${want.name} ${axis}`);
    }
    if (want.intensity) {
      assert.ok(trace.intensity instanceof Float32Array);
      assert.equal(trace.intensity.length, want.intensity.length);
      const worst = Math.max(...want.intensity.map((v, q) => Math.abs(trace.intensity[q] - v)));
      assert.ok(worst <= want.intensityTolerance, `intensity off by ${worst}`);
    } else {
      assert.equal(trace.intensity, undefined);
    }
  });
});

test("quantised intensity keeps both ends exactly and steps by (hi - lo) / 255", () => {
  const q = new Uint8Array([0, 1, 128, 255]);
  const out = intensityArray({ quantised: "u8", lo: 0.2, hi: 0.7, b64: b64(q) });
  assert.ok(out instanceof Float32Array);
  assert.equal(out[0], Math.fround(0.2));
  assert.equal(out[3], Math.fround(0.7));
  assert.ok(Math.abs(out[1] - (0.2 + 0.5 / 255)) < 1e-6);
  assert.ok(Math.abs(out[2] - (0.2 + 128 * 0.5 / 255)) < 1e-6);
  // a constant array (lo == hi) stays constant
  assert.deepEqual(Array.from(intensityArray({ quantised: "u8", lo: 0.7, hi: 0.7, b64: b64(q) })), Array(4).fill(Math.fround(0.7)));
  // plain lists and Plotly's typed-array specs pass through untouched
  const plain = [0, 0.5, 1];
  assert.equal(intensityArray(plain), plain);
  const spec = { dtype: "f4", bdata: "AAAA" };
  assert.equal(intensityArray(spec), spec);
});

test("a mesh with 65,536 or more vertices uses uint32 indices in the same layout", () => {
  const n = 70000, m = 2;
  const buf = new ArrayBuffer(12 * n + 12 * m);
  new Float32Array(buf, 0, 3 * n).forEach((_, q, a) => { a[q] = q; });
  new Uint32Array(buf, 12 * n, 3 * m).set([0, 1, 69998, 69999, 2, 3]);
  const g = decodeBlob({ n, m, idx: "u4", b64: b64(new Uint8Array(buf)) });
  assert.ok(g.i instanceof Uint32Array);
  assert.deepEqual(Array.from(g.i), [0, 1]);
  assert.deepEqual(Array.from(g.j), [69998, 69999]);
  assert.deepEqual(Array.from(g.k), [2, 3]);
  assert.equal(g.z[0], 2 * n);
  assert.equal(g.bytes, buf.byteLength);
});

test("a blob of the wrong size is refused with a warning and then reported missing", () => {
  const [hash, good] = Object.entries(scene.payload.geometry)[0];
  const bad = { ...good, n: good.n + 1 };
  const warnings = [];
  const cache = new GeometryCache(1e9);
  cache.store({ [hash]: bad }, (...args) => warnings.push(args));
  assert.equal(warnings.length, 1);
  assert.equal(cache.has(hash), false);
  const { missing } = assemble(scene.payload.scene, cache, scene.refKey);
  assert.ok(missing.includes(hash));
  // each blob once, although two traces share one (same sphere: same content hash)
  assert.equal(missing.length, Object.keys(scene.payload.geometry).length);
  assert.ok(scene.payload.scene.data.length > missing.length);
});

test("missing blobs are listed and the trace is left without geometry", () => {
  const cache = new GeometryCache(1e9);
  const { data, missing, used } = assemble(scene.payload.scene, cache, scene.refKey);
  assert.deepEqual([...missing].sort(), Object.keys(scene.payload.geometry).sort());
  assert.equal(used.size, 0);
  assert.equal(data[0].x, undefined);
});

test("the cache drops the least recently used blobs beyond its limit, never those in use", () => {
  const hashes = Object.keys(scene.payload.geometry);
  const cache = new GeometryCache(1e9);
  cache.store(scene.payload.geometry);
  const sizes = hashes.map((h) => cache.blobs.get(h).bytes);
  // use the first blob most recently, then shrink the limit to the first blob's size
  assemble({ data: [{ [scene.refKey]: hashes[0] }] }, cache, scene.refKey);
  cache.limitBytes = sizes[0];
  cache.trim(new Set([hashes[0]]));
  assert.deepEqual([...cache.blobs.keys()], [hashes[0]]);
  // under the limit nothing is dropped
  cache.store(scene.payload.geometry);
  cache.limitBytes = 1e9;
  cache.trim(new Set());
  assert.equal(cache.blobs.size, hashes.length);
});

test("base64 decoding matches Node's", () => {
  const bytes = new Uint8Array([0, 1, 2, 250, 255, 128, 7]);
  assert.deepEqual(Array.from(base64Bytes(b64(bytes))), Array.from(bytes));
});

// ---------------------------------------------------------------- the binary frame (what Python sends now)
test("componentData reads Python's frame: quantised blobs decode to exactly Python's reading of them", () => {
  const frame = new Uint8Array(Buffer.from(scene.frame, "base64"));
  const d = componentData(frame);
  assert.equal(d.key, "viewer");
  assert.deepEqual(Object.keys(d.geometry).sort(), Object.keys(scene.wireExpected).sort());
  const cache = new GeometryCache(1e9);
  cache.store(d.geometry, (...args) => assert.fail("no blob may be refused: " + args.join(" ")));
  for (const [hash, want] of Object.entries(scene.wireExpected)) {
    const g = cache.blobs.get(hash);
    for (const axis of ["x", "y", "z"]) {
      assert.ok(g[axis] instanceof Float32Array);
      assert.deepEqual(Array.from(g[axis]), want[axis], `${hash} ${axis}`);
    }
    for (const axis of ["i", "j", "k"]) {
      assert.ok(g[axis] instanceof Uint16Array);
      assert.deepEqual(Array.from(g[axis]), want[axis], `${hash} ${axis}`);
    }
  }
  // and the traces assemble as from the base64 form: same triangles, points within a step
  const { data, missing } = assemble(d.scene, cache, scene.refKey);
  assert.deepEqual(missing, []);
  data.forEach((trace, t) => {
    const want = scene.expected[t];
    for (const axis of ["i", "j", "k"]) assert.deepEqual(Array.from(trace[axis]), want[axis]);
    for (const axis of ["x", "y", "z"]) {
      const worst = Math.max(...want[axis].map((v, q) => Math.abs(trace[axis][q] - v)));
      assert.ok(worst < 1e-3, `${want.name} ${axis} off by ${worst}`);
    }
  });
});

test("componentData passes the one-element list and plain objects through, refuses other bytes", () => {
  const obj = { a: 1 };
  assert.equal(componentData([obj]), obj);
  assert.equal(componentData(obj), obj);
  assert.equal(componentData(null), null);
  assert.throws(() => componentData(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9])), /not a frame/);
  // a frame whose JSON length runs past its end
  const bad = new Uint8Array([76, 77, 66, 49, 200, 0, 0, 0, 123, 125]);
  assert.throws(() => componentData(bad), /too short/);
  // an ArrayBuffer and a DataView read the same
  const frame = new Uint8Array(Buffer.from(scene.frame, "base64"));
  const copy = frame.slice();
  assert.equal(componentData(copy.buffer).key, "viewer");
  assert.equal(componentData(new DataView(copy.buffer)).key, "viewer");
});

test("undeltaPlanes undoes zigzag deltas that wrap at 16 and 32 bits", () => {
  // values 0, 65535, 1: deltas 0, -1 (wrapped), +2 (wrapped) -> zigzag 0, 1, 4
  const u16 = new Uint8Array([0, 1, 4, 0, 0, 0]);
  assert.deepEqual(Array.from(undeltaPlanes(u16, 0, 3, 2)), [0, 65535, 1]);
  // 32-bit: 4294967295 then 0 -> deltas -1, +1 -> zigzag 1, 2; the planes are byte 0..3 of each
  const u32 = new Uint8Array([1, 2, 0, 0, 0, 0, 0, 0]);
  assert.deepEqual(Array.from(undeltaPlanes(u32, 0, 2, 4)), [4294967295, 0]);
});

test("a quantised blob of the wrong size or with an index out of range is refused, then reported missing", () => {
  const frame = new Uint8Array(Buffer.from(scene.frame, "base64"));
  const d = componentData(frame);
  const [hash, spec] = Object.entries(d.geometry)[0];
  const warnings = [];
  const cache = new GeometryCache(1e9);
  cache.store({ [hash]: { ...spec, n: spec.n + 1 } }, (...args) => warnings.push(args));
  assert.equal(warnings.length, 1);
  assert.ok(!cache.has(hash));
  // n - 1 vertices: the last vertex's index is now out of range (and the size is off too)
  assert.throws(() => decodeBlob({ ...spec, n: spec.n - 1, bytes: spec.bytes.subarray(0, spec.bytes.length - 6) }));
  assert.throws(() => decodeBlob({ ...spec, enc: "zz9" }), /unknown geometry coding/);
});

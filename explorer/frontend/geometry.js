// Mesh geometry sent once per browser, and the per-rerun style that refers to it.
//
// Python (explorer/ui/viewer3d.py, split_figure) sends each mesh's x, y, z, i, j, k keyed by a
// hash of its content, and the traces without those arrays (each names its blob under
// GEOMETRY_REF). Per-vertex intensity arrives quantised to uint8 steps between `lo` and `hi`.
// This module decodes both and puts the traces back together for Plotly. Pure functions of their
// arguments (no DOM): tested with `node --test tests/js`.
//
// Two wire forms of a blob (explorer/frontend/transport.py):
// - "q16z" (what Python sends now): raw bytes of a binary frame (componentData). Each vertex
//   coordinate is a 16-bit step in the mesh's own box (lo + q * step; step = span / 65535, under
//   0.005 mm for this model); each array is delta coded (zigzag, wrapping at 16 or 32 bits) and
//   stored as byte planes (all low bytes, then all high bytes), which permessage-deflate
//   compresses about twice as well as base64 of float32 (issue 12: 0.64 -> 0.31 MB first load).
// - base64 of float32 points + uint16/uint32 triangles ({n, m, idx, b64}): the earlier form.

// The components' data: a binary frame from Python (bytes), else what Python sent as JSON (a
// one-element list: see explorer/ui/viewer3d.py), returned as the object the viewer reads.
// Frame (little-endian): "LMB1", uint32 JSON length L, L bytes of UTF-8 JSON, zero padding to a
// multiple of 8, then the binary section. A geometry spec in the JSON with `off` and `len` gets
// `bytes`: a view of those bytes of the binary section (no copy).
export const FRAME_MAGIC = "LMB1";

export function componentData(data) {
  if (Array.isArray(data)) return data[0];
  if (!(data instanceof ArrayBuffer || ArrayBuffer.isView(data))) return data;
  const u8 = data instanceof Uint8Array ? data
    : data instanceof ArrayBuffer ? new Uint8Array(data) : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (u8.length < 8 || String.fromCharCode(u8[0], u8[1], u8[2], u8[3]) !== FRAME_MAGIC) {
    throw new Error("lumbar: component data is not a frame");
  }
  const len = new DataView(u8.buffer, u8.byteOffset + 4, 4).getUint32(0, true);
  if (8 + len > u8.length) throw new Error("lumbar: component frame too short");
  const d = JSON.parse(new TextDecoder().decode(u8.subarray(8, 8 + len)));
  const bin = u8.subarray(Math.min(u8.length, Math.ceil((8 + len) / 8) * 8));
  for (const spec of Object.values(d?.geometry ?? {})) {
    if (spec && Number.isInteger(spec.off) && Number.isInteger(spec.len) && spec.off >= 0
        && spec.off + spec.len <= bin.length) {
      spec.bytes = bin.subarray(spec.off, spec.off + spec.len);
    }
  }
  return d;
}

// Undo Python's coding of one array (transport.py, delta_planes): `count` values of `width`
// bytes (2 or 4) as byte planes from `off`; each is zigzag(value - previous) wrapped at 8 * width
// bits. Returns a Uint32Array of the values.
export function undeltaPlanes(bytes, off, count, width) {
  const out = new Uint32Array(count);
  let acc = 0;
  if (width === 2) {
    const hi = off + count;
    for (let t = 0; t < count; t++) {
      const v = bytes[off + t] | (bytes[hi + t] << 8);
      acc = (acc + ((v >>> 1) ^ -(v & 1))) & 0xffff;
      out[t] = acc;
    }
  } else {
    const p1 = off + count, p2 = off + 2 * count, p3 = off + 3 * count;
    for (let t = 0; t < count; t++) {
      const v = (bytes[off + t] | (bytes[p1 + t] << 8) | (bytes[p2 + t] << 16) | (bytes[p3 + t] << 24)) >>> 0;
      acc = (acc + ((v >>> 1) ^ -(v & 1))) >>> 0;
      out[t] = acc;
    }
  }
  return out;
}

// A "q16z" blob -> Float32Array x, y, z (lo + q * step) and Uint16Array/Uint32Array i, j, k.
function decodeQuantised(spec) {
  const bytes = spec.bytes;
  const n = Number(spec.n), m = Number(spec.m);
  const w = spec.idx === "u4" ? 4 : 2;
  const lo = spec.lo, step = spec.step;
  if (!(bytes instanceof Uint8Array) || !(n >= 0 && m >= 0) || !Array.isArray(lo) || !Array.isArray(step)
      || lo.length !== 3 || step.length !== 3 || bytes.length !== 6 * n + 3 * w * m) {
    throw new Error("bad size");
  }
  const out = { bytes: 12 * n + 3 * w * m };
  ["x", "y", "z"].forEach((a, c) => {
    const q = undeltaPlanes(bytes, 2 * n * c, n, 2);
    const f = new Float32Array(n);
    const l = Number(lo[c]), s = Number(step[c]);
    for (let t = 0; t < n; t++) f[t] = l + q[t] * s;
    out[a] = f;
  });
  const Idx = w === 4 ? Uint32Array : Uint16Array;
  ["i", "j", "k"].forEach((a, c) => {
    const v = undeltaPlanes(bytes, 6 * n + w * m * c, m, w);
    for (let t = 0; t < m; t++) if (v[t] >= n) throw new Error("triangle index out of range");
    out[a] = w === 4 ? v : Idx.from(v);
  });
  return out;
}

// Decode base64 to bytes (Uint8Array.fromBase64 where the browser has it).
export function base64Bytes(b64) {
  if (typeof Uint8Array.fromBase64 === "function") return Uint8Array.fromBase64(b64);
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let q = 0; q < bin.length; q++) out[q] = bin.charCodeAt(q);
  return out;
}

// One blob -> typed arrays ("q16z": decoded; base64: views of one buffer, no copy). Base64 layout (little-endian): float32 x[n],
// y[n], z[n], then i[m], j[m], k[m] as uint16 ("u2") or uint32 ("u4"). Throws on a bad size.
export function decodeBlob(spec) {
  if (spec?.enc === "q16z") return decodeQuantised(spec);
  if (spec?.enc !== undefined) throw new Error("unknown geometry coding " + String(spec.enc).slice(0, 20));
  const bytes = base64Bytes(spec.b64);
  const buf = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength
    ? bytes.buffer : bytes.slice().buffer;
  const n = Number(spec.n), m = Number(spec.m);
  const Idx = spec.idx === "u4" ? Uint32Array : Uint16Array;
  const w = Idx.BYTES_PER_ELEMENT;
  if (!(n >= 0 && m >= 0) || buf.byteLength !== 12 * n + 3 * w * m) throw new Error("bad size");
  return {
    x: new Float32Array(buf, 0, n), y: new Float32Array(buf, 4 * n, n), z: new Float32Array(buf, 8 * n, n),
    i: new Idx(buf, 12 * n, m), j: new Idx(buf, 12 * n + w * m, m), k: new Idx(buf, 12 * n + 2 * w * m, m),
    bytes: buf.byteLength,
  };
}

// Quantised intensity -> Float32Array (lo + q * (hi - lo) / 255); anything else passes through
// (a plain list or Plotly's own typed-array spec).
export function intensityArray(spec) {
  if (!spec || spec.quantised !== "u8") return spec;
  const q = base64Bytes(spec.b64);
  const lo = Number(spec.lo), step = (Number(spec.hi) - lo) / 255;
  const out = new Float32Array(q.length);
  for (let t = 0; t < q.length; t++) out[t] = lo + q[t] * step;
  return out;
}

// Blobs by content hash, least recently used dropped beyond `limitBytes` (dropped blobs are asked
// for again when a later scene needs them). Kept at window level so it outlives remounts.
export class GeometryCache {
  constructor(limitBytes) {
    this.limitBytes = limitBytes;
    this.blobs = new Map();  // hash -> {x, y, z, i, j, k, bytes, used}
    this.tick = 0;
  }

  // Store every blob not held yet; a bad blob is skipped with a warning (asked for again later).
  store(blobs, warn = console.warn) {
    for (const [hash, spec] of Object.entries(blobs || {})) {
      if (this.blobs.has(hash)) continue;
      try {
        this.blobs.set(hash, Object.assign(decodeBlob(spec), { used: ++this.tick }));
      } catch (err) {
        warn("lumbar 3D viewer: bad geometry blob", hash, err);
      }
    }
  }

  has(hash) { return this.blobs.has(hash); }

  totalBytes() {
    let total = 0;
    for (const g of this.blobs.values()) total += g.bytes;
    return total;
  }

  // Drop least recently used blobs, never those in `keep`, until under the limit.
  trim(keep) {
    let total = this.totalBytes();
    if (total <= this.limitBytes) return;
    const old = [...this.blobs.entries()].filter(([h]) => !keep.has(h)).sort((a, b) => a[1].used - b[1].used);
    for (const [h, g] of old) {
      if (total <= this.limitBytes) break;
      this.blobs.delete(h);
      total -= g.bytes;
    }
  }
}

// Style traces + cached geometry -> Plotly traces. Returns {data, missing, used}: `missing` lists
// the blob hashes this browser lacks, each once (the caller asks Python for them), `used` those drawn.
export function assemble(scene, cache, refKey) {
  const missing = [], used = new Set();
  const data = (scene?.data || []).map((style) => {
    const trace = Object.assign({}, style);
    const ref = trace[refKey];
    delete trace[refKey];
    if (ref != null) {
      const g = cache.blobs.get(ref);
      if (!g) {
        if (!missing.includes(ref)) missing.push(ref);
        return trace;
      }
      g.used = ++cache.tick;
      used.add(ref);
      Object.assign(trace, { x: g.x, y: g.y, z: g.z, i: g.i, j: g.j, k: g.k });
    }
    if (trace.intensity) trace.intensity = intensityArray(trace.intensity);
    return trace;
  });
  return { data, missing, used };
}

// Mesh geometry sent once per browser, and the per-rerun style that refers to it.
//
// Python (explorer/ui/viewer3d.py, split_figure) sends each mesh's x, y, z, i, j, k packed into
// one base64 blob keyed by a hash of its content, and the traces without those arrays (each
// names its blob under GEOMETRY_REF). Per-vertex intensity arrives quantised to uint8 steps
// between `lo` and `hi`. This module decodes both and puts the traces back together for Plotly.
// Pure functions of their arguments (no DOM): tested with `node --test tests/js`.

// Decode base64 to bytes (Uint8Array.fromBase64 where the browser has it).
export function base64Bytes(b64) {
  if (typeof Uint8Array.fromBase64 === "function") return Uint8Array.fromBase64(b64);
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let q = 0; q < bin.length; q++) out[q] = bin.charCodeAt(q);
  return out;
}

// One blob -> typed-array views of one buffer (no copy). Layout (little-endian): float32 x[n],
// y[n], z[n], then i[m], j[m], k[m] as uint16 ("u2") or uint32 ("u4"). Throws on a bad size.
export function decodeBlob(spec) {
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

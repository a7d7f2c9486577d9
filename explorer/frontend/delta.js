// A figure sent as changes: Python (explorer/frontend/transport.py, scene_delta) sends each rerun
// only what changed since the scene the browser has, named by key, and the hash of the scene it
// builds on: new traces whole (`traces`), the changed fields of traces the browser has
// (`patches`, see applyPatch), the layout whole or patched (`layout`, `layoutPatch`), and the
// trace order only when it changed (`keys` in a complete message, else `keyRuns`). Used by the 3D viewer and the body chart. Pure (no
// DOM): tested with `node --test tests/js` (tests/js/fixtures/delta_cases.json is written by
// tests/test_transport.py from Python's own messages).

const has = (obj, key) => obj != null && Object.prototype.hasOwnProperty.call(obj, key);

// `base` with `patch` applied: {set: {field: value}, unset: [field], sub: {field: patch}}. A new
// object; the fields the patch does not touch are the very values of `base` (shared, not copied).
// Returns undefined when the patch does not fit `base` (a `sub` on a field that is no object).
export function applyPatch(base, patch) {
  if (base === null || typeof base !== "object" || Array.isArray(base)) return undefined;
  if (patch === null || typeof patch !== "object") return undefined;
  const out = { ...base };
  for (const k of Array.isArray(patch.unset) ? patch.unset : []) delete out[k];
  if (patch.set && typeof patch.set === "object") Object.assign(out, patch.set);
  if (patch.sub && typeof patch.sub === "object") {
    for (const [k, p] of Object.entries(patch.sub)) {
      const inner = applyPatch(base[k], p);
      if (inner === undefined) return undefined;
      out[k] = inner;
    }
  }
  return out;
}

// The trace order of `runs` (Python's transport.key_runs) against the order `base` had: `[i, n]`
// stands for base[i..i+n), a string for itself. Returns undefined when a run is out of range.
export function expandKeyRuns(runs, base) {
  if (!Array.isArray(runs) || !Array.isArray(base)) return undefined;
  const out = [];
  for (const r of runs) {
    if (typeof r === "string") out.push(r);
    else if (Array.isArray(r) && Number.isInteger(r[0]) && Number.isInteger(r[1]) && r[0] >= 0 && r[1] >= 0
             && r[0] + r[1] <= base.length) {
      for (let i = r[0]; i < r[0] + r[1]; i++) out.push(base[i]);
    } else return undefined;
  }
  return out;
}

// The scene after `msg`, or null when `msg` builds on a scene this browser does not have (the
// caller asks Python for a complete one). `have`: {hash, traces: Map(key -> trace), layout, data,
// keys} or null. Unchanged traces are the very objects of `have` (so Plotly.react sees them
// unchanged); patched ones are new objects sharing their untouched fields.
export function applyDelta(have, msg) {
  if (!msg || typeof msg !== "object") return null;
  if (msg.base != null && (!have || have.hash !== msg.base)) return null;
  let keys;
  if (Array.isArray(msg.keys)) keys = msg.keys;
  else if (msg.base != null) keys = "keyRuns" in msg ? expandKeyRuns(msg.keyRuns, have?.keys) : have?.keys;
  if (!Array.isArray(keys)) return null;
  const sent = msg.traces || {};
  const patches = msg.patches || {};
  const traces = new Map();
  const data = [];
  for (const k of keys) {
    let t;
    if (has(sent, k)) t = sent[k];
    else if (has(patches, k)) t = applyPatch(have?.traces.get(k), patches[k]);
    else t = have?.traces.get(k);
    if (t === undefined) return null;
    traces.set(k, t);
    data.push(t);
  }
  let layout;
  if ("layout" in msg) layout = msg.layout;
  else if ("layoutPatch" in msg) layout = applyPatch(have?.layout, msg.layoutPatch);
  else layout = have?.layout;
  if (layout === undefined) return null;
  return { hash: msg.hash, traces, layout, data, keys };
}

// Keys of the traces `msg` sent (new, changed or patched): what a redraw has to look at.
export function changedKeys(msg) {
  return [...Object.keys(msg?.traces || {}), ...Object.keys(msg?.patches || {})];
}

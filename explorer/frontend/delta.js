// A figure sent as changes: Python (explorer/frontend/transport.py, scene_delta) sends each rerun
// only the traces and layout that changed since the scene the browser has, named by key, and
// the hash of the scene they build on. Used by the 3D viewer and the body chart. Pure (no DOM):
// tested with `node --test tests/js`.

// The scene after `msg`, or null when `msg` builds on a scene this browser does not have (the
// caller asks Python for a complete one). `have`: {hash, traces: Map(key -> trace), layout, data}
// or null. Unchanged traces are the very objects of `have` (so Plotly.react sees them unchanged).
export function applyDelta(have, msg) {
  if (!msg || !Array.isArray(msg.keys)) return null;
  if (msg.base != null && (!have || have.hash !== msg.base)) return null;
  const sent = msg.traces || {};
  const traces = new Map();
  const data = [];
  for (const k of msg.keys) {
    const t = Object.prototype.hasOwnProperty.call(sent, k) ? sent[k] : have?.traces.get(k);
    if (t === undefined) return null;
    traces.set(k, t);
    data.push(t);
  }
  const layout = "layout" in msg ? msg.layout : have?.layout;
  if (layout === undefined) return null;
  return { hash: msg.hash, traces, layout, data };
}

// Keys of the traces `msg` sent (new or changed): what a redraw has to look at.
export function changedKeys(msg) {
  return Object.keys(msg?.traces || {});
}

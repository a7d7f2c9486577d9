// explorer/frontend/plotly_loader.js: the page's early Plotly start loads the bundle only where the
// 3D view will draw (WebGL), once, through the same promise the components use.
import assert from "node:assert/strict";
import { join } from "node:path";
import { test } from "node:test";

import { FRONTEND } from "./helpers.js";

function fakeDocument(webgl) {
  const appended = [];
  const probes = [];
  return {
    appended, probes,
    createElement(tag) {
      if (tag === "canvas") {
        return { getContext: (kind) => { probes.push(kind); return webgl ? { getExtension: () => ({ loseContext() {} }) } : null; } };
      }
      const listeners = {};
      return { tag, dataset: {}, addEventListener: (ev, f) => { listeners[ev] = f; }, fire: (ev) => listeners[ev](), remove() {} };
    },
    head: { appendChild(el) { appended.push(el); } },
  };
}

async function freshLoader(doc) {
  globalThis.window = { location: { search: "" } };
  globalThis.document = doc;
  globalThis.HTMLCanvasElement ??= function () {};
  // A new module instance per test (the query makes a separate module), as each page load is.
  return import(join(FRONTEND, "plotly_loader.js") + `?t=${Math.random()}`);
}

test("no WebGL: nothing is loaded, and the answer is kept for the viewer", async () => {
  const doc = fakeDocument(false);
  const m = await freshLoader(doc);
  assert.equal(await m.preloadPlotly("/app/static/p.js", "4.1.1", []), null);
  assert.equal(doc.appended.length, 0);
  assert.equal(window.__lumbar3d.webgl, false);
  m.webglAvailable(doc);
  assert.equal(doc.probes.length, 2, "probed once (webgl2, then webgl)");
});

test("WebGL: one script element, and the components' loadPlotly gets the same promise", async () => {
  const doc = fakeDocument(true);
  const m = await freshLoader(doc);
  const early = m.preloadPlotly("/app/static/p.js", "4.1.1", []);
  const later = m.loadPlotly("/app/static/p.js", "4.1.1", []);
  assert.equal(doc.appended.length, 1);
  assert.equal(doc.appended[0].src, "/app/static/p.js");
  window.Plotly = { version: "4.1.1" };
  doc.appended[0].fire("load");
  assert.equal(await early, window.Plotly);
  assert.equal(await later, window.Plotly);
  assert.equal(window.__lumbar3d.webgl, true);
});

test("a failed early load resolves to null and lets the viewer try again", async () => {
  const doc = fakeDocument(true);
  const m = await freshLoader(doc);
  const early = m.preloadPlotly("/app/static/p.js", "4.1.1", []);
  doc.appended[0].fire("error");
  assert.equal(await early, null);
  m.loadPlotly("/app/static/p.js", "4.1.1", []);
  assert.equal(doc.appended.length, 2, "a second attempt");
});

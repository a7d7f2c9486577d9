// The body chart hands Plotly only the slots in use (explorer/frontend/chart2d.js drawnTraces): the
// very trace objects of the scene, in order, so Plotly.react sees unchanged traces unchanged.
import assert from "node:assert/strict";
import { join } from "node:path";
import { test } from "node:test";

import { FRONTEND } from "./helpers.js";

globalThis.window ??= {};

test("drawnTraces leaves out unused slots and keeps the others' objects and order", async () => {
  const { drawnTraces } = await import(join(FRONTEND, "chart2d.js"));
  const a = { uid: "area-1" }, hidden = { uid: "selected-L5-left", visible: false }, b = { uid: "outline", visible: true };
  const out = drawnTraces([a, hidden, b]);
  assert.deepEqual(out.map((t) => t.uid), ["area-1", "outline"]);
  assert.equal(out[0], a);
  assert.equal(out[1], b);
  assert.deepEqual(drawnTraces([]), []);
});

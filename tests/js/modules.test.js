// The components' entry modules load (every relative import resolves and every imported name is
// exported: the browser would refuse the whole module otherwise), and the body chart's click
// handling (explorer/frontend/chart2d.js).
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";

import { FRONTEND } from "./helpers.js";

globalThis.window ??= {};  // the entry modules keep their page-wide state on window.__lumbar3d

test("viewer3d.js and chart2d.js link and export a default function (Streamlit's entry point)", async () => {
  for (const name of ["viewer3d.js", "chart2d.js"]) {
    const mod = await import(join(FRONTEND, name));
    assert.equal(typeof mod.default, "function", name);
  }
  assert.ok(window.__lumbar3d, "the shared page-wide state is created on load");
});

test("every front-end file is plain ES module code served as is (no build step, no Node-only imports)", () => {
  const files = readdirSync(FRONTEND).filter((f) => f.endsWith(".js"));
  assert.ok(files.length >= 7, files.join(", "));
  for (const f of files) {
    const text = readFileSync(join(FRONTEND, f), "utf8");
    for (const m of text.matchAll(/^import .* from "([^"]+)";$/gm)) {
      assert.match(m[1], /^\.\/[a-z0-9_]+\.js$/, `${f} imports ${m[1]}: only neighbouring files load in the browser`);
    }
    assert.doesNotMatch(text, /\brequire\(/, f);
  }
});

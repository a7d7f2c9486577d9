// The body chart component (explorer/frontend/chart2d.js) on a stand-in DOM: it draws the
// figure Python sends without Plotly, keeps the page's contract (data-testid, role, aria-label,
// dataset.renderSeq, the trace list as `element.data`), applies changes on top of the figure it
// has, asks for the whole figure when a change builds on one it lacks, reports a click on an
// area as setTriggerValue("clicked", {id, n}) and survives bad component data.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";

import { fakeDocument, FakeNode } from "./bodychart_fake_dom.js";
import { fixture, FRONTEND } from "./helpers.js";

globalThis.window ??= {};
const doc = fakeDocument();
globalThis.document = doc;
const FIG = fixture("bodychart_figures.json");
const { default: mountChart } = await import(join(FRONTEND, "chart2d.js"));

const settle = () => new Promise((resolve) => setTimeout(resolve, 20));

function fullMessage(fig, hash) {
  return { base: null, hash, keys: fig.data.map((t) => t.uid), traces: Object.fromEntries(fig.data.map((t) => [t.uid, t])),
           layout: fig.layout };
}

function component(parent, figure, calls) {
  return {
    parentElement: parent,
    data: [{ figure, height: 620, ariaLabel: "Body chart. Words.", testId: "body-chart", errorText: "Could not draw." }],
    setStateValue: (k, v) => calls.push(["state", k, v]),
    setTriggerValue: (k, v) => calls.push(["trigger", k, v]),
  };
}

test("chart2d.js loads no Plotly: it imports neither the Plotly loader nor the GL workarounds", () => {
  const text = readFileSync(join(FRONTEND, "chart2d.js"), "utf8");
  const imports = [...text.matchAll(/^import .* from "([^"]+)";$/gm)].map((m) => m[1]);
  assert.ok(imports.includes("./bodychart_svg.js"), imports.join(", "));
  assert.deepEqual(imports.filter((m) => /plotly|gl_workarounds/.test(m)), []);
});

test("the component draws the figure, applies a change on it and reports clicks", async () => {
  const parent = new FakeNode(doc, "div");
  const calls = [];
  mountChart(component(parent, fullMessage(FIG.plain, "h1"), calls));
  await settle();
  const gd = parent.children[0].children[0];
  assert.equal(gd.getAttribute("data-testid"), "body-chart");
  assert.equal(gd.getAttribute("role"), "figure");
  assert.equal(gd.getAttribute("aria-label"), "Body chart. Words.");
  assert.equal(gd.dataset.renderSeq, "1");
  assert.equal(gd.data.length, FIG.plain.data.length, "the traces are readable as element.data");
  const svgEl = gd.children.find((c) => c.tagName === "svg");
  assert.ok(svgEl, "an SVG is drawn");
  // a change: the left L5 pain chart as patches on the plain one
  const patches = Object.fromEntries(Object.entries(FIG.pain.changed).map(([uid, set]) => [uid, { set }]));
  mountChart(component(parent, { base: "h1", hash: "h2", patches, layoutPatch: { set: {} } }, calls));
  await settle();
  assert.equal(gd.dataset.renderSeq, "2");
  assert.equal(gd.data.find((t) => t.uid === "selected-L5-left").visible, true);
  const area = gd.all().find((n) => n.getAttribute("data-slot") === "area-front-left-top-of-the-foot")
    .children.find((c) => c.getAttribute("class") === "bc-fill");
  assert.match(area.style.fill, /^rgba\(/);
  svgEl.fire("click", { target: area });
  svgEl.fire("click", { target: area });
  assert.deepEqual(calls.filter((c) => c[0] === "trigger"), [
    ["trigger", "clicked", { id: "front:left:top of the foot", n: 1 }],
    ["trigger", "clicked", { id: "front:left:top of the foot", n: 2 }]]);
  // a change on a figure this page does not have: ask Python for the whole figure
  mountChart(component(parent, { base: "elsewhere", hash: "h9", patches: {} }, calls));
  await settle();
  const asks = calls.filter((c) => c[0] === "state" && c[1] === "missing");
  assert.equal(asks.length, 1);
  assert.equal(asks[0][2].scene, true);
  assert.equal(parent.children.length, 1, "one chart element across reruns");
});

test("bad component data never throws out of the component", async () => {
  const parent = new FakeNode(doc, "div");
  const calls = [];
  for (const data of [new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9]), null, [null], [{ figure: "x" }], [{ figure: { keys: 5 } }]]) {
    assert.doesNotThrow(() => mountChart({ ...component(parent, null, calls), data }));
  }
  await settle();
});

// The body chart's SVG renderer (explorer/frontend/bodychart_svg.js): the geometry plotly.js v4.1.1
// draws for the same figure (its numbers read off its SVG in Chromium, 600 x 620 px, the
// cauda equina chart of the page), the legend layout, and the DOM it keeps: one element per trace,
// a change writes only what changed, a click reports the area's meta, bad data never throws.
// The figures are tests/js/fixtures/bodychart_figures.json (written by tests/test_bodychart.py).
import assert from "node:assert/strict";
import { join } from "node:path";
import { test } from "node:test";

import { fakeDocument, FakeNode } from "./bodychart_fake_dom.js";
import { fixture, FRONTEND } from "./helpers.js";

const svg = await import(join(FRONTEND, "bodychart_svg.js"));
const FIG = fixture("bodychart_figures.json");

function painFigure() {
  const data = FIG.plain.data.map((t) => (FIG.pain.changed[t.uid] ? { ...t, ...FIG.pain.changed[t.uid] } : t));
  return { data, layout: FIG.pain.layout };
}

const near = (a, b, tol, what) => assert.ok(Math.abs(a - b) <= tol, `${what}: ${a} vs ${b}`);

// Numbers of a path string, in order.
const numbers = (d) => (d.match(/-?\d+(\.\d+)?(e-?\d+)?/g) || []).map(Number);

// ------------------------------------------------------------------------------- pure helpers
test("dashes are Plotly's: scaled by the line width, at least 3 px", () => {
  assert.equal(svg.dashArray("dot", 1.6), "3px,3px");
  assert.equal(svg.dashArray("dash", 1.6), "9px,9px");
  assert.equal(svg.dashArray("dash", 4), "12px,12px");
  assert.equal(svg.dashArray("solid", 2), "");
  assert.equal(svg.dashArray(undefined, 2), "");
  assert.equal(svg.dashArray("4px,2px", 2), "4px,2px");
  assert.equal(svg.dashArray("url(javascript:1)", 2), "", "anything else is drawn solid");
});

test("runs split at gaps and flip y; rings close for fills", () => {
  const rs = svg.runs([0, 1, 2, null, 5, 6, 7], [0, 1, 0, null, 5, "x", 7]);
  assert.deepEqual(rs, [[[0, -0], [1, -1], [2, -0]], [[5, -5]], [[7, -7]]]);
  assert.equal(svg.linesPath(rs, true), "M0,0L1,-1L2,0Z", "a run too short to fill is left out");
  assert.equal(svg.linesPath([[[0, 0], [1, 1]]]), "M0,0L1,1");
  assert.deepEqual(svg.runs(null, [1]), []);
  assert.deepEqual(svg.runs({ length: 3 }, [1, 2, 3]), []);
});

test("the plot frame and legend match Plotly's for the page's chart (600 x 620, three legend rows)", () => {
  const f = svg.plotFrame(600, 620, FIG.plain.layout, 90);
  assert.deepEqual([f.l, f.t, f.w, f.h], [4, 8, 592, 513]);
  near(f.legendTop, 526.13, 0.01, "legend top");
  near(f.ky, 513 / 115, 1e-9, "1:1 scale from the height");
  assert.equal(f.kx, f.ky);
  near(f.ox, 300, 1e-9, "the free x range is centred");
  near(f.oy - f.ky * 106, 8, 1e-9, "y = 106 at the top of the plot");
  // the legend of the cauda equina chart: text widths Plotly measured, its item positions
  const names = [["Skin", "squeezed"], ["Selected", "selected"], ["Radiating pain", "pain-path"], ["Key", ""],
                 ["Numbness", ""], ["Tingling", ""], ["Pain", ""]].map(([name, group]) => ({ name, group }));
  const widths = [300.296875, 116.078125, 93.953125, 182.09375, 160.203125, 135, 119.640625];
  const leg = svg.legendLayout(names, widths, 592, 13);
  assert.deepEqual(leg.items.map((i) => [i.row, i.x]), [[0, 0], [0, 345.296875], [1, 0], [1, 138.953125],
                                                         [1, 366.046875], [2, 0], [2, 180]]);
  assert.equal(leg.height, 90);
  // the page's 372 px column (1366 x 768): "Radiating pain" and the key points do not share a row
  // (364 px wide legend; Plotly: five rows)
  const narrow = svg.legendLayout(names.filter((e) => e.group !== "selected"), widths.filter((_, i) => i !== 1), 364, 13);
  assert.deepEqual(narrow.items.map((i) => i.row), [0, 1, 2, 3, 4, 4]);
  assert.equal(narrow.height, 150);
  // ungrouped and not one row: a grid of the widest item (the symptoms mode's legend, 70 px)
  const marks = ["Key", "Numbness", "Tingling", "Pain", "Marked"].map((name) => ({ name, group: "" }));
  const grid = svg.legendLayout(marks, [182.09375, 160.203125, 135, 119.640625, 95.953125], 592, 13);
  assert.deepEqual(grid.items.map((i) => [i.row, i.x]), [[0, 0], [0, 227.09375], [1, 0], [1, 227.09375], [2, 0]]);
  assert.equal(grid.height, 70);
  assert.equal(svg.legendLayout([], [], 592, 13).height, 0);
});

test("a pain route's spline and arrow are Plotly's (pixels of pain-L5-left-back)", () => {
  const t = FIG.plain.data.find((d) => d.uid === "pain-L5-left-back");
  const f = svg.plotFrame(600, 620, FIG.plain.layout, 90);
  const run = svg.runs(t.x, t.y)[0];
  // Plotly's trace paths are relative to the plot area (its g.plot is translated by l, t)
  const px = (x, i) => (i % 2 ? f.oy + f.ky * x - f.t : f.ox + f.kx * x - f.l);
  const got = numbers(svg.splinePath(run, 1)).map(px);
  const plotly = numbers("M338.79,134.31Q338.75,220.7 339.72,258.73Q340.54,290.94 343.62,347.95");
  assert.equal(got.length, plotly.length);
  got.forEach((v, i) => near(v, plotly[i], 0.02, `spline number ${i}`));
  const angle = svg.arrowAngle(run, run.length - 1);
  const arrow = numbers(svg.symbolPath("arrow", 16, angle));
  numbers("M0,0L4.275025659196575,-15.418305860671298L-5.604084390558206,-14.986468501401584Z")
    .forEach((v, i) => near(arrow[i], v, 0.01, `arrow number ${i}`));
  assert.equal(svg.symbolPath("square", 14), "M7,7H-7V-7H7Z");
  assert.equal(svg.symbolPath("circle", 7), "M3.5,0A3.5,3.5 0 1,1 0,-3.5A3.5,3.5 0 0,1 3.5,0Z");
  assert.equal(svg.symbolPath("arrow", 0, 10), "", "a zero-size marker draws nothing");
});

test("hover text keeps <b> and <br> as structure and everything else as plain text", () => {
  assert.deepEqual(svg.richText("<b>Big toe</b> (foot), left<br>L5 dermatome"),
                   [[{ text: "Big toe", bold: true, italic: false }, { text: " (foot), left", bold: false, italic: false }],
                    [{ text: "L5 dermatome", bold: false, italic: false }]]);
  assert.equal(svg.plainText('<img src=x onerror="alert(1)"><b>a</b>'), '<img src=x onerror="alert(1)">a');
  assert.equal(svg.plainText(null), "");
  assert.deepEqual(svg.labelColours("rgba(213,94,0,0.5)"), { bg: "rgb(234,175,128)", fg: "#444" });
  assert.deepEqual(svg.labelColours("#000000"), { bg: "rgb(0,0,0)", fg: "#fff" });
  assert.deepEqual(svg.labelColours("not a colour"), { bg: "#fff", fg: "#444" });
});

test("legend entries: shown traces with showlegend, samples bounded as Plotly's", () => {
  const pain = painFigure();
  const names = pain.data.map(svg.legendEntry).filter(Boolean).map((e) => e.name);
  assert.deepEqual(names, ["Skin of the squeezed root (magenta, as in 3D)", "Selected: L5 left", "Radiating pain",
                           "Key sensory point (ISNCSCI)", "Numbness (solid border)", "Tingling (dot border)",
                           "Pain (dash border)"]);
  const route = svg.legendEntry(pain.data.find((t) => t.uid === "pain-L5-left-back"));
  assert.ok(route.line && route.marker);
  near(route.marker.size, 16 / 3, 1e-9, "an array of sizes: their mean");
  assert.equal(route.marker.opacity, 0.7);
  assert.equal(svg.legendEntry({ visible: false, name: "x" }), null);
  assert.equal(svg.legendEntry(null), null);
});

function mount() {
  const doc = fakeDocument();
  const host = new FakeNode(doc, "div");
  const clicks = [];
  const chart = new svg.BodyChart(host, { doc, onClick: (id) => clicks.push(id) });
  return { doc, host, chart, clicks };
}

const slotNode = (chart, uid, cls) => chart.slots.get(uid).g.children.find((c) => c.attrs.get("class") === cls);

test("one element per trace; a change of state writes styles only, never an outline", () => {
  const { doc, chart } = mount();
  chart.render(FIG.plain, 600, 620);
  assert.equal(chart.slots.size, FIG.plain.data.length);
  const area = slotNode(chart, "area-front-left-top-of-the-foot", "bc-fill");
  assert.ok(area.getAttribute("d").startsWith("M") && area.getAttribute("d").endsWith("Z"));
  assert.equal(chart.slots.get("selected-L5-left").g.style.display, "none", "an unused slot is not drawn");
  const keep = chart.slots.get("area-front-left-top-of-the-foot").g;
  doc.log.length = 0;
  const stats = chart.render(painFigure(), 600, 620);
  const dWrites = doc.log.filter(([kind, , k]) => kind === "attr" && k === "d");
  // the outlines stay; the route and the outline slots now in use get their paths once
  const fresh = new Set(["pain-L5-left-back", "pain-L5-left-front", "selected-L5-left", "squeezed-L5-left"]);
  assert.ok(dWrites.length <= 2 * fresh.size + 8, `${dWrites.length} d writes`);
  assert.equal(chart.slots.get("area-front-left-top-of-the-foot").g, keep, "the same element");
  assert.equal(chart.slots.get("selected-L5-left").g.style.display, "inline");
  assert.match(area.style.fill, /^rgba\(/, "the numb foot is painted");
  assert.ok(stats.writes > 0 && stats.geometry <= fresh.size, JSON.stringify(stats));
  // the same figure again: nothing written
  doc.log.length = 0;
  chart.render(painFigure(), 600, 620);
  assert.deepEqual(doc.log, []);
  // back to the plain map: the route is hidden, nothing is recomputed
  const back = chart.render(FIG.plain, 600, 620);
  assert.equal(back.geometry, 0);
  assert.equal(chart.slots.get("pain-L5-left-back").g.style.display, "none");
});

test("a click on an area reports its meta; on an outline or a label, nothing", () => {
  const { chart, clicks } = mount();
  chart.render(FIG.plain, 600, 620);
  const area = slotNode(chart, "area-front-left-outer-side-of-the-lower-leg", "bc-fill");
  chart.svg.fire("click", { target: area });
  assert.deepEqual(clicks, ["front:left:outer side of the lower leg"]);
  chart.svg.fire("click", { target: slotNode(chart, "outline", "bc-line") });
  chart.svg.fire("click", { target: chart.svg });
  assert.deepEqual(clicks, ["front:left:outer side of the lower leg"]);
  assert.equal(area.style["pointer-events"], "fill");
  assert.equal(slotNode(chart, "outline", "bc-line").style["pointer-events"], "none", "hoverinfo skip: not hit");
});

test("hover shows the area's text (its name) in a label of its colour", () => {
  const { chart } = mount();
  chart.render(painFigure(), 600, 620);
  const area = slotNode(chart, "area-front-left-top-of-the-foot", "bc-fill");
  chart.svg.fire("pointermove", { target: area, clientX: 100, clientY: 200 });
  assert.equal(chart.tip.hidden, false);
  assert.match(chart.tip.textContent, /^Top of the foot .*left.*L5 dermatome.*Numbness from L5/);
  assert.ok(chart.tip.style.background.startsWith("rgb("));
  chart.svg.fire("pointermove", { target: slotNode(chart, "outline", "bc-line"), clientX: 1, clientY: 1 });
  assert.equal(chart.tip.hidden, true);
});

test("bad figure data never throws and draws what it can", () => {
  const { chart } = mount();
  const bad = [
    null, undefined, 7, "x", {}, { data: "no" }, { data: [null, 3, "t", []], layout: 5 },
    { data: [{ x: [1, "a", NaN, Infinity, null, 2], y: [1, 2, 3, 4, 5, 6], mode: 42, line: "red", marker: [] }],
      layout: { margin: "m", xaxis: { range: ["a", 3] }, yaxis: { range: [1, 1], scaleanchor: "x" }, legend: null } },
    { data: [{ x: [0, 1, 2], y: [0, 1, 0], fill: "toself", fillcolor: { evil: 1 }, line: { width: "9", dash: ["x"] },
               name: { toString: null }, text: [1, 2], hoveron: 3, mode: "lines+markers+text", marker: { size: ["a", -1, 1e9] },
               uid: "<script>" }], layout: { annotations: [null, { x: "1", y: 2 }, { x: 1, y: 2, text: 3, font: "f" }],
               title: { text: "<b>t</b>" } } },
  ];
  for (const fig of bad) assert.doesNotThrow(() => chart.render(fig, 600, 620), JSON.stringify(fig));
  assert.doesNotThrow(() => chart.render(FIG.plain, 0, 0));
  assert.doesNotThrow(() => chart.render(FIG.plain, 600, 620));
  assert.equal(chart.slots.size, FIG.plain.data.length, "the previous traces were dropped and the new ones drawn");
});

test("labels sit where Plotly puts them: centred, baseline 0.25 em below the point", () => {
  // Plotly (cauda equina chart, 600 x 620, plot area at 4, 8): the first label's text at
  // x 253.5, y 135.06 in the plot area, its group translated by (0, 3.5)
  const f0 = svg.plotFrame(600, 620, FIG.plain.layout, 90);
  const t0 = FIG.plain.data.find((d) => d.uid === "root-labels");
  near(f0.ox + f0.kx * t0.x[0] - f0.l, 253.5, 0.01, "Plotly's x");
  near(f0.oy - f0.ky * t0.y[0] - f0.t, 135.06, 0.01, "Plotly's y");
  const { chart } = mount();
  chart.render(FIG.plain, 600, 620);
  const labels = chart.slots.get("root-labels");
  const t = FIG.plain.data.find((d) => d.uid === "root-labels");
  const f = chart.frame;
  const first = labels.texts[0].node;
  near(Number(first.getAttribute("x")), f.ox + f.kx * t.x[0], 0.01, "x");
  near(Number(first.getAttribute("y")), f.oy - f.ky * t.y[0] + 3.5, 0.01, "y");
  assert.equal(first.textContent, t.text[0]);
  assert.equal(first.style.pointerEvents, "none", "a label does not hide the area under it from the pointer");
  assert.equal(labels.texts.length, t.text.length);
});

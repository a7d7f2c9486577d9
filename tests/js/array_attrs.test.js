// fastArrayAttributes (explorer/frontend/gl_workarounds.js) against Plotly's own
// PlotSchema.crawl / findArrayAttributes, taken from the served gl3d bundle's source and run on
// stand-in schemas: the memo must give the very same lists, in the same order, for every trace.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";

import { arrayAttributesAlong, arrayAttributePaths, fastArrayAttributes } from "../../explorer/frontend/gl_workarounds.js";

const BUNDLE = new URL("../../explorer/static/plotly-gl3d.min.js", import.meta.url);

// Plotly's lib/is_plain_object.js and lib/is_array.js (what the bundle binds to O0 / vee).
const isPlainObject = (o) => Object.prototype.toString.call(o) === "[object Object]"
  && Object.prototype.hasOwnProperty.call(Object.getPrototypeOf(o), "hasOwnProperty");
const isArrayOrTypedArray = (a) => Array.isArray(a) || (ArrayBuffer.isView(a) && !(a instanceof DataView));

// The plot_schema module's crawl, isValObject and findArrayAttributes as the bundle has them,
// made into a PlotSchema object over `base` (the base trace attributes).
function bundledPlotSchema(base) {
  const src = readFileSync(BUNDLE, "latin1");
  const id = "[\\w$]+";  // a minified name
  const header = new RegExp(`var ${id}=xe\\((${id})=>\\{"use strict";var [^;]*?(${id})=${id}\\.isPlainObject,`
    + `(${id})=${id}\\.isArrayOrTypedArray,[^;]*?(${id})=\\[${id},${id},${id},${id}\\];`).exec(src);
  assert.ok(header, "the plot_schema module's header (isPlainObject, isArrayOrTypedArray, UNDERSCORE_ATTRS)");
  const [, ns, plain, isArr, underscore] = header;
  const start = src.indexOf(`${ns}.crawl=function(`, header.index);
  const end = src.indexOf(`${ns}.getTraceValObject=`, start);
  assert.ok(start > 0 && end > start, "crawl ... findArrayAttributes in the bundle");
  const code = src.slice(start, end);
  const baseName = new RegExp(`${ns}\\.crawl\\((${id}),${id}\\),${id}\\._module&&`).exec(code)?.[1];
  assert.ok(baseName, "findArrayAttributes crawls the base attributes, then the trace module's");
  const make = new Function(ns, plain, isArr, underscore, baseName, `${code}; return ${ns};`);
  return make({}, isPlainObject, isArrayOrTypedArray,
              ["_isSubplotObj", "_isLinkedToArray", "_arrayAttrRegexps", "_deprecated"], base);
}

const BASE = {
  type: { valType: "enumerated" },
  visible: { valType: "enumerated" },
  ids: { valType: "data_array" },
  customdata: { valType: "data_array" },
  meta: { valType: "any", arrayOk: true },
  hoverlabel: { bgcolor: { valType: "color", arrayOk: true }, font: { size: { valType: "number", arrayOk: true } } },
  _deprecated: { old: { valType: "data_array" } },
};
const MESH = {
  attributes: {
    x: { valType: "data_array" }, y: { valType: "data_array" }, z: { valType: "data_array" },
    i: { valType: "data_array" }, j: { valType: "data_array" }, k: { valType: "data_array" },
    intensity: { valType: "data_array" }, text: { valType: "string", arrayOk: true },
    color: { valType: "color" },
    colorbar: { tickvals: { valType: "data_array" }, ticktext: { valType: "data_array" }, len: { valType: "number" } },
    lighting: { ambient: { valType: "number" } },
    impliedEdits: { x: { valType: "data_array" } },
  },
};
const SHAPES = {
  attributes: {
    x: { valType: "data_array" },
    dimensions: { _isLinkedToArray: "dimension", values: { valType: "data_array" }, label: { valType: "string" } },
    marker: { color: { valType: "color", arrayOk: true }, line: { width: { valType: "number", arrayOk: true } } },
  },
};

const traces = [
  { type: "mesh3d", _module: MESH, x: new Float32Array(3), y: [1], z: [2], i: new Uint16Array(1), j: [0], k: [0],
    intensity: new Float32Array(3), text: "one", colorbar: { tickvals: [1, 2], ticktext: ["a", "b"] },
    hoverlabel: { bgcolor: ["#fff"], font: { size: 3 } }, meta: ["m"], ids: "nope" },
  { type: "mesh3d", _module: MESH, x: [0], y: [0], z: [0], i: [0], j: [0], k: [0], text: ["a"], customdata: new DataView(new ArrayBuffer(4)) },
  { type: "mesh3d", _module: MESH, x: [0], hoverlabel: "not an object", colorbar: null },
  { type: "shapes", _module: SHAPES, x: [1], dimensions: [{ values: [1, 2] }, "skip", { values: 3 }, { values: new Int8Array(2) }],
    marker: { color: ["red"], line: { width: [1] } } },
  { type: "shapes", _module: SHAPES, dimensions: { values: [1] }, marker: { line: null } },
  { type: "mesh3d", _module: MESH, x: [0], y: [0], z: [0], intensity: [0, 1], hoverlabel: { font: { size: [1, 2] } } },
];

test("the memo answers exactly as Plotly's findArrayAttributes, crawling each schema once per trace type", () => {
  const PlotSchema = bundledPlotSchema(BASE);
  const expected = traces.map((t) => PlotSchema.findArrayAttributes(t));
  assert.deepEqual(expected[0], ["ids", "customdata", "meta", "hoverlabel.bgcolor", "x", "y", "z", "i", "j", "k", "intensity"].filter(
    (a) => a !== "ids" && a !== "customdata"), "Plotly's own answer on the first trace (sanity check of the stand-in)");
  let crawls = 0;
  const crawl = PlotSchema.crawl;
  PlotSchema.crawl = function (attrs, cb, level, ...rest) {
    if (!level) crawls += 1;
    return crawl.call(this, attrs, cb, level, ...rest);
  };
  const stats = fastArrayAttributes(PlotSchema, { checks: 0, warn: () => assert.fail("no mismatch expected") });
  for (let round = 0; round < 3; round++) {
    traces.forEach((t, n) => assert.deepEqual(PlotSchema.findArrayAttributes(t), expected[n], `trace ${n}, round ${round}`));
  }
  assert.equal(stats.types, 2);
  assert.equal(stats.mismatch, null);
  assert.equal(stats.fast, 3 * traces.length - 2, "all but the first call per type answered from the memo");
  // Each type's first call: Plotly's own (2 schemas) and the memo's walk of the same 2 schemas.
  assert.equal(crawls, 2 * 2 * 2);
  assert.equal(fastArrayAttributes(PlotSchema), stats, "installing twice is a no-op");
});

test("a difference from Plotly's answer switches the memo off for the page", () => {
  const PlotSchema = bundledPlotSchema(BASE);
  const original = PlotSchema.findArrayAttributes;
  const warnings = [];
  const stats = fastArrayAttributes(PlotSchema, { checks: 2, warn: (m) => warnings.push(m) });
  PlotSchema.findArrayAttributes(traces[0]);
  // Plotly changes its mind (a stand-in for a schema registered later): the check catches it.
  const weird = { ...traces[1] };
  const schema = MESH.attributes;
  schema.extra = { valType: "data_array" };
  try {
    weird.extra = [1];
    assert.deepEqual(PlotSchema.findArrayAttributes(weird), original.call(PlotSchema, weird));
    assert.equal(stats.mismatch, "mesh3d");
    assert.equal(warnings.length, 1);
    const slow = stats.slow;
    PlotSchema.findArrayAttributes(traces[0]);
    assert.equal(stats.slow, slow + 1, "Plotly's own answer from then on");
  } finally {
    delete schema.extra;
  }
});

test("traces with transforms or no module take Plotly's path", () => {
  const PlotSchema = bundledPlotSchema(BASE);
  const stats = fastArrayAttributes(PlotSchema, { checks: 0 });
  assert.deepEqual(PlotSchema.findArrayAttributes({ type: "x", ids: [1] }), ["ids"]);
  assert.deepEqual(PlotSchema.findArrayAttributes({ ...traces[1], transforms: [] }), ["x", "y", "z", "i", "j", "k", "text"]);
  assert.equal(stats.slow, 2);
  assert.equal(stats.types, 0);
});

test("paths and lookups on their own", () => {
  const PlotSchema = bundledPlotSchema(BASE);
  const paths = arrayAttributePaths((a, cb) => PlotSchema.crawl(a, cb), SHAPES.attributes);
  assert.deepEqual(paths.map((p) => p.stack.join(".")), ["x", "dimensions.values", "marker.color", "marker.line.width"]);
  assert.deepEqual(paths[1].linked, ["dimension", undefined]);
  assert.deepEqual(arrayAttributesAlong(paths, traces[3]),
                   ["x", "dimensions[0].values", "dimensions[3].values", "marker.color", "marker.line.width"]);
  assert.equal(fastArrayAttributes({}), null, "not Plotly's PlotSchema: nothing installed");
});

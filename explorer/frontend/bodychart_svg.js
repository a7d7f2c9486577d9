// The body chart drawn as plain SVG: the subset of Plotly's figure format that
// explorer/render/bodychart.py sends (scatter traces: filled `toself` areas, lines, spline routes
// with arrow markers, marker and text traces, legend-only swatches; annotations; a horizontal
// legend under the plot; fixed axis ranges at 1:1). Why not Plotly: its react cost 137-184 ms of
// the main thread per condition change (issue 12) and 16 of 23 changes replotted every trace;
// here each trace has one persistent <g> keyed by uid, and a change sets only the attributes that
// changed. The look follows what plotly.js v4 draws for these figures (sizes, offsets and legend
// layout read off its SVG; references in comments), so screenshots match up to anti-aliasing.
//
// Pure helpers (no DOM) are exported for tests/js/bodychart_svg.test.js; BodyChart needs a
// document (a browser, or a test's fake).

const SVG_NS = "http://www.w3.org/2000/svg";
// Plotly's default font (layout.font.family), used where the figure names none.
export const PLOTLY_FONT = '"Open Sans", verdana, arial, sans-serif';
const DEFAULT_TEXT = "#444";

// Legend geometry as plotly.js draws it (src/components/legend/constants.js and draw.js):
// symbol in the first 40 px of an item, 5 px between items, rows of max(1.3 em, 16) + 3 px,
// 5 px padding, 10 px between groups (tracegroupgap) when the legend is grouped.
const LEGEND = { textGap: 40, itemGap: 5, pad: 5, groupGap: 10, lineSpacing: 1.3, baseline: 0.39 };

const finite = (v) => typeof v === "number" && Number.isFinite(v);
const isObj = (v) => v !== null && typeof v === "object" && !Array.isArray(v);
const str = (v, dflt) => (typeof v === "string" && v !== "" ? v : dflt);
const num = (v, dflt) => (finite(v) ? v : dflt);
const r3 = (v) => Math.round(v * 1000) / 1000;
const r2 = (v) => Math.round(v * 100) / 100;
// A value shown as text: strings and finite numbers; anything else (an object from bad data) is "".
const label = (v) => (typeof v === "string" ? v : finite(v) ? String(v) : "");

// ------------------------------------------------------------------------------ pure helpers
// Plotly's dash names as a stroke-dasharray (drawing/index.js dashStyle: scaled by the width,
// at least 3 px); a custom "5px,10px" list is used as given.
export function dashArray(dash, width) {
  const w = Math.max(num(Number(width), 1) || 1, 3);
  switch (dash) {
    case undefined: case null: case "": case "solid": return "";
    case "dot": return `${w}px,${w}px`;
    case "dash": return `${3 * w}px,${3 * w}px`;
    case "longdash": return `${5 * w}px,${5 * w}px`;
    case "dashdot": return `${3 * w}px,${w}px,${w}px,${w}px`;
    case "longdashdot": return `${5 * w}px,${2 * w}px,${w}px,${2 * w}px`;
    default: return typeof dash === "string" && /^[\d.]+(px|%)?(,\s*[\d.]+(px|%)?)*$/.test(dash) ? dash : "";
  }
}

// The runs of drawable points of x/y (a null, a missing or a non-finite value ends a run), in
// chart units: (x, -y), so one matrix(s, 0, 0, s, ox, oy) maps them to pixels with y up.
export function runs(xs, ys) {
  const out = [];
  if (!Array.isArray(xs) || !Array.isArray(ys)) return out;
  let run = [];
  const n = Math.min(xs.length, ys.length);
  for (let i = 0; i < n; i++) {
    const x = xs[i], y = ys[i];
    if (finite(x) && finite(y)) run.push([x, -y]);
    else if (run.length) { out.push(run); run = []; }
  }
  if (run.length) out.push(run);
  return out;
}

const pt = (p) => r3(p[0]) + "," + r3(p[1]);

// A polyline path of each run; `closed` closes each ring (a `toself` fill: every run is a ring).
export function linesPath(rs, closed = false) {
  let d = "";
  for (const run of rs) {
    if (run.length < (closed ? 3 : 2)) continue;
    d += "M" + run.map(pt).join("L") + (closed ? "Z" : "");
  }
  return d;
}

// Plotly's spline (drawing/index.js smoothopen with makeTangent: Catmull-Rom with exponent 0.5):
// the same curve at any uniform scale, so it is computed in chart units.
export function splinePath(run, smoothness = 1) {
  if (run.length < 3) return run.length === 2 ? "M" + pt(run[0]) + "L" + pt(run[1]) : "";
  const tangents = [];
  for (let i = 1; i < run.length - 1; i++) tangents.push(tangent(run[i - 1], run[i], run[i + 1], smoothness));
  let d = "M" + pt(run[0]) + "Q" + pt(tangents[0][0]) + " " + pt(run[1]);
  for (let i = 2; i < run.length - 1; i++) {
    d += "C" + pt(tangents[i - 2][1]) + " " + pt(tangents[i - 1][0]) + " " + pt(run[i]);
  }
  return d + "Q" + pt(tangents[run.length - 3][1]) + " " + pt(run[run.length - 1]);
}

function tangent(prev, cur, next, smoothness) {
  const d1x = prev[0] - cur[0], d1y = prev[1] - cur[1], d2x = next[0] - cur[0], d2y = next[1] - cur[1];
  const d1a = Math.pow(d1x * d1x + d1y * d1y, 0.25), d2a = Math.pow(d2x * d2x + d2y * d2y, 0.25);
  const numx = (d2a * d2a * d1x - d1a * d1a * d2x) * smoothness;
  const numy = (d2a * d2a * d1y - d1a * d1a * d2y) * smoothness;
  const den1 = 3 * d2a * (d1a + d2a), den2 = 3 * d1a * (d1a + d2a);
  return [[cur[0] + (den1 && numx / den1), cur[1] + (den1 && numy / den1)],
          [cur[0] - (den2 && numx / den2), cur[1] - (den2 && numy / den2)]];
}

// A marker symbol's path around (0, 0) in pixels (drawing/symbol_defs.js): circle, square and
// arrow (rotated by `angle` degrees, tip at the point); anything else is drawn as a circle.
export function symbolPath(symbol, size, angle = 0) {
  const r = Math.min(Math.max(num(size, 6), 0), 400) / 2;  // bounded: a wild size from bad data stays a marker
  if (r === 0) return "";
  if (symbol === "square") return `M${r},${r}H${-r}V${-r}H${r}Z`;
  if (symbol === "arrow") {
    const head = Math.PI / 2.5, a = 2 * r * Math.cos(head), b = 2 * r * Math.sin(head);
    const t = (angle / 180) * Math.PI, c = Math.cos(t), s = Math.sin(t);
    const rot = (x, y) => r2(x * c - y * s) + "," + r2(x * s + y * c);
    return `M0,0L${rot(-a, b)}L${rot(a, b)}Z`;
  }
  return `M${r},0A${r},${r} 0 1,1 0,${-r}A${r},${r} 0 0,1 ${r},0Z`;
}

// The direction of the line into point i (degrees; `angleref: "previous"`, drawing/index.js
// getMarkerAngle: atan2 of the pixel step + 90, so an arrow at angle 0 points up).
export function arrowAngle(run, i) {
  if (i < 1 || !run[i - 1]) return 0;
  return (Math.atan2(run[i][1] - run[i - 1][1], run[i][0] - run[i - 1][0]) * 180) / Math.PI + 90;
}

// Hover text with Plotly's pseudo-HTML (<b>, <i>, <br>): lines of {text, bold, italic} pieces.
// Anything else stays literal text (it is set with textContent: never parsed as HTML).
export function richText(text) {
  const lines = [[]];
  let bold = false, italic = false;
  for (const part of label(text).split(/(<\/?[bi]>|<br\s*\/?>)/i)) {
    const tag = part.toLowerCase().replace(/\s/g, "");
    if (tag === "<b>") bold = true;
    else if (tag === "</b>") bold = false;
    else if (tag === "<i>") italic = true;
    else if (tag === "</i>") italic = false;
    else if (tag === "<br>" || tag === "<br/>") lines.push([]);
    else if (part) lines[lines.length - 1].push({ text: part, bold, italic });
  }
  return lines;
}

export const plainText = (text) => richText(text).map((l) => l.map((p) => p.text).join("")).join("\n");

// What a trace shows in the legend, or null (Plotly: shown traces with showlegend, not false).
export function legendEntry(t) {
  if (!isObj(t) || t.visible === false || t.showlegend === false) return null;
  const mode = str(t.mode, "lines+markers");
  const line = isObj(t.line) ? t.line : {};
  const marker = isObj(t.marker) ? t.marker : {};
  const sizes = Array.isArray(marker.size) ? marker.size.filter(finite) : null;
  // Legend samples are bounded (legend/style.js): line width 0-10, marker size 2-16 (the mean of an array).
  const size = Math.min(Math.max(sizes ? (sizes.length ? sizes.reduce((a, b) => a + b, 0) / sizes.length : 6)
    : num(marker.size, 6), 2), 16);
  const markerLine = isObj(marker.line) ? marker.line : {};
  return {
    name: label(t.name),
    group: typeof t.legendgroup === "string" ? t.legendgroup : "",
    line: mode.includes("lines") ? { color: str(line.color, DEFAULT_TEXT), width: Math.min(Math.max(num(line.width, 2), 0), 10),
                                      dash: dashArray(line.dash, line.width) } : null,
    marker: mode.includes("markers") ? {
      symbol: str(marker.symbol, "circle"), size, color: str(marker.color, DEFAULT_TEXT),
      opacity: num(marker.opacity, sizes ? 0.7 : 1),
      lineColor: str(markerLine.color, sizes ? "#fff" : DEFAULT_TEXT), lineWidth: num(markerLine.width, sizes ? 1 : 0),
    } : null,
  };
}

// Where each legend item goes (legend/draw.js computeLegendDimensions, horizontal): a grouped
// legend (some item has a legendgroup) packs items row by row with `groupGap` between rows; an
// ungrouped one packs them when all fit in one row, else lays them on a grid of the widest item.
// `widths`: each item's text width in px. Returns {items: [{x, row}], rows, height}.
export function legendLayout(entries, widths, maxWidth, fontSize) {
  const n = entries.length;
  const rowH = Math.max(fontSize * LEGEND.lineSpacing, 16) + 3;
  if (!n) return { items: [], rows: 0, height: 0, rowH, rowStep: rowH };
  const grouped = entries.some((e) => e.group !== "");
  const w = widths.map((tw) => LEGEND.textGap + tw + LEGEND.itemGap);
  const oneRow = w.reduce((a, b) => a + b, 0) + (n - 1) * LEGEND.itemGap < maxWidth;
  const cell = grouped || oneRow ? null : Math.max(...w);
  const items = [];
  let x = 0, row = 0;
  for (let i = 0; i < n; i++) {
    const next = cell ?? w[i];
    // a grouped row takes an item while it fits with its gap; a grid row, without the last gap
    if (x > 0 && (grouped ? x + next > maxWidth : x + next - LEGEND.itemGap >= maxWidth)) { x = 0; row += 1; }
    items.push({ x, row });
    x += next;
  }
  const rows = row + 1;
  const gap = grouped ? LEGEND.groupGap : 0;
  return { items, rows, rowH, rowStep: rowH + gap, height: Math.ceil(rows * rowH + (rows - 1) * gap + 2 * LEGEND.pad) };
}

// The plot area and the data -> pixel map (Plotly: margins, a legend below the plot pushing the
// bottom margin, `scaleanchor` 1:1 with the free axis widened about its centre).
export function plotFrame(width, height, layout, legendHeight) {
  const m = isObj(layout?.margin) ? layout.margin : {};
  const l = num(m.l, 80), r = num(m.r, 80), t = num(m.t, 100), b = num(m.b, 80);
  const legend = isObj(layout?.legend) ? layout.legend : {};
  const below = Math.max(-num(legend.y, -0.01), 0);
  const w = Math.max(width - l - r, 1);
  const h = Math.max(Math.round(legendHeight ? (height - t - b - legendHeight) / (1 + below) : height - t - b), 1);
  const xr = range(layout?.xaxis, [-1, 1]), yr = range(layout?.yaxis, [-1, 1]);
  const sx = w / (xr[1] - xr[0]), sy = h / (yr[1] - yr[0]);
  const s = isObj(layout?.yaxis) && layout.yaxis.scaleanchor === "x" ? Math.min(sx, sy) : null;
  const kx = s ?? sx, ky = s ?? sy;
  return {
    l, t, w, h, kx, ky,
    ox: l + w / 2 - (kx * (xr[0] + xr[1])) / 2,
    oy: t + h / 2 + (ky * (yr[0] + yr[1])) / 2,  // pixel y of data y 0 (chart units are x, -y)
    legendTop: t + h + below * h,
  };
}

function range(axis, dflt) {
  const rg = isObj(axis) && Array.isArray(axis.range) ? axis.range : null;
  return rg && finite(rg[0]) && finite(rg[1]) && rg[1] !== rg[0] ? [Math.min(rg[0], rg[1]), Math.max(rg[0], rg[1])] : dflt;
}

// A colour as an opaque CSS colour over white and whether text on it should be light (Plotly's
// hover label: the trace colour as background, #444 or white text by contrast).
export function labelColours(colour) {
  const m = /^rgba?\(\s*([\d.]+)\s*,\s*([\d.]+)\s*,\s*([\d.]+)\s*(?:,\s*([\d.]+)\s*)?\)$/i.exec(label(colour).trim());
  let rgb;
  if (m) {
    const a = m[4] === undefined ? 1 : Math.min(Math.max(Number(m[4]), 0), 1);
    rgb = [1, 2, 3].map((i) => Math.round(Number(m[i]) * a + 255 * (1 - a)));
  } else {
    const hex = /^#([0-9a-f]{3}|[0-9a-f]{6})$/i.exec(label(colour).trim());
    if (!hex) return { bg: "#fff", fg: DEFAULT_TEXT };
    const h = hex[1].length === 3 ? [...hex[1]].map((c) => c + c).join("") : hex[1];
    rgb = [0, 2, 4].map((i) => parseInt(h.slice(i, i + 2), 16));
  }
  // tinycolor's isDark: perceived brightness below 128 (what Plotly's Color.contrast asks)
  const dark = (rgb[0] * 299 + rgb[1] * 587 + rgb[2] * 114) / 1000 < 128;
  return { bg: `rgb(${rgb.join(",")})`, fg: dark ? "#fff" : DEFAULT_TEXT };
}

// ------------------------------------------------------------------------------------ the DOM
function el(doc, tag, cls) {
  const e = doc.createElementNS(SVG_NS, tag);
  if (cls) e.setAttribute("class", cls);
  return e;
}

// Attribute and style writes since the counter was last reset (diagnostics for benchmarks).
export const writes = { count: 0 };

// Set attribute/style `key` of `node` only when it changes (memo on the node's record `rec`).
function put(rec, node, key, value, style = false) {
  const k = key + (style ? ":s" : ":a");
  if (rec[k] === value) return;
  rec[k] = value;
  writes.count += 1;
  if (style) node.style.setProperty(key, value);
  else if (value === null) node.removeAttribute(key);
  else node.setAttribute(key, value);
}

function fontStyle(node, font, dflt) {
  const f = isObj(font) ? font : {};
  node.style.fontFamily = str(f.family, dflt.family);
  node.style.fontSize = num(f.size, dflt.size) + "px";
  node.style.fill = str(f.color, dflt.color);
}

// Rich text into an SVG <text> (tspans for <b>/<i>; lines after the first at 1.3 em).
function fillText(doc, node, text) {
  node.textContent = "";
  richText(text).forEach((line, i) => {
    const row = el(doc, "tspan");
    if (i > 0) { row.setAttribute("x", node.getAttribute("x") ?? "0"); row.setAttribute("dy", "1.3em"); }
    for (const p of line) {
      const span = el(doc, "tspan");
      if (p.bold) span.style.fontWeight = "bold";
      if (p.italic) span.style.fontStyle = "italic";
      span.textContent = p.text;
      row.appendChild(span);
    }
    node.appendChild(row);
  });
}

// Text widths for the legend layout, from a canvas (no layout pass), else a rough estimate.
function textMeasurer(doc) {
  let ctx = null;
  try { ctx = doc.createElement("canvas").getContext?.("2d") ?? null; } catch (e) { ctx = null; }
  const memo = new Map();
  return (text, size, family) => {
    const key = size + "|" + family + "|" + text;
    let w = memo.get(key);
    if (w === undefined) {
      if (ctx) {
        ctx.font = `${size}px ${family}`;
        // Plotly measures the text's box, which takes in ink left of the first glyph's origin
        const m = ctx.measureText(text);
        w = m.width + Math.max(num(m.actualBoundingBoxLeft, 0), 0);
      }
      else w = text.length * size * 0.55;
      memo.set(key, w);
    }
    return w;
  };
}

// One chart in `host` (a positioned element: the SVG fills it). render(figure, width, height)
// draws a figure at a size (again for a new width). onClick(id): a click on an area with `meta`.
export class BodyChart {
  constructor(host, { doc = host.ownerDocument, onClick = () => {} } = {}) {
    this.doc = doc;
    this.host = host;
    this.onClick = onClick;
    this.slots = new Map();   // trace key -> slot
    this.order = [];          // slots in trace order
    this.measure = textMeasurer(doc);
    this.frame = null;
    this.width = 0;
    this.height = 0;
    // diagnostics of the last render: attribute and style writes, paths computed, legend redrawn
    this.stats = { writes: 0, geometry: 0, legend: false };
    const svg = (this.svg = el(doc, "svg", "bc-svg"));
    svg.setAttribute("xmlns", SVG_NS);
    svg.setAttribute("aria-hidden", "true");  // the chart's words are its figure's aria-label
    this.bg = svg.appendChild(el(doc, "rect", "bc-bg"));
    this.plot = svg.appendChild(el(doc, "g", "bc-plot"));       // areas and lines, chart units
    this.marks = svg.appendChild(el(doc, "g", "bc-marks"));     // markers and text, pixels
    this.notes = svg.appendChild(el(doc, "g", "bc-notes"));     // annotations
    this.legend = svg.appendChild(el(doc, "g", "bc-legend"));
    this.notes.style.pointerEvents = this.legend.style.pointerEvents = "none";  // words, not targets
    this.tip = doc.createElement("div");
    this.tip.className = "bc-hover";
    this.tip.hidden = true;
    host.append(svg, this.tip);
    svg.addEventListener("pointermove", (ev) => this.hover(ev));
    svg.addEventListener("pointerleave", () => { this.tip.hidden = true; });
    // a finger has no hover: a touch shows the label too (as Plotly did on tap)
    svg.addEventListener("pointerdown", (ev) => { if (ev.pointerType && ev.pointerType !== "mouse") this.hover(ev); });
    svg.addEventListener("click", (ev) => {
      const slot = this.slotAt(ev.target);
      const meta = slot?.trace?.meta;
      if (slot && slot.hoverOn === "fills" && label(meta) !== "") this.onClick(label(meta));
    });
  }

  slotAt(target) {
    const node = target?.closest?.("[data-slot]");
    return node ? this.slots.get(node.getAttribute("data-slot")) : undefined;
  }

  // Draw `fig` ({data, layout}) at the host's size (`width` x `height` px).
  render(fig, width, height) {
    this.stats = { writes: 0, geometry: 0, legend: false };
    const written = writes.count;
    const layout = isObj(fig?.layout) ? fig.layout : {};
    const data = Array.isArray(fig?.data) ? fig.data : [];
    const tplFont = isObj(layout.template?.layout?.font) ? layout.template.layout.font : {};
    const baseFont = { family: str(layout.font?.family, str(tplFont.family, PLOTLY_FONT)),
                       size: num(layout.font?.size, num(tplFont.size, 12)),
                       color: str(layout.font?.color, str(tplFont.color, DEFAULT_TEXT)) };
    this.font = baseFont;
    this.hoverFont = { family: str(layout.hoverlabel?.font?.family, baseFont.family), size: num(layout.hoverlabel?.font?.size, 13) };
    this.width = width; this.height = height;
    // legend first: its height sets the plot area
    const legendFont = { ...baseFont, ...(isObj(layout.legend?.font) ? pickFont(layout.legend.font) : {}) };
    const showLegend = layout.showlegend !== false;
    const entries = showLegend ? data.map(legendEntry).filter(Boolean) : [];
    const widths = entries.map((e) => this.measure(e.name, legendFont.size, legendFont.family));
    const margin = isObj(layout.margin) ? layout.margin : {};
    const leg = legendLayout(entries, widths, Math.max(width - num(margin.l, 80) - num(margin.r, 80), 1), legendFont.size);
    const frame = plotFrame(width, height, layout, leg.height);
    this.frame = frame;
    const rec = (this.rec ??= {});
    put(rec, this.svg, "width", String(width));
    put(rec, this.svg, "height", String(height));
    put(rec, this.bg, "width", String(width));
    put(rec, this.bg, "height", String(height));
    put(rec, this.bg, "fill", str(layout.paper_bgcolor, "#fff"), true);
    put(rec, this.plot, "transform", `matrix(${frame.kx},0,0,${frame.ky},${frame.ox},${frame.oy})`);
    // traces
    const seen = new Set();
    const order = [];
    data.forEach((t, i) => {
      if (!isObj(t)) return;
      let key = str(t.uid, "#" + i);
      if (seen.has(key)) key += "#" + i;
      seen.add(key);
      let slot = this.slots.get(key);
      if (!slot) {
        slot = this.makeSlot(key);
        this.slots.set(key, slot);
      }
      order.push(slot);
      this.drawTrace(slot, t);
    });
    for (const [key, slot] of this.slots) {
      if (!seen.has(key)) { slot.g.remove(); slot.marks.remove(); this.slots.delete(key); }
    }
    if (order.length !== this.order.length || order.some((s, i) => s !== this.order[i])) {
      for (const s of order) { this.plot.appendChild(s.g); this.marks.appendChild(s.marks); }
      this.order = order;
    }
    this.drawNotes(layout);
    this.drawLegend(entries, widths, leg, legendFont, frame);
    this.stats.writes += writes.count - written;
    return this.stats;
  }

  makeSlot(key) {
    const g = el(this.doc, "g", "bc-trace");
    const marks = el(this.doc, "g", "bc-trace-marks");
    g.setAttribute("data-slot", key);
    marks.setAttribute("data-slot", key);
    return { key, g, marks, rec: {}, marksRec: {}, fillRec: {}, lineRec: {}, fill: null, line: null, points: [], texts: [],
             geo: null };
  }

  drawTrace(slot, t) {
    slot.trace = t;
    const shown = t.visible !== false && t.visible !== "legendonly";
    const r = slot.rec;
    put(r, slot.g, "display", shown ? "inline" : "none", true);
    put(slot.marksRec, slot.marks, "display", shown ? "inline" : "none", true);
    if (!shown) return;
    const mode = str(t.mode, "lines+markers");
    const line = isObj(t.line) ? t.line : {};
    const marker = isObj(t.marker) ? t.marker : {};
    const lines = mode.includes("lines");
    const fill = t.fill === "toself";
    slot.hoverOn = str(t.hoveron, "points");
    const hoverable = t.hoverinfo !== "skip" && t.hoverinfo !== "none";
    // geometry: computed when the coordinates or the line shape change (the same arrays from one
    // figure to the next keep it)
    const shape = str(line.shape, "linear") + "|" + num(line.smoothing, 1);
    if (!slot.geo || slot.geo.x !== t.x || slot.geo.y !== t.y || slot.geo.shape !== shape) {
      const rs = runs(t.x, t.y);
      const spline = shape.startsWith("spline");
      slot.geo = { x: t.x, y: t.y, shape, runs: rs,
                   line: spline ? rs.map((run) => splinePath(run, num(line.smoothing, 1))).join("") : linesPath(rs),
                   fill: linesPath(rs, true) };
      this.stats.geometry += 1;
    }
    put(r, slot.g, "opacity", String(num(t.opacity, 1)), true);
    put(slot.marksRec, slot.marks, "opacity", String(num(t.opacity, 1)), true);
    if (fill) {
      slot.fill ??= slot.g.insertBefore(el(this.doc, "path", "bc-fill"), slot.g.firstChild);
      const fr = slot.fillRec;
      put(fr, slot.fill, "d", slot.geo.fill);
      put(fr, slot.fill, "fill", str(t.fillcolor, str(line.color, DEFAULT_TEXT)), true);
      put(fr, slot.fill, "pointer-events", hoverable && slot.hoverOn.includes("fills") ? "fill" : "none", true);
    } else if (slot.fill) { slot.fill.remove(); slot.fill = null; slot.fillRec = {}; }
    const width = num(line.width, 2);
    if (lines && width > 0) {
      if (!slot.line) {
        slot.line = slot.g.appendChild(el(this.doc, "path", "bc-line"));
        // Plotly's lines: widths in pixels at any scale, no fill, its trace groups' miter limit
        slot.line.setAttribute("vector-effect", "non-scaling-stroke");
        slot.line.style.fill = "none";
        slot.line.style.strokeMiterlimit = "2";
      }
      const lr = slot.lineRec;
      put(lr, slot.line, "d", slot.geo.line);
      put(lr, slot.line, "stroke", str(line.color, DEFAULT_TEXT), true);
      put(lr, slot.line, "stroke-width", width + "px", true);
      put(lr, slot.line, "stroke-dasharray", dashArray(line.dash, width) || "none", true);
      put(lr, slot.line, "pointer-events", hoverable && !fill ? "stroke" : "none", true);
    } else if (slot.line) { slot.line.remove(); slot.line = null; slot.lineRec = {}; }
    this.drawPoints(slot, t, mode, marker, hoverable);
  }

  // Markers and text labels, in pixels (their size does not scale with the chart).
  drawPoints(slot, t, mode, marker, hoverable) {
    const wantMarkers = mode.includes("markers"), wantText = mode.includes("text");
    if (!wantMarkers && !wantText && !slot.points.length && !slot.texts.length) return;
    const f = this.frame;
    const pts = [];
    const xs = Array.isArray(t.x) ? t.x : [], ys = Array.isArray(t.y) ? t.y : [];
    for (let i = 0; i < Math.min(xs.length, ys.length); i++) {
      if (finite(xs[i]) && finite(ys[i])) pts.push({ i, px: r2(f.ox + f.kx * xs[i]), py: r2(f.oy - f.ky * ys[i]), c: [xs[i], -ys[i]] });
    }
    // markers
    const sizes = Array.isArray(marker.size) ? marker.size : null;
    const symbol = str(marker.symbol, "circle");
    const mLine = isObj(marker.line) ? marker.line : {};
    const mStyle = wantMarkers ? [str(marker.color, DEFAULT_TEXT), num(marker.opacity, sizes ? 0.7 : 1),
      str(mLine.color, sizes ? "#fff" : DEFAULT_TEXT), num(mLine.width, sizes ? 1 : 0)] : null;
    const list = [];
    if (wantMarkers) {
      let prev = null;
      for (const p of pts) {
        const size = sizes ? num(sizes[p.i], 0) : num(marker.size, 6);
        const angle = symbol === "arrow" && marker.angleref === "previous" ? (prev ? arrowAngle([prev.c, p.c], 1) : null) : 0;
        prev = p;
        if (size > 0 && angle !== null) list.push({ p, d: symbolPath(symbol, size, angle ?? 0) });
      }
    }
    while (slot.points.length > list.length) slot.points.pop().node.remove();
    list.forEach((m, k) => {
      let item = slot.points[k];
      if (!item) {
        item = { node: slot.marks.appendChild(el(this.doc, "path", "bc-point")), rec: {} };
        slot.points.push(item);
      }
      put(item.rec, item.node, "data-point", String(m.p.i));
      put(item.rec, item.node, "transform", `translate(${m.p.px},${m.p.py})`);
      put(item.rec, item.node, "d", m.d);
      put(item.rec, item.node, "fill", mStyle[0], true);
      put(item.rec, item.node, "opacity", String(mStyle[1]), true);
      put(item.rec, item.node, "stroke", mStyle[2], true);
      put(item.rec, item.node, "stroke-width", mStyle[3] + "px", true);
      put(item.rec, item.node, "pointer-events", hoverable ? "all" : "none", true);
    });
    // text (mode "text"): centred on the point, baseline 0.25 em below it (drawing/index.js
    // textPointPosition for "middle center": 0.75 em - 0.5 em)
    const texts = wantText ? pts.filter((p) => {
      const v = Array.isArray(t.text) ? t.text[p.i] : t.text;
      return label(v) !== "";
    }) : [];
    const tf = isObj(t.textfont) ? t.textfont : {};
    const size = num(tf.size, this.font.size);
    while (slot.texts.length > texts.length) slot.texts.pop().node.remove();
    texts.forEach((p, k) => {
      let item = slot.texts[k];
      if (!item) {
        const node = slot.marks.appendChild(el(this.doc, "text", "bc-text"));
        node.setAttribute("text-anchor", "middle");
        // labels never take the pointer: the area under them hovers and clicks (Plotly finds
        // hover targets by distance, not by what is drawn on top)
        node.style.pointerEvents = "none";
        item = { node, rec: {} };
        slot.texts.push(item);
      }
      const v = label(Array.isArray(t.text) ? t.text[p.i] : t.text);
      put(item.rec, item.node, "x", String(p.px));
      put(item.rec, item.node, "y", String(r2(p.py + 0.25 * size)));
      put(item.rec, item.node, "font-family", str(tf.family, this.font.family), true);
      put(item.rec, item.node, "font-size", size + "px", true);
      put(item.rec, item.node, "fill", str(tf.color, this.font.color), true);
      if (item.rec.text !== v) { item.rec.text = v; fillText(this.doc, item.node, v); }
    });
  }

  drawNotes(layout) {
    const notes = Array.isArray(layout.annotations) ? layout.annotations : [];
    const title = isObj(layout.title) ? layout.title : (typeof layout.title === "string" ? { text: layout.title } : null);
    const key = JSON.stringify([notes, title, this.frame.ox, this.frame.oy, this.frame.kx, this.width]);
    if (this.notesKey === key) return;
    this.notesKey = key;
    this.notes.textContent = "";
    const f = this.frame;
    for (const a of notes) {
      if (!isObj(a) || !finite(a.x) || !finite(a.y) || a.visible === false) continue;
      const size = num(a.font?.size, this.font.size);
      // Plotly centres the annotation's box on the point and rounds its corner to whole pixels
      // (annotations/draw.js): box 1.3 em + 1 px high, baseline at 0.78 of it.
      const boxH = Math.round(size * 1.3) + 1;
      const cy = f.oy - f.ky * a.y;
      const node = this.notes.appendChild(el(this.doc, "text", "bc-note"));
      node.setAttribute("x", String(r2(f.ox + f.kx * a.x)));
      node.setAttribute("y", String(Math.floor(cy - boxH / 2) + Math.round(0.78 * boxH)));
      node.setAttribute("text-anchor", "middle");
      fontStyle(node, a.font, { ...this.font, size });
      fillText(this.doc, node, a.text);
    }
    if (title && label(title.text)) {
      const size = num(title.font?.size, this.font.size * 1.4);
      const node = this.notes.appendChild(el(this.doc, "text", "bc-title"));
      node.setAttribute("x", String(r2(num(title.x, 0.5) * this.width)));
      node.setAttribute("y", String(r2(num(layout.margin?.t, 100) / 2 + 0.35 * size)));
      node.setAttribute("text-anchor", num(title.x, 0.5) < 0.3 ? "start" : "middle");
      fontStyle(node, title.font, { ...this.font, size });
      fillText(this.doc, node, title.text);
    }
  }

  drawLegend(entries, widths, leg, font, frame) {
    const key = JSON.stringify([entries, frame.l, frame.legendTop, leg.items, font]);
    if (this.legendKey === key) return;
    this.legendKey = key;
    this.legend.textContent = "";
    this.legend.setAttribute("transform", `translate(${frame.l},${r2(frame.legendTop)})`);
    entries.forEach((e, i) => {
      const pos = leg.items[i];
      const g = this.legend.appendChild(el(this.doc, "g", "bc-legend-item"));
      const cy = LEGEND.pad + leg.rowH / 2 + pos.row * leg.rowStep;
      g.setAttribute("transform", `translate(${r2(pos.x)},${r2(cy)})`);
      if (e.line && e.line.width > 0) {
        const p = g.appendChild(el(this.doc, "path", "bc-legend-line"));
        p.setAttribute("d", "M5,0h30");
        Object.assign(p.style, { fill: "none", stroke: e.line.color, strokeWidth: e.line.width + "px",
                                 strokeDasharray: e.line.dash || "none" });
      }
      if (e.marker) {
        const p = g.appendChild(el(this.doc, "path", "bc-legend-marker"));
        p.setAttribute("transform", "translate(20,0)");
        // an arrow's sample points along the line (Plotly draws it pointing right)
        p.setAttribute("d", symbolPath(e.marker.symbol, e.marker.size, e.marker.symbol === "arrow" ? 90 : 0));
        Object.assign(p.style, { fill: e.marker.color, opacity: String(e.marker.opacity), stroke: e.marker.lineColor,
                                 strokeWidth: e.marker.lineWidth + "px" });
      }
      const text = g.appendChild(el(this.doc, "text", "bc-legend-text"));
      text.setAttribute("x", String(LEGEND.textGap));
      text.setAttribute("y", String(r2(LEGEND.baseline * font.size)));
      fontStyle(text, font, font);
      text.textContent = e.name;  // plain text (Plotly would read <b> here; the chart's names have none)
    });
    this.stats.legend = true;
  }

  // The hover label: the text of the trace (or point) under the pointer, in a box of its colour.
  hover(ev) {
    const slot = this.slotAt(ev.target);
    const t = slot?.trace;
    if (!t || t.hoverinfo === "skip" || t.hoverinfo === "none") { this.tip.hidden = true; return; }
    let text, colour;
    const pointNode = ev.target.closest?.("[data-point]");
    if (pointNode) {
      const i = Number(pointNode.getAttribute("data-point"));
      text = Array.isArray(t.text) ? t.text[i] : t.text ?? t.name;
      colour = t.marker?.color;
    } else if (ev.target.classList?.contains("bc-fill")) {
      text = typeof t.text === "string" && t.text ? t.text : t.name;  // scatter/hover.js for fills
      colour = t.fillcolor ?? t.line?.color;
    } else {
      text = typeof t.text === "string" ? t.text : t.name;
      colour = t.line?.color;
    }
    text = label(text);
    if (!text) { this.tip.hidden = true; return; }
    const key = slot.key + "|" + text;
    if (this.tipKey !== key) {
      this.tipKey = key;
      this.tip.textContent = "";
      for (const line of richText(text)) {
        const row = this.doc.createElement("div");
        for (const p of line) {
          const span = this.doc.createElement(p.bold ? "b" : p.italic ? "i" : "span");
          span.textContent = p.text;
          row.appendChild(span);
        }
        this.tip.appendChild(row);
      }
      const c = labelColours(colour);
      Object.assign(this.tip.style, { background: c.bg, color: c.fg, borderColor: c.fg, fontFamily: this.hoverFont.family,
                                      fontSize: this.hoverFont.size + "px" });
    }
    this.tip.hidden = false;
    const box = this.host.getBoundingClientRect();
    const x = ev.clientX - box.left, y = ev.clientY - box.top;
    const tw = this.tip.offsetWidth, th = this.tip.offsetHeight;
    // right of the pointer, else left of it, else as far right as fits
    const left = x + 14 + tw <= box.width ? x + 14 : x - 14 - tw >= 0 ? x - 14 - tw : Math.max(box.width - tw, 0);
    this.tip.style.left = left + "px";
    this.tip.style.top = Math.min(Math.max(y - th / 2, 0), Math.max(box.height - th, 0)) + "px";
  }
}

function pickFont(f) {
  const out = {};
  if (typeof f.family === "string" && f.family) out.family = f.family;
  if (finite(f.size)) out.size = f.size;
  if (typeof f.color === "string" && f.color) out.color = f.color;
  return out;
}

// Click drag filtering, wheel gating and touch routing (explorer/frontend/interaction.js).
import assert from "node:assert/strict";
import { test } from "node:test";

import { ClickFilter, takeScrollRequest, TouchRouter, WheelGate } from "../../explorer/frontend/interaction.js";
import { fixture } from "./helpers.js";

const clicks = fixture("click_cases.json");
for (const c of clicks.cases) {
  test(`ClickFilter: ${c.why}`, () => {
    let now = 0;
    const f = new ClickFilter({ tolerancePx: clicks.tolerancePx, lateMs: clicks.lateMs, now: () => now });
    const reports = [];
    for (const [kind, t, ...args] of c.events) {
      now = t;
      const info = (id) => ({ id, name: id + " name" });
      let got = null;
      if (kind === "down") got = f.down(args[0], args[1]);
      else if (kind === "move") got = f.move(args[0], args[1]);
      else if (kind === "up") got = f.up(args[0], args[1]);
      else if (kind === "plotlyClick") got = f.plotlyClick(info(args[0]));
      else if (kind === "hover") got = f.hover(info(args[0]));
      else if (kind === "unhover") got = f.unhover();
      else throw new Error("unknown event " + kind);
      if (got) reports.push([t, got.id]);
    }
    assert.deepEqual(reports, c.reports);
  });
}

const wheel = fixture("wheel_cases.json");
for (const c of wheel.cases) {
  test(`WheelGate: ${c.why}`, () => {
    const gate = new WheelGate();
    const got = [];
    for (const [kind, arg] of c.events) {
      if (kind === "wheel") got.push(gate.decide({ ...arg, limits: wheel.limits }));
      else if (kind === "key") gate.key(arg);
      else gate[kind]();
    }
    assert.deepEqual(got, c.expect);
  });
}

const one = (x, y) => [{ x, y }];
const two = (a, b) => [{ x: a[0], y: a[1] }, { x: b[0], y: b[1] }];

test("TouchRouter: one finger goes to the page (scroll), its end to Plotly", () => {
  const r = new TouchRouter();
  assert.equal(r.route("touchstart", one(10, 10)), "page");
  assert.equal(r.route("touchmove", one(10, 80)), "page");
  assert.equal(r.route("touchend", []), "plotly");
});

test("TouchRouter: two fingers moving together rotate (Plotly); spreading them pinch-zooms in", () => {
  const r = new TouchRouter({ pinchThreshold: 0.08 });
  assert.equal(r.route("touchstart", two([100, 100], [200, 100])), "plotly");
  assert.equal(r.route("touchmove", two([110, 120], [210, 120])), "plotly");  // same spread
  assert.equal(r.route("touchmove", two([90, 100], [230, 100])), "pinch");    // spread 100 -> 140
  assert.ok(Math.abs(r.scale - 100 / 140) < 1e-12, "eye moves closer by the spread ratio");
  assert.equal(r.route("touchmove", two([80, 100], [240, 100])), "pinch");    // stays a pinch
  assert.ok(Math.abs(r.scale - 140 / 160) < 1e-12, "scale relative to the last event");
  assert.equal(r.route("touchend", one(80, 100)), "plotly");
  assert.equal(r.pinching, false);
});

test("TouchRouter: closing the fingers zooms out (scale > 1)", () => {
  const r = new TouchRouter();
  r.route("touchstart", two([0, 0], [200, 0]));
  assert.equal(r.route("touchmove", two([40, 0], [160, 0])), "pinch");
  assert.ok(r.scale > 1);
});

test("takeScrollRequest: scroll when the id changes, not on a remount with the same id", () => {
  const memory = {};
  assert.equal(takeScrollRequest(memory, 0), false, "first mount of a fresh session");
  assert.equal(takeScrollRequest(memory, undefined), false);
  assert.equal(takeScrollRequest(memory, 1), true, "a button bumped the request");
  assert.equal(takeScrollRequest(memory, 1), false, "a rerun or remount with the same id");
  assert.equal(takeScrollRequest(memory, 2), true);
  assert.equal(takeScrollRequest({}, 5), true, "a viewer mounted because of the request scrolls");
});

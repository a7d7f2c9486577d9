// The 3D view and the body chart draw in one task when a rerun changes both
// (explorer/frontend/frame_group.js), with fake timers and a fake run state.
import assert from "node:assert/strict";
import { join } from "node:path";
import { test } from "node:test";

import { FRONTEND } from "./helpers.js";

const { FrameGroup, frameGroup, streamlitRunning } = await import(join(FRONTEND, "frame_group.js"));

// Timers run only when the test says so: tick(ms) runs every timer due by then, in order.
function fakeClock() {
  let now = 0, seq = 0;
  const timers = new Map();
  return {
    schedule: (f, ms) => { const id = ++seq; timers.set(id, { at: now + ms, f }); return id; },
    cancel: (id) => { timers.delete(id); },
    tick(ms) {
      const end = now + ms;
      for (;;) {
        const due = [...timers.entries()].filter(([, t]) => t.at <= end).sort((a, b) => a[1].at - b[1].at)[0];
        if (!due) break;
        timers.delete(due[0]);
        now = due[1].at;
        due[1].f();
      }
      now = end;
    },
    get pending() { return timers.size; },
  };
}

const settle = () => new Promise((r) => setImmediate(r));  // let resolved promises run

function group(runState = { value: true }, maxWaitMs = 1000) {
  const clock = fakeClock();
  const g = new FrameGroup({ maxWaitMs, settleMs: 150, running: () => runState.value, schedule: clock.schedule,
                             cancel: clock.cancel, now: () => 0 });
  return { g, clock, runState };
}

test("a rerun that changes both pictures: the first waits for the second, then both draw together", async () => {
  const { g } = group();
  g.join("3d");
  g.join("chart");
  const order = [];
  const a = g.turn("3d").then(() => order.push("3d"));
  await settle();
  assert.deepEqual(order, [], "the 3D view waits while the run goes on and the chart has not arrived");
  const b = g.turn("chart").then(() => order.push("chart"));
  await Promise.all([a, b]);
  assert.deepEqual(order.sort(), ["3d", "chart"]);
  assert.equal(g.flushes, 1);
  assert.equal(g.grantedTogether, 1, "both turns granted in one flush (one task)");
});

test("a rerun that changes only the 3D view: it draws when the script run is over", async () => {
  const { g, clock, runState } = group();
  g.join("3d");
  g.join("chart");
  let drawn = false;
  const p = g.turn("3d").then(() => { drawn = true; });
  clock.tick(500);
  await settle();
  assert.equal(drawn, false, "still running, cap not reached");
  runState.value = false;
  g.check();  // the page's observer calls this when the run state changes
  clock.tick(100);
  await settle();
  assert.equal(drawn, false, "the other pictures of this rerun may still be handed over: wait settleMs");
  clock.tick(50);
  await p;
  assert.equal(drawn, true);
  assert.equal(g.grantedTogether, 0);
});

test("the run already over when the turn is asked: granted at the next macrotask", async () => {
  const { g, clock } = group({ value: false });
  g.join("3d");
  g.join("chart");
  let drawn = false;
  const p = g.turn("chart").then(() => { drawn = true; });
  await settle();
  assert.equal(drawn, false);
  clock.tick(150);
  await p;
  assert.equal(drawn, true);
});

test("the run already over: the second picture arriving within settleMs is drawn with the first", async () => {
  const { g, clock } = group({ value: false });
  g.join("3d");
  g.join("chart");
  const order = [];
  const a = g.turn("3d").then(() => order.push("3d"));
  clock.tick(60);
  await settle();
  assert.deepEqual(order, []);
  const b = g.turn("chart").then(() => order.push("chart"));
  await Promise.all([a, b]);
  assert.equal(g.grantedTogether, 1);
  assert.equal(g.log.at(-1).why, "all arrived");
  assert.equal(clock.pending, 0, "timers cancelled");
});

test("an unreadable run state never holds a picture back longer than maxWaitMs", async () => {
  const { g, clock } = group({ value: null }, 800);
  g.join("3d");
  g.join("chart");
  let drawn = false;
  const p = g.turn("3d").then(() => { drawn = true; });
  clock.tick(799);
  await settle();
  assert.equal(drawn, false);
  clock.tick(1);
  await p;
  assert.equal(drawn, true);
  assert.equal(clock.pending, 0, "no timer left behind");
});

test("first draws and lone members do not wait; a member leaving releases the others", async () => {
  const { g } = group();
  await g.turn("3d");  // not a member yet: its first draw is never held
  g.join("3d");
  await g.turn("3d");  // the only member: everything that changes has arrived
  g.join("chart");
  let drawn = false;
  const p = g.turn("3d").then(() => { drawn = true; });
  await settle();
  assert.equal(drawn, false);
  g.leave("chart");  // the body chart left the page
  await p;
  assert.equal(drawn, true);
});

test("a second turn of the same member replaces its first (the older one is let go)", async () => {
  const { g } = group();
  g.join("3d");
  g.join("chart");
  let first = false;
  const p1 = g.turn("3d").then(() => { first = true; });
  const p2 = g.turn("3d");
  await p1;
  assert.equal(first, true);
  assert.equal(g.waiting.size, 1);
  await Promise.all([p2, g.turn("chart")]);
});

test("Streamlit's run state is read from stApp's data-test-script-state", () => {
  const doc = (state) => ({ querySelector: (sel) => (sel.includes("stApp") ? { getAttribute: () => state } : null) });
  assert.equal(streamlitRunning(doc("running")), true);
  assert.equal(streamlitRunning(doc("notRunning")), false);
  assert.equal(streamlitRunning(doc("rerunRequested")), null);
  assert.equal(streamlitRunning({ querySelector: () => null }), null);
  assert.equal(streamlitRunning(undefined), null);
  const G = {};
  const made = frameGroup(G, doc("running"));
  assert.equal(frameGroup(G, doc("running")), made, "one group per page");
});

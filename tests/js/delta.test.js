// Figures sent as changes (explorer/frontend/delta.js), on the message shape Python's
// transport.scene_delta writes (tests/test_transport.py checks the Python side and writes
// fixtures/delta_cases.json from its own messages).
import assert from "node:assert/strict";
import { test } from "node:test";

import { applyDelta, applyPatch, changedKeys, expandKeyRuns } from "../../explorer/frontend/delta.js";
import { fixture } from "./helpers.js";

const full = {
  hash: "h1", base: null, keys: ["uid:a", "uid:b"],
  traces: { "uid:a": { uid: "a", opacity: 1 }, "uid:b": { uid: "b", opacity: 1 } }, layout: { height: 500 },
};

test("a complete message gives the scene; a delta keeps what did not change", () => {
  const s1 = applyDelta(null, full);
  assert.deepEqual(s1.data.map((t) => t.uid), ["a", "b"]);
  const s2 = applyDelta(s1, { hash: "h2", base: "h1", keys: ["uid:a", "uid:b", "uid:c"],
                              traces: { "uid:b": { uid: "b", opacity: 0.2 }, "uid:c": { uid: "c" } } });
  assert.equal(s2.hash, "h2");
  assert.equal(s2.data[0], s1.data[0], "unchanged trace: the same object");
  assert.equal(s2.data[1].opacity, 0.2);
  assert.equal(s2.layout, s1.layout);
  const s3 = applyDelta(s2, { hash: "h3", base: "h2", keys: ["uid:c"], traces: {}, layout: { height: 300 } });
  assert.deepEqual(s3.data.map((t) => t.uid), ["c"], "a trace no longer named is gone");
  assert.equal(s3.layout.height, 300);
  assert.deepEqual(changedKeys({ traces: { "uid:b": {} } }), ["uid:b"]);
});

test("a delta on a scene this browser does not have is refused", () => {
  assert.equal(applyDelta(null, { hash: "h2", base: "h1", keys: [], traces: {} }), null);
  const s1 = applyDelta(null, full);
  assert.equal(applyDelta(s1, { hash: "h3", base: "h2", keys: ["uid:a"], traces: {} }), null);
  assert.equal(applyDelta(s1, { hash: "h3", base: "h1", keys: ["uid:z"], traces: {} }), null, "unknown key");
  assert.equal(applyDelta(s1, { hash: "h3" }), null, "no keys");
  assert.equal(applyDelta(null, { hash: "h1", base: null, keys: [], traces: {} }), null, "complete but no layout");
});

test("Python's own messages rebuild each scene exactly (fixtures/delta_cases.json)", () => {
  const { scenes, messages } = fixture("delta_cases.json");
  let have = null;
  scenes.forEach((scene, n) => {
    const next = applyDelta(have, messages[n]);
    assert.ok(next, `message ${n} applies`);
    assert.deepEqual(next.data, scene.data, `scene ${n}: traces`);
    assert.deepEqual(next.layout, scene.layout, `scene ${n}: layout`);
    if (have) {  // what a message did not touch is the very object the browser had
      next.keys.forEach((k, i) => {
        if (!(k in (messages[n].traces || {})) && !(k in (messages[n].patches || {})) && have.traces.has(k)) {
          assert.equal(next.data[i], have.traces.get(k), `scene ${n}: ${k} kept`);
        }
      });
    }
    have = next;
  });
});

test("a patch builds a new object and shares what it does not touch", () => {
  const base = { x: [1, 2], line: { color: "a", width: 1 }, marker: { size: 3 }, gone: 1 };
  const out = applyPatch(base, { set: { fill: "b" }, unset: ["gone"], sub: { line: { set: { width: 2 } } } });
  assert.deepEqual(out, { x: [1, 2], line: { color: "a", width: 2 }, marker: { size: 3 }, fill: "b" });
  assert.notEqual(out, base);
  assert.equal(out.x, base.x);
  assert.equal(out.marker, base.marker);
  assert.deepEqual(base.line, { color: "a", width: 1 }, "the old trace is not changed");
  assert.equal(applyPatch(base, { sub: { x: { set: { a: 1 } } } }), undefined, "a sub-patch on a list does not fit");
  assert.equal(applyPatch(undefined, {}), undefined);
});

test("a patch or a missing key order on a scene this browser does not have is refused", () => {
  const s1 = applyDelta(null, full);
  assert.equal(applyDelta(null, { hash: "h2", base: "h1", traces: {}, patches: { "uid:a": { set: { opacity: 0 } } } }),
               null);
  assert.equal(applyDelta(s1, { hash: "h2", base: "h1", traces: {}, patches: { "uid:a": { sub: { opacity: {} } } } }),
               null, "a patch that does not fit the trace the browser has");
  const s2 = applyDelta(s1, { hash: "h2", base: "h1", traces: {}, patches: { "uid:a": { set: { opacity: 0.3 } } },
                              layoutPatch: { set: { height: 200 } } });
  assert.deepEqual(s2.keys, ["uid:a", "uid:b"], "no keys: the order the browser had");
  assert.equal(s2.data[0].opacity, 0.3);
  assert.equal(s2.data[1], s1.data[1]);
  assert.equal(s2.layout.height, 200);
  assert.deepEqual(changedKeys({ traces: { "uid:c": {} }, patches: { "uid:a": {} } }), ["uid:c", "uid:a"]);
});

test("key runs expand against the order the browser had; a bad run is refused", () => {
  const base = ["a", "b", "c", "d"];
  assert.deepEqual(expandKeyRuns([[0, 2], "x", [2, 2]], base), ["a", "b", "x", "c", "d"]);
  assert.deepEqual(expandKeyRuns([[3, 1], [0, 1]], base), ["d", "a"]);
  assert.equal(expandKeyRuns([[3, 2]], base), undefined);
  assert.equal(expandKeyRuns([[-1, 1]], base), undefined);
  assert.equal(expandKeyRuns([{}], base), undefined);
  const s1 = applyDelta(null, full);
  assert.equal(applyDelta(s1, { hash: "h2", base: "h1", keyRuns: [[5, 1]], traces: {} }), null);
  const s2 = applyDelta(s1, { hash: "h2", base: "h1", keyRuns: [[1, 1], [0, 1]], traces: {} });
  assert.deepEqual(s2.data.map((t) => t.uid), ["b", "a"]);
});

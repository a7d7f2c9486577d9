// Figures sent as changes (explorer/frontend/delta.js), on the message shape Python's
// transport.scene_delta writes (tests/test_frontend_transport.py checks the Python side).
import assert from "node:assert/strict";
import { test } from "node:test";

import { applyDelta, changedKeys } from "../../explorer/frontend/delta.js";

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

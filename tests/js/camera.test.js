// Camera request handling and zoom limits (explorer/frontend/camera.js).
import assert from "node:assert/strict";
import { test } from "node:test";

import { cameraDistance, chooseCamera, clampCamera, zoomLimits } from "../../explorer/frontend/camera.js";
import { fixture } from "./helpers.js";

const { cameras, cases } = fixture("camera_cases.json");
const named = (v) => (typeof v === "string" ? cameras[v] : v);

for (const c of cases) {
  test(`chooseCamera: ${c.why}`, () => {
    const input = Object.fromEntries(Object.entries(c.input).map(([k, v]) => [k, ["request", "live", "remembered"].includes(k) ? named(v) : v]));
    const got = chooseCamera(input);
    assert.equal(got.newRequest, c.expect.newRequest);
    assert.deepEqual(got.camera, c.expect.camera == null ? null : cameras[c.expect.camera]);
    if (got.camera) assert.notEqual(got.camera, named(c.input.request), "a copy: Plotly may change the object it is given");
  });
}

test("cameraDistance is |eye - center| (center defaults to the origin)", () => {
  assert.equal(cameraDistance({ eye: { x: 3, y: 4, z: 0 } }), 5);
  assert.ok(Math.abs(cameraDistance(cameras.preset) - Math.hypot(1.25, 1.15, 0.95)) < 1e-12);
  assert.ok(Number.isNaN(cameraDistance(null)));
});

test("clampCamera moves the eye along its line of sight into the limits and keeps the rest", () => {
  const near = { eye: { x: 0.1, y: 0, z: 1 }, center: { x: 0, y: 0, z: 1 }, up: { x: 0, y: 0, z: 1 } };
  const out = clampCamera(near, [0.35, 4]);
  assert.ok(Math.abs(cameraDistance(out) - 0.35) < 1e-12);
  assert.deepEqual(out.center, near.center);
  assert.deepEqual(out.up, near.up);
  assert.ok(out.eye.x > 0 && out.eye.y === 0 && out.eye.z === 1, "same direction");
  const far = clampCamera({ eye: { x: 0, y: -10, z: 0 } }, [0.35, 4]);
  assert.ok(Math.abs(cameraDistance(far) - 4) < 1e-12);
  assert.deepEqual(clampCamera(cameras.preset, [0.35, 4]), cameras.preset, "inside the limits: unchanged");
});

test("zoomLimits widen to include a requested camera, never narrow", () => {
  assert.deepEqual(zoomLimits([0.35, 4], cameras.preset), [0.35, 4]);
  const close = { eye: { x: 0.2, y: 0, z: 0 }, center: { x: 0, y: 0, z: 0 } };
  assert.deepEqual(zoomLimits([0.35, 4], close), [0.2, 4]);
  const wide = { eye: { x: 6, y: 0, z: 0 } };
  assert.deepEqual(zoomLimits([0.35, 4], wide), [0.35, 6]);
  assert.deepEqual(zoomLimits([0.35, 4], null), [0.35, 4]);
});

// Camera request handling and zoom limits (explorer/frontend/camera.js).
import assert from "node:assert/strict";
import { test } from "node:test";

import {
  bandFit, cameraDistance, chooseCamera, clampCamera, sameCamera, scaledLabels, sceneRevision, zoomedOut, zoomLimits,
} from "../../explorer/frontend/camera.js";
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

// The labels are laid out in a 400 x 540 px band (explorer/render/labels.py VIEW_W, VIEW_H).
const BAND = [400, 540];

test("bandFit: a phone's narrow view steps back and shrinks the labels so the band's sides fit", () => {
  const { zoom, scale } = bandFit(BAND, 336, 506);
  // Plotly draws the band at height/540 of its size; it must come down to 336 px wide.
  assert.ok(Math.abs((400 * (506 / 540)) / zoom - 336) < 1e-9, `zoom ${zoom}`);
  assert.ok(Math.abs(scale - 336 / 400) < 1e-12);
});

test("bandFit: a wide view keeps the camera and scales the labels with the height", () => {
  assert.deepEqual(bandFit(BAND, 900, 560), { zoom: 1, scale: 560 / 540 });
  assert.deepEqual(bandFit(BAND, 1800, 1080), { zoom: 1, scale: 1.3 }, "capped: a label never grows huge");
  assert.deepEqual(bandFit(null, 336, 506), { zoom: 1, scale: 1 }, "no band: drawn as given");
  assert.deepEqual(bandFit(BAND, 0, 506), { zoom: 1, scale: 1 }, "not laid out yet");
});

test("zoomedOut moves the eye away from the centre along its line of sight", () => {
  const cam = { eye: { x: 0.2, y: -0.5, z: 0.1 }, center: { x: 0.1, y: 0, z: 0 }, up: { x: 0, y: 0, z: 1 } };
  const out = zoomedOut(cam, 1.25);
  assert.ok(Math.abs(cameraDistance(out) - 1.25 * cameraDistance(cam)) < 1e-12);
  assert.deepEqual(out.center, cam.center);
  assert.ok(out.eye.y < cam.eye.y && out.eye.x > cam.eye.x, "same direction, further out");
  assert.deepEqual(zoomedOut(cam, 1), cam);
  assert.equal(zoomedOut(null, 2), null);
});

test("scaledLabels scales arrow offsets, fonts and padding and leaves the input alone", () => {
  const labels = [{ x: 1, y: 2, z: 3, text: "L4", ax: -30, ay: 10, font: { size: 14, color: "#111" }, borderpad: 3 }];
  const out = scaledLabels(labels, 0.5);
  assert.equal(out[0].ax, -15);
  assert.equal(out[0].ay, 5);
  assert.equal(out[0].font.size, 7);
  assert.equal(out[0].x, 1);
  assert.equal(labels[0].ax, -30, "a copy");
  assert.equal(scaledLabels(undefined, 0.5), undefined);
});

test("sameCamera: the same view within a tolerance, defaults filled in as Plotly does", () => {
  const a = { eye: { x: 1.25, y: 1.15, z: 0.95 }, center: { x: 0, y: 0, z: 0 }, up: { x: 0, y: 0, z: 1 } };
  assert.equal(sameCamera(a, JSON.parse(JSON.stringify(a))), true);
  assert.equal(sameCamera(a, { ...a, eye: { x: 1.25 + 5e-7, y: 1.15, z: 0.95 } }), true, "within 1e-6 by default");
  assert.equal(sameCamera(a, { ...a, eye: { x: 1.26, y: 1.15, z: 0.95 } }), false);
  assert.equal(sameCamera(a, { ...a, center: { x: 0, y: 0.01, z: 0 } }), false);
  assert.equal(sameCamera(a, { ...a, up: { x: 0, y: 1, z: 0 } }), false);
  assert.equal(sameCamera(a, { eye: a.eye }), true, "no center: the origin; no up: +z");
  assert.equal(sameCamera(a, { ...a, projection: { type: "orthographic" } }), false);
  assert.equal(sameCamera(a, { ...a, projection: { type: "perspective" } }), true);
  assert.equal(sameCamera(a, { ...a, eye: { x: 1.26, y: 1.15, z: 0.95 } }, 0.1), true);
  assert.equal(sameCamera(null, a), false);
  assert.equal(sameCamera(a, {}), false);
});

test("sceneRevision: the figure's own until a request is applied, then one per request", () => {
  assert.equal(sceneRevision("lumbar-scene", 0), "lumbar-scene");
  assert.equal(sceneRevision("lumbar-scene", 1), "lumbar-scene#1");
  assert.notEqual(sceneRevision("lumbar-scene", 2), sceneRevision("lumbar-scene", 1));
  assert.equal(sceneRevision(undefined, 3), "scene#3");
});

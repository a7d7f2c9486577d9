// deferPickPass (explorer/frontend/gl_workarounds.js) run against the served bundle's own code:
// gl-plot3d's createScene (its render loop and pick pass) and gl-select-static (the picking
// buffer, its delayed read-back and its query), taken out of explorer/static/plotly-gl3d.min.js
// and run in Node on a stand-in WebGL context that keeps real pixels for each framebuffer
// (tests/js/bundled_scene.js).
//
// If a Plotly upgrade moves or changes any of this, these tests fail: re-check the workaround
// (what it records and redraws) against the new gl-plot3d and gl-select-static before updating
// WRITTEN_FOR_PLOTLY.
import assert from "node:assert/strict";
import { test } from "node:test";

import { installPickDeferral } from "../../explorer/frontend/gl_workarounds.js";
import { mesh, pixelGl, withScene } from "./bundled_scene.js";

test("the bundle's scene picks as the workaround assumes (no workaround)", () => withScene(() => [], async (s) => {
  const [left, right] = [mesh(s.gl, "left", 0, 2), mesh(s.gl, "right", 2, 4)];
  s.scene.add(left);
  s.scene.add(right);
  const reads = s.gl.calls.readPixels ?? 0;
  s.frame();
  assert.equal(left.picks.length, 1, "a changed frame draws the pick pass");
  assert.equal(left.picks[0].pixelRatio, 1);
  assert.equal(left.picks[0].params, s.scene.cameraParams, "with the scene's camera parameters");
  assert.notEqual(left.picks[0].fb, null, "into a framebuffer of its own");
  assert.equal(s.gl.calls.readPixels ?? 0, reads, "read back later, not in the frame");
  await s.settle();
  assert.equal(s.gl.calls.readPixels, reads + 1);
  assert.equal(s.mouse(1, 1), left);
  assert.equal(s.mouse(3, 1), right);
}));

test("deferred: a frame with the pointer away neither draws nor reads the pick pass; its arrival does both", () => withScene(
  (gl) => [mesh(gl, "a", 0, 2), mesh(gl, "b", 2, 4)], async (s, [a, b]) => {
    const stats = {};
    const ctl = installPickDeferral(s.scene, stats);
    assert.ok(ctl, "the bundle's scene is the shape the workaround was written for");
    assert.equal(installPickDeferral(s.scene, stats), ctl, "installed once per scene");
    ctl.setOver(false);

    // A change: the two meshes swap places.
    [a.x0, a.x1, b.x0, b.x1] = [2, 4, 0, 2];
    a.dirty = b.dirty = true;
    const reads = s.gl.calls.readPixels, canvasClears = s.gl.calls.clearCanvas;
    s.frame();
    await s.settle();
    assert.equal(a.picks.length, 1, "the pass was not drawn");
    assert.equal(a.draws, 2, "the picture was");
    assert.equal(s.gl.calls.readPixels, reads, "nor read back");
    assert.deepEqual([stats.passes, stats.deferred, stats.drawsSkipped, stats.readsSkipped], [1, 1, 2, 1]);
    assert.equal(ctl.stale(), true);
    assert.equal(s.mouse(1, 1), null, "meanwhile the buffer says nothing is there (not the old places)");

    // The pointer comes over the view: the pass is drawn and read back, with the frame's camera.
    const boundBefore = s.gl.bound;  // gl-select-static's read-back leaves its framebuffer bound
    ctl.setOver(true);
    assert.equal(a.picks.length, 2);
    assert.equal(a.picks[1].pixelRatio, 1);
    assert.equal(a.picks[1].params, s.scene.cameraParams);
    assert.equal(a.picks[1].fb, a.picks[0].fb, "into the same picking buffer");
    assert.equal(s.gl.calls.readPixels, reads + 1);
    assert.equal(s.gl.calls.clearCanvas, canvasClears + 1, "the canvas is cleared only by its own frame");
    assert.equal(s.gl.bound, boundBefore, "what was bound is bound again");
    assert.equal(a.pixelRatio, 1);
    assert.equal(ctl.stale(), false);
    assert.equal(s.mouse(1, 1), b, "picks where the meshes are now");
    assert.equal(s.mouse(3, 1), a);
    assert.deepEqual([stats.redrawn, stats.lateReads], [1, 1]);

    // While the pointer is over the view, Plotly's own pass runs in each frame.
    a.dirty = true;
    s.frame();
    await s.settle();
    assert.equal(a.picks.length, 3);
    assert.equal(s.gl.calls.readPixels, reads + 2);
    assert.equal(stats.deferred, 1);
}));

test("deferred: a mesh added meanwhile is picked, one removed meanwhile is not drawn", () => withScene(
  (gl) => [mesh(gl, "a", 0, 2)], async (s, [a]) => {
    const ctl = installPickDeferral(s.scene, {});
    ctl.setOver(false);
    const lesion = mesh(s.gl, "lesion", 2, 4);
    s.scene.add(lesion);  // added after the install: wrapped on the way in
    s.frame();
    await s.settle();
    assert.equal(lesion.picks.length, 0);
    ctl.refresh();
    assert.equal(lesion.picks.length, 1);
    assert.equal(s.mouse(3, 1), lesion);

    a.dirty = true;
    s.frame();
    await s.settle();
    s.scene.remove(lesion);  // gone before the pointer comes (its buffers with it)
    ctl.setOver(true);
    assert.equal(lesion.picks.length, 1, "a removed mesh is not drawn");
    assert.equal(a.picks.length, 3);
    assert.equal(s.mouse(3, 1), null);
    assert.equal(s.mouse(1, 1), a);
}));

test("deferred: the pointer arriving before the pass's read-back lets that read-back run", () => withScene(
  (gl) => [mesh(gl, "a", 0, 2)], async (s, [a]) => {
    const stats = {};
    const ctl = installPickDeferral(s.scene, stats);
    ctl.setOver(false);
    [a.x0, a.x1] = [2, 4];
    a.dirty = true;
    s.frame();
    const reads = s.gl.calls.readPixels;
    ctl.setOver(true);  // within the 1 ms before gl-select-static reads back
    assert.equal(s.gl.calls.readPixels, reads, "no read-back of its own yet");
    await s.settle();
    assert.equal(s.gl.calls.readPixels, reads + 1, "gl-select-static's own read-back reads for real");
    assert.equal(stats.readsSkipped ?? 0, 0);
    assert.equal(s.mouse(3, 1), a);
}));

test("a scene of another shape is left alone", () => {
  assert.equal(installPickDeferral(null), null);
  assert.equal(installPickDeferral({ gl: {}, objects: [], cameraParams: {}, add() {} }), null);
  assert.equal(installPickDeferral({ gl: pixelGl(), objects: {}, cameraParams: {}, add() {} }), null);
});

// depthPrepassPick (explorer/frontend/gl_workarounds.js) run against the served bundle's own
// gl-plot3d frame (tests/js/bundled_scene.js): with a see-through mesh in the scene, each frame draws
// the opaque meshes onto the canvas and again, colour masked, into its transparency framebuffer;
// that second draw is the one the workaround hands to the mesh's picking program.
//
// If a Plotly upgrade changes the transparency pass, the first test fails: re-check the workaround
// against the new gl-plot3d before updating WRITTEN_FOR_PLOTLY.
import assert from "node:assert/strict";
import { test } from "node:test";

import { installDepthPrepass, installPickDeferral, pickDrawsSameDepth } from "../../explorer/frontend/gl_workarounds.js";
import { mesh, pixelGl, withScene } from "./bundled_scene.js";

// A stand-in gl-mesh3d mesh: draw() and drawPick() record where they drew (the framebuffer bound
// and whether every colour channel was masked); `extra` sets its counts (edges, points, contours).
function glMesh(gl, name, x0, x1, { opaque = true, ...extra } = {}) {
  const m = mesh(gl, name, x0, x1);
  const drawPick = m.drawPick;
  return Object.assign(m, {
    triShader: {}, pickShader: {}, triangleVAO: {}, triangleCount: 12, edgeCount: 0, pointCount: 0,
    contourEnable: false, contourCount: 0, lit: [], depthPicks: [],
    isOpaque: () => opaque, isTransparent: () => !opaque,
    draw() { this.lit.push({ fb: gl.bound?.id ?? null, masked: gl.colourMasked }); },
    drawTransparent() { this.lit.push({ fb: gl.bound?.id ?? null, masked: gl.colourMasked, transparent: true }); },
    drawPick(params) {
      this.depthPicks.push({ fb: gl.bound?.id ?? null, masked: gl.colourMasked });
      return drawPick.call(this, params);
    },
  }, extra);
}

const scene = (gl) => [glMesh(gl, "bone", 0, 2), glMesh(gl, "nerve", 2, 4, { edgeCount: 3 }),
                       glMesh(gl, "see-through", 0, 4, { opaque: false })];

test("the bundle's frame draws each opaque mesh again, colour masked, into a framebuffer (no workaround)", () =>
  withScene(scene, async (s, [bone, , glass]) => {
    bone.lit.length = 0;
    glass.lit.length = 0;
    bone.dirty = true;
    s.frame();
    assert.deepEqual(bone.lit.map((d) => [d.fb === null, d.masked]), [[true, false], [false, true]],
                     "onto the canvas, then colour masked into the transparency framebuffer");
    assert.deepEqual(glass.lit.map((d) => [d.fb === null, d.masked, d.transparent]), [[false, false, true]],
                     "the see-through mesh once, into that framebuffer, colours written");
    assert.equal(bone.lit[1].fb, glass.lit.at(-1).fb);
  }));

test("with the workaround that depth-only draw is the mesh's picking program; the rest is unchanged", () =>
  withScene(scene, async (s, [bone, nerve, glass]) => {
    const stats = {};
    const ctl = installDepthPrepass(s.scene, stats);
    assert.ok(ctl, "the bundle's scene is the shape the workaround was written for");
    assert.equal(installDepthPrepass(s.scene, stats), ctl, "installed once per scene");
    for (const m of [bone, nerve, glass]) { m.lit.length = 0; m.depthPicks.length = 0; m.dirty = true; }
    s.frame();
    assert.deepEqual(bone.lit.map((d) => [d.fb === null, d.masked]), [[true, false]], "lit once, onto the canvas");
    const depth = bone.depthPicks.filter((d) => d.masked);
    assert.equal(depth.length, 1, "its depth-only draw by the picking program");
    assert.equal(depth[0].fb, glass.lit.at(-1).fb, "into the transparency framebuffer");
    assert.equal(nerve.lit.length, 2, "a mesh with edges keeps its own draw (drawPick would draw its edges)");
    assert.equal(nerve.depthPicks.filter((d) => d.masked).length, 0);
    assert.equal(glass.lit.length, 1, "see-through meshes are drawn as before");
    assert.deepEqual([stats.picked, stats.kept], [1, 1]);

    // A mesh added later (a lesion) is wrapped on the way in.
    const lesion = glMesh(s.gl, "lesion", 1, 3);
    s.scene.add(lesion);
    s.frame();
    assert.equal(lesion.depthPicks.filter((d) => d.masked).length, 1);
    assert.equal(lesion.lit.length, 1);
  }));

test("with the pick deferral too, the depth-only draw is neither recorded nor skipped as a pick pass", () =>
  withScene(scene, async (s, [bone, , glass]) => {
    installDepthPrepass(s.scene, {});
    const pick = {};
    installPickDeferral(s.scene, pick).setOver(false);
    bone.depthPicks.length = 0;
    bone.dirty = true;
    s.frame();
    await s.settle();
    assert.equal(bone.depthPicks.length, 1, "drawn (the pick pass itself is deferred)");
    assert.equal(bone.depthPicks[0].fb, glass.lit.at(-1).fb);
    assert.equal(pick.deferred, 1);
    assert.equal(pick.drawsSkipped, 3, "the pick pass's three meshes, nothing else");
  }));

test("which meshes the picking program draws the same depth for", () => {
  const gl = pixelGl();
  assert.equal(pickDrawsSameDepth(glMesh(gl, "a", 0, 1)), true);
  assert.equal(pickDrawsSameDepth(glMesh(gl, "a", 0, 1, { opaque: false })), false);
  assert.equal(pickDrawsSameDepth(glMesh(gl, "a", 0, 1, { pointCount: 2 })), false);
  assert.equal(pickDrawsSameDepth(glMesh(gl, "a", 0, 1, { contourEnable: true, contourCount: 4 })), false);
  assert.equal(pickDrawsSameDepth(glMesh(gl, "a", 0, 1, { triangleCount: 0 })), false);
  assert.equal(pickDrawsSameDepth(glMesh(gl, "a", 0, 1, { triShader: null })), false, "not a gl-mesh3d mesh");
  assert.equal(pickDrawsSameDepth(null), false);
});

test("a scene of another shape is left alone", () => {
  assert.equal(installDepthPrepass(null), null);
  assert.equal(installDepthPrepass({ gl: {}, objects: [], add() {} }), null);
  assert.equal(installDepthPrepass({ gl: pixelGl(), objects: {}, add() {} }), null);
});

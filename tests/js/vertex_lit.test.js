// seeThroughVertexLit (explorer/frontend/gl_workarounds.js): faded meshes drawn in the transparency
// pass by a program that lights them at their vertices. The first two tests read the served bundle
// (explorer/static/plotly-gl3d.min.js): the lighting our shader copies and the way gl-mesh3d's draw()
// uses its triangle shader must be what this was written against; a Plotly upgrade that changes
// either fails here. The rest run the wrapper on a stand-in WebGL context and stand-in meshes.
import assert from "node:assert/strict";
import { test } from "node:test";

import {
  installVertexLitSeeThrough, VERTEX_LIT_FRAG, VERTEX_LIT_MAX_OPACITY, VERTEX_LIT_VERT, vertexLitApplies,
} from "../../explorer/frontend/gl_workarounds.js";
import { findModule, moduleSource } from "./bundled_scene.js";

const squash = (s) => s.replace(/\/\/[^\n]*/g, "").replace(/\s+/g, " ").replace(/ ?([(){};,=*+\/<>-]) ?/g, "$1").trim();
const functionText = (src, name) => {
  const start = src.indexOf(`float ${name}(`);
  assert.ok(start >= 0, `${name} not found`);
  let depth = 0;
  for (let i = src.indexOf("{", start); i < src.length; i++) {
    if (src[i] === "{") depth++;
    if (src[i] === "}" && --depth === 0) return squash(src.slice(start, i + 1));
  }
  throw new Error(`${name}: no end`);
};

test("our vertex shader computes the bundle's gl-mesh3d lighting (same functions, same terms)", () => {
  const mesh = moduleSource(findModule(["cookTorranceSpecular", "attribute vec3 position, normal;", "f_color.a == 0.0"])).body;
  for (const name of ["beckmannDistribution", "cookTorranceSpecular"]) {
    assert.equal(functionText(VERTEX_LIT_VERT, name), functionText(mesh, name), `${name} as in gl-mesh3d`);
  }
  // The terms of gl-mesh3d's fragment shader that our lit() works out per vertex.
  for (const line of ["float specular = min(1.0, max(0.0, cookTorranceSpecular(L, V, N, roughness, fresnel)));",
    "float diffuse  = min(kambient + kdiffuse * max(dot(N, L), 0.0), 1.0);",
    "vec4 surfaceColor = vec4(f_color.rgb, 1.0) * texture2D(texture, f_uv);",
    "vec4 litColor = surfaceColor.a * vec4(diffuse * surfaceColor.rgb + kspecular * vec3(1,1,1) * specular,  1.0);",
    "gl_FragColor = litColor * f_color.a;", "if(gl_FrontFacing) {\n    N = -N;\n  }",
    "f_normal  = normalize((vec4(normal, 0.0) * inverseModel).xyz);",
    "vec4 cameraCoordinate = view * vec4(position , 1.0);"]) {
    assert.ok(mesh.includes(line), `gl-mesh3d's shader no longer has: ${line}`);
  }
  assert.match(VERTEX_LIT_VERT, /f_front = lit\(surfaceColor, -N, L, V\);/, "front faces: the flipped normal, as gl-mesh3d");
  assert.match(VERTEX_LIT_FRAG, /gl_FrontFacing \? f_front : f_back/);
  assert.match(VERTEX_LIT_FRAG, /outOfRange\(clipBounds\[0\], clipBounds\[1\], f_data\)\) discard/, "the clip box kept");
});

test("gl-mesh3d's draw() binds its triangle shader, then hands it the frame's uniforms in one assignment", () => {
  const body = moduleSource(findModule(["this.triShader", "this.contourShader", "drawTransparent"])).body;
  const m = /drawTransparent=(\w+)\.draw=function\(\w+\)\{[\s\S]*?(\w+)=this\.triShader;\2\.bind\(\),\2\.uniforms=(\w+),this\.triangleVAO\.bind\(\),\w+\.drawArrays\(/.exec(body);
  assert.ok(m, "drawTransparent is draw(), which binds this.triShader and assigns its uniforms before drawing");
  for (const key of ["model:", "view:", "projection:", "inverseModel:", "clipBounds:", "kambient:", "kdiffuse:",
    "kspecular:", "roughness:", "fresnel:", "eyePosition:", "lightPosition:", "texture:0"]) {
    assert.ok(body.includes(key), `draw()'s uniforms still hold ${key}`);
  }
});

// A stand-in WebGL context that records the calls this wrapper makes.
function recordingGl({ links = true } = {}) {
  const calls = [];
  let n = 0;
  const gl = {
    VERTEX_SHADER: 35633, FRAGMENT_SHADER: 35632, LINK_STATUS: 35714, calls,
    createShader: (type) => ({ type, id: ++n }), shaderSource() {}, compileShader() {},
    createProgram: () => ({ program: ++n }), attachShader() {},
    getAttribLocation: (prog, name) => ({ position: 0, normal: 3, color: 1, uv: 2 })[name] ?? -1,
    bindAttribLocation: (prog, at, name) => calls.push(["bindAttribLocation", at, name]),
    linkProgram() {}, getProgramParameter: () => links, getProgramInfoLog: () => "", getShaderInfoLog: () => "",
    getUniformLocation: (prog, name) => ({ name }),
    useProgram: (p) => calls.push(["useProgram", p]),
    uniformMatrix4fv: (loc, t, v) => calls.push(["mat4", loc.name, v]),
    uniform3fv: (loc, v) => calls.push(["vec3", loc.name, v]),
    uniform1f: (loc, v) => calls.push(["float", loc.name, v]),
    uniform1i: (loc, v) => calls.push(["int", loc.name, v]),
  };
  return gl;
}

const UNIFORMS = { model: new Array(16).fill(1), view: new Array(16).fill(2), projection: new Array(16).fill(3),
  inverseModel: new Array(16).fill(4), clipBounds: [[-1, -2, -3], [1, 2, 3]], kambient: 0.45, kdiffuse: 0.75,
  kspecular: 0.18, roughness: 0.6, fresnel: 0.08, eyePosition: [0, 0, 5], lightPosition: [1, 2, 3], texture: 0 };

// A stand-in gl-mesh3d mesh whose drawTransparent does what draw() does with its triangle shader.
function glMesh(gl, opacity, extra = {}) {
  const own = { program: { own: true }, bound: 0, got: [] };
  Object.defineProperty(own, "uniforms", { set(u) { own.got.push(u); } });
  own.bind = () => { own.bound++; };
  return Object.assign({
    opacity, triShader: own, own, triangleVAO: { bind() {}, unbind() {} }, triangleCount: 8, edgeCount: 0,
    pointCount: 0, contourEnable: false, contourCount: 0, shadersSeen: [],
    isOpaque: () => opacity >= 1, isTransparent: () => opacity < 1,
    drawTransparent() {
      const s = this.triShader;
      this.shadersSeen.push(s);
      s.bind();
      s.uniforms = UNIFORMS;
    },
  }, extra);
}

test("a faded mesh is drawn by our program with draw()'s uniforms; others by their own shader", () => {
  const gl = recordingGl();
  const faded = glMesh(gl, 0.12), disc = glMesh(gl, 0.45), edged = glMesh(gl, 0.12, { edgeCount: 4 });
  const glplot = { gl, objects: [faded, disc, edged], add(o) { this.objects.push(o); } };
  const stats = {};
  const ctl = installVertexLitSeeThrough(glplot, stats);
  assert.ok(ctl);
  assert.equal(installVertexLitSeeThrough(glplot, stats), ctl, "installed once per scene");
  for (const m of glplot.objects) m.drawTransparent({});
  assert.equal(faded.own.bound, 0, "the faded mesh's own shader is not used");
  assert.equal(faded.triShader, faded.own, "its own shader is back after the draw");
  const used = gl.calls.filter((c) => c[0] === "useProgram");
  assert.equal(used.length, 1);
  assert.equal(used[0][1], ctl.program.program);
  assert.deepEqual(gl.calls.filter((c) => c[0] === "bindAttribLocation").map((c) => [c[1], c[2]]),
                   [[0, "position"], [3, "normal"], [1, "color"], [2, "uv"]], "attributes where the mesh's program has them");
  const set = Object.fromEntries(gl.calls.filter((c) => c[0] !== "useProgram" && c[0] !== "bindAttribLocation")
    .map((c) => [c[1], c[2]]));
  assert.deepEqual(set.model, UNIFORMS.model);
  assert.deepEqual(set.inverseModel, UNIFORMS.inverseModel);
  assert.deepEqual(set.lightPosition, UNIFORMS.lightPosition);
  assert.deepEqual(set["clipBounds[1]"], [1, 2, 3]);
  assert.equal(set.kspecular, 0.18);
  assert.equal(set.texture, 0);
  assert.equal(disc.own.bound, 1, "a disc (0.45) keeps gl-mesh3d's shader");
  assert.equal(edged.own.bound, 1, "a mesh with edges keeps its own draw (edges use other programs)");
  assert.deepEqual([stats.vertexLit, stats.own], [1, 2]);

  const lesion = glMesh(gl, 0.1);  // a mesh added later is wrapped on the way in
  glplot.add(lesion);
  lesion.drawTransparent({});
  assert.equal(lesion.own.bound, 0);
  assert.equal(stats.vertexLit, 2);
});

test("a program that does not link leaves every mesh to its own shader", () => {
  const gl = recordingGl({ links: false });
  const faded = glMesh(gl, 0.12);
  const stats = {};
  const warn = console.warn;
  console.warn = () => {};
  try {
    installVertexLitSeeThrough({ gl, objects: [faded], add() {} }, stats);
    faded.drawTransparent({});
    faded.drawTransparent({});
  } finally {
    console.warn = warn;
  }
  assert.equal(faded.own.bound, 2);
  assert.equal(stats.failed, 2);
  assert.equal(gl.calls.filter((c) => c[0] === "useProgram").length, 0);
});

test("which meshes are lit at their vertices", () => {
  const gl = recordingGl();
  assert.equal(VERTEX_LIT_MAX_OPACITY < 0.3, true, "not the sac (0.3) nor the discs (0.45)");
  assert.equal(vertexLitApplies(glMesh(gl, 0.12)), true);
  assert.equal(vertexLitApplies(glMesh(gl, VERTEX_LIT_MAX_OPACITY)), true);
  assert.equal(vertexLitApplies(glMesh(gl, 0.3)), false);
  assert.equal(vertexLitApplies(glMesh(gl, 0)), false, "opacity 0: gl-mesh3d discards it all");
  assert.equal(vertexLitApplies(glMesh(gl, 0.12, { pointCount: 3 })), false);
  assert.equal(vertexLitApplies(glMesh(gl, 0.12, { contourEnable: true, contourCount: 2 })), false);
  assert.equal(vertexLitApplies(glMesh(gl, 0.12, { triangleCount: 0 })), false);
  assert.equal(vertexLitApplies(glMesh(gl, 0.12, { triShader: {} })), false, "not a gl-shader program");
  assert.equal(vertexLitApplies(glMesh(gl, "0.12")), false);
  assert.equal(vertexLitApplies(null), false);
});

test("a scene of another shape is left alone", () => {
  assert.equal(installVertexLitSeeThrough(null), null);
  assert.equal(installVertexLitSeeThrough({ gl: {}, objects: [], add() {} }), null);
  assert.equal(installVertexLitSeeThrough({ gl: recordingGl(), objects: {}, add() {} }), null);
});

// Which camera a redraw uses, and the zoom limits. Pure functions (tested with node --test).
//
// Cameras are Plotly's: {eye, center, up, projection}, eye and center in the scene's normalised
// units (the axes box spans about -1..1), so |eye - center| is the viewing distance.

export function clone(obj) { return obj == null ? obj : JSON.parse(JSON.stringify(obj)); }

// The camera for a redraw.
//  * A camera request whose id differs from the last one applied: the person picked a preset
//    view (or the page framed a lesion): apply it.
//  * Otherwise keep the live camera (the person's rotation wins over the figure's camera),
//  * or, on a remount, the camera remembered for this viewer key.
// Returns {camera (null: use the figure's), newRequest}.
export function chooseCamera({ request, requestId, appliedRequestId, plotted, live, remembered }) {
  const newRequest = request != null && requestId !== appliedRequestId;
  let camera = null;
  if (newRequest) camera = clone(request);
  else if (plotted) camera = clone(live);
  else if (remembered) camera = clone(remembered);
  return { camera: camera ?? null, newRequest };
}

// True when two cameras show the same view: eye, center and up within `tol` (normalised units,
// the axes box spans about -1..1) and the same projection type. Used to skip a redundant
// Plotly.relayout after a Plotly.react that already applied the requested camera (each costs a
// whole frame of the scene: 0.3-0.6 s with software WebGL).
export function sameCamera(a, b, tol = 1e-6) {
  if (!a?.eye || !b?.eye) return false;
  for (const k of ["eye", "center", "up"]) {
    const p = vec(a[k] ?? (k === "up" ? { z: 1 } : null)), q = vec(b[k] ?? (k === "up" ? { z: 1 } : null));
    if (Math.hypot(p[0] - q[0], p[1] - q[1], p[2] - q[2]) > tol) return false;
  }
  const type = (c) => c?.projection?.type ?? "perspective";
  return type(a) === type(b);
}

// The scene's uirevision for a viewer that has applied camera request number `n` (0: none yet).
// Plotly.react keeps a camera the person moved while the scene's uirevision stays the same, and
// even keeps it against a new input camera equal to the input before the person's move; a new
// uirevision with each new request makes the react apply the requested camera itself, so no
// Plotly.relayout (a second frame) is needed after it.
export function sceneRevision(base, n) {
  return n ? `${base ?? "scene"}#${n}` : base;
}

function vec(p) { return [Number(p?.x ?? 0), Number(p?.y ?? 0), Number(p?.z ?? 0)]; }

// |eye - center| in normalised units (NaN without an eye).
export function cameraDistance(camera) {
  if (!camera?.eye) return NaN;
  const e = vec(camera.eye), c = vec(camera.center);
  return Math.hypot(e[0] - c[0], e[1] - c[1], e[2] - c[2]);
}

// The same camera moved along its line of sight so that lo <= distance <= hi.
export function clampCamera(camera, [lo, hi]) {
  const d = cameraDistance(camera);
  if (!(d > 0) || (d >= lo && d <= hi)) return clone(camera);
  const target = Math.min(hi, Math.max(lo, d));
  const e = vec(camera.eye), c = vec(camera.center), s = target / d;
  const out = clone(camera);
  out.eye = { x: c[0] + (e[0] - c[0]) * s, y: c[1] + (e[1] - c[1]) * s, z: c[2] + (e[2] - c[2]) * s };
  return out;
}

// The limits wheel and pinch zoom keep to: the configured [lo, hi], widened to include the
// distance of a requested camera (a view the app chose is never undone by the clamp).
export function zoomLimits([lo, hi], requested) {
  const d = cameraDistance(requested);
  if (!(d > 0)) return [lo, hi];
  return [Math.min(lo, d), Math.max(hi, d)];
}

// ---- fitting the picture to the view's real size
// The story framing and the 3D labels (explorer/render/labels.py) are laid out for a band of
// band[0] x band[1] px around the view's centre. Plotly keeps the vertical field of view, so a
// point's pixel offset from the centre grows with the view's height (height / band[1]) whatever the
// width. Returns {zoom, scale}: how much further the eye of a requested camera moves back (>= 1;
// a view narrower than the band's shape would cut its sides off), and how much the labels' offsets
// and fonts scale so they shrink and grow with the band as drawn (within scaleLimits).
export function bandFit(band, width, height, scaleLimits = [0.6, 1.3]) {
  if (!Array.isArray(band) || !(band[0] > 0 && band[1] > 0 && width > 0 && height > 0)) {
    return { zoom: 1, scale: 1 };
  }
  const grow = height / band[1];  // the band as Plotly would draw it at this height
  const fit = Math.min(width / band[0], grow);  // the band's scale once it fits both ways
  const scale = Math.min(scaleLimits[1], Math.max(scaleLimits[0], fit));
  return { zoom: Math.max(1, grow / fit), scale };
}

// The same camera with its eye `zoom` times as far from the point it looks at.
export function zoomedOut(camera, zoom) {
  if (!camera?.eye || !(zoom > 0) || zoom === 1) return clone(camera);
  const e = vec(camera.eye), c = vec(camera.center);
  const out = clone(camera);
  out.eye = { x: c[0] + (e[0] - c[0]) * zoom, y: c[1] + (e[1] - c[1]) * zoom, z: c[2] + (e[2] - c[2]) * zoom };
  return out;
}

// Scene annotations (3D labels) with their arrow offsets, fonts and padding scaled by `scale`.
export function scaledLabels(annotations, scale) {
  if (!Array.isArray(annotations)) return annotations;
  return annotations.map((a) => {
    const out = clone(a);
    if (scale === 1) return out;
    for (const k of ["ax", "ay"]) if (typeof out[k] === "number") out[k] *= scale;
    if (out.font && typeof out.font.size === "number") out.font.size = Math.round(out.font.size * scale * 10) / 10;
    if (typeof out.borderpad === "number") out.borderpad = Math.max(1, Math.round(out.borderpad * scale));
    return out;
  });
}

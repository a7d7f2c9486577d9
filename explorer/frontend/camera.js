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

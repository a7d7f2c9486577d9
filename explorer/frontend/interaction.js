// What a press, a wheel turn or a touch over the 3D view means. Pure state machines: the viewer
// feeds them DOM events' coordinates and times (tested with node --test, no browser needed).

// Click = press and release with less than `tolerancePx` of movement. Plotly's 3D emits
// plotly_click on mouse-down (also when a rotation starts: plotly.js issue 6185) and picks
// meshes in its render loop, so:
//  * a plotly_click during the press is only reported at release, if the pointer did not drag;
//  * a press shorter than one frame (slow software WebGL) gets no plotly_click, so the mesh
//    hovered when the press started is used; if nothing was hovered yet, the next hover or
//    click pick at the release point (within `lateMs`) is used.
// Each method returns the {id, name} to report, or null.
export class ClickFilter {
  constructor({ tolerancePx = 5, lateMs = 700, now = () => performance.now() } = {}) {
    this.tol = tolerancePx;
    this.lateMs = lateMs;
    this.now = now;
    this.downAt = null;   // {x, y, moved, hovered} while a button is pressed
    this.pending = null;  // plotly_click received during the press
    this.hovered = null;  // last plotly_hover
    this.lateUp = null;   // {t, x, y}: a click whose pick has not arrived yet
  }

  down(x, y) {
    this.downAt = { x, y, moved: false, hovered: this.hovered };
    this.pending = null;
    this.lateUp = null;
    return null;
  }

  move(x, y) {
    const d = this.downAt;
    if (d && Math.hypot(x - d.x, y - d.y) >= this.tol) d.moved = true;
    const l = this.lateUp;
    if (l && Math.hypot(x - l.x, y - l.y) >= this.tol) this.lateUp = null;
    return null;
  }

  up(x, y) {
    if (!this.downAt) return null;
    this.move(x, y);
    let hit = null;
    if (!this.downAt.moved) {
      hit = this.pending ?? this.downAt.hovered;
      if (!hit) this.lateUp = { t: this.now(), x, y };
    } else {
      this.hovered = null;  // the scene rotated under the pointer; wait for a fresh pick
    }
    this.downAt = null;
    this.pending = null;
    return hit;
  }

  takeLate(info) {
    const late = this.lateUp;
    this.lateUp = null;
    return late && this.now() - late.t < this.lateMs ? info : null;
  }

  plotlyClick(info) {
    if (!info) return null;
    if (this.downAt) { this.pending = info; return null; }  // decided at release
    return this.takeLate(info);
  }

  hover(info) {
    this.hovered = info;
    return info && !this.downAt && this.lateUp ? this.takeLate(info) : null;
  }

  unhover() { this.hovered = null; return null; }
}

// The mouse wheel over the 3D view scrolls the PAGE until the person clicks into the view (or
// holds Ctrl/Cmd); after a click it zooms, within the zoom limits. Leaving the view or Esc
// returns to page scrolling.
// decide() answers one wheel event:
//   "page" - let the page scroll (Plotly must not see the event),
//   "zoom" - let Plotly zoom,
//   "hold" - at a zoom limit: neither zoom further nor scroll the page.
export class WheelGate {
  constructor() { this.engaged = false; }
  pointerDown() { this.engaged = true; }
  leave() { this.engaged = false; }
  key(key) { if (key === "Escape") this.engaged = false; }

  // deltaY < 0 zooms in (Plotly's 3D camera), distance and limits in normalised units.
  decide({ deltaY = 0, ctrlKey = false, metaKey = false, distance = NaN, limits = [0, Infinity] } = {}) {
    if (!this.engaged && !ctrlKey && !metaKey) return "page";
    if (distance > 0) {
      if (deltaY < 0 && distance <= limits[0] * 1.0001) return "hold";
      if (deltaY > 0 && distance >= limits[1] * 0.9999) return "hold";
    }
    return "zoom";
  }
}

// Touch over the 3D view: one finger scrolls the page (Plotly must not see the touch: its 3D
// camera would rotate and cancel the scroll), two fingers rotate (Plotly) or pinch-zoom (here).
// route() answers a touch event by its number of fingers and their positions:
//   "page"  - one finger: hide it from Plotly, the browser scrolls (CSS touch-action: pan-y),
//   "plotly" - two fingers moving together: Plotly rotates,
//   "pinch" - two fingers spreading or closing: zoom by `scale` (relative to the last event).
export class TouchRouter {
  constructor({ pinchThreshold = 0.08 } = {}) {
    this.threshold = pinchThreshold;
    this.start = null;  // finger spread when the second finger landed
    this.last = null;
    this.pinching = false;
  }

  route(type, touches) {
    const n = touches.length;
    if (n < 2) {
      this.start = this.last = null;
      this.pinching = false;
      return type === "touchend" || type === "touchcancel" ? "plotly" : "page";
    }
    const spread = Math.hypot(touches[0].x - touches[1].x, touches[0].y - touches[1].y);
    if (this.start == null || type === "touchstart") {
      this.start = this.last = spread;
      this.pinching = false;
      return "plotly";
    }
    if (!this.pinching && this.start > 0 && Math.abs(Math.log(spread / this.start)) > this.threshold) {
      this.pinching = true;
    }
    if (!this.pinching) return "plotly";
    this.scale = this.last > 0 && spread > 0 ? this.last / spread : 1;  // spread apart: closer (< 1)
    this.last = spread;
    return "pinch";
  }
}

// "Show ... in 3D": true when `id` differs from the scroll request last seen for this viewer
// (`memory` is kept per viewer key at window level, so a remount with the same id does not
// scroll, while a viewer mounted because of a new request does). Records `id` as seen.
export function takeScrollRequest(memory, id) {
  const wanted = Number(id || 0);
  if (wanted === (memory.scrollRequestId ?? 0)) return false;
  memory.scrollRequestId = wanted;
  return true;
}

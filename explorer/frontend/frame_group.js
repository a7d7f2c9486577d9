// Both pictures change in the same frame: when a rerun brings a new 3D scene and a new body chart,
// their Plotly.react calls run back to back in one task, so the browser paints both in one frame
// (before this, the body chart appeared 0.4-1 s after the 3D view: issue 12).
//
// Streamlit hands each component its data as the script run reaches it (the 3D view first, the
// body chart a little later in the same run), and each component draws on its own. Here a
// component that has drawn once joins the group; before each later Plotly.react it asks for its
// turn, and every turn waiting is granted together, in one task, when
//   * every member of the group is waiting (all the pictures of this rerun have arrived), or
//   * the script run is over and no other member has asked for `settleMs` (Streamlit hands the
//     components their data after the run's end message has been read, one render apart: what
//     has not arrived by then is not changing in this rerun), or
//   * `maxWaitMs` has passed since the first turn was asked for (a safety net: a slow run or a
//     run state that cannot be read never holds a picture back for long).
// First draws (Plotly.newPlot) do not wait: nothing would be gained and the first paint counts.
//
// Pure logic with injected timers and run state: tested with `node --test tests/js`
// (tests/js/frame_group.test.js). The page-wide instance lives on window.__lumbar3d (each
// component may load its own copy of this module).

export const MAX_WAIT_MS = 1200;
// How long a turn waits, once the run is over, for the other pictures of the same rerun
// (measured: the body chart is handed its data 10-100 ms after the 3D view).
export const SETTLE_MS = 150;

export class FrameGroup {
  // `running()`: true while Streamlit runs the script, false when it does not, null when unknown.
  constructor({ maxWaitMs = MAX_WAIT_MS, settleMs = SETTLE_MS, running = () => null,
                schedule = (f, ms) => setTimeout(f, ms), cancel = (t) => clearTimeout(t),
                now = () => globalThis.performance?.now?.() ?? Date.now() } = {}) {
    this.maxWaitMs = maxWaitMs;
    this.settleMs = settleMs;
    this.now = now;
    this.running = running;
    this.schedule = schedule;
    this.cancel = cancel;
    this.members = new Set();
    this.waiting = new Map();  // member id -> resolve()
    this.capTimer = null;
    this.idleTimer = null;
    this.flushes = 0;           // diagnostics: how many times turns were granted
    this.grantedTogether = 0;   // ... and how many of those granted more than one turn
    this.log = [];              // ... and the last few: {why, ids}
  }

  join(id) { this.members.add(id); }

  leave(id) {
    this.members.delete(id);
    const resolve = this.waiting.get(id);
    this.waiting.delete(id);
    if (resolve) resolve();
    this.check();
  }

  // A promise resolved when member `id` may draw. A component that is not a member (has not drawn
  // yet) draws at once.
  turn(id) {
    if (!this.members.has(id)) return Promise.resolve();
    return new Promise((resolve) => {
      const earlier = this.waiting.get(id);
      this.waiting.set(id, resolve);
      if (earlier) earlier();  // one turn per member: an older request is let go
      this.firstAsked ??= this.now();
      if (this.capTimer === null) this.capTimer = this.schedule(() => this.flush("waited maxWaitMs"), this.maxWaitMs);
      this.check();
    });
  }

  // Call when the script run state may have changed (and after each turn asked for).
  check() {
    if (this.waiting.size === 0) return;
    if ([...this.members].every((m) => this.waiting.has(m))) {
      this.flush("all arrived");
    } else if (this.running() === false && this.idleTimer === null) {
      this.idleTimer = this.schedule(() => { this.idleTimer = null; if (this.running() !== true) this.flush("run over"); },
                                     this.settleMs);
    }
  }

  // Grant every waiting turn now, in this task.
  flush(why = "") {
    if (this.capTimer !== null) { this.cancel(this.capTimer); this.capTimer = null; }
    if (this.idleTimer !== null) { this.cancel(this.idleTimer); this.idleTimer = null; }
    if (this.waiting.size === 0) return;
    const all = [...this.waiting.values()];
    const t = Math.round(this.now());
    this.log.push({ why, ids: [...this.waiting.keys()], waitedMs: t - (this.firstAsked ?? t) });
    this.firstAsked = null;
    this.waiting.clear();
    this.flushes += 1;
    if (all.length > 1) this.grantedTogether += 1;
    if (this.log.length > 20) this.log.shift();
    for (const resolve of all) resolve();
  }
}

// Streamlit's script run state as its page shows it (stApp's data-test-script-state attribute:
// "running" / "notRunning"); null when the page does not say (another Streamlit version).
export function streamlitRunning(doc) {
  const state = doc?.querySelector?.('[data-testid="stApp"]')?.getAttribute?.("data-test-script-state");
  if (state === "running") return true;
  if (state === "notRunning") return false;
  return null;
}

// The page-wide group, made once and kept on the shared object `G` (window.__lumbar3d); in a
// browser it watches the run state. `off`: the group is not used (each picture draws on its own).
export function frameGroup(G, doc = globalThis.document) {
  if (G.frameGroup) return G.frameGroup;
  const group = new FrameGroup({ running: () => streamlitRunning(doc) });
  const app = doc?.querySelector?.('[data-testid="stApp"]');
  if (app && typeof globalThis.MutationObserver === "function") {
    new MutationObserver(() => group.check()).observe(app, { attributes: true,
                                                             attributeFilter: ["data-test-script-state"] });
  }
  G.frameGroup = group;
  return group;
}

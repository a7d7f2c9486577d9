"""Lumbar Explorer benchmark: cold start, interaction latency, bytes, model cost and a classroom.

One command, one run, against a real server (``streamlit run explorer/app.py`` on a free loopback
port, as the README does) in headless Debian Chromium with software WebGL (SwiftShader)::

    python benchmarks/run.py            # full run (about 10 minutes on 2 cores)
    python benchmarks/run.py --quick    # smoke run (a few minutes)

Prints a table and writes ``benchmarks/results/benchmark.json`` (machine, date, every sample).

What is measured
----------------
* Python: triangles in the model, ``simulate()`` per call (all conditions' defaults, model passed
  in; first call and median of many), and the figure rebuilt on every rerun (time, JSON bytes).
* Asset rebuild: ``python -m explorer build-models --models-dir <temp dir>`` (the repository's
  assets/models is never touched).
* Cold start: from spawning ``streamlit run`` to the first painted 3D model (baked assets
  present), and the first load's size (every HTTP response + websocket frames until the paint).
* Interaction latency: drive the real sidebar widgets (condition selectbox, ``param_<name>``
  radios/selectboxes) and stop the clock when the new 3D figure is painted (``data-render-seq``
  advanced *and* the figure data replaced, plus two animation frames) and, when the page has one,
  the body chart ``[data-testid="body-chart"]`` is painted too. The same measurement on two
  baselines served in the same run and interleaved step by step, so all see the same machine
  load, gives the ratios: benchmarks/minimal_app.py (one selectbox, one text: a bare Streamlit
  app) and benchmarks/floor_app.py (the same selectbox plus the project's own 3D viewer showing
  the same model, one nerve recoloured per change: with software WebGL a frame of the model costs
  0.3-0.4 s, so this is the floor the explorer cannot go under). The clock starts at the
  ``pointerdown`` of the click that makes the change (recorded in the page). The section stops
  after ``--interaction-s`` (at least 4 rounds). Each step also has a "drawn" time: after the
  painted stamp, a synchronous ``getError`` on the 3D view's canvases waits until the GPU has
  finished the frame (two frames after a render, a software frame may not be drawn yet).
* The same interaction again (section ``interaction_no_gpu``) in Chromium as it sets itself up on a
  machine without a GPU (``_common.CHROMIUM_NO_GPU_ARGS``: software raster and compositing, WebGL in
  SwiftShader), which is what a visitor's browser does there. The first pass uses the prescribed
  WebGL flags, which make SwiftShader the GPU for everything: the page's raster then runs in the
  GPU process, in turn with the WebGL frame.
* Bytes per interaction: websocket frames server -> browser from the click until the step was
  painted, twice: as the page received them (Chrome's DevTools Protocol reports each message
  after the browser decompressed it, so this is the uncompressed size) and as they travelled on
  the socket (each page reaches its server through :class:`benchmarks.wire_proxy.WireProxy`, a
  loopback TCP proxy that counts what the server wrote: compressed with permessage-deflate when
  ``server.enableWebsocketCompression`` is on, frame headers included); and the bytes handed to WebGL (buffers and textures, counted by an init script the
  benchmark adds to the page: ``WEBGL_UPLOAD_COUNTER_JS`` in _common.py, not the app's code).
* The "script run finished" clock reads Streamlit's ForwardMsg in each websocket frame. Before
  this session its decoder skipped length-delimited fields from the wrong offset (``i +=
  varint()`` read ``i`` before ``varint()`` moved past the length), so the figures that hang on it
  were unreliable: "click -> script run finished", "first script run done" in the cold start,
  the no-WebGL classroom sessions' latency (measured until the run finished), and when a step
  counted as done (every mode waits for it).
* Classroom: N sessions at once, each changing conditions for a while: errors (exceptions shown
  in the page, console errors, page errors, failed requests, HTTP >= 400, dropped websockets),
  p95 latency, server RSS (process tree) before/after and per session, server CPU.
  Software WebGL for 30 pages on 2 cores measures the test machine's CPU, not the app: by default
  only some pages draw WebGL; the others run with WebGL switched off (the viewer shows its text
  fallback) but the server still reruns the script and sends every figure for them.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._common import (
    BODY_CHART,
    CHROMIUM_ARGS,
    CHROMIUM_NO_GPU_ARGS,
    GRAPH,
    NO_WEBGL_ARGS,
    ROOT,
    WEBGL_UPLOAD_COUNTER_JS,
    Server,
    chromium_path,
    machine_info,
    percentile,
    write_json,
)
from benchmarks.wire_proxy import WireProxy

RESULTS = ROOT / "benchmarks" / "results"
LOGS = RESULTS / "logs"
VIEWPORT = {"width": 1600, "height": 1000}
LOAD_TIMEOUT_MS = 180_000
STEP_TIMEOUT_MS = 120_000
MINIMAL_CHOICES = ["Alpha", "Bravo", "Charlie", "Delta", "Echo", "Foxtrot"]

# Issue 12's goals (ratios from one run): switch p50 at most 3.5x the bare app and 1.15x the floor
# app; per change at most 30 KB over the websocket and 1 MB uploaded to WebGL; first paint 3 s.
TARGETS = {"latency_ratio": 3.5, "floor_ratio": 1.15, "bytes_per_interaction": 30_000,
           "gl_bytes_per_interaction": 1_000_000, "first_paint_s": 3.0, "classroom_errors": 0}

# One cycle of changes through every condition and its parameters. A "param" step picks the next
# allowed value after the current one (read from the URL), so every step changes the figure; a
# step whose widget is not shown (side of a central herniation) is skipped.
PLAN: list[tuple[str, str]] = [
    ("condition", "herniation"), ("param", "zone"), ("param", "side"), ("param", "severity"), ("param", "level"),
    ("condition", "stenosis"), ("param", "zone"), ("param", "side"), ("param", "severity"),
    ("condition", "spondylolisthesis"), ("param", "grade"), ("param", "type"),
    ("condition", "piriformis"), ("param", "side"), ("param", "severity"),
    ("condition", "cauda_equina"), ("param", "level"),
    ("condition", "none"),
]

# Recorded in every page before any script runs: when the person pressed (the clock's start),
# and when the server said a script run finished: the top-level ForwardMsg field `script_finished`
# (its number is read from Streamlit's proto below) in a websocket frame, with any status but
# FINISHED_EARLY_FOR_RERUN. (stApp's data-test-script-state attribute misses fast runs: React
# batches running -> notRunning into one commit.)
INIT_JS = """
(() => {
  const B = (window.__bench = window.__bench || {});
  B.idle = null;
  B.armed = null;
  document.addEventListener('pointerdown', () => { B.t0 = performance.now(); }, true);
  document.addEventListener('keydown', () => { B.t0 = performance.now(); }, true);
  const FIELD = __FIELD__, EARLY = __EARLY__;
  const topLevelVarint = (buf) => {
    const b = new Uint8Array(buf);
    let i = 0;
    const varint = () => {
      let x = 0, m = 1, c;
      do { c = b[i++]; x += (c & 127) * m; m *= 128; } while ((c & 128) && i < b.length);
      return x;
    };
    while (i < b.length) {
      const tag = varint(), field = Math.floor(tag / 8), wire = tag % 8;
      if (wire === 0) { const v = varint(); if (field === FIELD) return v; }
      // The length first, then skip: `i += varint()` read i before varint() moved it past the
      // length's own bytes, so every later field was parsed from the wrong offset.
      else if (wire === 2) { const len = varint(); i += len; }
      else if (wire === 1) { i += 8; }
      else if (wire === 5) { i += 4; }
      else return null;
    }
    return null;
  };
  const Native = window.WebSocket;
  window.WebSocket = class extends Native {
    constructor(...a) {
      super(...a);
      this.addEventListener('message', (ev) => {
        if (!(ev.data instanceof ArrayBuffer)) return;
        if (B.firstMessage == null) B.firstMessage = performance.now();
        const status = topLevelVarint(ev.data);
        if (status !== null && status !== EARLY && B.firstFinished == null) B.firstFinished = performance.now();
        // Only a run that ends after the press counts (a late message of an earlier run does not).
        if (status !== null && status !== EARLY && B.t0 != null && B.idle === null) B.idle = performance.now();
      });
      this.addEventListener('close', (ev) => {
        (B.closes = B.closes || []).push({code: ev.code, reason: ev.reason, clean: ev.wasClean,
                                          at_s: Math.round(performance.now()) / 1000});
      });
    }
  };
})();
"""


def _init_js() -> str:
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    field = ForwardMsg.DESCRIPTOR.fields_by_name["script_finished"]
    early = field.enum_type.values_by_name["FINISHED_EARLY_FOR_RERUN"].number
    return INIT_JS.replace("__FIELD__", str(field.number)).replace("__EARLY__", str(early))


# Called just before an action: watches the page and timestamps (page clock) when the 3D figure,
# the body chart and (for the minimal app) the expected text are painted.
ARM_JS = """
(args) => {
  const B = (window.__bench = window.__bench || {});
  if (B.obs) B.obs.disconnect();
  const now = () => performance.now();
  const seq = (el) => Number((el && el.dataset && el.dataset.renderSeq) || 0);
  const raf2 = (cb) => requestAnimationFrame(() => requestAnimationFrame(() => cb(now())));
  // "Drawn": after the two frames, a synchronous WebGL call on the 3D view's canvases (getError
  // waits for the GPU to finish the queued frame). Two frames after a render the compositor may still
  // be waiting for a software frame (the floor app's 0.3 s frame was "painted" 52 ms after its react),
  // so both stamps are kept. The wait is in the same animation frame callback, right after the
  // "painted" stamp (in a later task it would also count the page's other work, Streamlit's renders).
  // The body chart is drawn in the same task before the 3D view (frame_group.js), so its two-frame
  // stamp comes first and is not held up by the wait.
  const gpuDone = (gd) => {
    for (const c of gd.querySelectorAll('canvas')) {
      let gl = null;
      try { gl = c.getContext('webgl2') || c.getContext('webgl'); } catch (e) { gl = null; }
      if (gl) gl.getError();
    }
  };
  const gd0 = document.querySelector(args.graph);
  const body0 = document.querySelector(args.body);
  const prevData = gd0 ? gd0.data : undefined, prevSeq = seq(gd0), prevBodySeq = seq(body0);
  Object.assign(B, {t0: null, graph: null, graphDrawn: null, body: null, text: null, idle: null, hadBody: !!body0,
                    reacts: []});
  // The body chart is drawn by our own SVG code (no Plotly.react): it marks its render instead.
  (window.__lumbar3d ??= {plotly: null, webgl: undefined, memory: {}}).marks = true;
  performance.clearMarks('lumbar:chart-react-start');
  performance.clearMarks('lumbar:chart-react-end');
  // Diagnostics only: time each Plotly.react (the components look the function up at call time).
  if (window.Plotly && !window.Plotly.__benchWrapped) {
    const react = window.Plotly.react;
    window.Plotly.react = async function (gd, ...rest) {
      const start = performance.now();
      try { return await react.call(this, gd, ...rest); }
      finally {
        (window.__bench.reacts || []).push({id: gd && gd.dataset && gd.dataset.testid, start, end: performance.now()});
      }
    };
    window.Plotly.__benchWrapped = true;
  }
  let g = false, b = false, t = false;
  const check = () => {
    const gd = document.querySelector(args.graph);
    if (!g && gd && (gd !== gd0 ? seq(gd) >= 1 : seq(gd) > prevSeq) && gd.data !== prevData) {
      g = true;
      raf2((x) => { B.graph = x; gpuDone(gd); B.graphDrawn = now(); });
    }
    const bc = document.querySelector(args.body);
    if (!b && bc && (bc !== body0 ? seq(bc) >= 1 : seq(bc) > prevBodySeq)) {
      b = true; raf2((x) => { B.body = x; });
    }
    if (args.text && !t) {
      const main = document.querySelector('[data-testid="stMain"]');
      if (main && main.textContent.includes(args.text)) { t = true; raf2((x) => { B.text = x; }); }
    }
  };
  B.obs = new MutationObserver(check);
  B.obs.observe(document.body, {subtree: true, childList: true, attributes: true, characterData: !!args.text,
                                attributeFilter: ['data-render-seq']});
  B.armed = now();
  return B.armed;
}
"""

# Done: what the mode needs has been painted and the script run finished. A body chart that did
# not re-render within `bodyGraceMs` after everything else is taken as unchanged by this step.
DONE_JS = """
(args) => {
  const B = window.__bench;
  if (!B || B.idle === null) return false;
  if (args.mode === 'text') return B.text !== null;
  if (args.mode === 'idle') return true;
  if (B.graph === null || B.graphDrawn === null) return false;
  if (!document.querySelector(args.body) || B.body !== null) return true;
  return performance.now() - Math.max(B.graph, B.idle) > args.bodyGraceMs;
}
"""
READ_JS = ("() => { const B = window.__bench; if (B.obs) B.obs.disconnect(); "
           "return {t0: B.t0, graph: B.graph, graph_drawn: B.graphDrawn, body: B.body, text: B.text, idle: B.idle, "
           "armed: B.armed, reacts: B.reacts, chart_marks: ['start', 'end'].map((k) => performance"
           ".getEntriesByName('lumbar:chart-react-' + k).map((m) => m.startTime)), "
           f"body_present: !!document.querySelector('{BODY_CHART}')}}; }}")
PAINTED_JS = f"""() => {{
  const ok = Number(document.querySelector('{GRAPH}')?.dataset.renderSeq || 0) >= 1
             && !!document.querySelector('{GRAPH} canvas');
  if (ok && window.__bench && window.__bench.paintedAt == null) window.__bench.paintedAt = performance.now();
  return ok;
}}"""
SCENE_JS = f"""() => {{
  const gd = document.querySelector('{GRAPH}');
  const full = (gd && gd._fullData) || [];
  return {{traces: full.length, triangles: full.reduce((s, t) => s + ((t.i && t.i.length) || 0), 0)}};
}}"""
MINIMAL_READY_JS = "() => document.querySelector('[data-testid=\"stMain\"]')?.textContent.includes('Selected:')"
# (name, app, what counts as its first paint): the floor app's 3D model as the app's, the minimal app's text.
BASELINE_COLD = (("floor", "benchmarks/floor_app.py", PAINTED_JS), ("minimal", "benchmarks/minimal_app.py", MINIMAL_READY_JS))
FALLBACK_JS = "() => !!document.querySelector('.lumbar-3d-fallback:not([hidden])')"
GL_BYTES_JS = "() => window.__glUpload ? window.__glUpload.bytes : null"


# ----------------------------------------------------------------------------------- helpers
def _ms(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else b - a


def _stats(values: list[float]) -> dict[str, float]:
    if not values:
        return {"n": 0}
    return {"n": len(values), "p50": percentile(values, 50), "p95": percentile(values, 95),
            "min": min(values), "max": max(values), "mean": statistics.fmean(values)}


def _query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlparse(url).query).items()}


def _state_key(q: dict[str, str]) -> tuple:
    from explorer.conditions.registry import CONDITIONS

    cond = q.get("condition", "none")
    if cond not in CONDITIONS:
        return (cond,)
    return (cond,) + tuple((p.name, q[p.name]) for p in CONDITIONS[cond].params if p.name in q)


def _log(msg: str) -> None:
    print(msg, flush=True)


class Frames:
    """Counts websocket frames server -> browser (Playwright ``framereceived``)."""

    def __init__(self, page) -> None:
        self.sizes: list[int] = []
        self.closed = 0
        page.on("websocket", self._attach)

    def _attach(self, ws) -> None:
        ws.on("framereceived", lambda payload: self.sizes.append(len(payload)))
        ws.on("close", lambda _ws: setattr(self, "closed", self.closed + 1))

    def mark(self) -> int:
        return len(self.sizes)

    def since(self, mark: int) -> tuple[int, int]:
        chunk = self.sizes[mark:]
        return sum(chunk), len(chunk)


async def _new_page(browser, frames: bool = True):
    ctx = await browser.new_context(viewport=VIEWPORT)
    await ctx.add_init_script(_init_js())
    await ctx.add_init_script(WEBGL_UPLOAD_COUNTER_JS)
    page = await ctx.new_page()
    return ctx, page, (Frames(page) if frames else None)


async def _select(page, key: str, label: str) -> None:
    """Pick `label` in the sidebar widget with key `key` (radio or selectbox) with the mouse."""
    box = page.locator(f'[data-testid="stSidebar"] .st-key-{key}')
    if await box.locator('[role="radiogroup"]').count():
        await box.get_by_text(label, exact=True).click(timeout=STEP_TIMEOUT_MS)
    else:
        combo = box.locator('input[role="combobox"]')
        for attempt in range(3):  # a click landing while the sidebar re-renders may not open the list
            await combo.click(timeout=STEP_TIMEOUT_MS)
            try:
                await page.get_by_role("option").first.wait_for(timeout=5_000)
                break
            except Exception:  # playwright's TimeoutError; try again
                await page.keyboard.press("Escape")
                if attempt == 2:
                    raise
        option = page.get_by_role("option", name=label, exact=True)
        if not await option.count():  # a long list may not render every option: filter by typing
            await combo.press_sequentially(label)
            await option.first.wait_for(timeout=STEP_TIMEOUT_MS)
        await option.first.click(timeout=STEP_TIMEOUT_MS)


class StageError(RuntimeError):
    """A benchmark stage could not go on; the message names what failed and where to look."""


async def _open(page, url: str, ready_js: str, what: str, log_path: Path | None, errors: list[str] | None = None,
                timeout_ms: int = LOAD_TIMEOUT_MS) -> None:
    """Open `url` and wait for `ready_js`; on a timeout raise StageError naming `what`, the page's
    console errors and the server log (a 404 for the Plotly bundle once looked like a slow paint)."""
    seen: list[str] = errors if errors is not None else []
    if errors is None:
        page.on("console", lambda m: seen.append(f"console: {m.text[:300]}") if m.type == "error" else None)
        page.on("pageerror", lambda e: seen.append(f"pageerror: {str(e)[:300]}"))
    try:
        await page.goto(url, timeout=timeout_ms)
        await page.wait_for_function(ready_js, timeout=timeout_ms, polling=50)
    except Exception as exc:  # Playwright's TimeoutError or a navigation error
        tail = "; ".join(seen[-3:]) or "no console errors"
        raise StageError(f"{what} did not paint within {timeout_ms / 1e3:.0f} s ({type(exc).__name__}); "
                         f"page said: {tail}" + (f"; server log {_rel(log_path)}" if log_path else "")) from exc


def _rel(path: Path | None) -> str:
    if path is None:
        return ""
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


async def _wait_idle(page) -> None:
    await page.wait_for_function(
        "() => document.querySelector('[data-testid=\"stApp\"]')?.getAttribute('data-test-script-state') === 'notRunning'",
        timeout=LOAD_TIMEOUT_MS)


def _next_step(page_url: str, step_index: int) -> tuple[str, str, str] | None:
    """(widget key, option label, target description) for PLAN[step_index], or None to skip."""
    from explorer.conditions.registry import CONDITIONS
    from explorer.ui.controls import CONDITION_LABELS

    kind, what = PLAN[step_index % len(PLAN)]
    q = _query(page_url)
    cond = q.get("condition", "none")
    if kind == "condition":
        if what == cond:
            return None
        return "condition", CONDITION_LABELS[what], f"condition={what}"
    if cond not in CONDITIONS or what not in q:
        return None  # parameter not shown for this state
    spec = CONDITIONS[cond].param(what)
    value = spec.values[(spec.values.index(q[what]) + 1) % len(spec.values)]
    # The label the page shows: some options name the measure of another parameter's value
    # (stenosis severity per zone: DependentParamSpec.label_in), as explorer.ui.controls does.
    label_in = getattr(spec, "label_in", None)
    label = label_in(value, params=q) if callable(label_in) else spec.label_for(value)
    return f"param_{what}", label, f"{what}={value}"


def _plan_step(page_url: str, plan_i: int) -> tuple[tuple[str, str, str] | None, int]:
    """The first step of PLAN from ``plan_i`` on that changes the page's state, and the plan index
    after it; ``None`` if every step of the plan leads back to the current state."""
    for _ in range(len(PLAN)):
        step = _next_step(page_url, plan_i)
        plan_i += 1
        if step:
            return step, plan_i
    return None, plan_i


def _react_split(r: dict[str, Any], t0: float) -> dict[str, float | None]:
    """Where the browser's time went: Plotly.react calls of this step (diagnostics)."""
    out: dict[str, float | None] = {}
    calls = r.get("reacts") or []
    g = [c for c in calls if c["id"] == "lumbar-3d"]
    b = [c for c in calls if c["id"] == "body-chart"]
    if g:
        out["react_3d_start_ms"] = g[0]["start"] - t0
        out["react_3d_ms"] = sum(c["end"] - c["start"] for c in g)
        out["react_3d_to_paint_ms"] = (r["graph"] - g[-1]["end"]) if r["graph"] is not None else None
    if b:
        out["react_body_ms"] = sum(c["end"] - c["start"] for c in b)
    starts, ends = (r.get("chart_marks") or [[], []])
    if not b and starts and len(starts) == len(ends):  # the SVG body chart's own render marks
        out["react_body_ms"] = sum(e - s for s, e in zip(starts, ends, strict=True))
    return out


async def _measure_step(page, frames: Frames | None, action, mode: str, text: str | None = None,
                        body_grace_ms: int = 1500, proxy: WireProxy | None = None) -> dict[str, Any]:
    """Arm the page, run `action`, wait until done; returns timings (ms) and websocket bytes
    (as received by the page, and on the wire when the page goes through ``proxy``)."""
    mark = frames.mark() if frames else 0
    wire0 = proxy.ws_bytes if proxy else 0
    gl0 = await page.evaluate(GL_BYTES_JS)
    await page.evaluate(ARM_JS, {"graph": GRAPH, "body": BODY_CHART, "text": text})
    await action()
    await page.wait_for_function(DONE_JS, arg={"mode": mode, "body": BODY_CHART, "bodyGraceMs": body_grace_ms},
                                 timeout=STEP_TIMEOUT_MS, polling=50)
    r = await page.evaluate(READ_JS)
    await page.wait_for_timeout(100)  # let the last frames' events reach Python
    gl1 = await page.evaluate(GL_BYTES_JS)
    nbytes, nframes = frames.since(mark) if frames else (0, 0)
    wire = proxy.ws_bytes - wire0 if proxy else None
    t0 = r["t0"] if r["t0"] is not None else r["armed"]
    if mode == "text":
        end = r["text"]
    elif mode == "idle":
        end = r["idle"]
    else:
        end = max(x for x in (r["graph"], r["body"]) if x is not None)
    # Drawn: the 3D frame finished by the GPU (the text and the SVG body chart: as painted).
    drawn = max(x for x in (r.get("graph_drawn"), r["body"], end) if x is not None)
    return {
        "latency_ms": end - t0,
        "drawn_ms": drawn - t0,
        "script_done_ms": _ms(t0, r["idle"]),
        "graph_ms": _ms(t0, r["graph"]),
        "body_ms": _ms(t0, r["body"]),
        "body_present": r["body_present"],
        **_react_split(r, t0),
        "body_changed": r["body"] is not None,
        "ws_bytes": nbytes,
        "ws_frames": nframes,
        # The same frames as the server wrote them to the socket (compressed), or None.
        "ws_wire_bytes": wire,
        # Buffers and textures handed to WebGL by this step (WEBGL_UPLOAD_COUNTER_JS).
        "gl_bytes": (gl1 - gl0) if gl0 is not None and gl1 is not None else None,
        # The body chart painted this long after the 3D view (negative: before it).
        "body_after_graph_ms": _ms(r["graph"], r["body"]),
    }


# ----------------------------------------------------------------------------------- sections
def python_costs(args) -> dict[str, Any]:
    """Triangles, simulate() per call, and the figure rebuilt on every rerun."""
    from explorer.anatomy.model import load_model
    from explorer.conditions.registry import CONDITIONS
    from explorer.conditions.simulate import simulate

    t = time.perf_counter()
    model = load_model()
    load_s = time.perf_counter() - t
    out: dict[str, Any] = {"model_load_s": load_s, "triangles": model.n_triangles, "structures": len(model.meshes),
                           "simulate": {}, "figure": {}}
    for cid, spec in CONDITIONS.items():
        params = spec.defaults()
        t = time.perf_counter()
        simulate(cid, params, model)
        first = time.perf_counter() - t
        times = []
        for _ in range(args.simulate_calls):
            t = time.perf_counter()
            simulate(cid, params, model)
            times.append(time.perf_counter() - t)
        out["simulate"][cid] = {"params": params, "first_call_ms": first * 1e3,
                                "median_ms": statistics.median(times) * 1e3, "calls": len(times)}
        # The condition's own typical states (ConditionSpec.examples), timed warm.
        for example in spec.examples:
            simulate(cid, example.params, model)
            runs = []
            for _ in range(max(3, args.simulate_calls // 4)):
                t = time.perf_counter()
                simulate(cid, example.params, model)
                runs.append(time.perf_counter() - t)
            out.setdefault("simulate_examples", {}).setdefault(cid, {})[example.name] = {
                "params": dict(example.params), "median_ms": statistics.median(runs) * 1e3, "calls": len(runs)}
    # The figure the page builds on every rerun (not cached): scene items -> Figure -> JSON.
    try:
        from explorer import settings
        from explorer.render.model_scene import model_box, scene_items
        from explorer.render.scene3d import build_scene_figure, figure_to_json
        from explorer.state import ExplorerState

        box = model_box(model)
        camera = settings.CAMERA_PRESETS[settings.DEFAULT_VIEW]
        for cid in ["none", *CONDITIONS]:
            if cid == "none":
                state, impact = ExplorerState(), None
            else:
                params = CONDITIONS[cid].defaults()
                impact = simulate(cid, params, model)
                state = ExplorerState(condition=cid, params=tuple(CONDITIONS[cid].applicable(params).items()))
            times, size, tris = [], 0, 0
            for _ in range(max(3, args.simulate_calls // 4)):
                t = time.perf_counter()
                items = scene_items(model, state, impact)
                text = figure_to_json(build_scene_figure(items, camera, height_px=720, box=box))
                times.append(time.perf_counter() - t)
                size = len(text.encode())
                tris = sum(len(i.faces) for i in items if i.visible)
            out["figure"][cid] = {"median_ms": statistics.median(times) * 1e3, "json_bytes": size, "triangles": tris}
    except Exception as exc:  # noqa: BLE001 - the render API may change under us; say so, keep going
        out["figure_error"] = f"{type(exc).__name__}: {exc}"
    return out


def build_models(args) -> dict[str, Any]:
    """Rebuild every mesh from scratch into a temporary directory."""
    with tempfile.TemporaryDirectory(prefix="lumbar-build-") as tmp:
        t = time.perf_counter()
        proc = subprocess.run([sys.executable, "-m", "explorer", "build-models", "--models-dir", str(Path(tmp) / "models")],
                              check=False, cwd=ROOT, capture_output=True, text=True, timeout=args.build_timeout_s)
        elapsed = time.perf_counter() - t
    last = (proc.stdout.strip().splitlines() or [""])[-1]
    if proc.returncode != 0:
        return {"error": f"exit {proc.returncode}: {proc.stderr.strip()[-500:]}", "seconds": elapsed}
    return {"seconds": elapsed, "output": last}


async def _load_bytes(page, requests: list) -> dict[str, int]:
    transferred = decoded = 0
    n = 0
    for req in requests:
        if not req.url.startswith("http"):
            continue
        n += 1
        try:
            sizes = await req.sizes()
            transferred += max(0, sizes["responseBodySize"]) + max(0, sizes["responseHeadersSize"])
            resp = await req.response()
            decoded += len(await resp.body()) if resp else 0
        except Exception:  # noqa: BLE001 - a response without a body (redirect, 304)
            pass
    return {"http_requests": n, "http_transferred_bytes": transferred, "http_decoded_bytes": decoded}


async def cold_start(args, browser, progress: dict[str, Any]) -> dict[str, Any]:
    """`streamlit run` -> first painted 3D model, and the size of the first load.

    Runs are appended to ``progress["runs"]`` as they finish (kept if the stage is cut short)."""
    runs: list[dict[str, Any]] = progress.setdefault("runs", [])
    for i in range(args.cold_runs):
        ctx, page, frames = await _new_page(browser)
        requests: list = []
        page.on("requestfinished", lambda r, requests=requests: requests.append(r))
        server = Server(log_path=LOGS / f"cold-{i}.log")
        try:
            ready = server.wait_ready()
            t_nav = time.perf_counter()
            await _open(page, server.url, PAINTED_JS, f"the app (cold start {i + 1})", server.log_path)
            painted = time.perf_counter()
            ws_bytes, ws_frames = frames.since(0)
            loaded = list(requests)  # what had arrived by the paint
            # Page clock (0 = navigation start): first websocket message, first script run done, paint.
            clock = await page.evaluate("() => [window.__bench.firstMessage, window.__bench.firstFinished, "
                                        "window.__bench.paintedAt]")
            scene = await page.evaluate(SCENE_JS)
            run = {"server_ready_s": ready, "first_paint_s": painted - server.t0, "open_to_paint_s": painted - t_nav,
                   "page_first_ws_message_s": (clock[0] or 0) / 1e3, "page_first_run_done_s": (clock[1] or 0) / 1e3,
                   "page_painted_s": (clock[2] or 0) / 1e3,
                   "ws_bytes_to_paint": ws_bytes, "ws_frames_to_paint": ws_frames, **scene,
                   **await _load_bytes(page, loaded),
                   "exceptions_shown": await page.locator('[data-testid="stException"]').count(),
                   "server_rss_after_paint": server.rss_bytes()}
            run["first_load_bytes"] = run["http_transferred_bytes"] + ws_bytes
            run["gl_bytes_first_paint"] = await page.evaluate(GL_BYTES_JS)
            runs.append(run)
            _log(f"  cold start {i + 1}/{args.cold_runs}: paint {run['first_paint_s']:.2f} s "
                 f"(server ready {ready:.2f} s), first load {run['first_load_bytes'] / 1e6:.2f} MB")
            # The same page, already served and warm: open a second tab to separate server start-up.
            ctx2, page2, _ = await _new_page(browser, frames=False)
            t = time.perf_counter()
            await _open(page2, server.url, PAINTED_JS, f"the app (warm tab, cold start {i + 1})", server.log_path)
            run["warm_open_to_paint_s"] = time.perf_counter() - t
            await ctx2.close()
        finally:
            await ctx.close()
            server.stop()
        # The baselines' own cold start in the same round: how much of the app's is Streamlit and
        # the software-WebGL drawing of the model, which any app showing it pays.
        for name, app_path, ready_js in BASELINE_COLD:
            run[f"{name}_first_paint_s"] = await _cold_baseline(browser, name, app_path, ready_js, i)
        _log(f"  cold start {i + 1}/{args.cold_runs}: floor app {run['floor_first_paint_s']:.2f} s, "
             f"minimal app {run['minimal_first_paint_s']:.2f} s")
    return cold_summary(progress)



async def _cold_baseline(browser, name: str, app_path: str, ready_js: str, i: int) -> float:
    """`streamlit run <baseline>` -> its first paint (seconds), as the app's cold start is timed."""
    ctx, page, _ = await _new_page(browser, frames=False)
    server = Server(app_path, log_path=LOGS / f"cold-{name}-{i}.log")
    try:
        server.wait_ready()
        await _open(page, server.url, ready_js, f"the {name} app (cold start {i + 1})", server.log_path)
        return time.perf_counter() - server.t0
    finally:
        await ctx.close()
        server.stop()


def cold_summary(progress: dict[str, Any]) -> dict[str, Any]:
    """Medians of the cold-start runs collected so far."""
    runs = progress.get("runs", [])
    keys = ["server_ready_s", "first_paint_s", "open_to_paint_s", "warm_open_to_paint_s", "page_first_ws_message_s",
            "page_first_run_done_s", "page_painted_s", "floor_first_paint_s", "minimal_first_paint_s"]
    return {"runs": runs, "summary": {k: _stats([r[k] for r in runs if k in r]) for k in keys}}


async def interaction(args, browser, progress: dict[str, Any]) -> dict[str, Any]:
    """App vs minimal app vs floor app, interleaved step by step, same browser, same run.

    Steps are appended to ``progress`` as they are measured (kept if the stage is cut short); a
    step that fails is logged with its target and the rounds go on (up to 3 failures in a row)."""
    app = Server(log_path=LOGS / "interaction-app.log")
    minimal = Server("benchmarks/minimal_app.py", log_path=LOGS / "interaction-minimal.log")
    floor = Server("benchmarks/floor_app.py", log_path=LOGS / "interaction-floor.log")
    proxies: list[WireProxy] = []
    deadline = time.perf_counter() + args.interaction_s
    app_steps: list[dict[str, Any]] = progress.setdefault("app_steps", [])
    min_steps: list[dict[str, Any]] = progress.setdefault("minimal_steps", [])
    floor_steps: list[dict[str, Any]] = progress.setdefault("floor_steps", [])
    errors: list[str] = progress.setdefault("errors", [])
    step_failures: list[str] = progress.setdefault("step_failures", [])
    try:
        for name, server in (("the app", app), ("the minimal app", minimal), ("the floor app", floor)):
            try:
                server.wait_ready()
            except RuntimeError as exc:
                raise StageError(f"{name}: {exc}") from exc
        # Every page reaches its server through a counting proxy (the same hop for all three, so
        # the ratios stay fair): websocket bytes as they travel on the socket.
        aproxy, mproxy, fproxy = proxies[:] = [WireProxy(srv.port) for srv in (app, minimal, floor)]
        actx, apage, aframes = await _new_page(browser)
        mctx, mpage, mframes = await _new_page(browser)
        fctx, fpage, fframes = await _new_page(browser)
        for p in (apage, mpage, fpage):
            p.on("console", lambda m: errors.append(f"console: {m.text}") if m.type == "error" else None)
            p.on("pageerror", lambda e: errors.append(f"pageerror: {e}"))
        await _open(apage, aproxy.url, PAINTED_JS, "the app (explorer/app.py)", app.log_path, errors)
        await _wait_idle(apage)
        await _open(mpage, mproxy.url, MINIMAL_READY_JS, "the minimal app (benchmarks/minimal_app.py)", minimal.log_path,
                    errors)
        await _wait_idle(mpage)
        await _open(fpage, fproxy.url, PAINTED_JS, "the floor app (benchmarks/floor_app.py)", floor.log_path, errors)
        await _wait_idle(fpage)
        # The steady state a class meets: the app's start-up warm-up done (see Server.wait_warmed_up).
        waited = await asyncio.to_thread(app.wait_warmed_up)
        progress["app_warm_up_wait_s"] = waited
        deadline += waited or 0.0
        seen = {_state_key(_query(apage.url))}
        plan_i, choice_i, failed_in_a_row = 0, 0, 0
        # Rounds of one step each (minimal, floor, app) until --steps, or until the time allowed
        # for this section is up (at least 4 rounds).
        while len(app_steps) < args.steps and (len(app_steps) < 4 or time.perf_counter() < deadline):
            choice_i += 1
            label = MINIMAL_CHOICES[choice_i % len(MINIMAL_CHOICES)]
            step, plan_i = _plan_step(apage.url, plan_i)
            if step is None:  # every step of the plan leads back to the current state
                break
            key, app_label, target = step
            where = "minimal app"
            try:
                r = await _measure_step(mpage, mframes, lambda label=label: _select(mpage, "choice", label), "text",
                                        text=f"Selected: {label}", proxy=mproxy)
                where = "floor app"
                rf = await _measure_step(fpage, fframes, lambda label=label: _select(fpage, "choice", label), "app",
                                         body_grace_ms=args.body_grace_ms, proxy=fproxy)
                where = "app"
                ra = await _measure_step(apage, aframes, lambda k=key, lab=app_label: _select(apage, k, lab), "app",
                                         body_grace_ms=args.body_grace_ms, proxy=aproxy)
            except Exception as exc:  # one bad step must not lose the run
                failed_in_a_row += 1
                msg = (f"round {choice_i}, {where} (app target {target}): {type(exc).__name__}: "
                       f"{' '.join(str(exc).split())[:300]}")
                step_failures.append(msg)
                _log(f"  step FAILED: {msg}")
                if failed_in_a_row >= 3:
                    raise StageError(f"3 steps in a row failed, last: {msg}") from exc
                continue
            failed_in_a_row = 0
            min_steps.append({"target": label, **r})
            floor_steps.append({"target": label, **rf})
            state = _state_key(_query(apage.url))
            ra.update(target=target, state=list(state), cold=state not in seen and state[0] != "none")
            seen.add(state)
            app_steps.append(ra)
            _log(f"  step {len(app_steps):2d} {target:<28} app {ra['latency_ms']:7.0f} ms "
                 f"({'cold' if ra['cold'] else 'warm'}; script {ra['script_done_ms'] or 0:5.0f} ms, "
                 f"{ra['ws_bytes'] / 1e3:6.1f} kB ({(ra['ws_wire_bytes'] or 0) / 1e3:5.1f} kB on the wire), WebGL {(ra['gl_bytes'] or 0) / 1e6:5.2f} MB)   "
                 f"floor {rf['latency_ms']:5.0f} ms   minimal {r['latency_ms']:5.0f} ms   "
                 f"drawn: app {ra['drawn_ms']:5.0f} floor {rf['drawn_ms']:5.0f} ms")
        progress["exceptions_shown"] = await apage.locator('[data-testid="stException"]').count()
        await actx.close()
        await mctx.close()
        await fctx.close()
    finally:
        for proxy in proxies:
            proxy.close()
        app.stop()
        minimal.stop()
        floor.stop()
    return interaction_summary(progress)


def _ratio(a: float, b: float) -> float:
    return a / b if a == a and b == b and b else float("nan")  # nan-safe (a stage cut short)


def interaction_summary(progress: dict[str, Any]) -> dict[str, Any]:
    """Statistics of the interaction steps collected so far (all of them, or a partial run's)."""
    app_steps = progress.get("app_steps", [])
    min_steps = progress.get("minimal_steps", [])
    floor_steps = progress.get("floor_steps", [])
    a = _stats([s["latency_ms"] for s in app_steps])
    m = _stats([s["latency_ms"] for s in min_steps])
    f = _stats([s["latency_ms"] for s in floor_steps])
    # The same steps to "drawn" (the GPU finished the 3D frame); older results have no drawn_ms.
    ad, md, fd = (_stats([s["drawn_ms"] for s in steps if s.get("drawn_ms") is not None])
                  for steps in (app_steps, min_steps, floor_steps))
    nan = float("nan")
    return {
        "app_drawn": ad, "minimal_drawn": md, "floor_drawn": fd,
        "ratio_drawn_p50": _ratio(ad.get("p50", nan), md.get("p50", nan)),
        "ratio_floor_drawn_p50": _ratio(ad.get("p50", nan), fd.get("p50", nan)),
        "app_steps": app_steps, "minimal_steps": min_steps, "floor_steps": floor_steps,
        "app": a, "minimal": m, "floor": f,
        "ratio_floor_p50": _ratio(a.get("p50", nan), f.get("p50", nan)),
        "ratio_floor_p95": _ratio(a.get("p95", nan), f.get("p95", nan)),
        "floor_vs_minimal_p50": _ratio(f.get("p50", nan), m.get("p50", nan)),
        "gl_bytes": _stats([s["gl_bytes"] for s in app_steps if s["gl_bytes"] is not None]),
        "floor_gl_bytes": _stats([s["gl_bytes"] for s in floor_steps if s["gl_bytes"] is not None]),
        "floor_ws_bytes": _stats([s["ws_bytes"] for s in floor_steps]),
        "body_after_graph_ms": _stats([s["body_after_graph_ms"] for s in app_steps
                                       if s.get("body_after_graph_ms") is not None]),
        "app_cold": _stats([s["latency_ms"] for s in app_steps if s["cold"]]),
        "app_warm": _stats([s["latency_ms"] for s in app_steps if not s["cold"]]),
        "app_script_done": _stats([s["script_done_ms"] for s in app_steps if s["script_done_ms"] is not None]),
        **{k: _stats([s[k] for s in app_steps if s.get(k) is not None])
           for k in ("react_3d_start_ms", "react_3d_ms", "react_3d_to_paint_ms", "react_body_ms", "graph_ms", "body_ms")},
        "ratio_p50": _ratio(a.get("p50", nan), m.get("p50", nan)),
        "ratio_p95": _ratio(a.get("p95", nan), m.get("p95", nan)),
        "ws_bytes": _stats([s["ws_bytes"] for s in app_steps]),
        "minimal_ws_bytes": _stats([s["ws_bytes"] for s in min_steps]),
        # On the socket (WireProxy): what the 30 KB goal is about when the server compresses.
        "ws_wire_bytes": _stats([s["ws_wire_bytes"] for s in app_steps if s.get("ws_wire_bytes") is not None]),
        "minimal_ws_wire_bytes": _stats([s["ws_wire_bytes"] for s in min_steps if s.get("ws_wire_bytes") is not None]),
        "floor_ws_wire_bytes": _stats([s["ws_wire_bytes"] for s in floor_steps if s.get("ws_wire_bytes") is not None]),
        "ws_frames": _stats([s["ws_frames"] for s in app_steps]),
        "body_chart_present": any(s["body_present"] for s in app_steps),
        "body_chart_changed_steps": sum(s["body_changed"] for s in app_steps),
        "errors": progress.get("errors", []), "step_failures": progress.get("step_failures", []),
        "exceptions_shown": progress.get("exceptions_shown", 0),
    }


def _cpu_seconds(pid: int) -> float:
    """utime+stime of a process tree (seconds), from /proc."""
    from benchmarks._common import children

    tick = os.sysconf("SC_CLK_TCK")
    total, todo = 0.0, [pid]
    while todo:
        p = todo.pop()
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tick
        except (OSError, IndexError):
            continue
        todo += children(p)
    return total


def _mem_available() -> int:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemAvailable:"):
            return int(line.split()[1]) * 1024
    return 0


async def classroom(args, pw) -> dict[str, Any]:
    """N sessions at once against one server, each changing conditions for a while."""
    n, n_webgl = args.sessions, min(args.webgl_sessions, args.sessions)
    exe = chromium_path()
    gl_browser = await pw.chromium.launch(executable_path=exe, args=CHROMIUM_ARGS)
    light_browser = await pw.chromium.launch(executable_path=exe, args=NO_WEBGL_ARGS)
    server = Server(log_path=LOGS / "classroom.log")
    rng = random.Random(6)
    sessions: list[dict[str, Any]] = []
    try:
        server.wait_ready()
        rss_idle = server.rss_bytes()
        mem_avail_before = _mem_available()
        # Warm-up: one session visits every state of the plan once, so the shared caches (model,
        # simulate results) are filled before "before" is taken; it stays open (idle) throughout.
        wctx, wpage, wframes = await _new_page(gl_browser)
        await _open(wpage, server.url, PAINTED_JS, "the app (classroom warm-up session)", server.log_path)
        await _wait_idle(wpage)
        for i in range(len(PLAN) if not args.quick else 4):
            step = _next_step(wpage.url, i)
            if step:
                await _measure_step(wpage, wframes, lambda s=step: _select(wpage, s[0], s[1]), "app",
                                    body_grace_ms=args.body_grace_ms)
        rss_before = server.rss_bytes()
        _log(f"  server RSS idle {rss_idle / 2**20:.0f} MiB, after warm-up session {rss_before / 2**20:.0f} MiB")

        async def open_session(i: int, sem: asyncio.Semaphore) -> None:
            webgl = i < n_webgl
            s: dict[str, Any] = {"i": i, "webgl": webgl, "errors": [], "latencies": [], "steps": 0}
            sessions.append(s)
            async with sem:
                ctx, page, _ = await _new_page(gl_browser if webgl else light_browser, frames=False)
                s.update(ctx=ctx, page=page)
                page.on("console", lambda m: m.type == "error" and s["errors"].append(f"console: {m.text}"))
                page.on("pageerror", lambda e: s["errors"].append(f"pageerror: {e}"))
                page.on("requestfailed", lambda r: s["errors"].append(f"requestfailed: {r.url} {r.failure}"))
                page.on("response", lambda r: r.status >= 400 and s["errors"].append(f"http {r.status}: {r.url}"))
                page.on("crash", lambda _p: s["errors"].append("page crashed"))
                page.on("websocket", lambda ws: ws.on("close", lambda _w: s.get("closing") or
                                                      s["errors"].append("websocket closed")))
                t = time.perf_counter()
                try:
                    await page.goto(server.url)
                    if webgl:
                        await page.wait_for_function(PAINTED_JS, timeout=LOAD_TIMEOUT_MS)
                    else:
                        await page.wait_for_function(FALLBACK_JS, timeout=LOAD_TIMEOUT_MS)
                    await _wait_idle(page)
                    s["load_s"] = time.perf_counter() - t
                except Exception as exc:  # noqa: BLE001
                    s["errors"].append(f"load: {type(exc).__name__}: {str(exc)[:200]}")

        t_open = time.perf_counter()
        sem = asyncio.Semaphore(args.open_concurrency)
        await asyncio.gather(*(open_session(i, sem) for i in range(n)))
        open_s = time.perf_counter() - t_open
        rss_open = server.rss_bytes()
        _log(f"  {n} sessions open ({n_webgl} with WebGL) in {open_s:.0f} s; server RSS {rss_open / 2**20:.0f} MiB")

        async def drive(s: dict[str, Any], until: float) -> None:
            page = s.get("page")
            if page is None or "load_s" not in s:
                return
            plan_i = s["i"] * 3  # sessions start at different places of the plan
            await asyncio.sleep(rng.uniform(0, args.think_s))
            while time.perf_counter() < until:
                step, plan_i = _plan_step(page.url, plan_i)
                assert step is not None
                try:
                    r = await _measure_step(page, None, lambda st=step: _select(page, st[0], st[1]),
                                            "app" if s["webgl"] else "idle", body_grace_ms=args.body_grace_ms)
                    s["latencies"].append(r["latency_ms"])
                    s["steps"] += 1
                    states.add(_state_key(_query(page.url)))
                except Exception as exc:  # noqa: BLE001
                    s["errors"].append(f"step {step}: {type(exc).__name__}: {' '.join(str(exc).split())[:900]}")
                    with contextlib.suppress(Exception):
                        await page.screenshot(path=str(LOGS / f"classroom-session-{s['i']}-error.png"))
                    break
                await asyncio.sleep(rng.uniform(0.5, 1.5) * args.think_s)

        states: set[tuple] = {_state_key(_query(wpage.url))}
        cpu0, t0 = _cpu_seconds(server.proc.pid), time.perf_counter()
        rss_peak = rss_open
        until = time.perf_counter() + args.seconds

        async def sample_rss() -> None:
            nonlocal rss_peak
            while time.perf_counter() < until:
                rss_peak = max(rss_peak, server.rss_bytes())
                await asyncio.sleep(1)

        await asyncio.gather(sample_rss(), *(drive(s, until) for s in sessions))
        wall = time.perf_counter() - t0
        cpu = _cpu_seconds(server.proc.pid) - cpu0
        await asyncio.sleep(3)  # let the last reruns finish: sessions open and idle
        rss_after = server.rss_bytes()
        mem_avail_after = _mem_available()
        for s in sessions:
            page = s.get("page")
            if page is not None and not page.is_closed():
                try:
                    closes = await page.evaluate("() => window.__bench.closes || []")
                    if closes:
                        s["errors"].append(f"websocket close events seen by the page: {closes}")
                    shown = page.locator('[data-testid="stException"]')
                    if await shown.count():
                        text = " ".join((await shown.first.inner_text()).split())[:300]
                        s["errors"].append(f"{await shown.count()} exception(s) shown in the page: {text}")
                except Exception as exc:  # noqa: BLE001
                    s["errors"].append(f"final check: {type(exc).__name__}")
        for s in sessions:
            s["closing"] = True
            if s.get("ctx"):
                await s["ctx"].close()
        await wctx.close()
        await asyncio.sleep(3)
        rss_closed = server.rss_bytes()
    finally:
        server.stop()
        await gl_browser.close()
        await light_browser.close()
    gl = [x for s in sessions if s["webgl"] for x in s["latencies"]]
    light = [x for s in sessions if not s["webgl"] for x in s["latencies"]]
    errors = [f"session {s['i']}: {e}" for s in sessions for e in s["errors"]]
    return {
        "sessions": n, "webgl_sessions": n_webgl, "seconds": args.seconds, "think_s": args.think_s,
        "open_s": open_s, "load_s": _stats([s["load_s"] for s in sessions if "load_s" in s]),
        "changes": sum(s["steps"] for s in sessions),
        "latency_all": _stats(gl + light), "latency_webgl": _stats(gl), "latency_no_webgl": _stats(light),
        "errors": len(errors), "error_samples": errors[:20],
        "server_rss": {"idle": rss_idle, "before": rss_before, "all_open": rss_open, "after": rss_after,
                       "peak": rss_peak, "after_close": rss_closed},
        "per_session_open_bytes": (rss_open - rss_before) / max(1, n),
        "per_session_bytes": (rss_after - rss_before) / max(1, n),
        "distinct_states": len(states),
        "server_cpu_cores": cpu / wall if wall else float("nan"),
        "machine_memory_used_bytes": mem_avail_before - mem_avail_after,
    }


# ----------------------------------------------------------------------------------- report
def _fmt_ms(st: dict[str, float]) -> str:
    return "n/a" if not st.get("n") else f"p50 {st['p50']:6.0f} ms  p95 {st['p95']:6.0f} ms  (n={st['n']})"


def report(res: dict[str, Any]) -> None:
    def row(name: str, value: str, target: str = "") -> None:
        print(f"  {name:<38} {value:<52} {target}")

    def ok(flag: bool) -> str:
        return "PASS" if flag else "MISS"

    m = res["machine"]
    print(f"\nLumbar Explorer benchmark, {m['date']}, {m['cpus']} x {m['cpu_model']}, {m['memory_gib']} GiB, "
          f"{m['chromium']} ({m['webgl']}), streamlit {m['streamlit']}, load average {m['load_average_at_start'][0]:.1f} "
          f"at start, {m.get('load_average_at_end', [float('nan')])[0]:.1f} at end")
    py = res.get("python")
    if py:
        print("Model and Python")
        row("triangles in the model", f"{py['triangles']:,} in {py['structures']} structures")
        for cid, s in py["simulate"].items():
            row(f"simulate({cid})", f"median {s['median_ms']:6.1f} ms  first call {s['first_call_ms']:7.1f} ms")
        for cid, f in py.get("figure", {}).items():
            row(f"3D figure build ({cid})", f"{f['median_ms']:6.1f} ms per rerun; whole figure {f['json_bytes'] / 1e3:5.0f} kB "
                f"JSON, {f['triangles']:,} triangles")
        if "figure_error" in py:
            row("figure rebuild", py["figure_error"])
    b = res.get("build_models")
    if b:
        row("rebuild assets (build-models)", f"{b['seconds']:.1f} s" + (f"  ERROR {b['error']}" if "error" in b else ""))
    for msg in res.get("failed_stages", {}).values():
        print(f"  FAILED {msg}")
    c = res.get("cold_start")
    if c and c.get("incomplete"):
        print(f"  cold start incomplete: {c['incomplete']}")
    if c and c["runs"] and c["summary"]["first_paint_s"].get("n"):
        print("Cold start")
        s = c["summary"]
        fp = s["first_paint_s"]
        row("streamlit run -> 3D painted", f"median {fp['p50']:.2f} s (min {fp['min']:.2f}, max {fp['max']:.2f})",
            f"target < {TARGETS['first_paint_s']} s: {ok(fp['p50'] < TARGETS['first_paint_s'])}")
        row("  of which server ready", f"median {s['server_ready_s']['p50']:.2f} s")
        row("  page open -> painted (fresh server)", f"median {s['open_to_paint_s']['p50']:.2f} s: websocket open "
            f"{s['page_first_ws_message_s']['p50']:.2f} s, first script run done {s['page_first_run_done_s']['p50']:.2f} s, "
            f"painted {s['page_painted_s']['p50']:.2f} s (page clock)")
        row("  page open -> painted (warm server)", f"median {s['warm_open_to_paint_s'].get('p50', float('nan')):.2f} s")
        floor_fp, minimal_fp = s["floor_first_paint_s"], s["minimal_first_paint_s"]
        if floor_fp.get("n") and minimal_fp.get("n"):
            row("floor app: streamlit run -> 3D painted", f"median {floor_fp['p50']:.2f} s (app / floor "
                f"{_ratio(fp['p50'], floor_fp['p50']):.2f}x)")
            row("minimal app: streamlit run -> text shown", f"median {minimal_fp['p50']:.2f} s (app / minimal "
                f"{_ratio(fp['p50'], minimal_fp['p50']):.2f}x)")
        r0 = c["runs"][0]
        row("first load size", f"{r0['first_load_bytes'] / 1e6:.2f} MB transferred = HTTP {r0['http_transferred_bytes'] / 1e6:.2f} MB "
            f"({r0['http_decoded_bytes'] / 1e6:.2f} MB decoded, {r0['http_requests']} requests) + "
            f"websocket {r0['ws_bytes_to_paint'] / 1e6:.2f} MB")
        row("scene drawn on first load", f"{r0['triangles']:,} triangles in {r0['traces']} traces, "
            f"{(r0.get('gl_bytes_first_paint') or 0) / 1e6:.1f} MB uploaded to WebGL")
    def interaction_rows(it: dict[str, Any] | None, title: str) -> None:
        if it and it.get("incomplete"):
            print(f"  interaction incomplete ({len(it['app_steps'])} app steps kept): {it['incomplete']}")
        if it and it["app"].get("n") and it["minimal"].get("n"):
            print(title)
            row("app", _fmt_ms(it["app"]))
            row("  first visit of a state (simulate runs)", _fmt_ms(it["app_cold"]))
            row("  revisit (cached simulate)", _fmt_ms(it["app_warm"]))
            row("  click -> script run finished", _fmt_ms(it["app_script_done"]))
            row("  click -> Plotly.react starts (3D)", _fmt_ms(it["react_3d_start_ms"]))
            row("  Plotly.react, 3D view (browser)", _fmt_ms(it["react_3d_ms"]))
            row("  3D react done -> frame painted", _fmt_ms(it["react_3d_to_paint_ms"]))
            row("  body chart update (browser)", _fmt_ms(it["react_body_ms"]))
            row("  click -> 3D painted", _fmt_ms(it["graph_ms"]))
            row("  click -> body chart painted", _fmt_ms(it["body_ms"]))
            if it["body_after_graph_ms"].get("n"):
                row("  body chart painted after the 3D by", _fmt_ms(it["body_after_graph_ms"]))
            row("minimal app (selectbox -> text)", _fmt_ms(it["minimal"]))
            if it.get("floor", {}).get("n"):
                row("floor app (selectbox -> 3D repainted)", _fmt_ms(it["floor"]))
            row("ratio app / minimal", f"p50 {it['ratio_p50']:.2f}x  p95 {it['ratio_p95']:.2f}x",
                f"target p50 <= {TARGETS['latency_ratio']:g}x: {ok(it['ratio_p50'] <= TARGETS['latency_ratio'])}")
            if it.get("floor", {}).get("n"):
                row("ratio app / floor", f"p50 {it['ratio_floor_p50']:.2f}x  p95 {it['ratio_floor_p95']:.2f}x",
                    f"target p50 <= {TARGETS['floor_ratio']:g}x: {ok(it['ratio_floor_p50'] <= TARGETS['floor_ratio'])}")
                row("ratio floor / minimal", f"p50 {it['floor_vs_minimal_p50']:.2f}x")
            if it.get("app_drawn", {}).get("n") and it.get("floor_drawn", {}).get("n"):
                print("  the same steps until the 3D frame is drawn (the GPU finished it; text and SVG: as painted)")
                row("  app, click -> both pictures drawn", _fmt_ms(it["app_drawn"]))
                row("  floor app, click -> 3D drawn", _fmt_ms(it["floor_drawn"]))
                row("  ratio app / minimal, drawn", f"p50 {it['ratio_drawn_p50']:.2f}x",
                    f"target p50 <= {TARGETS['latency_ratio']:g}x: {ok(it['ratio_drawn_p50'] <= TARGETS['latency_ratio'])}")
                row("  ratio app / floor, drawn", f"p50 {it['ratio_floor_drawn_p50']:.2f}x",
                    f"target p50 <= {TARGETS['floor_ratio']:g}x: {ok(it['ratio_floor_drawn_p50'] <= TARGETS['floor_ratio'])}")
            wb = it["ws_bytes"]
            ww = it.get("ws_wire_bytes", {})
            row("websocket bytes per interaction (raw)", f"p50 {wb['p50'] / 1e3:.1f} kB  max {wb['max'] / 1e3:.1f} kB "
                f"(minimal app {it['minimal_ws_bytes']['p50'] / 1e3:.1f} kB"
                + (f", floor app {it['floor_ws_bytes']['p50'] / 1e3:.1f} kB)" if it.get("floor", {}).get("n") else ")"),
                f"target p50 <= {TARGETS['bytes_per_interaction'] / 1e3:g} kB: "
                f"{ok(wb['p50'] <= TARGETS['bytes_per_interaction'])}")
            if ww.get("n"):
                row("  on the wire (compressed, counted by a proxy)", f"p50 {ww['p50'] / 1e3:.1f} kB  max {ww['max'] / 1e3:.1f} kB "
                    f"(minimal app {it['minimal_ws_wire_bytes'].get('p50', float('nan')) / 1e3:.1f} kB, "
                    f"floor app {it['floor_ws_wire_bytes'].get('p50', float('nan')) / 1e3:.1f} kB)",
                    f"target p50 <= {TARGETS['bytes_per_interaction'] / 1e3:g} kB: "
                    f"{ok(ww['p50'] <= TARGETS['bytes_per_interaction'])}")
            wf = it.get("ws_frames", {})
            if wf.get("n"):
                row("  websocket messages per interaction", f"p50 {wf['p50']:.0f}  max {wf['max']:.0f}")
            gb = it.get("gl_bytes", {})
            if gb.get("n"):
                row("WebGL upload per interaction", f"p50 {gb['p50'] / 1e6:.2f} MB  max {gb['max'] / 1e6:.2f} MB "
                    f"(floor app {it['floor_gl_bytes'].get('p50', float('nan')) / 1e6:.2f} MB)",
                    f"target p50 <= 1 MB: {ok(gb['p50'] <= TARGETS['gl_bytes_per_interaction'])}")
            row("body chart [data-testid=body-chart]", "present, re-painted in "
                f"{it['body_chart_changed_steps']}/{len(it['app_steps'])} steps" if it["body_chart_present"] else
                "not present (not waited for)")
            row("errors during the interaction run", f"{len(it['errors'])} console/page errors, "
                f"{it['exceptions_shown']} exceptions shown, {len(it.get('step_failures', []))} steps failed")

    interaction_rows(res.get("interaction"), "Interaction (select a condition or parameter -> painted)")
    interaction_rows(res.get("interaction_no_gpu"), f"Interaction again, {NO_GPU_TITLE}")
    cl = res.get("classroom")
    if cl:
        print(f"Classroom ({cl['sessions']} sessions at once, {cl['webgl_sessions']} drawing WebGL, "
              f"{cl['seconds']:g} s of changes, think time ~{cl['think_s']:g} s)")
        row("errors", f"{cl['errors']}", f"target 0: {ok(cl['errors'] == 0)}")
        row("changes made", f"{cl['changes']}")
        row("latency, WebGL sessions (until painted)", _fmt_ms(cl["latency_webgl"]))
        row("latency, no-WebGL sessions (until run done)", _fmt_ms(cl["latency_no_webgl"]))
        ls = cl["load_s"]
        row("opening all sessions", f"{cl['open_s']:.0f} s" + (f" (per page p50 {ls['p50']:.1f} s, max {ls['max']:.1f} s)"
                                                            if ls.get("n") else ""))
        rss = cl["server_rss"]
        row("server RSS before -> after", f"{rss['before'] / 2**20:.0f} -> {rss['after'] / 2**20:.0f} MiB "
            f"(idle {rss['idle'] / 2**20:.0f}, peak {rss['peak'] / 2**20:.0f}, closed {rss['after_close'] / 2**20:.0f})")
        row("server memory per session", f"{cl['per_session_open_bytes'] / 2**20:.1f} MiB just opened, "
            f"{cl['per_session_bytes'] / 2**20:.1f} MiB after the changes ({cl['distinct_states']} states, cached)")
        row("server CPU while the class works", f"{cl['server_cpu_cores']:.2f} cores")
        row("machine memory used by browsers+server", f"{cl['machine_memory_used_bytes'] / 2**30:.1f} GiB")
        for e in cl["error_samples"][:5]:
            print(f"    ! {e}")


async def _stage(res: dict[str, Any], name: str, label: str, timeout_s: float, run, summarize=None,
                 out: Path | None = None) -> None:
    """Run one section with a time limit. A failure or a timeout is recorded in
    ``res["failed_stages"][name]`` with a message naming the stage (and what in it failed), the
    results collected so far are kept (``summarize(progress)``, marked ``"incomplete"``), and
    everything is written to `out` after every stage, so a later crash loses nothing."""
    _log(f"{label} (at most {timeout_s:.0f} s) ...")
    progress: dict[str, Any] = {}
    t = time.perf_counter()
    try:
        res[name] = await asyncio.wait_for(run(progress), timeout_s)
    except Exception as exc:  # noqa: BLE001 - includes TimeoutError: say which stage, keep going
        if isinstance(exc, TimeoutError):
            why = f"did not finish within {timeout_s:.0f} s"
        else:
            why = f"failed: {type(exc).__name__}: {' '.join(str(exc).split())[:600]}"
        msg = f"stage '{name}' {why}"
        res.setdefault("failed_stages", {})[name] = msg
        _log(f"  FAILED: {msg}")
        if summarize is not None and any(progress.values()):
            with contextlib.suppress(Exception):
                res[name] = {**summarize(progress), "incomplete": msg}
    finally:
        res.setdefault("stage_seconds", {})[name] = round(time.perf_counter() - t, 1)
        if out is not None:
            write_json(out, res)


def _sync(fn, args):
    """A synchronous section as a stage: runs in a thread so the stage's time limit holds."""
    async def run(_progress: dict[str, Any]) -> dict[str, Any]:
        return await asyncio.to_thread(fn, args)
    return run


async def amain(args) -> dict[str, Any]:
    from playwright.async_api import async_playwright

    res: dict[str, Any] = {"machine": machine_info(), "args": dict(vars(args)), "targets": TARGETS}
    LOGS.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    out = args.out
    if "python" in args.sections:
        await _stage(res, "python", "Python: model, simulate(), figure", args.python_timeout_s,
                     _sync(python_costs, args), out=out)
    if "build" in args.sections:
        await _stage(res, "build_models", "Rebuilding the assets into a temporary directory", args.build_timeout_s,
                     _sync(build_models, args), out=out)
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        try:
            if "cold" in args.sections:
                await _stage(res, "cold_start", "Cold start", args.cold_timeout_s,
                             lambda pr: cold_start(args, browser, pr), cold_summary, out)
            if "interaction" in args.sections:
                await _stage(res, "interaction", "Interaction latency (app vs floor app vs minimal app, interleaved)",
                             args.interaction_s + args.setup_timeout_s,
                             lambda pr: interaction(args, browser, pr), interaction_summary, out)
        finally:
            await browser.close()
        if "interaction_no_gpu" in args.sections:
            no_gpu = await pw.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_NO_GPU_ARGS)
            try:
                await _stage(res, "interaction_no_gpu", f"The same, {NO_GPU_TITLE}",
                             args.interaction_s + args.setup_timeout_s,
                             lambda pr: interaction(args, no_gpu, pr), interaction_summary, out)
            finally:
                await no_gpu.close()
        if "classroom" in args.sections:
            await _stage(res, "classroom", "Classroom", args.seconds + args.setup_timeout_s + args.sessions * 20,
                         lambda _pr: classroom(args, pw), out=out)
    res["total_s"] = time.perf_counter() - started
    res["machine"]["load_average_at_end"] = list(os.getloadavg())  # the machine may be shared
    return res


SECTIONS = ("python", "build", "cold", "interaction", "interaction_no_gpu", "classroom")
# build: minutes of CPU, on request
DEFAULT_SECTIONS = ("python", "cold", "interaction", "interaction_no_gpu", "classroom")
# The second interaction pass: the browser as a visitor's would be on this machine (_common.CHROMIUM_NO_GPU_ARGS).
NO_GPU_TITLE = "Chromium's own graphics without a GPU (software raster and compositing, WebGL in SwiftShader)"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="smoke run: few samples, small classroom")
    parser.add_argument("--sections", default=",".join(DEFAULT_SECTIONS),
                        help="comma-separated subset of " + ",".join(SECTIONS))
    parser.add_argument("--cold-runs", type=int, default=2, help="cold starts (server spawned each time)")
    parser.add_argument("--steps", type=int, default=30,
                        help="interactions measured on the app, the floor app and the minimal app (at most)")
    parser.add_argument("--interaction-s", type=float, default=240,
                        help="stop the interaction rounds after this long (at least 4 rounds are measured)")
    parser.add_argument("--simulate-calls", type=int, default=20, help="timed simulate() calls per condition")
    parser.add_argument("--sessions", type=int, default=12, help="classroom: sessions at once")
    parser.add_argument("--webgl-sessions", type=int, default=4,
                        help="classroom: how many of them draw WebGL (the rest run without WebGL)")
    parser.add_argument("--seconds", type=float, default=40, help="classroom: how long every session changes conditions")
    parser.add_argument("--think-s", type=float, default=5.0,
                        help="classroom: mean pause between a session's changes (a student reading, then clicking)")
    parser.add_argument("--open-concurrency", type=int, default=6, help="classroom: pages loading at the same time")
    parser.add_argument("--body-grace-ms", type=int, default=1500,
                        help="a body chart that has not re-rendered this long after the 3D view counts as unchanged")
    # Time limits per stage: a stage that runs past its limit is stopped, named in the output and
    # in the JSON ("failed_stages"), its results so far are kept, and the next stage runs.
    parser.add_argument("--python-timeout-s", type=float, default=300, help="time limit of the Python section")
    parser.add_argument("--build-timeout-s", type=float, default=900, help="time limit of the asset rebuild")
    parser.add_argument("--cold-timeout-s", type=float, default=360, help="time limit of the cold starts (all runs)")
    parser.add_argument("--setup-timeout-s", type=float, default=300,
                        help="interaction and classroom: time allowed on top of their own duration (servers, "
                             "first paints, the last step)")
    parser.add_argument("--out", type=Path, default=RESULTS / "benchmark.json")
    args = parser.parse_args(argv)
    if args.quick:
        defaults = {"cold_runs": 1, "steps": 8, "simulate_calls": 3, "sessions": 4, "webgl_sessions": 2, "seconds": 15,
                    "interaction_s": 90}
        for k, v in defaults.items():
            if getattr(args, k) == parser.get_default(k):
                setattr(args, k, v)
    args.sections = [s.strip() for s in args.sections.split(",") if s.strip()]
    unknown = set(args.sections) - set(SECTIONS)
    if unknown:
        parser.error(f"unknown section(s) {sorted(unknown)}; choose from {', '.join(SECTIONS)}")
    for name in ("cold_runs", "steps", "simulate_calls", "sessions"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1")
    if args.webgl_sessions < 0 or args.seconds <= 0:
        parser.error("--webgl-sessions must be >= 0 and --seconds > 0")
    chromium_path()
    args.out = args.out.resolve()
    res = asyncio.run(amain(args))
    res["args"]["out"] = str(args.out)
    write_json(args.out, res)
    report(res)
    print(f"\nwrote {_rel(args.out)} (total {res['total_s'] / 60:.1f} min)")
    failed = res.get("failed_stages", {})
    for msg in failed.values():
        print(f"FAILED {msg}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

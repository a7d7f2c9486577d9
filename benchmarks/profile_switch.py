"""Where a condition switch's browser time goes: the app against the floor app, one run.

Starts ``streamlit run explorer/app.py`` and ``benchmarks/floor_app.py`` (as benchmarks/run.py
does), opens each in headless Chromium with software WebGL, and steps through run.py's PLAN (the
floor app through its choices), interleaved. For every step it records, from the click:

* run.py's clocks (script run finished, Plotly.react of each picture, both painted);
* WebGL calls (an init script wraps the context's prototype): frames drawn (``clear`` of the
  default framebuffer), draw calls, shader programs linked, shaders compiled, textures and
  buffers uploaded (bytes), each with the time of the first and last call;
* with ``--gpu-done``, when the GPU had really finished drawing the change (a synchronous WebGL
  call two frames after the redraw; it makes the page wait, so run.py's clock then waits too);
* main-thread long tasks (PerformanceObserver ``longtask``) and, with ``--profile N``, a CDP
  sampling CPU profile of the first N app steps, summed by function (self time) and by script.

* the WebGL bytes uploaded (``window.__glUpload``) and the deferred pick pass's counters
  (gl_workarounds.js ``deferPickPass``: passes deferred, read-backs skipped, passes drawn late).

``--off ID[,ID]`` also measures each app in a second page with those front-end workarounds switched
off (localStorage ``lumbar.no_workarounds``), its steps interleaved with the first page's (which
page goes first alternates per step): a before/after of a workaround within one run, against
the same servers.

Diagnostics only (timings depend on the machine's load; compare the two apps within one run)::

    flock /tmp/heavy.lock timeout 900 python benchmarks/profile_switch.py --steps 8 --profile 4
    flock /tmp/heavy.lock timeout 900 python benchmarks/profile_switch.py --gpu-done --steps 6 --off deferPickPass
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._common import (
    BODY_CHART,
    CHROMIUM_ARGS,
    CHROMIUM_NO_GPU_ARGS,
    GRAPH,
    WEBGL_UPLOAD_COUNTER_JS,
    Server,
    chromium_path,
)
from benchmarks.run import (
    ARM_JS,
    DONE_JS,
    MINIMAL_CHOICES,
    PAINTED_JS,
    READ_JS,
    RESULTS,
    VIEWPORT,
    _init_js,
    _open,
    _plan_step,
    _select,
    _wait_idle,
)

# Counts WebGL work per step: window.__glCount = {name: {n, first, last}} since the last reset.
GL_COUNT_JS = """
(() => {
  // The viewer and the body chart put timing marks ("lumbar:...") when this is set.
  (window.__lumbar3d ??= {plotly: null, webgl: undefined, memory: {}}).marks = true;
  const C = (window.__glCount = {calls: {}, reset() { this.calls = {}; this.frames = []; }, frames: []});
  const names = ['clear', 'drawElements', 'drawArrays', 'linkProgram', 'compileShader', 'texImage2D',
                 'texSubImage2D', 'bufferData', 'bufferSubData', 'useProgram', 'readPixels', 'getError',
                 'getProgramParameter', 'isProgram', 'isShader', 'createBuffer', 'deleteBuffer', 'createTexture',
                 'deleteTexture', 'viewport', 'bindFramebuffer'];
  for (const Ctx of [window.WebGLRenderingContext, window.WebGL2RenderingContext]) {
    if (!Ctx) continue;
    for (const name of names) {
      const original = Ctx.prototype[name];
      if (typeof original !== 'function') continue;
      Ctx.prototype[name] = function (...args) {
        const t = performance.now();
        const c = (C.calls[name] ??= {n: 0, first: t, last: t, ms: 0});
        c.n += 1; c.last = t;
        if (name === 'clear') C.frames.push(t);
        const out = original.apply(this, args);
        c.ms += performance.now() - t;
        return out;
      };
    }
  }
  // When the 3D view's new figure has been drawn (data-render-seq advanced) plus two animation
  // frames (run.py's "painted"), ask the scene's WebGL context a synchronous question: it returns
  // once the GPU process has run every command sent before it, so the time after it is when the
  // frame's drawing was really done (max of "painted" and the GPU's finish).
  C.gpuDone = null;
  const watch = () => {
    const gd = document.querySelector('[data-testid="lumbar-3d"]');
    if (!gd) return setTimeout(watch, 200);
    let seq = gd.dataset.renderSeq;
    new MutationObserver(() => {
      if (gd.dataset.renderSeq === seq) return;
      seq = gd.dataset.renderSeq;
      requestAnimationFrame(() => requestAnimationFrame(() => {
        const gl = gd._fullLayout?.scene?._scene?.glplot?.gl;
        if (gl) { gl.getError(); C.gpuDone = performance.now(); }
      }));
    }).observe(gd, {attributes: true, attributeFilter: ['data-render-seq']});
  };
  // Optional (--gpu-done): the synchronous question makes the page wait for the GPU, which moves
  // run.py's own "painted" stamp (two frames later) to after the GPU's finish as well.
  if (window.__profileGpuDone) document.addEventListener('DOMContentLoaded', watch);
  C.long = [];
  // Websocket messages from the server: [time, bytes] (which delta arrived when).
  C.ws = [];
  const Native = window.WebSocket;
  window.WebSocket = class extends Native {
    constructor(...a) {
      super(...a);
      this.addEventListener('message', (ev) => {
        C.ws.push([performance.now(), ev.data && ev.data.byteLength !== undefined ? ev.data.byteLength : String(ev.data).length]);
      });
    }
  };
  try {
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) C.long.push({start: e.startTime, ms: e.duration});
    }).observe({type: 'longtask', buffered: true});
  } catch (e) { /* no longtask support */ }
})();
"""
RESET_JS = "() => { window.__glCount.reset(); window.__glCount.gpuDone = null; window.__glCount.ws = []; window.__glCount.long = []; performance.clearMarks(); }"
READ_GL_JS = """() => ({calls: window.__glCount.calls, gpuDone: window.__glCount.gpuDone, ws: window.__glCount.ws, frames: window.__glCount.frames, long: window.__glCount.long,
  marks: performance.getEntriesByType('mark').filter((m) => m.name.startsWith('lumbar:'))
    .map((m) => [m.name.slice(7), m.startTime]),
  relayouts: window.__lumbar3d.cameraRelayouts || null})"""


async def new_page(browser, gpu_done: bool = False, off: str = ""):
    ctx = await browser.new_context(viewport=VIEWPORT)
    if gpu_done:
        await ctx.add_init_script("window.__profileGpuDone = true;")
    if off:
        await ctx.add_init_script(f"window.localStorage.setItem('lumbar.no_workarounds', {json.dumps(off)});")
    await ctx.add_init_script(_init_js())
    await ctx.add_init_script(WEBGL_UPLOAD_COUNTER_JS)
    await ctx.add_init_script(GL_COUNT_JS)
    return ctx, await ctx.new_page()


COUNTERS_JS = """() => ({upload: window.__glUpload ? window.__glUpload.bytes : 0,
  pick: Object.assign({}, (window.__lumbar3d && window.__lumbar3d.pickStats) || {}),
  depth: Object.assign({}, (window.__lumbar3d && window.__lumbar3d.depthStats) || {})})"""


async def step(page, action, cdp=None) -> dict[str, Any]:
    counters = await page.evaluate(COUNTERS_JS)
    await page.evaluate(RESET_JS)
    await page.evaluate(ARM_JS, {"graph": GRAPH, "body": BODY_CHART, "text": None})
    if cdp:
        await cdp.send("Profiler.start")
    await action()
    await page.wait_for_function(DONE_JS, arg={"mode": "app", "body": BODY_CHART, "bodyGraceMs": 1500},
                                 timeout=120_000, polling=50)
    prof = (await cdp.send("Profiler.stop"))["profile"] if cdp else None
    r = await page.evaluate(READ_JS)
    await page.wait_for_timeout(300)  # frames drawn just after (a second frame would show here)
    gl = await page.evaluate(READ_GL_JS)
    t0 = r["t0"] if r["t0"] is not None else r["armed"]
    end = max(x for x in (r["graph"], r["body"]) if x is not None)
    out: dict[str, Any] = {"latency_ms": end - t0, "script_ms": (r["idle"] or t0) - t0}
    for c in r["reacts"] or []:
        out.setdefault(f"react_{c['id']}_start", c["start"] - t0)
        out[f"react_{c['id']}_ms"] = out.get(f"react_{c['id']}_ms", 0) + c["end"] - c["start"]
        out[f"react_{c['id']}_end"] = c["end"] - t0
    out["frames"] = [round(f - t0) for f in gl["frames"]]
    out["gl"] = {k: {"n": v["n"], "first": round(v["first"] - t0), "last": round(v["last"] - t0), "ms": round(v["ms"], 1)}
                 for k, v in gl["calls"].items()}
    out["long"] = [(round(x["start"] - t0), round(x["ms"])) for x in gl["long"] if x["start"] >= t0 - 5]
    out["painted_ms"] = (r["graph"] or 0) - t0
    out["marks"] = [(name, round(t - t0)) for name, t in gl["marks"]]
    for name, t in gl["marks"]:
        out.setdefault(f"mark_{name}", t - t0)  # the first of each
    out["relayouts"] = gl["relayouts"]
    after = await page.evaluate(COUNTERS_JS)
    out["upload_bytes"] = after["upload"] - counters["upload"]
    out["pick"] = {k: v - counters["pick"].get(k, 0) for k, v in after["pick"].items() if isinstance(v, int | float)}
    out["read_pixels"] = gl["calls"].get("readPixels", {}).get("n", 0)
    out["ws"] = [(round(t - t0), n) for t, n in gl["ws"]]
    out["gpu_done_ms"] = gl["gpuDone"] - t0 if gl["gpuDone"] is not None else None
    # The 3D react's own synchronous part: the body chart's react granted in the same task runs
    # inside the 3D react's promise, so react_lumbar-3d_ms counts both (viewer3d.js marks the end
    # of its synchronous part). And, with --gpu-done, the GPU's time after the last frame was issued.
    if "mark_3d-react-sync" in out and "mark_3d-react-start" in out:
        out["react_3d_sync_ms"] = out["mark_3d-react-sync"] - out["mark_3d-react-start"]
    if out["gpu_done_ms"] is not None and out["frames"]:
        out["gpu_after_last_frame_ms"] = out["gpu_done_ms"] - out["frames"][-1]
    # depthPrepassPick (gl_workarounds.js): depth-only draws done by the picking program / left to draw().
    out["depth_prepass"] = {k: v - counters["depth"].get(k, 0) for k, v in after["depth"].items()
                            if isinstance(v, int | float)}
    out["array_attrs"] = await page.evaluate("() => window.__lumbar3d.arrayAttrs || null")
    out["links"] = await page.evaluate("() => [window.__lumbar3d.cameraRelayouts || null, window.__lumbar3d.programLinks || null]")
    if prof:
        out["profile"] = prof
    return out


def summarize_profile(profiles: list[dict[str, Any]], top: int = 40) -> list[str]:
    """Self time by function and by script over all `profiles` (ms)."""
    by_fn: Counter[str] = Counter()
    by_url: Counter[str] = Counter()
    total_ms = 0.0
    # Inclusive time for selected frames: attribute each sample to every distinct ancestor.
    incl: Counter[str] = Counter()
    # Samples whose stack passes through a component's module (what it does and what it calls:
    # Plotly.react included), the 3D viewer first.
    by_component: Counter[str] = Counter()
    for prof in profiles:
        nodes = {n["id"]: n for n in prof["nodes"]}
        parent = {}
        for n in prof["nodes"]:
            for c in n.get("children", []):
                parent[c] = n["id"]
        samples, deltas = prof.get("samples", []), prof.get("timeDeltas", [])
        for sid, dt in zip(samples, deltas[1:] + [0], strict=False):
            ms = dt / 1000
            n = nodes[sid]
            cf = n["callFrame"]
            url = cf.get("url", "").rsplit("/", 1)[-1] or "(native)"
            name = f"{cf.get('functionName') or '(anon)'} {url}:{cf.get('lineNumber', 0) + 1}:{cf.get('columnNumber', 0)}"
            by_fn[name] += ms
            by_url[url] += ms
            total_ms += ms
            stack_urls = set()
            cur = sid
            while cur is not None:
                stack_urls.add(nodes[cur]["callFrame"].get("url", "").rsplit("/", 1)[-1].split("?")[0])
                cur = parent.get(cur)
            by_component["3D viewer (viewer3d.js)" if "viewer3d.js" in stack_urls
                         else "body chart (chart2d.js)" if "chart2d.js" in stack_urls else "rest"] += ms
            seen = set()
            cur = sid
            while cur is not None:
                cf2 = nodes[cur]["callFrame"]
                key = f"{cf2.get('functionName') or '(anon)'} {cf2.get('url', '').rsplit('/', 1)[-1]}:{cf2.get('lineNumber', 0) + 1}"
                if key not in seen:
                    seen.add(key)
                    incl[key] += ms
                cur = parent.get(cur)
    n = max(1, len(profiles))
    lines = [f"sampled {total_ms / n:.0f} ms per step over {len(profiles)} steps", "self time by script (ms/step):"]
    lines += [f"  {ms / n:8.1f}  {u}" for u, ms in by_url.most_common(15)]
    lines.append("time on stacks through each component (ms/step):")
    lines += [f"  {ms / n:8.1f}  {c}" for c, ms in by_component.most_common()]
    lines.append("self time by function (ms/step):")
    lines += [f"  {ms / n:8.1f}  {f}" for f, ms in by_fn.most_common(top)]
    lines.append("inclusive time by function (ms/step):")
    lines += [f"  {ms / n:8.1f}  {f}" for f, ms in incl.most_common(top * 2)]
    return lines


async def amain(args) -> None:
    from playwright.async_api import async_playwright

    app = Server(log_path=RESULTS / "logs" / "profile-app.log")
    floor = Server("benchmarks/floor_app.py", log_path=RESULTS / "logs" / "profile-floor.log")
    results: dict[str, list[dict[str, Any]]] = defaultdict(list)
    try:
        app.wait_ready()
        floor.wait_ready()
        async with async_playwright() as pw:
            browser = await pw.chromium.launch(executable_path=chromium_path(), args=GRAPHICS[args.graphics])
            # (name, page, cdp) per app: the front end as it is, and with --off's workarounds off.
            variants = [("", "")] + ([("-off", args.off)] if args.off else [])
            pages: dict[str, list[tuple[str, Any, Any]]] = {"app": [], "floor": []}
            for kind, server in (("app", app), ("floor", floor)):
                for suffix, off in variants:
                    ctx, page = await new_page(browser, args.gpu_done, off)
                    await _open(page, server.url, PAINTED_JS, f"the {kind} app{suffix}", server.log_path)
                    await _wait_idle(page)
                    cdp = await ctx.new_cdp_session(page)
                    await cdp.send("Profiler.enable")
                    await cdp.send("Profiler.setSamplingInterval", {"interval": args.interval_us})
                    pages[kind].append((kind + suffix, page, cdp))
            waited = await asyncio.to_thread(app.wait_warmed_up)
            print(f"app warm-up finished {waited:.1f} s after the pages opened" if waited is not None
                  else "app warm-up: no end seen in its log (measuring anyway)", flush=True)
            plan_i = 0
            for i in range(args.steps):
                label = MINIMAL_CHOICES[(i + 1) % len(MINIMAL_CHOICES)]
                prof = i < args.profile
                first = i % 2 == 0  # which page goes first alternates per step
                line = []
                for name, fpage, fcdp in (pages["floor"] if first else pages["floor"][::-1]):
                    rf = await step(fpage, lambda fpage=fpage, label=label: _select(fpage, "choice", label),
                                    fcdp if prof else None)
                    results[name].append(rf)
                    line.append(f"{name} {rf['latency_ms']:5.0f} ms (gpu done {rf['gpu_done_ms'] or 0:5.0f}, "
                                f"frames {rf['frames']}, draws {rf['gl'].get('drawElements', {}).get('n', 0)}, "
                                f"readPixels {rf['read_pixels']})")
                s, plan_i = _plan_step(pages["app"][0][1].url, plan_i)
                assert s is not None
                key, lab, target = s
                for name, apage, acdp in (pages["app"] if first else pages["app"][::-1]):
                    ra = await step(apage, lambda apage=apage, k=key, lab=lab: _select(apage, k, lab),
                                    acdp if prof else None)
                    ra["target"] = target
                    results[name].append(ra)
                    line.append(f"{name} {ra['latency_ms']:6.0f} ms (script {ra['script_ms']:5.0f}, "
                                f"gpu done {ra['gpu_done_ms'] or 0:5.0f}, frames {ra['frames']}, "
                                f"relayouts {ra['relayouts']}, links {ra['gl'].get('linkProgram', {}).get('n', 0)}, "
                                f"draws {ra['gl'].get('drawElements', {}).get('n', 0)}, readPixels {ra['read_pixels']}, "
                                f"upload {ra['upload_bytes'] / 1e6:.2f} MB, pick {ra['pick']}, depth {ra['depth_prepass']})")
                print(f"step {i + 1:2d} {target:<26} " + "\n    ".join(line), flush=True)
            await browser.close()
    finally:
        app.stop()
        floor.stop()
    out_lines: list[str] = []
    names = [n for n in ("app", "app-off", "floor", "floor-off") if results.get(n)]
    for name in names:
        for row in results[name]:
            out_lines.append(f"{name} {row.get('target', ''):<26} {round(row['latency_ms']):5d} ms  gpu done "
                             f"{round(row['gpu_done_ms'] or 0):5d}  frames {row['frames']}  marks {row['marks']}  "
                             f"long {row['long']}\n    ws {row['ws']}")
    for name in names:
        steps = results[name]
        out_lines.append(f"== {name}: {len(steps)} steps")
        keys = sorted({k for s in steps for k, v in s.items() if isinstance(v, int | float)})
        for k in keys:
            vals = [s[k] for s in steps if isinstance(s.get(k), int | float)]
            out_lines.append(f"  {k:<28} p50 {statistics.median(vals):8.1f}  (n={len(vals)})")
        gl_names = sorted({g for s in steps for g in s["gl"]})
        for g in gl_names:
            ns = [s["gl"].get(g, {}).get("n", 0) for s in steps]
            ms = [s["gl"].get(g, {}).get("ms", 0) for s in steps]
            out_lines.append(f"  gl.{g:<25} n p50 {statistics.median(ns):8.0f}  ms p50 {statistics.median(ms):7.1f}")
        out_lines.append("  frames per step: " + str([len(s["frames"]) for s in steps]))
        out_lines.append("  readPixels per step: " + str([s["read_pixels"] for s in steps]))
        out_lines.append("  pick pass per step: " + str([s["pick"] for s in steps]))
        out_lines.append("  long tasks p50 sum: " + str(statistics.median([sum(x[1] for x in s["long"]) for s in steps])))
        profs = [s.pop("profile") for s in steps if "profile" in s]
        if profs:
            out_lines += ["  " + x for x in summarize_profile(profs)]
            if args.save_profiles:
                for j, p in enumerate(profs):
                    Path(args.save_profiles).mkdir(parents=True, exist_ok=True)
                    (Path(args.save_profiles) / f"{name}-{j}.cpuprofile").write_text(json.dumps(p))
    # Ratios within this run (p50 of click -> both pictures painted; with --gpu-done, drawn).
    p50 = {n: statistics.median([s["latency_ms"] for s in results[n]]) for n in names}
    out_lines.append("== click -> painted p50: " + ", ".join(f"{n} {v:.0f} ms" for n, v in p50.items()))
    if p50.get("floor"):
        out_lines.append(f"   app / floor {p50['app'] / p50['floor']:.2f}x"
                         + (f"; with --off: app-off / floor-off {p50['app-off'] / p50['floor-off']:.2f}x, "
                            f"app / app-off {p50['app'] / p50['app-off']:.2f}x, "
                            f"floor / floor-off {p50['floor'] / p50['floor-off']:.2f}x" if "app-off" in p50 else ""))
    text = "\n".join(out_lines)
    print(text)
    if args.out:
        Path(args.out).write_text(json.dumps(results, indent=1, default=str) + "\n\n" + text)


# Chromium's graphics set-ups (--graphics); see _common.CHROMIUM_NO_GPU_ARGS.
GRAPHICS = {"flags": CHROMIUM_ARGS, "cpu-raster": [*CHROMIUM_ARGS, "--disable-gpu-rasterization"],
            "no-gpu": CHROMIUM_NO_GPU_ARGS}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=8)
    parser.add_argument("--profile", type=int, default=0, help="CPU-profile the first N steps of each app")
    parser.add_argument("--interval-us", type=int, default=200, help="CPU profile sampling interval")
    parser.add_argument("--save-profiles", default="", help="folder for the .cpuprofile files")
    parser.add_argument("--gpu-done", action="store_true",
                        help="stamp when the GPU finished each change's frame (makes the page wait for it)")
    parser.add_argument("--off", default="", help="also measure with these front-end workarounds off (ids, comma separated)")
    parser.add_argument("--out", default="", help="write the steps (JSON) and the summary here")
    parser.add_argument("--graphics", choices=sorted(GRAPHICS), default="flags",
                        help="Chromium's graphics: the tests' WebGL flags (SwiftShader as the GPU for everything), "
                             "the same with the page rastered on the CPU, or Chromium's own set-up without a GPU")
    args = parser.parse_args(argv)
    asyncio.run(amain(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())

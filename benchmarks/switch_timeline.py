"""One condition switch end to end, two source trees side by side: what holds the pictures back.

Starts ``streamlit run explorer/app.py`` from two source trees (``--before``: a clean clone of an
earlier commit; ``--after``: this working tree by default), opens each in headless Chromium with
software WebGL (as run.py) and steps both through run.py's PLAN, interleaved (which page goes first
alternates per step). For every step it records, on the page's clock from the press:

* when the browser sent the widget change (``WebSocket.send``);
* every ForwardMsg that arrived, decoded in Python with Streamlit's own proto: the run's start
  (``new_session``), each delta (its place and element type), cached references, the end of the
  run (``script_finished``);
* when our components got their data (the ``lumbar:3d-data`` / ``lumbar:chart-data`` marks the
  front end puts when ``window.__lumbar3d.marks`` is set) and their ``Plotly.react`` calls;
* run.py's "painted" clocks (3D and body chart) and "settled": the last change to the page's DOM
  outside the two pictures (every text rendered, stale elements cleared), waited for until the
  page was quiet for ``--quiet-ms``;
* main-thread long tasks.

A state's first visit (in that server process) and revisits are told apart: the PLAN runs twice.
The start-up warm-up is off in both servers (``LUMBAR_WARM_UP=0``, as chart_switch.py), so
neither works in the background while the other is measured. Diagnostics only: compare the two
trees within one run::

    git clone -q . /tmp/before && cp -r assets/states /tmp/before/assets/
    flock /tmp/heavy.lock timeout 900 python benchmarks/switch_timeline.py --before /tmp/before --steps 12
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import statistics
import sys
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._common import BODY_CHART, CHROMIUM_ARGS, GRAPH, ROOT, chromium_path
from benchmarks.chart_switch import TreeServer
from benchmarks.run import (
    ARM_JS,
    DONE_JS,
    PAINTED_JS,
    STEP_TIMEOUT_MS,
    VIEWPORT,
    _init_js,
    _open,
    _plan_step,
    _query,
    _select,
    _state_key,
    _wait_idle,
)

SERVER_CLOCK = str(Path(__file__).with_name("server_clock.py"))
# Marks on; every websocket frame in and out (time, and the bytes of what came in); the last DOM
# change outside the two pictures; long tasks.
INIT_JS = """
(() => {
  (window.__lumbar3d ??= {plotly: null, webgl: undefined, memory: {}}).marks = true;
  const T = (window.__tl = {inn: [], out: [], lastDom: null, long: [], on: false});
  T.reset = () => { T.inn = []; T.out = []; T.lastDom = null; T.long = []; T.on = true; };
  const Native = window.WebSocket;
  window.WebSocket = class extends Native {
    constructor(...a) {
      super(...a);
      this.addEventListener('message', (ev) => {
        if (T.on && ev.data instanceof ArrayBuffer) T.inn.push([performance.now(), ev.data.slice(0)]);
      });
    }
    send(data) {
      if (T.on) T.out.push([performance.now(), data && data.byteLength !== undefined ? data.byteLength : String(data).length]);
      return super.send(data);
    }
  };
  const inPicture = (node) => {
    const el = node && (node.nodeType === 1 ? node : node.parentElement);
    return !!(el && el.closest && el.closest('[data-testid="lumbar-3d"], [data-testid="body-chart"]'));
  };
  new MutationObserver((records) => {
    if (!T.on) return;
    for (const r of records) {
      if (!inPicture(r.target)) { T.lastDom = performance.now(); return; }
    }
  }).observe(document, {subtree: true, childList: true, attributes: true, characterData: true});
  try {
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) if (T.on) T.long.push([e.startTime, e.duration]);
    }).observe({type: 'longtask', buffered: false});
  } catch (e) { /* no longtask support */ }
})();
"""
RESET_JS = "() => { window.__tl.reset(); performance.clearMarks(); }"
READ_TL_JS = """() => {
  const T = window.__tl;
  const b64 = (buf) => { let s = ''; const u = new Uint8Array(buf);
    for (let i = 0; i < u.length; i += 8192) s += String.fromCharCode.apply(null, u.subarray(i, i + 8192));
    return btoa(s); };
  return {inn: T.inn.map(([t, d]) => [t, b64(d)]), out: T.out, lastDom: T.lastDom, long: T.long,
          marks: performance.getEntriesByType('mark').filter((m) => m.name.startsWith('lumbar:'))
            .map((m) => [m.name.slice(7), m.startTime])};
}"""
QUIET_JS = "(quiet) => window.__tl.lastDom === null || performance.now() - window.__tl.lastDom > quiet"


def decode(raw: bytes) -> dict[str, Any]:
    """What one ForwardMsg is: its type, and for a delta its place and element type."""
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    msg = ForwardMsg.FromString(raw)
    kind = msg.WhichOneof("type") or ""
    out: dict[str, Any] = {"type": kind, "bytes": len(raw)}
    if kind == "delta":
        d = msg.delta
        dk = d.WhichOneof("type") or ""
        what = (d.new_element.WhichOneof("type") if dk == "new_element"
                else d.add_block.WhichOneof("type") if dk == "add_block" else dk) or ""
        out["what"] = what
        out["path"] = list(msg.metadata.delta_path)
        if what == "bidi_component":
            out["what"] = "component:" + d.new_element.bidi_component.component_name.rsplit(".", 1)[-1]
    elif kind == "script_finished":
        out["what"] = ForwardMsg.ScriptFinishedStatus.Name(msg.script_finished)
    return out


class ClockServer(TreeServer):
    """A TreeServer started through benchmarks/server_clock.py: the server logs when each run
    starts and ends and when it queues and writes each message (``time.monotonic()``, the clock
    of Chromium's DevTools timestamps on Linux)."""

    def __init__(self, root: Path, log_path: Path) -> None:
        import os
        import subprocess
        import time

        from benchmarks._common import free_port

        # Everything benchmarks._common.Server's methods use (wait_ready, stop), set here because
        # the server is started through server_clock.py instead of `python -m streamlit`.
        self.app = "explorer/app.py"
        self.t0 = time.perf_counter()
        self.root = root
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        self.clock_path = log_path.with_suffix(".clock")
        self.clock_path.write_text("")
        self._log = log_path.open("w")
        env = {**os.environ, "PYTHONPATH": str(root), "LUMBAR_WARM_UP": "0", "LUMBAR_SERVER_CLOCK": str(self.clock_path)}
        self.proc = subprocess.Popen(
            [sys.executable, SERVER_CLOCK, "run", "explorer/app.py", "--server.port", str(self.port),
             "--server.address", "127.0.0.1", "--server.headless", "true", "--server.fileWatcherType", "none"],
            cwd=root, env=env, stdout=self._log, stderr=subprocess.STDOUT)

    def events(self, since_ms: float) -> list[tuple[float, str, str]]:
        out = []
        for line in self.clock_path.read_text().splitlines():
            t, _, rest = line.partition(" ")
            event, _, detail = rest.partition(" ")
            if float(t) >= since_ms:
                out.append((float(t), event, detail))
        return out


class NetClock:
    """Websocket frames as Chromium's network stack saw them (CDP ``Network.webSocketFrame*``:
    its own monotonic clock, not held up by a busy page): when each message really arrived."""

    def __init__(self) -> None:
        self.received: list[float] = []
        self.sent: list[float] = []

    async def attach(self, page) -> None:
        cdp = await page.context.new_cdp_session(page)
        cdp.on("Network.webSocketFrameReceived", lambda e: self.received.append(e["timestamp"] * 1000))
        cdp.on("Network.webSocketFrameSent", lambda e: self.sent.append(e["timestamp"] * 1000))
        await cdp.send("Network.enable")

    def reset(self) -> None:
        self.received.clear()
        self.sent.clear()


PHASES = ("press->run_start", "run_start->components_arrived", "components_arrived->3d-data", "3d-data->painted")


def profile_phases(prof: dict[str, Any], to_page: float, bounds: list[float | None]) -> dict[str, Counter[str]]:
    """Self time (ms) by script and function in each phase of the step. ``to_page`` puts the
    profile's clock (microseconds, the network clock) on the page's clock; ``bounds`` are the phases'
    edges (page clock from the press)."""
    nodes = {n["id"]: n for n in prof["nodes"]}
    out: dict[str, Counter[str]] = {p: Counter() for p in PHASES}
    t = prof["startTime"]
    for sid, dt in zip(prof.get("samples", []), prof.get("timeDeltas", []), strict=False):
        t += dt
        at = t / 1000 + to_page
        phase = None
        for j, name in enumerate(PHASES):
            lo, hi = bounds[j], bounds[j + 1]
            if lo is not None and hi is not None and lo <= at < hi:
                phase = name
        if phase is None:
            continue
        cf = nodes[sid]["callFrame"]
        url = cf.get("url", "").rsplit("/", 1)[-1] or "(native)"
        out[phase][f"{url} {cf.get('functionName') or '(anon)'}:{cf.get('lineNumber', 0) + 1}"] += dt / 1000
        out[phase]["== script " + url] += dt / 1000
        out[phase]["== total"] += dt / 1000
    return out


def server_marks(events: list[tuple[float, str, str]], to_page: float) -> dict[str, float]:
    """The server's side of one step on the page's clock from the press (``to_page`` added)."""
    out: dict[str, float] = {}

    def first(key: str, t: float) -> None:
        out.setdefault(key, round(t + to_page, 1))

    enqueued = 0
    for t, event, detail in events:
        if event == "run_start":
            first("srv_run_start", t)
        elif event == "run_end":
            out["srv_run_end"] = round(t + to_page, 1)
        elif event == "script_enqueue":
            enqueued += 1
            first("srv_first_delta", t)
            if ":component:" in detail:
                first("srv_enqueue_" + detail.split(":")[2], t)
        elif event == "ws_write" and ":component:" in detail:
            first("srv_write_" + detail.split(":")[2], t)
        elif event == "ws_write" and detail == "script_finished":
            first("srv_write_finished", t)
    out["srv_messages"] = enqueued
    return out


def patient_label(key: str, target: str, label: str, condition: str) -> str:
    """The words a patient's page shows for run.py's step (everyday names: explorer.ui.controls)."""
    from explorer.conditions.registry import CONDITIONS
    from explorer.ui.controls import condition_label

    name, _, value = target.partition("=")
    if key == "condition":
        return condition_label(value, "patient")
    spec = CONDITIONS.get(condition)
    p = spec.param(name) if spec is not None and name in [q.name for q in spec.params] else None
    return str(getattr(p, "plain_label_for", p.label_for)(value)) if p is not None else label


async def measure(page, action, quiet_ms: int, net: NetClock | None = None, cdp: Any = None,
                  server: ClockServer | None = None, save_profile: str = "") -> dict[str, Any]:
    import time

    since = time.monotonic() * 1000
    if net:
        net.reset()
    if cdp:
        await cdp.send("Profiler.start")
    await page.evaluate(RESET_JS)
    await page.evaluate(ARM_JS, {"graph": GRAPH, "body": BODY_CHART, "text": None})
    await action()
    await page.wait_for_function(DONE_JS, arg={"mode": "app", "body": BODY_CHART, "bodyGraceMs": 1500},
                                 timeout=STEP_TIMEOUT_MS, polling=50)
    await page.wait_for_function(QUIET_JS, arg=quiet_ms, timeout=STEP_TIMEOUT_MS, polling=50)
    prof = (await cdp.send("Profiler.stop"))["profile"] if cdp else None
    r = await page.evaluate("() => ({t0: window.__bench.t0, armed: window.__bench.armed, graph: window.__bench.graph,"
                            " body: window.__bench.body, idle: window.__bench.idle})")
    tl = await page.evaluate(READ_TL_JS)
    t0 = r["t0"] if r["t0"] is not None else r["armed"]

    def rel(t: float | None) -> float | None:
        return None if t is None else round(t - t0, 1)

    # The network clock put on the page's: the first frame sent after the press is the change.
    sent_js = [t for t, _ in tl["out"] if t >= t0]
    offset = None
    if net and sent_js and net.sent and len(net.received) == len(tl["inn"]):
        offset = sent_js[0] - net.sent[0]
    msgs = []
    for j, (t, data) in enumerate(tl["inn"]):
        m = decode(base64.b64decode(data))
        m["t"] = rel(t)
        m["net"] = rel(net.received[j] + offset) if offset is not None and net else None
        msgs.append(m)
    marks: dict[str, float] = {}
    for name, t in tl["marks"]:
        marks.setdefault(name, t - t0)
    sent = [rel(t) for t, _ in tl["out"] if t >= t0]
    start = next((m["t"] for m in msgs if m["type"] == "new_session"), None)
    finished = next((m["t"] for m in msgs if m["type"] == "script_finished"
                     and m.get("what") != "FINISHED_EARLY_FOR_RERUN"), None)
    net_start = next((m["net"] for m in msgs if m["type"] == "new_session"), None)
    net_finished = next((m["net"] for m in msgs if m["type"] == "script_finished"
                         and m.get("what") != "FINISHED_EARLY_FOR_RERUN"), None)
    net_comp = {m["what"]: m["net"] for m in msgs if str(m.get("what", "")).startswith("component:")}
    comp = {m["what"]: m["t"] for m in msgs if str(m.get("what", "")).startswith("component:")}
    deltas = [m for m in msgs if m["type"] == "delta"]
    end = max(x for x in (r["graph"], r["body"]) if x is not None)
    phases = None
    if prof is not None and offset is not None and net_comp:
        bounds = [0.0, net_start, min(net_comp.values()), marks.get("3d-data"), end - t0]
        phases = profile_phases(prof, offset - t0, bounds)
    if prof is not None and save_profile:
        Path(save_profile).write_text(json.dumps({"profile": prof, "to_page": (offset - t0) if offset is not None else None}))
    srv = (server_marks(server.events(since), offset - t0) if server is not None and offset is not None else {})
    return {
        **srv,
        "phases": phases,
        "sent": sent[0] if sent else None, "run_start": start, "script_finished": finished,
        "net_run_start": net_start, "net_script_finished": net_finished,
        **{f"net_delta_{k.split(':', 1)[1]}": v for k, v in net_comp.items()},
        "messages": len(msgs), "deltas": len(deltas), "refs": sum(m["type"] == "ref_hash" for m in msgs),
        "elements": Counter(str(m.get("what")) for m in deltas),
        "last_delta_before_components": max((m["t"] for m in deltas if not str(m.get("what", "")).startswith("component:")
                                             and m["t"] <= min(comp.values(), default=1e9)), default=None),
        **{f"delta_{k.split(':', 1)[1]}": v for k, v in comp.items()},
        **{f"mark_{k}": round(v, 1) for k, v in marks.items()},
        "painted": rel(end), "graph": rel(r["graph"]), "body": rel(r["body"]),
        "settled": rel(max(x for x in (tl["lastDom"], end) if x is not None)),
        "long_ms": round(sum(d for s, d in tl["long"] if s >= t0 - 5)),
        "ws_bytes": sum(m["bytes"] for m in msgs),
        "timeline": [(m["t"], m["net"], m["type"], m.get("what", ""), m.get("path", []), m["bytes"]) for m in msgs],
    }


KEYS = ("sent", "srv_run_start", "srv_first_delta", "srv_enqueue_chart2d", "srv_enqueue_viewer3d",
        "srv_write_viewer3d", "srv_run_end", "srv_write_finished", "net_run_start", "run_start", "last_delta_before_components", "net_delta_chart2d", "net_delta_viewer3d",
        "delta_chart2d", "delta_viewer3d", "net_script_finished", "script_finished",
        "mark_chart-data", "mark_3d-data", "mark_3d-react-start", "mark_3d-react-end", "graph", "body", "painted",
        "settled", "long_ms", "messages", "deltas", "refs", "ws_bytes")


def summary(rows: list[dict[str, Any]], label: str) -> list[str]:
    lines = [f"== {label}: {len(rows)} steps (p50, ms from the press unless a count)"]
    for k in KEYS:
        vals = [r[k] for r in rows if isinstance(r.get(k), int | float)]
        if vals:
            lines.append(f"  {k:<30} {statistics.median(vals):9.1f}  (n={len(vals)})")
    return lines


async def amain(args) -> int:
    from playwright.async_api import async_playwright

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    trees = {"before": Path(args.before).resolve(), "after": Path(args.after).resolve()}
    servers = {side: ClockServer(root, out / f"{side}-server.log") for side, root in trees.items()}
    rows: dict[str, list[dict[str, Any]]] = {side: [] for side in servers}
    query = "?audience=" + args.audience if args.audience else ""
    try:
        for s in servers.values():
            s.wait_ready()
            s.check_serves_own_frontend()
        async with async_playwright() as pw:
            browser = await pw.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
            pages = {}
            nets: dict[str, NetClock] = {}
            cdps: dict[str, Any] = {}
            for side, server in servers.items():
                ctx = await browser.new_context(viewport=VIEWPORT)  # type: ignore[arg-type]
                await ctx.add_init_script(_init_js())
                await ctx.add_init_script(INIT_JS)
                page = await ctx.new_page()
                nets[side] = NetClock()
                await nets[side].attach(page)
                cdps[side] = await ctx.new_cdp_session(page)
                await cdps[side].send("Profiler.enable")
                await cdps[side].send("Profiler.setSamplingInterval", {"interval": 250})
                await _open(page, server.url + "/" + query, PAINTED_JS, f"the {side} app", server.log_path)
                await _wait_idle(page)
                await page.wait_for_timeout(1500)
                pages[side] = page
            seen: dict[str, set[tuple]] = {side: set() for side in pages}
            plan_i = 0
            for i in range(args.steps):
                step, plan_i = _plan_step(pages["after"].url, plan_i)
                assert step is not None
                key, lab, target = step
                if args.audience == "patient":
                    lab = patient_label(key, target, lab, _query(pages["after"].url).get("condition", "none"))
                order = list(pages) if i % 2 == 0 else list(pages)[::-1]
                line = []
                for side in order:
                    page = pages[side]
                    row = await measure(page, lambda page=page, k=key, lab=lab: _select(page, k, lab), args.quiet_ms,
                                        nets[side], cdps[side] if i < args.profile else None, servers[side],
                                        str(out / f"{side}-{i + 1}.cpuprofile") if args.save_profiles else "")
                    state = _state_key(_query(page.url))
                    row["first_visit"] = state not in seen[side]
                    seen[side].add(state)
                    row["target"] = target
                    rows[side].append(row)
                    line.append(f"{side} painted {row['painted']:6.0f} settled {row['settled']:6.0f} "
                                f"finished {row['script_finished'] or 0:5.0f} 3d-data {row.get('mark_3d-data') or 0:5.0f}")
                print(f"step {i + 1:2d} {target:<24} {'first' if rows['after'][-1]['first_visit'] else 'again'}  "
                      + " | ".join(line), flush=True)
                if pages["before"].url.split("?", 1)[-1] != pages["after"].url.split("?", 1)[-1]:
                    print(f"   the two pages hold different states: {pages['before'].url} vs {pages['after'].url}")
            await browser.close()
    finally:
        for s in servers.values():
            s.stop()
    text: list[str] = []
    for side, rs in rows.items():
        text += summary(rs, side)
        text += summary([r for r in rs if r["first_visit"]], side + " first visits")
        text += summary([r for r in rs if not r["first_visit"]], side + " revisits")
    for side, rs in rows.items():
        profiled = [r["phases"] for r in rs if r.get("phases")]
        for phase in PHASES:
            total: Counter[str] = Counter()
            for ph in profiled:
                total.update(ph[phase])
            if not profiled:
                continue
            text.append(f"== {side} main thread in {phase} (ms per step, {len(profiled)} steps profiled)")
            text += [f"  {ms / len(profiled):7.1f}  {name}" for name, ms in total.most_common(args.top)]
    for k in ("painted", "settled", "mark_3d-data", "script_finished"):
        b = [r[k] for r in rows["before"] if isinstance(r.get(k), int | float)]
        a = [r[k] for r in rows["after"] if isinstance(r.get(k), int | float)]
        if a and b:
            text.append(f"after / before, {k} p50: {statistics.median(a):.0f} / {statistics.median(b):.0f} ms "
                        f"= {statistics.median(a) / statistics.median(b):.2f}x")
    print("\n".join(text))
    (out / "switch_timeline.json").write_text(json.dumps({"trees": {k: str(v) for k, v in trees.items()}, "rows": rows},
                                                         indent=1, default=str))
    (out / "switch_timeline.txt").write_text("\n".join(text) + "\n")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", required=True, help="source tree of the 'before' app (a clean clone)")
    parser.add_argument("--after", default=str(ROOT), help="source tree of the 'after' app (default: this one)")
    parser.add_argument("--steps", type=int, default=12)
    parser.add_argument("--audience", default="", help="open the pages as this audience (student by default)")
    parser.add_argument("--quiet-ms", type=int, default=600, help="settled: no DOM change outside the pictures this long")
    parser.add_argument("--out", default="/tmp/switch_timeline")
    parser.add_argument("--profile", type=int, default=0, help="CPU-profile the page in the first N steps")
    parser.add_argument("--save-profiles", action="store_true", help="keep each profile in --out (with its clock offset)")
    parser.add_argument("--top", type=int, default=25, help="lines per phase of the profile summary")
    return asyncio.run(amain(parser.parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main())

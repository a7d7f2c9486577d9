"""Cold start: time from `streamlit run explorer/app.py` to the first painted 3D model.

Runs the app exactly as the README does on a free loopback port, opens it in headless Debian
Chromium (software WebGL, SwiftShader) and stops the clock when the 3D model is on screen: the
viewer marked its first completed render (``data-render-seq``) *and* the GPU finished drawing it
(a one-pixel ``readPixels`` on the scene's WebGL context waits for that). With software WebGL
the drawing itself takes a good part of a second after ``Plotly.newPlot`` returns, so stopping
earlier (as this benchmark did before: graph data present and a canvas created) under-reports.
That older criterion is still printed as ``graph_data_s`` for comparison.

Also printed, from marks taken in the page (seconds since `streamlit run`):
``viewer_mounted_s`` (the viewer's element arrived and made its div), ``plotly_ready_s``
(plotly.min.js fetched and evaluated), ``newplot_s`` (duration of the 3D ``Plotly.newPlot``).

``wsopen_s`` / ``first_message_s`` (the page's websocket opened / its first message arrived),
``plotly_fetch_s`` (the browser started fetching the Plotly bundle), ``newplot_start_s``.

``wire_bytes`` is what the server sent until the paint, counted on the wire by a small TCP relay
between Chromium and the server (HTTP after any compression, the websocket after
permessage-deflate), ``wire_ws_bytes`` the websocket's part of it; ``wire_up_bytes`` what the
browser sent.

``--against REF`` measures a baseline in the same run: a temporary copy of the working tree
with the start-up and viewer files (:data:`BASELINE_FILES`, or ``--files``) taken from git ``REF``
(a file that did not exist at ``REF`` is removed from the copy); runs alternate between the two so
both see the same machine load, and the ratio of medians is printed.

    python benchmarks/first_paint.py [--runs 5] [--against HEAD] [--screenshots DIR]

Writes ``benchmarks/results/first_paint.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._common import free_port
from benchmarks.wire_proxy import WireProxy

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--use-angle=swiftshader", "--enable-unsafe-swiftshader"]
GRAPH = '[data-testid="lumbar-3d"]'
# Files (and folders: every file git has under them at REF) taken from REF for the baseline: what
# runs at server start (app.py and its start-up module, the page's resources, the model loader)
# and the viewer's Python. Note: Streamlit serves the components' JavaScript from the *installed*
# package's asset_dir (pip install -e .: this checkout's explorer/frontend/), so both sides run
# the current .js files; what differs is the Python (what is sent, and when, and what
# explorer/app.py puts in the page).
BASELINE_FILES = ("explorer/app.py", "explorer/ui/startup.py", "explorer/ui/first_load.py", "explorer/ui/resources.py",
                  "explorer/anatomy/model.py", "explorer/ui/viewer3d.py", "explorer/render/scene3d.py",
                  "explorer/render/model_scene.py", "explorer/frontend/")
TIMEOUT_MS = 180_000

# Marks in epoch milliseconds (same clock as time.time() in this process).
MARKS_JS = r"""
(() => {
  const T = (window.__firstPaint = {});
  const now = () => performance.timeOrigin + performance.now();
  const mark = (k) => { if (!(k in T)) T[k] = now(); };
  const NativeWS = window.WebSocket;
  window.WebSocket = function (...args) {
    const ws = new NativeWS(...args);
    ws.addEventListener("open", () => mark("wsOpen"));
    ws.addEventListener("message", () => mark("firstMessage"));
    return ws;
  };
  window.WebSocket.prototype = NativeWS.prototype;
  Object.assign(window.WebSocket, { CONNECTING: 0, OPEN: 1, CLOSING: 2, CLOSED: 3 });
  let P;
  Object.defineProperty(window, "Plotly", { configurable: true, get() { return P; }, set(v) {
    P = v; mark("plotly");
    const newPlot = v.newPlot;
    v.newPlot = async function (gd, ...rest) {
      const is3d = gd?.getAttribute?.("data-testid") === "lumbar-3d";
      const t = now();
      const r = await newPlot.call(this, gd, ...rest);
      if (is3d && !T.newPlotStart) { T.newPlotStart = t; T.newPlotEnd = now(); }
      return r;
    };
  } });
  new MutationObserver(() => {
    const gd = document.querySelector('[data-testid="lumbar-3d"]');
    if (!gd) return;
    mark("mounted");
    if ((gd.data || []).length > 20 && gd.querySelector("canvas")) mark("graphData");
    if (Number(gd.dataset.renderSeq || 0) >= 1 && !T.rendered) {
      mark("rendered");
      setTimeout(() => {
        try {
          const gl = gd._fullLayout.scene._scene.glplot.gl;
          gl.readPixels(0, 0, 1, 1, gl.RGBA, gl.UNSIGNED_BYTE, new Uint8Array(4));  // waits for the GPU
        } catch (e) { T.gpuError = String(e); }
        mark("painted");
        // When the browser started fetching the bundle and the viewer's module (resource timing).
        for (const e of performance.getEntriesByType("resource")) {
          const at = performance.timeOrigin + e.startTime;
          if (/plotly[^/]*\.js/.test(e.name)) T.plotlyFetch ??= at;
          if (e.name.includes("viewer3d.js")) T.viewerFetch ??= at;
        }
      }, 0);
    }
  }).observe(document, { subtree: true, childList: true, attributes: true, attributeFilter: ["data-render-seq"] });
})();
"""


def one_run(browser, root: Path, viewport: tuple[int, int], screenshot: Path | None = None,
            env: dict[str, str] | None = None) -> dict[str, float]:
    port = free_port()
    t0 = time.time()
    proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", "explorer/app.py", "--server.port", str(port),
                             "--server.address", "127.0.0.1", "--server.headless", "true"], cwd=root,
                            env={**os.environ, **(env or {})}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    relay = None
    try:
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=1):
                    break
            except OSError:
                if proc.poll() is not None:
                    raise RuntimeError(f"streamlit exited with {proc.returncode} in {root}") from None
                time.sleep(0.05)
        t_server = time.time() - t0
        relay = WireProxy(port)
        context = browser.new_context(viewport={"width": viewport[0], "height": viewport[1]})
        page = context.new_page()
        page.add_init_script(MARKS_JS)
        page.goto(f"http://127.0.0.1:{relay.port}")
        page.wait_for_function("() => window.__firstPaint && window.__firstPaint.painted", timeout=TIMEOUT_MS)
        wire_ws = relay.ws_bytes
        wire_down, wire_up = wire_ws + relay.http_bytes, relay.up_bytes
        marks = page.evaluate("() => window.__firstPaint")
        if screenshot is not None:
            page.wait_for_timeout(1500)  # the rest of the page settles (the chart, the texts)
            page.screenshot(path=str(screenshot))
        context.close()
    finally:
        if relay is not None:
            relay.close()
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()

    def since_start(key: str) -> float:
        return round((marks[key] - t0 * 1000) / 1000, 3) if key in marks else float("nan")

    return {
        "server_ready_s": round(t_server, 3),
        "wsopen_s": since_start("wsOpen"),
        "first_message_s": since_start("firstMessage"),
        "viewer_mounted_s": since_start("mounted"),
        "plotly_fetch_s": since_start("plotlyFetch"),
        "plotly_ready_s": since_start("plotly"),
        "newplot_start_s": since_start("newPlotStart"),
        "newplot_s": round((marks["newPlotEnd"] - marks["newPlotStart"]) / 1000, 3) if "newPlotEnd" in marks else float("nan"),
        "graph_data_s": since_start("graphData"),
        "first_3d_paint_s": since_start("painted"),
        "wire_bytes": float(wire_down),
        "wire_ws_bytes": float(wire_ws),
        "wire_up_bytes": float(wire_up),
    }


def _files_at(ref: str, paths: tuple[str, ...]) -> tuple[list[str], list[str]]:
    """``paths`` as files at git ``ref`` (a folder, ending in "/", stands for every file under it),
    and the listed files that do not exist at ``ref``."""
    out: list[str] = []
    absent: list[str] = []
    for rel in paths:
        if rel.endswith("/"):
            listed = subprocess.run(["git", "ls-tree", "-r", "--name-only", ref, rel], cwd=ROOT, check=True,
                                    capture_output=True, text=True).stdout.split()
            out += listed
        elif subprocess.run(["git", "cat-file", "-e", f"{ref}:{rel}"], check=False, cwd=ROOT,
                            capture_output=True).returncode == 0:
            out.append(rel)
        else:
            absent.append(rel)
    return out, absent


def baseline_tree(ref: str, files: tuple[str, ...] = BASELINE_FILES) -> Path:
    """A temporary copy of the working tree with ``files`` as they were at git ``ref``."""
    tmp = Path(tempfile.mkdtemp(prefix="first-paint-baseline-"))
    ignore = shutil.ignore_patterns(".git", "node_modules", "test-artifacts", "__pycache__", ".pytest_cache", "results")
    shutil.copytree(ROOT, tmp / "app", ignore=ignore)
    present, absent = _files_at(ref, files)
    for rel in present:
        text = subprocess.run(["git", "show", f"{ref}:{rel}"], cwd=ROOT, check=True, capture_output=True).stdout
        (tmp / "app" / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp / "app" / rel).write_bytes(text)
    for rel in absent:
        (tmp / "app" / rel).unlink(missing_ok=True)
    return tmp / "app"


def summarise(runs: list[dict[str, float]]) -> dict[str, dict[str, float]]:
    out = {}
    for key in runs[0]:
        values = [r[key] for r in runs if r[key] == r[key]]  # drop NaN
        if values:
            out[key] = {"min": min(values), "median": statistics.median(values), "max": max(values)}
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--against", metavar="REF", help="also measure the start-up files of git REF, interleaved")
    parser.add_argument("--files", nargs="+", metavar="PATH", default=list(BASELINE_FILES),
                        help="files (folders end in /) taken from REF for the baseline")
    parser.add_argument("--variant", action="append", default=[], metavar="NAME:KEY=VALUE[,KEY=VALUE]",
                        help="also measure this tree with these environment variables, interleaved")
    parser.add_argument("--viewport", default="1600x1000", help="browser window, WIDTHxHEIGHT")
    parser.add_argument("--screenshots", type=Path, metavar="DIR",
                        help="save a screenshot of each side's first run (1.5 s after the paint)")
    args = parser.parse_args()
    if args.runs < 1:
        parser.error(f"--runs must be at least 1, got {args.runs}")
    try:
        width, height = (int(v) for v in args.viewport.lower().split("x"))
    except ValueError:
        parser.error(f"--viewport must be WIDTHxHEIGHT, got {args.viewport[:40]!r}")
    chromium = CHROMIUM if Path(CHROMIUM).exists() else shutil.which("chromium")
    if not chromium:
        sys.exit(f"Chromium not found at {CHROMIUM}: apt-get update && apt-get install -y chromium")
    from playwright.sync_api import sync_playwright

    roots = {"current": ROOT}
    envs: dict[str, dict[str, str]] = {}
    for spec in args.variant:
        name, _, pairs = spec.partition(":")
        roots[name] = ROOT
        envs[name] = dict(p.split("=", 1) for p in pairs.split(",") if "=" in p)
    if args.against:
        roots[f"baseline ({args.against})"] = baseline_tree(args.against, tuple(args.files))
    if args.screenshots:
        args.screenshots.mkdir(parents=True, exist_ok=True)
    results: dict[str, list[dict[str, float]]] = {name: [] for name in roots}
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
            for i in range(args.runs):
                for name, root in roots.items():
                    shot = (args.screenshots / f"first-paint-{name.split()[0]}-{width}x{height}.png"
                            if args.screenshots and i == 0 else None)
                    r = one_run(browser, root, (width, height), shot, envs.get(name))
                    results[name].append(r)
                    print(f"run {i + 1} {name:<18} " + "  ".join(
                        f"{k} {v / 1e6:.2f}MB" if k.endswith("bytes") else f"{k} {v:.2f}" for k, v in r.items()),
                        flush=True)
            browser.close()
    finally:
        for root in roots.values():
            if root != ROOT and root.parent.name.startswith("first-paint-baseline-"):
                shutil.rmtree(root.parent, ignore_errors=True)
    summary = {name: summarise(runs) for name, runs in results.items()}
    for name, stats in summary.items():
        print(f"\n{name}")
        for key, s in stats.items():
            if key.endswith("bytes"):
                print(f"  {key:<18} min {s['min'] / 1e6:6.2f}  median {s['median'] / 1e6:6.2f}  max {s['max'] / 1e6:6.2f} MB")
            else:
                print(f"  {key:<18} min {s['min']:6.2f}  median {s['median']:6.2f}  max {s['max']:6.2f} s")
    if args.against:
        base = summary[f"baseline ({args.against})"]
        cur = summary["current"]
        for key in ("first_3d_paint_s", "viewer_mounted_s", "wire_bytes"):
            if key in base and key in cur:
                print(f"{key} median: current / baseline = {cur[key]['median'] / base[key]['median']:.2f}")
    out = ROOT / "benchmarks" / "results"
    out.mkdir(exist_ok=True)
    (out / "first_paint.json").write_text(json.dumps({
        "date": datetime.now(UTC).isoformat(), "machine": platform.platform(), "cpus": os.cpu_count(),
        "load_average": os.getloadavg(), "against": args.against, "viewport": [width, height],
        "runs": results, "summary": summary}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())

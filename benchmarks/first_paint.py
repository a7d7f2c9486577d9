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

``--via nginx`` measures the documented deployment instead of a plain ``streamlit run``: the
same server behind Debian's nginx configured by the measured tree's own ``deploy/nginx.conf``
(rendered as ``benchmarks/replicas.py`` does: only the replica address and the listen port
change), with the relay between Chromium and nginx. Like the image's build step, the current tree
gets Brotli copies of Streamlit's files (``python -m explorer.ui.brotli_copies`` into a temporary
folder, or ``--brotli-dir DIR`` made before) when the tree has that module.

Every run also lists the requests the page made until the paint (``requests``: path, status,
content encoding, bytes of the response on the wire as Chromium counts them: body as sent plus
headers), and the summary prints the largest and a total per kind (Streamlit's scripts and
styles, fonts, Plotly, the components, other).

``--against REF`` measures a baseline in the same run: a temporary copy of the working tree
with the start-up and viewer files (:data:`BASELINE_FILES`, or ``--files``) taken from git ``REF``
(a file that did not exist at ``REF`` is removed from the copy); runs alternate between the two so
both see the same machine load, and the ratio of medians is printed.

    python benchmarks/first_paint.py [--runs 5] [--against HEAD] [--screenshots DIR]

Writes ``benchmarks/results/first_paint.json`` (``first_paint-nginx.json`` with ``--via nginx``).
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
import urllib.parse
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

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
# The first load's files too: the middleware and what it sends (explorer/static/, the icon font, the
# Brotli copies) and the proxy's configuration.
BASELINE_FILES = ("explorer/app.py", "explorer/ui/startup.py", "explorer/ui/first_load.py", "explorer/ui/resources.py",
                  "explorer/anatomy/model.py", "explorer/ui/viewer3d.py", "explorer/render/scene3d.py",
                  "explorer/render/model_scene.py", "explorer/frontend/", "explorer/ui/icon_font.py",
                  "explorer/ui/brotli_copies.py", "explorer/static/", "deploy/nginx.conf")
TIMEOUT_MS = 180_000

# Marks in epoch milliseconds (same clock as time.time() in this process).
MARKS_JS = r"""
(() => {
  const T = (window.__firstPaint = {});
  const now = () => performance.timeOrigin + performance.now();
  // Main-thread time in long tasks (> 50 ms: script evaluation, layout, React renders, newPlot) so
  // far, stored with each mark as busy_<mark>: how much of a phase was the browser's own work.
  let busy = 0;
  try {
    new PerformanceObserver((list) => { for (const e of list.getEntries()) busy += e.duration; })
      .observe({ type: "longtask", buffered: true });
  } catch (e) { T.longtaskError = String(e); }
  const mark = (k) => { if (!(k in T)) { T[k] = now(); T["busy_" + k] = busy; } };
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
        const nav = performance.getEntriesByType("navigation")[0];
        if (nav) {
          T.navStart = performance.timeOrigin;
          T.pageResponse = performance.timeOrigin + nav.responseEnd;
          T.domContentLoaded = performance.timeOrigin + nav.domContentLoadedEventEnd;
        }
        let ttfb = 0, ttfbMax = 0, n = 0, lastEnd = 0;
        for (const e of performance.getEntriesByType("resource")) {
          const at = performance.timeOrigin + e.startTime;
          if (/plotly[^/]*\.js/.test(e.name)) T.plotlyFetch ??= at;
          if (e.name.includes("viewer3d.js")) T.viewerFetch ??= at;
          // What the page fetched before its websocket opened: how long the server took to answer.
          if (T.wsOpen && at < T.wsOpen && e.responseStart > 0) {
            const wait = e.responseStart - e.requestStart;
            ttfb += wait; ttfbMax = Math.max(ttfbMax, wait); n += 1;
            lastEnd = Math.max(lastEnd, performance.timeOrigin + e.responseEnd);
          }
        }
        T.preWsRequests = n; T.preWsServerWaitSum = ttfb; T.preWsServerWaitMax = ttfbMax; T.preWsLastResponse = lastEnd;
      }, 0);
    }
  }).observe(document, { subtree: true, childList: true, attributes: true, attributeFilter: ["data-render-seq"] });
})();
"""


def _nginx_front(root: Path, port: int) -> tuple[subprocess.Popen[bytes], Path, int]:
    """Debian's nginx with ``root``'s ``deploy/nginx.conf`` in front of the server on ``port``."""
    from benchmarks.replicas import nginx_binary, render_nginx_conf

    binary = nginx_binary()
    if binary is None:
        sys.exit("Debian's nginx is not installed: apt-get install nginx")
    tmp = Path(tempfile.mkdtemp(prefix="first-paint-nginx-"))
    front = free_port()
    conf = tmp / "nginx.conf"
    conf.write_text(render_nginx_conf((root / "deploy" / "nginx.conf").read_text(), [f"127.0.0.1:{port}"], front, tmp))
    proc = subprocess.Popen([binary, "-c", str(conf), "-p", str(tmp)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{front}/_stcore/health", timeout=1):
                return proc, tmp, front
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                raise RuntimeError(f"nginx did not start; see {tmp}") from None
            time.sleep(0.05)


def _kind(path: str) -> str:
    """What a request was for (the summary's totals)."""
    if "plotly" in path:
        return "plotly"
    if path.endswith((".woff2", ".woff", ".ttf")):
        return "fonts"
    if path.startswith("/static/"):
        return "streamlit scripts+styles"
    if path.startswith("/_stcore/bidi-components/"):
        return "components"
    return "other"


def one_run(browser, root: Path, viewport: tuple[int, int], screenshot: Path | None = None,
            env: dict[str, str] | None = None, via: str = "streamlit", app: str = "explorer/app.py") -> dict[str, Any]:
    port = free_port()
    t0 = time.time()
    proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", app, "--server.port", str(port),
                             "--server.address", "127.0.0.1", "--server.headless", "true"], cwd=root,
                            env={**os.environ, **(env or {})}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    relay = None
    nginx: subprocess.Popen[bytes] | None = None
    nginx_tmp: Path | None = None
    requests: list[dict[str, Any]] = []
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
        target = port
        if via == "nginx":
            nginx, nginx_tmp, target = _nginx_front(root, port)
        relay = WireProxy(target)
        context = browser.new_context(viewport={"width": viewport[0], "height": viewport[1]})
        page = context.new_page()
        page.add_init_script(MARKS_JS)
        painted = False

        def finished(request: Any) -> None:
            if painted:
                return
            try:
                sizes = request.sizes()
                response = request.response()
            except Exception:  # noqa: BLE001 - a request that vanished with the page: not listed
                return
            path = urllib.parse.urlsplit(request.url).path
            requests.append({"path": path, "status": response.status if response else 0,
                             "encoding": (response.headers.get("content-encoding", "") if response else ""),
                             "bytes": int(sizes["responseBodySize"]) + int(sizes["responseHeadersSize"]),
                             "kind": _kind(path)})

        page.on("requestfinished", finished)
        page.goto(f"http://127.0.0.1:{relay.port}")
        page.wait_for_function("() => window.__firstPaint && window.__firstPaint.painted", timeout=TIMEOUT_MS)
        painted = True
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
        if nginx is not None:
            nginx.terminate()
            try:
                nginx.wait(timeout=15)
            except subprocess.TimeoutExpired:
                nginx.kill()
        if nginx_tmp is not None:
            shutil.rmtree(nginx_tmp, ignore_errors=True)
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()

    def since_start(key: str) -> float:
        return round((marks[key] - t0 * 1000) / 1000, 3) if key in marks else float("nan")

    def busy(key: str) -> float:
        return round(marks[f"busy_{key}"] / 1000, 3) if f"busy_{key}" in marks else float("nan")

    return {
        "server_ready_s": round(t_server, 3),
        "nav_start_s": since_start("navStart"),
        "page_response_s": since_start("pageResponse"),
        "dom_content_loaded_s": since_start("domContentLoaded"),
        # Before the websocket opened: the requests' server waits (request sent -> first byte),
        # summed and the longest, and when the last of their responses ended.
        "pre_ws_requests": float(marks.get("preWsRequests", float("nan"))),
        "pre_ws_server_wait_sum_s": round(marks.get("preWsServerWaitSum", float("nan")) / 1000, 3),
        "pre_ws_server_wait_max_s": round(marks.get("preWsServerWaitMax", float("nan")) / 1000, 3),
        "pre_ws_last_response_s": since_start("preWsLastResponse"),
        "wsopen_s": since_start("wsOpen"),
        "first_message_s": since_start("firstMessage"),
        "viewer_mounted_s": since_start("mounted"),
        "plotly_fetch_s": since_start("plotlyFetch"),
        "plotly_ready_s": since_start("plotly"),
        "newplot_start_s": since_start("newPlotStart"),
        "newplot_s": round((marks["newPlotEnd"] - marks["newPlotStart"]) / 1000, 3) if "newPlotEnd" in marks else float("nan"),
        "graph_data_s": since_start("graphData"),
        "first_3d_paint_s": since_start("painted"),
        # Seconds of the page's main thread in long tasks before each of these marks.
        "busy_wsopen_s": busy("wsOpen"),
        "busy_mounted_s": busy("mounted"),
        "busy_plotly_ready_s": busy("plotly"),
        "busy_painted_s": busy("painted"),
        "wire_bytes": float(wire_down),
        "wire_ws_bytes": float(wire_ws),
        "wire_up_bytes": float(wire_up),
        "requests": requests,
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
            # Files the working tree has there that REF did not have are not part of the baseline.
            absent += [p.relative_to(ROOT).as_posix() for p in sorted((ROOT / rel).rglob("*"))
                       if p.is_file() and "__pycache__" not in p.parts and p.relative_to(ROOT).as_posix() not in listed]
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


def summarise(runs: list[dict[str, Any]]) -> dict[str, dict[str, float]]:
    out = {}
    for key in runs[0]:
        if key == "requests":
            continue
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
                        help="also measure this tree with these environment variables, interleaved "
                             "(APP=path starts that script instead: floor:APP=benchmarks/floor_app.py)")
    parser.add_argument("--via", choices=("streamlit", "nginx"), default="streamlit",
                        help="the browser talks to `streamlit run` directly, or through deploy/nginx.conf")
    parser.add_argument("--brotli-dir", type=Path, metavar="DIR",
                        help="with --via nginx: Brotli copies made before for the current tree (else made now)")
    parser.add_argument("--viewport", default="1600x1000", help="browser window, WIDTHxHEIGHT")
    parser.add_argument("--app", default="explorer/app.py",
                        help="script to start (benchmarks/floor_app.py: Streamlit and the 3D viewer with the model only)")
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
    copies_tmp: list[Path] = []
    if args.via == "nginx":
        # As the image's build step does, for each tree that has the tool (not a baseline without it).
        for name, root in roots.items():
            if not (root / "explorer" / "ui" / "brotli_copies.py").is_file():
                continue
            folder = args.brotli_dir if (args.brotli_dir and root == ROOT) else None
            if folder is None:
                folder = Path(tempfile.mkdtemp(prefix="first-paint-brotli-"))
                copies_tmp.append(folder)
                print(f"{name}: making Brotli copies of Streamlit's files in {folder} ...", flush=True)
                subprocess.run([sys.executable, "-m", "explorer.ui.brotli_copies", "--out", str(folder)], cwd=root,
                               check=True)
            envs[name] = {**envs.get(name, {}), "LUMBAR_BROTLI_DIR": str(folder)}
    if args.screenshots:
        args.screenshots.mkdir(parents=True, exist_ok=True)
    results: dict[str, list[dict[str, Any]]] = {name: [] for name in roots}
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
            for i in range(args.runs):
                for name, root in roots.items():
                    shot = (args.screenshots / f"first-paint-{name.split()[0]}-{width}x{height}.png"
                            if args.screenshots and i == 0 else None)
                    env = dict(envs.get(name, {}))
                    app = env.pop("APP", args.app)  # a variant may start another script: NAME:APP=path
                    r = one_run(browser, root, (width, height), shot, env, via=args.via, app=app)
                    results[name].append(r)
                    print(f"run {i + 1} {name:<18} " + "  ".join(
                        f"{k} {v / 1e6:.2f}MB" if k.endswith("bytes") else f"{k} {v:.2f}" for k, v in r.items()
                        if k != "requests"), flush=True)
            browser.close()
    finally:
        for root in roots.values():
            if root != ROOT and root.parent.name.startswith("first-paint-baseline-"):
                shutil.rmtree(root.parent, ignore_errors=True)
        for folder in copies_tmp:
            shutil.rmtree(folder, ignore_errors=True)
    summary = {name: summarise(runs) for name, runs in results.items()}
    for name, stats in summary.items():
        print(f"\n{name}")
        for key, s in stats.items():
            if key.endswith("bytes"):
                print(f"  {key:<18} min {s['min'] / 1e6:6.2f}  median {s['median'] / 1e6:6.2f}  max {s['max'] / 1e6:6.2f} MB")
            else:
                print(f"  {key:<18} min {s['min']:6.2f}  median {s['median']:6.2f}  max {s['max']:6.2f} s")
    for name, runs in results.items():
        reqs = runs[0]["requests"]
        kinds: dict[str, int] = {}
        for r in reqs:
            kinds[r["kind"]] = kinds.get(r["kind"], 0) + r["bytes"]
        print(f"\n{name}, run 1: {len(reqs)} requests until the paint, {sum(r['bytes'] for r in reqs) / 1e6:.3f} MB "
              "(Chromium's count: bodies as sent + headers)")
        for kind, n in sorted(kinds.items(), key=lambda kv: -kv[1]):
            print(f"  {kind:<26} {n / 1e3:9.1f} kB")
        for r in sorted(reqs, key=lambda r: -r["bytes"])[:8]:
            print(f"  {r['bytes'] / 1e3:9.1f} kB  {r['status']} {r['encoding'] or '-':<5} {r['path'][:90]}")
    if args.against:
        base = summary[f"baseline ({args.against})"]
        cur = summary["current"]
        for key in ("first_3d_paint_s", "viewer_mounted_s", "wire_bytes"):
            if key in base and key in cur:
                print(f"{key} median: current / baseline = {cur[key]['median'] / base[key]['median']:.2f}")
    out = ROOT / "benchmarks" / "results"
    out.mkdir(exist_ok=True)
    for runs in results.values():  # the request lists of the first run of each side are enough
        for r in runs[1:]:
            r.pop("requests", None)
    name = "first_paint.json" if args.via == "streamlit" else f"first_paint-{args.via}.json"
    (out / name).write_text(json.dumps({
        "date": datetime.now(UTC).isoformat(), "machine": platform.platform(), "cpus": os.cpu_count(),
        "load_average": os.getloadavg(), "against": args.against, "via": args.via, "viewport": [width, height],
        "runs": results, "summary": summary}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())

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

``--against REF`` measures a baseline in the same run: a temporary copy of the working tree
with the viewer's files (explorer/ui/viewer3d.py, explorer/render/scene3d.py,
explorer/render/model_scene.py) taken from git ``REF``; runs alternate between the two so both
see the same machine load, and the ratio of medians is printed.

    python benchmarks/first_paint.py [--runs 5] [--against HEAD]

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

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--use-angle=swiftshader", "--enable-unsafe-swiftshader"]
GRAPH = '[data-testid="lumbar-3d"]'
# Files (and folders: every file git has under them at REF) taken from REF for the baseline.
# explorer/app.py: it starts loading the viewer and Plotly before the heavy imports (preload_viewer).
# Note: Streamlit serves the components' JavaScript from the *installed* package's asset_dir
# (pip install -e .: this checkout's explorer/frontend/), so both sides run the current .js files;
# what differs is the Python (what is sent, and when).
VIEWER_FILES = ("explorer/app.py", "explorer/ui/viewer3d.py", "explorer/render/scene3d.py",
                "explorer/render/model_scene.py", "explorer/frontend/")
TIMEOUT_MS = 180_000

# Marks in epoch milliseconds (same clock as time.time() in this process).
MARKS_JS = r"""
(() => {
  const T = (window.__firstPaint = {});
  const now = () => performance.timeOrigin + performance.now();
  const mark = (k) => { if (!(k in T)) T[k] = now(); };
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
      }, 0);
    }
  }).observe(document, { subtree: true, childList: true, attributes: true, attributeFilter: ["data-render-seq"] });
})();
"""


def one_run(browser, root: Path) -> dict[str, float]:
    port = free_port()
    t0 = time.time()
    proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", "explorer/app.py", "--server.port", str(port),
                             "--server.address", "127.0.0.1", "--server.headless", "true"], cwd=root,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        url = f"http://127.0.0.1:{port}"
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=1):
                    break
            except OSError:
                if proc.poll() is not None:
                    raise RuntimeError(f"streamlit exited with {proc.returncode} in {root}") from None
                time.sleep(0.05)
        t_server = time.time() - t0
        context = browser.new_context(viewport={"width": 1600, "height": 1000})
        page = context.new_page()
        page.add_init_script(MARKS_JS)
        page.goto(url)
        page.wait_for_function("() => window.__firstPaint && window.__firstPaint.painted", timeout=TIMEOUT_MS)
        marks = page.evaluate("() => window.__firstPaint")
        context.close()
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()

    def since_start(key: str) -> float:
        return round((marks[key] - t0 * 1000) / 1000, 3) if key in marks else float("nan")

    return {
        "server_ready_s": round(t_server, 3),
        "viewer_mounted_s": since_start("mounted"),
        "plotly_ready_s": since_start("plotly"),
        "newplot_s": round((marks["newPlotEnd"] - marks["newPlotStart"]) / 1000, 3) if "newPlotEnd" in marks else float("nan"),
        "graph_data_s": since_start("graphData"),
        "first_3d_paint_s": since_start("painted"),
    }


def _files_at(ref: str, paths: tuple[str, ...]) -> list[str]:
    """``paths`` as files at git ``ref``: a folder (ending in "/") stands for every file under it."""
    out: list[str] = []
    for rel in paths:
        if rel.endswith("/"):
            listed = subprocess.run(["git", "ls-tree", "-r", "--name-only", ref, rel], cwd=ROOT, check=True,
                                    capture_output=True, text=True).stdout.split()
            out += listed
        else:
            out.append(rel)
    return out


def baseline_tree(ref: str) -> Path:
    """A temporary copy of the working tree with the viewer's files from git ``ref``."""
    tmp = Path(tempfile.mkdtemp(prefix="first-paint-baseline-"))
    ignore = shutil.ignore_patterns(".git", "node_modules", "test-artifacts", "__pycache__", ".pytest_cache", "results")
    shutil.copytree(ROOT, tmp / "app", ignore=ignore)
    for rel in _files_at(ref, VIEWER_FILES):
        text = subprocess.run(["git", "show", f"{ref}:{rel}"], cwd=ROOT, check=True, capture_output=True).stdout
        (tmp / "app" / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp / "app" / rel).write_bytes(text)
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
    parser.add_argument("--against", metavar="REF", help="also measure the viewer files of git REF, interleaved")
    args = parser.parse_args()
    if args.runs < 1:
        parser.error(f"--runs must be at least 1, got {args.runs}")
    chromium = CHROMIUM if Path(CHROMIUM).exists() else shutil.which("chromium")
    if not chromium:
        sys.exit(f"Chromium not found at {CHROMIUM}: apt-get update && apt-get install -y chromium")
    from playwright.sync_api import sync_playwright

    roots = {"current": ROOT}
    if args.against:
        roots[f"baseline ({args.against})"] = baseline_tree(args.against)
    results: dict[str, list[dict[str, float]]] = {name: [] for name in roots}
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
            for i in range(args.runs):
                for name, root in roots.items():
                    r = one_run(browser, root)
                    results[name].append(r)
                    print(f"run {i + 1} {name:<18} " + "  ".join(f"{k} {v:.2f}" for k, v in r.items()), flush=True)
            browser.close()
    finally:
        for root in roots.values():
            if root != ROOT:
                shutil.rmtree(root.parent, ignore_errors=True)
    summary = {name: summarise(runs) for name, runs in results.items()}
    for name, stats in summary.items():
        print(f"\n{name}")
        for key, s in stats.items():
            print(f"  {key:<18} min {s['min']:6.2f}  median {s['median']:6.2f}  max {s['max']:6.2f} s")
    if args.against:
        base = summary[f"baseline ({args.against})"]["first_3d_paint_s"]["median"]
        cur = summary["current"]["first_3d_paint_s"]["median"]
        print(f"\nfirst_3d_paint_s median: current / baseline = {cur / base:.2f}")
    out = ROOT / "benchmarks" / "results"
    out.mkdir(exist_ok=True)
    (out / "first_paint.json").write_text(json.dumps({
        "date": datetime.now(UTC).isoformat(), "machine": platform.platform(), "cpus": os.cpu_count(),
        "load_average": os.getloadavg(), "against": args.against, "runs": results, "summary": summary}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Cold start: time from `streamlit run explorer/app.py` to the first painted 3D model.

Runs the app exactly as the README does on a free loopback port, opens it in headless Debian
Chromium, and stops the clock when the Plotly graph holds the model's traces and has drawn its
WebGL canvas. Repeats a few times and prints min / median / max; writes JSON next to this file.

    python benchmarks/first_paint.py [--runs 3]
"""

from __future__ import annotations

import argparse
import json
import platform
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--use-angle=swiftshader", "--enable-unsafe-swiftshader"]
GRAPH = '[data-testid="lumbar-3d"]'


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def one_run(browser) -> dict[str, float]:
    port = _free_port()
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", "explorer/app.py", "--server.port", str(port),
                             "--server.headless", "true"], cwd=ROOT, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        url = f"http://127.0.0.1:{port}"
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=1):
                    break
            except OSError:
                time.sleep(0.05)
        t_server = time.perf_counter() - t0
        page = browser.new_page(viewport={"width": 1600, "height": 1000})
        page.goto(url)
        page.wait_for_function(f"() => (document.querySelector('{GRAPH}')?.data || []).length > 20 "
                               f"&& document.querySelector('{GRAPH} canvas')", timeout=120_000)
        t_paint = time.perf_counter() - t0
        page.close()
        return {"server_ready_s": t_server, "first_3d_paint_s": t_paint}
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    if args.runs < 1:
        parser.error(f"--runs must be at least 1, got {args.runs}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        runs = [one_run(browser) for _ in range(args.runs)]
        browser.close()
    summary = {}
    for key in runs[0]:
        values = [r[key] for r in runs]
        summary[key] = {"min": min(values), "median": statistics.median(values), "max": max(values)}
        print(f"{key:<18} min {min(values):6.2f}  median {statistics.median(values):6.2f}  max {max(values):6.2f} s")
    out = ROOT / "benchmarks" / "results"
    out.mkdir(exist_ok=True)
    (out / "first_paint.json").write_text(json.dumps({
        "date": datetime.now(timezone.utc).isoformat(), "machine": platform.platform(),
        "cpus": __import__("os").cpu_count(), "runs": runs, "summary": summary}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())

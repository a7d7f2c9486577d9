"""Helpers shared by the benchmarks: a real `streamlit run` server, Chromium, memory, machine info.

The server is started exactly as the README does (``streamlit run <app>``) on a free loopback
port; the browser is Debian's Chromium with software WebGL (SwiftShader), as in the e2e tests.
Memory is read from /proc (no extra dependency).
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--use-angle=swiftshader", "--enable-unsafe-swiftshader"]
# Chromium's own choice on a machine without a GPU, which is what a visitor's browser does there
# (chrome://gpu: rasterization and compositing "Software only", WebGL "Software only" through
# SwiftShader). CHROMIUM_ARGS instead makes SwiftShader the GPU for everything: the page's own
# raster and compositing then run in the GPU process too, in turn with the 3D view's WebGL frame.
CHROMIUM_NO_GPU_ARGS = [a for a in CHROMIUM_ARGS if a not in ("--use-angle=swiftshader", "--enable-unsafe-swiftshader")]
# A lighter client for crowd tests: no WebGL at all, so the 3D viewer shows its text fallback
# while the server still runs every rerun and sends every figure.
NO_WEBGL_ARGS = ["--headless", "--no-sandbox", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--disable-gpu", "--disable-webgl", "--disable-3d-apis"]
GRAPH = '[data-testid="lumbar-3d"]'
BODY_CHART = '[data-testid="body-chart"]'


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def chromium_path() -> str:
    """Debian's Chromium, or exit with the install command."""
    if Path(CHROMIUM).exists():
        return CHROMIUM
    found = shutil.which("chromium")
    if found:
        return found
    sys.exit(f"Chromium not found at {CHROMIUM}: apt-get update && apt-get install -y chromium")


class Server:
    """``python -m streamlit run <app>`` on a free loopback port (the README's command).

    ``t0`` is taken just before the process is spawned, so ``time.perf_counter() - t0`` is the
    time since `streamlit run` was typed.
    """

    # No file watcher, as in a deployment: with Streamlit's default ("auto"), an edit anywhere in
    # explorer/ while the benchmark runs (a shared checkout) unloads the app's modules under the
    # running sessions, which then fail with KeyError: 'explorer' on import.
    EXTRA_ARGS: tuple[str, ...] = ("--server.fileWatcherType", "none")

    def __init__(self, app: str = "explorer/app.py", log_path: Path | None = None, *, root: Path | None = None,
                 env: Mapping[str, str] | None = None) -> None:
        """``root``: the source tree to run (default: this checkout); ``env``: variables added to
        the server's environment (chart_switch.py runs two trees side by side with these)."""
        self.app = app
        self.root = root or ROOT
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        if log_path:  # results/logs/ is not in git: a fresh clone has no such folder
            log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = log_path.open("w") if log_path else subprocess.DEVNULL
        self.t0 = time.perf_counter()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", app, "--server.port", str(self.port),
             "--server.address", "127.0.0.1", "--server.headless", "true", *self.EXTRA_ARGS],
            cwd=self.root, env={**os.environ, **env} if env else None, stdout=self._log, stderr=subprocess.STDOUT,
        )

    def wait_ready(self, timeout_s: float = 120.0) -> float:
        """Block until /_stcore/health answers; returns seconds since spawn."""
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                with urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=1) as r:
                    if r.status == 200:
                        return time.perf_counter() - self.t0
            except OSError:
                pass
            if self.proc.poll() is not None:
                raise RuntimeError(f"streamlit run {self.app} exited with {self.proc.returncode}"
                                   + (f"; see {self.log_path}" if self.log_path else ""))
            if time.monotonic() > deadline:
                raise RuntimeError(f"streamlit run {self.app} not ready after {timeout_s:.0f} s")
            time.sleep(0.02)

    def wait_warmed_up(self, timeout_s: float = 180.0) -> float | None:
        """Block until the app's start-up warm-up has finished its later steps (each condition's
        impact and shared meshes, explorer/ui/startup.py: about 10-45 s of CPU after the first page
        run), so what is measured next is the steady state a class meets (the server started before
        the students), not the warm-up competing for the 2 cores. Seconds waited, or None when the
        server keeps no log or the line did not come in time (then the run goes on regardless)."""
        if self.log_path is None:
            return None
        start = time.monotonic()
        while time.monotonic() - start < timeout_s:
            text = self.log_path.read_text(errors="replace")
            if any("Warm-up done" in line and "first page run served" in line for line in text.splitlines()):
                return time.monotonic() - start
            if self.proc.poll() is not None:
                return None
            time.sleep(0.5)
        return None

    def rss_bytes(self) -> int:
        """Resident memory of the server process and all its descendants."""
        return tree_rss_bytes(self.proc.pid)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        if not isinstance(self._log, int):  # an open log file, not subprocess.DEVNULL
            self._log.close()

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def children(pid: int) -> list[int]:
    kids: list[int] = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with contextlib.suppress(OSError):
                kids += [int(x) for x in Path(f"/proc/{pid}/task/{task}/children").read_text().split()]
    except OSError:
        pass
    return kids


def tree_rss_bytes(pid: int) -> int:
    """VmRSS of ``pid`` plus every descendant, from /proc (0 for processes that are gone)."""
    total, todo, seen = 0, [pid], set()
    while todo:
        p = todo.pop()
        if p in seen:
            continue
        seen.add(p)
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) * 1024
                    break
        except OSError:
            continue
        todo += children(p)
    return total


def _first_line(cmd: list[str]) -> str:
    try:
        out = subprocess.run(cmd, check=False, capture_output=True, text=True, timeout=30, cwd=ROOT).stdout.strip()
        return out.splitlines()[0] if out else ""
    except (OSError, subprocess.SubprocessError):
        return ""


def _lines(cmd: list[str]) -> list[str]:
    try:
        out = subprocess.run(cmd, check=False, capture_output=True, text=True, timeout=30, cwd=ROOT).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    return [line.strip() for line in out.splitlines() if line.strip()]


def machine_info() -> dict[str, Any]:
    """What the numbers were measured on (the machine may be shared: load average included)."""
    cpu_model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_total = 0
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_total = int(line.split()[1]) * 1024
    except OSError:
        pass

    def version(mod: str) -> str:
        try:
            from importlib.metadata import version as v
            return v(mod)
        except Exception:  # noqa: BLE001 - informational only
            return "?"

    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cpu_model": cpu_model,
        "cpus": os.cpu_count(),
        "memory_gib": round(mem_total / 2**30, 1),
        "load_average_at_start": list(os.getloadavg()),
        "chromium": _first_line([chromium_path(), "--version"]) if Path(CHROMIUM).exists() or shutil.which("chromium") else "",
        "webgl": "SwiftShader (software)",
        "streamlit": version("streamlit"),
        "plotly": version("plotly"),
        "playwright": version("playwright"),
        "git_commit": _first_line(["git", "rev-parse", "--short", "HEAD"]),
        # Tracked files changed since that commit: the run measured them as they were.
        "git_modified": _lines(["git", "status", "--porcelain", "--untracked-files=no"]),
    }


def percentile(values: list[float], q: float) -> float:
    """Linear-interpolated percentile (numpy's default), q in [0, 100]."""
    if not values:
        return float("nan")
    s = sorted(values)
    k = (len(s) - 1) * q / 100.0
    lo, hi = int(k), min(int(k) + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (k - lo)


def write_json(path: Path, payload: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, indent=1, default=str))


# Counts the bytes the page hands to WebGL (buffer and texture uploads), in every WebGL context,
# so a benchmark or a test can read how much one change uploads: window.__glUpload = {bytes,
# calls, byCall: {bufferData: bytes, ...}}. Installed as an init script (before any page script),
# never by the app. A size-only bufferData (allocation without data) and a texImage2D without
# pixels count 0 bytes: nothing is copied to the GPU.
WEBGL_UPLOAD_COUNTER_JS = """
(() => {
  const U = (window.__glUpload = {bytes: 0, calls: 0, byCall: {}});
  const size = (name, args) => {
    if (name === 'bufferData') {
      const d = args[1];
      return (d && typeof d === 'object' && 'byteLength' in d) ? d.byteLength : 0;
    }
    if (name === 'bufferSubData') {
      const d = args[2];
      const len = args.length > 4 ? args[4] * (d.BYTES_PER_ELEMENT || 1) : null;
      return len || (d && d.byteLength) || 0;
    }
    // texImage2D/texSubImage2D: the last argument is the pixels (a typed array, or an image,
    // canvas or ImageData, counted as 4 bytes a pixel).
    const src = args[args.length - 1];
    if (src == null || typeof src === 'number') return 0;
    if ('byteLength' in src) return src.byteLength;
    const w = src.width || src.videoWidth || 0, h = src.height || src.videoHeight || 0;
    return 4 * w * h;
  };
  for (const Ctx of [window.WebGLRenderingContext, window.WebGL2RenderingContext]) {
    if (!Ctx) continue;
    for (const name of ['bufferData', 'bufferSubData', 'texImage2D', 'texSubImage2D']) {
      const original = Ctx.prototype[name];
      if (typeof original !== 'function') continue;
      Ctx.prototype[name] = function (...args) {
        let n = 0;
        try { n = size(name, args); } catch (e) { n = 0; }
        U.bytes += n;
        U.calls += 1;
        U.byCall[name] = (U.byCall[name] || 0) + n;
        return original.apply(this, args);
      };
    }
  }
})();
"""

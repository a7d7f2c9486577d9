"""One whole WebGL frame of the 3D view, read back from the page, two such frames compared, and
how long a frame takes the GPU.

Shared by benchmarks/frame_cost.py, benchmarks/see_through_cost.py and the e2e tests that compare
frames (a public module, so the tests need not reach into the benchmarks' private ``_common``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from benchmarks._common import GRAPH

# True once the 3D view has drawn its first figure.
DRAWN_JS = f"() => Number(document.querySelector('{GRAPH}')?.dataset.renderSeq || 0) >= 1"


async def open_settled(page: Any, url: str) -> None:
    """Open ``url`` (async Playwright ``page``) and wait until the 3D view has drawn, the script run
    is over and the story camera's last frames and the deferred work are done: a frame to time."""
    from benchmarks.run import _wait_idle  # here, not at the top: the e2e tests import this module without run.py

    await page.goto(url, timeout=120_000)
    await page.wait_for_function(DRAWN_JS, timeout=120_000, polling=100)
    await _wait_idle(page)
    await page.wait_for_timeout(1500)


# A JS function expression ``(gp, n) => ms[]``: draw gl-plot3d scene ``gp`` ``n`` times, each time
# until the GPU has finished the frame (a one-pixel readPixels waits for it); milliseconds per frame.
TIMED_FRAMES_FN = """(gp, n) => {
  const gl = gp.gl, px = new Uint8Array(4);
  const done = () => gl.readPixels(0, 0, 1, 1, gl.RGBA, gl.UNSIGNED_BYTE, px);
  done();
  const ms = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    gp.redraw();
    done();
    ms.push(performance.now() - t);
  }
  return ms;
}"""


def whole_frame_js(extra: str = "") -> str:
    """A page function: draw the 3D scene once more and read the whole WebGL frame back, returning
    ``{w, h, data}`` (base64 RGBA) plus the ``extra`` fields (JS object-literal entries, read in the
    same call, right after that frame). Used by benchmarks/frame_cost.py and tests/e2e/test_viewer_depth.py."""
    fields = f", {extra}" if extra else ""
    return f"""() => {{
  const gp = document.querySelector('{GRAPH}')._fullLayout.scene._scene.glplot;
  const gl = gp.gl, w = gl.drawingBufferWidth, h = gl.drawingBufferHeight;
  gp.redraw();
  const px = new Uint8Array(w * h * 4);
  gl.readPixels(0, 0, w, h, gl.RGBA, gl.UNSIGNED_BYTE, px);
  let s = '';
  for (let i = 0; i < px.length; i += 0x8000) s += String.fromCharCode.apply(null, px.subarray(i, i + 0x8000));
  return {{w, h, data: btoa(s){fields}}};
}}"""


def differing_pixels(a: Mapping[str, Any], b: Mapping[str, Any]) -> tuple[int, int]:
    """Two frames from :func:`whole_frame_js`: (pixels that differ in any channel, largest difference
    of 255); (-1, -1) if their sizes differ."""
    if (a["w"], a["h"]) != (b["w"], b["h"]):
        return -1, -1
    import base64

    import numpy as np

    x = np.frombuffer(base64.b64decode(a["data"]), dtype=np.uint8).astype(np.int16).reshape(-1, 4)
    y = np.frombuffer(base64.b64decode(b["data"]), dtype=np.uint8).astype(np.int16).reshape(-1, 4)
    d = np.abs(x - y).max(axis=1)
    return int((d > 0).sum()), int(d.max(initial=0))

"""What one 3D frame costs the GPU (software WebGL), with front-end workarounds on and off.

Starts ``streamlit run explorer/app.py`` once and opens two pages on it: one with the front end as
it is, one with the workarounds named by ``--off`` switched off (localStorage
``lumbar.no_workarounds``, as profile_switch.py does). For each state (a URL query) both pages
load it, then take turns (which page goes first alternates per round) drawing the scene again:
gl-plot3d's ``redraw()`` followed by a one-pixel ``readPixels``, which waits until the GPU has
drawn the whole frame. So the time is the frame's GPU cost (plus the few ms of WebGL calls), the
part of a condition change that profile_switch.py sees only as "gpu done" after the react.
After the timing, each page's whole frame is read back and the two are compared pixel by pixel:
a workaround that must not change the picture should show 0 pixels differing.

Diagnostics, not part of run.py (timings depend on the machine's load; compare within one run)::

    flock /tmp/heavy.lock timeout 900 python benchmarks/frame_cost.py --off depthPrepassPick
    python benchmarks/frame_cost.py --no-antialias   # what the canvas's MSAA costs (not a workaround)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._common import CHROMIUM_ARGS, GRAPH, Server, chromium_path
from benchmarks.gl_frames import TIMED_FRAMES_FN, differing_pixels, open_settled, whole_frame_js
from benchmarks.run import RESULTS

# A story view for each condition (the URL's defaults for the rest) and the plain model.
STATES = ["?condition=herniation", "?condition=stenosis", "?condition=spondylolisthesis",
          "?condition=piriformis", "?condition=cauda_equina", "?condition=none"]

# Draw the scene `n` times, each time until the GPU has finished it; ms per frame.
FRAMES_JS = f"""(n) => {{
  const gp = document.querySelector('{GRAPH}')._fullLayout.scene._scene.glplot;
  const ms = ({TIMED_FRAMES_FN})(gp, n);
  const see = gp.objects.filter((o) => o.isTransparent && o.isTransparent()).length;
  return {{ms, objects: gp.objects.length, seeThrough: see}};
}}"""

# One frame read back whole (base64 RGBA) with its size.
PIXELS_JS = whole_frame_js()

# For --no-antialias: every WebGL context of the page made without multisampling (Plotly asks for
# antialias: true), to see what the canvas's 4x MSAA costs a software frame. A diagnosis only: the
# app keeps MSAA, since without it every edge is a visible staircase.
NO_ANTIALIAS_JS = """(() => {
  const getContext = HTMLCanvasElement.prototype.getContext;
  HTMLCanvasElement.prototype.getContext = function (kind, attrs) {
    if (String(kind).startsWith("webgl")) attrs = Object.assign({}, attrs || {}, { antialias: false });
    return getContext.call(this, kind, attrs);
  };
})();"""


async def amain(args) -> int:
    from playwright.async_api import async_playwright

    server = Server(log_path=RESULTS / "logs" / "frame-cost-app.log")
    lines: list[str] = []
    ratios: list[float] = []
    worst_diff = 0
    try:
        server.wait_ready()
        async with async_playwright() as pw:
            browser = await pw.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
            pages = {}
            for name, off in (("on", ""), ("off", args.off)):
                ctx = await browser.new_context(viewport={"width": args.width, "height": args.height})
                if off:
                    await ctx.add_init_script(f"localStorage.setItem('lumbar.no_workarounds', {json.dumps(off)});")
                if name == "off" and args.no_antialias:
                    await ctx.add_init_script(NO_ANTIALIAS_JS)
                pages[name] = await ctx.new_page()
            print(f"workarounds off in the 'off' page: {args.off or '(none)'}"
                  f"{'; no MSAA there' if args.no_antialias else ''}; {args.rounds} rounds x {args.frames} frames "
                  f"per state and page; viewport {args.width}x{args.height}", flush=True)
            for state in args.states:
                for page in pages.values():
                    await open_settled(page, server.url + "/" + state)
                ms: dict[str, list[float]] = {"on": [], "off": []}
                info: dict[str, Any] = {}
                for r in range(args.rounds):
                    order = ["on", "off"] if r % 2 == 0 else ["off", "on"]
                    for name in order:
                        got = await pages[name].evaluate(FRAMES_JS, args.frames)
                        ms[name] += got["ms"]
                        info = got
                shots = {name: await page.evaluate(PIXELS_JS) for name, page in pages.items()}
                if args.shots:  # the 3D view as the page shows it, to look at
                    folder = Path(args.shots)
                    folder.mkdir(parents=True, exist_ok=True)
                    tag = (state.lstrip("?").replace("=", "-").replace("&", "_") or "default")[:60]
                    for name, page in pages.items():
                        await page.locator(GRAPH).screenshot(path=str(folder / f"{tag}-{name}.png"))
                count, worst = differing_pixels(shots["on"], shots["off"])
                worst_diff = max(worst_diff, count if count >= 0 else 10**9)
                on, off = statistics.median(ms["on"]), statistics.median(ms["off"])
                ratios.append(on / off)
                line = (f"{state or '(default)':<32} {info['objects']:3d} objects ({info['seeThrough']:2d} see-through)  "
                        f"frame p50 on {on:6.1f} ms  off {off:6.1f} ms  on/off {on / off:.2f}x  "
                        f"pixels differing {count} (max {worst}/255)")
                print(line, flush=True)
                lines.append(line)
            await browser.close()
    finally:
        server.stop()
    summary = (f"on/off median over states {statistics.median(ratios):.2f}x (per state: "
               + ", ".join(f"{r:.2f}" for r in ratios) + f"); most pixels differing in one state: {worst_diff}")
    print(summary)
    if args.out:
        Path(args.out).write_text("\n".join(lines + [summary]) + "\n")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--off", default="", help="workaround ids switched off in the second page (comma separated)")
    parser.add_argument("--no-antialias", action="store_true",
                        help="the second page's WebGL contexts without multisampling (what MSAA costs a frame)")
    parser.add_argument("--states", nargs="*", default=STATES, help="URL queries (default: a story view per condition)")
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--frames", type=int, default=3, help="frames per round and page")
    parser.add_argument("--width", type=int, default=1366)
    parser.add_argument("--height", type=int, default=768)
    parser.add_argument("--out", default="", help="write the table here")
    parser.add_argument("--shots", default="", help="folder for screenshots of the 3D view from both pages")
    args = parser.parse_args(argv)
    if not args.off and not args.no_antialias:
        parser.error("nothing differs between the two pages: give --off and/or --no-antialias")
    return asyncio.run(amain(args))


if __name__ == "__main__":
    sys.exit(main())

"""Screenshots of the 3D view and the body chart, front end of a git ref against the working tree.

One server (``streamlit run explorer/app.py``); two browser pages step through benchmarks/run.py's
PLAN side by side (every condition and its parameters, by the sidebar widgets, as a person
would). The "before" page gets the front end's JavaScript modules (explorer/frontend/*.js) as
they were at ``--ref`` (``git show``, served through Playwright's request routing, so the shared
checkout is not touched); the "after" page gets the working tree's. After each step both pages
wait for the script run, the redraw and the camera to settle, then the 3D view and the body chart
are captured and compared pixel by pixel.

    flock /tmp/heavy.lock timeout 900 python benchmarks/screens_before_after.py --ref HEAD~1 --out /tmp/screens

Prints, per step and picture, how many pixels differ by more than ``--tolerance`` (of 255, any
channel) and writes before/after PNGs (and a difference image where they differ) to ``--out``.
Exit status 1 when a picture differs in more than ``--max-pixels`` pixels.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._common import BODY_CHART, CHROMIUM_ARGS, GRAPH, ROOT, Server, chromium_path
from benchmarks.run import PAINTED_JS, RESULTS, _open, _plan_step, _select, _wait_idle

MODULE_RE = re.compile(r"/([A-Za-z0-9_]+\.(?:js|css))(?:\?.*)?$")
CAMERA_JS = f"""() => {{
  const s = document.querySelector('{GRAPH}')?._fullLayout?.scene?._scene;
  return s ? JSON.stringify(s.getCamera()) : null;
}}"""
SEQ_JS = f"""() => [document.querySelector('{GRAPH}')?.dataset.renderSeq,
                    document.querySelector('{BODY_CHART}')?.dataset.renderSeq].join('/')"""


def frontend_at(ref: str) -> dict[str, bytes]:
    """explorer/frontend's .js and .css files at git `ref`, by file name."""
    names = subprocess.run(["git", "ls-tree", "--name-only", f"{ref}:explorer/frontend"], cwd=ROOT, check=True,
                           capture_output=True, text=True).stdout.split()
    return {n: subprocess.run(["git", "show", f"{ref}:explorer/frontend/{n}"], cwd=ROOT, check=True,
                              capture_output=True).stdout
            for n in names if n.endswith((".js", ".css"))}


async def settle(page) -> None:
    """Script run over, no redraw and no camera motion for a while."""
    await _wait_idle(page)
    last = None
    for _ in range(60):
        now = (await page.evaluate(SEQ_JS), await page.evaluate(CAMERA_JS))
        if now == last:
            break
        last = now
        await page.wait_for_timeout(400)
    await page.wait_for_timeout(1000)


def compare(a: bytes, b: bytes, tolerance: int) -> tuple[int, Any]:
    import numpy as np
    from PIL import Image

    x = np.asarray(Image.open(io.BytesIO(a)).convert("RGB"), dtype=np.int16)
    y = np.asarray(Image.open(io.BytesIO(b)).convert("RGB"), dtype=np.int16)
    if x.shape != y.shape:
        return -1, None
    differ = abs(x - y).max(axis=2) > tolerance
    return int(differ.sum()), differ


async def amain(args) -> int:
    from playwright.async_api import async_playwright

    old = frontend_at(args.ref)
    routed: dict[str, int] = {}

    async def serve_old(route) -> None:
        m = MODULE_RE.search(route.request.url)
        name = m.group(1) if m else ""
        if name in old and "/app/static/" not in route.request.url:
            routed[name] = routed.get(name, 0) + 1
            kind = "text/css" if name.endswith(".css") else "text/javascript"
            await route.fulfill(status=200, body=old[name], headers={"content-type": kind, "cache-control": "no-store"})
        else:
            await route.continue_()

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    server = Server(log_path=RESULTS / "logs" / "screens-app.log")
    worst = 0
    try:
        server.wait_ready()
        async with async_playwright() as pw:
            browser = await pw.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
            pages = {}
            for side in ("before", "after"):
                ctx = await browser.new_context(viewport={"width": args.width, "height": args.height})
                if side == "before":
                    await ctx.route(MODULE_RE, serve_old)
                page = await ctx.new_page()
                await _open(page, server.url, PAINTED_JS, f"the app ({side})", server.log_path)
                pages[side] = page
            if not routed:
                raise SystemExit("no front-end module was routed to the old version: check MODULE_RE")
            print(f"before = {args.ref} ({', '.join(sorted(routed))}), after = working tree")
            plan_i = 0
            for n in range(args.steps + 1):
                if n:
                    step, plan_i = _plan_step(pages["after"].url, plan_i)
                    assert step is not None
                    key, label, target = step
                    for page in pages.values():
                        await _select(page, key, label)
                else:
                    target = "first load"
                for page in pages.values():
                    await settle(page)
                line = [f"{n:2d} {target:<28}"]
                for what, sel in (("3d", GRAPH), ("chart", BODY_CHART)):
                    shots = {side: await page.locator(sel).screenshot() for side, page in pages.items()}
                    for side, png in shots.items():
                        (out / f"{n:02d}-{what}-{side}.png").write_bytes(png)
                    count, differ = compare(shots["before"], shots["after"], args.tolerance)
                    if count and differ is not None:
                        from PIL import Image

                        Image.fromarray((differ * 255).astype("uint8")).save(out / f"{n:02d}-{what}-diff.png")
                    worst = max(worst, count if count >= 0 else 10**9)
                    line.append(f"{what} {'size differs' if count < 0 else f'{count:6d} px differ'}")
                print("   ".join(line), flush=True)
            await browser.close()
    finally:
        server.stop()
    print(f"worst: {worst} pixels beyond {args.tolerance}/255 (allowed {args.max_pixels}); PNGs in {out}")
    return 1 if worst > args.max_pixels else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ref", default="HEAD", help="git ref whose explorer/frontend/*.js the 'before' page runs")
    parser.add_argument("--steps", type=int, default=17, help="steps of run.py's PLAN (17: every condition)")
    parser.add_argument("--width", type=int, default=1600)
    parser.add_argument("--height", type=int, default=1000)
    parser.add_argument("--tolerance", type=int, default=2, help="per-channel difference ignored (of 255)")
    parser.add_argument("--max-pixels", type=int, default=20, help="antialiased pixels allowed to differ")
    parser.add_argument("--out", default="/tmp/screens_before_after")
    args = parser.parse_args(argv)
    return asyncio.run(amain(args))


if __name__ == "__main__":
    sys.exit(main())

"""What the see-through meshes cost one 3D frame (software WebGL), and which part of them.

Starts ``streamlit run explorer/app.py`` once and opens each state's story view in one page. The
frame is drawn as benchmarks/frame_cost.py draws it (gl-plot3d's ``redraw()`` then a one-pixel
``readPixels``, which waits for the GPU), as the page shows it and with the scene's objects changed
for the moment of the measurement (restored after each), variants taking turns:

* ``noFaded``: without the faded meshes (the story's see-through occluders, opacity <= 0.2);
* ``onlyLesion``: without any see-through mesh but the lesion (what the pass itself costs);
* ``noTransparent``: without any see-through mesh (gl-plot3d then skips its transparency pass);
* ``cullFaded``: faded meshes with their back faces culled (half their pixels; a visual change);
* ``pickFaded``: faded meshes drawn by their flat picking program (the cheapest shader there is).

``--per-mesh`` adds, for each see-through mesh, its triangles, the share of the view it covers (drawn
alone) and what the frame saves without it. Diagnostics, not part of run.py (compare within one run)::

    flock /tmp/heavy.lock timeout 900 python benchmarks/see_through_cost.py --states herniation --per-mesh
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._common import CHROMIUM_ARGS, GRAPH, Server, chromium_path
from benchmarks.gl_frames import TIMED_FRAMES_FN, open_settled
from benchmarks.run import RESULTS

CONDITIONS = ["herniation", "stenosis", "spondylolisthesis", "piriformis", "cauda_equina"]
VARIANTS = ["base", "noFaded", "onlyLesion", "noTransparent", "cullFaded", "pickFaded"]
FADED_MAX_OPACITY = 0.2  # the story's see-through occluders are drawn at settings.SEE_THROUGH_OPACITY (0.12)

# window.__seeThrough: the scene, its objects' traces, frame timing, coverage of single objects.
SETUP_JS = f"""() => {{
  const gd = document.querySelector('{GRAPH}');
  const scene = gd._fullLayout.scene._scene, gp = scene.glplot, gl = gp.gl;
  const H = window.__seeThrough = {{gp, gl, byMesh: new Map()}};
  for (const t of Object.values(scene.traces)) if (t.mesh) H.byMesh.set(t.mesh, t);
  H.frames = (n) => ({TIMED_FRAMES_FN})(gp, n);
  H.setObjects = (list) => {{ gp.objects.length = 0; list.forEach((o) => gp.objects.push(o)); }};
  H.faded = () => gp.objects.filter((o) => o.isTransparent && o.isTransparent() && o.opacity <= {FADED_MAX_OPACITY});
  H.whole = () => {{
    const w = gl.drawingBufferWidth, h = gl.drawingBufferHeight;
    gp.redraw();
    const px = new Uint8Array(w * h * 4);
    gl.readPixels(0, 0, w, h, gl.RGBA, gl.UNSIGNED_BYTE, px);
    return px;
  }};
  // Pixels object `ix` changes when drawn alone (against the empty scene).
  H.coverage = (ixs) => {{
    const keep = gp.objects.slice();
    H.setObjects([]);
    const empty = H.whole(), out = [];
    for (const ix of ixs) {{
      H.setObjects([keep[ix]]);
      const px = H.whole();
      let n = 0;
      for (let i = 0; i < px.length; i += 4) if (px[i] !== empty[i] || px[i + 1] !== empty[i + 1] || px[i + 2] !== empty[i + 2]) n++;
      out.push(n);
    }}
    H.setObjects(keep);
    return out;
  }};
  return {{pixels: gl.drawingBufferWidth * gl.drawingBufferHeight,
          objects: gp.objects.map((o, ix) => ({{ix, id: H.byMesh.get(o)?.data.meta ?? null, opacity: o.opacity ?? null,
            transparent: !!(o.isTransparent && o.isTransparent()), tris: o.triangleCount || 0}}))}};
}}"""

# Draw `n` frames with the scene changed as variant `name` says (`arg`: an object index), then restore it.
VARIANT_JS = """([name, n, arg]) => {
  const H = window.__seeThrough, gp = H.gp, gl = H.gl, keep = gp.objects.slice(), faded = H.faded(), undo = [];
  const lesion = (o) => String(H.byMesh.get(o)?.data.meta || '').startsWith('lesion');
  if (name === 'noFaded') H.setObjects(keep.filter((o) => !faded.includes(o)));
  if (name === 'onlyLesion') H.setObjects(keep.filter((o) => !o.isTransparent() || lesion(o)));
  if (name === 'noTransparent') H.setObjects(keep.filter((o) => !o.isTransparent()));
  if (name === 'without') H.setObjects(keep.filter((o, i) => i !== arg));
  for (const m of (name === 'cullFaded' || name === 'pickFaded') ? faded : []) {
    const own = m.drawTransparent;
    undo.push(() => { m.drawTransparent = own; });
    if (name === 'pickFaded') {
      const pick = m.__lumbarDrawPick ?? m.drawPick;
      m.drawTransparent = function (q) { return pick.call(this, q); };
    } else {  // gl-mesh3d's draw() disables culling: culling is switched on in its place
      m.drawTransparent = function (q) {
        const disable = gl.disable;
        gl.disable = function (cap) {
          if (cap !== gl.CULL_FACE) return disable.call(this, cap);
          gl.enable(cap);
          gl.cullFace(gl.BACK);
        };
        try { return own.call(this, q); } finally { gl.disable = disable; disable.call(gl, gl.CULL_FACE); }
      };
    }
  }
  try { return H.frames(n); } finally { undo.forEach((f) => f()); H.setObjects(keep); }
}"""


async def one_state(page: Any, url: str, args: argparse.Namespace) -> list[str]:
    await open_settled(page, url)
    setup = await page.evaluate(SETUP_JS)
    objects = setup["objects"]
    see = [o for o in objects if o["transparent"]]
    faded = [o for o in see if (o["opacity"] or 1.0) <= FADED_MAX_OPACITY]
    head = (f"{len(objects)} objects, {sum(o['tris'] for o in objects)} triangles; see-through {len(see)} "
            f"({sum(o['tris'] for o in see)} triangles), of them faded {len(faded)} ({sum(o['tris'] for o in faded)})")
    lines = [head]
    ms: dict[str, list[float]] = {name: [] for name in VARIANTS}
    for r in range(args.rounds):
        for name in (VARIANTS if r % 2 == 0 else VARIANTS[::-1]):
            ms[name] += await page.evaluate(VARIANT_JS, [name, args.frames, None])
    base = statistics.median(ms["base"])
    for name in VARIANTS:
        m = statistics.median(ms[name])
        lines.append(f"  {name:<14} frame p50 {m:6.1f} ms  {m / base:.2f}x")
    if args.per_mesh:
        cover = await page.evaluate("(ixs) => window.__seeThrough.coverage(ixs)", [o["ix"] for o in see])
        for o, px in zip(see, cover, strict=True):
            with_, without = [], []
            for _ in range(max(2, args.rounds // 2)):
                with_ += await page.evaluate(VARIANT_JS, ["base", args.frames, None])
                without += await page.evaluate(VARIANT_JS, ["without", args.frames, o["ix"]])
            saves = statistics.median(with_) - statistics.median(without)
            lines.append(f"  - {str(o['id']):<22} opacity {o['opacity']:.2f}  {o['tris']:6d} triangles  "
                         f"covers {100 * px / setup['pixels']:5.1f}%  frame without it {saves:+6.1f} ms less")
    return lines


async def amain(args: argparse.Namespace) -> int:
    from playwright.async_api import async_playwright

    server = Server(log_path=RESULTS / "logs" / "see-through-cost-app.log")
    out: list[str] = []
    try:
        server.wait_ready()
        async with async_playwright() as pw:
            browser = await pw.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
            ctx = await browser.new_context(viewport={"width": args.width, "height": args.height})
            if args.off:
                await ctx.add_init_script(f"localStorage.setItem('lumbar.no_workarounds', {args.off!r});")
            page = await ctx.new_page()
            print(f"viewport {args.width}x{args.height}; {args.rounds} rounds x {args.frames} frames per variant; "
                  f"workarounds off: {args.off or 'none'}", flush=True)
            for condition in args.states:
                lines = await one_state(page, f"{server.url}/?condition={condition}", args)
                lines[0] = f"== {condition}: {lines[0]}"
                print("\n".join(lines), flush=True)
                out += lines
            await browser.close()
    finally:
        server.stop()
    if args.out:
        Path(args.out).write_text("\n".join(out) + "\n")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--states", nargs="*", default=CONDITIONS, help="condition ids (their story views)")
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--frames", type=int, default=2, help="frames per round and variant")
    parser.add_argument("--per-mesh", action="store_true", help="each see-through mesh: coverage and cost")
    parser.add_argument("--off", default="", help="front-end workarounds switched off (ids, comma separated)")
    parser.add_argument("--width", type=int, default=1366)
    parser.add_argument("--height", type=int, default=768)
    parser.add_argument("--out", default="", help="write the table here")
    return asyncio.run(amain(parser.parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main())

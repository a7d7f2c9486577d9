"""The body chart's browser work per change: two source trees side by side, one run.

Starts ``streamlit run explorer/app.py`` from two source trees (``--before``: a clean clone of an
earlier commit; "after": this working tree), opens each in headless Chromium (software WebGL, as
run.py) and steps both through the same changes, interleaved (which page goes first alternates):
run.py's PLAN (every condition and its parameters), a root picked in the chart's list, the three
audiences, symptoms mode with marks, and back. For every step and page it records

* the body chart's update time: ``Plotly.react`` before, the SVG renderer's ``render`` after (the
  component's ``lumbar:chart-react-start/end`` marks around either, put when
  ``window.__lumbar3d.marks`` is set);
* what that react did to the chart's SVG (a MutationObserver on the chart element): mutation
  records, attribute writes, path ``d`` writes (a full replot rewrites every path's ``d``; a
  restyle none), nodes added and removed;
* websocket bytes received by the page in the step (everything the rerun sent, decoded);
* a screenshot of the chart element; before and after are compared pixel by pixel.

The JavaScript both servers serve is compared with each tree's explorer/frontend (a server that
served the other tree's files would make the comparison meaningless). Diagnostics only: compare
the two trees within one run. The start-up warm-up is off in both servers
(``LUMBAR_WARM_UP=0``), so neither does background work while the other is measured::

    git clone -q . /tmp/before && git -C /tmp/before checkout -q <ref>
    flock /tmp/heavy.lock timeout 900 python benchmarks/chart_switch.py --before /tmp/before --out /tmp/chart_switch
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import statistics
import sys
import urllib.request
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._common import BODY_CHART, CHROMIUM_ARGS, ROOT, Server, chromium_path, percentile
from benchmarks.run import (
    ARM_JS,
    DONE_JS,
    PAINTED_JS,
    STEP_TIMEOUT_MS,
    VIEWPORT,
    _init_js,
    _open,
    _plan_step,
    _select,
    _wait_idle,
)
from benchmarks.screens_before_after import compare

# Marks on, and a MutationObserver on the body chart counting what each step does to its SVG.
INIT_JS = """
(() => {
  (window.__lumbar3d ??= {plotly: null, webgl: undefined, memory: {}}).marks = true;
  const C = (window.__chartBench = {ws: 0, m: null, watched: null});
  C.reset = () => { C.ws = 0; C.m = {records: 0, attrs: 0, d: 0, plot_d: 0, style: 0, added: 0, removed: 0}; };
  C.reset();
  const Native = window.WebSocket;
  window.WebSocket = class extends Native {
    constructor(...a) {
      super(...a);
      this.addEventListener('message', (ev) => {
        C.ws += ev.data && ev.data.byteLength !== undefined ? ev.data.byteLength : String(ev.data).length;
      });
    }
  };
  const count = (records) => {
    for (const r of records) {
      C.m.records += 1;
      if (r.type === 'attributes') {
        C.m.attrs += 1;
        if (r.attributeName === 'd') {
          C.m.d += 1;
          // in the plot area (the traces; Plotly's or the SVG renderer's), not the legend: a
          // change of styles writes none there
          if (r.target.closest && r.target.closest('.cartesianlayer, .bc-plot')) C.m.plot_d += 1;
        }
        if (r.attributeName === 'style') C.m.style += 1;
      } else if (r.type === 'childList') {
        C.m.added += r.addedNodes.length;
        C.m.removed += r.removedNodes.length;
      }
    }
  };
  const watch = () => {
    const gd = document.querySelector('[data-testid="body-chart"]');
    if (gd && gd !== C.watched) {
      C.watched = gd;
      new MutationObserver(count).observe(gd, {subtree: true, childList: true, attributes: true});
    }
    setTimeout(watch, 250);
  };
  document.addEventListener('DOMContentLoaded', watch);
})();
"""
RESET_JS = "() => { window.__chartBench.reset(); performance.clearMarks(); }"
READ_JS = """() => ({ws: window.__chartBench.ws, m: window.__chartBench.m,
  seq: document.querySelector('[data-testid="body-chart"]')?.dataset.renderSeq || null,
  plotH: (() => { const gd = document.querySelector('[data-testid="body-chart"]');
                  return gd?._fullLayout?._size?.h ?? gd?._chart?.frame?.h ?? null; })(),
  marks: performance.getEntriesByType('mark').filter((m) => m.name.startsWith('lumbar:chart'))
    .map((m) => [m.name.slice(7), m.startTime])})"""
SEQ_JS = "() => document.querySelector('[data-testid=\"body-chart\"]')?.dataset.renderSeq || null"


class TreeServer(Server):
    """``python -m streamlit run explorer/app.py`` from source tree ``root`` on a free loopback port,
    without the start-up warm-up (so neither server works in the background while the other is
    measured)."""

    def __init__(self, root: Path, log_path: Path) -> None:
        super().__init__(log_path=log_path, root=root, env={"PYTHONPATH": str(root), "LUMBAR_WARM_UP": "0"})

    def check_serves_own_frontend(self) -> None:
        """The chart's JavaScript this server sends is its own tree's (not the installed package's)."""
        for name in ("chart2d.js", "delta.js", "plotly_loader.js", "bodychart_svg.js"):
            if not (self.root / "explorer" / "frontend" / name).is_file():
                continue  # a tree from before that file
            with urllib.request.urlopen(f"{self.url}/_stcore/bidi-components/explorer.chart2d/{name}", timeout=10) as r:
                served = r.read()
            if served != (self.root / "explorer" / "frontend" / name).read_bytes():
                raise SystemExit(f"{self.url} serves another tree's {name}: the comparison would be meaningless")


async def _pick_anywhere(page, key: str, label: str) -> None:
    """Pick `label` in the selectbox with key `key` outside the sidebar (the chart's root list)."""
    combo = page.locator(f'[data-testid="stMain"] .st-key-{key} input[role="combobox"]')
    for attempt in range(3):  # the list re-renders while the page settles: its option may detach
        await combo.click(timeout=STEP_TIMEOUT_MS)
        option = page.get_by_role("option", name=label, exact=True)
        if not await option.count():
            await combo.press_sequentially(label)
        try:
            await option.first.click(timeout=10_000)
            return
        except Exception:  # playwright's TimeoutError
            if attempt == 2:
                raise
            await page.keyboard.press("Escape")
            await page.wait_for_timeout(500)


async def _button(page, name: str) -> None:
    await page.get_by_role("button", name=name, exact=True).first.click(timeout=STEP_TIMEOUT_MS)


Action = Callable[[Any], Awaitable[None]]


def extra_steps() -> list[tuple[str, Action]]:
    """After run.py's PLAN: a condition again, roots picked in the list, audiences, symptoms mode."""
    from explorer.ui.controls import AUDIENCE_LABELS, CONDITION_LABELS, MODE_LABELS

    def sel(key: str, label: str) -> Action:
        return lambda page: _select(page, key, label)

    def root(label: str) -> Action:
        return lambda page: _pick_anywhere(page, "root_choice", label)

    return [
        ("condition=herniation", sel("condition", CONDITION_LABELS["herniation"])),
        ("root L5 left", root("L5 left")),
        ("root S1 right", root("S1 right")),
        ("audience=patient", sel("audience", AUDIENCE_LABELS["patient"])),
        ("audience=educator", sel("audience", AUDIENCE_LABELS["educator"])),
        ("audience=student", sel("audience", AUDIENCE_LABELS["student"])),
        ("condition=cauda_equina", sel("condition", CONDITION_LABELS["cauda_equina"])),
        ("mode=symptoms", sel("mode", MODE_LABELS["symptoms"])),
        ("example L5, left", lambda page: _button(page, "L5, left")),
        ("example S1, right", lambda page: _button(page, "S1, right")),
        ("mode=condition", sel("mode", MODE_LABELS["condition"])),
    ]


async def settle(page, quiet_polls: int = 4) -> None:
    """Script run over and the chart's render counter still for a while."""
    await _wait_idle(page)
    last, still = None, 0
    for _ in range(80):
        now = await page.evaluate(SEQ_JS)
        still = still + 1 if now == last else 0
        if still >= quiet_polls:
            break
        last = now
        await page.wait_for_timeout(250)
    await page.wait_for_timeout(300)


page_h: dict[int, float | None] = {}  # the chart's plot-area height after the last step, per page


async def measure(page, action: Action) -> dict[str, Any]:
    seq0 = await page.evaluate(SEQ_JS)
    await page.evaluate(RESET_JS)
    await page.evaluate(ARM_JS, {"graph": '[data-testid="lumbar-3d"]', "body": BODY_CHART, "text": None})
    await action(page)
    # run.py's clock: the script run that the press caused has finished (its websocket message)
    await page.wait_for_function(DONE_JS, arg={"mode": "idle", "body": BODY_CHART, "bodyGraceMs": 0},
                                 timeout=STEP_TIMEOUT_MS, polling=50)
    await settle(page)
    r = await page.evaluate(READ_JS)
    marks: dict[str, list[float]] = {}
    for name, t in r["marks"]:
        marks.setdefault(name, []).append(t)
    starts, ends = marks.get("chart-react-start", []), marks.get("chart-react-end", [])
    react = sum(e - s for s, e in zip(starts, ends, strict=False))
    h0 = page_h.get(id(page))
    page_h[id(page)] = r["plotH"]
    return {"redrawn": r["seq"] != seq0, "reacts": len(ends), "react_ms": react if ends else None,
            "plot_area_changed": h0 is not None and r["plotH"] != h0,
            "ws_bytes": r["ws"], **{f"svg_{k}": v for k, v in r["m"].items()}}


async def amain(args) -> int:
    from playwright.async_api import async_playwright

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    servers = {"before": TreeServer(Path(args.before).resolve(), out / "before-server.log"),
               "after": TreeServer(Path(args.after).resolve(), out / "after-server.log")}
    rows: list[dict[str, Any]] = []
    worst = 0
    w, _, h = str(args.viewport).partition("x")
    viewport = {"width": int(w), "height": int(h)} if args.viewport else VIEWPORT
    try:
        for s in servers.values():
            s.wait_ready()
            s.check_serves_own_frontend()
        async with async_playwright() as pw:
            browser = await pw.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
            pages = {}
            for side, server in servers.items():
                ctx = await browser.new_context(viewport=viewport)  # type: ignore[arg-type]
                await ctx.add_init_script(_init_js())
                await ctx.add_init_script(INIT_JS)
                page = await ctx.new_page()
                await _open(page, server.url, PAINTED_JS, f"the app ({side})", server.log_path)
                await settle(page)
                pages[side] = page
            steps: list[tuple[str, Action | None]] = [("first load", None)]
            rows.append(await run_step(0, steps[0], pages, out, args))
            plan_i = 0
            for _ in range(args.plan_steps):
                step, plan_i = _plan_step(pages["after"].url, plan_i)
                assert step is not None
                key, label, target = step
                pick: Action = functools.partial(_select, key=key, label=label)
                steps.append((target, pick))
                # _next_step reads the page's URL: take the step on both pages before planning the next
                n = len(steps) - 1
                rows.append(await run_step(n, steps[-1], pages, out, args))
            for target, action in extra_steps():
                steps.append((target, action))
                rows.append(await run_step(len(steps) - 1, steps[-1], pages, out, args))
            await browser.close()
    finally:
        for s in servers.values():
            s.stop()
    for r in rows:
        worst = max(worst, r["pixels_differ"] if r["pixels_differ"] >= 0 else 10**9)
    summary = summarize(rows)
    print(summary)
    (out / "chart_switch.json").write_text(json.dumps(rows, indent=1) + "\n")
    (out / "summary.txt").write_text(summary + "\n")
    print(f"worst: {worst} chart pixels beyond {args.tolerance}/255; PNGs in {out}")
    return 1 if worst > args.max_pixels else 0


async def run_step(n: int, step: tuple[str, Action | None], pages: dict[str, Any], out: Path, args) -> dict[str, Any]:
    target, action = step
    row: dict[str, Any] = {"step": n, "target": target}
    order = ("before", "after") if n % 2 else ("after", "before")
    for side in order:
        if action is not None:
            row[side] = await measure(pages[side], action)
        else:
            row[side] = {}
    shots = {side: await pages[side].locator(BODY_CHART).screenshot() for side in ("before", "after")}
    for side, png in shots.items():
        (out / f"{n:02d}-chart-{side}.png").write_bytes(png)
    count, differ = compare(shots["before"], shots["after"], args.tolerance)
    if count and differ is not None:
        from PIL import Image

        Image.fromarray((differ * 255).astype("uint8")).save(out / f"{n:02d}-chart-diff.png")
    row["pixels_differ"] = count
    b, a = row["before"], row["after"]
    print(f"{n:2d} {target:<34} " + "   ".join(
        f"{side} react {r.get('react_ms') or 0:6.1f} ms d-writes {r.get('svg_plot_d', 0):4d}/{r.get('svg_d', 0):4d} records {r.get('svg_records', 0):5d} "
        f"+{r.get('svg_added', 0)}/-{r.get('svg_removed', 0)} ws {r.get('ws_bytes', 0) / 1000:6.1f} kB"
        f"{' (legend resized the plot)' if r.get('plot_area_changed') else ''}"
        for side, r in (("before", b), ("after", a))) + f"   pixels differ {count}", flush=True)
    return row


def summarize(rows: list[dict[str, Any]]) -> str:
    lines = []
    both = [r for r in rows if r["before"].get("react_ms") is not None and r["after"].get("react_ms") is not None]
    for key in ("react_ms", "svg_records", "svg_attrs", "svg_plot_d", "svg_d", "svg_added", "svg_removed", "ws_bytes"):
        b = [r["before"][key] for r in both]
        a = [r["after"][key] for r in both]
        if not b:
            continue
        mb, ma = statistics.median(b), statistics.median(a)
        ratio = f"{ma / mb:.2f}x" if mb else "-"
        lines.append(f"{key:<12} p50 before {mb:10.1f}  after {ma:10.1f}  ({ratio});  p95 before {percentile(b, 95):10.1f}  "
                     f"after {percentile(a, 95):10.1f};  max before {max(b):10.1f}  after {max(a):10.1f}")
    lines.append(f"steps where both pages redrew the chart: {len(both)} of {len(rows) - 1}")
    resized = [r for r in both if r["after"].get("plot_area_changed")]
    kept = [r for r in both if not r["after"].get("plot_area_changed")]
    for name, group in (("legend kept the plot area", kept), ("legend resized the plot area", resized)):
        if group:
            b = statistics.median(r["before"]["react_ms"] for r in group)
            a = statistics.median(r["after"]["react_ms"] for r in group)
            lines.append(f"  {name}: {len(group)} steps, react p50 before {b:.1f} ms, after {a:.1f} ms ({a / b:.2f}x)")
    lines.append("pixels differing per step: " + str([r["pixels_differ"] for r in rows]))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", required=True, help="source tree of the 'before' app (a clean clone)")
    parser.add_argument("--after", default=str(ROOT), help="source tree of the 'after' app (default: this one)")
    parser.add_argument("--plan-steps", type=int, default=17, help="steps of run.py's PLAN (17: every condition)")
    parser.add_argument("--tolerance", type=int, default=0, help="per-channel difference ignored (of 255)")
    parser.add_argument("--max-pixels", type=int, default=0, help="pixels allowed to differ")
    parser.add_argument("--out", default="/tmp/chart_switch")
    parser.add_argument("--viewport", default="", help="WIDTHxHEIGHT of the pages (default: run.py's VIEWPORT, 1600x1000)")
    args = parser.parse_args(argv)
    return asyncio.run(amain(args))


if __name__ == "__main__":
    sys.exit(main())

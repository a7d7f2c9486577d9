"""How much of Streamlit's page React renders again per condition switch, by kind of element.

The browser's main thread is where a switch's time goes before our components are called (H1, session
10: ``benchmarks/switch_timeline.py`` and its ``--profile``: about 450 ms of ``react-dom`` per switch
on a loaded 2-core machine, against about 40 ms of Streamlit's own handling of the click). This counts
that work without a clock: an init script installs a minimal React DevTools hook
(``__REACT_DEVTOOLS_GLOBAL_HOOK__.onCommitFiberRoot``, which React calls after every commit, in
production builds too) and, between the press and both pictures painted, counts

* React commits;
* components rendered in each commit: a fiber whose props object is not the one it had at the
  previous commit (a bailed-out fiber keeps its props; an untouched subtree keeps its fibers);
* the same per kind of element: each fiber is counted under its nearest DOM ancestor whose
  ``data-testid`` names an element (``stExpander``, ``stHeading``, ``stRadioOption``, ...; wrappers
  such as ``stElementContainer`` are skipped, so their fibers go to the enclosing block:
  ``stMainBlockContainer``, ``stSidebarUserContent``, ``stColumn``);
* websocket messages received.

Counts, not times: they depend on how the messages are batched into commits (timing), so compare
two trees within one run (interleaved, as switch_timeline.py)::

    flock /tmp/heavy.lock timeout 600 python benchmarks/react_commits.py --before /tmp/before --steps 4

Found with it (session 10, clones of 94d8598, student page, run.py's first 4-6 switches): 10-34
commits per switch for 102-108 messages; 3-4 of them render 2,000-2,700 of the page's ~5,300
components each (the run's start, the batch of new parts, the run's end), so every element on the
page costs on every switch, changed or not: 7,100-11,600 component renders per switch (p50 8,680).
Expanders (21-23 on the student page: reading sections, quiz, topics, references, glossary) are
the largest share (about 2,700 with their details), then the wrappers of the main area (1,300),
the columns (1,080) and the sidebar (1,000). A page of only the two pictures has 1,458 components.
Moving the URL's update (``page_info_changed``) to the end of the run changed nothing (8,382 against
8,680 renders p50, 6 switches).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._common import BODY_CHART, CHROMIUM_ARGS, GRAPH, ROOT, chromium_path
from benchmarks.chart_switch import TreeServer
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

# A minimal DevTools hook: React (react-dom) registers with it when it loads and calls
# onCommitFiberRoot after each commit. Every commit is walked (so the props seen last are known);
# only commits while ``on`` is set are counted.
HOOK_JS = """
(() => {
  const C = (window.__rc = {on: false, n: 0, commits: 0, rendered: 0, fibers: 0, msgs: 0, per: [], kinds: {},
                            seen: new WeakMap()});
  const GENERIC = new Set(['stElementContainer', 'stVerticalBlock', 'stHorizontalBlock', 'stLayoutWrapper',
    'stMarkdownContainer', 'stVerticalBlockBorderWrapper', 'stTooltipIcon', 'stTooltipHoverTarget', 'stWidgetLabel']);
  let ids = 0;
  window.__REACT_DEVTOOLS_GLOBAL_HOOK__ = {
    supportsFiber: true, renderers: new Map(), isDisabled: false,
    inject(renderer) { this.renderers.set(++ids, renderer); return ids; },
    onScheduleFiberRoot() {}, onCommitFiberUnmount() {}, onPostCommitFiberRoot() {},
    onCommitFiberRoot(_id, root) {
      const on = C.on;
      C.n += 1;
      let rendered = 0, total = 0;
      const walk = (fiber, kind) => {
        for (let f = fiber; f; f = f.sibling) {
          let k = kind;
          const node = f.stateNode;
          if (node && node.nodeType === 1) {
            const id = node.getAttribute('data-testid');
            if (id && id.startsWith('st') && !GENERIC.has(id)) k = id;
          }
          total += 1;
          // The last props seen for this component (a fiber or its alternate, whichever is newer).
          const x = C.seen.get(f), y = f.alternate ? C.seen.get(f.alternate) : undefined;
          const last = !x ? y : !y ? x : (x.n >= y.n ? x : y);
          const again = !last || last.props !== f.memoizedProps;
          const mark = {props: f.memoizedProps, n: C.n};
          C.seen.set(f, mark);
          if (f.alternate) C.seen.set(f.alternate, mark);
          if (again) rendered += 1;
          if (on) {
            const e = (C.kinds[k] ??= {fibers: 0, rendered: 0});
            e.fibers += 1;
            if (again) e.rendered += 1;
          }
          if (f.child) walk(f.child, k);
        }
      };
      walk(root.current.child, 'app');
      if (on) { C.commits += 1; C.rendered += rendered; C.fibers = total; C.per.push(rendered); }
    },
  };
  const Native = window.WebSocket;
  window.WebSocket = class extends Native {
    constructor(...args) { super(...args); this.addEventListener('message', () => { if (C.on) C.msgs += 1; }); }
  };
})();
"""
START_JS = "() => Object.assign(window.__rc, {on: true, commits: 0, rendered: 0, msgs: 0, per: [], kinds: {}})"
READ_JS = """() => { const c = window.__rc; c.on = false;
  return {commits: c.commits, rendered: c.rendered, fibers: c.fibers, msgs: c.msgs, per: c.per, kinds: c.kinds}; }"""
SETTLE_MS = 800  # after both pictures are painted: the run's last commits (stale parts cleared)


async def amain(args: argparse.Namespace) -> int:
    from playwright.async_api import async_playwright

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    trees = {"after": Path(args.after).resolve()}
    if args.before:
        trees = {"before": Path(args.before).resolve(), **trees}
    servers = {side: TreeServer(root, out / f"{side}-server.log") for side, root in trees.items()}
    rows: dict[str, list[dict[str, Any]]] = {side: [] for side in servers}
    query = "?audience=" + args.audience if args.audience else ""
    try:
        for s in servers.values():
            s.wait_ready()
        async with async_playwright() as pw:
            browser = await pw.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
            pages = {}
            for side, server in servers.items():
                ctx = await browser.new_context(viewport=VIEWPORT)  # type: ignore[arg-type]
                await ctx.add_init_script(_init_js())
                await ctx.add_init_script(HOOK_JS)
                page = await ctx.new_page()
                await _open(page, server.url + "/" + query, PAINTED_JS, f"the {side} app", server.log_path)
                await _wait_idle(page)
                await page.wait_for_timeout(1000)
                pages[side] = page
            plan_i = 0
            for i in range(args.steps):
                step, plan_i = _plan_step(pages["after"].url, plan_i)
                assert step is not None
                key, label, target = step
                for side in (list(pages) if i % 2 == 0 else list(pages)[::-1]):
                    page = pages[side]
                    await page.evaluate(START_JS)
                    await page.evaluate(ARM_JS, {"graph": GRAPH, "body": BODY_CHART, "text": None})
                    await _select(page, key, label)
                    await page.wait_for_function(DONE_JS, arg={"mode": "app", "body": BODY_CHART, "bodyGraceMs": 1500},
                                                 timeout=STEP_TIMEOUT_MS, polling=50)
                    await page.wait_for_timeout(SETTLE_MS)
                    row = await page.evaluate(READ_JS)
                    row["target"] = target
                    rows[side].append(row)
                    print(f"step {i + 1:2d} {target:<26} {side:<6} commits {row['commits']:3d} renders {row['rendered']:6d} "
                          f"components {row['fibers']:5d} messages {row['msgs']:3d}", flush=True)
            await browser.close()
    finally:
        for s in servers.values():
            s.stop()
    text: list[str] = []
    for side, rs in rows.items():
        text.append(f"== {side} ({trees[side]}): {len(rs)} switches, p50")
        for k in ("commits", "rendered", "fibers", "msgs"):
            text.append(f"  {k:<10} {statistics.median(r[k] for r in rs):8.0f}")
        kinds: Counter[str] = Counter()
        for r in rs:
            kinds.update({k: v["rendered"] for k, v in r["kinds"].items()})
        text.append("  renders per switch by kind of element (mean):")
        text += [f"    {n / len(rs):7.0f}  {k}" for k, n in kinds.most_common(args.top)]
    print("\n".join(text))
    (out / "react_commits.json").write_text(json.dumps({"trees": {k: str(v) for k, v in trees.items()}, "rows": rows},
                                                       indent=1))
    (out / "react_commits.txt").write_text("\n".join(text) + "\n")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", default="", help="a second source tree, measured interleaved (a clean clone)")
    parser.add_argument("--after", default=str(ROOT), help="the source tree to measure (default: this one)")
    parser.add_argument("--steps", type=int, default=4)
    parser.add_argument("--audience", default="", help="open the pages as this audience (student by default)")
    parser.add_argument("--top", type=int, default=20, help="kinds of element listed")
    parser.add_argument("--out", default="/tmp/react_commits")
    return asyncio.run(amain(parser.parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main())

"""Where the server's time goes when a page run shows a state no session has seen yet (in process).

Each step runs the whole page script (Streamlit's AppTest, no browser) for one new state of the
registry, under cProfile, and reports per state and as p50 over the states: the script run's wall
time and the inclusive time of its parts (simulate, the story view, the 3D payload and its pieces,
the body chart, the texts). The model is loaded, and every condition's default state simulated and
given its story view, before the first measured step: a first visit of a state, not a cold start. Inclusive times overlap (the
story view is inside the 3D view); "other" is the script run minus the top-level parts listed.

    PYTHONPATH=. python benchmarks/first_visit.py --states 24
    PYTHONPATH=. python benchmarks/first_visit.py --states 24 --json out.json

Pure Python on a shared machine: compare numbers from one run, not across runs. Profiling adds
about 10-30 % to Python-heavy parts.

``--server BEFORE_TREE`` drives real servers over the websocket instead (no browser): the tree at
BEFORE_TREE (a clean clone of an earlier commit) and this one, interleaved state by state.

    PYTHONPATH=. python benchmarks/first_visit.py --server /tmp/before --states 12

In process, each state is visited three ways, in fresh caches each time except the last (the order of the first
two alternates from state to state):

* ``computed``: the state store switched off (an empty folder), as before it existed: simulate and
  the story view's rays (the slip meshes built beforehand, as the server's warm-up does);
* ``stored``: the state read back from its file (``explorer/render/state_cache.py``, built first if
  missing);
* ``revisit``: the same state again right after ``stored`` (every cache warm).

``--session`` walks one AppTest session (one browser's) through run.py's PLAN twice, as run.py's
switch benchmark does: the first pass visits states the process has not seen, the second revisits
them with the same changes (the scene and chart deltas, the patches between the same pairs). Each
page run's thread CPU, and that of its costly parts, p50 over first visits and over revisits (no
profiler: the parts are timed by wrapping them). ``--against TREE`` walks a clean clone at TREE too,
in its own process, alternating ``--rounds`` times::

    PYTHONPATH=. python benchmarks/first_visit.py --session --against /tmp/before --rounds 2
"""

from __future__ import annotations

import argparse
import cProfile
import json
import math
import os
import pstats
import random
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

APP = str(ROOT / "explorer" / "app.py")
TIMEOUT_S = 120.0

# label -> (file suffix, function name); inclusive (cumulative) time per script run.
PARTS: dict[str, tuple[str, str]] = {
    "simulate": ("explorer/conditions/simulate.py", "simulate"),
    "  build_lesion": ("explorer/conditions/simulate.py", "<build_lesion>"),  # filled in below
    "  measure": ("explorer/conditions/simulate.py", "measure"),
    "  clinical_picture": ("explorer/clinical/picture.py", "clinical_picture"),
    "3D view (_build_view)": ("explorer/ui/viewer_panel.py", "_build_view"),
    "  story view (choose_story_view)": ("explorer/render/story.py", "choose_story_view"),
    "  preset see-through (see_through_from)": ("explorer/render/story.py", "see_through_from"),
    "  scene_labels": ("explorer/render/labels.py", "scene_labels"),
    "  scene_items": ("explorer/render/model_scene.py", "scene_items"),
    "  build_scene_payload": ("explorer/render/scene3d.py", "build_scene_payload"),
    "  describe_scene": ("explorer/render/model_scene.py", "describe_scene"),
    "viewer component call (spine_viewer)": ("explorer/ui/viewer3d.py", "spine_viewer"),
    "body chart (condition_chart)": ("explorer/ui/where_felt.py", "condition_chart"),
    "  chart payload": ("explorer/ui/where_felt.py", "_condition_chart_payload"),
    "sections panel": ("explorer/ui/sections_panel.py", "sections_panel"),
    "findings_lines": ("explorer/ui/page.py", "findings_lines"),
    "impact panel": ("explorer/ui/page.py", "_impact_panel"),
    "findings panel": ("explorer/ui/page.py", "_findings_panel"),
    "selection panel": ("explorer/ui/page.py", "_selection_panel"),
    "sidebar / controls": ("explorer/ui/controls.py", "sidebar_controls"),
    "reading panel (texts)": ("explorer/ui/reading.py", "reading_panel"),
    "glossary panel": ("explorer/ui/reading.py", "glossary_panel"),
}
TOP_LEVEL = ("simulate", "3D view (_build_view)", "viewer component call (spine_viewer)",
             "body chart (condition_chart)", "sections panel", "findings_lines", "impact panel",
             "findings panel", "selection panel", "sidebar / controls", "reading panel (texts)", "glossary panel")


def _states(n: int, seed: int) -> list[tuple[str, dict[str, str]]]:
    """``n`` states spread over the registry (every condition, its share of the states)."""
    from explorer.conditions.combos import combinations
    from explorer.conditions.registry import CONDITIONS

    every = [(cid, params) for cid, spec in CONDITIONS.items() for params in combinations(spec)]
    rng = random.Random(seed)
    rng.shuffle(every)
    defaults = {(cid, tuple(sorted(spec.defaults().items()))) for cid, spec in CONDITIONS.items()}
    chosen = [s for s in every if (s[0], tuple(sorted(s[1].items()))) not in defaults]
    return chosen[:n]


def _inclusive(stats: pstats.Stats, suffix: str, name: str) -> float:
    """Seconds spent in functions of ``suffix`` named ``name`` (``<any>``: every function of the file,
    counting only entries from outside the file), not double counting recursion."""
    total = 0.0
    for (path, _line, func), (_cc, _nc, _tt, ct, callers) in stats.stats.items():  # type: ignore[attr-defined]
        if not path.replace("\\", "/").endswith(suffix):
            continue
        if name == "<any>":
            outside = sum(c[3] for (cp, _l, _f), c in callers.items() if not cp.replace("\\", "/").endswith(suffix))
            total += outside
        elif func == name:
            total += ct
    return total


MODES: tuple[str, ...] = ("computed", "stored", "revisit")


def run(n_states: int, seed: int) -> dict:
    import tempfile

    from streamlit.testing.v1 import AppTest

    import explorer.ui.page as page
    from explorer import settings
    from explorer.anatomy.model import load_model
    from explorer.conditions.registry import CONDITIONS
    from explorer.conditions.simulate import simulate
    from explorer.render import state_cache
    from explorer.render import story as story_mod
    from explorer.render.story import story_view
    from explorer.ui import resources

    # AppTest runs the page on a thread of its own: profile there, around the page's main().
    runs: list[tuple[cProfile.Profile, float]] = []
    real_main = page.main

    def profiled_main() -> None:
        prof = cProfile.Profile()
        t0 = time.perf_counter()
        prof.enable()
        try:
            real_main()
        finally:
            prof.disable()
            runs.append((prof, time.perf_counter() - t0))

    page.main = profiled_main  # app.py looks main up on every run
    os.environ["XDG_CACHE_HOME"] = tempfile.mkdtemp()  # the user's own state cache stays out of it
    stored_dir, empty_dir = state_cache.STATES_DIR, Path(tempfile.mkdtemp())
    # Warm: the model, each condition's first-use imports and shared meshes (the server's warm-up
    # builds the slip meshes), the page's own first run.
    model = load_model(save_rebuilt=False)
    for cid, spec in CONDITIONS.items():
        story_view(model, simulate(cid, spec.defaults(), model), settings.STORY_VIEW_ASPECT)
        if spec.warm_up is not None:
            spec.warm_up()
    chosen = _states(n_states, seed)
    built = state_cache.build(resources.get_model(), stored_dir, states=chosen, log=lambda line: None)
    print(f"state files: {built.kept} there, {built.written} written ({built.seconds:.1f} s)", flush=True)
    at = AppTest.from_file(APP, default_timeout=TIMEOUT_S)
    at.run()

    def visit(cid: str, params: dict[str, str], mode: str) -> dict[str, float]:
        if mode != "revisit":  # a state no session has seen: drop what the process remembers of it
            resources.get_impact.clear()
            story_mod.clear_caches()
            state_cache.STATES_DIR = empty_dir if mode == "computed" else stored_dir
        at = AppTest.from_file(APP, default_timeout=TIMEOUT_S)
        at.query_params["condition"] = cid
        for k, v in params.items():
            at.query_params[k] = v
        runs.clear()
        at.run()
        prof, wall = runs[-1]
        if at.exception:
            raise RuntimeError(f"{cid} {params}: {at.exception}")
        stats = pstats.Stats(prof)
        ms: dict[str, float] = {"script run": wall * 1000}
        for label, (suffix, name) in PARTS.items():
            if name == "<build_lesion>":
                suffix, name = f"explorer/conditions/{cid}.py", "build_lesion"
            ms[label] = _inclusive(stats, suffix, name) * 1000
        ms["other (script run - top-level parts)"] = ms["script run"] - sum(ms[k] for k in TOP_LEVEL)
        return ms

    rows: dict[str, list[dict]] = {m: [] for m in MODES}
    for n, (cid, params) in enumerate(chosen):
        state = f"{cid} " + ",".join(f"{k}={v}" for k, v in sorted(params.items()))
        order = ("computed", "stored") if n % 2 == 0 else ("stored", "computed")
        for mode in order:
            rows[mode].append({"state": state, **visit(cid, params, mode)})
            if mode == "stored":
                rows["revisit"].append({"state": state, **visit(cid, params, "revisit")})
        print(f"{state:<70} run ms: computed {rows['computed'][-1]['script run']:6.0f}  "
              f"stored {rows['stored'][-1]['script run']:6.0f}  revisit {rows['revisit'][-1]['script run']:6.0f}",
              flush=True)
    state_cache.STATES_DIR = stored_dir
    labels = ["script run", *PARTS, "other (script run - top-level parts)"]
    summary = {m: {label: float(np.median([r[label] for r in rows[m]])) for label in labels} for m in MODES}
    print(f"\np50 over {len(chosen)} states (ms, inclusive, under cProfile):")
    print(f"  {'':<42} {'computed':>9} {'stored':>9} {'revisit':>9}")
    for label in labels:
        print(f"  {label:<42} " + " ".join(f"{summary[m][label]:9.1f}" for m in MODES))
    ratio = summary["stored"]["script run"] / summary["revisit"]["script run"]
    print(f"  first visit (stored) / revisit: {ratio:.2f}x; computed / revisit: "
          f"{summary['computed']['script run'] / summary['revisit']['script run']:.2f}x")
    return {"states": rows, "p50_ms": summary}


def _tree_server(root: Path, log: Path) -> Any:
    """``streamlit run explorer/app.py`` from the tree at ``root`` (its own ``explorer`` package:
    ``python -m`` puts the working folder first on the path), on a free loopback port."""
    import subprocess

    from benchmarks._common import Server

    server = Server.__new__(Server)
    server.app, server.port = "explorer/app.py", _free_port()
    server.url, server.log_path = f"http://127.0.0.1:{server.port}", log
    server._log = log.open("w")  # noqa: SLF001 - Server's own field, filled as its __init__ does
    server.t0 = time.perf_counter()
    server.proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "explorer/app.py", "--server.port", str(server.port),
         "--server.address", "127.0.0.1", "--server.headless", "true", *Server.EXTRA_ARGS],
        cwd=root, stdout=server._log, stderr=subprocess.STDOUT)  # noqa: SLF001
    return server


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def run_servers(before: Path, n_states: int, seed: int) -> dict:
    """Real servers, no browser: the tree at ``before`` and this tree, both warmed up (their start-up
    warm-up finished), then for each state a new websocket session opens its link in one server and
    in the other (the order alternating): the first visit's script run (request -> script_finished)
    and the server's CPU for it, then the same session reruns it (a revisit)."""
    import tempfile

    from benchmarks.server_load import cpu_seconds, run_coroutine

    logs = Path(tempfile.mkdtemp())
    servers = {"before": _tree_server(before, logs / "before.log"), "after": _tree_server(ROOT, logs / "after.log")}
    rows: dict[str, list[dict[str, float]]] = {k: [] for k in servers}
    try:
        for server in servers.values():
            server.wait_ready(300.0)
            run_coroutine(_visit(server.url, ""))  # the first page run, which lets the later warm-up start
        for name, server in servers.items():
            waited = server.wait_warmed_up(600.0)
            print(f"{name}: warm-up done after {waited} s more; RSS {server.rss_bytes() / 2**20:.0f} MiB", flush=True)
        rss0 = {k: s.rss_bytes() for k, s in servers.items()}
        for n, (cid, params) in enumerate(_states(n_states, seed)):
            query = "&".join(f"{k}={v}" for k, v in {"condition": cid, **params}.items())
            order = list(servers) if n % 2 == 0 else list(reversed(servers))
            line = []
            for name in order:
                server = servers[name]
                cpu0 = cpu_seconds(server.proc.pid)
                first, again, cpu_first = run_coroutine(_visit(server.url, query, lambda pid=server.proc.pid: cpu_seconds(pid)))
                rows[name].append({"first_ms": first, "revisit_ms": again, "first_cpu_ms": (cpu_first - cpu0) * 1000})
                line.append(f"{name} first {first:6.0f} ms (cpu {(cpu_first - cpu0) * 1000:5.0f}) revisit {again:5.0f} ms")
            print(f"{cid} {query[len('condition=' + cid) + 1:]:<50} " + "  ".join(line), flush=True)
        rss1 = {k: s.rss_bytes() for k, s in servers.items()}
    finally:
        for server in servers.values():
            server.stop()
    summary = {}
    for name, r in rows.items():
        summary[name] = {k: float(np.median([x[k] for x in r])) for k in ("first_ms", "revisit_ms", "first_cpu_ms")}
        summary[name]["rss_before_mib"], summary[name]["rss_after_mib"] = rss0[name] / 2**20, rss1[name] / 2**20
    print(f"\np50 over {n_states} states (ms): first visit / revisit / server CPU of the first visit; RSS MiB")
    for name, x in summary.items():
        print(f"  {name:<7} first {x['first_ms']:6.0f}  revisit {x['revisit_ms']:6.0f}  ({x['first_ms'] / x['revisit_ms']:.2f}x)"
              f"  cpu {x['first_cpu_ms']:6.0f}  RSS {x['rss_before_mib']:.0f} -> {x['rss_after_mib']:.0f}")
    b, a = summary["before"], summary["after"]
    print(f"  first visit after / before: {a['first_ms'] / b['first_ms']:.2f}x; CPU {a['first_cpu_ms'] / b['first_cpu_ms']:.2f}x")
    return {"servers": rows, "p50": summary, "before_tree": str(before)}


async def _visit(url: str, query: str, cpu: Any = None) -> tuple[float, float, float]:
    from benchmarks.server_load import Client, Session

    s = Session(0)
    client = Client(url, "condition", s)
    await client.connect()
    await client.load(query, timeout_s=300.0)
    used = cpu() if cpu is not None else 0.0
    await client.load(query, timeout_s=300.0)  # the same link again in the same session: a revisit
    await client.close()
    if s.errors:
        raise RuntimeError(f"{query}: {s.errors[:3]}")
    first, again = ((c.finished or math.nan) * 1000 - c.sent * 1000 for c in s.loads)
    return first, again, used


# The page run's costly parts on a state's first visit, timed in --session mode: (module, name looked
# up there at call time). Thread CPU, inclusive.
SESSION_PARTS: tuple[tuple[str, str], ...] = (
    ("explorer.ui.resources", "_make_impact"),
    ("explorer.ui.viewer_panel", "_build_view"),
    ("explorer.ui.viewer_panel", "scene_labels"),
    ("explorer.ui.viewer_panel", "scene_items"),
    ("explorer.ui.viewer_panel", "build_scene_payload"),
    ("explorer.ui.viewer_panel", "spine_viewer"),
    ("explorer.ui.where_felt", "_condition_chart_payload"),
    ("explorer.ui.where_felt", "chart_payload"),
    ("explorer.ui.where_felt", "body_chart"),
)


def run_session(steps: int) -> dict[str, Any]:
    """One AppTest session through run.py's PLAN (see the module docstring); thread CPU in ms."""
    import functools
    import importlib
    import tempfile
    from collections import defaultdict

    from streamlit.testing.v1 import AppTest

    import explorer.ui.page as page
    from benchmarks.run import PLAN
    from explorer.conditions.registry import CONDITIONS
    from explorer.ui import startup

    spent: dict[str, float] = defaultdict(float)

    def timed(module: Any, name: str) -> None:
        real = getattr(module, name)

        @functools.wraps(real)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            t = time.thread_time()
            try:
                return real(*args, **kwargs)
            finally:
                spent[name] += time.thread_time() - t
        setattr(module, name, wrapper)

    for module_name, name in SESSION_PARTS:
        timed(importlib.import_module(module_name), name)
    runs: list[tuple[float, dict[str, float]]] = []
    real_main = page.main

    def timed_main() -> None:
        spent.clear()
        t = time.thread_time()
        try:
            real_main()
        finally:
            runs.append((time.thread_time() - t, dict(spent)))

    page.main = timed_main  # app.py looks main up on every run
    os.environ["XDG_CACHE_HOME"] = tempfile.mkdtemp()  # the user's own state cache stays out of it
    for _name, step in startup.STEPS:  # as a server's start-up: modules, model, texts
        step()
    app = str(Path(page.__file__).resolve().parent.parent / "app.py")
    at = AppTest.from_file(app, default_timeout=TIMEOUT_S)
    at.run()
    startup.warm_conditions(0.0)  # the later warm-up's first step
    at.run()

    def widget(key: str) -> Any:
        return next((w for kind in (at.selectbox, at.radio) for w in kind if w.key == key), None)

    rows: list[tuple[bool, float, dict[str, float]]] = []
    seen: set[tuple[Any, ...]] = set()
    plan_i = 0
    while len(rows) < steps:
        kind, what = PLAN[plan_i % len(PLAN)]
        plan_i += 1
        condition = widget("condition").value
        if kind == "condition":
            if what == condition:
                continue
            widget("condition").set_value(what)
        else:
            w = widget(f"param_{what}")
            if condition not in CONDITIONS or w is None:
                continue
            values = list(CONDITIONS[condition].param(what).values)
            w.set_value(values[(values.index(w.value) + 1) % len(values)])
        runs.clear()
        at.run()
        if at.exception:
            raise RuntimeError(f"step {len(rows) + 1}: {at.exception}")
        state = (widget("condition").value,
                 *((w.key, w.value) for kind in (at.selectbox, at.radio) for w in kind if str(w.key).startswith("param_")))
        rows.append((state not in seen, runs[-1][0] * 1000, {k: v * 1000 for k, v in runs[-1][1].items()}))
        seen.add(state)
    labels = ["page run", *(name for _m, name in SESSION_PARTS)]
    summary: dict[str, dict[str, float]] = {}
    for first, label in ((True, "first visit"), (False, "revisit")):
        chosen = [r for r in rows if r[0] is first]
        summary[label] = {name: float(np.median([r[1] if name == "page run" else r[2].get(name, 0.0) for r in chosen]))
                          for name in labels} if chosen else {}
        summary[label]["n"] = len(chosen)
    return summary


def run_sessions(steps: int, against: Path | None, rounds: int) -> dict[str, Any]:
    """:func:`run_session` in a process of its own per tree (this one, and ``against``), alternating."""
    import subprocess
    import tempfile

    trees = {"this": ROOT} if against is None else {"against": against.resolve(), "this": ROOT}
    results: dict[str, list[dict[str, Any]]] = {k: [] for k in trees}
    for n in range(rounds):
        for name, tree in (trees.items() if n % 2 == 0 else reversed(trees.items())):
            with tempfile.NamedTemporaryFile(suffix=".json") as out:
                cmd = [sys.executable, __file__, "--session-tree", str(tree), "--steps", str(steps), "--json", out.name]
                subprocess.run(cmd, cwd=tree, check=True,
                               env={**os.environ, "PYTHONPATH": str(tree)}, stdout=subprocess.DEVNULL)
                results[name].append(json.loads(Path(out.name).read_text()))
    labels = list(next(iter(results.values()))[0]["first visit"])
    print(f"thread CPU per page run, p50 (ms): first visit / revisit; {rounds} round(s), {steps} steps each")
    for label in labels:
        cells = []
        for name, rs in results.items():
            # (no revisits in a walk shorter than one pass of the plan: those cells read nan)
            cells.append(f"{name} " + ", ".join(f"{r['first visit'].get(label, math.nan):6.1f} / "
                                                f"{r['revisit'].get(label, math.nan):6.1f}" for r in rs))
        print(f"  {label:<26} " + "   ".join(cells))
    return {"trees": {k: str(v) for k, v in trees.items()}, "rounds": results}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--states", type=int, default=24, help="how many new states (default 24)")
    parser.add_argument("--seed", type=int, default=7, help="which states (a shuffle of the registry)")
    parser.add_argument("--json", type=Path, help="write the rows and the p50s here")
    parser.add_argument("--server", type=Path, metavar="BEFORE_TREE",
                        help="real servers instead: this tree against the one at BEFORE_TREE (a clean clone)")
    parser.add_argument("--session", action="store_true", help="one session through run.py's PLAN, twice (see above)")
    parser.add_argument("--steps", type=int, default=34, help="--session: page changes (PLAN has 17 per pass)")
    parser.add_argument("--against", type=Path, metavar="TREE", help="--session: also a clean clone at TREE, alternating")
    parser.add_argument("--rounds", type=int, default=2, help="--session: processes per tree")
    parser.add_argument("--session-tree", type=Path, help=argparse.SUPPRESS)  # one walk in this process
    args = parser.parse_args()
    if args.session_tree is not None:
        sys.path.insert(0, str(args.session_tree))  # that tree's explorer package, before any import of it
        result = run_session(args.steps)
    elif args.session:
        result = run_sessions(args.steps, args.against, args.rounds)
    else:
        result = run_servers(args.server, args.states, args.seed) if args.server else run(args.states, args.seed)
    if args.json:
        args.json.write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()

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
"""

from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import random
import sys
import time
from pathlib import Path

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


def run(n_states: int, seed: int) -> dict:
    from streamlit.testing.v1 import AppTest

    import explorer.ui.page as page
    from explorer import settings
    from explorer.anatomy.model import load_model
    from explorer.conditions.registry import CONDITIONS
    from explorer.conditions.simulate import simulate
    from explorer.render.story import story_view

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
    # Warm: the model, each condition's first-use imports, the page's own first run.
    model = load_model(save_rebuilt=False)
    for cid, spec in CONDITIONS.items():
        story_view(model, simulate(cid, spec.defaults(), model), settings.STORY_VIEW_ASPECT)
    at = AppTest.from_file(APP, default_timeout=TIMEOUT_S)
    at.run()
    rows = []
    for cid, params in _states(n_states, seed):
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
        row = {"state": f"{cid} " + ",".join(f"{k}={v}" for k, v in sorted(params.items())), **ms}
        rows.append(row)
        print(f"{row['state']:<70} run {wall * 1000:7.0f} ms  simulate {ms['simulate']:6.0f}  "
              f"3D {ms['3D view (_build_view)']:6.0f}  story {ms['  story view (choose_story_view)']:5.0f}  "
              f"chart {ms['body chart (condition_chart)']:5.0f}", flush=True)
    labels = ["script run", *PARTS, "other (script run - top-level parts)"]
    summary = {label: float(np.median([r[label] for r in rows])) for label in labels}
    print(f"\np50 over {len(rows)} first visits (ms, inclusive, under cProfile):")
    for label in labels:
        print(f"  {label:<42} {summary[label]:8.1f}")
    return {"states": rows, "p50_ms": summary}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--states", type=int, default=24, help="how many new states (default 24)")
    parser.add_argument("--seed", type=int, default=7, help="which states (a shuffle of the registry)")
    parser.add_argument("--json", type=Path, help="write the rows and the p50s here")
    args = parser.parse_args()
    result = run(args.states, args.seed)
    if args.json:
        args.json.write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()

"""What the page sends per run, and how much of it the browser must render again after a change.

Streamlit sends each part of the page as a delta with its place in the page's tree (``delta_path``)
and a hash of its content. Its frontend reuses an element whose hash is the one already at that
place (``AppRoot.applyDelta``: the old element object is kept, so its React component is not
rendered again); anything new, or moved to another place, is rendered again. This walks a list of
states in order (AppTest, no browser) and prints per state the messages and elements sent, and per
change how many elements are reused and how many must be rendered again.

    python benchmarks/page_deltas.py [--audience patient] [-v] [--kinds]

``--kinds`` also lists each run's elements and blocks by type. Every one of them costs the browser on
every switch, changed or not: Streamlit's frontend renders the whole page again in the 3-4 big React
commits of a run (benchmarks/react_commits.py; benchmarks/results/page_ablation-s10.txt), so the
number of elements on the page, not only the number that change, is what to keep small.

No timing: counts only, the same on every machine.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from streamlit.runtime.scriptrunner_utils.script_run_context import ScriptRunContext
from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parent.parent / "explorer" / "app.py")
# The first steps of benchmarks/run.py's PLAN and a few condition changes.
STATES: list[dict[str, str]] = [
    {}, {"condition": "herniation"}, {"condition": "herniation", "zone": "foraminal"},
    {"condition": "herniation", "zone": "foraminal", "side": "right"},
    {"condition": "stenosis"}, {"condition": "stenosis", "zone": "foraminal"},
    {"condition": "piriformis"}, {"condition": "cauda_equina"}, {"condition": "spondylolisthesis"},
]
Row = tuple[tuple[int, ...], str, str, str, int]  # path, delta kind, element type, hash, bytes


def record(states: list[dict[str, str]]) -> list[list[Row]]:
    """The deltas of one full run per state (a fresh session each: the first run of a link)."""
    log: list[Row] = []
    original = ScriptRunContext.enqueue

    def enqueue(self: ScriptRunContext, msg: Any) -> None:
        original(self, msg)  # sets msg.hash
        if msg.WhichOneof("type") != "delta":
            return
        d = msg.delta
        kind = d.WhichOneof("type") or ""
        what = (d.new_element.WhichOneof("type") if kind == "new_element"
                else d.add_block.WhichOneof("type") if kind == "add_block" else "") or ""
        log.append((tuple(msg.metadata.delta_path), kind, what, msg.hash, msg.ByteSize()))

    runs = []
    ScriptRunContext.enqueue = enqueue  # type: ignore[method-assign]
    try:
        for query in states:
            log.clear()
            at = AppTest.from_file(APP, default_timeout=120)
            for key, value in query.items():
                at.query_params[key] = value
            at.run()
            if at.exception:
                raise RuntimeError(f"{query}: {[e.value for e in at.exception]}")
            runs.append(list(log))
    finally:
        ScriptRunContext.enqueue = original  # type: ignore[method-assign]
    return runs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--audience", default="", help="student (default), educator or patient")
    parser.add_argument("-v", "--verbose", action="store_true", help="list the elements rendered again")
    parser.add_argument("--kinds", action="store_true", help="count each run's elements and blocks by type")
    args = parser.parse_args(argv)
    states = [{**s, **({"audience": args.audience} if args.audience else {})} for s in STATES]
    runs = record(states)
    prev: list[Row] | None = None
    for query, run in zip(states, runs, strict=True):
        elements = [r for r in run if r[1] == "new_element"]
        line = f"{'&'.join(f'{k}={v}' for k, v in query.items()) or '(start)':<55} messages {len(run):3d}  elements {len(elements):3d}"
        if prev is not None:
            at_place = {r[0]: r[3] for r in prev}
            again = [r for r in elements if at_place.get(r[0]) != r[3]]
            line += f"  reused {len(elements) - len(again):3d}  rendered again {len(again):3d}"
            print(line)
            if args.verbose:
                for r in again:
                    print(f"      {r[0]} {r[2]} {r[4]} B")
        else:
            print(line)
        if args.kinds:
            kinds = Counter(r[2] or r[1] for r in run)
            print("      " + ", ".join(f"{k} {n}" for k, n in kinds.most_common()))
        prev = run
    return 0


if __name__ == "__main__":
    sys.exit(main())

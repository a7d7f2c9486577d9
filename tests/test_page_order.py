"""The order and the places in which the page's parts are sent to the browser.

Streamlit sends each part (a "delta", with its place in the page's tree and a hash of its content)
as the script draws it, and its frontend renders each as it arrives; a component (the 3D view, the
body chart) is called only after that render. Two properties of ``explorer.ui.page`` keep the
browser's work between the pictures' data and their drawing small:

* the 3D view and the body chart are sent before the texts of the main area (the browser's main
  thread is the slow part of a change: the pictures' data waits behind every part sent before it,
  and the texts render while the GPU draws the 3D frame), in places created in layout order;
* parts whose content does not change keep their place in the tree when the reading above them
  gets longer or shorter: Streamlit's frontend reuses an element whose hash and place are unchanged
  since the last run instead of rendering it again (``applyDelta`` in its ``AppRoot``).

The deltas are read where Streamlit's script thread queues them (``ScriptRunContext.enqueue``).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.runtime.scriptrunner_utils.script_run_context import ScriptRunContext
from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parent.parent / "explorer" / "app.py")
TIMEOUT_S = 120


@dataclass(frozen=True)
class Delta:
    path: tuple[int, ...]
    kind: str  # "new_element", "add_block", "new_transient"
    what: str  # the element or block type ("markdown", "bidi_component", "expandable", ...)
    name: str  # a component's name, an expander's label, else ""
    hash: str


def _delta(msg: ForwardMsg) -> Delta | None:
    if msg.WhichOneof("type") != "delta":
        return None
    d = msg.delta
    kind = d.WhichOneof("type") or ""
    what, name = "", ""
    if kind == "new_element":
        what = d.new_element.WhichOneof("type") or ""
        if what == "bidi_component":
            name = d.new_element.bidi_component.component_name
    elif kind == "add_block":
        what = d.add_block.WhichOneof("type") or ""
        if what == "expandable":
            name = d.add_block.expandable.label
    return Delta(tuple(msg.metadata.delta_path), kind, what, name, msg.hash)


@pytest.fixture
def recorded(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Delta]]:
    """Every delta the page's runs queue, in order."""
    log: list[Delta] = []
    original = ScriptRunContext.enqueue

    def enqueue(self: ScriptRunContext, msg: ForwardMsg) -> None:
        original(self, msg)  # sets the hash
        delta = _delta(msg)
        if delta is not None:
            log.append(delta)

    monkeypatch.setattr(ScriptRunContext, "enqueue", enqueue)
    yield log


def _run(log: list[Delta], query: dict[str, str]) -> list[Delta]:
    log.clear()
    at = AppTest.from_file(APP, default_timeout=TIMEOUT_S)
    for key, value in query.items():
        at.query_params[key] = value
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return list(log)


def _main(deltas: list[Delta]) -> list[Delta]:
    return [d for d in deltas if d.path and d.path[0] == 0]  # 0: the main area, 1: the sidebar


def _component_index(deltas: list[Delta], part: str) -> int:
    found = [i for i, d in enumerate(deltas) if d.what == "bidi_component" and part in d.name]
    assert len(found) == 1, (part, [d.name for d in deltas if d.what == "bidi_component"])
    return found[0]


@pytest.mark.parametrize("audience", ["student", "educator", "patient"])
def test_the_pictures_are_sent_before_the_texts(recorded: list[Delta], audience: str) -> None:
    deltas = _main(_run(recorded, {"condition": "herniation", "audience": audience}))
    viewer, chart = _component_index(deltas, "viewer3d"), _component_index(deltas, "chart2d")
    first, last = min(viewer, chart), max(viewer, chart)
    glossary = [i for i, d in enumerate(deltas) if d.name.startswith("Glossary")]
    assert glossary and glossary[0] > last
    texts = ("markdown", "heading", "alert", "expandable")
    texts_before = [d for d in deltas[:first] if d.what in texts]
    texts_after = sum(1 for d in deltas[last:] if d.what in texts)
    # Before the first picture only the page's title and its notes; the condition's words, the
    # findings and the reading (closed folds send only their label) come after both pictures.
    assert len(texts_before) <= 2 and texts_after >= 15, (texts_before, texts_after)
    assert not any(d.what == "markdown" and d.path[:2] != deltas[viewer].path[:2] for d in deltas[first:last])
    # ...and they sit in the places made for them in layout order: the 3D view in the first
    # column, the chart in the last one, both of the same row of columns, each first in its column.
    assert deltas[viewer].path[:2] == deltas[chart].path[:2]
    assert deltas[viewer].path[2] == 0 and deltas[chart].path[2] > 0
    assert deltas[viewer].path[3] == 0 and deltas[chart].path[3] == 0


@pytest.mark.parametrize(("first", "second"), [
    ({"condition": "herniation"}, {"condition": "herniation", "zone": "foraminal"}),
    ({"condition": "herniation"}, {"condition": "stenosis"}),
    ({"condition": "piriformis", "audience": "patient"}, {"condition": "cauda_equina", "audience": "patient"}),
])
def test_unchanged_parts_keep_their_place_when_the_reading_changes(
        recorded: list[Delta], first: dict[str, str], second: dict[str, str]) -> None:
    a, b = _main(_run(recorded, first)), _main(_run(recorded, second))
    # The reading itself changes between these states (otherwise the test proves nothing)...
    assert [d.hash for d in a if d.what == "markdown"] != [d.hash for d in b if d.what == "markdown"]
    # ...while the glossary, the disclaimer and everything else after the reading that is the same
    # in both keeps its place, so the browser reuses it without rendering it again.
    in_b = {(d.path, d.hash) for d in b}

    def tail(deltas: list[Delta]) -> list[Delta]:
        # From the glossary to the pictures' text description (its words change with the state).
        start = next(i for i, d in enumerate(deltas) if d.name.startswith("Glossary"))
        end = next(i for i, d in enumerate(deltas) if d.name.startswith("What you are looking at in 3D"))
        return [d for d in deltas[start:end] if d.kind == "new_element"]

    assert tail(a), "no glossary found"
    moved = [d for d in tail(a) if (d.path, d.hash) not in in_b]
    assert not moved, moved

"""The delta protocol's Python end (explorer.frontend.transport.scene_delta / json_patch).

What a browser is sent on each rerun: only what changed since the scene it has, changed traces as
field patches. The JavaScript end (explorer/frontend/delta.js) is tested by ``node --test
tests/js`` on tests/js/fixtures/delta_cases.json, which the test below writes from these very
messages (``LUMBAR_UPDATE_FIXTURES=1`` rewrites it; otherwise it must be current).
"""

from __future__ import annotations

import copy
import json
import os
from pathlib import Path
from typing import Any

import pytest

from explorer.frontend.transport import DeltaLedger, json_patch, scene_delta

FIXTURE = Path(__file__).resolve().parent / "js" / "fixtures" / "delta_cases.json"


def _apply_patch(base: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    """A reference implementation of delta.js applyPatch, to check the patches' meaning here."""
    out = dict(base)
    for k in patch.get("unset", []):
        out.pop(k, None)
    out.update(patch.get("set", {}))
    for k, p in patch.get("sub", {}).items():
        out[k] = _apply_patch(base[k], p)
    return out


def _apply(have: dict[str, Any] | None, msg: dict[str, Any]) -> dict[str, Any]:
    """A reference implementation of delta.js applyDelta (raises where the JS returns null)."""
    if msg["base"] is not None:
        assert have is not None and have["hash"] == msg["base"]
    if "keys" in msg:
        keys = msg["keys"]
    elif "keyRuns" in msg:
        keys = [k for r in msg["keyRuns"] for k in ([r] if isinstance(r, str) else have["keys"][r[0]:r[0] + r[1]])]
    else:
        keys = have["keys"]
    data = []
    for k in keys:
        if k in msg["traces"]:
            data.append(msg["traces"][k])
        elif k in msg.get("patches", {}):
            data.append(_apply_patch(have["traces"][k], msg["patches"][k]))
        else:
            data.append(have["traces"][k])
    if "layout" in msg:
        layout = msg["layout"]
    elif "layoutPatch" in msg:
        layout = _apply_patch(have["layout"], msg["layoutPatch"])
    else:
        layout = have["layout"]
    return {"hash": msg["hash"], "keys": keys, "traces": dict(zip(keys, data, strict=True)), "data": data,
            "layout": layout}


def _area(uid: str, fill: str, text: str, n: int = 12) -> dict[str, Any]:
    return {"type": "scatter", "meta": uid, "x": [i * 0.5 for i in range(n)], "y": [i * 0.25 for i in range(n)],
            "customdata": [uid] * n, "fillcolor": fill, "line": {"color": "#D5CEC6", "width": 0.8},
            "text": text, "name": uid}


def _scenes() -> list[dict[str, Any]]:
    """A run of scenes as a body chart or the 3D view changes: a fill, a line's dash, a trace
    added, one removed, the order changed, a layout field changed and one removed."""
    s1 = {"data": [_area("a", "#EEE", "A"), _area("b", "#EEE", "B"), {"uid": "m", "opacity": 1.0,
                                                                      "intensity": {"b64": "AAAA", "lo": 0, "hi": 0}}],
          "layout": {"height": 500, "scene": {"camera": {"eye": {"x": 1, "y": 1, "z": 1}}, "annotations": [1, 2]},
                     "title": {"text": "t"}}}
    s2 = copy.deepcopy(s1)
    s2["data"][0]["fillcolor"] = "rgba(1,2,3,0.5)"
    s2["data"][0]["line"]["dash"] = "dot"
    s2["data"][0]["text"] = "A<br>numbness"
    s2["data"][2]["intensity"] = {"b64": "AP8A", "lo": 0, "hi": 0.9}
    s2["data"][2]["opacity"] = 0.4
    s2["layout"]["scene"]["camera"]["eye"]["x"] = 2
    s3 = copy.deepcopy(s2)
    s3["data"].append(_area("c", "#F00", "C"))
    del s3["data"][0]["line"]["dash"]
    del s3["layout"]["title"]
    s4 = copy.deepcopy(s3)
    s4["data"] = [s4["data"][3], s4["data"][1], s4["data"][2]]  # a removed, c moved first
    s5 = copy.deepcopy(s4)  # nothing changed
    return [s1, s2, s3, s4, s5]


def _messages() -> list[dict[str, Any]]:
    ledger = DeltaLedger()
    return [scene_delta(s, ledger) for s in _scenes()]


def test_each_message_rebuilds_the_scene_exactly() -> None:
    have = None
    for scene, msg in zip(_scenes(), _messages(), strict=True):
        have = _apply(have, msg)
        assert have["data"] == scene["data"]
        assert have["layout"] == scene["layout"]


def test_changes_are_sent_as_patches_not_whole_traces() -> None:
    first, second, third, fourth, fifth = _messages()
    assert first["base"] is None and set(first["traces"]) == {"meta:a", "meta:b", "uid:m"}
    assert "layout" in first and "keys" in first
    # The area's outline (x, y, customdata) is not sent again: only what changed.
    assert set(second["patches"]) == {"meta:a"}
    assert second["patches"]["meta:a"] == {"set": {"fillcolor": "rgba(1,2,3,0.5)", "text": "A<br>numbness"},
                                           "sub": {"line": {"set": {"dash": "dot"}}}}
    # A trace that is mostly what changed goes whole (its patch would be no smaller).
    assert set(second["traces"]) == {"uid:m"}
    assert "keys" not in second, "same order: the keys are not resent"
    # Objects are patched PATCH_DEPTH (3) levels down; deeper, the changed object goes whole.
    assert second["layoutPatch"] == {"sub": {"scene": {"sub": {"camera": {"set": {"eye": {"x": 2, "y": 1, "z": 1}}}}}}}
    assert len(json.dumps(second)) < len(json.dumps(first)) / 2
    # A new trace goes whole; a removed field is unset; a removed layout field too.
    assert set(third["traces"]) == {"meta:c"} and third["keyRuns"] == [[0, 3], "meta:c"]
    assert third["patches"]["meta:a"] == {"sub": {"line": {"unset": ["dash"]}}}
    assert third["layoutPatch"] == {"unset": ["title"]}
    # A new order: the keys are sent, nothing else.
    assert fourth["keyRuns"] == [[3, 1], [1, 2]] and fourth["traces"] == {} and "patches" not in fourth
    assert fifth == {"hash": fourth["hash"], "base": fourth["hash"], "traces": {}}


def test_key_runs() -> None:
    from explorer.frontend.transport import key_runs

    base = ["a", "b", "c", "d"]
    assert key_runs(base, base) == [[0, 4]]
    assert key_runs(["a", "b", "x", "c", "d"], base) == [[0, 2], "x", [2, 2]]
    assert key_runs(["d", "a"], base) == [[3, 1], [0, 1]]
    assert key_runs([], base) == []


def test_a_patch_bigger_than_the_trace_sends_the_trace() -> None:
    ledger = DeltaLedger()
    scene_delta({"data": [{"uid": "a", "v": 1}], "layout": {}}, ledger)
    msg = scene_delta({"data": [{"uid": "a", "w": 2}], "layout": {}}, ledger)
    assert msg["traces"] == {"uid:a": {"uid": "a", "w": 2}} and "patches" not in msg


def test_forget_makes_the_next_message_complete() -> None:
    ledger = DeltaLedger()
    scenes = _scenes()
    scene_delta(scenes[0], ledger)
    ledger.forget()
    msg = scene_delta(scenes[1], ledger)
    assert msg["base"] is None and "layout" in msg and "patches" not in msg and len(msg["traces"]) == 3


@pytest.mark.parametrize(("old", "new", "patch"), [
    ({"a": 1}, {"a": 1}, {}),
    ({"a": [1, 2]}, {"a": [1, 3]}, {"set": {"a": [1, 3]}}),  # lists are replaced whole
    ({"a": {"b": 1}}, {"a": 5}, {"set": {"a": 5}}),
    ({"a": 1, "b": 2}, {"b": 2}, {"unset": ["a"]}),
    ({"a": None}, {"a": {"b": 1}}, {"set": {"a": {"b": 1}}}),
])
def test_json_patch(old: dict[str, Any], new: dict[str, Any], patch: dict[str, Any]) -> None:
    assert json_patch(old, new) == patch
    assert _apply_patch(old, patch) == new


def test_js_delta_fixture_is_what_python_sends() -> None:
    """tests/js/fixtures/delta_cases.json holds these scenes and messages for delta.test.js."""
    text = json.dumps({"scenes": _scenes(), "messages": _messages()}, indent=1, sort_keys=True) + "\n"
    if os.environ.get("LUMBAR_UPDATE_FIXTURES") == "1":
        FIXTURE.write_text(text)
    assert FIXTURE.is_file(), "run LUMBAR_UPDATE_FIXTURES=1 python -m pytest tests/test_transport.py"
    assert json.loads(FIXTURE.read_text()) == json.loads(text), (
        "the delta messages changed: LUMBAR_UPDATE_FIXTURES=1 python -m pytest tests/test_transport.py, "
        "then node --test tests/js")

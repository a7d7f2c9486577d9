"""The clinical case set (content/cases/): every case runs as its own test, the files are strict,
and the runner and ``python -m explorer validate`` report failures instead of crashing.

The expected answers live in the case files and come from the references they cite (never from
the app's output). A failing case here is a clinical error of the model, not of the test.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from explorer.__main__ import main
from explorer.clinical import cases as cs
from explorer.clinical.cases import (
    RED_FLAG_IDS,
    CaseProblem,
    evaluate_pattern,
    evaluate_vignette,
    load_cases,
    run_case,
    summary_line,
)

CASES, PROBLEMS = load_cases()
BY_ID = {c.id: c for c in CASES}
ALL_FLAGS = list(RED_FLAG_IDS)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_case(case):
    result = run_case(case)
    sources = "; ".join(r.cite() for r in case.sources)
    assert result.passed, (f"{case.id} ({case.path.name}): expected {result.expected}; got {result.got}\n  - "
                           + "\n  - ".join(result.failures) + f"\n  sources: {sources}")


def test_case_files_have_no_problems():
    assert not PROBLEMS, "\n".join(str(p) for p in PROBLEMS)


# --------------------------------------------------------------------- what the set covers


def _vignettes(condition: str) -> list[cs.Case]:
    return [c for c in CASES if c.kind == "vignette" and c.condition == condition]


def test_case_set_is_large_enough():
    assert sum(c.kind == "vignette" for c in CASES) >= 60
    assert sum(c.kind == "pattern" for c in CASES) >= 25


def test_herniation_covers_every_level_zone_and_both_sides():
    seen = {(c.params["level"], c.params["zone"], c.params.get("side")) for c in _vignettes("herniation")}
    severities = {c.params["severity"] for c in _vignettes("herniation")}
    assert severities == {"mild", "moderate", "severe"}
    for level in ("L1-L2", "L2-L3", "L3-L4", "L4-L5", "L5-S1"):
        assert (level, "central", None) in seen, level
        for zone in ("paracentral", "foraminal", "extraforaminal"):
            for side in ("left", "right"):
                assert (level, zone, side) in seen, (level, zone, side)


def test_severe_central_discs_require_both_traversing_roots_and_cauda_equina_flags():
    severe = [c for c in _vignettes("herniation") if c.params["zone"] == "central" and c.params["severity"] == "severe"]
    assert len(severe) == 5
    for c in severe:
        lower = c.params["level"].split("-")[1]
        assert {f"{lower}-left", f"{lower}-right"} <= set(c.expect["affected"]), c.id
        assert {"saddle_anaesthesia", "bladder"} <= set(c.expect["red_flags_present"]), c.id


def test_cauda_equina_at_three_levels_with_flags_on_both_sides():
    levels = {c.params["level"] for c in _vignettes("cauda_equina")}
    assert {"L2-L3", "L4-L5", "L5-S1"} <= levels
    for c in _vignettes("cauda_equina"):
        assert c.expect["bilateral"] is True
        assert {"saddle_anaesthesia", "bladder", "bowel"} <= set(c.expect["red_flags_present"])


def test_chronic_bilateral_lesions_must_not_raise_red_flags():
    quiet = [c for c in _vignettes("stenosis") + _vignettes("spondylolisthesis")
             if c.expect.get("bilateral") is True and c.expect.get("saddle_affected") is False
             and {"bilateral_sciatica", "saddle_anaesthesia", "bladder"} <= set(c.expect.get("red_flags_absent", ()))]
    assert {c.condition for c in quiet} == {"stenosis", "spondylolisthesis"}
    assert any(c.params == {"level": "L4-L5", "zone": "central", "severity": "moderate"} for c in quiet)


def test_slips_at_several_grades_and_both_types():
    slips = {(c.params["type"], c.params["grade"]) for c in _vignettes("spondylolisthesis")}
    assert {("degenerative", "1"), ("degenerative", "2"), ("isthmic", "1"), ("isthmic", "2")} <= slips
    wanted = {"level": "L5-S1", "type": "isthmic", "grade": "2"}
    isthmic = [c for c in _vignettes("spondylolisthesis") if c.params == wanted]
    assert isthmic and {"S1-left", "S1-right"} <= set(isthmic[0].expect["spared"])


def test_patterns_cover_roots_nerves_bilateral_saddle_and_polyneuropathy():
    patterns = [c for c in CASES if c.kind == "pattern"]
    firsts = {i for c in patterns for i in c.expect.get("first", ())}
    for root in ("L3", "L4", "L5", "S1"):
        assert {f"{root}-left", f"{root}-right"} <= firsts, root
    assert {"common_peroneal-left", "common_peroneal-right", "femoral-right", "L2-left"} <= firsts
    above = {tuple(p) for c in patterns for p in c.expect.get("above", ())}
    assert ("L5-left", "common_peroneal-left") in above and ("L4-left", "femoral-left") in above
    assert ("S1-right", "sciatic-right") in above
    assert any("cauda equina" in c.expect.get("notes_include", ()) for c in patterns)
    assert any("polyneuropathy" in c.expect.get("notes_include", ()) for c in patterns)
    assert any({s for s, _ in c.areas} == {"left", "right"} for c in patterns)


def test_every_case_cites_a_dated_source():
    for c in CASES:
        assert c.sources, c.id
        assert all(r.authors and r.title and r.source and 1800 <= r.year <= 2100 for r in c.sources), c.id


# ------------------------------------------------------------------------ strict loading


REFS = """
SRC2020:
  authors: Doe J
  title: A source
  source: Journal 1(1):1-2
  year: 2020
"""

GOOD = """
- id: good-one
  kind: vignette
  title: A fine case
  condition: herniation
  params: {level: L4-L5, zone: paracentral, side: left, severity: moderate}
  expect: {affected: [L5-left]}
  sources: [SRC2020]
"""


def _case_dir(tmp_path: Path, **files: str) -> Path:
    (tmp_path / "references.yaml").write_text(REFS, encoding="utf-8")
    for name, text in files.items():
        (tmp_path / f"{name}.yaml").write_text(text, encoding="utf-8")
    return tmp_path


def _one_bad(tmp_path: Path, body: str) -> tuple[list[cs.Case], list[CaseProblem]]:
    return load_cases(_case_dir(tmp_path, mixed=GOOD + body))


BAD_CASES = [
    ("unknown key", ("- {id: bad, kind: vignette, title: t, condition: herniation, expect: {bilateral: true},"
                    " sources: [SRC2020], severity: mild}"), "unknown key 'severity'"),
    ("unknown id", ("- {id: bad, kind: vignette, title: t, condition: herniation, expect: {affected: [L6-left]},"
                   " sources: [SRC2020]}"), "unknown id 'L6-left'"),
    ("bad param value", ("- {id: bad, kind: vignette, title: t, condition: herniation, params: {level: L9-L10},"
                        " expect: {bilateral: true}, sources: [SRC2020]}"), "'L9-L10'"),
    ("param not applying", ("- {id: bad, kind: vignette, title: t, condition: herniation,"
                           " params: {zone: central, side: left}, expect: {bilateral: true}, sources: [SRC2020]}"),
     "'side' does not apply"),
    ("unknown param", ("- {id: bad, kind: vignette, title: t, condition: piriformis, params: {level: L4-L5},"
                      " expect: {bilateral: false}, sources: [SRC2020]}"), "unknown parameter 'level'"),
    ("unknown condition", ("- {id: bad, kind: vignette, title: t, condition: gout, expect: {bilateral: true},"
                          " sources: [SRC2020]}"), "unknown condition 'gout'"),
    ("unknown flag", ("- {id: bad, kind: vignette, title: t, condition: herniation,"
                     " expect: {red_flags_absent: [fever]}, sources: [SRC2020]}"), "unknown red flag 'fever'"),
    ("unknown reference", ("- {id: bad, kind: vignette, title: t, condition: herniation, expect: {bilateral: true},"
                          " sources: [NOBODY1999]}"), "unknown reference 'NOBODY1999'"),
    ("no sources", "- {id: bad, kind: vignette, title: t, condition: herniation, expect: {bilateral: true}}",
     "missing sources"),
    ("unknown area", ("- {id: bad, kind: pattern, title: t, areas: ['left: elbow'], expect: {first: [L5-left]},"
                     " sources: [SRC2020]}"), "unknown name 'elbow'"),
    ("no side", ("- {id: bad, kind: pattern, title: t, areas: ['top of the foot'], expect: {first: [L5-left]},"
                " sources: [SRC2020]}"), "must be written 'left: name'"),
    ("bad pair", ("- {id: bad, kind: pattern, title: t, weak: ['left: Lifting the big toe'],"
                 " expect: {above: [[L5-left]]}, sources: [SRC2020]}"), "pair [higher, lower]"),
    ("pattern key on a vignette", ("- {id: bad, kind: vignette, title: t, condition: herniation,"
                                  " expect: {first: [L5-left]}, sources: [SRC2020]}"), "unknown expect key 'first'"),
    ("both present and absent", ("- {id: bad, kind: vignette, title: t, condition: herniation,"
                                " expect: {red_flags_present: [bladder], red_flags_absent: [bladder]},"
                                " sources: [SRC2020]}"), "both present and absent"),
    ("bad kind", "- {id: bad, kind: story, title: t, expect: {bilateral: true}, sources: [SRC2020]}",
     "kind 'story'"),
    ("bad id", ("- {id: Bad Case, kind: vignette, title: t, condition: herniation, expect: {bilateral: true},"
               " sources: [SRC2020]}"), "id 'Bad Case'"),
    ("duplicate id", ("- {id: good-one, kind: vignette, title: t, condition: herniation, expect: {bilateral: true},"
                     " sources: [SRC2020]}"), "duplicate id"),
    ("unknown reflex", ("- {id: bad, kind: vignette, title: t, condition: herniation,"
                       " expect: {reflexes_normal: [knee-left]}, sources: [SRC2020]}"), "unknown reflex 'knee-left'"),
    ("bool as string", ("- {id: bad, kind: vignette, title: t, condition: herniation, expect: {bilateral: 'yes'},"
                       " sources: [SRC2020]}"), "bilateral must be true or false"),
]


@pytest.mark.parametrize("what, body, message", BAD_CASES, ids=[b[0] for b in BAD_CASES])
def test_a_bad_case_is_reported_by_file_and_case_and_the_rest_loads(tmp_path, what, body, message):
    cases, problems = _one_bad(tmp_path, body)
    assert [c.id for c in cases] == ["good-one"]
    assert len(problems) == 1, problems
    text = str(problems[0])
    assert text.startswith(f"{tmp_path / 'mixed.yaml'}: case "), text
    assert message in text, text


def test_a_malformed_file_is_reported_not_raised(tmp_path):
    cases, problems = load_cases(_case_dir(tmp_path, broken="- id: x\n  kind: [unclosed\n", other=GOOD,
                                           scalar="just a string\n"))
    assert [c.id for c in cases] == ["good-one"]
    messages = sorted(str(p) for p in problems)
    assert any("broken.yaml" in m and "cannot read the file" in m for m in messages), messages
    assert any("scalar.yaml" in m and "must be a YAML list of cases" in m for m in messages), messages


def test_aliases_big_files_and_bad_bytes_are_refused(tmp_path):
    bomb = "a: &a [x, x]\nb: &b [*a, *a]\nc: [*b, *b]\n"
    cases, problems = load_cases(_case_dir(tmp_path, bomb=bomb, big="#" * (cs.MAX_FILE_BYTES + 10),
                                           other=GOOD))
    (tmp_path / "binary.yaml").write_bytes(b"\xff\xfe- id: x\n")
    cases, problems = load_cases(tmp_path)
    text = "\n".join(map(str, problems))
    assert [c.id for c in cases] == ["good-one"]
    assert "bomb.yaml: cannot read the file: YAML anchors and aliases" in text
    assert "big.yaml: cannot read the file: larger than 512 KB" in text
    assert "binary.yaml: cannot read the file: not UTF-8 text" in text


def test_bad_references_are_reported(tmp_path):
    (tmp_path / "references.yaml").write_text("A:\n  authors: X\n  title: T\n  source: S\n  year: soon\n"
                                              "B:\n  authors: X\n  title: T\n  year: 2000\n", encoding="utf-8")
    _, problems = load_cases(tmp_path)
    text = "\n".join(map(str, problems))
    assert "reference 'A': year 'soon' is not a year" in text
    assert "reference 'B': missing ['source']" in text


def test_a_missing_folder_is_a_problem(tmp_path):
    cases, problems = load_cases(tmp_path / "nope")
    assert cases == [] and "does not exist" in str(problems[0])


# ------------------------------------------------------------------ evaluation semantics


def _impact(roots=(), nerves=(), flags=(), sensory=(), tempo="acute") -> dict:
    return {"roots": [{"root": r, "side": s, "degree": d} for r, s, d in roots],
            "nerves": [{"nerve": n, "side": s, "degree": d} for n, s, d in nerves],
            "red_flag_ids": list(flags), "sensory": [{"root": r, "side": s} for r, s in sensory], "tempo": tempo}


def test_vignette_semantics():
    data = _impact(roots=[("L5", "left", 0.8), ("L4", "left", 0.39), ("S1", "left", 0.41)], sensory=[("L5", "left")])
    ok, _ = evaluate_vignette({"affected": ["L5-left"], "most_affected": ["L5-left"], "spared": ["L4-left"],
                               "bilateral": False, "red_flags_absent": ALL_FLAGS, "saddle_affected": False,
                               "tempo": "acute"}, data, 0.05)
    assert ok == []
    wrong = {"affected": ["L5-right"], "most_affected": ["L4-left"], "spared": ["S1-left"], "bilateral": True,
             "red_flags_present": ["bladder"], "tempo": "chronic"}
    fails, got = evaluate_vignette(wrong, data, 0.05)
    assert len(fails) == 6, fails
    assert "L5-left 0.80" in got
    # Ties within the tolerance count as most affected; 0.5 of the worst is no longer spared.
    tie = _impact(roots=[("L5", "left", 0.9), ("L5", "right", 0.898), ("S1", "left", 0.44)])
    assert evaluate_vignette({"most_affected": ["L5-right"], "spared": ["S1-left"]}, tie, 0.05)[0] == []
    assert evaluate_vignette({"spared": ["S1-left"]}, _impact(roots=[("L5", "left", 0.9), ("S1", "left", 0.45)]),
                             0.05)[0] != []
    # Below the pain threshold does not count as symptoms (one leg), nor as affected.
    faint = _impact(roots=[("L5", "left", 0.5), ("L5", "right", 0.04)])
    assert evaluate_vignette({"bilateral": False}, faint, 0.05)[0] == []
    assert evaluate_vignette({"affected": ["L5-right"]}, faint, 0.05)[0] != []


def test_vignette_flags_and_saddle():
    data = _impact(roots=[("S4", "left", 0.5)], flags=["bladder"], sensory=[("S4", "left")])
    fails, _ = evaluate_vignette({"red_flags_absent": ["bladder"], "saddle_affected": False}, data, 0.05)
    assert any("bladder" in f for f in fails) and any("saddle" in f for f in fails)
    no_ids = {k: v for k, v in data.items() if k != "red_flag_ids"}
    fails, got = evaluate_vignette({"red_flags_absent": ["bladder"]}, no_ids, 0.05)
    assert fails and "red_flag_ids" in fails[0] and "flags n/a" in got


def test_vignette_reflexes():
    data = _impact()
    data["reflexes"] = [{"reflex": "achilles", "side": "left", "finding": "absent"},
                        {"reflex": "achilles", "side": "right", "finding": "normal"},
                        {"reflex": "patellar", "side": "left", "finding": "reduced"}]
    assert evaluate_vignette({"reflexes_changed": ["achilles-left"], "reflexes_normal": ["achilles-right"]},
                             data, 0.05)[0] == []
    fails, got = evaluate_vignette({"reflexes_changed": ["achilles-right"], "reflexes_normal": ["patellar-left"]},
                                   data, 0.05)
    assert fails == ["the achilles-right reflex should be reduced or absent but is normal",
                     "the patellar-left reflex should be normal but is reduced"]
    assert "achilles-left absent" in got


def _cand(cid: str, tied=()) -> dict:
    return {"id": cid, "fits": 3, "of": 4, "tied_with": list(tied)}


def test_pattern_semantics():
    data = {"candidates": [_cand("L4-left", ["L5-left"]), _cand("L5-left", ["L4-left"]), _cand("sciatic-left")],
            "notes": ["Symptoms in both feet suggest a polyneuropathy."]}
    assert evaluate_pattern({"first": ["L5-left"], "above": [["L5-left", "sciatic-left"]],
                             "not_first": ["L4-left"], "notes_include": ["Polyneuropathy"]}, data)[0] == []
    fails, _ = evaluate_pattern({"above": [["L5-left", "L4-left"], ["femoral-left", "L5-left"]],
                                 "not_first": ["L4-left", "L5-left"], "notes_include": ["cauda equina"],
                                 "first": ["S1-left"]}, data)
    assert len(fails) == 5, fails
    assert any("ties with" in f for f in fails) and any("not a candidate" in f for f in fails)
    assert evaluate_pattern({"first": ["L5-left"]}, {"candidates": [], "notes": []})[0] != []


def test_missing_matcher_or_broken_model_fails_with_a_reason(monkeypatch):
    pattern = next(c for c in CASES if c.kind == "pattern")
    monkeypatch.setattr(cs, "_load_match_json", lambda: None)
    result = run_case(pattern)
    assert not result.passed and "match_json does not exist" in result.failures[0]

    import explorer.conditions.simulate as sim

    def broken(*_a, **_k):
        raise RuntimeError("mesh went missing")

    monkeypatch.setattr(sim, "simulate", broken)
    vignette = next(c for c in CASES if c.kind == "vignette")
    result = run_case(vignette)
    assert not result.passed and result.failures == ("RuntimeError: mesh went missing",)
    assert summary_line([result]) == "1 cases: 0 passed, 1 failed (vignettes 0/1, patterns 0/0)"


# ---------------------------------------------------------------------------------- CLI


def test_validate_one_case_json(capsys):
    case = next(c for c in CASES if c.kind == "pattern")
    code = main(["validate", "--case", case.id, "--json"])
    out = json.loads(capsys.readouterr().out)
    assert [r["id"] for r in out["results"]] == [case.id]
    assert code == (0 if out["results"][0]["passed"] else 1)
    assert out["summary"].startswith("1 cases: ")
    assert out["results"][0]["sources"] and out["results"][0]["expected"]


def test_validate_table_and_exit_code_follow_the_results(capsys, monkeypatch):
    good = next(c for c in CASES if c.kind == "pattern")
    problem = CaseProblem(good.path, "bad-case", "unknown id 'L6-left'")
    monkeypatch.setattr(cs, "load_cases", lambda: ([good], [problem]))
    monkeypatch.setattr(cs, "run_case", lambda c: cs.CaseResult(c, True, "first L3-left", "L3-left 3/3"))
    assert main(["validate"]) == 1  # a problem in the files is a failure
    out = capsys.readouterr().out
    assert "PASS" in out and f"PROBLEM {good.path.name}: case 'bad-case'" in out
    assert out.strip().splitlines()[-1] == ("1 cases: 1 passed, 0 failed (vignettes 0/0, patterns 1/1); "
                                            "1 problem in the case files")
    monkeypatch.setattr(cs, "load_cases", lambda: ([good], []))
    assert main(["validate"]) == 0


def test_validate_unknown_case_exits_2_naming_it(capsys):
    assert main(["validate", "--case", "no-such-case"]) == 2
    assert "unknown case 'no-such-case'" in capsys.readouterr().err

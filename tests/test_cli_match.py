"""``python -m explorer match``: ranked roots and nerves from the command line.

Expected answers from references: ISNCSCI 2019 (long toe extensors are the L5 key muscle; the
Achilles reflex is S1 in HOPPENFELD), Harrison's lumbosacral radiculopathy table (L5 sensory
change on the dorsum of the foot). See tests/test_matching.py for the full source list.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from explorer.__main__ import main
from explorer.clinical.bodymap import area_names
from explorer.clinical.matching import movement_names

ROOT = Path(__file__).resolve().parent.parent
CASE = ["match", "--area", 'left:"top of the foot"', "--weak", "left:lifting the big toe", "--reflex", "right:achilles"]


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "explorer", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=120, check=False)  # callers assert the exit code (0 or 2)


def test_subprocess_json_ranks_l5_left_first_and_s1_right_for_the_ankle_jerk() -> None:
    proc = _run(*CASE, "--json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    ids = [c["id"] for c in data["candidates"]]
    assert ids[0] == "L5-left"  # ISNCSCI 2019 L5 key muscle + L5 dermatome (Lee 2008)
    assert "S1-right" in ids  # Achilles reflex: S1 (Hoppenfeld)
    first = data["candidates"][0]
    assert (first["fits"], first["of"]) == (2, 3)
    assert any("achilles" in e.lower() for e in first["does_not_explain"])
    assert any(x["condition"] == "herniation" for x in first["conditions"])
    kinds = {c["kind"] for c in data["candidates"]}
    assert kinds == {"root", "nerve"}, "peripheral nerves are candidates too"
    assert data["notes"]


def test_subprocess_text_is_a_readable_table_without_scores() -> None:
    proc = _run(*CASE)
    assert proc.returncode == 0, proc.stderr
    assert "L5 nerve root, left" in proc.stdout and "fits 2 of 3 findings" in proc.stdout
    assert "score" not in proc.stdout.lower()
    assert "not a diagnosis" in proc.stdout


def test_subprocess_names_lists_the_allowed_names() -> None:
    proc = _run("match", "--names", "--json")
    assert proc.returncode == 0, proc.stderr
    names = json.loads(proc.stdout)
    assert names["areas"] == list(area_names())
    assert names["movements"] == list(movement_names())
    assert names["reflexes"] == ["patellar", "medial_hamstring", "achilles"]
    assert names["sides"] == ["left", "right"]


def test_subprocess_bad_name_exits_2_naming_it_without_traceback() -> None:
    proc = _run("match", "--area", "left:elbow")
    assert proc.returncode == 2
    assert "'elbow'" in proc.stderr and "top of the foot" in proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout


@pytest.mark.parametrize("args, bad", [
    (["--weak", "left:flying"], "flying"),
    (["--reflex", "left:biceps"], "biceps"),
    (["--area", "middle:heel"], "middle"),
    (["--area", "heel"], "heel"),
    (["--normal", "left:juggling", "--area", "left:heel"], "juggling"),
])
def test_bad_names_and_sides_exit_2(args: list[str], bad: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["match", *args]) == 2
    err = capsys.readouterr().err
    assert repr(bad) in err and err.startswith("error:")


def test_a_long_bad_name_is_shortened(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["match", "--area", "left:" + "y" * 400]) == 2
    err = capsys.readouterr().err
    assert "y" * 100 not in err and "..." in err


def test_nothing_given_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["match"]) == 2
    assert "at least one" in capsys.readouterr().err


def test_normal_findings_change_the_answer(capsys: pytest.CaptureFixture[str]) -> None:
    # Preston & Shapiro 2013: a common fibular palsy spares inversion and hip abduction, both weak
    # with an L5 root; without those tests the two fit the same findings (a tie).
    args = ["match", "--area", "left:outer side of the lower leg", "--area", "left:top of the foot",
            "--weak", "left:pulling the foot up", "--json"]
    assert main(args) == 0
    before = {c["id"]: c for c in json.loads(capsys.readouterr().out)["candidates"]}
    assert "common_peroneal-left" in before["L5-left"]["tied_with"]
    assert main([*args, "--normal", "left:turning the foot in", "--normal", "left:hip abduction"]) == 0
    after = json.loads(capsys.readouterr().out)["candidates"]
    assert after[0]["id"] == "common_peroneal-left" and after[0]["fits"] == after[0]["of"] == 5
    l5 = next(c for c in after if c["id"] == "L5-left")
    assert "common_peroneal-left" not in l5["tied_with"] and l5["fits"] == 3

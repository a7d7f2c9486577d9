"""The command line: JSON for scripts, clear errors (exit 2, no traceback) for bad arguments."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from explorer.__main__ import main
from explorer.conditions.registry import CONDITIONS

ROOT = Path(__file__).resolve().parent.parent


def test_conditions_json_lists_parameters_and_defaults(capsys):
    assert main(["conditions", "--json"]) == 0
    data = {c["id"]: c for c in json.loads(capsys.readouterr().out)}
    assert list(data) == list(CONDITIONS), "every registered condition, in display order"
    zone = next(p for p in data["herniation"]["parameters"] if p["name"] == "zone")
    assert zone["values"] == ["central", "paracentral", "foraminal", "extraforaminal"]
    assert zone["default"] == "paracentral"
    grade = next(p for p in data["spondylolisthesis"]["parameters"] if p["name"] == "grade")
    assert grade["values"] == ["1", "2", "3", "4"]


def test_simulate_json_has_the_documented_shape(capsys):
    args = ["simulate", "--condition", "herniation", "--level", "L4-L5", "--zone", "paracentral", "--side", "left",
            "--severity", "moderate", "--json", "--grade", "3"]  # grade does not apply and is ignored
    assert main(args) == 0
    out = json.loads(capsys.readouterr().out)
    for key in ("condition", "parameters", "compressed", "roots", "nerves", "sensory", "weakness", "reflexes",
                "red_flags", "red_flag_ids", "tempo", "watch_for", "features"):
        assert key in out
    assert out["tempo"] == "acute" and out["red_flag_ids"] == [] and out["watch_for"] == []
    assert out["roots"][0] == {"root": "L5", "side": "left", "degree": out["roots"][0]["degree"]}
    assert 0 < out["roots"][0]["degree"] <= 1
    assert out["nerves"] == []
    assert {r["reflex"] for r in out["reflexes"]} == {"patellar", "achilles", "medial_hamstring"}


def test_piriformis_goes_in_nerves_not_roots(capsys):
    assert main(["simulate", "--condition", "piriformis", "--side", "right", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["roots"] == [] and out["nerves"][0]["nerve"] == "sciatic" and out["nerves"][0]["side"] == "right"


@pytest.mark.parametrize("args,needle", [
    (["simulate", "--condition", "flu"], "flu"),
    (["simulate", "--condition", "herniation", "--level", "L9"], "L9"),
    (["simulate", "--condition", "stenosis", "--zone", "everywhere"], "everywhere"),
])
def test_bad_arguments_exit_2_with_a_clear_message(args, needle):
    run = subprocess.run([sys.executable, "-m", "explorer", *args], cwd=ROOT, capture_output=True, text=True,
                         check=False)  # the exit code is what is tested
    assert run.returncode == 2
    assert needle in run.stderr and "Traceback" not in run.stderr


def test_unknown_command_is_a_usage_error():
    run = subprocess.run([sys.executable, "-m", "explorer", "explode"], cwd=ROOT, capture_output=True, text=True,
                         check=False)  # the exit code is what is tested
    assert run.returncode == 2 and "usage" in run.stderr and "Traceback" not in run.stderr


def test_simulate_json_flags_for_a_massive_central_disc_and_calm_words_for_stenosis(capsys):
    assert main(["simulate", "--condition", "cauda_equina", "--level", "L2-L3", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert {"saddle_anaesthesia", "bladder", "bowel", "sexual_function"} <= set(out["red_flag_ids"])
    assert len(out["red_flags"]) == len(out["red_flag_ids"])
    assert main(["simulate", "--condition", "stenosis", "--zone", "central", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["tempo"] == "chronic" and "bilateral_sciatica" not in out["red_flag_ids"] and out["watch_for"]

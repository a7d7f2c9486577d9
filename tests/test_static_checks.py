"""Static checks as part of the README's test command: ruff and mypy over the project must be clean.

The rules live in pyproject.toml ([tool.ruff.lint], [tool.mypy]); the tool versions are pinned in
requirements-dev.txt, so a finding here is a finding on every machine. Each test prints the tool's own
findings (file:line: code message) when it fails.
"""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _run(*args: str, timeout: float) -> None:
    """Run ``python -m <args>`` from the repository root; fail with the tool's output if it reports anything."""
    try:
        subprocess.run(
            [sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, timeout=timeout, check=True
        )
        return
    except subprocess.CalledProcessError as err:
        found = err
    # Outside the except block, so the report is the findings alone (no chained traceback).
    pytest.fail(f"`{' '.join(args)}` exited {found.returncode}:\n{found.stdout}\n{found.stderr}", pytrace=False)


def test_ruff_finds_nothing() -> None:
    _run("ruff", "check", ".", "--output-format", "concise", "--no-cache", timeout=300)


def test_mypy_finds_nothing() -> None:
    # No arguments: mypy checks the `files` listed in [tool.mypy].
    _run("mypy", timeout=900)


def test_configuration_keeps_the_agreed_rules() -> None:
    """The checks above are only as strong as the configuration: import sorting, bugbear, no private
    access across modules, and mypy on the package with untyped bodies checked."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    lint = config["tool"]["ruff"]["lint"]
    assert {"E4", "E7", "E9", "F", "I", "B", "SLF", "PLC2701"} <= set(lint["select"])
    assert "ignore" not in lint, "ignore rules per file, with a reason, in per-file-ignores"
    # PLC2701 is a preview rule: without preview it would be silently dropped.
    assert lint["preview"] is True and lint["explicit-preview-rules"] is True
    mypy = config["tool"]["mypy"]
    assert "explorer" in mypy["files"]
    assert mypy["check_untyped_defs"] is True and mypy["warn_unused_ignores"] is True
    assert mypy["python_version"] == "3.11"

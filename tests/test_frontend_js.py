"""The front end's own tests: ``node --test tests/js`` (explorer/frontend/*.js on JSON fixtures).

Run from pytest so the README's one test command covers them. Without Node the test is skipped
with the reason, except in CI (``CI`` set), where Node is required (.ci/run installs it).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
JS_TESTS = ROOT / "tests" / "js"


def test_javascript_unit_tests_pass() -> None:
    node = shutil.which("node")
    if node is None:
        if os.environ.get("CI"):
            pytest.fail("Node.js is required in CI for the front-end tests (node --test tests/js)")
        pytest.skip("Node.js not installed: the front-end tests (node --test tests/js) did not run")
    assert sorted(p.name for p in JS_TESTS.glob("*.test.js")), "no JavaScript tests found"
    # PYTHON: the workaround test reads the plotly.js version of this interpreter's plotly package.
    env = {**os.environ, "PYTHON": sys.executable, "NODE_OPTIONS": ""}
    result = subprocess.run([node, "--test", "--test-reporter=tap", str(JS_TESTS)], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=300, check=False)
    summary = [line for line in result.stdout.splitlines() if line.startswith(("# tests", "# pass", "# fail"))]
    print("\n".join(summary))
    assert result.returncode == 0, (
        "node --test tests/js failed:\n"
        + "\n".join(line for line in result.stdout.splitlines() if line.startswith("not ok") or "Error" in line)[-4000:]
        + result.stderr[-2000:]
    )
    assert any(line.startswith("# pass") and int(line.split()[-1]) > 0 for line in summary), result.stdout[-2000:]

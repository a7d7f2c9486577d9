"""Shared fixtures: the project root on sys.path, and meshes built once per test session.

(Being here also puts ``tests/`` on ``sys.path``, so browser tests in ``tests/e2e`` can reuse test
data defined beside the unit tests, e.g. ``from test_security import HOSTILE``.)
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

ARTIFACTS = ROOT / "test-artifacts"


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    """Where tests save screenshots and other artefacts (kept by CI)."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="session")
def built_meshes():
    """Every structure built from the parametric builders (not from the baked files)."""
    from explorer.anatomy.model import build_structure
    from explorer.anatomy.structures import STRUCTURES

    return {sid: build_structure(sid) for sid in STRUCTURES}

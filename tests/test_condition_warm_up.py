"""ConditionSpec.warm_up: what a start-up warm-up builds before a visitor asks (explorer.conditions)."""

from __future__ import annotations

import pytest

from explorer.conditions import spondylolisthesis as sp
from explorer.conditions.registry import CONDITIONS


def test_every_warm_up_is_callable_or_absent() -> None:
    for cid, spec in CONDITIONS.items():
        assert spec.warm_up is None or callable(spec.warm_up), cid
    assert CONDITIONS["spondylolisthesis"].warm_up is sp.warm_up


def test_slip_warm_up_builds_what_a_first_slip_at_each_level_builds(monkeypatch: pytest.MonkeyPatch) -> None:
    """The same cached functions with the same arguments as a visit (so a visit finds them built)."""
    asked: list[tuple[str, str]] = []
    monkeypatch.setattr(sp.vb, "build_local", lambda level: asked.append(("build_local", level)))
    monkeypatch.setattr(sp, "isthmic_pieces", lambda level: asked.append(("isthmic_pieces", level)))
    monkeypatch.setattr(sp, "_arch_reach", lambda level: asked.append(("_arch_reach", level)))
    sp.warm_up()
    for level in sp.DISC_LEVELS:
        upper = sp.slip_geometry(level, "isthmic", "2").upper  # what slipped_vertebra() builds for
        assert ("build_local", upper) in asked and ("isthmic_pieces", upper) in asked, level
        assert ("_arch_reach", level) in asked, level

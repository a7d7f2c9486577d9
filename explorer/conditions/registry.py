"""The registry of conditions a person can trigger, keyed by condition id."""

from __future__ import annotations

from importlib import import_module

from explorer.conditions.base import ConditionSpec

# Display order; each module exposes SPEC.
CONDITION_MODULES: tuple[str, ...] = ("herniation", "stenosis", "spondylolisthesis", "piriformis", "cauda_equina")


def _load() -> dict[str, ConditionSpec]:
    specs: dict[str, ConditionSpec] = {}
    for name in CONDITION_MODULES:
        try:
            spec = import_module(f"explorer.conditions.{name}").SPEC
        except ModuleNotFoundError as exc:
            if exc.name != f"explorer.conditions.{name}":
                raise
            continue  # a condition still being written
        specs[spec.id] = spec
    return specs


CONDITIONS: dict[str, ConditionSpec] = _load()

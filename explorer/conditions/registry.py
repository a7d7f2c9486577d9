"""The registry of conditions a person can trigger, keyed by condition id.

Conditions are discovered, not listed: every module of this package that exposes ``SPEC`` (a
:class:`~explorer.conditions.base.ConditionSpec`) is a condition, shown in the order of
``SPEC.order``. The package's own machinery (:data:`INFRASTRUCTURE`) is skipped. A condition module
that fails to import, or whose ``SPEC`` is not a ConditionSpec, or that repeats an id, stops the
app with a message naming the module, rather than silently dropping the condition.
"""

from __future__ import annotations

import pkgutil
from importlib import import_module

from explorer.conditions.base import ConditionSpec

INFRASTRUCTURE: frozenset[str] = frozenset({"base", "registry", "rules", "simulate", "explain", "combos", "shapes"})


class ConditionModuleError(RuntimeError):
    """A condition module is broken (the message names it and says what is wrong)."""


def discover(package: str = "explorer.conditions") -> dict[str, ConditionSpec]:
    """Every condition in ``package``, keyed by id, in display order (``order``, then id).

    Raises
    ------
    ConditionModuleError
        If a module fails to import, exposes a ``SPEC`` that is not a ConditionSpec, or repeats
        another module's condition id.
    """
    pkg = import_module(package)
    found: dict[str, tuple[ConditionSpec, str]] = {}
    for info in sorted(pkgutil.iter_modules(pkg.__path__), key=lambda m: m.name):
        if info.name.startswith("_") or info.name in INFRASTRUCTURE:
            continue
        name = f"{package}.{info.name}"
        try:
            module = import_module(name)
        except Exception as exc:  # any error in a plug-in: name it, keep the cause
            raise ConditionModuleError(f"condition module {name} failed to load: {type(exc).__name__}: {exc}") from exc
        if not hasattr(module, "SPEC"):
            continue  # a helper module shared by conditions
        spec = module.SPEC
        if not isinstance(spec, ConditionSpec):
            raise ConditionModuleError(f"condition module {name}: SPEC is a {type(spec).__name__}, not a ConditionSpec")
        if spec.id in found:
            raise ConditionModuleError(f"condition module {name}: id {spec.id!r} is already used by {found[spec.id][1]}")
        found[spec.id] = (spec, name)
    ordered = sorted(found.values(), key=lambda item: (item[0].order, item[0].id))
    return {spec.id: spec for spec, _ in ordered}


CONDITIONS: dict[str, ConditionSpec] = discover()

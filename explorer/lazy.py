"""Heavy libraries (PyVista, SciPy, VTK) imported on first use instead of at page import.

Why: the healthy first page needs none of them (it draws meshes cached as plain arrays), yet the
condition registry imports every condition module, and those imported PyVista and SciPy at the top:
about 1.2 s of a cold server's first page run (PyVista 0.39 s, SciPy 0.74 s; ``python -X importtime``,
2026-12-06). A module keeps its real import for type checkers and binds a stand-in at run time::

    if TYPE_CHECKING:
        import pyvista as pv
    else:
        pv = lazy_module("pyvista")

The stand-in imports the module the first time one of its attributes is read. Python's import system
locks each module while it loads, so two sessions' threads reaching it at once are safe (unlike
``importlib.util.LazyLoader``, which is not thread-safe before Python 3.12).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any


class LazyModule:
    """Stands for the module ``name``; imports it when an attribute is first read."""

    def __init__(self, name: str) -> None:
        self._name = name
        self._module: Any = None

    def __getattr__(self, attr: str) -> Any:
        # Only called for names not found on the stand-in itself (so not for _name/_module).
        if self._module is None:
            self._module = importlib.import_module(self._name)
        return getattr(self._module, attr)

    def __repr__(self) -> str:
        state = "imported" if self._module is not None else "not imported yet"
        return f"<lazy module {self._name!r}, {state}>"


def lazy_module(name: str) -> Any:
    """A stand-in for ``import name`` that imports on first attribute access."""
    return LazyModule(name)


def lazy_callable(module: str, name: str) -> Callable[..., Any]:
    """A stand-in for ``from module import name`` when ``name`` is only called (a function or class)."""

    def call(*args: Any, **kwargs: Any) -> Any:
        return getattr(importlib.import_module(module), name)(*args, **kwargs)

    call.__name__ = call.__qualname__ = name
    call.__doc__ = f"Calls {module}.{name}, importing {module} on first use."
    return call

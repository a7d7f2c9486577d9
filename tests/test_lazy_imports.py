"""The page starts without PyVista, SciPy or VTK (explorer/lazy.py), and the stand-ins work when used."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from pathlib import Path

from explorer.lazy import lazy_callable, lazy_module

ROOT = Path(__file__).resolve().parent.parent
HEAVY = ("pyvista", "scipy", "vtkmodules", "vtk")


def _modules_after(code: str) -> list[str]:
    """Top-level package names in sys.modules after running ``code`` in a fresh interpreter."""
    probe = code + "\nimport json, sys\nprint(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))"
    out = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=120,
                         check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_page_import_leaves_heavy_libraries_out() -> None:
    loaded = _modules_after("import explorer.ui.page, explorer.render.story, explorer.render.sections")
    assert not [name for name in HEAVY if name in loaded], loaded


def test_lazy_module_imports_on_first_attribute() -> None:
    stand_in = lazy_module("json")
    assert "not imported" in repr(stand_in)
    assert stand_in.dumps([1]) == "[1]"
    assert "imported" in repr(stand_in) and "not" not in repr(stand_in)


def test_lazy_module_names_a_missing_attribute() -> None:
    stand_in = lazy_module("json")
    try:
        stand_in.no_such_name  # noqa: B018
    except AttributeError as error:
        assert "no_such_name" in str(error)
    else:
        raise AssertionError("a missing attribute must raise AttributeError")


def test_lazy_callable_calls_the_real_function_from_many_threads() -> None:
    # A module not imported yet in this process, reached by several threads at once.
    sys.modules.pop("colorsys", None)
    to_hls = lazy_callable("colorsys", "rgb_to_hls")
    results: list[tuple[float, float, float]] = []
    threads = [threading.Thread(target=lambda: results.append(to_hls(1.0, 0.0, 0.0))) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [(0.0, 0.5, 1.0)] * 8
    assert to_hls.__name__ == "rgb_to_hls"


def test_conditions_still_simulate_with_lazy_libraries() -> None:
    """A lesion needs PyVista and SciPy: the stand-ins must import them on use (fresh interpreter)."""
    loaded = _modules_after(
        "from explorer.anatomy.model import load_model\n"
        "from explorer.conditions.simulate import simulate\n"
        "impact = simulate('herniation', {'level': 'L4-L5', 'zone': 'paracentral', 'side': 'left',"
        " 'severity': 'moderate'}, load_model())\n"
        "assert any(c.id == 'root-L5-left' for c in impact.compressed), impact.compressed"
    )
    assert "pyvista" in loaded and "scipy" in loaded

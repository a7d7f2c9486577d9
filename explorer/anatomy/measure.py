"""Geometric measurements on meshes (distances, inside/outside), used by tests and conditions."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike, NDArray

from explorer.lazy import lazy_module

if TYPE_CHECKING:
    import pyvista as pv
else:  # imported on first use (explorer/lazy.py): the first page needs none of it
    pv = lazy_module("pyvista")


def signed_distance(points: ArrayLike, surface: pv.PolyData) -> NDArray[np.float64]:
    """Signed distance (mm) from each point to a closed surface: negative inside, positive outside."""
    probe = pv.PolyData(np.asarray(points, dtype=float).reshape(-1, 3))
    return np.asarray(probe.compute_implicit_distance(surface)["implicit_distance"], dtype=float)


def fraction_inside(points: ArrayLike, surface: pv.PolyData) -> float:
    """Share of ``points`` that lie inside the closed ``surface``."""
    return float(np.mean(signed_distance(points, surface) < 0.0))

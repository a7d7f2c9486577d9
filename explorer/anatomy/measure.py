"""Geometric measurements on meshes (distances, inside/outside), used by tests and conditions."""

from __future__ import annotations

import numpy as np
import pyvista as pv
from numpy.typing import ArrayLike, NDArray


def signed_distance(points: ArrayLike, surface: pv.PolyData) -> NDArray[np.float64]:
    """Signed distance (mm) from each point to a closed surface: negative inside, positive outside."""
    probe = pv.PolyData(np.asarray(points, dtype=float).reshape(-1, 3))
    return np.asarray(probe.compute_implicit_distance(surface)["implicit_distance"], dtype=float)


def fraction_inside(points: ArrayLike, surface: pv.PolyData) -> float:
    """Share of ``points`` that lie inside the closed ``surface``."""
    return float(np.mean(signed_distance(points, surface) < 0.0))

"""Rigid frames on the patient's axes (RAS millimetres: +x right, +y anterior, +z superior)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

Points = NDArray[np.float64]


def rotation_about_x(angle_deg: float) -> NDArray[np.float64]:
    """Rotation matrix about +x (right-hand rule: +y turns toward +z).

    A positive angle tips a structure's top (+z) backwards (toward -y); a negative angle tips it
    forwards. Sagittal tilts in this project are all rotations about x.
    """
    a = np.radians(angle_deg)
    c, s = np.cos(a), np.sin(a)
    return np.array([[1.0, 0.0, 0.0], [0.0, c, -s], [0.0, s, c]])


@dataclass(frozen=True)
class Frame:
    """A local coordinate frame: ``global = origin + local @ axes.T``.

    Attributes
    ----------
    origin : ndarray, shape (3,)
        Position of the local origin in global millimetres.
    axes : ndarray, shape (3, 3)
        Columns are the local x, y, z unit axes expressed in global coordinates.
    """

    origin: Points
    axes: Points

    def to_global(self, local: ArrayLike) -> Points:
        """Map local points (``(..., 3)``) to global coordinates."""
        return self.origin + np.asarray(local, dtype=float) @ self.axes.T

    def to_local(self, points: ArrayLike) -> Points:
        """Map global points (``(..., 3)``) into this frame."""
        return (np.asarray(points, dtype=float) - self.origin) @ self.axes

    @property
    def up(self) -> Points:
        """The local +z axis (cranial) in global coordinates."""
        return self.axes[:, 2]

    @property
    def tilt_deg(self) -> float:
        """Sagittal tilt of the local +z axis: positive when its top leans forward (+y)."""
        up = self.up
        return float(np.degrees(np.arctan2(up[1], up[2])))

    def moved(self, local_offset: ArrayLike) -> Frame:
        """The same orientation, with the origin moved by an offset given in local axes."""
        return Frame(self.to_global(local_offset), self.axes)

    def turned(self, angle_deg: float) -> Frame:
        """The same origin, turned about the local x axis (positive tips the top backwards)."""
        return Frame(self.origin, self.axes @ rotation_about_x(angle_deg))


def frame_tilted_forward(origin: ArrayLike, forward_tilt_deg: float) -> Frame:
    """A frame whose +z leans forward (toward +y) by ``forward_tilt_deg`` in the sagittal plane."""
    return Frame(np.asarray(origin, dtype=float), rotation_about_x(-forward_tilt_deg))

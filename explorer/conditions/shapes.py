"""Lesion shapes shared by the conditions: soft tissue that grows from a base toward a nerve.

A disc fragment, a thickened ligament or a facet spur all start somewhere fixed (the disc rim,
the lamina, the joint) and grow toward the space a nerve occupies. Severity says how far into that
space the tissue's tip reaches, as a share of the nerve's thickness; the compression itself is then
measured on the geometry, never assigned.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from explorer.anatomy.frames import Frame
from explorer.anatomy.implicit import Array, capsule, ellipsoid, smooth_union, surface_from_field, transformed
from explorer.lazy import lazy_module

if TYPE_CHECKING:
    import pyvista as pv
else:  # imported on first use (explorer/lazy.py): the first page needs none of it
    pv = lazy_module("pyvista")

LESION_SPACING_MM: float = 0.7
LESION_FACES: int = 1400
LESION_SMOOTHING: int = 15
NECK_BLEND_MM: float = 2.0  # smooth-union blend between a lesion's neck and its blob


@dataclass(frozen=True)
class PressingBlob:
    """Tissue from ``anchor`` toward ``target`` (local mm), its tip ``indent`` into the nerve there.

    Attributes
    ----------
    anchor, target : ndarray
        Base of the tissue, and the centre of the nerve it grows toward (local frame, mm).
    nerve_radius : float
        Radius of that nerve there (mm).
    indent : float
        How far the tip reaches into the nerve, as a share of its thickness (0.3 indents, 1 crosses).
    width, height : float
        Size of the tissue across its growth direction (mm).
    """

    anchor: np.ndarray
    target: np.ndarray
    nerve_radius: float
    indent: float
    width: float
    height: float

    @property
    def direction(self) -> np.ndarray:
        d = self.target - self.anchor
        return d / np.linalg.norm(d)

    @property
    def reach(self) -> float:
        return float(np.linalg.norm(self.target - self.anchor)) - self.nerve_radius + self.indent * 2 * self.nerve_radius

    @property
    def center(self) -> np.ndarray:
        return self.anchor + self.direction * (self.reach - self._along)

    @property
    def _along(self) -> float:
        return max(self.reach * 0.45, 2.5)

    def field(self, points: Array) -> Array:
        direction = self.direction
        across = np.cross((0.0, 0.0, 1.0), direction)
        across = across / np.linalg.norm(across) if np.linalg.norm(across) > 1e-6 else np.array([1.0, 0.0, 0.0])
        axes = np.column_stack([across, direction, np.cross(direction, across)])
        blob = ellipsoid(points, self.center, (self.width / 2, self._along, self.height / 2), axes)
        # The neck joins the base to the blob; it ends well short of the tip (a neck thicker than
        # the blob is long would otherwise poke out past the tip and press deeper than ``indent``).
        neck_radius = min(self.width, self.height) * 0.4
        end = self.center - direction * max(neck_radius + NECK_BLEND_MM - self._along, 0.0)
        neck = capsule(points, self.anchor - direction * 4.0, end, neck_radius)
        return smooth_union(blob, neck, NECK_BLEND_MM)

    def bounds(self, margin: float = 3.0) -> tuple[float, ...]:
        """A box (local mm) around the tissue, from its base to its tip."""
        pad = max(self.width, self.height, 2 * self._along) / 2 + margin
        pts = np.vstack([self.anchor - self.direction * 4.0, self.center])
        lo, hi = pts.min(axis=0) - pad, pts.max(axis=0) + pad
        return (lo[0], hi[0], lo[1], hi[1], lo[2], hi[2])


def merge_bounds(*boxes: tuple[float, ...]) -> tuple[float, ...]:
    """The smallest box holding all the given boxes."""
    b = np.array(boxes)
    return (b[:, 0].min(), b[:, 1].max(), b[:, 2].min(), b[:, 3].max(), b[:, 4].min(), b[:, 5].max())


def mesh_lesion(field, bounds: tuple[float, ...], frame: Frame) -> pv.PolyData:
    """Mesh a local-frame lesion field inside ``bounds`` (local mm); the mesh is in global mm."""
    return transformed(surface_from_field(field, bounds, LESION_SPACING_MM, LESION_SMOOTHING, LESION_FACES), frame)

"""Canal measurements taken on the model's geometry: the dural sac, the canal, the lateral recesses,
the foramina and a slip, at one disc level, in a posture, with or without a lesion.

Everything is measured on 2D sections cut from the meshes (PyVista slicing, then Shapely polygons):
nothing is looked up from the lesion's parameters. The cuts are the ones a radiologist reads:

- **Axial cut through the middle of the disc** (the disc's own plane, turned with the segment in
  flexion or extension): the dural sac's cross-sectional area left after the lesion and any other
  tissue in the canal (a bulging disc, a buckled ligamentum flavum, a slipped bone) have taken their
  share, and the canal's mid-sagittal (antero-posterior) diameter, from the back of the disc (or
  whatever lesion sits in front) to the ligamentum flavum (or whatever sits behind).
- **Axial cut at the upper border of the lower vertebra's pedicles**: the lateral recess depth on
  each side, from the back of the vertebral body to the front of the superior articular process
  (Ciric I, Mikhael MA, Tarkington JA, Vick NA. The lateral recess syndrome. J Neurosurg.
  1980;53(4):433-443: normal 5 mm or more, 3 mm or less suggests stenosis), minus lesion tissue.
- **Parasagittal cut through each foramen** (through the upper pedicle's centre): the foraminal
  height, the largest free height from the lower border of the upper pedicle to the upper border of
  the lower one (Hasegawa T, An HS, Haughton VM, Nowicki BH. Lumbar foraminal stenosis: critical
  heights of the intervertebral discs and foramina. J Bone Joint Surg Am. 1995;77(1):32-38: about
  20-23 mm; 15 mm or less goes with root compression), and the Lee grade (Lee S, Lee JW, Yeom JS,
  et al. A practical MRI grading system for lumbar foraminal stenosis. AJR Am J Roentgenol.
  2010;194(4):1095-1098) approximated from the fat around the exiting root (see :func:`lee_grade`).
- **Vertices near the mid-sagittal plane**: the Meyerding slip, the posterior edge of the upper body
  against that of the lower endplate, in % of the lower endplate's depth (Meyerding HW.
  Spondylolisthesis. Surg Gynecol Obstet. 1932;54:371-377: grade 1 up to 25 %, 2 to 50 %...).

Grades from the sac area: Hamanishi C, Matukura N, Fujita M, et al. Cross-sectional area of the
stenotic lumbar dural tube measured from the transverse views of magnetic resonance imaging.
J Spinal Disord. 1994;7(5):388-393 (below 100 mm2 relative stenosis, below 75 mm2 absolute); and
an approximation of the morphological grade of Schizas C, Theumann N, Burn A, et al. Qualitative
grading of severity of lumbar spinal stenosis based on the morphology of the dural sac on magnetic
resonance images. Spine. 2010;35(21):1919-1924 (see :func:`schizas_grade`).

Published normal values the healthy model is checked against (tests/test_canal.py): dural sac area
at the lumbar discs never below Hamanishi's 100 mm2, and at L1/2-L4/5 at least the 117 mm2 that the
narrowest of those levels averaged in 802 adults (Iwahashi H, et al. The association between the
cross-sectional area of the dural sac and low back pain in a large population: the Wakayama Spine
Study. PLoS One. 2016;11(8):e0160002; Nakashima H, et al. Lumbar thecal sac dimensions and axial
spinal cord areas on MRI in 626 healthy subjects. Spine. 2021;46(24):E1327-E1333: areas below
80 mm2 in under 2 % of healthy people); canal AP at least 13 mm (Verbiest's relative stenosis mark)
and about 15-18 mm (Eisenstein 1977, ``explorer.anatomy.morphometry``); recess depth 5 mm or more
(Ciric 1980); foraminal height within Hasegawa's normal 20-23 mm at L2-S1 (above his critical
15 mm at L1-L2, outside his series). The height on the geometry is the upper body's posterior
height minus its pedicle height plus the disc's posterior height, all three from the morphometry
tables (``explorer.anatomy.morphometry``, cited there).

Posture moves the segment (``explorer.anatomy.posture``) for the measurements and the sections
only; the 3D view stays neutral.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import shapely
from shapely.geometry import LineString, Point, Polygon
from shapely.geometry.base import BaseGeometry

from explorer.anatomy.frames import Frame
from explorer.anatomy.layout import root_exit_local, side_sign, spine_layout
from explorer.anatomy.model import SpineModel
from explorer.anatomy.morphometry import ROOT_DIAMETER, S1_ENDPLATE_DEPTH, VERTEBRAE
from explorer.anatomy.nerves import intrathecal_roots
from explorer.anatomy.posture import (
    check_level,
    check_posture,
    level_structures,
    posed_canal_frame,
    posed_level,
    segment_motion,
)
from explorer.anatomy.structures import ROOTS
from explorer.lazy import lazy_module

if TYPE_CHECKING:
    import pyvista as pv
else:  # imported on first use (explorer/lazy.py): the first page needs none of it
    pv = lazy_module("pyvista")

SIDES: tuple[str, ...] = ("left", "right")
# Hamanishi 1994: dural sac area thresholds (mm2).
HAMANISHI_RELATIVE_MM2: float = 100.0
HAMANISHI_ABSOLUTE_MM2: float = 75.0
# Ciric 1980: lateral recess depth (mm).
RECESS_NORMAL_MM: float = 5.0
RECESS_STENOTIC_MM: float = 3.0
# Hasegawa 1995: foraminal height (mm) at or below which root compression is common.
FORAMEN_CRITICAL_MM: float = 15.0
# Lee 2010, approximated: the perineural fat is a ring this wide around the root in the foramen.
FAT_RING_MM: float = 1.0
LEE_FAT_TAKEN: float = 0.25  # fat gone on about two of the root's four sides: grade 1
LEE_ROOT_TOUCHED: float = 0.02  # tissue reaching the root itself: at least grade 1
LEE_ROOT_PRESSED: float = 0.35  # a third of the root's cross-section taken: no fat left anywhere, grade 2
LEE_ROOT_COLLAPSED: float = 0.75  # three quarters taken: the root collapsed, grade 3
# Schizas 2010, approximated from the share of the remaining sac the roots need.
SCHIZAS_B: float = 0.4
SCHIZAS_C: float = 0.7
POSTERIOR_FAT_MIN_MM: float = 0.5  # less than this between the sac and the back wall: no epidural fat
# Vertical lines for the foraminal height: from just behind the exiting root forwards (mm along the
# disc's y axis from the root), far enough to follow a pedicle that has slipped forward.
FORAMEN_LINES_MM: tuple[float, ...] = tuple(float(v) for v in np.arange(-4.0, 30.0, 1.0))
SECTION_HALF_SIZE_MM: float = 60.0  # sections are kept within this of the level's canal centre


@dataclass(frozen=True)
class CanalMeasurements:
    """Canal measurements at one disc level in one posture (mm, mm2, %), measured on the meshes.

    Attributes
    ----------
    level, posture : str
    sac_area_mm2 : float
        Dural sac cross-sectional area at the middle of the disc after the lesion (mm2).
    canal_ap_mm : float
        Mid-sagittal canal diameter at the disc (mm).
    recess_depth_mm : dict
        ``"left"``/``"right"`` -> lateral recess depth (mm), Ciric 1980.
    foraminal_height_mm : dict
        ``"left"``/``"right"`` -> foraminal height (mm), Hasegawa 1995.
    slip_percent : float or None
        Meyerding slip of the upper body on the lower (%; forward slip positive).
    hamanishi : str
        ``"normal"``, ``"relative"`` (below 100 mm2) or ``"absolute"`` (below 75 mm2).
    schizas_grade : str
        ``"A"`` .. ``"D"`` (approximation, see :func:`schizas_grade`).
    lee_grade : dict
        ``"left"``/``"right"`` -> foraminal grade 0-3 (approximation, see :func:`lee_grade`).
    """

    level: str
    posture: str
    sac_area_mm2: float
    canal_ap_mm: float
    recess_depth_mm: dict[str, float]
    foraminal_height_mm: dict[str, float]
    slip_percent: float | None
    hamanishi: str
    schizas_grade: str
    lee_grade: dict[str, int]

    @property
    def meyerding_grade(self) -> int | None:
        """Meyerding grade 0-5 of the slip (0: less than 1 %, a normal alignment)."""
        if self.slip_percent is None:
            return None
        return meyerding_grade(self.slip_percent)

    def to_json(self) -> dict[str, Any]:
        """Plain JSON: every number with its unit (``{"value": 152.3, "unit": "mm2"}``)."""

        def num(value: float, unit: str, digits: int = 1) -> dict[str, Any]:
            return {"value": round(float(value), digits), "unit": unit}

        return {
            "level": self.level,
            "posture": self.posture,
            "sac_area": num(self.sac_area_mm2, "mm2"),
            "canal_ap": num(self.canal_ap_mm, "mm"),
            "recess_depth": {s: num(v, "mm") for s, v in self.recess_depth_mm.items()},
            "foraminal_height": {s: num(v, "mm") for s, v in self.foraminal_height_mm.items()},
            "slip": None if self.slip_percent is None else num(self.slip_percent, "%"),
            "meyerding_grade": None if self.meyerding_grade is None else {"value": self.meyerding_grade,
                                                                          "unit": "grade 0-5"},
            "hamanishi": {"value": self.hamanishi, "unit": "category",
                          "thresholds": {"relative": num(HAMANISHI_RELATIVE_MM2, "mm2"),
                                         "absolute": num(HAMANISHI_ABSOLUTE_MM2, "mm2")}},
            "schizas_grade": {"value": self.schizas_grade, "unit": "grade A-D"},
            "lee_grade": {s: {"value": v, "unit": "grade 0-3"} for s, v in self.lee_grade.items()},
        }


def meyerding_grade(slip_percent: float) -> int:
    """Meyerding grade: 0 below 1 % (normal), 1 up to 25 %, 2 to 50 %, 3 to 75 %, 4 to 100 %, 5 beyond."""
    s = float(slip_percent)
    if s < 1.0:
        return 0
    for grade, top in ((1, 25.0), (2, 50.0), (3, 75.0), (4, 100.0)):
        if s <= top:
            return grade
    return 5


def hamanishi(area_mm2: float) -> str:
    """Hamanishi 1994 category of a dural sac area (mm2)."""
    if area_mm2 < HAMANISHI_ABSOLUTE_MM2:
        return "absolute"
    if area_mm2 < HAMANISHI_RELATIVE_MM2:
        return "relative"
    return "normal"


def schizas_grade(roots_mm2: float, residual_mm2: float, posterior_fat: bool) -> str:
    """Schizas 2010 morphological grade, approximated from measured areas.

    Schizas grades what an axial MRI shows: A, fluid clearly visible between the rootlets; B, the
    rootlets fill the sac but can still be told apart; C, no rootlets can be told apart, with
    epidural fat still behind the sac; D, as C and no epidural fat behind the sac either. The
    model has no MRI signal, so the grade is derived from the share of the remaining sac that the
    roots need (their measured cross-section at this level over the sac area left): below
    ``SCHIZAS_B`` (0.4) there is plenty of fluid around them (A), up to ``SCHIZAS_C`` (0.7) they
    fill it (B), beyond it they are packed (C, or D when the lesion has also taken the fat behind
    the sac). The thresholds are this model's reading of the grade descriptions, not Schizas's.
    """
    if residual_mm2 <= 0.0:
        return "D"
    ratio = roots_mm2 / residual_mm2
    if ratio < SCHIZAS_B:
        return "A"
    if ratio < SCHIZAS_C:
        return "B"
    return "C" if posterior_fat else "D"


def lee_grade(fat_taken: float, root_taken: float) -> int:
    """Lee 2010 foraminal grade, approximated from measured shares.

    Lee grades the perineural fat on sagittal MRI: 0 normal; 1 fat obliterated on two opposite
    sides of the root; 2 on all four sides, the root not deformed; 3 the root collapsed or
    deformed. The model has no fat signal: the fat is a ring ``FAT_RING_MM`` wide around the
    exiting root in the foramen's parasagittal cut, and bone, disc or lesion in that ring is fat
    lost. A root is pressed from one side in the model (it does not move against the opposite
    wall), so the grade is read from how far the tissue reaches: grade 1 when about two sides'
    worth of the fat ring is taken (``LEE_FAT_TAKEN``) or the tissue touches the root; grade 2 when
    it takes a third of the root's cross-section (``LEE_ROOT_PRESSED``: a root pushed that far has
    no fat left around it); grade 3 when it takes three quarters (``LEE_ROOT_COLLAPSED``: the root
    collapsed). These cut-offs are this model's reading of Lee's descriptions, not Lee's.
    """
    if root_taken >= LEE_ROOT_COLLAPSED:
        return 3
    if root_taken >= LEE_ROOT_PRESSED:
        return 2
    if fat_taken >= LEE_FAT_TAKEN or root_taken >= LEE_ROOT_TOUCHED:
        return 1
    return 0


# ----------------------------------------------------------------------------- sections


def section(mesh: pv.PolyData, frame: Frame, normal_axis: int = 2, offset: float = 0.0,
            half_size: float = SECTION_HALF_SIZE_MM) -> BaseGeometry:
    """The cross-section of a closed mesh as Shapely polygons, in the frame's 2D coordinates (mm).

    Parameters
    ----------
    mesh : pyvista.PolyData
        A closed triangle mesh (global mm).
    frame : Frame
        The cut's frame.
    normal_axis : int
        2 for an axial cut (the frame's xy plane; returned coordinates are local x, y: patient's
        right and anterior), 0 for a sagittal cut (the yz plane; coordinates are local y, z:
        anterior and cranial).
    offset : float
        Where along the normal the plane lies (mm from the frame's origin).
    half_size : float
        Only what lies within this distance of the frame's origin in the plane is kept.

    Returns
    -------
    shapely geometry
        The area inside the mesh on the plane (even-odd rule, so a ring stays a ring); empty if the
        plane misses it.
    """
    normal = frame.axes[:, normal_axis]
    origin = frame.origin + normal * offset
    if mesh.n_points == 0:
        return Polygon()
    segments = _plane_segments(mesh, origin, normal)
    if len(segments) == 0:
        return Polygon()
    local = frame.to_local(segments.reshape(-1, 3))
    coords = (local[:, [0, 1]] if normal_axis == 2 else local[:, [1, 2]]).reshape(-1, 2, 2)
    merged = shapely.line_merge(shapely.multilinestrings(list(coords)))
    lines = list(getattr(merged, "geoms", [merged]))
    area: BaseGeometry = Polygon()
    for line in lines:
        pts = np.asarray(line.coords)
        if len(pts) < 3:
            continue
        if not line.is_ring and np.linalg.norm(pts[0] - pts[-1]) > 1.0:
            continue  # an open piece (a hole in the mesh): not an area
        area = area.symmetric_difference(shapely.make_valid(Polygon(pts)))
    box = shapely.box(-half_size, -half_size, half_size, half_size)
    return area.intersection(box)


def _triangles(mesh: pv.PolyData) -> np.ndarray:
    """The mesh's triangles as an (M, 3) index array (cached per mesh object)."""
    hit = _TRIANGLES.get(id(mesh))
    if hit is not None and hit[0] is mesh:
        return hit[1]
    faces = np.asarray(mesh.faces)
    if len(faces) and len(faces) % 4 == 0 and np.all(faces[::4] == 3):
        tri = faces.reshape(-1, 4)[:, 1:]
    else:
        tri = np.asarray(mesh.triangulate().faces).reshape(-1, 4)[:, 1:]
    if len(_TRIANGLES) > 512:
        _TRIANGLES.pop(next(iter(_TRIANGLES)))
    _TRIANGLES[id(mesh)] = (mesh, tri)
    return tri


_TRIANGLES: dict[int, tuple[pv.PolyData, np.ndarray]] = {}


def _plane_segments(mesh: pv.PolyData, origin: np.ndarray, normal: np.ndarray) -> np.ndarray:
    """Where a plane cuts a triangle mesh: (K, 2, 3) segments, global mm.

    Vectorised with numpy (a VTK cutter per cut costs more than the cutting). Each crossing point
    is computed from its edge's lower-numbered vertex, so neighbouring triangles give bit-identical
    points and the segments join into closed loops.
    """
    points = np.asarray(mesh.points, dtype=float)
    d = (points - origin) @ normal
    d[d == 0.0] = 1e-9  # a vertex on the plane counts as just above it
    tri = _triangles(mesh)
    above = d[tri] > 0.0
    crossing = above.any(axis=1) & ~above.all(axis=1)
    if not crossing.any():
        return np.empty((0, 2, 3))
    tri = tri[crossing]
    ends: list[np.ndarray] = []
    masks: list[np.ndarray] = []
    for a, b in ((0, 1), (1, 2), (2, 0)):
        i = np.minimum(tri[:, a], tri[:, b])
        j = np.maximum(tri[:, a], tri[:, b])
        cross = (d[i] > 0.0) != (d[j] > 0.0)
        masks.append(cross)
        denom = np.where(cross, d[i] - d[j], 1.0)
        t = np.where(cross, d[i] / denom, 0.0)
        ends.append(points[i] + t[:, None] * (points[j] - points[i]))
    mask = np.column_stack(masks)
    pts = np.stack(ends, axis=1)
    return pts[mask].reshape(-1, 2, 3)


def _union(geoms: list[BaseGeometry]) -> BaseGeometry:
    parts = [g for g in geoms if not g.is_empty]
    return shapely.union_all(parts) if parts else Polygon()


def free_run(start: tuple[float, float], end: tuple[float, float], walls: BaseGeometry,
             anchor: tuple[float, float]) -> float:
    """Length (mm) of the free stretch of the segment ``start``-``end`` around ``anchor``.

    The segment minus ``walls``; the piece that contains ``anchor`` (or lies nearest to it).
    """
    line = LineString([start, end])
    free = line.difference(walls) if not walls.is_empty else line
    pieces = [g for g in getattr(free, "geoms", [free]) if not g.is_empty and g.length > 0]
    if not pieces:
        return 0.0
    p = Point(anchor)
    best = min(pieces, key=lambda g: g.distance(p))
    return float(best.length)


# ----------------------------------------------------------------------------- frames


def _lower_depth(level: str) -> float:
    lower = level.split("-")[1]
    return S1_ENDPLATE_DEPTH if lower == "S1" else VERTEBRAE[lower].body_depth


# ----------------------------------------------------------------------------- measuring


_CACHE: dict[tuple[Any, ...], tuple[Any, CanalMeasurements]] = {}
_CACHE_SIZE = 256


def _lesion_key(lesion: Any) -> tuple[int, ...]:
    if lesion is None:
        return ()
    if isinstance(lesion, pv.PolyData):
        return (id(lesion),)
    return tuple(id(m) for m in lesion.compressors.values()) + tuple(id(m) for m in lesion.replaced.values())


def _lesion_refs(lesion: Any) -> tuple[Any, ...]:
    """What a cache entry must keep alive so the ids in its key are not reused."""
    if lesion is None or isinstance(lesion, pv.PolyData):
        return (lesion,)
    return tuple(lesion.compressors.values()) + tuple(lesion.replaced.values())


def measure_canal(model: SpineModel, level: str, lesion: Any = None, posture: str = "neutral") -> CanalMeasurements:
    """Measure the canal, sac, recesses, foramina and slip at one disc level, on the geometry.

    Parameters
    ----------
    model : SpineModel
        The model (neutral; never modified).
    level : str
        A disc level, ``"L1-L2"`` .. ``"L5-S1"``.
    lesion : pyvista.PolyData or Lesion, optional
        A lesion mesh, or a condition's ``Lesion`` (``Impact.lesion``): its compressors take room,
        its replaced meshes (a slipped vertebra) stand in for the model's.
    posture : str
        ``"flexion"``, ``"neutral"`` or ``"extension"``: the segment is moved into it for the
        measurement only (the 3D view stays neutral).

    Returns
    -------
    CanalMeasurements
        Results are cached per (model, level, lesion meshes, posture).

    Raises
    ------
    ValueError
        For a level or posture that is not allowed (the message names the value).
    """
    check_level(level)
    check_posture(posture)
    key = (id(model), level, posture, _lesion_key(lesion))
    hit = _CACHE.get(key)
    if hit is not None:
        return hit[1]
    result = _measure(model, level, lesion, posture)
    if len(_CACHE) >= _CACHE_SIZE:
        _CACHE.pop(next(iter(_CACHE)))
    _CACHE[key] = ((model, _lesion_refs(lesion)), result)
    return result


_SECTIONS: dict[tuple[Any, ...], tuple[pv.PolyData, BaseGeometry]] = {}


def _cut(mesh: pv.PolyData | None, frame: Frame, tag: tuple[Any, ...], normal_axis: int = 2,
         offset: float = 0.0) -> BaseGeometry:
    """:func:`section`, cached per mesh object and cut (``tag`` names the cut's frame)."""
    if mesh is None:
        return Polygon()
    key = (id(mesh), normal_axis, round(offset, 3)) + tag
    hit = _SECTIONS.get(key)
    if hit is not None and hit[0] is mesh:
        return hit[1]
    geom = section(mesh, frame, normal_axis, offset)
    if len(_SECTIONS) > 4096:
        _SECTIONS.pop(next(iter(_SECTIONS)))
    _SECTIONS[key] = (mesh, geom)
    return geom


def _measure(model: SpineModel, level: str, lesion: Any, posture: str) -> CanalMeasurements:
    meshes = posed_level(model, level, posture, lesion)
    ids = level_structures(level)
    upper_id, lower_id, disc_id = ids[:3]
    lesion_mesh = meshes.get("lesion")
    tag = (level, posture, "disc")
    # --- the axial cut through the middle of the disc
    frame = posed_canal_frame(level, posture)
    cut = {sid: _cut(meshes[sid], frame, tag) for sid in (upper_id, lower_id, disc_id, "ligamentum-flavum",
                                                         "thecal-sac")}
    lesion_cut = _cut(lesion_mesh, frame, tag)
    walls = _union([cut[upper_id], cut[lower_id], cut[disc_id], cut["ligamentum-flavum"], lesion_cut])
    sac = _sac_piece(cut["thecal-sac"])
    residual = sac.difference(walls) if not walls.is_empty else sac
    sac_area = float(residual.area)
    # Canal AP: the free midline between the front and back walls, around the sac.
    canal_ap = free_run((0.0, -30.0), (0.0, 30.0), walls, (0.0, _sac_midline(sac)))
    # Roots and fluid (Schizas): the roots' cross-section inside the sac's outline; in a slowly
    # narrowed canal the roots move into the room left, so their area is compared with it.
    roots_area = intrathecal_roots_area(model, level)
    sac_back = sac.bounds[1] if not sac.is_empty else 0.0
    behind_walls = _union([cut["ligamentum-flavum"], lesion_cut, cut[upper_id], cut[lower_id]])
    behind = free_run((0.0, sac_back - 0.01), (0.0, sac_back - 15.0), behind_walls, (0.0, sac_back - 0.01))
    schizas = schizas_grade(roots_area, sac_area, posterior_fat=behind >= POSTERIOR_FAT_MIN_MM)
    recess = _recess_depths(level, posture, meshes[lower_id], meshes[disc_id], lesion_mesh)
    heights, lee = _foramina(level, posture, [meshes[upper_id], meshes[lower_id]], meshes[disc_id], lesion_mesh)
    slip = _slip_percent(level, posture, model, lesion)
    return CanalMeasurements(level, posture, sac_area, canal_ap, recess, heights, slip, hamanishi(sac_area),
                             schizas, lee)


def intrathecal_roots_area(model: SpineModel, level: str) -> float:
    """Cross-section (mm2) of the roots inside the dural sac at the middle of a disc (neutral model).

    Every root still inside the sac there (``explorer.anatomy.nerves.intrathecal_roots``) and the
    lowest roots of the cauda equina, cut by the disc's axial plane, inside the sac's outline.
    """
    key = (id(model), level)
    hit = _ROOTS_AREA.get(key)
    if hit is not None and hit[0] is model:
        return hit[1]
    meshes = model.polydata
    frame = posed_canal_frame(level, "neutral")
    tag = (level, "neutral", "disc")
    sac = _sac_piece(_cut(meshes["thecal-sac"], frame, tag))
    ids = [f"root-{r}-{s}" for r in intrathecal_roots(level) if r in ROOTS for s in SIDES] + ["cauda-equina"]
    area = float(_union([_cut(meshes[sid], frame, tag) for sid in ids]).intersection(sac).area)
    _ROOTS_AREA[key] = (model, area)
    return area


_ROOTS_AREA: dict[tuple[int, str], tuple[SpineModel, float]] = {}


def _sac_piece(cut: BaseGeometry) -> BaseGeometry:
    """The sac's outline at the level: the piece nearest the canal's centre."""
    pieces = [g for g in getattr(cut, "geoms", [cut]) if not g.is_empty and g.area > 0]
    if not pieces:
        return Polygon()
    centre = Point(0.0, 0.0)
    return min(pieces, key=lambda g: g.distance(centre))


def _sac_midline(sac: BaseGeometry) -> float:
    return 0.0 if sac.is_empty else float(sac.centroid.y)


# Where the recess is read: just above the lower endplate at the back of the disc (mm above it),
# and how far from the pedicle's medial wall (mm, + outward).
RECESS_HEIGHTS_MM: tuple[float, ...] = (1.0, 2.0)
RECESS_INSETS_MM: tuple[float, ...] = (-4.0, -3.0, -2.0, -1.0, 0.0, 1.0, 2.0, 3.0, 4.0)
RECESS_OPEN_MM: float = 15.0  # a line with nothing this far behind the body is not in the recess


def _recess_depths(level: str, posture: str, lower_bone: pv.PolyData, disc: pv.PolyData,
                   lesion: pv.PolyData | None) -> dict[str, float]:
    """Ciric's recess depth per side: the back of the body (or disc) to the superior articular
    process in front of the traversing root, or to lesion tissue in between (mm).

    Read in axial cuts 1-2 mm above the lower vertebra's upper endplate at its back (in this model
    the pedicle's upper border, where Ciric measured on CT, is within a millimetre of the endplate,
    and the superior articular processes face the back of the disc just above it), on lines parallel
    to the midline from 4 mm inside to 4 mm outside the pedicle's medial wall; the narrowest line
    that has a wall behind it within ``RECESS_OPEN_MM`` (lines medial to the process, open to the
    canal behind, are not in the recess unless lesion tissue closes them).
    """
    motion = segment_motion(level, posture)
    frame = posed_canal_frame(level, posture)
    out: dict[str, float] = {}
    front = motion.canal_depth / 2  # the back of the body, from the canal's centre
    for side in SIDES:
        runs: list[float] = []
        for above in RECESS_HEIGHTS_MM:
            dz = -motion.disc_height_back / 2 + above
            tag = (level, posture, "recess")
            walls = _union([_cut(lower_bone, frame, tag, 2, dz), _cut(disc, frame, tag, 2, dz),
                            _cut(lesion, frame, tag, 2, dz)])
            for inset in RECESS_INSETS_MM:
                x = side_sign(side) * (motion.canal_width / 2 + inset)
                run = free_run((x, front + 6.0), (x, front - RECESS_OPEN_MM - 6.0), walls, (x, front - 1.0))
                if run < RECESS_OPEN_MM:
                    runs.append(run)
        out[side] = float(min(runs)) if runs else RECESS_OPEN_MM
    return out


def _foramina(level: str, posture: str, bones: list[pv.PolyData], disc: pv.PolyData,
              lesion: pv.PolyData | None) -> tuple[dict[str, float], dict[str, int]]:
    """Foraminal height and Lee grade per side, in the parasagittal cut through the upper pedicle."""
    upper = level.split("-")[0]
    dims = VERTEBRAE[upper]
    motion = segment_motion(level, posture)
    frame = motion.frame
    root_r = ROOT_DIAMETER[upper] / 2
    exit_frame = spine_layout().vertebra[upper]
    tag = (level, posture, "foramen")
    heights: dict[str, float] = {}
    grades: dict[str, int] = {}
    for side in SIDES:
        x = side_sign(side) * (dims.canal_width / 2 + dims.pedicle_width / 2)
        lesion_cut = _cut(lesion, frame, tag, 0, x)
        walls = _union([_cut(b, frame, tag, 0, x) for b in bones] + [_cut(disc, frame, tag, 0, x), lesion_cut])
        # The exiting root in its foramen, under its pedicle, moved with the segment's soft tissue.
        exit_global = exit_frame.to_global(root_exit_local(dims, side, 2 * root_r))
        posed = motion.soft(exit_global[None, :])[0]
        c = frame.to_local(posed)
        yc, zc = float(c[1]), float(c[2])
        upper_cut = _cut(bones[0], frame, tag, 0, x)
        runs = [0.0]
        for dy in FORAMEN_LINES_MM:
            y = yc + dy
            # From the lower border of the upper pedicle (the bone just above the root) downwards.
            above = upper_cut.intersection(LineString([(y, zc - 2.0), (y, zc + 30.0)]))
            if above.is_empty:
                continue
            top = above.bounds[1]
            runs.append(free_run((y, top - 0.05), (y, top - 40.0), walls, (y, top - 0.1)))
        heights[side] = float(max(runs))
        root = Point(yc, zc).buffer(root_r, quad_segs=16)
        ring = Point(yc, zc).buffer(root_r + FAT_RING_MM, quad_segs=16).difference(root)
        fat_taken = float(ring.intersection(walls).area / ring.area) if not walls.is_empty else 0.0
        root_taken = float(root.intersection(lesion_cut).area / root.area) if not lesion_cut.is_empty else 0.0
        grades[side] = lee_grade(fat_taken, root_taken)
    return heights, grades


def _corner(mesh: pv.PolyData, frame: Frame, depth: float, bottom: bool) -> tuple[np.ndarray, float]:
    """The posterior edge of a vertebral body's endplate near the midline (global mm), and the
    endplate's depth there (mm).

    Vertices within 4 mm of the midline in the frame (the body's centre for the upper one, the
    upper endplate for the lower one): the lower half of the upper body, or the top 10 mm of the
    lower one; of those, within the body's depth of its front (the arch, even a slipped one, lies
    behind), the 3 mm band at the endplate, and its most posterior vertex.
    """
    local = frame.to_local(np.asarray(mesh.points))
    keep = np.abs(local[:, 0]) < 4.0
    keep &= (local[:, 2] < 0.0) if bottom else (local[:, 2] > -10.0)
    near = local[keep]
    if len(near) == 0:
        return frame.origin, depth
    body = near[near[:, 1] > near[:, 1].max() - depth - 2.0]
    z = body[:, 2]
    band = body[z < z.min() + 3.0] if bottom else body[z > z.max() - 3.0]
    back = band[np.argmin(band[:, 1])]
    return frame.to_global(back), float(band[:, 1].max() - band[:, 1].min())


def _slip_percent(level: str, posture: str, model: SpineModel, lesion: Any) -> float:
    """Meyerding slip (%): how far the upper body's posterior-inferior edge lies ahead of the lower
    endplate's posterior edge, along that endplate, over the endplate's depth (forward positive)."""
    upper, lower = level.split("-")
    ids = level_structures(level)
    replaced = {} if lesion is None or isinstance(lesion, pv.PolyData) else dict(lesion.replaced)
    meshes = model.polydata
    layout = spine_layout()
    up_mesh = replaced.get(ids[0], meshes[ids[0]])
    low_mesh = replaced.get(ids[1], meshes[ids[1]])
    low_frame = layout.upper_endplate[lower]
    up_corner, _ = _corner(up_mesh, layout.vertebra[upper], VERTEBRAE[upper].body_depth, bottom=True)
    low_corner, low_depth = _corner(low_mesh, low_frame, _lower_depth(level), bottom=False)
    if posture != "neutral":
        up_corner = segment_motion(level, posture).rigid(up_corner[None, :])[0]
    shift = float((low_frame.to_local(up_corner) - low_frame.to_local(low_corner))[1])
    return shift / max(low_depth, 1.0) * 100.0


def healthy_measurements(model: SpineModel, posture: str = "neutral") -> Mapping[str, CanalMeasurements]:
    """Measurements of the healthy model at every disc level (cached)."""
    from explorer.anatomy.morphometry import DISC_LEVELS

    return {lv: measure_canal(model, lv, None, posture) for lv in DISC_LEVELS}

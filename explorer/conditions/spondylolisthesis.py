"""Spondylolisthesis: one vertebra slides forward over the one below.

Grade (Meyerding HW. Spondylolisthesis. Surg Gynecol Obstet. 1932;54:371-377): the forward slip
of the upper vertebra's back edge, as a share of the front-to-back depth of the lower vertebra's
upper endplate: grade 1 up to 25 %, 2 up to 50 %, 3 up to 75 %, 4 up to 100 %. The model slides
the vertebra by the middle of each range (12.5, 37.5, 62.5 and 87.5 %), along the lower endplate
(the lower vertebra's or the sacrum's local +y axis).

Type (Wiltse LL, Newman PH, Macnab I. Classification of spondylolisis and spondylolisthesis.
Clin Orthop Relat Res. 1976;(117):23-29):

- **Degenerative** (type III; most often at L4-L5): worn, arthritic facet joints let the whole
  vertebra creep forward, arch and all. Its lamina and inferior facets move into the canal behind
  the body below, so the canal and the lateral recesses narrow where the two vertebrae overlap. The
  root squeezed first is the *traversing* root, the one that leaves the sac at that level and runs
  down the lateral recess (L5 at L4-L5), on both sides; with more slip the roots inside the sac
  (the sacral roots of the cauda equina) are squeezed too. Degenerative slips rarely pass grade 2.
- **Isthmic** (type II; most often at L5-S1): a defect (a stress fracture) in the pars
  interarticularis, the bony bridge between the upper and lower facets, splits the vertebra. The
  body, pedicles, transverse processes and upper facets slide forward; the lamina, spinous
  process and lower facets stay behind, so the canal gets wider, not narrower. As the disc below
  wears out the loose body also sinks, and the pedicle comes down onto the *exiting* root in its
  foramen (L5 at L5-S1), on both sides: "up-down" foraminal stenosis, the usual cause of leg pain
  in isthmic slips (critical foraminal and disc heights: Hasegawa T, An HS, Haughton VM, Nowicki
  BH. Lumbar foraminal stenosis: critical heights of the intervertebral discs and foramina.
  J Bone Joint Surg Am. 1995;77(1):32-38).

How the model measures it. The nerves do not move in this model, so a bone that slides past a
nerve would seem to let go of it again. Instead each lesion mesh is the space the slipped bone has
*taken from the nerves* (everything the moving wall has swept over, where the nerves are), and
compression is the measured penetration of the nerves into that space:

- degenerative: ``lesion-canal-narrowing-{left,right}``, the part of the canal at the level that the
  slipped vertebra's canal (its ring of arch, facets and ligaments) no longer covers. The slipping
  canal is the upper vertebra's own canal outline moved forward by the slip. Roots inside the
  dural sac float in spinal fluid and first slide aside; they are crowded only once the sac has
  lost much of its cross-section (a dural sac area below about 100 mm2, severe below 75 mm2:
  Schonstrom NS, Bolender NF, Spengler DM. The pathomorphology of spinal stenosis as seen on CT
  scans of the lumbar spine. Spine. 1985;10(9):806-811; Hamanishi C, Matukura N, Fujita M, et al.
  Cross-sectional area of the stenotic lumbar dural tube measured from the transverse views of
  magnetic resonance imaging. J Spinal Disord. 1994;7(5):388-393). The model therefore lets the
  sac's fluid absorb the first :data:`CSF_CUSHION_MM` of slip (half the sac's depth) for them (and
  ``Lesion.slow`` lets them move into the room left: see ``simulate.CROWDING``). The root that has
  already left the sac in its sleeve, in the lateral recess, has only a thin cushion of epidural
  fat around it (:data:`RECESS_FAT_MM`): that is why it is squeezed first. The slipped arch's lower
  facet rides into the recess only until it meets the facet below (:data:`RECESS_MAX_ADVANCE_MM`);
  a larger slip narrows the canal behind the sac instead, so high grades add crowding of the roots
  in the sac rather than flattening the recess root further (slip, worn facets and
  ligament together make the stenosis of degenerative spondylolisthesis: Sengupta DK, Herkowitz HN.
  Degenerative spondylolisthesis: review of current trends and controversies. Spine. 2005;30(6
  Suppl):S71-S81). Low-grade slips are often silent (Kalichman L, et al. Spine. 2009;34(2):199-205).
- isthmic: ``lesion-foraminal-stenosis-{left,right}``, the space swept by the sinking, slipping
  pedicle and the back of the body in the foramen (the roof of the foramen coming down and
  forward). The disc's loss of height grows with the grade (:data:`DISC_HEIGHT_LOSS`).

The slipped vertebra itself (the isthmic one as two pieces with a visible gap at both pars) and
the sheared discs above and below it are returned in ``replaced``.

Tempo: chronic. Low-grade slips (1-2) give back pain and radicular symptoms, at most a reduced
reflex; high-grade isthmic slips at L5-S1 (3-4) can also stretch the S1 roots and the cauda equina
over the back of the sacrum (Wiltse 1976 above; Meyerding 1932 above; Hu SS, Tribus CB, Diab M,
Ghanayem AJ. Spondylolisthesis and spondylolysis. J Bone Joint Surg Am. 2008;90(3):656-671).
Symptoms in both legs are the usual picture, not an emergency (the condition says calmly what
would make it one).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import TYPE_CHECKING

import numpy as np

from explorer.anatomy import vertebra as vb
from explorer.anatomy.frames import Frame
from explorer.anatomy.implicit import Array, grid_points, narrow_band, smoothstep, surface_from_field, transformed
from explorer.anatomy.layout import pedicle_box, spine_layout
from explorer.anatomy.morphometry import (
    DISC_LEVELS,
    DISCS,
    LUMBAR_LEVELS,
    S1_ENDPLATE_DEPTH,
    THECAL_SAC_DIAMETER,
    VERTEBRAE,
)
from explorer.anatomy.nerves import canal_station
from explorer.anatomy.structures import ROOTS
from explorer.conditions.base import (
    ConditionExample,
    ConditionSpec,
    ExpectedPattern,
    Lesion,
    ParamSpec,
    RedFlagRules,
    RootSide,
    both_sides,
    level_param,
    root_ids,
)
from explorer.conditions.shapes import PressingBlob, mesh_lesion
from explorer.conditions.stenosis import WATCH_FOR
from explorer.lazy import lazy_module
from explorer.settings import SDF_SPACING_MM, SMOOTHING_ITERATIONS, TARGET_FACES

if TYPE_CHECKING:
    import pyvista as pv
else:  # imported on first use (explorer/lazy.py): the first page needs none of it
    pv = lazy_module("pyvista")

TYPES: tuple[str, ...] = ("degenerative", "isthmic")
GRADES: tuple[str, ...] = ("1", "2", "3", "4")
# Slip as a share of the lower endplate's depth: the middle of each Meyerding range.
SLIP_FRACTION: dict[str, float] = {"1": 0.125, "2": 0.375, "3": 0.625, "4": 0.875}
GRADE_LABELS: dict[str, str] = {
    "1": "Grade 1 (0-25 % slip)",
    "2": "Grade 2 (25-50 % slip)",
    "3": "Grade 3 (50-75 % slip)",
    "4": "Grade 4 (75-100 % slip)",
}
TYPE_LABELS: dict[str, str] = {
    "degenerative": "Degenerative (worn facet joints)",
    "isthmic": "Isthmic (pars defect)",
}
# Isthmic only: share of the disc's back height lost as the body sinks (a modelling assumption:
# the disc below a pars defect wears out as the slip progresses). Degenerative slips keep their
# height at the back, where the displaced lower facets still rest on the facets below.
# Calibrated on the slip vignettes (content/cases/spondylolisthesis.yaml): the body sinks about
# 2.2 / 2.8 / 4.5 / 5.4 mm at L5-S1 (back height 7.1 mm) and 2.6 / 3.4 / 5.4 / 6.5 mm at L4-L5
# (8.5 mm), as it did with the lower disc heights used before (0.35 / 0.45 / 0.7 / 0.85 of
# 6.5 and 7.5 mm): the exiting root sits just under its pedicle, so the sink in mm, not the share,
# sets how hard the pedicle comes down on it.
DISC_HEIGHT_LOSS: dict[str, float] = {"1": 0.31, "2": 0.40, "3": 0.63, "4": 0.76}
PARS_GAP_MM: float = 3.0  # width of the pars defect before any slip
# Slip the sac's fluid absorbs before the roots inside it are pinched: about half the sac's depth, i.e.
# the sac squeezed to about half its area (see the module docstring). The extra 0.5 mm is calibration:
# with the taller MRI disc heights (morphometry.DISCS) the arch overlap at L4-L5 is 1 mm taller, and at
# exactly half the depth a grade 2 degenerative slip reached the sacral roots (saddle symptoms, which
# low-grade degenerative slips do not give: Kalichman L, Hunter DJ. Eur Spine J. 2008;17(3):327-335).
CSF_CUSHION_MM: float = THECAL_SAC_DIAMETER[1] / 2 + 0.5
CANAL_MARGIN_MM: float = 2.0  # the canal space at the level reaches this far past the outline
# Degenerative only: the epidural fat around the root in its lateral recess gives way first, so the
# slipped arch takes this much less of the recess than the slip itself; the effect fades in from
# RECESS_SPAN (shares of the canal's half width) toward the recess. Calibrated on the vignettes: 2.5 mm
# left the traversing L4 root of a grade 1 L3-L4 slip at 0.04 after the MRI disc heights (under the 0.05
# that gives symptoms, where the vignette and its sources expect the L4 root affected).
RECESS_FAT_MM: float = 2.3
# ...and the slipped arch's lower facet can ride forward into the recess only so far before it
# meets the facet below (mm); beyond that the slip narrows the canal behind the sac instead.
RECESS_MAX_ADVANCE_MM: float = 5.0
RECESS_SPAN: tuple[float, float] = (0.5, 0.8)
SWEEP_STEP_MM: float = 1.5  # sampling of the slip path when sweeping the sinking pedicle
# Isthmic, high grade only: the roots in the front of the sac, carried forward with the slipped
# body, are stretched over the back edge of the endplate below (the sacral dome at L5-S1). The
# model's nerves do not move, so the stretch is shown as that edge reaching into the sac's front
# by this share of its depth (a modelling stand-in; it meets the roots where they lie, unlike the
# slow narrowing, whose roots in the sac move aside).
DOME_INDENT: dict[str, float] = {"3": 0.35, "4": 0.55}
DOME_WIDTH_MM: float = 12.0
DOME_HEIGHT_MM: float = 8.0
LESION_SPACING_MM: float = 0.8
LESION_FACES: int = 1400
PIECE_FACES: int = TARGET_FACES["vertebra"] // 2


# --------------------------------------------------------------------------------- geometry


@dataclass(frozen=True)
class SlipGeometry:
    """Where the slipped vertebra goes (global mm).

    Attributes
    ----------
    level, kind, grade : str
        ``"L4-L5"``, ``"degenerative"`` / ``"isthmic"``, ``"1"``..``"4"``.
    upper, lower : str
        The slipping vertebra and the one below (``"S1"`` for the sacrum).
    lower_frame : Frame
        Frame at the centre of the lower vertebra's upper endplate (+y forward along it).
    upper_frame : Frame
        The upper vertebra's body frame before the slip.
    slip_mm, descent_mm : float
        Forward slip along the lower endplate, and sinking toward it (isthmic only).
    """

    level: str
    kind: str
    grade: str
    upper: str
    lower: str
    lower_frame: Frame
    upper_frame: Frame
    slip_mm: float
    descent_mm: float

    @property
    def forward(self) -> Array:
        return self.lower_frame.axes[:, 1]

    @property
    def shift(self) -> Array:
        """Displacement of the slipped bone (global mm)."""
        return self.slip_mm * self.forward - self.descent_mm * self.lower_frame.axes[:, 2]

    @property
    def moved_frame(self) -> Frame:
        return Frame(self.upper_frame.origin + self.shift, self.upper_frame.axes)


def endplate_depth(lower: str) -> float:
    """Front-to-back depth (mm) of the upper endplate of ``lower`` (a lumbar level or ``S1``)."""
    return S1_ENDPLATE_DEPTH if lower == "S1" else VERTEBRAE[lower].body_depth


def slip_geometry(level: str, kind: str, grade: str) -> SlipGeometry:
    """The slip of ``level`` (``"L4-L5"``) for a type and Meyerding grade."""
    upper, lower = level.split("-")
    layout = spine_layout()
    slip = SLIP_FRACTION[grade] * endplate_depth(lower)
    descent = DISC_HEIGHT_LOSS[grade] * DISCS[level].height_posterior if kind == "isthmic" else 0.0
    return SlipGeometry(level, kind, grade, upper, lower, layout.upper_endplate[lower],
                        layout.vertebra[upper], slip, descent)


# ------------------------------------------------------------------------ meshing helpers


def _mesh_all(field: Callable[[Array], Array], bounds: tuple[float, ...], frame: Frame,
              spacing: float = LESION_SPACING_MM, faces: int = LESION_FACES) -> pv.PolyData:
    """Mesh every closed piece of a local-frame field (unlike ``surface_from_field``, which keeps
    only the largest), smoothed, decimated and oriented outward; returned in global mm."""
    grid, pts = grid_points(bounds, spacing)
    values = field(pts)
    values[np.abs(values) < 1e-4] = 1e-4
    grid.point_data["sdf"] = values
    surf = grid.contour([0.0], scalars="sdf").triangulate().clean()
    if surf.n_cells == 0:
        return pv.PolyData()
    pieces = []
    bodies = surf.split_bodies()
    total = sum(b.n_cells for b in bodies)
    for body in bodies:
        piece = pv.PolyData(body.extract_surface(algorithm="dataset_surface")).triangulate().clean()
        if piece.n_cells < 24:  # marching-cubes specks
            continue
        piece = piece.smooth_taubin(n_iter=15, pass_band=0.05)
        budget = max(60, int(faces * piece.n_cells / total))
        if piece.n_cells > budget:
            piece = piece.decimate(1.0 - budget / piece.n_cells, volume_preservation=True)
        piece = piece.compute_normals(auto_orient_normals=True, consistent_normals=True, split_vertices=False)
        pieces.append(pv.PolyData(piece.points, piece.faces).clean())
    if not pieces:
        return pv.PolyData()
    merged = pieces[0] if len(pieces) == 1 else pieces[0].merge(pieces[1:])
    return transformed(pv.PolyData(merged.points, merged.faces), frame)


def _sides_of(x: Array, side: str) -> Array:
    """Half-space field keeping the patient's ``side`` (x < 0 left, x > 0 right)."""
    return x if side == "left" else -x


# ------------------------------------------------------------------- the slipped vertebra


def _part_fields(level: str) -> tuple[Callable[[Array], Array], Callable[[Array], Array]]:
    """Distance to the parts that slide (body, pedicles, transverse and upper facets) and to the
    parts that stay behind in an isthmic slip (laminae, spinous process, lower facets and pars)."""
    d = VERTEBRAE[level]
    sides = ("left", "right")

    def front(p: Array) -> Array:
        out = vb.body_field(p, level)
        for s in sides:
            out = np.minimum(out, vb.pedicle_field(p, d, s))
            out = np.minimum(out, vb.transverse_field(p, level, s))
            out = np.minimum(out, vb.superior_articular_field(p, level, s))
        return out

    def back(p: Array) -> Array:
        out = vb.spinous_field(p, level)
        for s in sides:
            out = np.minimum(out, vb.lamina_field(p, d, s))
            out = np.minimum(out, vb.inferior_articular_field(p, level, s))
        return out

    return front, back


@cache
def isthmic_pieces(level: str) -> tuple[pv.PolyData, pv.PolyData]:
    """The vertebra split through both pars (local frame): (sliding front piece, arch left behind).

    The bone is the vertebra's own distance field; a point belongs to the piece whose parts it is
    nearer to, and the band where both are about equally near (:data:`PARS_GAP_MM` wide), at the
    pars, is left empty: the defect.
    """
    bone = vb.vertebra_field(level)
    front, back = _part_fields(level)

    def piece(sign: float) -> Callable[[Array], Array]:
        def field(p: Array) -> Array:
            v = bone(p)
            near = v < 4.0  # far from the bone the sign is already right
            out = v.copy()
            if near.any():
                c = front(p[near]) - back(p[near])
                out[near] = np.maximum(v[near], sign * c + PARS_GAP_MM / 2)
            return out

        return field

    bounds = vb.vertebra_bounds(level)
    return tuple(  # type: ignore[return-value]
        surface_from_field(narrow_band(piece(sign), SDF_SPACING_MM), bounds, SDF_SPACING_MM,
                           SMOOTHING_ITERATIONS, PIECE_FACES)
        for sign in (1.0, -1.0)
    )


def slipped_vertebra(geom: SlipGeometry) -> tuple[pv.PolyData, pv.PolyData | None]:
    """The slipped vertebra (global mm) and, for an isthmic slip, the moved front piece alone."""
    if geom.kind == "degenerative":
        return transformed(vb.build_local(geom.upper), geom.moved_frame), None
    front, back = isthmic_pieces(geom.upper)
    moved = transformed(front, geom.moved_frame)
    stays = transformed(back, geom.upper_frame)
    return moved.merge(stays), moved


def _shear_weight(points: Array, bottom: Frame, top: Frame) -> Array:
    """0 on the ``bottom`` endplate plane, 1 on the ``top`` one, linear in between."""
    below = bottom.to_local(points)[:, 2]
    above = -top.to_local(points)[:, 2]
    return np.clip(below / np.maximum(below + above, 1e-6), 0.0, 1.0)


@lru_cache(maxsize=32)
def _structure(structure_id: str) -> pv.PolyData:
    from explorer.anatomy.model import build_structure

    return build_structure(structure_id)


def sheared_discs(geom: SlipGeometry) -> dict[str, pv.PolyData]:
    """The discs below and above the slipped vertebra, sheared with it (global mm).

    Each vertex moves with the vertebra by its height between the two endplates: the disc below
    follows it fully at its top and not at all at its bottom; the disc above the other way round.
    """
    layout = spine_layout()
    out: dict[str, pv.PolyData] = {}
    i = LUMBAR_LEVELS.index(geom.upper)
    below_frames = (geom.lower_frame, layout.lower_endplate[geom.upper])
    jobs = [(geom.level, below_frames, False)]
    if i > 0:
        above = f"{LUMBAR_LEVELS[i - 1]}-{geom.upper}"
        jobs.append((above, (layout.upper_endplate[geom.upper], layout.lower_endplate[LUMBAR_LEVELS[i - 1]]), True))
    for disc_id, (bottom, top), flip in jobs:
        for kind in ("disc", "nucleus"):
            mesh = _structure(f"{kind}-{disc_id}").copy()
            pts = np.asarray(mesh.points, dtype=float)
            w = _shear_weight(pts, bottom, top)
            if flip:
                w = 1.0 - w
            mesh.points = pts + w[:, None] * geom.shift
            out[f"{kind}-{disc_id}"] = mesh
    return out


# ------------------------------------------------------------------------- lesion meshes


@cache
def _arch_reach(level: str) -> tuple[float, float]:
    """Heights (lower endplate frame, mm) over which the upper vertebra's arch overlaps the one
    below: from the tips of its lower facets up to its lower endplate at the back."""
    geom = slip_geometry(level, "degenerative", "1")
    dims = VERTEBRAE[geom.upper]
    pts = geom.upper_frame.to_global(np.asarray(vb.build_local(geom.upper).points))
    behind = geom.upper_frame.to_local(pts)[:, 1] < -dims.body_depth / 2 - 3.0
    bottom = float(geom.lower_frame.to_local(pts[behind])[:, 2].min())
    return bottom, DISCS[level].height_posterior


def canal_narrowing_field(geom: SlipGeometry, side: str | None = None) -> Callable[[Array], Array]:
    """Canal space at the level lost to the slipped vertebra's canal (lower endplate frame, mm).

    The space: the upper vertebra's canal outline (with :data:`CANAL_MARGIN_MM`), behind the lower
    body, from the tips of the upper lower facets to the upper lower endplate. Lost: outside the
    same outline moved forward by the slip. In the lateral recesses the arthritic facets reach
    :data:`RECESS_FAT_MM` less (epidural fat gives way) and at most :data:`RECESS_MAX_ADVANCE_MM`
    (the lower facet meets the facet below); inside the dural sac the slip counts
    :data:`CSF_CUSHION_MM` less (the roots there first drift aside in the fluid).
    """
    profile = vb.canal_profile(geom.upper)
    sac = canal_station(geom.level)
    z_low, z_high = _arch_reach(geom.level)
    y_front = -endplate_depth(geom.lower) / 2
    fu, fl = geom.upper_frame, geom.lower_frame
    half_width = VERTEBRAE[geom.upper].canal_width / 2
    recess_lo, recess_hi = (f * half_width for f in RECESS_SPAN)

    def field(local: Array) -> Array:
        p = fl.to_global(local)
        s = sac.frame.to_local(p)
        k = np.hypot(s[:, 0] / sac.sac_half_width, s[:, 1] / sac.sac_half_depth)
        in_sac = np.clip((1.0 - k) / 0.15, 0.0, 1.0)
        here = fu.to_local(p)
        recess = smoothstep(recess_lo, recess_hi, np.abs(here[:, 0]))
        advance = geom.slip_mm * (1.0 - recess) + min(geom.slip_mm, RECESS_MAX_ADVANCE_MM) * recess
        slip = np.maximum(advance - RECESS_FAT_MM * recess - CSF_CUSHION_MM * in_sac, 0.0)
        moved = fu.to_local(p - slip[:, None] * geom.forward)
        terms = [
            profile(here[:, 0], here[:, 1]) - CANAL_MARGIN_MM,
            -profile(moved[:, 0], moved[:, 1]),
            z_low - local[:, 2],
            local[:, 2] - z_high,
            local[:, 1] - y_front,
        ]
        if side is not None:
            terms.append(_sides_of(local[:, 0], side))
        return np.maximum.reduce(terms)

    return field


def foraminal_stenosis_field(geom: SlipGeometry, side: str) -> Callable[[Array], Array]:
    """Foramen space swept by the sinking, slipping pedicle and body corner (lower frame, mm).

    The pedicle and the body next to it, lowered by the disc's height loss, swept along the slip;
    only their lower half lateral to the canal (the roof and front of the foramen), behind the
    lower body's back.
    """
    dims = VERTEBRAE[geom.upper]
    ped = pedicle_box(dims, side)
    fu, fl = geom.upper_frame, geom.lower_frame
    steps = np.unique(np.r_[np.arange(0.0, geom.slip_mm, SWEEP_STEP_MM), geom.slip_mm])
    down = geom.descent_mm * fl.axes[:, 2]
    y_front = -endplate_depth(geom.lower) / 2 + 2.0
    sgn = 1.0 if side == "right" else -1.0

    def piece(q: Array) -> Array:
        bone = np.minimum(vb.body_field(q, geom.upper), vb.pedicle_field(q, dims, side))
        return np.maximum.reduce([bone, q[:, 2] - ped.center[2], (dims.canal_width / 2 - 2.0) - sgn * q[:, 0]])

    def field(local: Array) -> Array:
        p = fl.to_global(local)
        out = np.full(len(p), np.inf)
        for t in steps:
            out = np.minimum(out, piece(fu.to_local(p - t * geom.forward + down)))
        return np.maximum(out, local[:, 1] - y_front)

    return field


def _lesion_bounds(geom: SlipGeometry, side: str | None) -> tuple[float, ...]:
    """A box (lower endplate frame, mm) that holds a lesion mesh."""
    dims = VERTEBRAE[geom.upper]
    half = dims.canal_width / 2 + dims.pedicle_width + 6.0
    back = -endplate_depth(geom.lower) / 2 - dims.canal_depth - 14.0
    z_low, z_high = _arch_reach(geom.level)
    if geom.kind == "isthmic":
        z_low, z_high = -10.0, DISCS[geom.level].height_posterior + dims.body_height / 2 + 4.0
    x_lo, x_hi = (-half, 1.0) if side == "left" else (-1.0, half)
    return (x_lo, x_hi, back, -endplate_depth(geom.lower) / 2 + 3.0, z_low - 2.0, z_high + 2.0)


def mirrored(mesh: pv.PolyData) -> pv.PolyData:
    """The mesh reflected through the mid-sagittal plane (x -> -x), still facing outward."""
    points = np.asarray(mesh.points).copy()
    points[:, 0] *= -1.0
    faces = np.asarray(mesh.faces).reshape(-1, 4)[:, [0, 1, 3, 2]]  # reversed winding
    return pv.PolyData(points, faces.ravel())


@lru_cache(maxsize=128)
def lesion_mesh(level: str, kind: str, grade: str, side: str) -> pv.PolyData:
    """The lesion mesh on one side (global mm): canal narrowing or foraminal stenosis.

    The right side is the left one mirrored (the model is symmetric), so both sides measure alike.
    """
    if side == "right":
        return mirrored(lesion_mesh(level, kind, grade, "left"))
    geom = slip_geometry(level, kind, grade)
    if kind == "degenerative":
        field = canal_narrowing_field(geom, side)
        return _mesh_all(field, _lesion_bounds(geom, side), geom.lower_frame)
    field = foraminal_stenosis_field(geom, side)
    return _mesh_all(narrow_band(field, LESION_SPACING_MM), _lesion_bounds(geom, side), geom.lower_frame)


def warm_up() -> None:
    """Build the shared meshes of every level's slips: the vertebra in its local frame and its two
    pieces split at the pars (measured 1.9-3.0 s and 2.8-3.4 s per level, 4.7-6.3 s in all per level:
    a visitor's first slip at a level waits for them otherwise). All are cached per process; the
    meshes are the ones a visit would build (same functions, same arguments)."""
    for level in DISC_LEVELS:
        geom = slip_geometry(level, "degenerative", "1")
        vb.build_local(geom.upper)
        isthmic_pieces(geom.upper)
        _arch_reach(level)


# ---------------------------------------------------------------------------- the lesion


def _roots_from(upper: str) -> tuple[str, ...]:
    """The level's exiting root and every root below it (the traversing one and those in the sac)."""
    return ROOTS[ROOTS.index(upper):]


def _names(geom: SlipGeometry) -> dict[str, str]:
    tag = f"grade {geom.grade}, {geom.kind}"
    names = {f"vertebra-{geom.upper}": f"{geom.upper} vertebra slipped forward ({tag})"}
    names["lesion-roots-stretched"] = (f"Roots stretched over the back edge of {geom.lower} as {geom.upper} slips "
                                       f"far forward ({tag})")
    for side in ("left", "right"):
        if geom.kind == "degenerative":
            names[f"lesion-canal-narrowing-{side}"] = (
                f"Canal and lateral recess ({side}) narrowed at {geom.level} by the slipped {geom.upper} arch ({tag})")
        else:
            names[f"lesion-foraminal-stenosis-{side}"] = (
                f"{geom.level} foramen ({side}) narrowed: the slipped {geom.upper} pedicle comes down on the "
                f"{geom.upper} root ({tag})")
    return names


@lru_cache(maxsize=16)
def dome_mesh(level: str, grade: str) -> pv.PolyData:
    """High-grade isthmic slip: the back edge of the endplate below, tenting the front of the sac
    (global mm; see :data:`DOME_INDENT`)."""
    geom = slip_geometry(level, "isthmic", grade)
    station = canal_station(level)
    edge = station.frame.to_local(geom.lower_frame.to_global((0.0, -endplate_depth(geom.lower) / 2 + 1.0, -1.0)))
    blob = PressingBlob(edge, np.zeros(3), station.sac_half_depth, DOME_INDENT[grade], DOME_WIDTH_MM, DOME_HEIGHT_MM)
    return mesh_lesion(blob.field, blob.bounds(), station.frame)


@lru_cache(maxsize=64)
def _lesion(level: str, kind: str, grade: str) -> Lesion:
    geom = slip_geometry(level, kind, grade)
    vertebra, _ = slipped_vertebra(geom)
    replaced = {f"vertebra-{geom.upper}": vertebra, **sheared_discs(geom)}
    prefix = "lesion-canal-narrowing" if kind == "degenerative" else "lesion-foraminal-stenosis"
    compressors = {}
    for side in ("left", "right"):
        mesh = lesion_mesh(level, kind, grade, side)
        if mesh.n_cells:
            compressors[f"{prefix}-{side}"] = mesh
    pinning: frozenset[str] = frozenset()
    if kind == "isthmic" and grade in DOME_INDENT:
        compressors["lesion-roots-stretched"] = dome_mesh(level, grade)
        pinning = frozenset({"lesion-roots-stretched"})
    dims = VERTEBRAE[geom.upper]
    corner = geom.moved_frame.to_global((0.0, -dims.body_depth / 2, -dims.body_height_posterior / 2))
    names = _names(geom)
    candidates = root_ids(_roots_from(geom.upper)) + ("cauda-equina", "thecal-sac")
    return Lesion(compressors, replaced, {k: v for k, v in names.items() if k in compressors or k in replaced},
                  corner, candidates, slow=True, pinning=pinning)


def build_lesion(params: Mapping[str, str]) -> Lesion:
    """The slipped vertebra, its sheared discs, and the nerve space it takes (see module doc)."""
    lesion = _lesion(params["level"], params["type"], params["grade"])
    # Fresh dicts around the cached meshes (which must never be mutated).
    return Lesion(dict(lesion.compressors), dict(lesion.replaced), dict(lesion.names), lesion.focus.copy(),
                  lesion.candidates, slow=lesion.slow, pinning=lesion.pinning)


# ------------------------------------------------------------------------ clinical knowledge


def expected(params: Mapping[str, str]) -> ExpectedPattern:
    """The textbook pattern (Wiltse 1976; Kalichman 2008; Hu 2008), not the geometry's."""
    level, kind, grade = params.get("level", "L4-L5"), params.get("type", "degenerative"), params.get("grade", "1")
    upper, lower = level.split("-")
    low_grade = grade in ("1", "2")
    if kind == "isthmic":
        # Low grade: the exiting root in its foramen, not the root below. High grade at L5-S1 may
        # also stretch S1 and the cauda equina, so nothing below is "spared" there.
        spared = both_sides(lower) if low_grade else frozenset()
        return ExpectedPattern(both_sides(upper), spared, bilateral=True,
                               explanation=f"With a pars defect the {upper} body slides forward and its "
                                           f"foramina narrow: the exiting {upper} roots are squeezed"
                                           + ("." if low_grade else f"; a slip this large can also stretch the "
                                                                    f"{lower} roots and the cauda equina."))
    # Low-grade degenerative slips often give back pain or claudication without a squeezed root
    # (Kalichman 2008): if a root is squeezed it is the traversing one; high grades always squeeze it.
    return ExpectedPattern(both_sides(lower), both_sides(upper),
                           required=frozenset() if low_grade else both_sides(lower), bilateral=not low_grade,
                           explanation=f"In a degenerative slip the whole {upper} vertebra slides forward and "
                                       f"narrows the canal and lateral recesses: the traversing {lower} roots "
                                       f"are squeezed first (a low-grade slip is often silent).")


COMMON: tuple[str, ...] = ("One vertebra has slipped forward on the one below it.",)
TYPE_FEATURES: Mapping[str, tuple[str, ...]] = {
    "isthmic": (
        ("Isthmic type: a stress fracture of the pars interarticularis, often from adolescence, typically "
        "in young, active people (gymnasts, fast bowlers, footballers)."),
        "Low back pain made worse by arching backwards (extension) and eased by rest.",
        "Tight hamstrings, sometimes with a short-stepped, stiff walk.",
        ("Most often at L5-S1. In low-grade slips the loose bony arch and scar tissue squeeze the exiting "
        "L5 root in the foramen, not the S1 root; a high-grade slip can also stretch the S1 roots and the "
        "cauda equina over the back of the sacrum."),
    ),
    "degenerative": (
        ("Degenerative type: worn facet joints let the vertebra slide, mostly at L4-L5, in people over 50 "
        "and more often in women."),
        ("It narrows the canal, so neurogenic claudication is common, and it squeezes the traversing L5 "
        "root in the lateral recess."),
    ),
}
MEYERDING_GRADES: Mapping[str, str] = {
    "1": "Meyerding grade I: slipped forward by less than a quarter of the vertebral body.",
    "2": "Meyerding grade II: slipped forward by a quarter to a half of the vertebral body.",
    "3": "Meyerding grade III: slipped forward by a half to three quarters of the vertebral body.",
    "4": "Meyerding grade IV: slipped forward by more than three quarters of the vertebral body.",
    "5": "Meyerding grade V (spondyloptosis): the vertebra has slipped completely off the one below.",
}


def features(params: Mapping[str, str], degrees: Mapping[RootSide, float]) -> tuple[str, ...]:
    """Typical features by type, level and grade."""
    kind, level, grade = params.get("type"), params.get("level"), params.get("grade")
    out = list(COMMON) + list(TYPE_FEATURES.get(kind or "", ()))
    if level and kind == "isthmic":
        out.append(f"At {level} the root at risk is {level.split('-')[0]}, the exiting root.")
    elif level and kind == "degenerative":
        out.append(f"At {level} the root at risk is {level.split('-')[1]}, the traversing root.")
    if grade is not None and grade in MEYERDING_GRADES:
        out.append(MEYERDING_GRADES[grade])
    return tuple(out)


SPEC = ConditionSpec(
    id="spondylolisthesis",
    name="Spondylolisthesis",
    summary="A vertebra slides forward over the one below, narrowing the canal (degenerative) or the "
            "nerve exits (isthmic).",
    params=(
        level_param("L4-L5", DISC_LEVELS),
        ParamSpec("type", "Type", TYPES, "degenerative", value_labels=TYPE_LABELS,
                  plain_label="What let the bone slip",
                  plain_value_labels={"degenerative": "Worn joints (wear and tear, older adults)",
                                      "isthmic": "A crack in the back part of the bone (often from youth)"}),
        ParamSpec("grade", "Meyerding grade", GRADES, "1", value_labels=GRADE_LABELS,
                  plain_label="How far it has slipped",
                  plain_value_labels={"1": "A little (up to a quarter of the bone)",
                                      "2": "Quite far (up to half of the bone)",
                                      "3": "Far (more than half of the bone)",
                                      "4": "Very far (almost off the bone below)"}),
    ),
    build_lesion=build_lesion,
    expected=expected,
    tempo="chronic",
    features=features,
    red_flags=RedFlagRules(cauda_equina=True, bilateral_sciatica=False, severe_weakness=True, watch_for=WATCH_FOR),
    examples=(
        ConditionExample("Degenerative slip (L4-L5, grade 1)", {"level": "L4-L5", "type": "degenerative", "grade": "1"}),
        ConditionExample("Isthmic slip (L5-S1, grade 2)", {"level": "L5-S1", "type": "isthmic", "grade": "2"}),
        ConditionExample("High-grade isthmic slip (L5-S1, grade 3)", {"level": "L5-S1", "type": "isthmic", "grade": "3"}),
    ),
    order=30,
    warm_up=warm_up,
)

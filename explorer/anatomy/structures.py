"""The structure registry: every mesh in the model, with a stable id and its metadata.

Ids are used everywhere (mesh file names, content front matter, URLs, tests) and never change:
``vertebra-L4``, ``disc-L4-L5``, ``nucleus-L4-L5``, ``root-L5-left``, ``sciatic-left``,
``piriformis-left``, ``thecal-sac``, ``cauda-equina``, ``conus-medullaris``, ``sacrum``,
``hip-bone-left``, ``femur-left``.
"""

from __future__ import annotations

from dataclasses import dataclass

from explorer.anatomy.morphometry import DISC_LEVELS, LUMBAR_LEVELS

ROOTS: tuple[str, ...] = ("L1", "L2", "L3", "L4", "L5", "S1", "S2", "S3")
SIDES: tuple[str, ...] = ("left", "right")


@dataclass(frozen=True)
class Structure:
    """One anatomical structure of the model.

    Attributes
    ----------
    id : str
        Stable id, also the mesh file's stem in ``assets/models``.
    name : str
        Human-readable name shown on hover.
    kind : str
        Builder and palette key (``vertebra``, ``disc``, ``root``...).
    layer : str
        Switchable layer: ``bones`` (spine), ``pelvis``, ``discs``, ``nerves`` or ``muscles``.
    level : str or None
        Spinal level (``L4``, ``L4-L5``, root ``L5``), if any.
    side : str or None
        ``left`` or ``right`` (the patient's), if paired.
    """

    id: str
    name: str
    kind: str
    layer: str
    level: str | None = None
    side: str | None = None


def _paired(kind: str, layer: str, base_name: str, level: str | None = None) -> list[Structure]:
    prefix = kind if level is None else f"{kind}-{level}"
    return [
        Structure(f"{prefix}-{side}", f"{base_name} ({side})", kind, layer, level, side) for side in SIDES
    ]


def _build_registry() -> dict[str, Structure]:
    items: list[Structure] = []
    items += [Structure(f"vertebra-{lv}", f"{lv} vertebra", "vertebra", "bones", lv) for lv in LUMBAR_LEVELS]
    items.append(Structure("sacrum", "Sacrum", "sacrum", "bones", "S1"))
    items += _paired("hip-bone", "pelvis", "Hip bone (ilium, ischium and pubis)")
    items += _paired("femur", "pelvis", "Femur, upper end")
    for lv in DISC_LEVELS:
        items.append(Structure(f"disc-{lv}", f"{lv} disc, annulus fibrosus", "disc", "discs", lv))
        items.append(Structure(f"nucleus-{lv}", f"{lv} disc, nucleus pulposus", "nucleus", "discs", lv))
    items.append(Structure("thecal-sac", "Thecal (dural) sac", "thecal-sac", "nerves"))
    items.append(Structure("conus-medullaris", "Conus medullaris (end of the spinal cord)", "conus", "nerves"))
    items.append(Structure("cauda-equina", "Cauda equina", "cauda-equina", "nerves"))
    for root in ROOTS:
        items += _paired("root", "nerves", f"{root} nerve root", root)
    items += _paired("sciatic", "nerves", "Sciatic nerve")
    items += _paired("piriformis", "muscles", "Piriformis muscle")
    return {s.id: s for s in items}


STRUCTURES: dict[str, Structure] = _build_registry()


def structure(structure_id: str) -> Structure:
    """Look up a structure; the error names the bad id and a few valid ones."""
    try:
        return STRUCTURES[structure_id]
    except KeyError:
        examples = ", ".join(list(STRUCTURES)[:6])
        raise KeyError(f"unknown structure id {structure_id!r}; valid ids look like {examples}, ...") from None
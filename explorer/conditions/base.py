"""What every condition module provides: its parameters (with allowed values and defaults) and a
lesion builder that says what the condition does to the model."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np
import pyvista as pv

from explorer.anatomy.morphometry import DISC_LEVELS

SIDE_VALUES: tuple[str, ...] = ("left", "right")
SEVERITY_VALUES: tuple[str, ...] = ("mild", "moderate", "severe")


@dataclass(frozen=True)
class ParamSpec:
    """One condition parameter.

    Attributes
    ----------
    name : str
        URL / CLI name (``level``, ``zone``, ``side``...).
    label : str
        Widget label.
    values : tuple of str
        Allowed values, in display order.
    default : str
        The most common presentation.
    value_labels : dict
        Optional display text per value (for example severity with its clinical grade).
    applies_when : dict
        Other parameter -> values for which this one matters (``side`` only when ``zone`` is
        not central). Empty: always applies.
    plain_label : str
        The widget label in patient words (falls back to ``label`` when empty).
    plain_value_labels : dict
        Display text per value in patient words: no millimetres, no grading names (falls back
        to ``value_labels``).
    """

    name: str
    label: str
    values: tuple[str, ...]
    default: str
    value_labels: Mapping[str, str] = field(default_factory=dict)
    applies_when: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    plain_label: str = ""
    plain_value_labels: Mapping[str, str] = field(default_factory=dict)

    def applies(self, params: Mapping[str, str]) -> bool:
        return all(params.get(other) in allowed for other, allowed in self.applies_when.items())

    def label_for(self, value: str) -> str:
        return self.value_labels.get(value, value)

    def plain_label_for(self, value: str) -> str:
        """The value in patient words, else its clinical label."""
        return self.plain_value_labels.get(value) or self.label_for(value)

    @property
    def plain_name(self) -> str:
        """The parameter's label in patient words, else its clinical label."""
        return self.plain_label or self.label


@dataclass(frozen=True)
class Lesion:
    """What a condition does to the model (geometry only; the measuring is done by simulate).

    Attributes
    ----------
    compressors : dict
        Lesion id -> closed mesh that presses on nerves (disc fragment, stenotic tissue, slipped
        bone, swollen muscle). Shown in 3D and used to measure compression.
    replaced : dict
        Existing structure id -> its deformed mesh (a slipped vertebra, a swollen piriformis).
    names : dict
        Lesion id -> hover name (``"Herniated disc material (L4-L5)"``).
    focus : ndarray, shape (3,)
        Where the camera should look (mm).
    candidates : tuple of str
        Nerve structure ids worth measuring (neighbours of the lesion).
    """

    compressors: dict[str, pv.PolyData]
    replaced: dict[str, pv.PolyData]
    names: dict[str, str]
    focus: np.ndarray
    candidates: tuple[str, ...]


@dataclass(frozen=True)
class ConditionSpec:
    """A condition a person can trigger."""

    id: str
    name: str
    summary: str
    params: tuple[ParamSpec, ...]
    build_lesion: Callable[[Mapping[str, str]], Lesion]

    def param(self, name: str) -> ParamSpec:
        return next(p for p in self.params if p.name == name)

    def defaults(self) -> dict[str, str]:
        return {p.name: p.default for p in self.params}

    def applicable(self, params: Mapping[str, str]) -> dict[str, str]:
        """Only the parameters that matter for these values (``side`` dropped for central)."""
        return {p.name: params[p.name] for p in self.params if p.applies(params)}

    def validate(self, raw: Mapping[str, str]) -> tuple[dict[str, str], tuple[str, ...]]:
        """Defaults overlaid with valid values from ``raw``; a message for each bad value.

        Parameters that do not belong to this condition are ignored silently (a shared link may
        carry another condition's parameters).
        """
        params = self.defaults()
        errors: list[str] = []
        for p in self.params:
            if p.name not in raw:
                continue
            value = str(raw[p.name]).strip()
            if value in p.values:
                params[p.name] = value
            else:
                errors.append(
                    f"{self.name}: {p.name} {value!r} is not allowed; use one of {', '.join(p.values)} "
                    f"(default {p.default!r})."
                )
        return params, tuple(errors)


# Patient words for the disc levels: which two back bones the disc sits between.
LEVEL_PLAIN: Mapping[str, str] = {
    "L1-L2": "L1-L2: between the 1st and 2nd low-back bones",
    "L2-L3": "L2-L3: between the 2nd and 3rd low-back bones",
    "L3-L4": "L3-L4: between the 3rd and 4th low-back bones",
    "L4-L5": "L4-L5: between the 4th and 5th low-back bones (common)",
    "L5-S1": "L5-S1: between the lowest back bone and the base of the spine (common)",
}


def level_param(default: str = "L4-L5", values: tuple[str, ...] = DISC_LEVELS) -> ParamSpec:
    return ParamSpec("level", "Level", values, default, plain_label="Where in the back",
                     plain_value_labels={v: LEVEL_PLAIN.get(v, v) for v in values})


def side_param(applies_when: Mapping[str, tuple[str, ...]] | None = None) -> ParamSpec:
    return ParamSpec("side", "Side", SIDE_VALUES, "left",
                     value_labels={"left": "Patient's left", "right": "Patient's right"},
                     applies_when=applies_when or {}, plain_label="Which side",
                     plain_value_labels={"left": "Left side of the body", "right": "Right side of the body"})


def root_ids(roots: tuple[str, ...], sides: tuple[str, ...] = SIDE_VALUES) -> tuple[str, ...]:
    """Structure ids of roots on the given sides."""
    return tuple(f"root-{r}-{s}" for r in roots for s in sides)

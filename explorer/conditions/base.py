"""What every condition module provides (a module exposing ``SPEC``, found by the registry):

- its parameters (allowed values, defaults, clinical and patient words);
- a lesion builder that says what the condition does to the model (the geometry);
- its clinical knowledge, written from references and independent of the geometry: the textbook
  pattern of roots it affects (:class:`ExpectedPattern`), its typical features, its tempo (acute or
  chronic), its red-flag rules and a few typical examples (for tests, e2e tests and the benchmark).

Adding a condition means one module with a ``SPEC`` plus its texts in ``content/``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from explorer.anatomy.morphometry import DISC_LEVELS
from explorer.lazy import lazy_module

if TYPE_CHECKING:
    import pyvista as pv
else:  # imported on first use (explorer/lazy.py): the first page needs none of it
    pv = lazy_module("pyvista")

SIDE_VALUES: tuple[str, ...] = ("left", "right")
SEVERITY_VALUES: tuple[str, ...] = ("mild", "moderate", "severe")
TEMPOS: tuple[str, ...] = ("acute", "chronic")
SPINAL_ROOTS: tuple[str, ...] = ("L1", "L2", "L3", "L4", "L5", "S1", "S2", "S3", "S4", "S5")
RootSide = tuple[str, str]


@dataclass(frozen=True)
class ExpectedPattern:
    """What the textbook says a condition affects.

    Attributes
    ----------
    primary : frozenset of (root, side)
        Roots one of which must be the most compressed (empty: no root need be affected).
    required : frozenset of (root, side) or None
        Roots that must all be compressed; defaults to ``primary``.
    spared : frozenset of (root, side)
        Roots that must be clearly less compressed than the primary ones (or untouched).
    nerves : frozenset of (nerve, side)
        Peripheral nerves that must be compressed (piriformis).
    no_roots : bool
        No spinal root may be compressed at all.
    bilateral : bool
        Both sides must be affected.
    cauda_equina : bool
        The lower sacral roots (saddle, bladder, bowel) must be compressed on both sides.
    explanation : str
        One sentence of why, for the summary and the student text.
    """

    primary: frozenset[RootSide] = field(default_factory=frozenset)
    spared: frozenset[RootSide] = field(default_factory=frozenset)
    nerves: frozenset[RootSide] = field(default_factory=frozenset)
    no_roots: bool = False
    bilateral: bool = False
    explanation: str = ""
    required: frozenset[RootSide] | None = None
    cauda_equina: bool = False


def both_sides(*roots: str) -> frozenset[RootSide]:
    """(root, side) for each root on both sides."""
    return frozenset((r, s) for r in roots for s in SIDE_VALUES)


def roots_below(root: str, inclusive: bool = True) -> tuple[str, ...]:
    """``root`` (if inclusive) and every spinal root below it, top to bottom."""
    i = SPINAL_ROOTS.index(root)
    return SPINAL_ROOTS[i if inclusive else i + 1:]


@dataclass(frozen=True)
class RedFlagRules:
    """Which red flags a condition may raise (the thresholds live in ``explorer.clinical.picture``).

    Attributes
    ----------
    cauda_equina : bool
        Saddle, bladder, bowel and sexual-function flags when the lower sacral roots are squeezed to
        the numbness level on both sides (from any level of the canal).
    bilateral_sciatica : bool
        Symptoms in both legs are a warning sign of cauda equina syndrome for an acute disc lesion
        (GIRFT 2023 national suspected cauda equina pathway); for a slowly narrowing canal they are
        the usual picture (neurogenic claudication) and are not a red flag.
    severe_weakness : bool
        Severe or rapidly worsening weakness.
    watch_for : tuple of str
        Calm plain sentences: what would turn this condition into an emergency.
    """

    cauda_equina: bool = True
    bilateral_sciatica: bool = True
    severe_weakness: bool = True
    watch_for: tuple[str, ...] = ()


@dataclass(frozen=True)
class ConditionExample:
    """A typical state of a condition (name + parameters), for tests, e2e tests and the benchmark."""

    name: str
    params: Mapping[str, str]


FeatureRule = Callable[[Mapping[str, str], Mapping[RootSide, float]], tuple[str, ...]]


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
    slow : bool
        A slowly narrowing canal (stenosis, a slip): the roots inside the dural sac, which float in
        spinal fluid, move into the room that is left and adapt, so they are squeezed only when
        the sac as a whole runs out of room (``simulate.CROWDING`` plus a reserve), never by the
        lesion's edge alone. An acute lesion (a disc fragment) meets them where they lie, held
        in their places by arachnoid bands (Wall 1990; see ``explorer.anatomy.nerves``).
    pinning : frozenset of str
        Compressor ids of a slow lesion that still meet the roots in the sac where they lie
        (roots stretched over a bone edge cannot move aside).
    """

    compressors: dict[str, pv.PolyData]
    replaced: dict[str, pv.PolyData]
    names: dict[str, str]
    focus: np.ndarray
    candidates: tuple[str, ...]
    slow: bool = False
    pinning: frozenset[str] = frozenset()


def _no_features(params: Mapping[str, str], degrees: Mapping[RootSide, float]) -> tuple[str, ...]:
    return ()


@dataclass(frozen=True)
class ConditionSpec:
    """A condition a person can trigger, with its clinical knowledge.

    Attributes
    ----------
    id, name, summary : str
        Registry id, display name, one-line summary.
    params : tuple of ParamSpec
        Its parameters.
    build_lesion : callable
        Validated params -> :class:`Lesion` (geometry only).
    expected : callable
        Validated, applicable params -> :class:`ExpectedPattern` (the textbook rule, with sources
        in the module).
    tempo : str
        ``"acute"`` (a disc fragment) or ``"chronic"`` (slow narrowing); red flags depend on it.
    features : callable
        (params, {(root, side): degree}) -> typical features as short plain sentences.
    red_flags : RedFlagRules
        Which red flags it may raise, and the calm "watch for" sentences.
    examples : tuple of ConditionExample
        A few typical parameter sets.
    order : int
        Display order in menus (lower first).
    warm_up : callable, optional
        Builds (and caches in the process) what many of its states share and is slow to build, so a
        start-up warm-up can do it before a visitor asks. Results must not depend on it having run.
    """

    id: str
    name: str
    summary: str
    params: tuple[ParamSpec, ...]
    build_lesion: Callable[[Mapping[str, str]], Lesion]
    expected: Callable[[Mapping[str, str]], ExpectedPattern] = field(default=lambda params: ExpectedPattern())
    tempo: str = "acute"
    features: FeatureRule = _no_features
    red_flags: RedFlagRules = field(default_factory=RedFlagRules)
    examples: tuple[ConditionExample, ...] = ()
    order: int = 100
    warm_up: Callable[[], None] | None = None

    def __post_init__(self) -> None:
        if self.tempo not in TEMPOS:
            raise ValueError(f"condition {self.id!r}: tempo {self.tempo!r} must be one of {', '.join(TEMPOS)}")
        names = [p.name for p in self.params]
        for example in self.examples:
            unknown = set(example.params) - set(names)
            if unknown:
                raise ValueError(f"condition {self.id!r}: example {example.name!r} has unknown parameters "
                                 f"{', '.join(sorted(unknown))}")
            for p in self.params:
                if p.name in example.params and example.params[p.name] not in p.values:
                    raise ValueError(f"condition {self.id!r}: example {example.name!r} has {p.name}="
                                     f"{example.params[p.name]!r}; allowed: {', '.join(p.values)}")

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
                # Imported here: explorer.state imports the condition registry, which imports this module.
                from explorer.state import shown

                # The value comes from a link: quoted and shortened (it can be 300,000 characters).
                errors.append(
                    f"{self.name}: {p.name} {shown(value)} is not allowed; use one of {', '.join(p.values)} "
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

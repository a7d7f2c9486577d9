"""ExplorerState: the one small, validated state that everything on screen is a function of.

It round-trips through URL query parameters, so every view is a shareable link
(``?condition=herniation&level=L4-L5&zone=paracentral&side=left&severity=moderate&view=lateral``).
Bad values never raise: they produce a message naming the bad value and what is allowed, and fall
back to the default for that field.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from explorer import settings
from explorer.anatomy.morphometry import DISC_LEVELS, LUMBAR_LEVELS
from explorer.anatomy.structures import STRUCTURES
from explorer.conditions.registry import CONDITIONS

AUDIENCES: tuple[str, ...] = ("student", "educator", "patient")
# "condition": pick a condition and see its effects; "symptoms": mark symptoms and see likely causes.
MODES: tuple[str, ...] = ("condition", "symptoms")
NO_CONDITION: str = "none"
# Bad values are quoted in messages up to this many characters.
MAX_SHOWN_CHARS: int = 80
CONDITION_PARAM_NAMES: frozenset[str] = frozenset(p.name for c in CONDITIONS.values() for p in c.params)
# MRI-like sections below the 3D view: off, an axial cut, or a sagittal cut (midline, or through the
# foramen for a foraminal lesion).
SECTIONS: tuple[str, ...] = ("off", "axial", "sagittal")
# Where a section may cut: through a disc's mid-plane ("L4-L5") or a lumbar body's middle ("L4").
CUT_LEVELS: tuple[str, ...] = (*DISC_LEVELS, *LUMBAR_LEVELS)
# Posture of the segment shown in the sections (the measurements follow it). Kept in step with
# explorer.anatomy.posture.POSTURES by tests/test_sections.py.
POSTURES: tuple[str, ...] = ("flexion", "neutral", "extension")
DEFAULT_POSTURE: str = "neutral"


@dataclass(frozen=True)
class ExplorerState:
    """What the person is looking at.

    Attributes
    ----------
    audience : str
        Who the texts are written for: student, educator or patient.
    condition : str
        A condition id, or ``"none"`` for the healthy anatomy.
    params : tuple of (name, value)
        The condition's applicable parameters (validated, in the condition's order).
    view : str
        Camera preset id (see ``settings.CAMERA_PRESETS``).
    layers : tuple of str
        Visible layers, in ``settings.LAYERS`` order.
    bone_opacity : float
        Opacity of the bones (one of ``settings.BONE_OPACITY_CHOICES``) so nerves can show through.
    dim_others : bool
        Fade everything that is not compressed, so the lesion stands out.
    selected : str or None
        Id of the selected structure, if any.
    mode : str
        ``condition`` (show a condition) or ``symptoms`` (from symptoms to possible causes).
    labels : bool
        Show text labels in the 3D view (levels, squeezed roots, the lesion).
    section : str
        MRI-like section shown below the 3D view: ``off``, ``axial`` or ``sagittal``.
    section_level : str or None
        Where the section cuts (a disc level like ``L4-L5`` or a body like ``L4``); None means the
        lesion's level, or L4-L5 when the condition has none.
    posture : str
        Posture of the segment in the sections: ``flexion``, ``neutral`` or ``extension``.
    """

    audience: str = "student"
    condition: str = NO_CONDITION
    params: tuple[tuple[str, str], ...] = ()
    view: str = settings.DEFAULT_VIEW
    layers: tuple[str, ...] = settings.LAYERS
    bone_opacity: float = settings.DEFAULT_BONE_OPACITY
    dim_others: bool = False
    selected: str | None = None
    mode: str = "condition"
    labels: bool = True
    section: str = "off"
    section_level: str | None = None
    posture: str = DEFAULT_POSTURE

    @property
    def param_dict(self) -> dict[str, str]:
        return dict(self.params)

    def with_(self, **changes: object) -> ExplorerState:
        return replace(self, **changes)  # type: ignore[arg-type]


DEFAULT_STATE = ExplorerState()
STATE_KEYS: tuple[str, ...] = ("audience", "mode", "condition", "view", "layers", "bone_opacity", "dim", "selected",
                               "labels", "section", "cut", "posture")


@dataclass(frozen=True)
class ParseResult:
    """A state parsed from query params and the problems found on the way."""

    state: ExplorerState
    errors: tuple[str, ...] = field(default=())


def _first(value: str | list[str] | tuple[str, ...]) -> str:
    if isinstance(value, (list, tuple)):
        return str(value[-1]) if value else ""
    return str(value)


def shorten(text: str, limit: int = MAX_SHOWN_CHARS) -> str:
    """``text`` cut to at most ``limit`` characters, ending in "…" when cut."""
    return text if len(text) <= limit else text[: max(0, limit - 1)] + "…"


def shown(value: object, limit: int = MAX_SHOWN_CHARS) -> str:
    """``value`` quoted for a message, cut to ``limit`` characters (a pasted link can be very long).

    This is plain text: whoever puts it on the page must show it as text (see
    ``explorer.ui.reading.literal``), since a quoted value can still look like Markdown.
    """
    return repr(shorten(value if isinstance(value, str) else repr(value), limit))


def _allowed(values: object) -> str:
    return ", ".join(str(v) for v in values)  # type: ignore[attr-defined]


def condition_params(condition: str, raw: Mapping[str, str]) -> tuple[tuple[tuple[str, str], ...], tuple[str, ...]]:
    """Validated, applicable parameters of ``condition`` from ``raw`` (defaults where missing or bad)."""
    if condition == NO_CONDITION:
        return (), ()
    spec = CONDITIONS[condition]
    params, errors = spec.validate(raw)
    return tuple(spec.applicable(params).items()), errors


def parse_query_params(params: Mapping[str, str | list[str]]) -> ParseResult:
    """Build a state from URL query parameters; unknown or bad values fall back to defaults.

    Parameters
    ----------
    params : mapping
        Query parameters as given by ``st.query_params.to_dict()`` (str values) or a parsed
        query string (list values: the last one wins).
    """
    values = {k: _first(v).strip() for k, v in params.items()}
    state = DEFAULT_STATE
    errors: list[str] = []
    for key, value in values.items():
        if key == "audience":
            if value in AUDIENCES:
                state = state.with_(audience=value)
            else:
                errors.append(f"Unknown audience {shown(value)}; allowed: {_allowed(AUDIENCES)}. "
                              "Showing the student texts.")
        elif key == "mode":
            if value in MODES:
                state = state.with_(mode=value)
            else:
                errors.append(f"Unknown mode {shown(value)}; allowed: {_allowed(MODES)}. Showing a condition.")
        elif key == "condition":
            if value in CONDITIONS or value == NO_CONDITION:
                state = state.with_(condition=value)
            else:
                errors.append(f"Unknown condition {shown(value)}; allowed: {_allowed((NO_CONDITION, *CONDITIONS))}. "
                              "Showing the healthy spine.")
        elif key == "view":
            if value in settings.CAMERA_PRESETS:
                state = state.with_(view=value)
            else:
                errors.append(f"Unknown view {shown(value)}; allowed: {_allowed(settings.CAMERA_PRESETS)}. "
                              "Showing the default view.")
        elif key == "layers":
            wanted = [v.strip() for v in value.split(",") if v.strip()]
            bad = [v for v in wanted if v not in settings.LAYERS]
            if bad:
                errors.append(f"Unknown layer(s) {', '.join(map(shown, bad))}; allowed: {_allowed(settings.LAYERS)}.")
            state = state.with_(layers=tuple(layer for layer in settings.LAYERS if layer in wanted))
        elif key == "bone_opacity":
            try:
                number = float(value)
            except ValueError:
                number = -1.0
            if number in settings.BONE_OPACITY_CHOICES:
                state = state.with_(bone_opacity=number)
            else:
                errors.append(f"Bone opacity {shown(value)} is not allowed; use one of "
                              f"{_allowed(settings.BONE_OPACITY_CHOICES)}.")
        elif key == "dim":
            if value in ("0", "1"):
                state = state.with_(dim_others=value == "1")
            else:
                errors.append(f"dim {shown(value)} is not allowed; use 0 or 1.")
        elif key == "labels":
            if value in ("0", "1"):
                state = state.with_(labels=value == "1")
            else:
                errors.append(f"labels {shown(value)} is not allowed; use 0 (no labels in 3D) or 1 (labels).")
        elif key == "selected":
            if value in STRUCTURES:
                state = state.with_(selected=value)
            elif value:
                errors.append(f"Unknown structure {shown(value)}; ids look like vertebra-L4, disc-L4-L5, root-L5-left.")
        elif key == "section":
            if value in SECTIONS:
                state = state.with_(section=value)
            else:
                errors.append(f"Unknown section {shown(value)}; allowed: {_allowed(SECTIONS)}. Showing no section.")
        elif key == "cut":
            if value in CUT_LEVELS:
                state = state.with_(section_level=value)
            elif value:
                errors.append(f"Unknown cut level {shown(value)}; allowed: {_allowed(CUT_LEVELS)}. "
                              "Cutting at the lesion's level.")
        elif key == "posture":
            if value in POSTURES:
                state = state.with_(posture=value)
            else:
                errors.append(f"Unknown posture {shown(value)}; allowed: {_allowed(POSTURES)}. Showing standing "
                              "(neutral).")
        elif key not in CONDITION_PARAM_NAMES:
            errors.append(f"Unknown link parameter {shown(key)} was ignored; known parameters: "
                          f"{_allowed(STATE_KEYS + tuple(sorted(CONDITION_PARAM_NAMES)))}.")
    cond_params, cond_errors = condition_params(state.condition, values)
    errors.extend(cond_errors)
    return ParseResult(state.with_(params=cond_params), tuple(errors))


def to_query_params(state: ExplorerState) -> dict[str, str]:
    """The state as query parameters, leaving out fields at their default (short links)."""
    out: dict[str, str] = {}
    if state.audience != DEFAULT_STATE.audience:
        out["audience"] = state.audience
    if state.mode != DEFAULT_STATE.mode:
        out["mode"] = state.mode
    if state.condition != NO_CONDITION:
        out["condition"] = state.condition
        out.update(dict(state.params))
    if state.view != DEFAULT_STATE.view:
        out["view"] = state.view
    if state.layers != DEFAULT_STATE.layers:
        out["layers"] = ",".join(state.layers)
    if state.bone_opacity != DEFAULT_STATE.bone_opacity:
        out["bone_opacity"] = f"{state.bone_opacity:g}"
    if state.dim_others:
        out["dim"] = "1"
    if state.selected:
        out["selected"] = state.selected
    if not state.labels:
        out["labels"] = "0"
    if state.section != DEFAULT_STATE.section:
        out["section"] = state.section
    if state.section_level is not None:
        out["cut"] = state.section_level
    if state.posture != DEFAULT_STATE.posture:
        out["posture"] = state.posture
    return out

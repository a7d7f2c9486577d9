"""ExplorerState: the one small, validated state that everything on screen is a function of.

It round-trips through URL query parameters, so every view is a shareable link. Bad values never
raise: they produce a message naming the bad value and what is allowed, and fall back to the
default for that field.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace

from explorer import settings
from explorer.anatomy.structures import STRUCTURES


@dataclass(frozen=True)
class ExplorerState:
    """What the person is looking at.

    Attributes
    ----------
    view : str
        Camera preset id (see ``settings.CAMERA_PRESETS``).
    layers : tuple of str
        Visible layers, in ``settings.LAYERS`` order.
    bone_opacity : float
        Opacity of the bones (one of ``settings.BONE_OPACITY_CHOICES``) so nerves can show through.
    selected : str or None
        Id of the selected structure, if any.
    """

    view: str = settings.DEFAULT_VIEW
    layers: tuple[str, ...] = settings.LAYERS
    bone_opacity: float = settings.DEFAULT_BONE_OPACITY
    selected: str | None = None

    def with_(self, **changes: object) -> ExplorerState:
        """A copy with some fields changed (validated the same way as query params)."""
        return replace(self, **changes)  # type: ignore[arg-type]


DEFAULT_STATE = ExplorerState()
QUERY_KEYS: tuple[str, ...] = tuple(f.name for f in fields(ExplorerState))


@dataclass(frozen=True)
class ParseResult:
    """A state parsed from query params and the problems found on the way."""

    state: ExplorerState
    errors: tuple[str, ...] = field(default=())


def _first(value: str | list[str] | tuple[str, ...]) -> str:
    if isinstance(value, (list, tuple)):
        return str(value[-1]) if value else ""
    return str(value)


def _allowed(values: object) -> str:
    return ", ".join(str(v) for v in values)  # type: ignore[attr-defined]


def parse_query_params(params: Mapping[str, str | list[str]]) -> ParseResult:
    """Build a state from URL query parameters; unknown or bad values fall back to defaults.

    Parameters
    ----------
    params : mapping
        Query parameters as given by ``st.query_params.to_dict()`` (str values) or a parsed
        query string (list values: the last one wins).
    """
    state = DEFAULT_STATE
    errors: list[str] = []
    for key, raw_value in params.items():
        value = _first(raw_value).strip()
        if key == "view":
            if value in settings.CAMERA_PRESETS:
                state = state.with_(view=value)
            else:
                errors.append(f"Unknown view {value!r}; allowed: {_allowed(settings.CAMERA_PRESETS)}. Showing the default view.")
        elif key == "layers":
            wanted = [v.strip() for v in value.split(",") if v.strip()]
            bad = [v for v in wanted if v not in settings.LAYERS]
            if bad:
                errors.append(f"Unknown layer(s) {', '.join(map(repr, bad))}; allowed: {_allowed(settings.LAYERS)}.")
            state = state.with_(layers=tuple(layer for layer in settings.LAYERS if layer in wanted))
        elif key == "bone_opacity":
            try:
                number = float(value)
            except ValueError:
                number = -1.0
            if number in settings.BONE_OPACITY_CHOICES:
                state = state.with_(bone_opacity=number)
            else:
                errors.append(f"Bone opacity {value!r} is not allowed; use one of {_allowed(settings.BONE_OPACITY_CHOICES)}.")
        elif key == "selected":
            if value in STRUCTURES:
                state = state.with_(selected=value)
            elif value:
                errors.append(f"Unknown structure {value!r}; ids look like vertebra-L4, disc-L4-L5, root-L5-left.")
        else:
            errors.append(f"Unknown link parameter {key!r} was ignored; known parameters: {_allowed(QUERY_KEYS)}.")
    return ParseResult(state, tuple(errors))


def to_query_params(state: ExplorerState) -> dict[str, str]:
    """The state as query parameters, leaving out fields at their default (short links)."""
    out: dict[str, str] = {}
    if state.view != DEFAULT_STATE.view:
        out["view"] = state.view
    if state.layers != DEFAULT_STATE.layers:
        out["layers"] = ",".join(state.layers)
    if state.bone_opacity != DEFAULT_STATE.bone_opacity:
        out["bone_opacity"] = f"{state.bone_opacity:g}"
    if state.selected:
        out["selected"] = state.selected
    return out

"""Sidebar widgets and the two-way link between them, ExplorerState and the URL."""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import parse_qs

import streamlit as st

from explorer import settings
from explorer.conditions.registry import CONDITIONS
from explorer.state import (
    AUDIENCES,
    DEFAULT_STATE,
    MODES,
    NO_CONDITION,
    ExplorerState,
    ParseResult,
    condition_params,
    parse_query_params,
    to_query_params,
)

OPACITY_LABELS: dict[float, str] = {1.0: "Solid", 0.6: "See-through", 0.3: "Faint"}
AUDIENCE_LABELS: dict[str, str] = {"student": "Student", "educator": "Educator", "patient": "Patient"}
MODE_LABELS: dict[str, str] = {"condition": "Show a condition", "symptoms": "Start from symptoms"}
CONDITION_LABELS: dict[str, str] = {NO_CONDITION: "Healthy spine (no condition)",
                                    **{cid: spec.name for cid, spec in CONDITIONS.items()}}
# Condition names in everyday words first (patients), the medical name after it so it can be
# matched with what a doctor said. Used only if the condition has no plain name of its own.
PLAIN_CONDITION_LABELS: dict[str, str] = {
    NO_CONDITION: "A healthy back (nothing wrong)",
    "herniation": "Slipped disc (disc herniation)",
    "stenosis": "Narrowed spinal canal (stenosis)",
    "spondylolisthesis": "Slipped back bone (spondylolisthesis)",
    "piriformis": "Tight buttock muscle (piriformis)",
    "cauda_equina": "Cauda equina (badly squeezed nerves)",
}

# Patients' words where the clinical label is jargon (others read settings.LAYER_LABELS / CAMERA_LABELS).
PLAIN_LAYER_LABELS: dict[str, str] = {"pelvis": "Hip and thigh bones", "nerves": "Nerves (and the bag around them)"}
PLAIN_CAMERA_LABELS: dict[str, str] = {"oblique": "From behind, a little to the left"}


# Parts of the page that rerun on their own (st.fragment keys, see explorer.ui.page). A control
# that changes only what one of them shows reruns only that part (``st.rerun(key)`` from its
# callback), instead of the whole page with its texts.
VIEWER_FRAGMENT = "lx_viewer"
CHART_FRAGMENT = "lx_chart"
SELECTION_FRAGMENT = "lx_selection"
SECTIONS_FRAGMENT = "lx_sections"
DESCRIPTION_FRAGMENT = "lx_description"  # the page's text description of the pictures
FRAGMENTS_DRAWN_KEY = "_lx_fragments_drawn"  # the fragment keys the last full run drew
# The selection the chart and the selection panel were last drawn with: a click in 3D (which
# reruns only the 3D view's fragment) that changes it reruns the whole page.
DRAWN_SELECTION_KEY = "_lx_drawn_selected"


# Keyed fragment reruns: a control reruns only the parts of the page it changes. The query
# parameters written in those runs reach the address bar (checked in Chromium with
# location.href; Playwright's page.url is not refreshed by history.replaceState). Off: every
# control reruns the whole page, as before fragments.
KEYED_RERUNS: bool = True


def rerun_only(*keys: str) -> None:
    """From a widget callback: rerun only the fragments ``keys`` that the last full run drew
    (when it drew the first of them and :data:`KEYED_RERUNS` is on), else the whole page (a
    widget inside a fragment would otherwise rerun only its own fragment)."""
    drawn = st.session_state.get(FRAGMENTS_DRAWN_KEY) or ()
    if not KEYED_RERUNS:
        st.rerun()
    if keys and keys[0] in drawn:
        if SELECTION_FRAGMENT in keys:  # the selection panel is redrawn with the new selection
            st.session_state[DRAWN_SELECTION_KEY] = st.session_state.get("selected")
        st.rerun([k for k in keys if k in drawn])  # the others are not on this page


def _viewer_changed() -> None:
    """Callback of the 3D view's own controls (layers, labels, opacity, fading): only the 3D
    view and its text description change."""
    rerun_only(VIEWER_FRAGMENT, DESCRIPTION_FRAGMENT)


def condition_label(condition: str, audience: str) -> str:
    """The condition's name as this audience reads it (everyday words for patients)."""
    if audience == "patient":
        spec = CONDITIONS.get(condition)
        own = getattr(spec, "plain_name", "") if spec is not None else ""
        return own or PLAIN_CONDITION_LABELS.get(condition) or CONDITION_LABELS.get(condition, condition)
    return CONDITION_LABELS.get(condition, condition)


# The state a widget starts from when this session holds no value for it: the link's state on the
# session's first run, then the state the last full run showed (a widget that comes back, such as a
# parameter after the symptoms mode, keeps what the page showed).
SEED_KEY = "_lx_seed"


def _seed(s: ExplorerState) -> None:
    """Set every widget's value from a state, overriding what the widgets hold (widget callbacks
    only: an in-app link, "show in 3D"). A session's first run seeds through the widgets' defaults
    instead (:func:`_init_from_url`)."""
    st.session_state["audience"] = s.audience
    st.session_state["mode"] = s.mode
    st.session_state["condition"] = s.condition
    for name, value in s.params:
        st.session_state[f"param_{name}"] = value
    for layer in settings.LAYERS:
        st.session_state[f"layer_{layer}"] = layer in s.layers
    st.session_state["bone_opacity"] = s.bone_opacity
    st.session_state["dim_others"] = s.dim_others
    st.session_state["view"] = s.view
    st.session_state["selected"] = s.selected
    st.session_state["labels"] = s.labels
    st.session_state[SEED_KEY] = s


def _init_from_url() -> None:
    """On a session's first run, take the link it was opened with as the widgets' starting state.

    Why not write the widgets' values into ``st.session_state``: a value written there before a
    widget is drawn wins over the value the browser sent with the rerun (Streamlit 1.67,
    ``SessionState._getitem`` reads ``_new_session_state`` before ``_new_widget_state``). After a
    replica dies, the browser reconnects to another one and its next change starts that new
    session's first run, carrying every widget's value; the URL still holds the state from before
    the change, so seeding from it lost the change (issue 14). The link's state goes in as the
    widgets' defaults (``index=`` / ``value=``, see :func:`starting_index`): a fresh page has no
    widget values, so the link applies; a reconnected page's values win. The widgets' ids depend
    only on their keys (radio, checkbox, toggle, select_slider: ``key_as_main_identity=True``;
    selectbox: the key and ``accept_new_options``), so a default never resets a widget.
    """
    if st.session_state.get("_initialised"):
        return
    parsed = parse_query_params(st.query_params.to_dict())
    st.session_state[SEED_KEY] = parsed.state
    st.session_state["selected"] = parsed.state.selected  # not a widget: nothing from the browser
    st.session_state["camera_request_id"] = 0
    st.session_state["camera_focus"] = False
    st.session_state["url_errors"] = parsed.errors
    st.session_state["_initialised"] = True


def seed_state() -> ExplorerState:
    """The state widgets start from when this session holds no value for them (see :data:`SEED_KEY`)."""
    seed = st.session_state.get(SEED_KEY)
    return seed if isinstance(seed, ExplorerState) else DEFAULT_STATE


def holds(key: str) -> bool:
    """True when this session holds a value for widget ``key`` (drawn before, set by a callback, or
    sent by the browser for a widget drawn this run). A reconnected browser's values become
    readable only once their widget is drawn (Streamlit has no deserializer for them before)."""
    return key in st.session_state


def starting_index(key: str, options: Sequence[Any], value: Any) -> int:
    """``index=`` for a radio or selectbox: ``value``'s position when the session holds nothing for
    ``key``; else 0, which Streamlit ignores for a widget with a value (and, unlike another index,
    does not log "created with a default value but also had its value set via the Session State
    API" when a callback set it)."""
    options = list(options)
    return options.index(value) if not holds(key) and value in options else 0


def _starting_bool(key: str, value: bool) -> bool:
    """``value=`` for a checkbox or toggle (False when the session holds a value: see :func:`starting_index`)."""
    return bool(value) and not holds(key)


def link_state(query: str, audience: str, labels: bool) -> ParseResult:
    """The state an in-app link opens for this reader: their ``audience`` always, their ``labels``
    choice unless the link sets it.

    Parameters
    ----------
    query : str
        The link's query string, with or without the leading ``?``.
    """
    raw = parse_qs(query.lstrip("?"), keep_blank_values=True)
    raw["audience"] = [audience]
    raw.setdefault("labels", ["1" if labels else "0"])
    return parse_query_params(raw)


def open_app_link(query: str) -> None:
    """Callback: open an in-app link (``?condition=...`` in a text) in this tab.

    The reader's audience always stays (an educator following a link in an educator text must not
    land on the student texts), and so does their choice of 3D labels unless the link sets it.
    The camera comes to the new state and the 3D view is scrolled into sight.
    """
    parsed = link_state(query, str(st.session_state.get("audience", DEFAULT_STATE.audience)),
                        bool(st.session_state.get("labels", True)))
    _seed(parsed.state)
    st.session_state["url_errors"] = parsed.errors
    _request_camera(parsed.state.condition != NO_CONDITION)
    st.session_state["viewer_scroll_request"] = int(st.session_state.get("viewer_scroll_request", 0)) + 1


def _request_camera(focus: bool) -> None:
    # A new request id tells the viewer to move the camera; otherwise it keeps the person's view.
    st.session_state["camera_request_id"] = st.session_state.get("camera_request_id", 0) + 1
    st.session_state["camera_focus"] = focus


def _camera_button(focus: bool) -> None:
    """Callback of the camera buttons and presets: move the camera, rerun only the 3D view."""
    _request_camera(focus)
    rerun_only(VIEWER_FRAGMENT, DESCRIPTION_FRAGMENT)


def _param_labelers(p: Any) -> list[Callable[[str], Any]]:
    return [p.label_for, getattr(p, "plain_label_for", p.label_for)]


def _param_value(p: Any, seed: ExplorerState) -> str:
    """The value parameter ``p``'s widget holds now as an option id; when the session holds none,
    the seed's (the link's on a first run), else the parameter's default."""
    fallback = seed.param_dict.get(p.name, p.default)
    return widget_value(f"param_{p.name}", list(p.values), _param_labelers(p),
                        fallback if fallback in p.values else p.default)


def _condition_widgets(condition: str, plain: bool) -> tuple[tuple[str, str], ...]:
    """One widget per applicable parameter; values outside a parameter's choices reset to its default.

    With ``plain`` (patients) the labels are everyday words (``ParamSpec.plain_label_for``), else the
    clinical terms.
    """
    if condition == NO_CONDITION:
        return ()
    spec = CONDITIONS[condition]
    seed = seed_state()
    current: dict[str, str] = {}
    for p in spec.params:
        key = f"param_{p.name}"
        current[p.name] = _param_value(p, seed)
        if holds(key) and st.session_state[key] != current[p.name]:
            st.session_state[key] = current[p.name]  # not one of this condition's choices: its default
    for p in spec.params:
        if not p.applies(current):
            continue
        key = f"param_{p.name}"
        label = (getattr(p, "plain_name", "") or p.label) if plain else p.label
        words = getattr(p, "plain_label_for", p.label_for) if plain else p.label_for
        if not plain and hasattr(p, "label_in"):  # options that name only the chosen zone's measure
            words = functools.partial(p.label_in, params=dict(current))
        index = starting_index(key, p.values, current[p.name])
        if len(p.values) <= 4:
            st.radio(label, options=list(p.values), key=key, format_func=words, index=index,
                     horizontal=p.name == "side")
        else:
            st.selectbox(label, options=list(p.values), key=key, format_func=words, index=index)
        # What the widget holds now (after a reconnect, the browser's value, readable only now):
        # the parameters after it (severity after zone) apply and are labelled by it.
        current[p.name] = _param_value(p, seed)
    params, _ = condition_params(condition, current)
    return params


def widget_value(key: str, options: Sequence[str], labelers: Sequence[Callable[[str], Any]], default: str) -> str:
    """The option a widget holds now, as an option id.

    Labels of several widgets change with the audience (everyday words for patients), and
    Streamlit maps the text the browser shows back to an option through the labels of the current
    run; after an audience change the browser may still send an old label, which then comes back
    raw (a run of one fragment showed ``KeyError: 'Disc herniation'`` and ``'Oblique (back-left)'``).
    A label from any of ``labelers`` is mapped back to its option; anything else gives ``default``.
    """
    value = st.session_state.get(key, default)
    if value in options:
        return str(value)
    for labeler in labelers:
        for option in options:
            if labeler(option) == value:
                return option
    return default


def session_condition() -> str:
    """The condition id the condition selectbox holds now (see :func:`widget_value`)."""
    labelers = [functools.partial(condition_label, audience=audience) for audience in AUDIENCES]
    return widget_value("condition", list(CONDITION_LABELS), labelers, seed_state().condition)


def session_audience() -> str:
    """The audience id the audience radio holds now."""
    return widget_value("audience", list(AUDIENCES), [AUDIENCE_LABELS.get], seed_state().audience)


def session_mode() -> str:
    """The mode id the mode radio holds now."""
    return widget_value("mode", list(MODES), [MODE_LABELS.get], seed_state().mode)


def session_view() -> str:
    """The camera preset id the view radio holds now (see :func:`widget_value`)."""
    return widget_value("view", list(settings.CAMERA_PRESETS), [settings.CAMERA_LABELS.get, PLAIN_CAMERA_LABELS.get],
                        seed_state().view)


def _current_params() -> tuple[tuple[str, str], ...]:
    """The condition's parameters as they are, without drawing widgets (symptoms mode)."""
    condition = session_condition()
    if condition == NO_CONDITION:
        return ()
    seed = seed_state()
    return condition_params(condition, {p.name: _param_value(p, seed) for p in CONDITIONS[condition].params})[0]


def show_condition(condition: str, params: tuple[tuple[str, str], ...]) -> None:
    """Callback: switch to the condition mode showing ``condition`` with ``params``, lesion in view."""
    st.session_state["mode"] = "condition"
    st.session_state["condition"] = condition
    for name, value in params:
        st.session_state[f"param_{name}"] = value
    _request_camera(True)


def _held_bool(key: str, seeded: bool) -> bool:
    return bool(st.session_state[key]) if holds(key) else seeded


def _bone_opacity(seeded: float) -> float:
    try:
        value = float(st.session_state["bone_opacity"]) if holds("bone_opacity") else seeded
    except (TypeError, ValueError):
        return settings.DEFAULT_BONE_OPACITY
    return value if value in settings.BONE_OPACITY_CHOICES else settings.DEFAULT_BONE_OPACITY


def current_state(params: tuple[tuple[str, str], ...] | None = None) -> ExplorerState:
    """The state as the widgets hold it now (in session state), without drawing anything; the
    seed (:func:`seed_state`) stands in for a widget the session holds no value for.

    Parameters
    ----------
    params : tuple of (name, value), optional
        The condition's validated parameters when the caller already has them (the sidebar
        drew their widgets); else read and validated from session state.
    """
    seed = seed_state()
    condition = session_condition()
    return ExplorerState(
        audience=session_audience(),
        condition=condition,
        params=_current_params() if params is None else params,
        view=session_view(),
        layers=tuple(layer for layer in settings.LAYERS if _held_bool(f"layer_{layer}", layer in seed.layers)),
        bone_opacity=_bone_opacity(seed.bone_opacity),
        dim_others=_held_bool("dim_others", seed.dim_others) and condition != NO_CONDITION,
        selected=st.session_state.get("selected"),
        mode=session_mode(),
        labels=_held_bool("labels", seed.labels),
    )


def sidebar_controls() -> tuple[ExplorerState, tuple[str, ...]]:
    """Draw the sidebar and return the current state plus any problems with the opening link.

    Every widget starts from :func:`seed_state` through its default (``index=`` / ``value=``),
    which applies only when the session holds no value for it (see :func:`_init_from_url`).
    """
    _init_from_url()
    seed = seed_state()
    with st.sidebar:
        st.radio("I am a", options=list(AUDIENCES), key="audience", format_func=AUDIENCE_LABELS.get,
                 index=starting_index("audience", AUDIENCES, seed.audience), horizontal=True)
        st.radio("What do you want to do?", options=list(MODES), key="mode", format_func=MODE_LABELS.get,
                 index=starting_index("mode", MODES, seed.mode))
        symptoms_mode = session_mode() == "symptoms"
        audience = session_audience()
        plain = audience == "patient"
        st.header("Condition")
        st.selectbox("Condition", options=list(CONDITION_LABELS), key="condition",
                     index=starting_index("condition", list(CONDITION_LABELS), seed.condition),
                     format_func=lambda c: condition_label(c, audience),
                     label_visibility="collapsed", disabled=symptoms_mode,
                     help="Switch to 'Show a condition' to pick one." if symptoms_mode else None)
        condition = session_condition()
        if condition != NO_CONDITION and not symptoms_mode:
            # In a container of its own (never empty: the checkbox and the button): each condition,
            # and some parameter values, bring their own number of widgets, and the widgets below
            # then keep their place in the page's tree, so the browser reuses them instead of
            # rendering them again (explorer.ui.page, benchmarks/page_deltas.py).
            with st.container():
                params = _condition_widgets(condition, plain)
                st.checkbox("Fade everything that is not squeezed", key="dim_others", on_change=_viewer_changed,
                            value=_starting_bool("dim_others", seed.dim_others))
                st.button("Go to the squeezed nerve" if plain else "Go to the lesion", on_click=_camera_button,
                          args=(True,), key="focus_lesion",
                          type="primary")
        else:
            params = _condition_widgets(condition, plain) if not symptoms_mode else _current_params()
        st.header("Show")
        for layer in settings.LAYERS:
            st.checkbox((plain and PLAIN_LAYER_LABELS.get(layer)) or settings.LAYER_LABELS[layer], key=f"layer_{layer}",
                        value=_starting_bool(f"layer_{layer}", layer in seed.layers), on_change=_viewer_changed)
        st.toggle("Labels in 3D", key="labels", on_change=_viewer_changed, value=_starting_bool("labels", seed.labels),
                  help="Names of the levels, the squeezed nerve and the lesion, drawn in the 3D view.")
        st.select_slider("Bone opacity", options=list(settings.BONE_OPACITY_CHOICES), key="bone_opacity",
                         value=None if holds("bone_opacity") else seed.bone_opacity,
                         on_change=_viewer_changed,
                         format_func=lambda v: OPACITY_LABELS.get(v, f"{v:g}"),
                         help="Make the bones see-through so the nerves inside show.")
        st.header("View")
        st.radio("Camera", options=list(settings.CAMERA_PRESETS), key="view",
                 index=starting_index("view", list(settings.CAMERA_PRESETS), seed.view),
                 format_func=lambda v: (plain and PLAIN_CAMERA_LABELS.get(v)) or settings.CAMERA_LABELS[v],
                 on_change=_camera_button, args=(False,),
                 label_visibility="collapsed")
        st.button("Reset camera to this view", on_click=_camera_button, args=(False,), key="reset_camera")
    state = current_state(params)
    # What the page shows is where a widget that comes back starts from (a parameter after the
    # symptoms mode). The sections' fields are not the sidebar's: keep the seed's.
    st.session_state[SEED_KEY] = state.with_(section=seed.section, section_level=seed.section_level,
                                             posture=seed.posture)
    return state, tuple(st.session_state.get("url_errors", ()))


def sync_url(state: ExplorerState) -> None:
    """Write the state into the URL so the view can be bookmarked and shared."""
    wanted = to_query_params(state)
    if st.query_params.to_dict() != wanted:
        st.query_params.from_dict(wanted)

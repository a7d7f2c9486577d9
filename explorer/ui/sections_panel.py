"""The MRI-like sections panel: "Normal" and "This condition" side by side, the canal measured on
each, and a posture control.

The page calls :func:`with_sections` right after the sidebar (so the section fields are in the
state and in the URL), :func:`sections_toggle` in its controls, and :func:`sections_panel` below
the 3D view when ``state.section != "off"``. Cutting, posing and measuring are cached per
(condition, parameters, section, level, posture), so a rerun that changes something else costs
only the drawing.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

import streamlit as st

from explorer.anatomy.canal import (
    FORAMEN_CRITICAL_MM,
    HAMANISHI_ABSOLUTE_MM2,
    HAMANISHI_RELATIVE_MM2,
    RECESS_STENOTIC_MM,
    CanalMeasurements,
    measure_canal,
)
from explorer.anatomy.model import SpineModel
from explorer.anatomy.posture import POSTURE_LABELS, POSTURE_PLAIN_LABELS
from explorer.conditions.base import Lesion
from explorer.conditions.simulate import Impact
from explorer.render.sections import (
    ROLE_STYLE,
    ROMAN,
    Measured,
    Section,
    SectionPlane,
    cut_level,
    cut_section,
    disc_level_of,
    lesion_level,
    measured_marks,
    plane_for,
    plane_words,
    section_figure,
    section_key,
    section_meshes,
)
from explorer.state import CUT_LEVELS, DEFAULT_POSTURE, POSTURES, SECTIONS, ExplorerState
from explorer.ui.controls import holds, seed_state, starting_index, widget_value

SECTION_KEY = "section"
CUT_KEY = "section_cut"
POSTURE_KEY = "posture"
AUTO_CUT = "auto"
FIGURE_HEIGHT_PX = 540  # the pictures are height-bound in a half-width column: 430 px gave 245 px at 1920x1080
SECTION_LABELS: dict[str, str] = {"off": "Off", "axial": "Axial (across)", "sagittal": "Sagittal (side view)"}
PLAIN_SECTION_LABELS: dict[str, str] = {"off": "Off", "axial": "Cut across", "sagittal": "Cut from the side"}

# Thresholds named beside the numbers (the grading itself is done in explorer.anatomy.canal).
HAMANISHI_TEXT = (f"relative stenosis below {HAMANISHI_RELATIVE_MM2:g} mm², absolute below "
                  f"{HAMANISHI_ABSOLUTE_MM2:g} mm² (Hamanishi 1994)")
SCHIZAS_TEXT: dict[str, str] = {
    "A": "A: fluid clearly seen around the roots (no or minor stenosis by its shape)",
    "B": "B: roots fill the sac but still show separately",
    "C": "C: no separate roots seen, some fluid behind them",
    "D": "D: no fluid left around the roots",
}
RECESS_TEXT = f"below {RECESS_STENOTIC_MM:g} mm suggests lateral recess stenosis (Ciric 1980)"
FORAMEN_TEXT = f"below {FORAMEN_CRITICAL_MM:g} mm the root is often pressed (Hasegawa 1995)"
LEE_TEXT: dict[int, str] = {0: "0: normal", 1: "1: mild", 2: "2: moderate", 3: "3: severe (root squashed)"}
LEE_SOURCE = "Lee 2010"
# How each part looks, for the key under the pictures (T2-like greys; the app's colours).
ROLE_WORDS: dict[str, str] = {
    "bone": "mid grey", "moved": "grey, violet edge", "annulus": "dark grey", "ligament": "near black",
    "nucleus": "light grey",
    "sac": "white", "cauda": "dark dots in the white", "root": "dark grey", "muscle": "dark grey",
    "lesion": "violet", "squeezed": "magenta",
}
MEYERDING_TEXT = "Meyerding: I up to 25%, II to 50%, III to 75%, IV to 100%, V beyond (spondyloptosis)"

CONVENTION_TEXT = (
    "As on a scan: a cut across is seen from the feet, front at the top, so the patient's left is on "
    "your right. A side cut is seen from the patient's left, front on your left. The white bar is 10 mm."
)
# How to read the marks drawn on each kind of cut (explorer.render.sections.measured_marks).
MARKS_TEXT: dict[str, str] = {
    "sagittal": ("Marks: the white line is the upper endplate of the body below, the dashed white lines the back "
                 "edges of both bodies, and the yellow segment the slip between them, in % of the endplate "
                 "(Meyerding 1932: I up to 25%, II to 50%, III to 75%, IV to 100%, V beyond)."),
    "parasagittal": ("Marks: the yellow line is the foraminal height, from the lower edge of the pedicle above to "
                     "the first wall below (Hasegawa 1995); the grade is an approximate Lee 2010 grade."),
    "axial": ("Marks: the dotted yellow outline is the dural sac left after the walls and the lesion took their "
              "share (its area is the one graded), the yellow line the canal's front-to-back diameter."),
}
PLAIN_MARKS_TEXT: dict[str, str] = {
    "sagittal": ("The white line is the top of the bone below. The yellow line shows how far the bone above has "
                 "slid forward past the back edge of that bone. Doctors grade a slip from I to V. Each grade is "
                 "one quarter of the bone's depth, so grade II means a quarter to a half."),
    "parasagittal": ("The yellow line shows the height of the opening where the nerve leaves the spine. A short "
                     "line means less room for the nerve. The grade goes from 0, plenty of room, to 3, the nerve "
                     "is squashed."),
    "axial": ("The dotted yellow line goes around the room left for the nerves. The straight yellow line shows "
              "how deep the canal is, from front to back. A smaller area means less room for the nerves."),
}

TROLLEY_TEXT = (
    "Why posture matters. Bending forward opens the back of the canal a little: the thick ligament "
    "at the back is pulled flat, and the disc bulges less. The nerves get more room. Leaning back "
    "does the opposite and makes the canal smaller. This is why many people with a narrow canal can "
    "walk further when they lean on a shopping trolley, and feel better when they sit down."
)


# --------------------------------------------------------------------------------------------
# State: seeded once from the link, then from the widgets
# --------------------------------------------------------------------------------------------


def _cut_labelers() -> list[Any]:
    """Every label the cut-level box can have shown ("At the problem (L4-L5)" names the level)."""
    return [functools.partial(_level_label, auto_level=level) for level in CUT_LEVELS]


def session_section() -> str:
    """The section id the section radio holds now: a label the browser still shows from the other
    audience's words (a fragment rerun can hand it back) maps back to its id
    (:func:`explorer.ui.controls.widget_value`). Before the radio has a value, the link's (the
    seed): no session-state write, which after a reconnect to another replica would win over the
    value the browser sends (issue 14)."""
    if not holds(SECTION_KEY):
        return seed_state().section
    return widget_value(SECTION_KEY, list(SECTIONS), [SECTION_LABELS.get, PLAIN_SECTION_LABELS.get], "off")


def session_posture() -> str:
    """The posture id the posture radio holds now (either audience's label maps back to it)."""
    if not holds(POSTURE_KEY):
        return seed_state().posture
    return widget_value(POSTURE_KEY, list(POSTURES), [POSTURE_LABELS.get, POSTURE_PLAIN_LABELS.get], DEFAULT_POSTURE)


def session_cut() -> str:
    """The cut level the level box holds now (``AUTO_CUT``: at the problem)."""
    if not holds(CUT_KEY):
        return seed_state().section_level or AUTO_CUT
    return widget_value(CUT_KEY, [AUTO_CUT, *CUT_LEVELS], _cut_labelers(), AUTO_CUT)


def with_sections(state: ExplorerState) -> ExplorerState:
    """``state`` with the section, cut level and posture the person chose (or the link gave)."""
    cut = session_cut()
    return state.with_(section=session_section(), section_level=cut if cut in CUT_LEVELS else None,
                       posture=session_posture())


def sections_toggle(state: ExplorerState) -> None:
    """The control that turns the sections on (axial or sagittal) or off."""
    labels = PLAIN_SECTION_LABELS if state.audience == "patient" else SECTION_LABELS
    st.radio("Scan-like pictures" if state.audience == "patient" else "MRI-like sections",
             options=list(SECTIONS), key=SECTION_KEY, index=starting_index(SECTION_KEY, SECTIONS, state.section),
             format_func=lambda v: labels.get(v, str(v)), horizontal=True,
             help="Cut the model like an MRI scan, beside a normal spine, and measure the canal.")


# --------------------------------------------------------------------------------------------
# Cutting and measuring (cached)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SectionPair:
    """The normal and the condition's cut of one plane, with the canal measured on each."""

    plane: SectionPlane
    normal: Section
    condition: Section | None
    normal_measures: CanalMeasurements | None
    condition_measures: CanalMeasurements | None
    neutral_normal: CanalMeasurements | None
    neutral_condition: CanalMeasurements | None


def _measure(model: SpineModel, level: str, lesion: Lesion | None, posture: str) -> CanalMeasurements | None:
    try:
        return measure_canal(model, level, lesion, posture)
    except (ValueError, KeyError):  # a level the measurements do not cover: show the picture alone
        return None


def build_pair(model: SpineModel, impact: Impact | None, section: str, level: str, posture: str) -> SectionPair:
    """Cut and measure the normal model and the condition (pure; cached by :func:`section_pair`)."""
    params = impact.parameters if impact is not None else {}
    plane = plane_for(section, level, params, posture)
    disc = disc_level_of(level)
    normal = cut_section(section_meshes(model, disc, posture), plane)
    normal_m = _measure(model, disc, None, posture)
    neutral_n = normal_m if posture == DEFAULT_POSTURE else _measure(model, disc, None, DEFAULT_POSTURE)
    if impact is None:
        return SectionPair(plane, normal, None, normal_m, None, neutral_n, None)
    lesion = impact.lesion
    names = {**lesion.names, "lesion": "; ".join(v for k, v in lesion.names.items() if k in lesion.compressors)}
    squeezed = {c.id: c.degree for c in impact.compressed}
    cond = cut_section(section_meshes(model, disc, posture, lesion), plane, names, squeezed, moved=lesion.replaced)
    if lesion_level(params) is None:  # nothing in the canal (piriformis): the canal is the normal one
        return SectionPair(plane, normal, cond, normal_m, normal_m, neutral_n, neutral_n)
    cond_m = _measure(model, disc, lesion, posture)
    neutral_c = cond_m if posture == DEFAULT_POSTURE else _measure(model, disc, lesion, DEFAULT_POSTURE)
    return SectionPair(plane, normal, cond, normal_m, cond_m, neutral_n, neutral_c)


@st.cache_resource(max_entries=64, show_spinner="Cutting the sections...")
def section_pair(_model: SpineModel, _impact: Impact | None, condition: str, params: tuple[tuple[str, str], ...],
                 section: str, level: str, posture: str) -> SectionPair:
    """:func:`build_pair`, shared by every session (keyed on the hashable state, never mutated)."""
    return build_pair(_model, _impact, section, level, posture)


@st.cache_resource(max_entries=128, show_spinner=False)
def section_figure_dict(_section: Section, _measures: CanalMeasurements | None, key: tuple[Any, ...], title: str,
                        words: bool) -> dict[str, Any]:
    """The figure of one cut, with its measurement drawn on it, as a plain dict (cached: building
    the traces costs more than drawing)."""
    measured: Measured | None = measured_marks(_section, _measures, plain=words)
    return section_figure(_section, title, words=words, height=FIGURE_HEIGHT_PX, measured=measured).to_dict()


# --------------------------------------------------------------------------------------------
# Words
# --------------------------------------------------------------------------------------------


def _mm(value: float) -> str:
    return f"{value:.1f} mm"


def _change(value: float, neutral: float | None, unit: str, posture: str, plain: bool) -> str:
    if neutral is None or posture == DEFAULT_POSTURE or abs(value - neutral) < 0.05:
        return ""
    standing = "standing" if plain else "neutral"
    return f" ({standing}: {neutral:.0f} {unit})" if unit == "mm²" else f" ({standing}: {neutral:.1f} {unit})"


# Patients' words for the measures (reading grade 8 or below, tested with sample numbers).
PLAIN_HAMANISHI: dict[str, str] = {"normal": "That is normal.", "relative": "That is a little narrow.",
                                   "absolute": "That is very narrow."}
PLAIN_SAC_THRESHOLDS = (f"Below {HAMANISHI_RELATIVE_MM2:g} is a little narrow, below {HAMANISHI_ABSOLUTE_MM2:g} "
                        "is very narrow (Hamanishi 1994).")
PLAIN_LEE: dict[int, str] = {0: "plenty of room", 1: "a little tight", 2: "tight", 3: "the nerve is squashed"}


def plain_measurement_lines(m: CanalMeasurements, plane: SectionPlane,
                            neutral: CanalMeasurements | None = None) -> list[str]:
    """:func:`measurement_lines` in everyday words, for patients (same numbers, fewer terms)."""
    lines: list[str] = []
    depth = f"Depth of the canal, front to back: {_mm(m.canal_ap_mm)}."
    if plane.kind == "axial":
        change = _change(m.sac_area_mm2, neutral.sac_area_mm2 if neutral else None, "mm²", m.posture, True)
        lines.append(f"Room for the nerves: {m.sac_area_mm2:.0f} mm²{change}. "
                     f"{PLAIN_HAMANISHI.get(m.hamanishi, '')} {PLAIN_SAC_THRESHOLDS}")
        lines.append(depth)
        recess = ", ".join(f"{side} {_mm(m.recess_depth_mm[side])}" for side in ("left", "right")
                           if side in m.recess_depth_mm)
        lines.append(f"Side pockets where the nerves run: {recess}. {RECESS_STENOTIC_MM:g} mm or less is narrow.")
    elif plane.kind == "sagittal":
        lines.append(depth)
        grade = m.meyerding_grade
        if m.slip_percent is None or not grade:
            lines.append("No slip: the bones line up.")
        else:
            lines.append(f"The bone above has slid forward {m.slip_percent:.0f}% of the depth of the bone "
                         f"below. That is grade {ROMAN.get(grade, str(grade))} of V.")
    elif plane.kind == "recess":
        side = plane.side or "left"
        if side in m.recess_depth_mm:
            lines.append(f"Side pocket where the nerve runs ({side}): {_mm(m.recess_depth_mm[side])}. "
                         f"{RECESS_STENOTIC_MM:g} mm or less is narrow.")
        lines.append(depth)
    else:
        side = plane.side or "left"
        height = m.foraminal_height_mm.get(side)
        lee = m.lee_grade.get(side)
        if height is not None:
            change = _change(height, (neutral.foraminal_height_mm.get(side) if neutral else None), "mm",
                             m.posture, True)
            lines.append(f"Height of the hole where the nerve leaves ({side}): {_mm(height)}{change}. "
                         f"Below {FORAMEN_CRITICAL_MM:g} mm the nerve is often pressed.")
        if lee is not None:
            lines.append(f"Grade {lee} of 3: {PLAIN_LEE.get(lee, '')}.")
    return lines


def measurement_lines(m: CanalMeasurements | None, plane: SectionPlane, plain: bool = False,
                      neutral: CanalMeasurements | None = None) -> list[str]:
    """The measures that this cut shows, each with the thresholds in use (plain text).

    An axial cut shows the sac area (Hamanishi), the Schizas grade, the canal's depth and the
    lateral recesses; a midline sagittal cut the canal's depth and the slip; a cut through a
    foramen that foramen's height and Lee grade.
    """
    if m is None:
        return ["No measurements at this level (the canal is measured at the lumbar discs)."]
    if plain:
        return plain_measurement_lines(m, plane, neutral)
    lines: list[str] = []
    if plane.kind == "axial":
        change = _change(m.sac_area_mm2, neutral.sac_area_mm2 if neutral else None, "mm²", m.posture, plain)
        label = "Dural sac area"
        lines.append(f"{label}: {m.sac_area_mm2:.0f} mm²{change}; {m.hamanishi}. "
                     f"Thresholds: {HAMANISHI_TEXT}.")
        lines.append(f"Schizas grade {SCHIZAS_TEXT.get(m.schizas_grade, m.schizas_grade)}.")
        lines.append(f"Canal front to back: {_mm(m.canal_ap_mm)}.")
        recess = ", ".join(f"{side} {_mm(m.recess_depth_mm[side])}" for side in ("left", "right")
                           if side in m.recess_depth_mm)
        lines.append(f"Lateral recess depth: {recess}; {RECESS_TEXT}.")
    elif plane.kind == "sagittal":
        lines.append(f"Canal front to back: {_mm(m.canal_ap_mm)}.")
        grade = m.meyerding_grade
        if m.slip_percent is None or not grade:
            lines.append("Slip: none (the bodies line up).")
        else:
            lines.append(f"Slip: {m.slip_percent:.0f}% of the body below, Meyerding grade "
                         f"{ROMAN.get(grade, str(grade))} ({MEYERDING_TEXT}).")
    elif plane.kind == "recess":
        side = plane.side or "left"
        if side in m.recess_depth_mm:
            change = _change(m.recess_depth_mm[side], (neutral.recess_depth_mm.get(side) if neutral else None), "mm",
                             m.posture, plain)
            lines.append(f"Lateral recess depth ({side}): {_mm(m.recess_depth_mm[side])}{change}; {RECESS_TEXT}.")
        lines.append(f"Canal front to back (midline): {_mm(m.canal_ap_mm)}.")
    else:
        side = plane.side or "left"
        height = m.foraminal_height_mm.get(side)
        lee = m.lee_grade.get(side)
        if height is not None:
            change = _change(height, (neutral.foraminal_height_mm.get(side) if neutral else None), "mm",
                             m.posture, plain)
            lines.append(f"Foramen height ({side}): {_mm(height)}{change}; {FORAMEN_TEXT}.")
        if lee is not None:
            lines.append(f"Lee grade {LEE_TEXT.get(lee, str(lee))} ({LEE_SOURCE}).")
    return lines


def describe(pair: SectionPair, posture_words: str, plain: bool = False) -> str:
    """The panel told in plain sentences (for screen readers and tests)."""
    parts = [f"{plane_words(pair.plane)}, {posture_words.lower()}."]
    for title, cut, measures, neutral in (("Normal spine", pair.normal, pair.normal_measures, pair.neutral_normal),
                                          ("This condition", pair.condition, pair.condition_measures,
                                           pair.neutral_condition)):
        if cut is None:
            continue
        shown = [legend for _, legend in section_key(cut)]
        parts.append(f"{title}: shows {', '.join(s.lower() for s in shown)}.")
        parts.extend(measurement_lines(measures, pair.plane, plain, neutral))
    if pair.condition is not None and pair.plane.kind == "axial" and pair.condition.by_role("lesion"):
        side = "right" if pair.condition.union("lesion").centroid.x > 0 else "left"
        patient = "left" if side == "right" else "right"
        parts.append(f"The lesion lies mostly on the viewer's {side}, the patient's {patient}.")
    return " ".join(parts)


# The key in patients' words: what each shade is, then how it looks.
PLAIN_ROLE_NAMES: dict[str, str] = {
    "bone": "Bone", "moved": "The bone that slipped", "annulus": "The tough outer ring of the disc",
    "ligament": "A thick band at the back of the canal", "nucleus": "The soft centre of the disc",
    "sac": "The bag of fluid around the nerves", "cauda": "The nerves in the bag", "root": "A nerve",
    "muscle": "Muscle", "lesion": "The problem", "squeezed": "A squeezed nerve",
}


def key_words(cut: Section, plain: bool = False) -> str:
    """The shades of a cut in words ("Bone (mid grey); ..."), patients' words with ``plain``."""
    return "; ".join(f"{PLAIN_ROLE_NAMES.get(role, legend) if plain else legend} ({ROLE_WORDS.get(role, '')})"
                     .replace(" ()", "") for role, legend in _roles(cut))


def key_caption(plane: SectionPlane, cut: Section, plain: bool = False) -> str:
    """The line under the pictures: how to read the marks, the scan convention and the shades."""
    marks = (PLAIN_MARKS_TEXT if plain else MARKS_TEXT).get(plane.kind, "")
    return f"{marks} {CONVENTION_TEXT} {'Colours' if plain else 'Shades'}: {key_words(cut, plain)}.".strip()


def _roles(cut: Section) -> list[tuple[str, str]]:
    return [(role, ROLE_STYLE[role][2]) for role in dict.fromkeys(s.role for s in cut.shapes)]


# --------------------------------------------------------------------------------------------
# The panel
# --------------------------------------------------------------------------------------------


def _level_label(level: str, auto_level: str) -> str:
    return f"At the problem ({auto_level})" if level == AUTO_CUT else level


def sections_panel(model: SpineModel, state: ExplorerState, impact: Impact | None) -> str:
    """Draw the sections panel and return its text description.

    Parameters
    ----------
    model : SpineModel
        The shared (never mutated) model.
    state : ExplorerState
        With ``section`` not ``"off"`` (see :func:`with_sections`).
    impact : Impact or None
        The condition's impact, or None for the healthy spine.
    """
    plain = state.audience == "patient"
    params = dict(state.params)
    auto_level = cut_level(None, params)
    st.subheader("A look inside, like a scan" if plain else "Inside the canal: MRI-like sections")
    level_col, posture_col = st.columns([1, 2], gap="medium")
    with level_col:
        st.selectbox("Where to cut", options=[AUTO_CUT, *CUT_LEVELS], key=CUT_KEY,
                     index=starting_index(CUT_KEY, [AUTO_CUT, *CUT_LEVELS], state.section_level or AUTO_CUT),
                     format_func=lambda v: _level_label(v, auto_level),
                     help="A disc level (L4-L5) cuts through the disc; a single bone (L4) through its middle.")
    with posture_col:
        labels = POSTURE_PLAIN_LABELS if plain else POSTURE_LABELS
        st.radio("Posture", options=list(POSTURES), key=POSTURE_KEY,
                 index=starting_index(POSTURE_KEY, list(POSTURES), state.posture), format_func=lambda v: labels.get(v, str(v)),
                 horizontal=True,
                 help="Moves this level into the posture and measures it again.")
    # The widgets are drawn: read them again (after a reconnect the browser's values arrive only now).
    cut_choice = session_cut()
    state = state.with_(section_level=cut_choice if cut_choice in CUT_LEVELS else None, posture=session_posture())
    level = cut_level(state.section_level, params)
    section = state.section if state.section in SECTIONS and state.section != "off" else "axial"
    pair = section_pair(model, impact, state.condition, state.params, section, level, state.posture)
    key = (state.condition, state.params, section, level, state.posture)
    columns = st.columns(2, gap="medium") if pair.condition is not None else [st.container()]
    shown = [("Normal", pair.normal, pair.normal_measures, pair.neutral_normal)]
    if pair.condition is not None:
        shown.append(("This condition", pair.condition, pair.condition_measures, pair.neutral_condition))
    for col, (title, cut, measures, neutral) in zip(columns, shown, strict=True):
        with col:
            fig = section_figure_dict(cut, measures, (*key, title), title, plain)
            st.plotly_chart(fig, config={"displayModeBar": False, "scrollZoom": False}, theme=None,
                            key=f"section_{title}", width="stretch")
            st.markdown("\n".join(f"- {line}" for line in measurement_lines(measures, pair.plane, plain, neutral)))
    last = pair.condition or pair.normal
    st.caption(key_caption(pair.plane, last, plain))
    if impact is not None and lesion_level(params) is None:
        st.info("This problem is outside the spine, so the canal looks the same as a normal one.")
    with st.expander("Why sitting and leaning forward help" if plain else "Why posture changes the canal"):
        st.write(TROLLEY_TEXT)
    return describe(pair, labels[state.posture], plain)



def sections_block(model: SpineModel, state: ExplorerState, impact: Impact | None) -> str:
    """The sections toggle and, when on, the panel; returns the panel's description (with a leading
    space, to append to the page's text description) or ``""`` when the sections are off."""
    sections_toggle(state)
    if state.section == "off":
        return ""
    return " " + sections_panel(model, state, impact)

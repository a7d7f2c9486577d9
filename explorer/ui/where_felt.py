"""The body chart beside the 3D view, and the symptoms-to-cause mode that uses it for input."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

import streamlit as st

from explorer import settings
from explorer.anatomy.structures import STRUCTURES
from explorer.clinical.bodymap import area_names, areas
from explorer.clinical.matching import (
    CHECKABLE_REFLEXES,
    Candidate,
    SymptomReport,
    conditions_for,
    movement_names,
    notes,
    outside_spine_note,
    rank,
    report_from_root,
)
from explorer.clinical.roots import REFLEXES
from explorer.clinical.symptom_map import chart_lines, pain_paths, paint_areas
from explorer.clinical.types import ROOT_ORDER
from explorer.conditions.simulate import Impact
from explorer.frontend.transport import ScenePayload
from explorer.render.bodychart import ChartInput, body_chart_figure
from explorer.render.memo import Memo
from explorer.state import ExplorerState
from explorer.ui.chart2d import body_chart, chart_payload
from explorer.ui.controls import (
    CHART_FRAGMENT,
    DESCRIPTION_FRAGMENT,
    SELECTION_FRAGMENT,
    VIEWER_FRAGMENT,
    rerun_only,
    show_condition,
)
from explorer.ui.events import clicked_id

if TYPE_CHECKING:
    from plotly.graph_objects import Figure

SIDES = ("left", "right")
NO_ROOT = "(none)"
ROOT_CHOICES: tuple[str, ...] = (NO_ROOT, *(f"{r} {s}" for s in SIDES for r in ROOT_ORDER))
AREAS_BY_ID = {a.id: a for a in areas()}
EMERGENCY_SIGNS: dict[str, str] = {
    "flag_saddle": "Numbness between the legs, around the back passage or genitals (saddle area)",
    "flag_bladder": "New trouble passing urine, or leaking urine without knowing",
    "flag_bowel": "New loss of bowel control",
    "flag_both_legs": "Weakness or numbness in both legs that is getting worse",
}
EXAMPLES: dict[str, tuple[str, str, bool]] = {
    "L5, left": ("L5", "left", True),
    "S1, right": ("S1", "right", True),
    "L4, left": ("L4", "left", False),
}


def _plain(figure: dict[str, Any]) -> Figure:
    """A plain figure dict for :func:`explorer.ui.chart2d.body_chart`, which serialises it with
    ``plotly.io.to_json`` (a dict is taken as it is; a ``go.Figure`` would cost about 80 ms of
    plotly validation per rerun). Its annotation names only ``Figure``."""
    return cast("Figure", figure)


def root_structure(root: str, side: str) -> str:
    """The 3D structure to select for a root: its own root, or the cauda equina for S4-S5
    (the model draws roots down to S3; S4 and S5 run inside the cauda equina)."""
    sid = f"root-{root}-{side}"
    return sid if sid in STRUCTURES else "cauda-equina"


def chart_root(state: ExplorerState) -> tuple[str, str] | None:
    """The root the chart outlines: the selected 3D root, or an S4/S5 root picked on the chart."""
    sel = state.selected or ""
    parts = sel.split("-")
    if len(parts) == 3 and parts[0] == "root":
        return parts[1], parts[2]
    picked = st.session_state.get("chart_root")
    if sel == "cauda-equina" and picked:
        return str(picked[0]), str(picked[1])
    return None


def _request_scroll() -> None:
    """Ask the 3D view to scroll into sight (the viewer watches this counter)."""
    st.session_state["viewer_scroll_request"] = int(st.session_state.get("viewer_scroll_request", 0) or 0) + 1


def _show_root(root: str, side: str) -> None:
    """Button callback: select the root in 3D and scroll the 3D view into sight."""
    _pick_root(root, side)
    _request_scroll()


def _show_nerve(structure: str) -> None:
    """Button callback: select a nerve drawn in 3D (the sciatic nerve) and scroll to it."""
    st.session_state["chart_root"] = None
    st.session_state["selected"] = structure
    _request_scroll()


def _show_cause(condition: str, params: tuple[tuple[str, str], ...]) -> None:
    """Button callback: open the condition and scroll the 3D view into sight."""
    show_condition(condition, params)
    _request_scroll()


def _pick_root(root: str | None, side: str | None) -> None:
    if root is None or side is None:
        st.session_state["chart_root"] = None
        if str(st.session_state.get("selected") or "").startswith("root-"):
            st.session_state["selected"] = None
        return
    st.session_state["chart_root"] = (root, side)
    st.session_state["selected"] = root_structure(root, side)


def _on_root_choice() -> None:
    choice = st.session_state.get("root_choice", NO_ROOT)
    if choice == NO_ROOT:
        _pick_root(None, None)
    else:
        root, side = choice.split()
        _pick_root(root, side)
    _selection_changed()


def _marks_key(side: str) -> str:
    return f"marked_{side}"


def on_chart_click() -> None:
    # The event comes from the browser: only a known area id gets through (see explorer.ui.events).
    area_id = clicked_id(st.session_state.get("body_chart"), allowed=AREAS_BY_ID)
    if area_id is None:
        return
    area = AREAS_BY_ID[area_id]
    if st.session_state.get("mode") == "symptoms":
        key = _marks_key(area.side)
        marks = list(st.session_state.get(key, []))
        st.session_state[key] = [m for m in marks if m != area.name] if area.name in marks else [*marks, area.name]
        return
    if area.root:
        _pick_root(area.root, area.side)
        st.session_state["root_choice"] = f"{area.root} {area.side}"
        _selection_changed()


def _selection_changed() -> None:
    """A root picked on the chart or in its list changes the 3D view, the chart's outline and
    the selected-structure panel: only those parts rerun (the texts stay)."""
    rerun_only(VIEWER_FRAGMENT, CHART_FRAGMENT, SELECTION_FRAGMENT, DESCRIPTION_FRAGMENT)


def _sync_root_choice(selected_root: tuple[str, str] | None) -> None:
    """Keep the keyboard list in step with a root picked in 3D or on the chart."""
    wanted = f"{selected_root[0]} {selected_root[1]}" if selected_root else NO_ROOT
    if st.session_state.get("root_choice") != wanted:
        st.session_state["root_choice"] = wanted


# The condition's body chart (prepared for the browser) and its words, per impact and outlined
# root: the same for every session showing them, so built once per process (issue 14).
_CHARTS: Memo[tuple[object, ScenePayload, list[str]]] = Memo(256)


def _condition_chart_payload(impact: Impact | None, selected: tuple[str, str] | None) -> tuple[ScenePayload, list[str]]:
    key = (id(impact), selected)
    hit = _CHARTS.get(key)
    if hit is not None and hit[0] is impact:  # the impact is kept with its entry: its id is not reused
        return hit[1], hit[2]
    if impact is None:
        chart = ChartInput(selected_root=selected, show_dermatomes=True)
        lines = [("No condition chosen: the chart shows the dermatomes, the skin each root supplies, "
                  "with the ISNCSCI key sensory points (black dots).")]
    else:
        degrees = impact.degrees
        sensory = impact.clinical.sensory
        chart = ChartInput(paint_areas(sensory, degrees), pain_paths(sensory, degrees), selected, show_dermatomes=False)
        lines = chart_lines(sensory) or ["No leg symptoms at this severity: the squeeze is too slight."]
    payload = chart_payload(body_chart_figure(chart))
    _CHARTS.put(key, (impact, payload, lines))
    return payload, lines


def condition_chart(state: ExplorerState, impact: Impact | None) -> list[str]:
    """The body chart of the current condition (or the plain dermatome map); returns its text lines."""
    selected = chart_root(state)
    payload, lines = _condition_chart_payload(impact, selected)
    st.header("Where it is felt")
    body_chart(payload, key="body_chart", height_px=settings.CHART_HEIGHT_PX,
               description="Body chart. " + " ".join(lines), on_click=on_chart_click)
    st.caption("Front and back of the lower body. Hover an area for its name and root; click it to show that "
               "root in 3D. Dermatome maps differ between sources (Keegan 1948, Lee 2008); this one follows Lee "
               "2008 with Keegan's layout.")
    _sync_root_choice(selected)
    st.selectbox("Highlight a nerve root", options=ROOT_CHOICES, key="root_choice", on_change=_on_root_choice,
                 help="The same as clicking its skin area on the chart: the root lights up in 3D.")
    with st.expander("The chart in words", expanded=False):
        st.markdown("\n".join(f"- {line}" for line in lines))
    return lines


# --------------------------------------------------------------------------- symptoms mode
def _load_example(root: str, side: str, with_exam: bool) -> None:
    report = report_from_root(root, side, with_exam)
    for s in SIDES:
        st.session_state[_marks_key(s)] = sorted({n for n, sd in report.areas if sd == s}, key=area_names().index)
    st.session_state["weak_moves"] = [f"{sd}: {m}" for m, sd in sorted(report.weak)]
    st.session_state["weak_reflexes"] = [f"{sd}: {r}" for r, sd in sorted(report.reflexes) if r in CHECKABLE_REFLEXES]
    st.session_state["normal_findings"] = []


def _clear_marks() -> None:
    for s in SIDES:
        st.session_state[_marks_key(s)] = []
    st.session_state["weak_moves"] = []
    st.session_state["weak_reflexes"] = []
    st.session_state["normal_findings"] = []


def _pairs(key: str) -> frozenset[tuple[str, str]]:
    """``"left: name"`` list items as ``(name, side)`` pairs."""
    return frozenset((v.split(": ", 1)[1], v.split(": ", 1)[0]) for v in st.session_state.get(key, []) if ": " in v)


def current_report() -> SymptomReport:
    """The symptoms marked so far (areas, weak movements, reflexes, normal findings)."""
    return _report()


def _report() -> SymptomReport:
    areas_marked = frozenset((n, s) for s in SIDES for n in st.session_state.get(_marks_key(s), []))
    return SymptomReport(areas_marked, _pairs("weak_moves"), _pairs("weak_reflexes"), _pairs("normal_findings"))


def symptoms_chart(state: ExplorerState) -> SymptomReport:
    """The chart as an input: click areas (or use the lists) to mark where symptoms are felt."""
    report = _report()
    marked_ids = {a.id for a in areas() if (a.name, a.side) in report.areas}
    chart = ChartInput(selected_root=chart_root(state), marked=marked_ids, show_dermatomes=False)
    st.header("Where do you feel it?")
    marked_text = ", ".join(f"{n} ({s})" for n, s in sorted(report.areas)) or "nothing marked yet"
    body_chart(_plain(body_chart_figure(chart)), key="body_chart", height_px=settings.CHART_HEIGHT_PX,
               description=f"Body chart for marking symptoms. Marked: {marked_text}.", on_click=on_chart_click)
    st.caption("Click the areas where you feel pain, tingling or numbness (click again to unmark), "
               "or choose them in the lists below.")
    return report


def symptoms_inputs() -> None:
    """Lists for marking areas, weakness and reflexes (keyboard and screen-reader friendly)."""
    names = list(area_names())
    # No session-state writes before the lists are drawn: after a replica dies, the reconnected browser's
    # marks arrive with the new session's first run and a write here would win over them (issue 14).
    left, right = st.columns(2)
    with left:
        st.multiselect("Left side: where is it felt?", options=names, key=_marks_key("left"))
    with right:
        st.multiselect("Right side: where is it felt?", options=names, key=_marks_key("right"))
    moves = [f"{s}: {m}" for s in SIDES for m in movement_names()]
    reflexes = [f"{s}: {r}" for s in SIDES for r in CHECKABLE_REFLEXES]
    st.multiselect("Weak movements (optional, from an examination)", options=moves, key="weak_moves")
    st.multiselect("Reflexes found reduced or absent (optional)", options=reflexes, key="weak_reflexes",
                   format_func=_reflex_option)
    st.multiselect("Tested and found normal (optional)", options=moves + reflexes, key="normal_findings",
                   format_func=_reflex_option,
                   help="A normal result counts against a root or nerve that would usually weaken it: for example "
                        "normal foot inversion (tibialis posterior) with a foot drop points away from L5.")
    st.caption("Try a textbook pattern (fills the lists above):")
    # Two buttons a row: four in a row get cut to "L5,..." in this narrow column.
    cols = st.columns(2) + st.columns(2)
    for col, (label, args) in zip(cols, EXAMPLES.items(), strict=False):  # 4 places, 3 examples
        col.button(label, on_click=_load_example, args=args, key=f"example_{args[0]}_{args[1]}", width="stretch",
                   help=f"The skin area{' and exam findings' if args[2] else ''} of the {args[0]} root, "
                        f"{args[1]} side.")
    cols[-1].button("Clear", on_click=_clear_marks, key="clear_marks", help="Unmark everything.", width="stretch")


def _reflex_option(value: str) -> str:
    side, _, name = value.partition(": ")
    reflex = REFLEXES.get(name)
    return f"{side}: {reflex.name} ({reflex.clinical_name})" if reflex else value


def _emergency_box() -> None:
    st.markdown("**Any of these? Tick to check.**")
    ticked = [text for key, text in EMERGENCY_SIGNS.items() if st.checkbox(text, key=key)]
    if ticked:
        st.error("**Go to an emergency department now.** You ticked: " + "; ".join(t.lower() for t in ticked)
                 + ". These can be signs of cauda equina syndrome, where the nerves at the bottom of the spine are "
                 "badly squeezed. It needs an emergency scan straight away and, if it is confirmed, surgery as soon "
                 "as possible, day or night (GIRFT 2023).")
    else:
        st.warning("Red flags: numbness between the legs, new bladder or bowel trouble, or weakness in both legs "
                   "that is getting worse mean **go to an emergency department now**, whatever this tool shows.")


def candidate_label(c: Candidate) -> str:
    """``"L5 root, left"`` or ``"Common fibular (peroneal) nerve, left"``."""
    name = f"{c.source} root" if c.kind == "root" else c.name[0].upper() + c.name[1:]
    return f"{name}, {c.side}"


def _show_button(c: Candidate) -> None:
    if c.kind == "root":
        st.button(f"Show the {c.source} root ({c.side}) in 3D", key=f"show_root_{c.source}_{c.side}",
                  on_click=_show_root, args=(c.source, c.side))
    elif f"{c.source}-{c.side}" in STRUCTURES:
        st.button(f"Show the {c.name} ({c.side}) in 3D", key=f"show_nerve_{c.source}_{c.side}",
                  on_click=_show_nerve, args=(f"{c.source}-{c.side}",))


def symptoms_lit(report: SymptomReport, top: int = 4) -> dict[str, float]:
    """Structures to light in 3D for the best candidates: 1 for the leaders (and their ties),
    fading for the rest; roots S4-S5 light the cauda equina. For ``viewer_panel(..., lit=...)``."""
    out: dict[str, float] = {}
    ranked = rank(report)[:top]
    for i, c in enumerate(ranked):
        strength = 1.0 if (i == 0 or ranked[0].id in c.tied_with) else max(0.3, 0.8 - 0.2 * i)
        sid = root_structure(c.source, c.side) if c.kind == "root" else f"{c.source}-{c.side}"
        if sid in STRUCTURES:
            out[sid] = max(out.get(sid, 0.0), strength)
    return out


def symptoms_results(report: SymptomReport) -> None:
    """Ranked roots and nerves with what each explains, ties and how to separate them, and the
    conditions that could produce the pattern."""
    st.info("**For learning, not a diagnosis.** This shows how the textbook links skin areas, weakness and "
            "reflexes to nerve roots and nerves. Only a clinician who examines you can say what is wrong.")
    _emergency_box()
    if report.is_empty:
        st.write("Mark at least one area (on the chart or in the lists) to see which nerve roots fit.")
        return
    matches = rank(report)[:4]
    labels = {c.id: candidate_label(c) for c in rank(report)}
    st.subheader("Nerve roots and nerves that fit best")
    shown_separators: set[str] = set()
    for position, c in enumerate(matches, start=1):
        rate = f" · how common: {c.base_rate.label}"
        lines = [f"{position}. **{candidate_label(c)}**: {c.fit_text}{rate}"]
        if c.tied_with:
            lines.append("    - Fits equally well: " + "; ".join(labels.get(t, t) for t in c.tied_with) + ".")
        lines += [f"    - ✗ Not explained: {e}" for e in c.does_not_explain]
        note = outside_spine_note(c.source)
        if note:
            lines.append(f"    - {note}")
        st.markdown("\n".join(lines))
        # The reasons it fits are the teaching part, but long: open for the first candidate only.
        with st.expander(f"Why {candidate_label(c)} fits ({len(c.explains)})", expanded=position == 1):
            st.markdown("\n".join(f"- ✓ {e}" for e in c.explains))
        new = [s for s in c.separate_by if s not in shown_separators]
        if new:
            shown_separators.update(new)
            with st.expander(f"What would tell {candidate_label(c)} from the others", expanded=position == 1):
                st.markdown("\n".join(f"- {s}" for s in new))
        _show_button(c)
    for n in notes(report, matches):
        # The saddle note is a red flag: show it as a warning, the others as captions.
        (st.warning if "emergency department" in n else st.caption)(n)
    st.subheader("Conditions that could cause this")
    candidates = conditions_for(matches[:2])
    if not candidates:
        st.write("No condition in this app fits this pattern.")
    for cond in candidates:
        fits = ", ".join(labels.get(f, f) for f in cond.fits)
        st.markdown(f"- **{cond.label}** (fits {fits}): {cond.reason}")
        st.button(f"Show {cond.label} in 3D", key=f"show_{cond.condition}_{'_'.join(v for _, v in cond.params)}",
                  on_click=_show_cause, args=(cond.condition, cond.params))

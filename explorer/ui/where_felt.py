"""The body chart beside the 3D view, and the symptoms-to-cause mode that uses it for input."""

from __future__ import annotations

import streamlit as st

from explorer import settings
from explorer.anatomy.structures import STRUCTURES
from explorer.clinical.bodymap import area_names, areas
from explorer.clinical.matching import (
    RootMatch,
    SymptomReport,
    candidate_conditions,
    movement_names,
    rank_roots,
    report_from_root,
)
from explorer.clinical.roots import REFLEXES
from explorer.clinical.symptom_map import chart_lines, pain_paths, paint_areas
from explorer.clinical.types import ROOT_ORDER
from explorer.conditions.simulate import Impact
from explorer.render.bodychart import ChartInput, build_body_chart
from explorer.state import ExplorerState
from explorer.ui.chart2d import body_chart
from explorer.ui.controls import show_condition

SIDES = ("left", "right")
NO_ROOT = "(none)"
ROOT_CHOICES: tuple[str, ...] = (NO_ROOT, *(f"{r} {s}" for s in SIDES for r in ROOT_ORDER))
AREAS_BY_ID = {a.id: a for a in areas()}
CHECKABLE_REFLEXES = ("patellar", "medial_hamstring", "achilles")
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
        return tuple(picked)  # type: ignore[return-value]
    return None


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


def _marks_key(side: str) -> str:
    return f"marked_{side}"


def _on_chart_click() -> None:
    event = st.session_state.get("body_chart")
    clicked = getattr(event, "clicked", None) if event is not None else None
    area_id = clicked.get("id") if isinstance(clicked, dict) else None
    area = AREAS_BY_ID.get(area_id)
    if area is None:
        return
    if st.session_state.get("mode") == "symptoms":
        key = _marks_key(area.side)
        marks = list(st.session_state.get(key, []))
        st.session_state[key] = [m for m in marks if m != area.name] if area.name in marks else [*marks, area.name]
        return
    if area.root:
        _pick_root(area.root, area.side)
        st.session_state["root_choice"] = f"{area.root} {area.side}"


def _sync_root_choice(selected_root: tuple[str, str] | None) -> None:
    """Keep the keyboard list in step with a root picked in 3D or on the chart."""
    wanted = f"{selected_root[0]} {selected_root[1]}" if selected_root else NO_ROOT
    if st.session_state.get("root_choice") != wanted:
        st.session_state["root_choice"] = wanted


def condition_chart(state: ExplorerState, impact: Impact | None) -> list[str]:
    """The body chart of the current condition (or the plain dermatome map); returns its text lines."""
    selected = chart_root(state)
    if impact is None:
        chart = ChartInput(selected_root=selected, show_dermatomes=True)
        lines = [("No condition chosen: the chart shows the dermatomes, the skin each root supplies, "
                  "with the ISNCSCI key sensory points (black dots).")]
    else:
        degrees = impact.degrees
        sensory = impact.clinical.sensory
        chart = ChartInput(paint_areas(sensory, degrees), pain_paths(sensory, degrees), selected, show_dermatomes=False)
        lines = chart_lines(sensory) or ["No leg symptoms at this severity: the squeeze is too slight."]
    st.header("Where it is felt")
    body_chart(build_body_chart(chart), key="body_chart", height_px=settings.CHART_HEIGHT_PX,
               description="Body chart. " + " ".join(lines), on_click=_on_chart_click)
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


def _clear_marks() -> None:
    for s in SIDES:
        st.session_state[_marks_key(s)] = []
    st.session_state["weak_moves"] = []
    st.session_state["weak_reflexes"] = []


def _report() -> SymptomReport:
    areas_marked = frozenset((n, s) for s in SIDES for n in st.session_state.get(_marks_key(s), []))
    weak = frozenset((m.split(": ", 1)[1], m.split(": ", 1)[0]) for m in st.session_state.get("weak_moves", []))
    reflexes = frozenset((r.split(": ", 1)[1], r.split(": ", 1)[0]) for r in st.session_state.get("weak_reflexes", []))
    return SymptomReport(areas_marked, weak, reflexes)


def symptoms_chart(state: ExplorerState) -> SymptomReport:
    """The chart as an input: click areas (or use the lists) to mark where symptoms are felt."""
    report = _report()
    marked_ids = {a.id for a in areas() if (a.name, a.side) in report.areas}
    chart = ChartInput(selected_root=chart_root(state), marked=marked_ids, show_dermatomes=False)
    st.header("Where do you feel it?")
    marked_text = ", ".join(f"{n} ({s})" for n, s in sorted(report.areas)) or "nothing marked yet"
    body_chart(build_body_chart(chart), key="body_chart", height_px=settings.CHART_HEIGHT_PX,
               description=f"Body chart for marking symptoms. Marked: {marked_text}.", on_click=_on_chart_click)
    st.caption("Click the areas where you feel pain, tingling or numbness (click again to unmark), "
               "or choose them in the lists below.")
    return report


def symptoms_inputs() -> None:
    """Lists for marking areas, weakness and reflexes (keyboard and screen-reader friendly)."""
    names = list(area_names())
    for key in (_marks_key("left"), _marks_key("right"), "weak_moves", "weak_reflexes"):
        st.session_state.setdefault(key, [])
    left, right = st.columns(2)
    with left:
        st.multiselect("Left side: where is it felt?", options=names, key=_marks_key("left"))
    with right:
        st.multiselect("Right side: where is it felt?", options=names, key=_marks_key("right"))
    moves = [f"{s}: {m}" for s in SIDES for m in movement_names()]
    reflexes = [f"{s}: {r}" for s in SIDES for r in CHECKABLE_REFLEXES]
    st.multiselect("Weak movements (optional, from an examination)", options=moves, key="weak_moves")
    st.multiselect("Reflexes found reduced or absent (optional)", options=reflexes, key="weak_reflexes",
                   format_func=lambda v: f"{v.split(': ')[0]}: {REFLEXES[v.split(': ')[1]].name} "
                                         f"({REFLEXES[v.split(': ')[1]].clinical_name})")
    st.caption("Try a textbook pattern (fills the lists above):")
    # Two buttons a row: four in a row get cut to "L5,..." in this narrow column.
    cols = st.columns(2) + st.columns(2)
    for col, (label, args) in zip(cols, EXAMPLES.items()):
        col.button(label, on_click=_load_example, args=args, key=f"example_{args[0]}_{args[1]}", width="stretch",
                   help=f"The skin area{' and exam findings' if args[2] else ''} of the {args[0]} root, {args[1]} side.")
    cols[-1].button("Clear", on_click=_clear_marks, key="clear_marks", help="Unmark everything.", width="stretch")


def _emergency_box() -> None:
    st.markdown("**Any of these? Tick to check.**")
    ticked = [text for key, text in EMERGENCY_SIGNS.items() if st.checkbox(text, key=key)]
    if ticked:
        st.error("**Go to an emergency department now.** These can be signs of cauda equina syndrome, where the "
                 "nerves at the bottom of the spine are badly squeezed. It needs urgent scans and often surgery "
                 "within hours: " + "; ".join(t.lower() for t in ticked) + ".")
    else:
        st.warning("Red flags: numbness between the legs, new bladder or bowel trouble, or weakness in both legs "
                   "that is getting worse mean **go to an emergency department now**, whatever this tool shows.")


def _match_line(m: RootMatch) -> str:
    label = f"{m.source} root, {m.side}" if m.source in ROOT_ORDER else f"{m.source.capitalize()} nerve, {m.side}"
    return f"**{label}** (score {m.score:.1f})"


def symptoms_results(report: SymptomReport) -> None:
    """Ranked roots with their reasons, and the conditions that could produce the pattern."""
    st.info("**For learning, not a diagnosis.** This shows how the textbook links skin areas, weakness and "
            "reflexes to nerve roots. Only a clinician who examines you can say what is wrong.")
    _emergency_box()
    if report.is_empty:
        st.write("Mark at least one area (on the chart or in the lists) to see which nerve roots fit.")
        return
    matches = rank_roots(report)
    st.subheader("Nerve roots that fit best")
    for rank, m in enumerate(matches[:4], start=1):
        lines = [f"{rank}. {_match_line(m)}", *(f"    - {r}" for r in m.reasons)]
        if m.unexplained:
            lines.append(f"    - Not explained by this {'root' if m.source in ROOT_ORDER else 'nerve'}: "
                         f"{', '.join(m.unexplained)}.")
        st.markdown("\n".join(lines))
        if m.source in ROOT_ORDER:
            st.button(f"Show the {m.source} root ({m.side}) in 3D", key=f"show_root_{m.source}_{m.side}",
                      on_click=_pick_root, args=(m.source, m.side))
    sides = {s for _, s in report.areas}
    if len(sides) == 2:
        st.markdown("Symptoms on **both sides** point to a problem in the middle of the canal (central stenosis, "
                    "a large central disc, or cauda equina syndrome) rather than one root.")
    st.subheader("Conditions that could cause this")
    candidates = candidate_conditions(matches)
    if not candidates:
        st.write("No single condition in this app fits this pattern.")
    for c in candidates:
        st.markdown(f"- **{c.label}** (fits {', '.join(c.fits)}): {c.reason}")
        st.button(f"Show {c.label} in 3D", key=f"show_{c.condition}_{'_'.join(v for _, v in c.params)}",
                  on_click=show_condition, args=(c.condition, c.params))

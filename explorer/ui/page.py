"""The page layout: sidebar controls, the 3D view, and the panels beside it."""

from __future__ import annotations

import streamlit as st

from explorer import settings
from explorer.anatomy.structures import STRUCTURES
from explorer.conditions.explain import findings_lines, headline, squeezed_lines, why_line
from explorer.conditions.simulate import Impact
from explorer.render.model_scene import describe_scene
from explorer.state import NO_CONDITION, ExplorerState
from explorer.ui.controls import sidebar_controls, sync_url
from explorer.ui.reading import get_library, glossary_panel, reading_panel, structure_explanation
from explorer.ui.resources import get_impact, get_model
from explorer.ui.viewer_panel import viewer_panel
from explorer.ui.where_felt import condition_chart, symptoms_chart, symptoms_inputs, symptoms_results

DISCLAIMER = (
    "For education only. This model is a simplified, average adult spine; it is not medical advice "
    "and cannot diagnose you. If you have back or leg symptoms, see a health professional."
)


def _selection_panel(state: ExplorerState) -> None:
    st.subheader("Selected structure")
    if not state.selected:
        st.write("Click a structure in the 3D view to select it. Hover over it to see its name.")
        return
    s = STRUCTURES[state.selected]
    st.markdown(f"**{s.name}**")
    facts = [f"Layer: {settings.LAYER_LABELS[s.layer].lower()}"]
    if s.level:
        facts.append(f"Level: {s.level}")
    if s.side:
        facts.append(f"Side: patient's {s.side}")
    st.write(" · ".join(facts))
    st.markdown(structure_explanation(get_library(), state.selected, state.audience))
    if st.button("Clear selection", key="clear_selection"):
        st.session_state["selected"] = None
        st.rerun()


def _bullets(lines: list[str]) -> None:
    if lines:
        st.markdown("\n".join(f"- {line}" for line in lines))


def _impact_panel(impact: Impact, findings: dict[str, list[str]]) -> None:
    st.subheader("What is squeezed")
    st.markdown(f"**{headline(impact)}**")
    _bullets(squeezed_lines(impact))
    st.markdown(f"*Why this nerve:* {why_line(impact)}")
    if findings["red_flags"]:
        st.error("**Red flags: get emergency help**\n\n" + "\n".join(f"- {f}" for f in findings["red_flags"]))


def _findings_panel(findings: dict[str, list[str]]) -> None:
    left, right = st.columns(2, gap="medium")
    with left:
        st.subheader("Weakness")
        _bullets(findings["weakness"] or ["No weakness expected at this severity."])
        st.subheader("Reflexes")
        _bullets(findings["reflexes"])
    with right:
        st.subheader("Typical exam signs and features")
        _bullets(findings["features"])
        st.subheader("Where it is felt (in words)")
        _bullets(findings["sensory"] or ["No leg symptoms from a nerve root at this severity."])


def main() -> None:
    st.set_page_config(page_title="Lumbar Explorer", page_icon=":bone:", layout="wide",
                       initial_sidebar_state="expanded")
    model = get_model()
    state, url_errors = sidebar_controls()
    sync_url(state)
    symptoms_mode = state.mode == "symptoms"
    impact, impact_error = None, None
    if state.condition != NO_CONDITION and not symptoms_mode:
        try:
            impact = get_impact(state.condition, state.params)
        except (ValueError, KeyError, RuntimeError) as exc:  # keep the page alive; say what failed
            impact_error = f"Could not simulate {state.condition} with {dict(state.params)}: {exc}. Showing the healthy spine."

    st.title("Lumbar Explorer")
    st.caption("The lower back and its nerves in 3D: drag to rotate, scroll to zoom, click a structure to select it. "
               "The body chart shows where the squeezed nerve sends its symptoms.")
    for message in url_errors:
        st.warning(message)
    for message in model.messages:
        st.info(message)
    if impact_error:
        st.error(impact_error)

    view_col, chart_col = st.columns([3, 2], gap="medium")
    with view_col:
        viewer_panel(model, state, impact)
    with chart_col:
        report = symptoms_chart(state) if symptoms_mode else None
        if not symptoms_mode:
            condition_chart(state, impact)
    if symptoms_mode:
        st.header("From symptoms to cause")
        inputs_col, results_col = st.columns([2, 3], gap="large")
        with inputs_col:
            symptoms_inputs()
        with results_col:
            symptoms_results(report)
        _selection_panel(state)
    else:
        findings = findings_lines(impact) if impact is not None else None
        summary_col, findings_col = st.columns([2, 3], gap="large")
        with summary_col:
            if impact is not None:
                _impact_panel(impact, findings)
            else:
                st.subheader("Healthy spine")
                st.write("Pick a condition in the sidebar to see which nerve it squeezes and where that is felt.")
            _selection_panel(state)
        with findings_col:
            if findings is not None:
                _findings_panel(findings)
            with st.expander("What you are looking at in 3D (text description)", expanded=impact is None):
                st.write(describe_scene(model, state, impact))
    st.divider()
    reading_panel(get_library(), state.with_(condition=NO_CONDITION) if symptoms_mode else state)
    glossary_panel(get_library())
    st.divider()
    st.caption(DISCLAIMER)

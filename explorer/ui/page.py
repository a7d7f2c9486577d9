"""The page layout: sidebar controls, the 3D view, and the panels beside it, laid out per audience.

The first screen (1366x768 laptop, 1920x1080 projector) holds the title, the 3D view and the body
chart; for patients it also holds "What this means for you" in plain words beside the picture,
and the clinician detail waits behind a "For clinicians" expander.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import streamlit as st
from streamlit.delta_generator import DeltaGenerator
from streamlit.runtime.scriptrunner import get_script_run_ctx

from explorer import settings
from explorer.anatomy.model import SpineModel
from explorer.anatomy.structures import STRUCTURES
from explorer.conditions.explain import degree_word, findings_lines, headline, squeezed_lines, why_line
from explorer.conditions.simulate import Impact
from explorer.state import NO_CONDITION, ExplorerState
from explorer.ui.controls import (
    CHART_FRAGMENT,
    DESCRIPTION_FRAGMENT,
    DRAWN_SELECTION_KEY,
    FRAGMENTS_DRAWN_KEY,
    SECTIONS_FRAGMENT,
    SELECTION_FRAGMENT,
    VIEWER_FRAGMENT,
    current_state,
    sidebar_controls,
    sync_url,
)
from explorer.ui.offline import keep_streamlit_offline
from explorer.ui.reading import (
    MAX_MESSAGE_CHARS,
    emergency_notice,
    folded,
    get_library,
    glossary_panel,
    literal,
    patient_summary,
    reading_panel,
    structure_explanation,
)
from explorer.ui.resources import get_impact, get_model, settle_heap
from explorer.ui.sections_panel import sections_panel, sections_toggle, with_sections
from explorer.ui.viewer_panel import viewer_panel
from explorer.ui.where_felt import (
    condition_chart,
    current_report,
    symptoms_chart,
    symptoms_inputs,
    symptoms_lit,
    symptoms_results,
)

DISCLAIMER = (
    "For education only. This model is a simplified, average adult spine; it is not medical advice "
    "and cannot diagnose you. If you have back or leg symptoms, see a health professional."
)
# Tall enough to read the model, short enough that title + view fit a 1366x768 laptop's first
# screen (768 px minus the browser's own bars is about 650-700 px of page). The viewer shortens
# itself on phones.
VIEWER_HEIGHT_PX = 560
# Where the fragments leave the words for the page's text description (see _description).
VIEW_DESCRIPTION_KEY = "_lx_view_description"
SECTIONS_DESCRIPTION_KEY = "_lx_sections_description"
VIEW_HELP = "Drag to turn. Click in, then scroll or pinch to zoom. Click a part to see what it is."

# Our own constant CSS (never content): a compact top so the 3D view and the body chart fit the
# first screen. Streamlit's defaults leave about 190 px of empty space above the title.
# The last rule: at the start of every rerun Streamlit marks each element stale, which starts an
# opacity transition (1 s, after a 0.5 s delay) on 53 of the page's ~56 elements. Chromium runs such
# transitions on the compositor, each element on a layer of its own that must be rastered, and
# with software graphics that raster takes turns with the 3D view's frame. A switch's run ends after
# about 0.2-0.3 s (p50), before the fade would start, and a switch was 0.83-0.91x as long without
# it (benchmarks/switch_timeline.py and run.py, both browser set-ups; docs/performance.md). In a
# slow run the old content now stays at full strength until it is replaced; Streamlit's status in
# the header still shows that the app is running.
PAGE_CSS = """
<style>
[data-testid="stMainBlockContainer"] { padding-top: 2.75rem; padding-bottom: 2rem;
                                       padding-left: 1.5rem; padding-right: 1.5rem; }
[data-testid="stHeader"] { height: 2.5rem; min-height: 2.5rem; }
[data-testid="stMainBlockContainer"] h1 { font-size: 1.9rem; padding: 0 0 0.25rem 0; line-height: 1.2; }
[data-testid="stSidebarHeader"] { height: 2.5rem; margin-bottom: 0; }
[data-testid="stSidebarUserContent"] { padding-top: 0.25rem; }
[data-testid="stColumn"] h2 { font-size: 1.4rem; padding: 0.1rem 0 0.4rem 0; }
[data-testid="stColumn"] h3 { font-size: 1.25rem; padding: 0.1rem 0 0.3rem 0; }
[data-testid="stElementContainer"][data-stale="true"] { transition: none !important; opacity: 1 !important; }
</style>
"""


# Streamlit 1.67 drops the whole query string, silently, past 512 KiB or 1,000 parameters
# (``sanitize_query_string``); the app then sees no parameters at all. (A page request whose first
# line is over about 128 KB is refused earlier by the web server with "400 Bad Request".)
QUERY_MAX_CHARS = 512 * 1024
QUERY_MAX_FIELDS = 1000
# Only the browser knows the link it was opened with, so a small constant script compares its
# length with those limits and, if Streamlit dropped it, shows why the start view appears instead.
# It reads only the *length* of the link and writes only our own fixed words.
LINK_TOO_LONG_HTML = f"""
<div id="lx-link-ignored" role="alert" hidden
     style="background:#FFF4D6;color:#111827;border-radius:0.5rem;padding:0.75rem 1rem;">
This link is too long for the app (more than {QUERY_MAX_FIELDS:,} parts or {QUERY_MAX_CHARS // 1024:,} KiB),
so all of it was ignored and the start view is shown. Check where the link came from.
</div>
<script>
(() => {{
  const query = window.location.search.replace(/^\\?/, "");
  if (query.length > {QUERY_MAX_CHARS} || query.split("&").length > {QUERY_MAX_FIELDS}) {{
    const note = document.getElementById("lx-link-ignored");
    if (note) note.hidden = false;
  }}
}})();
</script>
"""


# Also here, for servers started without `streamlit run` (AppTest); explorer/app.py does it at server start.
keep_streamlit_offline()


def _show_messages(messages: list[str] | tuple[str, ...], kind: str = "warning") -> None:
    """Messages that quote outside input (a link, a file): literal text, cut to a readable length."""
    show = st.warning if kind == "warning" else st.error
    for message in messages:
        show(literal(message, limit=MAX_MESSAGE_CHARS))


def _selection_panel(state: ExplorerState, quiet: bool = False) -> None:
    """What the selected structure is; with ``quiet``, nothing until something is selected."""
    if quiet and not state.selected:
        return
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


def _impact_panel(impact: Impact, findings: dict[str, list[str]], red_box: bool = True) -> None:
    st.subheader("What is squeezed")
    st.markdown(f"**{headline(impact)}**")
    _bullets(squeezed_lines(impact))
    st.markdown(f"*Why this nerve:* {why_line(impact)}")
    if findings["red_flags"]:
        if red_box:
            st.error("**Red flags: get emergency help**\n\n" + "\n".join(f"- {f}" for f in findings["red_flags"]))
        else:
            st.markdown("**Red flags:**\n" + "\n".join(f"- {f}" for f in findings["red_flags"]))


def _findings_panel(findings: dict[str, list[str]]) -> None:
    """The examination findings in three columns side by side (short columns: a shorter page)."""
    moves, signs, felt = st.columns(3, gap="medium")
    with moves:
        st.subheader("Weakness")
        _bullets(findings["weakness"] or ["No weakness expected at this severity."])
        st.subheader("Reflexes")
        _bullets(findings["reflexes"])
    with signs:
        st.subheader("Typical exam signs and features")
        _bullets(findings["features"])
    with felt:
        st.subheader("Where it is felt (in words)")
        _bullets(findings["sensory"] or ["No leg symptoms from a nerve root at this severity."])


def has_red_flags(impact: Impact | None) -> bool:
    """True if the condition shown carries emergency signs (cauda equina red flags)."""
    if impact is None:
        return False
    ids = getattr(impact.clinical, "red_flag_ids", None)
    return bool(ids) if ids is not None else bool(impact.clinical.red_flags)


def picture_line(impact: Impact) -> str:
    """One plain sentence naming what the picture shows squeezed (no percentages or millimetres)."""
    nerves = [c for c in impact.compressed if STRUCTURES[c.id].kind in ("root", "sciatic", "cauda-equina")]
    if not nerves:
        sac = [c for c in impact.compressed if STRUCTURES[c.id].kind == "thecal-sac"]
        return ("In the picture, the bag around the nerves is pressed, but no single nerve is squeezed yet."
                if sac else "In the picture, nothing presses on a nerve yet at this size.")
    worst = nerves[0]
    # When the picture itself shows the nerves for the bladder and bowel squeezed, the calm summary
    # that follows must not read as if this were ordinary sciatica.
    sacral = ("\n\nThis picture shows something large enough to squeeze the nerves for the bladder, the "
              "bowel and the skin between the legs too. In a real person, that needs care straight away. "
              "The signs are listed next.") if "saddle_anaesthesia" in getattr(impact.clinical, "red_flag_ids", ()) else ""
    name = worst.name[0].lower() + worst.name[1:] if worst.name[1:2].islower() else worst.name  # "Sciatic", not "L5"
    if len(nerves) == 1:
        return f"In the picture, the **{name}** is {degree_word(worst.degree)} squeezed." + sacral
    return (f"In the picture, {len(nerves)} nerves are squeezed; the most squeezed is the **{name}** "
            f"({degree_word(worst.degree)}).") + sacral


# The state and impact of the full page run in progress on this thread (each session's script runs
# on its own thread): the four fragments reuse them instead of reading the widgets again (4 of the
# run's 5 current_state() calls: about 1-1.5 ms a run in a profile of a real server).
_FULL_RUN = threading.local()


def _page_state() -> tuple[ExplorerState, Impact | None]:
    """The state and impact as session state holds them now: from :func:`main` in a full run, read
    again when a part of the page reruns on its own."""
    if not _in_fragment_rerun():
        known = getattr(_FULL_RUN, "state", None)
        if known is not None:
            return known
    state = with_sections(current_state())
    impact = None
    if state.condition != NO_CONDITION and state.mode != "symptoms":
        try:
            impact = get_impact(state.condition, state.params)
        except (ValueError, KeyError, RuntimeError):  # the full run already said what failed
            impact = None
    return state, impact


def _in_fragment_rerun() -> bool:
    """True while a fragment reruns on its own (not as part of a full page run)."""
    ctx = get_script_run_ctx()
    return bool(ctx is not None and ctx.fragment_ids_this_run)


@st.fragment(key=VIEWER_FRAGMENT)
def _viewer(model: SpineModel) -> None:
    """The 3D view and its help line; its text description goes to session state for
    :func:`_description` (the screen reader's words, shown as text at the bottom of the page).

    A fragment: the view's own controls (layers, labels, opacity, camera) rerun only this part and
    the description (:func:`explorer.ui.controls.rerun_only`). A click on a structure changes the
    selection shown elsewhere on the page too, so it reruns the whole page.
    """
    state, impact = _page_state()
    if _in_fragment_rerun():
        if state.selected != st.session_state.get(DRAWN_SELECTION_KEY):
            st.rerun()  # a click in 3D: the chart's outline and the selection panel change too
        sync_url(state)
    lit = symptoms_lit(current_report()) if state.mode == "symptoms" else None
    st.session_state[VIEW_DESCRIPTION_KEY] = viewer_panel(model, state, impact, height_px=VIEWER_HEIGHT_PX, lit=lit)
    st.caption(VIEW_HELP)


@st.fragment(key=DESCRIPTION_FRAGMENT)
def _description(expanded: bool) -> None:
    """What the 3D view (and the sections, when shown) show, in words (run after both)."""
    with st.expander("What you are looking at in 3D (text description)", expanded=expanded):
        st.write(str(st.session_state.get(VIEW_DESCRIPTION_KEY, "")))
        sections = str(st.session_state.get(SECTIONS_DESCRIPTION_KEY, "") or "")
        if sections:
            st.write(sections)


@st.fragment(key=SECTIONS_FRAGMENT)
def _sections(model: SpineModel) -> None:
    """The MRI-like sections below the 3D view and the chart (explorer.ui.sections_panel)."""
    state, impact = _page_state()
    if state.section == "off":
        st.session_state[SECTIONS_DESCRIPTION_KEY] = ""
        return
    before = st.session_state.get(SECTIONS_DESCRIPTION_KEY)
    described = sections_panel(model, state, impact)
    st.session_state[SECTIONS_DESCRIPTION_KEY] = described
    if _in_fragment_rerun():
        sync_url(state)
        if described != before:
            st.rerun()  # a new cut or posture: the page's text description says so too


@st.fragment(key=CHART_FRAGMENT)
def _chart() -> None:
    """The body chart beside the view; a root picked on it reruns it, the view and the selection."""
    state, impact = _page_state()
    if _in_fragment_rerun():
        sync_url(state)
    condition_chart(state, impact)


@st.fragment(key=SELECTION_FRAGMENT)
def _selection(quiet: bool) -> None:
    state, _ = _page_state()
    _selection_panel(state, quiet=quiet)


# --------------------------------------------------------------------------- page parts
def _patient_words(state: ExplorerState, impact: Impact | None) -> None:
    """Beside the picture, for patients: the calm summary, then (calmly) when to get help."""
    found = patient_summary(get_library(), state)
    heading, body = found if found else ("What this means for you", "")
    st.header(heading)
    if impact is not None:
        st.markdown(picture_line(impact))
    if body:
        st.markdown(body, unsafe_allow_html=False)
    if has_red_flags(impact):
        emergency_notice(get_library(), urgent=True)
        return
    watch_for = list(getattr(impact.clinical, "watch_for", ()) or ()) if impact is not None else []
    if watch_for:  # calm sentences: what would make this condition urgent (the full signs follow below)
        st.markdown("**When to get help:**\n" + "\n".join(f"- {line}" for line in watch_for))


def _patient_below(state: ExplorerState, impact: Impact | None, findings: dict[str, list[str]] | None) -> None:
    """Under the first row, for patients: the emergency signs, then the clinician detail folded away."""
    if not has_red_flags(impact):
        emergency_notice(get_library(), urgent=False)
    if impact is not None and findings is not None:
        with folded("For clinicians: measurements, muscles and reflexes", "clinician_detail") as is_open:
            if is_open:
                _impact_panel(impact, findings, red_box=False)
                _findings_panel(findings)


def _condition_mode(model: SpineModel, state: ExplorerState, impact: Impact | None) -> Callable[[], None]:
    """Lay out the page for a condition (or the healthy spine); return what draws the view's text
    description (its place is at the bottom, its words come from the 3D view).

    The 3D view and the body chart are drawn first, into places made for them in layout order, and
    the texts after them. Why: Streamlit sends each part as it is drawn and its frontend renders
    the parts in arrival order; a component is called only after every part that arrived before it
    has been rendered. With the pictures first, our components get their data at the start of the
    run and the browser draws them while the server and Streamlit's frontend go on with the ~80
    text elements. (Until session 9 they came last, when building the 3D view was the slowest part
    of a run; since every state is read from disk it takes a few milliseconds, and the texts'
    render then held the pictures back by 100-200 ms: benchmarks/switch_timeline.py.)
    The places are plain ``st.container()``s: the page looks the same.
    """
    findings = findings_lines(impact) if impact is not None else None
    if state.audience == "patient":
        view_col, words_col, chart_col = st.columns([6, 4, 3], gap="small")
        view_slot = view_col.container()
        _draw_pictures(model, chart_col.container(), view_slot)
        with view_col:
            _selection(quiet=True)  # a clicked part, in plain words, under the picture
        with words_col:
            _patient_words(state, impact)
        _sections(model)
        with st.container():  # one or two parts (red flags move the notice up): the rest keeps its place
            _patient_below(state, impact, findings)
        description_slot, expanded = st.container(), False
    else:
        view_col, chart_col = st.columns([3, 2], gap="medium")
        view_slot = view_col.container()
        _draw_pictures(model, chart_col.container(), view_slot)
        with view_col:
            # Under the view (the chart column is taller): the one-line story of the picture, in the
            # first screen on a projector.
            if impact is not None and findings is not None:
                _impact_panel(impact, findings)
            else:
                st.subheader("Healthy spine")
                st.write("Pick a condition in the sidebar to see which nerve it squeezes and where that is felt.")
        _sections(model)
        if findings is not None:
            _findings_panel(findings)
        _selection(quiet=True)
        description_slot, expanded = st.container(), impact is None

    def draw_description() -> None:
        with description_slot:  # after the view: it shows the words the view left in session state
            _description(expanded=expanded)

    return draw_description


def _draw_pictures(model: SpineModel, chart_slot: DeltaGenerator, view_slot: DeltaGenerator) -> None:
    """The body chart, then the 3D view, each into its place."""
    # The chart first: the view waits for the chart to draw both in one frame
    # (explorer/frontend/frame_group.js), and the chart's data is the smaller.
    with chart_slot:
        _chart()
    with view_slot:
        _viewer(model)


def _symptoms_mode(model: SpineModel, state: ExplorerState) -> None:
    view_col, chart_col = st.columns([3, 2], gap="medium")
    with chart_col:  # drawn first: the marks decide which roots light up in 3D
        report = symptoms_chart(state)
    with view_col, st.container():  # the viewer's place as in condition mode: the browser keeps it on a switch
        _viewer(model)
    st.header("From symptoms to cause")
    inputs_col, results_col = st.columns([2, 3], gap="large")
    with inputs_col:
        symptoms_inputs()
    with results_col:
        symptoms_results(report)
    _selection_panel(state)


def main() -> None:
    # "auto" starts the sidebar collapsed on narrow (phone) screens and open on wider ones.
    st.set_page_config(page_title="Lumbar Explorer", page_icon=":bone:", layout="wide",
                       initial_sidebar_state="auto")
    st.html(PAGE_CSS)
    _FULL_RUN.state = None  # set below, once this run's state is known
    model = get_model()
    state, url_errors = sidebar_controls()
    state = with_sections(state)
    if state.mode != "symptoms":
        with st.sidebar:
            sections_toggle(state)
        # Read again now that the toggle is drawn: after a reconnect to another replica the browser's
        # value becomes readable only here (before, the link's seed stood in for it).
        state = with_sections(state)
    sync_url(state)
    symptoms_mode = state.mode == "symptoms"
    impact, impact_error = None, None
    if state.condition != NO_CONDITION and not symptoms_mode:
        try:
            impact = get_impact(state.condition, state.params)
        except (ValueError, KeyError, RuntimeError) as exc:  # keep the page alive; say what failed
            impact_error = (f"Could not simulate {state.condition} with {dict(state.params)}: {exc}. "
                            "Showing the healthy spine.")
    _FULL_RUN.state = (state, impact)

    st.title("Lumbar Explorer")
    st.html(LINK_TOO_LONG_HTML, unsafe_allow_javascript=True)
    _show_messages(url_errors)
    if impact_error:
        _show_messages([impact_error], kind="error")

    # What the chart and the selection panel are drawn with (a click in 3D is compared with it).
    st.session_state[DRAWN_SELECTION_KEY] = state.selected
    st.session_state[FRAGMENTS_DRAWN_KEY] = (
        (VIEWER_FRAGMENT,) if symptoms_mode
        else (VIEWER_FRAGMENT, CHART_FRAGMENT, SELECTION_FRAGMENT, SECTIONS_FRAGMENT, DESCRIPTION_FRAGMENT))
    draw_description = None
    if symptoms_mode:
        _symptoms_mode(model, state)
    else:
        draw_description = _condition_mode(model, state, impact)
    st.divider()
    library = get_library()
    # In a container of its own: the reading's length changes with the condition and its parameters,
    # and the glossary and the lines below keep their place in the page's tree only if it does not
    # move them. The browser reuses an element whose content and place are unchanged since the last
    # run without rendering it again (Streamlit's frontend compares each message's hash with the
    # element at its place); the glossary alone is a 7 kB Markdown render.
    with st.container():
        reading_panel(library, state.with_(condition=NO_CONDITION) if symptoms_mode else state,
                      summary_shown=state.audience == "patient" and not symptoms_mode)
    glossary_panel(library)
    st.divider()
    st.caption(DISCLAIMER)
    # Notes about how the model was built (stale assets rebuilt, a mesh replaced): for whoever
    # runs the app, so they sit at the bottom instead of pushing the 3D view off the first screen.
    for message in model.messages:
        st.caption(literal(message, limit=MAX_MESSAGE_CHARS))
    if draw_description is not None:
        draw_description()  # last: the 3D view's words, once every part of the page is drawn
    settle_heap()  # once per process: what is alive now lives as long as the server

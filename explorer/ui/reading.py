"""Streamlit panels for the texts: the condition explanation, structure notes and the glossary.

All the content logic (loading, validating, choosing which texts apply) lives in
``explorer.content``; this module only lays the texts out. Each audience gets the layout that
reads best for it:

- **patients** read one continuous page (nothing hidden behind clicks), with the emergency box
  at the top of every condition page;
- **students** get the sections as expanders (the first two open) so they can scan the
  headings and revise, then the quiz with hidden answers;
- **educators** get one tab per section, which shows one idea at a time on a projector.
"""

from __future__ import annotations

import re

import streamlit as st

from explorer.anatomy.structures import STRUCTURES
from explorer.conditions.registry import CONDITIONS
from explorer.content import ContentLibrary, Reference, Text, load_content
from explorer.state import NO_CONDITION, ExplorerState

EMERGENCY_NOTICE_ID = "emergency-patient"
READING_DISCLAIMER = (
    "These texts are for learning. They do not replace advice from your own doctor, "
    "physiotherapist or other health professional."
)
# Shown if the emergency notice file is missing or broken: this box must never disappear.
EMERGENCY_FALLBACK = (
    "**Go to the emergency department now** if you have new numbness between your legs or around "
    "your bottom, new trouble peeing or controlling your bowels, or weakness in both legs or a leg "
    "that is getting weaker."
)
STUDENT_OPEN_SECTIONS = 2  # sections shown open at first: what it is, what is squeezed
MAX_PROBLEMS_SHOWN = 3


@st.cache_resource(show_spinner=False)
def get_library() -> ContentLibrary:
    """The texts, loaded and validated once per process (read-only, shared by every session)."""
    return load_content()


def demote_headings(markdown_text: str, levels: int = 2) -> str:
    """Push Markdown headings down ``levels`` steps (``##`` -> ``####``) so they sit under a panel heading."""
    return re.sub(r"^(#{1,6})(?=\s)", lambda m: "#" * min(6, len(m.group(1)) + levels), markdown_text,
                  flags=re.MULTILINE)


def format_references(references: list[Reference] | tuple[Reference, ...]) -> str:
    """A numbered Markdown list, one ``Authors. Title. Source; year.`` line each, duplicates removed."""
    lines = list(dict.fromkeys(r.format() for r in references))
    return "\n".join(f"{i}. {line}" for i, line in enumerate(lines, 1))


def unavailable_message(library: ContentLibrary, condition: str, audience: str) -> str:
    """Plain words for a missing or invalid condition text, with the reason if a file was rejected."""
    name = CONDITIONS[condition].name if condition in CONDITIONS else condition
    folder = library.root / "conditions" / condition
    reasons = [p.message for p in library.problems
               if p.path.parent.resolve() == folder.resolve() and p.path.stem == audience]
    reason = reasons[0] if reasons else "it has not been written yet"
    return f"The {audience} text for {name} is unavailable ({reason})."


def show_content_problems(library: ContentLibrary) -> None:
    """One short warning naming the files with problems; the rest of the app keeps working."""
    if not library.problems:
        return
    files = list(dict.fromkeys(p.label or str(p.path) for p in library.problems))
    shown = "; ".join(str(p) for p in library.problems[:MAX_PROBLEMS_SHOWN])
    more = len(library.problems) - MAX_PROBLEMS_SHOWN
    st.warning(f"{len(files)} content file(s) have problems and may be missing or incomplete: {shown}"
               + (f" (and {more} more)" if more > 0 else "") + ".")


def emergency_notice(library: ContentLibrary) -> None:
    """The patient emergency box (cauda equina red flags)."""
    notice = library.notice(EMERGENCY_NOTICE_ID)
    body = f"**{notice.title}**\n\n{notice.body}" if notice else EMERGENCY_FALLBACK
    st.error(body, icon="🚑")


def _patient_layout(text: Text) -> None:
    st.markdown(demote_headings(text.body), unsafe_allow_html=False)


def _student_layout(text: Text) -> None:
    shown = 0
    for heading, body in text.sections:
        if not heading:
            st.markdown(demote_headings(body), unsafe_allow_html=False)
            continue
        with st.expander(heading, expanded=shown < STUDENT_OPEN_SECTIONS):
            st.markdown(demote_headings(body), unsafe_allow_html=False)
        shown += 1


def _educator_layout(text: Text) -> None:
    sections = text.sections
    intro = [body for heading, body in sections if not heading]
    for body in intro:
        st.markdown(demote_headings(body), unsafe_allow_html=False)
    named = [(h, b) for h, b in sections if h]
    if not named:
        return
    labels = [h if [x for x, _ in named].count(h) == 1 else f"{h} ({i})" for i, (h, _) in enumerate(named, 1)]
    for tab, (_, body) in zip(st.tabs(labels), named):
        with tab:
            st.markdown(demote_headings(body), unsafe_allow_html=False)


LAYOUTS = {"patient": _patient_layout, "student": _student_layout, "educator": _educator_layout}


def _quiz(texts: list[Text]) -> None:
    items = [item for t in texts for item in t.quiz]
    if not items:
        return
    st.markdown("#### Test yourself")
    for n, item in enumerate(items, 1):
        with st.expander(f"Question {n}: {item.q}"):
            st.markdown(item.a, unsafe_allow_html=False)


def _related(library: ContentLibrary, texts: list[Text]) -> list[Text]:
    """Topics named in ``related`` or linked as ``#id`` by the shown texts, once each, in order."""
    ids = dict.fromkeys(i for t in texts for i in (*t.related, *t.linked_ids))
    return [topic for i in ids if (topic := library.topic(i)) is not None]


def _references_and_disclaimer(texts: list[Text]) -> None:
    refs = [r for t in texts for r in t.references]
    if refs:
        with st.expander(f"References ({len(dict.fromkeys(r.format() for r in refs))})"):
            st.markdown(format_references(refs), unsafe_allow_html=False)
    st.caption(READING_DISCLAIMER)


def reading_panel(library: ContentLibrary, state: ExplorerState) -> None:
    """The explanation for the current condition (or the welcome text for the healthy spine).

    Parameters
    ----------
    library : ContentLibrary
        Usually :func:`get_library`.
    state : ExplorerState
        Uses ``audience``, ``condition`` and ``param_dict``.
    """
    show_content_problems(library)
    audience = state.audience
    layout = LAYOUTS.get(audience, _patient_layout)
    if state.condition == NO_CONDITION:
        welcome = library.notice(f"welcome-{audience}")
        if welcome is None:
            st.info("Choose a condition in the sidebar to read about it, or click a structure in the 3D view.")
            shown: list[Text] = []
        else:
            st.subheader(welcome.title, anchor=welcome.id)
            layout(welcome)
            shown = [welcome]
        if audience == "patient":
            emergency_notice(library)
        _references_and_disclaimer(shown)
        return

    texts = library.condition_texts(state.condition, audience, state.param_dict)
    if audience == "patient":
        emergency_notice(library)
    base = texts[0] if texts and not texts[0].params else None
    if base is None:
        st.info(unavailable_message(library, state.condition, audience))
    else:
        st.subheader(base.title, anchor=base.id)
        layout(base)
    for extra in texts[1:] if base is not None else texts:
        with st.container(border=True):
            st.markdown(f"#### {extra.title}")
            st.markdown(demote_headings(extra.body, 3), unsafe_allow_html=False)
    if audience == "student":
        _quiz(texts)
    topics = _related(library, texts)
    for topic in topics:
        st.subheader(topic.title, anchor=topic.id)
        st.markdown(demote_headings(topic.body), unsafe_allow_html=False)
    notice = library.notice(EMERGENCY_NOTICE_ID) if audience == "patient" else None
    _references_and_disclaimer([*texts, *topics, *([notice] if notice else [])])


def structure_explanation(library: ContentLibrary, structure_id: str, audience: str) -> str:
    """Markdown for the selected-structure panel: the explanation and a line naming its sources.

    Never raises: an unknown id or a missing text gives a plain sentence instead.
    """
    structure = STRUCTURES.get(structure_id)
    if structure is None:
        return f"There is no structure with the id {structure_id!r}."
    text = library.structure_text(structure_id, audience)
    if text is None:
        return f"The {audience} explanation of the {structure.name} is not available yet."
    sources = "; ".join(dict.fromkeys(f"{r.authors.split(',')[0]} {r.year}" for r in text.references))
    return f"{demote_headings(text.body, 3).strip()}\n\n*Sources: {sources}.*"


def glossary_panel(library: ContentLibrary) -> None:
    """An expander with every glossary term and its plain-language definition, A to Z."""
    if not library.glossary:
        return
    with st.expander(f"Glossary ({len(library.glossary)} terms)"):
        lines = []
        for term in library.glossary:
            see = f" *See also: {', '.join(term.see_also)}.*" if term.see_also else ""
            lines.append(f"- **{term.term}**: {term.definition}{see}")
        st.markdown("\n".join(lines), unsafe_allow_html=False)

"""Streamlit panels for the texts: the condition explanation, structure notes and the glossary.

All the content logic (loading, validating, choosing which texts apply) lives in
``explorer.content``; this module only lays the texts out. Each audience gets the layout that
reads best for it:

- **patients** first read the short calm summary ("What this means for you") beside the 3D
  picture (:func:`patient_summary`, placed by the page), then the emergency signs, then the rest
  of their text as sections to open one at a time;
- **students** get the sections as expanders (the first two open) so they can scan the
  headings and revise, then the quiz with hidden answers;
- **educators** get one tab per section, which shows one idea at a time on a projector.

In-app links in a text (``[words](?condition=...)``) become buttons that open that state in the
same tab and keep the reader's audience (:func:`show_markdown`); Streamlit opens every Markdown link
in a new tab, and a lecturer following a link must not land on the student texts.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache

import streamlit as st

from explorer.anatomy.structures import STRUCTURES
from explorer.conditions.registry import CONDITIONS
from explorer.content import SUMMARY_SECTION, ContentLibrary, Reference, Text, load_content
from explorer.render.memo import Memo
from explorer.state import NO_CONDITION, ExplorerState, shorten, shown
from explorer.ui.controls import open_app_link

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
# ``[words](?query)``: a link to a state of this app.
APP_LINK = re.compile(r"\[([^\]]+)\]\((\?[^)\s]*)\)")
# What may remain of a line once its app links are taken out, for the line to be only links.
LINK_GLUE = re.compile(r"^[\s\-*+\d.,;:()]*(?:(?:and|then|or)[\s,;:.()]*)*$", re.IGNORECASE)
MARKDOWN_SPECIALS = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:=&])")
# Streamlit's Markdown turns some text into links or icons *after* parsing, so a backslash does not
# stop them (seen in Chromium with Streamlit 1.67): GFM bare links (``http://``, ``www.``,
# ``name@host``) and ``:material/icon:`` / ``:emoji:`` shortcodes. An invisible WORD JOINER
# (U+2060) after ":" and "@" and inside "www." breaks those patterns without changing what is read.
WORD_JOINER = "\u2060"
AFTER_PARSE_PATTERNS = re.compile(r"(?<=:)(?=\S)|(?<=@)|(?<=www)(?=\.)", re.IGNORECASE)
# Messages that quote a file or link are cut to this many characters.
MAX_MESSAGE_CHARS = 400


@st.cache_resource(show_spinner=False)
def get_library() -> ContentLibrary:
    """The texts, loaded and validated once per process (read-only, shared by every session)."""
    return load_content()


def literal(text: str, limit: int | None = None) -> str:
    """``text`` made safe to pass to ``st.markdown``/``st.warning``: shown as typed, never interpreted.

    No links, images, emphasis, headings, HTML, maths, icons or emoji: Markdown specials are
    backslash-escaped and the patterns Streamlit rewrites after parsing are broken with an
    invisible word joiner.

    Parameters
    ----------
    text : str
        Plain text, possibly quoting a link, a file or a browser event.
    limit : int, optional
        Cut ``text`` to this many characters first (ending in "…").
    """
    if limit is not None:
        text = shorten(text, limit)
    return MARKDOWN_SPECIALS.sub(r"\\\1", AFTER_PARSE_PATTERNS.sub(WORD_JOINER, text))


@lru_cache(maxsize=2048)  # the same texts on every rerun of every session: rewritten once
def demote_headings(markdown_text: str, levels: int = 2) -> str:
    """Push Markdown headings down ``levels`` steps (``##`` -> ``####``) so they sit under a panel heading."""
    return re.sub(r"^(#{1,6})(?=\s)", lambda m: "#" * min(6, len(m.group(1)) + levels), markdown_text,
                  flags=re.MULTILINE)


def show_markdown(markdown_text: str, key: str) -> None:
    """Show Markdown; its in-app links (``[words](?condition=...)``) become same-tab buttons.

    A line that holds only links (a list of views, as in "Show it in the app") becomes just its
    buttons; a sentence with a link keeps its words (the link words in bold) and gets the button
    after it. The buttons call :func:`explorer.ui.controls.open_app_link`, which keeps the audience.

    Parameters
    ----------
    markdown_text : str
        Validated content Markdown (no raw HTML; see ``explorer.content``).
    key : str
        Unique prefix for the button keys (one per text section on the page).
    """
    if "](?" not in markdown_text:
        st.markdown(markdown_text, unsafe_allow_html=False)
        return
    pending: list[str] = []
    n = 0

    def flush() -> None:
        if "".join(pending).strip():
            st.markdown("\n".join(pending), unsafe_allow_html=False)
        pending.clear()

    for line in markdown_text.splitlines():
        links = APP_LINK.findall(line)
        if not links:
            pending.append(line)
            continue
        rest = APP_LINK.sub("", line)
        if not LINK_GLUE.match(rest):
            pending.append(APP_LINK.sub(lambda m: f"**{m.group(1)}**", line))
        flush()
        # Links on one line stay side by side ("[mild] and [severe]" read as a pair).
        with st.container(horizontal=True) if len(links) > 1 else st.container():
            for words, query in links:
                n += 1
                st.button(literal(words), key=f"applink_{key}_{n}", on_click=open_app_link, args=(query,),
                          icon=":material/view_in_ar:", help="Show this in the 3D view above (same tab).")
    flush()


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
    listed = "; ".join(str(p) for p in library.problems[:MAX_PROBLEMS_SHOWN])
    more = len(library.problems) - MAX_PROBLEMS_SHOWN
    st.warning(literal(f"{len(files)} content file(s) have problems and may be missing or incomplete: {listed}"
                       + (f" (and {more} more)" if more > 0 else "") + ".", limit=MAX_MESSAGE_CHARS * MAX_PROBLEMS_SHOWN))


def emergency_notice(library: ContentLibrary, urgent: bool = False) -> None:
    """The patient emergency signs (cauda equina red flags).

    Parameters
    ----------
    urgent : bool
        True when the condition shown has red flags itself: a red box. Otherwise an amber one,
        placed after the calm summary: the signs to watch for, not an alarm.
    """
    notice = library.notice(EMERGENCY_NOTICE_ID)
    body = f"**{notice.title}**\n\n{notice.body}" if notice else EMERGENCY_FALLBACK
    if urgent:
        st.error(body, icon=":material/emergency:")
    else:
        st.warning(body, icon=":material/info:")


def patient_summary(library: ContentLibrary, state: ExplorerState) -> tuple[str, str] | None:
    """What a patient reads beside the picture: ``(heading, markdown)``, or None if there is nothing.

    For a condition: the calm summary that opens its patient text (or, if the text has none yet,
    its first section). For the healthy spine: the patient welcome text.
    """
    if state.condition == NO_CONDITION:
        welcome = library.notice("welcome-patient")
        return (welcome.title, welcome.body) if welcome is not None else None
    texts = library.condition_texts(state.condition, "patient", state.param_dict)
    base = texts[0] if texts and not texts[0].params else None
    if base is None:
        return None
    if base.summary is not None:
        return SUMMARY_SECTION, base.summary
    named = [(h, b) for h, b in base.sections if h]
    return (named[0] if named else (base.title, base.body))


@contextmanager
def folded(label: str, key: str, expanded: bool = False) -> Iterator[bool]:
    """An expander whose content is built and sent only while it is open; yields whether it is.

    Why: a condition change used to send and render every closed section, quiz answer, reference
    list and related topic again (about 20 Markdown elements, most of a change's text work in the
    browser). Opening one is a rerun (Streamlit's stateful expander, ``on_change="rerun"``), which
    sends its text then. ``key`` must be unique on the page and stable across reruns.
    """
    box = st.expander(label, expanded=expanded, key=f"fold:{key}", on_change="rerun")
    with box:
        yield bool(box.open)


def _sections_layout(text: Text, open_sections: int, key: str, skip_summary: bool = False) -> None:
    shown = 0
    # Text.summary is set only when the first named section is the summary.
    skip_first_named = skip_summary and text.summary is not None
    for i, (heading, body) in enumerate(text.sections):
        if not heading:
            show_markdown(demote_headings(body), f"{key}_{i}")
            continue
        if skip_first_named:
            skip_first_named = False
            continue
        with folded(heading, f"{key}_{i}", expanded=shown < open_sections) as is_open:
            if is_open:
                show_markdown(demote_headings(body), f"{key}_{i}")
        shown += 1


def _patient_layout(text: Text, key: str) -> None:
    # The summary sits beside the picture already; the rest are headings to open one at a time,
    # so a worried reader sees the whole outline on one screen instead of a long page.
    _sections_layout(text, 0, key, skip_summary=True)


def _student_layout(text: Text, key: str) -> None:
    _sections_layout(text, STUDENT_OPEN_SECTIONS, key)


def _educator_layout(text: Text, key: str) -> None:
    sections = text.sections
    for i, (heading, body) in enumerate(sections):
        if not heading:
            show_markdown(demote_headings(body), f"{key}_intro{i}")
    named = [(h, b) for h, b in sections if h]
    if not named:
        return
    labels = [h if [x for x, _ in named].count(h) == 1 else f"{h} ({i})" for i, (h, _) in enumerate(named, 1)]
    for i, (tab, (_, body)) in enumerate(zip(st.tabs(labels), named, strict=True)):
        with tab:
            show_markdown(demote_headings(body), f"{key}_{i}")


LAYOUTS = {"patient": _patient_layout, "student": _student_layout, "educator": _educator_layout}


def _quiz(texts: list[Text]) -> None:
    items = [item for t in texts for item in t.quiz]
    if not items:
        return
    st.markdown("#### Test yourself")
    for n, item in enumerate(items, 1):
        with folded(f"Question {n}: {item.q}", f"quiz_{n}_{item.q[:40]}") as is_open:
            if is_open:
                st.markdown(item.a, unsafe_allow_html=False)


def _references_and_disclaimer(texts: list[Text]) -> None:
    refs = [r for t in texts for r in t.references]
    if refs:
        ids = ",".join(dict.fromkeys(t.id for t in texts))
        with folded(f"References ({len(dict.fromkeys(r.format() for r in refs))})", f"refs_{ids}") as is_open:
            if is_open:
                st.markdown(format_references(refs), unsafe_allow_html=False)
    st.caption(READING_DISCLAIMER)


def reading_panel(library: ContentLibrary, state: ExplorerState, summary_shown: bool = False) -> None:
    """The explanation for the current condition (or the welcome text for the healthy spine).

    Parameters
    ----------
    library : ContentLibrary
        Usually :func:`get_library`.
    state : ExplorerState
        Uses ``audience``, ``condition`` and ``param_dict``.
    summary_shown : bool
        The page already shows the patient summary (or the welcome text) beside the picture, so it
        is not repeated here. The page also places the patient emergency signs.
    """
    show_content_problems(library)
    audience = state.audience
    layout = LAYOUTS.get(audience, _patient_layout)
    if state.condition == NO_CONDITION:
        welcome = library.notice(f"welcome-{audience}")
        shown: list[Text] = []
        if welcome is None:
            st.info("Choose a condition in the sidebar to read about it, or click a structure in the 3D view.")
        elif not summary_shown:
            st.subheader(welcome.title, anchor=welcome.id)
            layout(welcome, welcome.id)
            shown = [welcome]
        else:
            shown = [welcome]
        _references_and_disclaimer(shown)
        return

    texts, topics = _condition_reading(library, state, audience)
    base = texts[0] if texts and not texts[0].params else None
    # The condition's own texts in a container of their own (never empty: a heading or a notice):
    # their length changes with the parameters, and the related topics below then keep their place
    # in the page's tree, so the browser reuses them unchanged instead of rendering them again.
    with st.container():
        if base is None:
            st.info(literal(unavailable_message(library, state.condition, audience), limit=MAX_MESSAGE_CHARS))
        else:
            st.subheader(base.title, anchor=base.id)
            if audience == "patient" and not summary_shown and base.summary:
                show_markdown(base.summary, f"{base.id}_summary")
            layout(base, base.id)
        for extra in texts[1:] if base is not None else texts:
            with st.container(border=True):
                st.markdown(f"#### {extra.title}")
                show_markdown(demote_headings(extra.body, 3), extra.id)
        if audience == "student":
            _quiz(texts)
    for topic in topics:
        # The heading keeps the anchor that ``[words](#id)`` links in the texts jump to; the body
        # waits behind a click, so the page stays short.
        st.subheader(topic.title, anchor=topic.id)
        with folded(f"Read: {topic.title}", f"topic_{topic.id}") as is_open:
            if is_open:
                show_markdown(demote_headings(topic.body), topic.id)
    notice = library.notice(EMERGENCY_NOTICE_ID) if audience == "patient" else None
    _references_and_disclaimer([*texts, *topics, *([notice] if notice else [])])


# A condition's texts and related topics per (library, condition, parameters, audience): the same
# for every session reading them, looked up once per process (shared: never mutate them).
_READING: Memo[tuple[ContentLibrary, list[Text], list[Text]]] = Memo(512)


def _condition_reading(library: ContentLibrary, state: ExplorerState, audience: str) -> tuple[list[Text], list[Text]]:
    key = (id(library), state.condition, state.params, audience)
    hit = _READING.get(key)
    if hit is None or hit[0] is not library:
        texts = library.condition_texts(state.condition, audience, state.param_dict)
        # As this audience reads them: a patient gets patient texts, never a student section.
        hit = _READING.put(key, (library, texts, library.related_topics(texts, audience)))
    return hit[1], hit[2]


def structure_explanation(library: ContentLibrary, structure_id: str, audience: str) -> str:
    """Markdown for the selected-structure panel: the explanation and a line naming its sources.

    Never raises: an unknown id or a missing text gives a plain sentence instead.
    """
    structure = STRUCTURES.get(structure_id)
    if structure is None:
        return literal(f"There is no structure with the id {shown(structure_id)}.")  # Markdown: quote as text
    text = library.structure_text(structure_id, audience)
    if text is None:
        return f"The {audience} explanation of the {structure.name} is not available yet."
    sources = "; ".join(dict.fromkeys(f"{r.authors.split(',')[0]} {r.year}" for r in text.references))
    return f"{demote_headings(text.body, 3).strip()}\n\n*Sources: {sources}.*"


def glossary_panel(library: ContentLibrary) -> None:
    """An expander with every glossary term and its plain-language definition, A to Z."""
    if not library.glossary:
        return
    with folded(f"Glossary ({len(library.glossary)} terms)", "glossary") as is_open:
        if not is_open:
            return
        lines = []
        for term in library.glossary:
            see = f" *See also: {', '.join(term.see_also)}.*" if term.see_also else ""
            lines.append(f"- **{term.term}**: {term.definition}{see}")
        st.markdown("\n".join(lines), unsafe_allow_html=False)

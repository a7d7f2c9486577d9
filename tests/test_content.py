"""The texts a person reads: every content file is valid, linked, cited and readable, and the
loader reports bad files clearly instead of failing.

The per-file tests are parametrised over the files found on disk, so a new text is tested as soon
as it is added. The coverage tests fail on purpose while a condition x audience or a structure has
no text yet.
"""

from __future__ import annotations

import os
import random
import re
import textwrap
import time
from pathlib import Path
from urllib.parse import parse_qs

import pytest

from explorer.anatomy.structures import STRUCTURES
from explorer.conditions.registry import CONDITIONS
from explorer.content import (
    CONTENT_DIR,
    HTML_PATTERN,
    LINK_PATTERN,
    SUMMARY_SECTION,
    SUMMARY_WORDS,
    ContentLibrary,
    Text,
    glossary_text,
    load_content,
    plain_text,
    reading_grade,
    split_sections,
    summary_problems,
)
from explorer.state import AUDIENCES, parse_query_params

MAX_PATIENT_GRADE = 8.0
CONTENT_FILES: list[Path] = sorted(p for p in CONTENT_DIR.rglob("*.md")
                                   if p.name != "README.md" and "cases" not in p.relative_to(CONTENT_DIR).parts)


def _rel(path: Path) -> str:
    return str(path.relative_to(CONTENT_DIR))


@pytest.fixture(scope="module")
def library() -> ContentLibrary:
    return load_content()


def _text_at(library: ContentLibrary, path: Path) -> Text:
    problems = [str(p) for p in library.problems if p.path == path]
    text = next((t for t in library.texts if t.path == path), None)
    assert text is not None, f"{_rel(path)} was left out: {problems}"
    return text


# --- every file ---------------------------------------------------------------------------------


def test_content_files_exist():
    assert CONTENT_FILES, f"no content files under {CONTENT_DIR}"


@pytest.mark.parametrize("path", CONTENT_FILES, ids=_rel)
def test_file_loads_without_problems(library, path):
    problems = [p.message for p in library.problems if p.path == path]
    assert not problems, f"{_rel(path)}: " + " | ".join(problems)


@pytest.mark.parametrize("path", CONTENT_FILES, ids=_rel)
def test_file_cites_references(library, path):
    text = _text_at(library, path)
    assert text.references, f"{_rel(path)} cites no references"
    for ref in text.references:
        assert ref.authors and ref.title and ref.source and ref.year, f"{_rel(path)}: incomplete reference {ref}"
        assert ref.format().endswith((".", ")")), ref.format()


@pytest.mark.parametrize("path", CONTENT_FILES, ids=_rel)
def test_file_has_no_raw_html(path):
    raw = path.read_text(encoding="utf-8")
    body = raw.split("\n---", 2)[-1]
    match = HTML_PATTERN.search(body)
    assert match is None, f"{_rel(path)}: raw HTML {match.group(0)!r}"


@pytest.mark.parametrize("path", CONTENT_FILES, ids=_rel)
def test_links_resolve(library, path):
    text = _text_at(library, path)
    for m in LINK_PATTERN.finditer(text.body):
        target = m.group(3)
        if target.startswith("#"):
            assert library.topic(target[1:]) is not None, f"{_rel(path)}: {target} is not a topic id"
        elif target.startswith("?"):
            parsed = parse_query_params(parse_qs(target[1:], keep_blank_values=True))
            assert not parsed.errors, f"{_rel(path)}: {target}: {parsed.errors}"
        else:
            assert target.startswith("https://"), f"{_rel(path)}: link target {target!r} not allowed"
    for topic_id in text.related:
        assert library.topic(topic_id) is not None, f"{_rel(path)}: related {topic_id!r} is not a topic"


# Patient texts that loaded (a file that did not load fails test_file_loads_without_problems).
PATIENT_FILES = sorted(t.path for t in load_content().texts if "patient" in t.audience)


@pytest.mark.parametrize("path", PATIENT_FILES, ids=_rel)
def test_patient_text_reading_grade(library, path):
    text = _text_at(library, path)
    words = text.body
    if text.kind == "glossary":
        words = f"{text.body}\n{glossary_text(library.glossary)}"
    grade = reading_grade(words)
    assert grade <= MAX_PATIENT_GRADE, (
        f"{_rel(path)}: Flesch-Kincaid grade {grade:.1f} > {MAX_PATIENT_GRADE:g}; use shorter sentences and "
        "everyday words")


# --- coverage -----------------------------------------------------------------------------------


@pytest.mark.parametrize("audience", AUDIENCES)
@pytest.mark.parametrize("condition", list(CONDITIONS))
def test_every_condition_has_a_base_text_per_audience(library, condition, audience):
    defaults = CONDITIONS[condition].defaults()
    texts = library.condition_texts(condition, audience, defaults)
    problems = [str(p) for p in library.problems if p.path.parent.name == condition]
    assert texts and not texts[0].params, (
        f"no base {audience} text for {condition} (expected content/conditions/{condition}/{audience}.md); "
        f"problems: {problems or 'none reported, the file is missing'}")


@pytest.mark.parametrize("structure_id", list(STRUCTURES))
def test_every_structure_has_a_text_per_audience(library, structure_id):
    missing = [a for a in AUDIENCES if library.structure_text(structure_id, a) is None]
    assert not missing, f"{structure_id}: no structure text for {', '.join(missing)}"


def test_notices_exist(library):
    emergency = library.notice("emergency-patient")
    assert emergency is not None and "patient" in emergency.audience
    for phrase in ("between your legs", "bladder", "bowel", "both", "emergency"):
        assert phrase in emergency.body, f"emergency notice lacks {phrase!r}"
    for audience in AUDIENCES:
        welcome = library.notice(f"welcome-{audience}")
        assert welcome is not None and audience in welcome.audience, f"no welcome text for {audience}"


def test_glossary_is_sorted_and_every_term_is_used(library):
    terms = library.glossary
    assert len(terms) >= 30
    names = [t.term.casefold() for t in terms]
    assert names == sorted(names)
    corpus = " ".join(plain_text(t.body) for t in library.texts if t.kind != "glossary").casefold()
    unused = [t.term for t in terms
              if not any(re.search(rf"\b{re.escape(word.casefold())}\b", corpus) for word in (t.term, *t.aliases))]
    assert not unused, f"glossary terms no text uses (use them, add an alias, or drop them): {unused}"


# --- the loader on bad files --------------------------------------------------------------------

REF = """references:
  - authors: Bogduk N
    title: Clinical and Radiological Anatomy of the Lumbar Spine
    source: Elsevier
    year: 2012
"""
GOOD_TOPIC = f"""---
id: sciatica
kind: topic
title: Sciatica
audience: [student, patient]
{REF}---

Leg pain along the sciatic nerve.
"""
SECTIONS = ["What this means for you", "What it is", "What is squeezed", "Symptoms", "How it is diagnosed",
            "Treatment", "Outlook", "When to get urgent help", "What you can do", "Questions to ask your doctor"]
SUMMARY_ELSEWHERE = [*SECTIONS[1:3], SECTIONS[0], *SECTIONS[3:]]


# A summary that passes the loader's checks (60-120 words, no clinician detail).
SUMMARY_OK = ("A soft pad in your back has pushed out and presses on a nerve. That is why your leg hurts. "
              "This is common and it usually gets better on its own over weeks to months. Keep moving as "
              "much as you can and take pain medicine as advised. Most people never need an operation. "
              "A few signs mean you should get help at once, and they are listed further down this page. "
              "Ask your doctor or physiotherapist if you are not sure what to do.")


def _section_body(heading: str, default: str = "Some words.") -> str:
    return SUMMARY_OK if heading == SECTIONS[0] else default


def _condition_file(text_id: str = "herniation-patient", extra_meta: str = "", body: str | None = None) -> str:
    if body is None:
        body = "\n\n".join(f"## {s}\n\n{_section_body(s)}" for s in SECTIONS)
    return f"---\nid: {text_id}\nkind: condition\ntitle: A slipped disc\naudience: [patient]\n" \
           f"conditions: [herniation]\n{extra_meta}{REF}---\n\n{body}\n"


def _write(root: Path, rel: str, text: str) -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def _problem(library: ContentLibrary, path: Path) -> str:
    messages = [p.message for p in library.problems if p.path == path]
    assert messages, f"no problem reported for {path.name}; problems: {library.problems}"
    assert all(str(path.name) in str(p) for p in library.problems if p.path == path)
    return " | ".join(messages)


def test_valid_files_load_cleanly(tmp_path):
    _write(tmp_path, "topics/sciatica.md", GOOD_TOPIC)
    _write(tmp_path, "conditions/herniation/patient.md", _condition_file(extra_meta="related: [sciatica]\n"))
    _write(tmp_path, "README.md", "# not a text, and no front matter\n")
    _write(tmp_path, "cases/README.md", "# the case set's own notes, not a text\n")
    _write(tmp_path, "cases/notes.md", "no front matter either\n")
    lib = load_content(tmp_path)
    assert not lib.problems, lib.problems
    assert set(lib.by_id) == {"sciatica", "herniation-patient"}


BAD_FILES = {
    "missing field": ("conditions/herniation/patient.md",
                      _condition_file().replace("title: A slipped disc\n", ""), ["title", "required"]),
    "unknown condition": ("conditions/herniation/patient.md",
                          _condition_file().replace("[herniation]", "[slipped_disc]"),
                          ["slipped_disc", "allowed", "herniation"]),
    "raw html": ("topics/x.md", GOOD_TOPIC.replace("Leg pain", "<b>Leg</b> pain"), ["raw HTML", "<b>"]),
    "html comment": ("topics/x.md", GOOD_TOPIC.replace("Leg pain", "<!-- note --> Leg pain"), ["raw HTML"]),
    "relative link": ("topics/x.md", GOOD_TOPIC.replace("Leg pain", "[see](other.md) Leg pain"),
                      ["other.md", "not allowed", "https://"]),
    "http link": ("topics/x.md", GOOD_TOPIC.replace("Leg pain", "[see](http://example.org) Leg pain"),
                  ["http://example.org", "https://"]),
    "bad app link": ("topics/x.md", GOOD_TOPIC.replace("Leg pain", "[see](?condition=herniation&level=L9-L10) pain"),
                     ["?condition=herniation&level=L9-L10", "L9-L10"]),
    "bad yaml": ("topics/x.md", GOOD_TOPIC.replace("title: Sciatica", "title: [Sciatica"), ["YAML"]),
    "no front matter": ("topics/x.md", "Just words.\n", ["front matter"]),
    "unknown param value": ("conditions/herniation/patient-far.md",
                            _condition_file("herniation-far", "params:\n  zone: [far-lateral]\n"),
                            ["far-lateral", "zone", "foraminal"]),
    "unknown param name": ("conditions/herniation/patient-far.md",
                           _condition_file("herniation-far", "params:\n  grade: ['2']\n"), ["grade", "herniation"]),
    "bad kind": ("topics/x.md", GOOD_TOPIC.replace("kind: topic", "kind: essay"), ["essay", "condition"]),
    "bad audience": ("topics/x.md", GOOD_TOPIC.replace("[student, patient]", "[doctor]"), ["doctor", "student"]),
    "unknown structure": ("structures/disc/patient.md",
                          GOOD_TOPIC.replace("kind: topic", "kind: structure\nstructures: [disc-L9]"),
                          ["disc-L9"]),
    "unknown structure kind": ("structures/disc/patient.md",
                               GOOD_TOPIC.replace("kind: topic", "kind: structure\nstructures: ['kind:bone']"),
                               ["kind:bone", "vertebra"]),
    "missing sections": ("conditions/herniation/patient.md",
                         _condition_file(body="## What it is\n\nWords."), ["## Symptoms", "What you can do"]),
    "sections out of order": ("conditions/herniation/patient.md",
                              _condition_file(body="\n\n".join(f"## {s}\n\n{_section_body(s, 'x')}"
                                                                 for s in reversed(SECTIONS))),
                              ["order"]),
    "patient summary not first": ("conditions/herniation/patient.md",
                                  _condition_file(body="\n\n".join(f"## {s}\n\n{_section_body(s)}"
                                                                     for s in SUMMARY_ELSEWHERE)),
                                  ["What this means for you", "open with"]),
    "words before the patient summary": ("conditions/herniation/patient.md",
                                         _condition_file(body="Hello.\n\n" + "\n\n".join(
                                             f"## {s}\n\n{_section_body(s)}" for s in SECTIONS)),
                                         ["What this means for you", "nothing before it"]),
    "educator app link without audience=educator": (
        "conditions/herniation/educator.md",
        GOOD_TOPIC.replace("id: sciatica", "id: x-educator").replace("[student, patient]", "[educator]").replace(
            "Leg pain", "[Open it](?condition=herniation&level=L4-L5&zone=central&audience=student) Leg pain"),
        ["audience=educator", "?condition=herniation&level=L4-L5&zone=central&audience=student"]),
    "educator app link with no audience at all": (
        "structures/disc/educator.md",
        GOOD_TOPIC.replace("id: sciatica", "id: x-educator").replace("[student, patient]", "[educator]").replace(
            "Leg pain", "[Open it](?condition=stenosis&level=L4-L5) Leg pain"),
        ["audience=educator"]),
    "no references": ("topics/x.md", GOOD_TOPIC.replace(REF, ""), ["references"]),
    "incomplete reference": ("topics/x.md", GOOD_TOPIC.replace("    year: 2012\n", ""), ["year"]),
    "typo field": ("topics/x.md", GOOD_TOPIC.replace("title: Sciatica", "titel: x\ntitle: Sciatica"),
                   ["titel", "allowed"]),
    "quiz for patients": ("topics/x.md", GOOD_TOPIC.replace("[student, patient]", "[patient]").replace(
        "references:", "quiz:\n  - q: Why?\n    a: Because.\nreferences:"), ["quiz", "student"]),
    "bad id": ("topics/x.md", GOOD_TOPIC.replace("id: sciatica", "id: Sciatica Topic"), ["Sciatica Topic"]),
    "image": ("topics/x.md", GOOD_TOPIC.replace("Leg pain", "![x](https://example.org/a.png) Leg pain"), ["image"]),
}


@pytest.mark.parametrize("case", list(BAD_FILES))
def test_bad_file_is_reported_and_left_out(tmp_path, case):
    rel, text, words = BAD_FILES[case]
    path = _write(tmp_path, rel, text)
    lib = load_content(tmp_path)  # must not raise
    message = _problem(lib, path)
    for word in words:
        assert word in message, f"{case}: {word!r} not in {message!r}"
    assert all(t.path != path for t in lib.texts)


def test_bad_glossary_is_reported(tmp_path):
    path = _write(tmp_path, "glossary.md", f"""---
id: glossary
kind: glossary
title: Glossary
audience: [patient]
terms:
  - term: Disc
    definition: A pad.
    see_also: [Vertebra]
{REF}---
""")
    lib = load_content(tmp_path)
    assert "Vertebra" in _problem(lib, path)
    assert lib.glossary == ()


def test_duplicate_ids_are_reported(tmp_path):
    _write(tmp_path, "topics/a.md", GOOD_TOPIC)
    second = _write(tmp_path, "topics/b.md", GOOD_TOPIC)
    lib = load_content(tmp_path)
    message = _problem(lib, second)
    assert "sciatica" in message and "topics/a.md" in message
    assert lib.by_id["sciatica"].path.name == "a.md"


def test_two_base_texts_are_reported(tmp_path):
    _write(tmp_path, "conditions/herniation/patient.md", _condition_file())
    second = _write(tmp_path, "conditions/herniation/patient2.md", _condition_file("herniation-patient-2"))
    lib = load_content(tmp_path)
    assert "base text" in _problem(lib, second)


def test_broken_cross_references_are_reported_but_the_text_is_kept(tmp_path):
    path = _write(tmp_path, "conditions/herniation/patient.md", _condition_file(
        extra_meta="related: [facet-disease]\n",
        body="\n\n".join(f"## {s}\n\n{_section_body(s, '')}See [this](#no-such-topic)." for s in SECTIONS)))
    lib = load_content(tmp_path)
    message = _problem(lib, path)
    assert "facet-disease" in message and "#no-such-topic" in message
    assert lib.by_id["herniation-patient"].related == ()


def test_missing_folder_is_a_problem_not_an_exception(tmp_path):
    lib = load_content(tmp_path / "nowhere")
    assert lib.by_id == {} and lib.problems


def test_less_than_sign_in_text_is_allowed(tmp_path):
    _write(tmp_path, "topics/x.md", GOOD_TOPIC.replace("Leg pain", "A slip of < 25% (or <25%) is grade 1. Leg pain"))
    assert not load_content(tmp_path).problems


# --- lookups ------------------------------------------------------------------------------------


@pytest.fixture
def small_library(tmp_path) -> ContentLibrary:
    _write(tmp_path, "topics/sciatica.md", GOOD_TOPIC)
    _write(tmp_path, "conditions/herniation/patient.md", _condition_file())
    _write(tmp_path, "conditions/herniation/patient-foraminal.md",
           _condition_file("herniation-patient-foraminal", "params:\n  zone: [foraminal, extraforaminal]\n"))
    _write(tmp_path, "conditions/herniation/patient-l5s1-left.md",
           _condition_file("herniation-patient-l5s1-left", "params:\n  level: [L5-S1]\n  side: [left]\n"))
    structure = GOOD_TOPIC.replace("kind: topic", "kind: structure\nstructures: ['kind:root']").replace(
        "id: sciatica", "id: roots")
    _write(tmp_path, "structures/root/patient.md", structure)
    _write(tmp_path, "structures/root/patient-l5.md",
           structure.replace("'kind:root'", "root-L5-left").replace("id: roots", "id: root-l5"))
    lib = load_content(tmp_path)
    assert not lib.problems, lib.problems
    return lib


def _ids(texts: list[Text]) -> list[str]:
    return [t.id for t in texts]


def test_condition_texts_base_first_then_matching_extras(small_library):
    lib = small_library
    para = {"level": "L4-L5", "zone": "paracentral", "side": "left", "severity": "moderate"}
    assert _ids(lib.condition_texts("herniation", "patient", para)) == ["herniation-patient"]
    foraminal = {**para, "zone": "foraminal"}
    assert _ids(lib.condition_texts("herniation", "patient", foraminal)) == [
        "herniation-patient", "herniation-patient-foraminal"]
    both = {**foraminal, "level": "L5-S1"}
    assert _ids(lib.condition_texts("herniation", "patient", both)) == [
        "herniation-patient", "herniation-patient-foraminal", "herniation-patient-l5s1-left"]
    # Every listed parameter must match; a parameter that does not apply (side, central) never does.
    assert _ids(lib.condition_texts("herniation", "patient", {**both, "side": "right"}))[-1] != \
        "herniation-patient-l5s1-left"
    central = {"level": "L5-S1", "zone": "central", "severity": "moderate"}
    assert _ids(lib.condition_texts("herniation", "patient", central)) == ["herniation-patient"]
    assert lib.condition_texts("herniation", "student", para) == []
    assert lib.condition_texts("stenosis", "patient", para) == []


def test_structure_text_exact_id_beats_kind(small_library):
    lib = small_library
    assert lib.structure_text("root-L5-left", "patient").id == "root-l5"
    assert lib.structure_text("root-L5-right", "patient").id == "roots"
    assert lib.structure_text("root-L5-left", "educator") is None
    assert lib.structure_text("disc-L4-L5", "patient") is None
    assert lib.structure_text("no-such-structure", "patient") is None


def test_topic_and_notice_lookups(small_library):
    assert small_library.topic("sciatica").title == "Sciatica"
    assert small_library.topic("herniation-patient") is None
    assert small_library.notice("sciatica") is None
    assert small_library.topic("missing") is None


def test_sections_split_at_level_two_headings(small_library):
    text = small_library.by_id["herniation-patient"]
    assert [h for h, _ in text.sections] == SECTIONS


# --- readability helper -------------------------------------------------------------------------


def test_plain_text_strips_markdown():
    md = "## What it is\n\nA **disc** is [soft](#x) and _round_.\n\n- first item\n- second item\n"
    assert plain_text(md).split("\n") == ["What it is.", "A disc is soft and round.", "first item.", "second item."]


def test_reading_grade_orders_simple_and_hard_text():
    simple = "The disc is a soft pad. It sits between two bones. It helps you bend."
    hard = ("Intervertebral disc herniation with consequent radiculopathy necessitates comprehensive "
            "neurological evaluation, including myotomal, dermatomal and reflex examination.")
    assert reading_grade(simple) < 4 < MAX_PATIENT_GRADE < reading_grade(hard)


# --- the reading panel (no 3D model needed) -----------------------------------------------------


def _panel_script(audience: str, condition: str, params: dict[str, str]) -> None:
    from explorer.state import ExplorerState
    from explorer.ui.reading import get_library, glossary_panel, reading_panel

    state = ExplorerState(audience=audience, condition=condition, params=tuple(params.items()))
    reading_panel(get_library(), state)
    glossary_panel(get_library())


@pytest.mark.parametrize("audience", AUDIENCES)
@pytest.mark.parametrize("condition", ["none", *CONDITIONS])
def test_reading_panel_renders_for_every_condition_and_audience(audience, condition):
    from streamlit.testing.v1 import AppTest

    params = CONDITIONS[condition].applicable(CONDITIONS[condition].defaults()) if condition in CONDITIONS else {}
    at = AppTest.from_function(_panel_script, args=(audience, condition, params), default_timeout=30)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    shown = " ".join(str(m.value) for m in [*at.markdown, *at.caption, *at.info, *at.subheader])
    assert "for learning" in shown  # the disclaimer
    if audience == "patient":
        # Patients read patient texts only: no student part of a shared topic (issue 11).
        assert "Radiculopathy means" not in shown and "For students" not in shown
    if condition == "none":
        assert at.subheader, "the welcome text has a heading"


def _notice_script() -> None:
    from explorer.ui.reading import emergency_notice, get_library

    emergency_notice(get_library())


def test_emergency_notice_renders_the_red_flags():
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_function(_notice_script, default_timeout=30)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    boxes = " ".join(str(b.value) for b in [*at.error, *at.warning]).lower()
    for phrase in ("emergency", "between your legs", "bladder", "both"):
        assert phrase in boxes, phrase


def test_structure_explanation_never_raises(library):
    from explorer.ui.reading import structure_explanation

    text = structure_explanation(library, "root-L5-left", "student")
    assert "traversing" in text and "Sources:" in text
    assert "not available" in structure_explanation(load_content(Path("/nonexistent")), "root-L5-left", "patient")
    assert "no structure" in structure_explanation(library, "root-L9", "patient")


def test_unavailable_message_names_audience_condition_and_reason(tmp_path):
    from explorer.ui.reading import unavailable_message

    _write(tmp_path, "conditions/stenosis/patient.md", _condition_file().replace("[herniation]", "[stenosis]")
           .replace("title: A slipped disc\n", ""))
    lib = load_content(tmp_path)
    message = unavailable_message(lib, "stenosis", "patient")
    assert message.startswith("The patient text for Spinal stenosis is unavailable (")
    assert "title" in message
    assert "not been written" in unavailable_message(lib, "piriformis", "student")


# --- the patient summary shown beside the 3D picture (issue 11) ------------------------------------

PATIENT_BASE_TEXTS = sorted((t for t in load_content().texts
                             if t.kind == "condition" and not t.params and "patient" in t.audience),
                            key=lambda t: t.id)


@pytest.mark.parametrize("text", PATIENT_BASE_TEXTS, ids=lambda t: t.id)
def test_patient_text_opens_with_a_short_calm_summary(library, text):
    assert text.sections[0][0] == SUMMARY_SECTION, f"{text.id} must open with '## {SUMMARY_SECTION}'"
    summary = text.summary
    assert summary and not summary_problems(summary), summary_problems(summary or "")
    low, high = SUMMARY_WORDS
    assert low <= len(plain_text(summary).split()) <= high
    assert reading_grade(summary) <= MAX_PATIENT_GRADE
    # The page shows the summary beside the picture and the rest below: nothing lost, nothing twice.
    assert SUMMARY_SECTION not in text.body_after_summary
    assert [h for h, _ in split_sections(text.body_after_summary)] == [h for h, _ in text.sections[1:]]
    condition = text.conditions[0]
    assert library.summary(condition) == summary


@pytest.mark.parametrize("condition", ["stenosis", "spondylolisthesis"])
def test_chronic_bilateral_summaries_reassure_then_say_what_would_be_an_emergency(library, condition):
    # Symptoms in both legs on walking are the usual picture of a slow narrowing (neurogenic
    # claudication), not a red flag; the emergency is new saddle numbness, new bladder or bowel
    # trouble, or fast-worsening weakness (NICE NG59; GIRFT 2023 CES pathway).
    summary = " ".join(library.summary(condition).casefold().split())
    assert "both" in summary and "not an emergency" in summary or "emergency only" in summary
    for sign in ("between your legs", "bladder", "bowel", "weak"):
        assert sign in summary, f"{condition} summary does not name {sign!r} as what would make it an emergency"
    calm, alarm = summary.find("common") if "common" in summary else summary.find("usual"), summary.find("emergency")
    assert 0 <= calm < alarm, "reassurance must come before the warning"


SHORT_SUMMARY = "## What this means for you\n\nIt is a disc. It hurts."
JARGON_SUMMARY = SUMMARY_OK + " The slip is grade 2, about 30%, and the canal is 9 mm wide; the tibialis is weak."


def test_summary_problems_name_what_is_wrong():
    assert summary_problems(SUMMARY_OK) == []
    short = " ".join(summary_problems("It is a disc. It hurts."))
    assert "words" in short and "60-120" in short
    jargon = " ".join(summary_problems(JARGON_SUMMARY))
    for word in ("grade", "30%", "9 mm", "tibialis"):
        assert word in jargon, (word, jargon)


def test_a_bad_summary_is_reported_but_the_text_is_kept(tmp_path):
    body = "\n\n".join(f"## {s}\n\n{'It is a disc. It hurts.' if s == SECTIONS[0] else 'x'}" for s in SECTIONS)
    path = _write(tmp_path, "conditions/herniation/patient.md", _condition_file(body=body))
    lib = load_content(tmp_path)
    assert "60-120" in _problem(lib, path)
    assert lib.by_id["herniation-patient"].summary == "It is a disc. It hurts."
    assert lib.summary("herniation") == "It is a disc. It hurts."
    assert lib.summary("stenosis") is None


# --- topics as each audience reads them (issue 11: patients get patient texts) --------------------


def test_topic_for_an_audience_drops_the_sections_meant_for_others(tmp_path):
    topic = GOOD_TOPIC.replace("Leg pain along the sciatic nerve.",
                               "## What it is\n\nLeg pain.\n\n## For students\n\nRadiculopathy is loss of function.\n")
    _write(tmp_path, "topics/sciatica.md", topic)
    lib = load_content(tmp_path)
    assert not lib.problems, lib.problems
    full = lib.topic("sciatica")
    assert "Radiculopathy" in full.body
    patient = lib.topic("sciatica", "patient")
    assert "Radiculopathy" not in patient.body and "For students" not in patient.body
    assert "Leg pain." in patient.body
    assert "Radiculopathy" in lib.topic("sciatica", "student").body
    assert lib.topic("sciatica", "educator") is None  # not written for educators
    assert lib.topic("herniation-patient", "patient") is None


def test_related_topics_come_once_each_as_the_audience_reads_them(library):
    texts = library.condition_texts("herniation", "patient", CONDITIONS["herniation"].defaults())
    topics = library.related_topics(texts, "patient")
    assert topics and len({t.id for t in topics}) == len(topics)
    for topic in topics:
        assert "patient" in topic.audience
        assert all(h.casefold() != "for students" for h, _ in topic.sections), topic.id


PATIENT_TOPICS = sorted(t.id for t in load_content().texts if t.kind == "topic" and "patient" in t.audience)


@pytest.mark.parametrize("topic_id", PATIENT_TOPICS)
def test_patient_view_of_each_topic_is_plain(library, topic_id):
    topic = library.topic(topic_id, "patient")
    assert reading_grade(topic.body) <= MAX_PATIENT_GRADE
    assert not any(h.casefold().startswith("for student") for h, _ in topic.sections)


# --- educator links (issue 11: keep the educator view) ------------------------------------------


EDUCATOR_TEXTS = sorted((t for t in load_content().texts if t.audience == ("educator",)), key=lambda t: t.id)


@pytest.mark.parametrize("text", EDUCATOR_TEXTS, ids=lambda t: t.id)
def test_educator_app_links_keep_the_educator_view(text):
    for m in LINK_PATTERN.finditer(text.body):
        target = m.group(3)
        if target.startswith("?"):
            query = parse_qs(target[1:], keep_blank_values=True)
            assert query.get("audience") == ["educator"], f"{text.id}: {target}"


# --- statements a clinician would dispute (issue 10, point 5) --------------------------------------
# Each pattern is a claim the texts used to make; the reference that contradicts it is named.

DISPUTED = {
    # Wall 1990 (Spine 15:1244): the root about to exit lies anterolaterally, nearest the disc.
    r"S1 to S5,? (?:but )?not L5|squeezes the S1 to S5 roots": "a central L4-L5 disc squeezes the L5 roots too",
    # GIRFT 2023 CES pathway; BASS/SBNS standards: decompression as soon as possible, day or night.
    r"aim is to operate within 48|ideally within 48 hours": "CES surgery: as soon as possible, not 'within 48 h'",
    r"same-day assessment|checked today|(?:MRI|care|department)[^.]{0,40}the same day":
        "suspected CES is an immediate emergency referral",
    # Fardon 2014: a bulge is not a herniation.
    r"mild\W+(?:is|=)\W+(?:a )?bulge|\(bulge / protrusion\)|bulge, protrusion, extrusion, sequestration\) map":
        "a bulge is not a herniation",
    # Peripheral arterial disease can coexist with stenosis.
    r"foot pulses are normal": "pulses are usually, not always, normal in neurogenic claudication",
    # NICE NG59 / CKS red flags: urgent, not 'soon'.
    r"see a doctor soon if you have a fever": "fever or past cancer with back pain needs urgent assessment",
}


@pytest.mark.parametrize("pattern", list(DISPUTED), ids=list(DISPUTED.values()))
def test_no_text_makes_a_disputed_claim(library, pattern):
    hits = [t.id for t in library.texts
            if re.search(pattern, " ".join(plain_text(t.body).split()) + " " + " ".join(q.a for q in t.quiz),
                         re.IGNORECASE)]
    assert not hits, f"{DISPUTED[pattern]}: {hits}"


def test_gabapentinoid_advice_says_do_not_stop_suddenly(library):
    # NICE CG173 (taper when withdrawing); MHRA Drug Safety Update 2019 on gabapentinoids.
    for text in library.texts:
        words = plain_text(text.body)
        if re.search(r"gabapentin|pregabalin|gabapentinoid", words, re.IGNORECASE):
            assert re.search(r"stop\w* (it |one of these medicines |them )?suddenly|abrupt|taper|cut down slowly",
                             words, re.IGNORECASE), f"{text.id} mentions gabapentinoids without 'do not stop suddenly'"


@pytest.mark.parametrize("text", [t for t in PATIENT_BASE_TEXTS if t.conditions != ("cauda_equina",)],
                         ids=lambda t: t.id)
def test_patient_texts_list_the_serious_pathology_red_flags(text):
    # NICE NG59 and CKS; Finucane 2020: cancer, infection and fracture flags need urgent assessment.
    # (The cauda equina text is itself the emergency page: its flags are the CES ones.)
    words = plain_text(text.body).casefold()
    for flag in ("fever", "cancer", "weight", "steroid", "hiv", "inject", "fall", "night", "urgent"):
        assert flag in words, f"{text.id} lacks the red flag {flag!r}"


@pytest.mark.parametrize("text_id", ["cauda-equina-student", "cauda-equina-educator", "herniation-student",
                                     "herniation-educator"])
def test_central_disc_texts_teach_that_the_traversing_roots_are_hit(library, text_id):
    # Wall 1990 (Spine 15:1244): inside the sac the root about to exit at the next foramen lies in
    # front and to the side, nearest the disc, so a central L4-L5 disc catches L5 as well as S1-S5.
    text = library.by_id[text_id]
    assert any("Wall" in r.authors and r.year == "1990" for r in text.references), text_id
    words = " ".join(plain_text(text.body).split())
    assert re.search(r"traversing L5|L5 roots", words), text_id


@pytest.mark.parametrize("text_id", ["cauda-equina-student", "cauda-equina-educator", "cauda-equina-patient"])
def test_cauda_equina_texts_ask_for_surgery_as_soon_as_possible_day_or_night(library, text_id):
    # GIRFT 2023 national suspected CES pathway; SBNS/BASS 2018 standards.
    text = library.by_id[text_id]
    words = " ".join(plain_text(text.body).split()).casefold()
    assert "as soon as possible" in words and ("day or night" in words or "by day or by night" in words)
    assert any("GIRFT" in r.authors for r in text.references)


# --- hostile files (issue 14): the loader never raises, and stays fast and small ---------------
# Each of these raised, hung or exhausted memory before the loader was hardened.


def test_integer_key_in_a_reference_is_reported(tmp_path):
    path = _write(tmp_path, "topics/x.md", GOOD_TOPIC.replace("    year: 2012\n", "    year: 2012\n    1: one\n"))
    lib = load_content(tmp_path)  # raised TypeError (sorting 1 with str keys)
    message = _problem(lib, path)
    assert "reference 1 has unknown field(s) 1" in message
    assert lib.by_id == {}


def test_integer_key_in_a_glossary_term_is_reported(tmp_path):
    path = _write(tmp_path, "glossary.md", f"""---
id: glossary
kind: glossary
title: Glossary
audience: [patient]
terms:
  - term: Disc
    definition: A pad.
    2: two
{REF}---
""")
    lib = load_content(tmp_path)
    assert "glossary term 'Disc' has unknown field(s) 2" in _problem(lib, path)
    assert lib.glossary == ()


def _alias_bomb(levels: int = 9, width: int = 9) -> str:
    """A title whose aliases expand to width**levels strings (9**9: about 390 million)."""
    rows = [f"  - &a0 [{', '.join(['lol'] * width)}]"]
    rows += [f"  - &a{i} [{', '.join([f'*a{i - 1}'] * width)}]" for i in range(1, levels)]
    return "title:\n" + "\n".join(rows) + "\n"


def test_yaml_alias_bomb_is_refused_at_once(tmp_path):
    path = _write(tmp_path, "topics/x.md", GOOD_TOPIC.replace("title: Sciatica\n", _alias_bomb()))
    started = time.perf_counter()
    lib = load_content(tmp_path)  # ran for minutes and ran out of memory turning the title into text
    assert time.perf_counter() - started < 2.0
    assert "anchors and aliases" in _problem(lib, path)


def test_even_one_alias_is_refused(tmp_path):
    path = _write(tmp_path, "topics/x.md", GOOD_TOPIC.replace("title: Sciatica", "title: &t Sciatica").replace(
        "title: Clinical and Radiological Anatomy of the Lumbar Spine", "title: *t"))
    assert "anchors and aliases" in _problem(load_content(tmp_path), path)


def test_deeply_nested_front_matter_is_refused(tmp_path):
    path = _write(tmp_path, "topics/x.md", GOOD_TOPIC.replace("title: Sciatica", "title: " + "[" * 600 + "]" * 600))
    lib = load_content(tmp_path)  # raised RecursionError inside PyYAML
    assert "nested more than" in _problem(lib, path)


def test_title_must_be_text(tmp_path):
    path = _write(tmp_path, "topics/x.md", GOOD_TOPIC.replace("title: Sciatica", "title: [Sciatica, Pain]"))
    assert "title must be plain text" in _problem(load_content(tmp_path), path)


def test_file_over_the_size_limit_is_reported_without_reading_it_all(tmp_path):
    path = _write(tmp_path, "topics/x.md", GOOD_TOPIC + "Leg pain. " * 30_000)  # about 300 KB
    lib = load_content(tmp_path)
    assert "over 256 KB" in _problem(lib, path)
    assert lib.by_id == {}


def test_file_just_under_the_size_limit_loads(tmp_path):
    filler = "Leg pain. " * ((250 * 1024 - len(GOOD_TOPIC)) // 10)
    _write(tmp_path, "topics/x.md", GOOD_TOPIC + filler)
    lib = load_content(tmp_path)
    assert not lib.problems and "sciatica" in lib.by_id


# Bodies that made a pattern backtrack: "[" (links), "[a](" (link targets), spaces after a
# heading (the section pattern was cubic: 800 spaces took 0.5 s), ":a[" (colour directives), and a
# run of digits in a patient summary (the jargon pattern). Sizes are those at which the old
# patterns took 10 s or more here; the hardened ones take milliseconds.
HOSTILE_BODIES = {
    "open brackets": "[" * 40_000,
    "unclosed links": "[a](" * 10_000,
    "spaces in a link": "[a](" + " " * 40_000,
    "spaces after a heading": "## a" + " " * 2_500 + "b",
    "colour directives": ":a[" * 13_000,
    "digits in a summary": "## What this means for you\n\n" + "1" * 100_000,
}


@pytest.mark.parametrize("case", list(HOSTILE_BODIES))
def test_hostile_markdown_is_checked_in_linear_time(tmp_path, case):
    body = HOSTILE_BODIES[case]
    _write(tmp_path, "conditions/herniation/patient.md", _condition_file(body=body))
    _write(tmp_path, "topics/x.md", GOOD_TOPIC.replace("Leg pain along the sciatic nerve.", body))
    started = time.perf_counter()
    lib = load_content(tmp_path)
    for text in lib.texts:
        plain_text(text.body), text.sections, text.linked_ids, text.body_after_summary
    summary_problems(body)
    elapsed = time.perf_counter() - started
    assert elapsed < 2.0, f"{case}: {elapsed:.1f} s"
    assert "sciatica" in lib.by_id  # none of these bodies is invalid Markdown for a topic


def test_hardened_patterns_read_ordinary_markdown_as_before():
    body = ("## What it is ##\n\nSee [the nerve](#sciatica) and [a paper](https://example.org/a \"Title\").\n"
            "![x](https://e.org/p.png) and [app](?condition=herniation). A [b] c. :red[alert] 12.5 mm, 40%.\n"
            "## Symptoms   \n\nWords.\n")
    assert [(b, w, t) for b, w, t in (m.groups() for m in LINK_PATTERN.finditer(body))] == [
        ("", "the nerve", "#sciatica"), ("", "a paper", "https://example.org/a"),
        ("!", "x", "https://e.org/p.png"), ("", "app", "?condition=herniation")]
    assert [h for h, _ in split_sections(body)] == ["What it is", "Symptoms"]
    assert "alert" in plain_text(body) and ":red[" not in plain_text(body)
    assert any("12.5 mm" in p and "40%" in p for p in summary_problems(body))


FUZZ_SNIPPETS = ["[", "]", "](", "![x](", "[a](#", "&a ", "*a", "&a [1, 2]\n", "{1: 2}", "\n  - 1: x\n", "\n    3: y",
                 "<b>", "```", "\n## ", ":red[", "1" * 60, "\x00", "\ufeff", "\n---\n", "?condition=", "\t", "'", '"',
                 " " * 200, "\\", "%", "!!python/object/apply:os.system ['true']", "!!binary AAAA", "[" * 300,
                 "\n" + "  " * 50 + "x: y", "- " * 40, "~", "null", "@", "|\n", ">\n", "<<: {a: 1}\n", "é", "\r\n"]


def test_fuzzed_files_never_raise_and_every_problem_names_its_file(tmp_path):
    """A bounded fuzz (300 cases; raise FUZZ_CASES for a longer run): a valid file with random hostile
    snippets inserted, spans cut or repeated. The loader never raises, stays fast, and every
    problem names the file with a message of bounded length."""
    rng = random.Random(2019)
    seeds = [GOOD_TOPIC, _condition_file()]
    cases = int(os.environ.get("FUZZ_CASES", "300"))
    started = time.perf_counter()
    for case in range(cases):
        text = rng.choice(seeds)
        for _ in range(rng.randint(1, 5)):
            at = rng.randrange(len(text) + 1)
            how = rng.randrange(3)
            if how == 0:
                text = text[:at] + rng.choice(FUZZ_SNIPPETS) + text[at:]
            elif how == 1:
                text = text[:at] + text[at + rng.randint(1, 40):]
            else:
                text = text[:at] + text[at:at + rng.randint(1, 40)] * rng.randint(2, 50) + text[at:]
        root = tmp_path / f"case{case}"
        path = root / "topics" / "x.md"
        path.parent.mkdir(parents=True)
        path.write_text(text, encoding="utf-8", errors="surrogatepass")
        lib = load_content(root)  # must not raise
        for problem in lib.problems:
            assert problem.path == path and "x.md" in str(problem), (case, problem)
            assert len(problem.message) < 2000, (case, problem.message[:200])
        assert len(lib.texts) + bool(lib.problems) >= 1, case  # loaded, or said why not
    assert time.perf_counter() - started < cases * 0.1

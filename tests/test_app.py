"""The Streamlit app runs without exceptions and its widgets drive the state and the URL."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest
from support import open_folds

APP = str(Path(__file__).resolve().parent.parent / "explorer" / "app.py")
TIMEOUT_S = 120


def _run(query: dict[str, str] | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT_S)
    for key, value in (query or {}).items():
        at.query_params[key] = value
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _unescape(markdown_text: str) -> str:
    """Markdown as a reader sees it: backslash escapes removed (messages quoting a link are escaped)."""
    return re.sub(r"\\(.)", r"\1", markdown_text)


def _warnings(at: AppTest) -> list[str]:
    return [_unescape(str(w.value)) for w in at.warning]


def _text(at: AppTest) -> str:
    return " ".join(str(m.value) for m in list(at.markdown) + list(at.caption) + list(at.warning) + list(at.info))


def test_app_starts_with_every_layer_on():
    at = _run()
    for layer in ("bones", "pelvis", "discs", "nerves", "muscles"):
        assert at.checkbox(key=f"layer_{layer}").value is True
    assert "Lumbar Explorer" in at.title[0].value
    assert "Nerve roots L1 to S3" in _text(at)
    assert "For education only" in _text(at)


def _only_the_3d_view_reran(at: AppTest) -> bool:
    """After a change that reruns only the 3D view's fragment, AppTest holds only what that run sent:
    the view's text description, not the title, the sidebar or the texts."""
    return not at.title and not at.sidebar.children and any("text description" in e.label for e in at.expander)


def test_layer_checkbox_hides_a_layer_and_updates_url_and_text():
    at = _run()
    at.checkbox(key="layer_bones").uncheck().run()
    assert not at.exception
    assert _only_the_3d_view_reran(at)
    assert at.query_params["layers"] == "pelvis,discs,nerves,muscles"
    assert "Vertebrae L1 to L5" not in _text(at)
    assert "hip bones" in _text(at)
    at.run()  # the whole page again (AppTest keeps no elements from earlier runs)
    at.checkbox(key="layer_pelvis").uncheck().run()
    assert "hip bones" not in _text(at)
    at.run()
    at.checkbox(key="layer_nerves").uncheck().run()
    assert "Nerve roots" not in _text(at)
    at.run()
    assert at.checkbox(key="layer_nerves").value is False and "Nerve roots" not in _text(at)


def test_view_and_opacity_widgets_update_url():
    at = _run()
    at.radio(key="view").set_value("posterior").run()
    assert _only_the_3d_view_reran(at)
    at.run()
    at.select_slider(key="bone_opacity").set_value(0.3).run()
    assert not at.exception
    assert _only_the_3d_view_reran(at)
    assert at.query_params["view"] == "posterior"
    assert at.query_params["bone_opacity"] == "0.3"
    assert "from behind" in _text(at)


def test_a_condition_change_reruns_the_whole_page():
    at = _run()
    at.selectbox(key="condition").set_value("stenosis").run()
    assert at.title and at.sidebar.children, "the title and the sidebar are drawn again"
    assert "What is squeezed" in " ".join(s.value for s in at.subheader)


def test_a_root_picked_beside_the_chart_reruns_the_view_chart_and_selection_only():
    at = _run({"condition": "herniation"})
    at.selectbox(key="root_choice").set_value("L5 left").run()
    assert not at.exception
    assert not at.title, "the texts were not sent again"
    assert "Selected structure" in " ".join(s.value for s in at.subheader)
    assert at.selectbox(key="root_choice").value == "L5 left"
    assert at.query_params["selected"] == "root-L5-left"


def test_shared_link_opens_in_that_state():
    at = _run({"view": "lateral", "layers": "bones,nerves", "selected": "root-L5-left"})
    assert at.radio(key="view").value == "lateral"
    assert at.checkbox(key="layer_discs").value is False
    assert "L5 nerve root (left)" in _text(at)


RECONNECT_LINK = {"condition": "herniation", "level": "L4-L5", "zone": "paracentral", "side": "left",
                  "severity": "moderate", "view": "posterior", "bone_opacity": "0.6"}


@pytest.mark.parametrize("change,param,wanted", [
    (lambda at: at.radio(key="param_side").set_value("right"), "side", "right"),
    (lambda at: at.radio(key="param_zone").set_value("foraminal"), "zone", "foraminal"),
    (lambda at: at.selectbox(key="param_level").set_value("L3-L4"), "level", "L3-L4"),
    (lambda at: at.selectbox(key="condition").set_value("stenosis"), "condition", "stenosis"),
    (lambda at: at.radio(key="view").set_value("lateral"), "view", "lateral"),
    (lambda at: at.radio(key="audience").set_value("patient"), "audience", "patient"),
    (lambda at: at.checkbox(key="layer_bones").uncheck(), "layers", "pelvis,discs,nerves,muscles"),
    (lambda at: at.toggle(key="labels").set_value(False), "labels", "0"),
    (lambda at: at.select_slider(key="bone_opacity").set_value(0.3), "bone_opacity", "0.3"),
], ids=["side", "zone", "level", "condition", "view", "audience", "layer", "labels", "opacity"])
def test_a_reconnected_browsers_change_wins_over_the_link(change, param, wanted):
    """Issue 14: after its replica dies, the browser reconnects to another one, and its next change
    starts the new session's first run, sending every widget's value; the URL still holds the state
    from before the change. Seeding the widgets from the URL by writing st.session_state lost that
    change. AppTest reproduces it: the widget values of one session are sent with the first run of
    a new session (AppTest._run with a widget state is what AppTest.run does with its own tree)."""
    first = _run(RECONNECT_LINK)
    link = dict(first.query_params)
    change(first)
    # What the browser holds: the change and every other widget. AppTest has no public way to send
    # one session's widget values with another session's first run.
    sent = first._tree.get_widget_states()  # noqa: SLF001

    again = AppTest.from_file(APP, default_timeout=TIMEOUT_S)
    for key, value in link.items():
        again.query_params[key] = value
    again._run(sent)  # noqa: SLF001
    assert not again.exception, [e.value for e in again.exception]
    assert dict(again.query_params).get(param) == wanted, dict(again.query_params)
    # Everything else the page showed stays (the browser's values, which equal the link's).
    for key, value in link.items():
        if key != param and not (param == "condition" and key in ("zone", "side", "severity")):
            assert again.query_params[key] == value, (key, dict(again.query_params))
    assert again.radio(key="view").value == ("lateral" if param == "view" else "posterior")


def test_a_reconnected_browsers_section_change_wins_over_the_link():
    """The same as above for the MRI-like section control below the sidebar's widgets."""
    first = _run({"condition": "stenosis"})
    link = dict(first.query_params)
    first.radio(key="section").set_value("axial")
    sent = first._tree.get_widget_states()  # noqa: SLF001 - see test_a_reconnected_browsers_change_wins_over_the_link
    again = AppTest.from_file(APP, default_timeout=TIMEOUT_S)
    for key, value in link.items():
        again.query_params[key] = value
    again._run(sent)  # noqa: SLF001
    assert not again.exception, [e.value for e in again.exception]
    assert dict(again.query_params).get("section") == "axial", dict(again.query_params)


def test_a_fresh_page_opens_the_links_values_in_every_widget():
    """The link is the widgets' starting state (their defaults, since a fresh page sends no values)."""
    at = _run({**RECONNECT_LINK, "audience": "educator", "mode": "condition", "layers": "bones,nerves",
               "labels": "0", "dim": "1"})
    assert at.radio(key="audience").value == "educator"
    assert at.selectbox(key="condition").value == "herniation"
    assert at.radio(key="param_side").value == "left" and at.selectbox(key="param_level").value == "L4-L5"
    assert at.radio(key="view").value == "posterior"
    assert at.select_slider(key="bone_opacity").value == 0.6
    assert at.checkbox(key="layer_discs").value is False and at.checkbox(key="layer_nerves").value is True
    assert at.toggle(key="labels").value is False and at.checkbox(key="dim_others").value is True
    assert at.query_params["layers"] == "bones,nerves" and at.query_params["dim"] == "1"


def test_parameters_survive_a_visit_to_the_symptoms_mode():
    """A parameter widget that is not drawn (symptoms mode) comes back with what the page showed."""
    at = _run({"condition": "herniation", "level": "L2-L3", "zone": "foraminal", "side": "right"})
    at.radio(key="mode").set_value("symptoms").run()
    assert not at.exception
    at.radio(key="mode").set_value("condition").run()
    assert not at.exception
    assert at.selectbox(key="param_level").value == "L2-L3" and at.radio(key="param_side").value == "right"
    assert at.query_params["zone"] == "foraminal"


@pytest.mark.parametrize("query,bad", [({"view": "upside-down"}, "upside-down"),
                                        ({"bone_opacity": "7"}, "7"),
                                        ({"selected": "<script>"}, "<script>")])
def test_bad_link_shows_message_and_defaults(query, bad):
    at = _run(query)
    assert any(bad in w for w in _warnings(at))
    assert at.radio(key="view").value == "oblique"


def test_condition_shows_what_is_squeezed_and_why():
    at = _run()
    at.selectbox(key="condition").set_value("herniation").run()
    assert not at.exception
    text = _text(at)
    assert "L5 nerve root (left)" in text and "traversing" in text
    assert at.query_params["condition"] == "herniation"
    assert at.query_params["zone"] == "paracentral"
    at.radio(key="param_zone").set_value("foraminal").run()
    text = _text(at)
    assert "L4 nerve root (left)" in text and "exiting" in text


def test_shared_condition_link_and_red_flags():
    at = _run({"condition": "cauda_equina", "level": "L5-S1"})
    assert at.selectbox(key="param_level").value == "L5-S1"
    assert any("saddle" in e.value.lower() for e in at.error)


@pytest.mark.parametrize("query,bad", [({"condition": "flu"}, "flu"),
                                        ({"condition": "herniation", "zone": "sideways"}, "sideways")])
def test_bad_condition_link_falls_back(query, bad):
    at = _run(query)
    assert any(bad in w for w in _warnings(at))


@pytest.mark.parametrize("condition", ["herniation", "stenosis", "spondylolisthesis", "piriformis", "cauda_equina"])
def test_every_condition_renders_without_exception(condition):
    at = _run({"condition": condition})
    assert "What is squeezed" in " ".join(s.value for s in at.subheader)
    assert at.query_params["condition"] == condition


def test_symptoms_mode_ranks_roots_and_opens_a_cause():
    at = _run({"mode": "symptoms"})
    text = _text(at)
    assert "not a diagnosis" in text and "emergency" in text.lower()
    at.button(key="example_L5_left").click().run()
    assert not at.exception
    assert at.multiselect(key="marked_left").value, "the example marks areas on the left"
    assert "1. **L5 root, left**" in _text(at)
    at.button(key="show_herniation_L4-L5_paracentral_left_moderate").click().run()
    assert not at.exception
    assert at.query_params.get("mode") is None and at.query_params["condition"] == "herniation"
    assert at.query_params["zone"] == "paracentral" and at.query_params["side"] == "left"


def test_symptoms_lists_and_red_flag_box():
    at = _run({"mode": "symptoms"})
    at.multiselect(key="marked_right").set_value(["heel", "sole of the foot"]).run()
    assert "1. **S1 root, right**" in _text(at)
    at.checkbox(key="flag_bladder").check().run()
    assert any("Go to an emergency department now" in str(e.value) for e in at.error)


def test_root_list_selects_the_root_in_3d():
    at = _run({"condition": "herniation"})
    at.selectbox(key="root_choice").set_value("L5 left").run()
    assert not at.exception
    assert at.query_params["selected"] == "root-L5-left"
    at.selectbox(key="root_choice").set_value("S4 right").run()
    assert at.query_params["selected"] == "cauda-equina"


def test_bad_mode_in_link_is_a_clear_message():
    at = _run({"mode": "diagnose"})
    assert any("Unknown mode 'diagnose'" in w for w in _warnings(at))


def test_labels_toggle_writes_the_url_and_a_link_turns_them_off():
    at = _run()
    assert at.toggle(key="labels").value is True
    at.toggle(key="labels").set_value(False).run()
    assert not at.exception
    assert _only_the_3d_view_reran(at)
    assert at.query_params["labels"] == "0"
    at2 = _run({"labels": "0"})
    assert at2.toggle(key="labels").value is False


def test_bad_labels_value_is_named():
    at = _run({"labels": "sometimes"})
    assert any("'sometimes'" in w for w in _warnings(at))
    assert at.toggle(key="labels").value is True


def _in_order(at: AppTest) -> list[tuple[str, str, bool]]:
    """``(element type, text, inside an expander)`` for every text element, in page order."""
    out: list[tuple[str, str, bool]] = []

    def walk(node, folded: bool) -> None:
        kind = getattr(node, "type", "")
        if kind in ("markdown", "header", "subheader", "alert", "error", "warning", "info", "caption"):
            out.append((kind, str(node.value), folded))
        for child in getattr(node, "children", {}).values():
            walk(child, folded or kind == "expander")

    walk(at.main, False)
    return out


# Clinician detail: percentages, millimetres, muscle names, grading systems (issue 11).
CLINICIAN_DETAIL = re.compile(r"\d+\s*%|\d\s*mm\b|extensor hallucis|tibialis|Lee grade|Meyerding|"
                              r"Paracentral \(subarticular")


@pytest.mark.parametrize("condition", ["herniation", "stenosis", "spondylolisthesis", "piriformis", "cauda_equina"])
def test_patient_reads_plain_words_before_any_clinician_detail(condition):
    at = open_folds(_run({"condition": condition, "audience": "patient"}))
    items = _in_order(at)
    headings = [i for i, (kind, text, _) in enumerate(items) if kind == "header" and text == "What this means for you"]
    assert headings, "a patient sees 'What this means for you'"
    first_detail = [i for i, (_, text, _) in enumerate(items) if CLINICIAN_DETAIL.search(text)]
    assert first_detail, "the clinician detail is still on the page (behind a click)"
    assert headings[0] < first_detail[0]
    unfolded_detail = [text[:60] for _, text, folded in items if CLINICIAN_DETAIL.search(text) and not folded]
    assert unfolded_detail == [], "clinician detail must sit behind an expander for patients"
    assert any(e.label.startswith("For clinicians") for e in at.expander)
    # Calm words come before any warning box.
    first_alert = next(i for i, (kind, _, _) in enumerate(items) if kind in ("warning", "error"))
    assert headings[0] < first_alert


def test_patient_sidebar_uses_everyday_words_and_student_the_clinical_terms():
    patient = _run({"condition": "herniation", "audience": "patient"})
    zone = patient.radio(key="param_zone")
    assert zone.label == "Where the disc pushes out"
    assert "Off-centre (most common)" in zone.options and "Paracentral (subarticular)" not in zone.options
    student = _run({"condition": "herniation"})
    assert "Paracentral (subarticular)" in student.radio(key="param_zone").options


@pytest.mark.parametrize("audience", ["student", "educator"])
def test_students_and_educators_keep_the_findings_in_view(audience):
    at = _run({"condition": "herniation", "audience": audience})
    unfolded = [text for _, text, folded in _in_order(at) if not folded]
    assert "What is squeezed" in unfolded and "Weakness" in unfolded and "Reflexes" in unfolded
    assert any(CLINICIAN_DETAIL.search(t) for t in unfolded), "percentages and millimetres in view"
    assert not any(e.label.startswith("For clinicians") for e in at.expander)
    assert not any(h.value == "What this means for you" for h in at.header)


def test_educator_app_link_opens_in_place_and_keeps_the_audience():
    at = _run({"condition": "herniation", "audience": "educator"})
    links = [b for b in at.button if b.key and b.key.startswith("applink_")]
    assert links, "the educator text's 'Show it in the app' links are buttons"
    foraminal = next(b for b in links if "Foraminal" in str(b.label))
    foraminal.click().run()
    assert not at.exception
    assert at.query_params["zone"] == "foraminal"
    assert at.query_params["audience"] == "educator"
    assert at.radio(key="audience").value == "educator"


@pytest.mark.parametrize("query", ["?condition=stenosis&audience=student", "?condition=stenosis", "condition=stenosis"])
def test_a_link_keeps_the_readers_audience_and_labels(query):
    from explorer.ui.controls import link_state

    parsed = link_state(query, audience="educator", labels=False)
    assert parsed.errors == ()
    assert parsed.state.audience == "educator" and parsed.state.condition == "stenosis"
    assert parsed.state.labels is False
    assert link_state(query + "&labels=1", audience="patient", labels=False).state.labels is True


@pytest.mark.parametrize("condition", ["herniation", "stenosis", "spondylolisthesis", "piriformis", "cauda_equina"])
def test_picture_line_is_plain(condition):
    from explorer.anatomy.model import load_model
    from explorer.conditions.simulate import simulate
    from explorer.ui.page import picture_line

    line = picture_line(simulate(condition, {}, load_model()))
    assert line.startswith("In the picture")
    assert not CLINICIAN_DETAIL.search(line) and not re.search(r"\d\s*(%|mm)", line), line


def test_topics_shown_to_a_patient_leave_out_the_student_sections():
    patient = open_folds(_run({"condition": "herniation", "audience": "patient"}))
    student = open_folds(_run({"condition": "herniation", "audience": "student"}))
    topic_titles = {s.value for s in patient.subheader} & {s.value for s in student.subheader}
    assert "Sciatica" in topic_titles, "the related topic is offered to both"
    assert "For students" not in _text(patient)
    assert "For students" in _text(student)


def test_closed_folds_send_nothing_until_opened() -> None:
    """Closed sections, answers, references, related topics and the clinician detail are sent only
    when opened (a condition change used to send and render them all again, closed)."""
    at = _run({"condition": "herniation", "audience": "patient"})
    folds = {e.label: e for e in at.expander if e.proto.id}
    clinician = next(e for label, e in folds.items() if label.startswith("For clinicians"))
    topic = next(e for label, e in folds.items() if label.startswith("Read: "))
    assert not clinician.children and not topic.children and not clinician.proto.expanded
    at.session_state[clinician.proto.id.split("-", 2)[2]] = True
    at.run()
    clinician = next(e for e in at.expander if e.label.startswith("For clinicians"))
    assert clinician.proto.expanded
    assert CLINICIAN_DETAIL.search(" ".join(str(m.value) for m in clinician.markdown))
    # Only the opened one: the related topic stays closed and empty.
    assert not next(e for e in at.expander if e.label == topic.label).children
    # The first two student sections start open, with their text.
    student = _run({"condition": "herniation"})
    opened = [e for e in student.expander if e.proto.id and e.proto.expanded]
    assert len(opened) >= 2 and all(e.markdown for e in opened[:2])


def test_text_description_tells_what_the_story_view_shows() -> None:
    """The 3D view in words (for screen readers and for reading) names where it is seen from and what
    was made see-through, as the view itself does; it used to describe only the preset view."""
    at = _run({"condition": "herniation", "level": "L4-L5", "zone": "paracentral", "side": "left",
               "severity": "moderate"})
    def described() -> str:
        return " ".join(m.value for e in at.expander if "text description" in e.label for m in e.markdown)

    assert "close in on the lesion and the squeezed nerve" in described()
    assert "see-through" in described() and "L5 root (traversing)" in described()
    # After a preset view is chosen the words follow the view, not the story view it left.
    at.radio(key="view").set_value("lateral")
    at.button(key="reset_camera").click().run()
    assert "close in on the lesion" not in described()
